"""Every route answered for every role and for anonymous users: the access table of the app.

The table below is written by hand, not derived from the code: a route added without an entry here
fails `test_every_route_is_in_the_table`, and a wrong declaration fails the matrix."""

from __future__ import annotations

import re
import uuid

import pytest
from starlette.routing import Route

from clinic.app import create_app
from clinic.config import Settings

ALL = {"admin", "doctor", "nurse", "registration", "pharmacist"}
PUBLIC = "public"
P = "/patients/{patient_id}"
V = P + "/visits/{visit_id}"

# (method, path): roles that get through (the rest get 403; anonymous users are sent to sign in).
TABLE: dict[tuple[str, str], set[str] | str] = {
    ("GET", "/healthz"): PUBLIC,
    ("GET", "/"): ALL,
    ("GET", "/login"): PUBLIC,
    ("POST", "/login"): PUBLIC,
    ("POST", "/logout"): PUBLIC,
    ("POST", "/lang"): PUBLIC,
    ("GET", "/account/password"): ALL,
    ("POST", "/account/password"): ALL,
    ("GET", "/patients"): ALL,
    ("POST", "/patients"): {"doctor", "nurse", "registration"},
    ("GET", "/patients/new"): {"doctor", "nurse", "registration"},
    ("GET", P): ALL,
    ("POST", P): {"doctor", "nurse", "registration"},
    ("GET", P + "/edit"): {"doctor", "nurse", "registration"},
    ("GET", "/duplicates"): {"registration", "admin"},
    ("POST", "/duplicates"): {"registration", "admin"},
    ("POST", "/duplicates/merge"): {"registration", "admin"},
    ("POST", "/duplicates/undo"): {"registration", "admin"},
    ("GET", P + "/visits/new"): {"doctor", "nurse"},
    ("POST", P + "/visits"): {"doctor", "nurse"},
    # Corrections: the author (here: doctor) or an administrator.
    ("GET", V + "/correct"): {"doctor", "admin"},
    ("POST", V + "/revisions"): {"doctor", "admin"},
    ("GET", V + "/print"): {"doctor", "nurse", "admin"},
    ("GET", "/icd10"): {"doctor", "nurse", "admin"},
    ("GET", "/admin/formulary"): {"admin"},
    ("POST", "/admin/formulary"): {"admin"},
    ("GET", "/formulary"): {"doctor", "nurse"},
    ("GET", "/pharmacy"): {"pharmacist"},
    ("POST", "/pharmacy/{visit_id}/dispense"): {"pharmacist"},
    ("GET", V + "/prescription"): {"doctor", "nurse", "admin", "pharmacist"},
    ("GET", "/reports/lb1"): {"doctor", "admin"},
    ("GET", "/reports/register"): {"doctor", "nurse", "admin"},
    ("GET", "/reports/overdue"): {"doctor", "nurse", "admin"},
    ("GET", "/sw.js"): PUBLIC,
    ("GET", "/manifest.webmanifest"): PUBLIC,
    ("GET", "/texts.js"): PUBLIC,
    ("GET", "/icd10.json"): PUBLIC,
    ("GET", "/offline"): PUBLIC,
    ("GET", "/offline/visit-form"): {"doctor", "nurse"},
    ("GET", "/offline/edit-form"): {"doctor", "nurse", "registration"},
    ("GET", "/offline/correction-form"): {"doctor", "nurse", "admin"},
    ("GET", "/sync/status"): ALL,
    ("POST", "/sync"): ALL,
    ("GET", "/feed/patients"): ALL,
    ("GET", "/feed/visits"): {"doctor", "nurse"},
    ("GET", "/admin/users"): {"admin"},
    ("POST", "/admin/users"): {"admin"},
    ("POST", "/admin/users/{user_id}"): {"admin"},
    ("GET", "/admin/users/{user_id}/sessions"): {"admin"},
    ("POST", "/admin/users/{user_id}/sessions"): {"admin"},
    ("GET", "/admin/access-log"): {"admin"},
    # The day's queue (issue 12).
    ("POST", P + "/checkins"): {"doctor", "nurse", "registration"},
    ("GET", "/queue"): ALL,
    ("POST", "/queue/{poli_id}/next"): {"doctor", "nurse"},
    ("POST", "/queue/checkins/{checkin_id}/status"): {"doctor", "nurse"},
    ("POST", "/queue/{poli_id}/numbers/{number}/status"): {"doctor", "nurse"},
    ("GET", V + "/continue"): {"doctor"},
    ("POST", V + "/parts"): {"doctor"},
    ("GET", "/admin/polis"): {"admin"},
    ("POST", "/admin/polis"): {"admin"},
    ("POST", "/admin/polis/{poli_id}"): {"admin"},
    ("POST", "/admin/polis/{poli_id}/location"): {"admin"},
    ("GET", "/admin/satusehat"): {"admin"},
    ("GET", "/admin/satusehat/practitioners"): {"admin"},
    ("POST", "/admin/satusehat/practitioners/{user_id}"): {"admin"},
    ("GET", "/admin/device"): {"admin"},
    ("POST", "/admin/device"): {"admin"},
}
UMUM = "0b1a0000-0000-4000-8000-000000000001"  # a fresh install's first poli (migration 0008)


