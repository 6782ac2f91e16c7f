"""Sign in, throttling, sessions, password change, the admin's user pages, and the language choice."""

from __future__ import annotations

import html
import re

import pytest
from starlette.testclient import TestClient

from clinic.app import create_app
from tests.conftest import PASSWORD, USER_IDS
from tests.http.conftest import ORIGIN, query

ONE_TIME = re.compile(r"\b[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}-[a-z2-9]{4}\b")
NEW_PASSWORD = "sapu lidi di teras depan"




@pytest.fixture
def new_client(settings):
    """new_client() gives a signed-out client on its own app instance."""
    clients: list[TestClient] = []

    def make(base_url: str = ORIGIN) -> TestClient:
        client = TestClient(create_app(settings), base_url=base_url)
        client.__enter__()
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


def login(client: TestClient, username: str, password: str = PASSWORD):
    return client.post("/login", data={"username": username, "password": password}, follow_redirects=False)


def field_error(page: str, field: str) -> str | None:
    match = re.search(rf'<p class="error" id="{field}-error">(.*?)</p>', page, re.S)
    return html.unescape(match.group(1)).strip() if match else None


def session_cookie_header(response) -> str | None:
    for value in response.headers.get_list("set-cookie"):
        if value.startswith("clinic_session="):
            return value
    return None


def is_signed_in(client: TestClient) -> bool:
    response = client.get("/account/password", follow_redirects=False)
    if response.status_code == 200:
        return True
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login")
    return False


def add_user(admin: TestClient, username: str, role: str = "nurse",
             full_name: str = "Bd. Rina Marlina") -> str:
    """Adds a user through the admin page and returns the one-time password shown."""
    response = admin.post("/admin/users", data={"username": username, "full_name": full_name, "role": role})
    assert response.status_code == 200, response.text
    notice = re.search(r'<p class="alert alert-success" role="status">(.*?)</p>', response.text, re.S)
    assert notice is not None
    found = ONE_TIME.search(notice.group(1))
    assert found is not None
    return found.group(0)


def change_password(client: TestClient, current: str, new: str = NEW_PASSWORD):
    return client.post("/account/password", data={
        "current_password": current, "new_password": new, "confirm_password": new,
    }, follow_redirects=False)


def user_row(client: TestClient, username: str) -> dict:
    rows = query(client, "SELECT id, username, full_name, role, active, must_change_password, "
                         "session_version, password_hash FROM users WHERE username = :u", {"u": username})
    assert len(rows) == 1
    return rows[0]


# --- signing in ---------------------------------------------------------------------------------

def test_login_sets_httponly_lax_session_cookie(anon):
    response = login(anon, "doctor")
    assert response.status_code == 303
    assert response.headers["location"] == "/patients"
    cookie = session_cookie_header(response)
    assert cookie is not None
    attributes = [part.strip().lower() for part in cookie.split(";")]
    assert "httponly" in attributes
    assert "samesite=lax" in attributes
    assert "path=/" in attributes
    assert "secure" not in attributes  # plain http (a local clinic server): a Secure cookie would be dropped
    assert is_signed_in(anon)


def test_login_over_https_sets_a_secure_cookie(new_client):
    client = new_client("https://testserver")
    response = login(client, "doctor")
    assert response.status_code == 303
    cookie = session_cookie_header(response)
    assert cookie is not None
    attributes = [part.strip().lower() for part in cookie.split(";")]
    assert "secure" in attributes
    assert "httponly" in attributes
    assert "samesite=lax" in attributes
    assert is_signed_in(client)


def test_login_follows_a_local_next_but_never_another_site(new_client):
    client = new_client()
    response = client.post("/login", follow_redirects=False,
                           data={"username": "doctor", "password": PASSWORD, "next": "/account/password"})
    assert response.headers["location"] == "/account/password"
    for target in ("//evil.example/x", "https://evil.example/", "javascript:alert(1)"):
        client = new_client()
        response = client.post("/login", data={"username": "doctor", "password": PASSWORD, "next": target},
                               follow_redirects=False)
        assert response.status_code == 303
        assert response.headers["location"] == "/patients", target


