"""One person, several roles (issue 9 point 17): a small clinic's administrator also registers patients, a
nurse also works at registration. Access is granted when any of the user's roles is allowed."""

from __future__ import annotations

import uuid

import pytest

from tests.conftest import USER_IDS, run_async
from tests.http.conftest import query
from tests.seed import User, insert_users

KEPALA = User(str(uuid.UUID(int=21)), "kepala", "Kepala Puskesmas", "admin,registration")
PERAWAT = User(str(uuid.UUID(int=22)), "perawat", "Ns. Perawat Loket", "nurse,registration")


@pytest.fixture
def several(database_url, password_hash):  # type: ignore[no-untyped-def]
    run_async(insert_users(database_url, [KEPALA, PERAWAT], password_hash))


def register(client, name: str = "Siti Aminah"):  # type: ignore[no-untyped-def]
    patient_id = str(uuid.uuid4())
    response = client.post("/patients", data={"id": patient_id, "name": name, "sex": "female",
                                              "birth_date": "1990-01-02"}, follow_redirects=False)
    return patient_id, response


def test_an_admin_who_registers_may_do_both(several, client_for):  # type: ignore[no-untyped-def]
    kepala = client_for("kepala")
    patient_id, response = register(kepala)
    assert response.status_code == 303, response.text
    assert kepala.get("/admin/users").status_code == 200
    assert kepala.get(f"/patients/{patient_id}").status_code == 200
    page = kepala.get("/account/password").text
    assert '<span class="badge badge-role">Administrator</span>' in page
    assert '<span class="badge badge-role">Pendaftaran</span>' in page
    # Neither role writes clinical notes.
    assert kepala.get(f"/patients/{patient_id}/visits/new").status_code == 403


def test_a_nurse_who_registers_may_do_both(several, client_for):  # type: ignore[no-untyped-def]
    perawat = client_for("perawat")
    patient_id, response = register(perawat)
    assert response.status_code == 303, response.text
    response = perawat.post(f"/patients/{patient_id}/visits", data={"id": str(uuid.uuid4()), "complaint": "Batuk"},
                            follow_redirects=False)
    assert response.status_code == 303, response.text
    assert perawat.get("/admin/users").status_code == 403


def test_sync_allows_any_of_the_roles(several, client_for):  # type: ignore[no-untyped-def]
    perawat = client_for("perawat")
    patient_id = str(uuid.uuid4())
    item = {"key": str(uuid.uuid4()), "author": PERAWAT.id, "target": "/patients", "method": "POST",
            "fields": {"id": [patient_id], "name": ["Budi Hartono"], "sex": ["male"], "birth_date": ["1980-05-06"]}}
    response = perawat.post("/sync", json={"items": [item]})
    assert response.status_code == 200, response.text
    [result] = response.json()["results"]
    assert result["status"] == "stored", result


def test_the_admin_gives_and_takes_roles_and_sessions_end(several, client_for):  # type: ignore[no-untyped-def]
    admin = client_for("admin")
    nurse = client_for("nurse")
    response = admin.post(f"/admin/users/{USER_IDS['nurse']}",
                          data={"action": "role", "role": ["nurse", "registration"]})
    assert response.status_code == 200
    assert "Peran nurse: Perawat, Pendaftaran." in response.text
    rows = query(admin, "SELECT role FROM user_roles WHERE user_id = :id ORDER BY role", {"id": USER_IDS["nurse"]})
    assert [row["role"] for row in rows] == ["nurse", "registration"]
    assert nurse.get("/patients", follow_redirects=False).status_code == 303  # the change ended the session
    # Taking a role away ends the sessions too, and the role is gone at the next sign-in.
    kepala = client_for("kepala")
    assert register(kepala)[1].status_code == 303
    response = admin.post(f"/admin/users/{KEPALA.id}", data={"action": "role", "role": "admin"})
    assert response.status_code == 200
    assert kepala.get("/patients", follow_redirects=False).status_code == 303
    kepala = client_for("kepala")
    assert register(kepala)[1].status_code == 403
    assert kepala.get("/admin/users").status_code == 200
    assert query(admin, "SELECT role FROM user_roles WHERE user_id = :id", {"id": KEPALA.id}) == [{"role": "admin"}]


def test_an_admin_may_not_take_away_their_own_admin_role(several, client_for):  # type: ignore[no-untyped-def]
    kepala = client_for("kepala")
    response = kepala.post(f"/admin/users/{KEPALA.id}", data={"action": "role", "role": "registration"})
    assert response.status_code == 422
    rows = query(kepala, "SELECT role FROM user_roles WHERE user_id = :id ORDER BY role", {"id": KEPALA.id})
    assert [row["role"] for row in rows] == ["admin", "registration"]
    for roles in ([], ["nurse", "superuser"]):  # no role, or an unknown one: nothing changes
        response = kepala.post(f"/admin/users/{PERAWAT.id}", data={"action": "role", "role": roles})
        assert response.status_code == 422
    rows = query(kepala, "SELECT role FROM user_roles WHERE user_id = :id ORDER BY role", {"id": PERAWAT.id})
    assert [row["role"] for row in rows] == ["nurse", "registration"]


def test_the_admin_adds_a_user_with_two_roles(client_for):  # type: ignore[no-untyped-def]
    admin = client_for("admin")
    response = admin.post("/admin/users", data={"username": "bidan.rina", "full_name": "Bd. Rina",
                                                "role": ["registration", "nurse"]})
    assert response.status_code == 200, response.text
    [user] = query(admin, "SELECT id, role FROM users WHERE username = 'bidan.rina'")
    assert user["role"] == "nurse"  # the first in ROLES order
    rows = query(admin, "SELECT role FROM user_roles WHERE user_id = :id ORDER BY role", {"id": user["id"]})
    assert [row["role"] for row in rows] == ["nurse", "registration"]
    response = admin.post("/admin/users", data={"username": "bidan.lain", "full_name": "Bd. Lain", "role": []})
    assert response.status_code == 422
    assert query(admin, "SELECT COUNT(*) AS n FROM users WHERE username = 'bidan.lain'")[0]["n"] == 0