def app_routes() -> set[tuple[str, str]]:
    app = create_app(Settings(database_url="sqlite:///unused.db", secret_key="x"))
    found = set()
    for route in app.routes:
        if isinstance(route, Route):
            for method in route.methods or ():
                if method != "HEAD":
                    found.add((method, re.sub(r":\w+}", "}", route.path)))  # {patient_id:id} is {patient_id}
    return found


def test_every_route_is_in_the_table() -> None:
    assert app_routes() == set(TABLE)


@pytest.fixture
def record(client_for):  # type: ignore[no-untyped-def]
    """A patient with one visit written by `doctor`; the ids fill the path parameters."""
    doctor = client_for("doctor")
    patient_id, visit_id = str(uuid.uuid4()), str(uuid.uuid4())
    response = doctor.post("/patients", data={"id": patient_id, "name": "Rahmat Hidayat", "sex": "male",
                                              "birth_date": "1975-03-02"}, follow_redirects=False)
    assert response.status_code == 303
    response = doctor.post(f"/patients/{patient_id}/visits", data={"id": visit_id, "complaint": "Batuk"},
                           follow_redirects=False)
    assert response.status_code == 303
    checkin_id = str(uuid.uuid4())
    response = doctor.post(f"/patients/{patient_id}/checkins", data={"id": checkin_id, "poli": UMUM},
                           follow_redirects=False)
    assert response.status_code == 303
    return {"patient_id": patient_id, "visit_id": visit_id, "user_id": "00000000-0000-0000-0000-000000000004",
            "poli_id": UMUM, "checkin_id": checkin_id, "number": "1"}


def fill(path: str, params: dict[str, str]) -> str:
    for key, value in params.items():
        path = path.replace("{" + key + "}", value)
    return path


def call(client, method: str, url: str):  # type: ignore[no-untyped-def]
    if method == "GET":
        return client.get(url, follow_redirects=False)
    if url == "/sync":
        return client.post(url, json={"items": []}, follow_redirects=False)
    # An empty form: a role that gets through is answered about the form (422, 303, ...), never 401/403.
    return client.post(url, data={"_": ""}, follow_redirects=False)


@pytest.mark.parametrize("role", ["anonymous", "admin", "doctor", "nurse", "registration"])
def test_role_by_route_matrix(role, anon, client_for, record):  # type: ignore[no-untyped-def]
    client = anon if role == "anonymous" else client_for(role)
    wrong = []
    for (method, path), allowed in sorted(TABLE.items()):
        if path in ("/logout",) or (path == "/login" and method == "POST"):
            continue  # would end or replace this client's session; covered in test_accounts
        response = call(client, method, fill(path, record))
        status = response.status_code
        if allowed == PUBLIC:
            ok = status < 400 or status == 422
        elif role == "anonymous":
            to_login = status == 303 and response.headers["location"].startswith("/login")
            ok = to_login if method == "GET" else status == 401
        elif role in allowed:
            home = path == "/" and status == 303 and response.headers["location"] == "/patients"
            ok = (status == 200 or home) if method == "GET" else status not in (401, 403, 404, 405) and status < 500
        else:
            ok = status == 403
        if not ok:
            wrong.append(f"{role} {method} {path} -> {status}")
    assert not wrong, "\n".join(wrong)