def test_username_is_not_case_sensitive(anon):
    assert login(anon, "  Doctor ").status_code == 303


def test_wrong_credentials_give_401_in_indonesian_and_no_session(anon):
    for username, password in (("doctor", "wrong password!"), ("nobody", PASSWORD)):  # same answer for both
        response = login(anon, username, password)
        assert response.status_code == 401
        assert "Nama pengguna atau kata sandi salah, atau akun dinonaktifkan." in response.text
        assert 'lang="id"' in response.text
        assert session_cookie_header(response) is None
        assert not is_signed_in(anon)
    failures = query(anon, "SELECT username FROM login_failures ORDER BY id")
    assert failures == [{"username": "doctor"}, {"username": "nobody"}]


def test_empty_login_form_is_422(anon):
    response = login(anon, "", "")
    assert response.status_code == 422
    assert "Masukkan nama pengguna dan kata sandi." in response.text
    assert session_cookie_header(response) is None


def test_login_is_slowed_after_five_failures_for_one_account(anon, new_client):
    for _ in range(5):
        assert login(anon, "doctor", "wrong password!").status_code == 401
    response = login(anon, "doctor", PASSWORD)  # even the right password waits
    assert response.status_code == 429
    assert "menit" in response.text
    assert "Terlalu banyak" in response.text
    assert session_cookie_header(response) is None
    assert not is_signed_in(anon)
    rows = query(anon, "SELECT username, address FROM login_failures")
    assert len(rows) == 5
    assert {row["username"] for row in rows} == {"doctor"}
    # Another account, from the same address, is not held up by the doctor's failures.
    other = new_client()
    assert login(other, "nurse").status_code == 303


def test_a_busy_address_never_stops_a_correct_password(anon):
    # A whole puskesmas signs in from behind one NAT address: 20 failures there, spread over many accounts.
    for i in range(20):
        assert login(anon, f"tebak{i}", "wrong password!").status_code == 401
    # A colleague with the right password on an account that is not itself throttled still gets in...
    assert login(anon, "nurse", PASSWORD).status_code == 303
    anon.post("/logout")
    # ...but from the busy address each account has one free failure, not five.
    assert login(anon, "registration", "wrong password!").status_code == 401
    response = login(anon, "registration", PASSWORD)
    assert response.status_code == 429
    assert "menit" in response.text
    assert session_cookie_header(response) is None
    rows = query(anon, "SELECT address, COUNT(*) AS n FROM login_failures GROUP BY address")
    assert [int(row["n"]) for row in rows] == [21]


def test_a_quiet_address_gives_each_account_five_tries(anon):
    for _ in range(4):
        assert login(anon, "registration", "wrong password!").status_code == 401
    assert login(anon, "registration", PASSWORD).status_code == 303


def test_a_successful_login_clears_the_accounts_failures(anon):
    for _ in range(3):
        assert login(anon, "doctor", "wrong password!").status_code == 401
    assert login(anon, "doctor").status_code == 303
    assert query(anon, "SELECT COUNT(*) AS n FROM login_failures WHERE username = 'doctor'")[0]["n"] == 0


def test_logout_ends_the_session(client_for):
    doctor = client_for("doctor")
    response = doctor.post("/logout", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login"
    assert not is_signed_in(doctor)


def cookie_of(client: TestClient) -> str:
    value = client.cookies.get("clinic_session")
    assert value
    return value


def test_a_cookie_copied_before_sign_out_is_refused_after_it(client_for, new_client):
    doctor = client_for("doctor")
    copied = cookie_of(doctor)
    assert doctor.post("/logout", follow_redirects=False).status_code == 303
    thief = new_client()
    thief.cookies.set("clinic_session", copied)
    assert not is_signed_in(thief)
    assert thief.post("/sync", json={"items": []}).status_code == 401
    assert query(doctor, "SELECT COUNT(*) AS n FROM sessions")[0]["n"] == 0


def test_two_sign_ins_in_the_same_second_get_sessions_of_their_own(new_client):
    one, two = new_client(), new_client()
    assert login(one, "doctor").status_code == 303
    assert login(two, "doctor").status_code == 303
    assert cookie_of(one) != cookie_of(two)
    rows = query(one, "SELECT id, user_id FROM sessions")
    assert len(rows) == 2 and {row["user_id"] for row in rows} == {USER_IDS["doctor"]}
    # The table keeps a hash of the token, not the token the cookie carries.
    assert not any(row["id"] in cookie_of(one) or row["id"] in cookie_of(two) for row in rows)


def test_signing_out_on_one_tablet_keeps_the_others_signed_in(new_client):
    here, there = new_client(), new_client()
    assert login(here, "nurse").status_code == 303
    assert login(there, "nurse").status_code == 303
    assert here.post("/logout", follow_redirects=False).status_code == 303
    assert not is_signed_in(here)
    assert is_signed_in(there)


def test_admin_sees_and_ends_a_users_sessions(client_for, new_client):
    admin = client_for("admin")
    tablets = [new_client(), new_client()]
    for tablet in tablets:
        assert login(tablet, "nurse").status_code == 303
    assert 'data-sessions="2"' in admin.get("/admin/users").text
    page = admin.get(f"/admin/users/{USER_IDS['nurse']}/sessions")
    assert page.status_code == 200
    keys = re.findall(r'data-session-id="([0-9a-f]{64})"', page.text)
    assert len(keys) == 2 and "testclient" in page.text
    response = admin.post(f"/admin/users/{USER_IDS['nurse']}/sessions", data={"session": keys[0]})
    assert response.status_code == 200
    assert "Sesi telah diakhiri." in response.text
    assert [is_signed_in(tablet) for tablet in tablets].count(True) == 1
    # An empty choice changes nothing; "all" ends the rest.
    response = admin.post(f"/admin/users/{USER_IDS['nurse']}/sessions", data={"session": ""})
    assert response.status_code == 422
    assert [is_signed_in(tablet) for tablet in tablets].count(True) == 1
    response = admin.post(f"/admin/users/{USER_IDS['nurse']}/sessions", data={"session": "all"})
    assert response.status_code == 200
    assert not any(is_signed_in(tablet) for tablet in tablets)
    assert is_signed_in(admin)
    # A session key of one user does not end another user's session.
    assert login(tablets[0], "doctor").status_code == 303
    [key] = [row["id"] for row in query(admin, "SELECT id FROM sessions WHERE user_id = :u",
                                         {"u": USER_IDS["doctor"]})]
    admin.post(f"/admin/users/{USER_IDS['nurse']}/sessions", data={"session": key})
    assert is_signed_in(tablets[0])


def test_wrong_current_passwords_count_as_failed_sign_ins(client_for, new_client):
    doctor = client_for("doctor")
    for _ in range(5):
        response = change_password(doctor, "not my password")
        assert response.status_code == 422
        assert field_error(response.text, "current_password") == "Kata sandi saat ini salah."
    assert query(doctor, "SELECT COUNT(*) AS n FROM login_failures WHERE username = 'doctor'")[0]["n"] == 5
    # The sixth waits, with the right current password too, and so does signing in.
    response = change_password(doctor, PASSWORD)
    assert response.status_code == 429
    assert "Terlalu banyak" in response.text
    assert login(new_client(), "doctor").status_code == 429
    assert is_signed_in(doctor)


def test_a_right_current_password_clears_the_failures(client_for):
    doctor = client_for("doctor")
    for _ in range(3):
        assert change_password(doctor, "not my password").status_code == 422
    assert change_password(doctor, PASSWORD).status_code == 303
    assert query(doctor, "SELECT COUNT(*) AS n FROM login_failures")[0]["n"] == 0


# --- sessions end when the account changes ------------------------------------------------------

def test_disabled_users_live_session_is_rejected(client_for, new_client):
    doctor = client_for("doctor")
    admin = client_for("admin")
    assert is_signed_in(doctor)
    response = admin.post(f"/admin/users/{USER_IDS['doctor']}", data={"action": "disable"})
    assert response.status_code == 200
    assert "dinonaktifkan" in response.text
    response = doctor.get("/account/password", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login")
    assert user_row(admin, "doctor")["active"] in (False, 0)
    # ...and cannot sign in again.
    assert login(new_client(), "doctor").status_code == 401
    # Enabling the account lets the user sign in again.
    assert admin.post(f"/admin/users/{USER_IDS['doctor']}", data={"action": "enable"}).status_code == 200
    assert login(new_client(), "doctor").status_code == 303


def test_admin_cannot_disable_or_demote_themselves(client_for):
    admin = client_for("admin")
    for data in ({"action": "disable"}, {"action": "role", "role": "nurse"}):
        response = admin.post(f"/admin/users/{USER_IDS['admin']}", data=data)
        assert response.status_code == 422
    row = user_row(admin, "admin")
    assert row["active"] in (True, 1)
    assert row["role"] == "admin"
    assert is_signed_in(admin)


def test_password_change_ends_other_sessions(client_for, new_client):
    admin = client_for("admin")
    one_time = add_user(admin, "bidan.rina")
    here, elsewhere = new_client(), new_client()
    assert login(here, "bidan.rina", one_time).status_code == 303
    assert login(elsewhere, "bidan.rina", one_time).status_code == 303
    assert is_signed_in(elsewhere)
    response = change_password(here, one_time)
    assert response.status_code == 303
    assert is_signed_in(here)  # the device that changed it stays signed in
    assert not is_signed_in(elsewhere)
    assert login(new_client(), "bidan.rina", one_time).status_code == 401
    assert login(new_client(), "bidan.rina", NEW_PASSWORD).status_code == 303


def test_password_change_validation_is_422_and_changes_nothing(client_for, new_client):
    admin = client_for("admin")
    one_time = add_user(admin, "bidan.rina")
    before = user_row(admin, "bidan.rina")
    client = new_client()
    assert login(client, "bidan.rina", one_time).status_code == 303
    response = client.post("/account/password", data={
        "current_password": "not it", "new_password": "short", "confirm_password": "different",
    })
    assert response.status_code == 422
    assert field_error(response.text, "current_password") == "Kata sandi saat ini salah."
    assert field_error(response.text, "new_password") == "Gunakan minimal 10 karakter."
    assert field_error(response.text, "confirm_password") == "Kedua kata sandi baru tidak sama."
    response = change_password(client, one_time, one_time)
    assert response.status_code == 422
    assert field_error(response.text, "new_password") == (
        "Pilih kata sandi yang berbeda dari kata sandi saat ini.")
    after = user_row(admin, "bidan.rina")
    assert after["password_hash"] == before["password_hash"]
    assert after["session_version"] == before["session_version"]
    assert bool(after["must_change_password"]) is True
    assert is_signed_in(client)


# --- the admin's user pages ---------------------------------------------------------------------

def test_admin_lists_users(client_for):
    admin = client_for("admin")
    response = admin.get("/admin/users")
    assert response.status_code == 200
    for username, user_id in USER_IDS.items():
        assert f'data-user-id="{user_id}"' in response.text
        assert f"<td>{username}</td>" in response.text
    assert "dr. Sari Wulandari" in response.text
    assert "Pengguna" in response.text


def test_admin_adds_a_user_who_must_change_the_password_first(client_for, new_client):
    admin = client_for("admin")
    one_time = add_user(admin, "Bidan.Rina", role="nurse", full_name="Bd. Rina Marlina")
    page = admin.get("/admin/users").text
    assert "<td>bidan.rina</td>" in page  # usernames are kept in lower case
    row = user_row(admin, "bidan.rina")
    assert row["role"] == "nurse"
    assert row["full_name"] == "Bd. Rina Marlina"
    assert bool(row["active"]) is True
    assert bool(row["must_change_password"]) is True
    assert one_time not in row["password_hash"]
    assert one_time not in page  # shown once, not on the list afterwards

    rina = new_client()
    response = login(rina, "bidan.rina", one_time)
    assert response.status_code == 303
    assert response.headers["location"] == "/account/password"
    for path in ("/", "/admin/users", "/patients"):
        response = rina.get(path, follow_redirects=False)
        assert response.status_code == 303, path
        assert response.headers["location"] == "/account/password", path
    response = rina.get("/account/password")
    assert response.status_code == 200
    assert "kata sandi sekali pakai" in response.text.lower()

    response = change_password(rina, one_time)
    assert response.status_code == 303
    assert response.headers["location"] == "/patients"
    assert bool(user_row(admin, "bidan.rina")["must_change_password"]) is False
    response = rina.get("/", follow_redirects=False)
    assert response.headers["location"] == "/patients"
    assert rina.get("/admin/users").status_code == 403  # a nurse, not an admin


def test_one_time_passwords_differ(client_for):
    admin = client_for("admin")
    assert add_user(admin, "bidan.rina") != add_user(admin, "bidan.sari")


INVALID_USERS = [
    ({"username": "a", "full_name": "", "role": "superuser"}, {
        "username": "Gunakan 3 sampai 60 huruf, angka, titik, tanda hubung, atau garis bawah.",
        "full_name": "Masukkan nama lengkap.",
        "role": "Pilih peran.",
    }),
    ({"username": "", "full_name": "Bd. Rina", "role": "nurse"}, {"username": "Masukkan nama pengguna."}),
    ({"username": "rina marlina", "full_name": "Bd. Rina <Marlina>", "role": "nurse"},
     {"username": "Gunakan 3 sampai 60 huruf, angka, titik, tanda hubung, atau garis bawah."}),
    ({"username": "Doctor", "full_name": "dr. Lain", "role": "doctor"},
     {"username": "Nama pengguna ini sudah dipakai."}),
]


def test_add_user_validation_is_422_with_messages_next_to_fields(client_for):
    admin = client_for("admin")
    before = query(admin, "SELECT COUNT(*) AS n FROM users")[0]["n"]
    for data, errors in INVALID_USERS:
        response = admin.post("/admin/users", data=data)
        assert response.status_code == 422, data
        for field, message in errors.items():
            assert field_error(response.text, field) == message, (data, field)
            assert f'aria-describedby="{field}-error' in response.text
        for field in {"username", "full_name", "role"} - set(errors):
            assert field_error(response.text, field) is None, (data, field)
        if data["full_name"]:
            assert f'value="{html.escape(data["full_name"])}"' in response.text  # entered values are kept
        assert not ONE_TIME.search(response.text)
    assert query(admin, "SELECT COUNT(*) AS n FROM users")[0]["n"] == before


def test_admin_changes_a_role(client_for):
    admin = client_for("admin")
    response = admin.post(f"/admin/users/{USER_IDS['nurse']}",
                          data={"action": "role", "role": "registration"})
    assert response.status_code == 200
    assert "Peran nurse: Pendaftaran." in response.text
    assert user_row(admin, "nurse")["role"] == "registration"
    # Signed in again, the user works in the new role.
    page = client_for("nurse").get("/account/password").text
    assert '<span class="badge badge-role">Pendaftaran</span>' in page
    response = admin.post(f"/admin/users/{USER_IDS['nurse']}", data={"action": "role", "role": "superuser"})
    assert response.status_code == 422
    assert user_row(admin, "nurse")["role"] == "registration"


def test_admin_resets_a_password(client_for, new_client):
    admin = client_for("admin")
    first = add_user(admin, "bidan.rina")
    rina = new_client()
    assert login(rina, "bidan.rina", first).status_code == 303
    assert change_password(rina, first).status_code == 303
    rina_id = user_row(admin, "bidan.rina")["id"]

    response = admin.post(f"/admin/users/{rina_id}", data={"action": "reset"})
    assert response.status_code == 200
    assert "Kata sandi sekali pakai baru untuk bidan.rina" in response.text
    found = ONE_TIME.search(response.text)
    assert found is not None
    second = found.group(0)
    assert second != first
    assert bool(user_row(admin, "bidan.rina")["must_change_password"]) is True
    assert not is_signed_in(rina)  # the old session ended
    assert login(new_client(), "bidan.rina", NEW_PASSWORD).status_code == 401
    response = login(new_client(), "bidan.rina", second)
    assert response.status_code == 303
    assert response.headers["location"] == "/account/password"


def test_unknown_user_id_is_404(client_for):
    admin = client_for("admin")
    response = admin.post("/admin/users/00000000-0000-0000-0000-0000000000ff", data={"action": "disable"})
    assert response.status_code == 404


def test_non_admins_get_403_on_user_pages(client_for):
    for username in ("doctor", "nurse", "registration"):
        client = client_for(username)
        before = query(client, "SELECT COUNT(*) AS n FROM users")[0]["n"]
        assert client.get("/admin/users").status_code == 403
        response = client.post("/admin/users",
                               data={"username": "penyusup", "full_name": "X", "role": "admin"})
        assert response.status_code == 403
        response = client.post(f"/admin/users/{USER_IDS['admin']}", data={"action": "disable"})
        assert response.status_code == 403
        response = client.post(f"/admin/users/{USER_IDS[username]}", data={"action": "role", "role": "admin"})
        assert response.status_code == 403
        assert query(client, "SELECT COUNT(*) AS n FROM users")[0]["n"] == before
        assert bool(user_row(client, "admin")["active"]) is True
        assert user_row(client, username)["role"] == username


def test_signed_out_visitor_is_sent_to_login(anon):
    response = anon.get("/admin/users", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/admin/users"
    response = anon.post("/admin/users", data={"username": "penyusup", "full_name": "X", "role": "admin"},
                         follow_redirects=False)
    assert response.status_code in (303, 401)  # a form posted without a session is not acted on
    assert query(anon, "SELECT COUNT(*) AS n FROM users WHERE username = 'penyusup'")[0]["n"] == 0


# --- language -----------------------------------------------------------------------------------

def test_default_language_is_indonesian(anon):
    response = anon.get("/login", headers={"Accept-Language": "en-US,en;q=0.9"})
    assert response.status_code == 200
    assert 'lang="id"' in response.text
    assert "Masuk" in response.text
    assert ">Sign in<" not in response.text


def test_choosing_english_is_remembered(anon):
    response = anon.post("/lang", data={"lang": "en"}, follow_redirects=False)
    assert response.status_code == 303
    cookie = next(v for v in response.headers.get_list("set-cookie") if v.startswith("lang="))
    assert cookie.startswith("lang=en;")
    max_age = re.search(r"max-age=(\d+)", cookie, re.I)
    assert max_age is not None and int(max_age.group(1)) >= 30 * 24 * 3600
    page = anon.get("/login").text
    assert 'lang="en"' in page
    assert "Sign in" in page
    # And back to Indonesian.
    anon.post("/lang", data={"lang": "id"})
    page = anon.get("/login").text
    assert 'lang="id"' in page
    assert ">Sign in<" not in page


def test_unknown_language_is_ignored(anon):
    response = anon.post("/lang", data={"lang": "fr"}, follow_redirects=False)
    assert response.status_code == 303
    assert not any(v.startswith("lang=") for v in response.headers.get_list("set-cookie"))
    assert 'lang="id"' in anon.get("/login").text


def test_signed_in_user_switches_language_and_stays_on_the_page(client_for):
    doctor = client_for("doctor")
    response = doctor.post("/lang", data={"lang": "en", "next": "/account/password"}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/account/password"
    page = doctor.get("/account/password").text
    assert 'lang="en"' in page
    assert "Change password" in page
