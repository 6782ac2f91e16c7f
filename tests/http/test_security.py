"""Cross-site refusal, security headers, caching of signed-in pages, malformed request bodies."""

from __future__ import annotations

from clinic.limits import FIELD_CHARS
from tests.conftest import USER_IDS
from tests.http.conftest import ORIGIN, query

NEW_USER = {"username": "bidan.rina", "full_name": "Bd. Rina Marlina", "role": "nurse"}




def user_count(client) -> int:
    return int(query(client, "SELECT COUNT(*) AS n FROM users")[0]["n"])


def users_named(client, username: str) -> list[dict]:
    return query(client, "SELECT username, role FROM users WHERE username = :u", {"u": username})


def directives(csp: str) -> dict[str, list[str]]:
    parsed: dict[str, list[str]] = {}
    for part in csp.split(";"):
        words = part.split()
        if words:
            parsed[words[0].lower()] = words[1:]
    return parsed


# --- cross-site requests ------------------------------------------------------------------------

CROSS_SITE = [
    {"Sec-Fetch-Site": "cross-site"},
    {"Sec-Fetch-Site": "cross-site", "Origin": ORIGIN},  # Sec-Fetch-Site wins over a matching Origin
    {"Origin": "https://evil.example"},  # older browsers send only Origin
    {"Origin": "null"},  # sandboxed iframes and data: URLs
    {"Origin": "https://testserver"},  # another scheme is another origin
]


def test_cross_site_post_is_refused_and_writes_nothing(client_for):
    admin = client_for("admin")
    before = user_count(admin)
    for headers in CROSS_SITE:
        response = admin.post("/admin/users", data=NEW_USER, headers=headers, follow_redirects=False)
        assert response.status_code == 403, headers
        assert "Permintaan dari situs lain ditolak." in response.text
        assert users_named(admin, "bidan.rina") == [], headers
    assert user_count(admin) == before


def test_cross_site_state_change_on_an_existing_user_is_refused(client_for):
    admin = client_for("admin")
    response = admin.post(f"/admin/users/{USER_IDS['doctor']}", data={"action": "disable"},
                          headers={"Sec-Fetch-Site": "cross-site"}, follow_redirects=False)
    assert response.status_code == 403
    [row] = query(admin, "SELECT active, session_version FROM users WHERE id = :id",
                  {"id": USER_IDS["doctor"]})
    assert bool(row["active"]) is True
    assert int(row["session_version"]) == 1


def test_cross_site_login_is_refused(anon):
    response = anon.post("/login", data={"username": "doctor", "password": "correct horse battery"},
                         headers={"Origin": "https://evil.example"}, follow_redirects=False)
    assert response.status_code == 403
    assert "clinic_session" not in response.headers.get("set-cookie", "")


def test_same_origin_post_is_allowed(client_for):
    admin = client_for("admin")
    before = user_count(admin)
    same_origin = [
        {"Sec-Fetch-Site": "same-origin", "Origin": ORIGIN},
        {"Origin": ORIGIN},
        {},  # old clients and scripts send neither header
    ]
    for i, headers in enumerate(same_origin):
        response = admin.post("/admin/users", data=dict(NEW_USER, username=f"bidan{i}"), headers=headers,
                              follow_redirects=False)
        assert response.status_code == 200, headers
        assert users_named(admin, f"bidan{i}") == [{"username": f"bidan{i}", "role": "nurse"}], headers
    assert user_count(admin) == before + len(same_origin)


def test_cross_site_get_is_still_served(client_for):
    # Following a link from another site to a page is fine; only state changes are refused.
    admin = client_for("admin")
    response = admin.get("/admin/users", headers={"Sec-Fetch-Site": "cross-site"})
    assert response.status_code == 200


# --- headers ------------------------------------------------------------------------------------

def assert_security_headers(response) -> None:
    csp = directives(response.headers["content-security-policy"])
    script_src = csp.get("script-src", csp.get("default-src"))
    assert script_src is not None
    assert "'unsafe-inline'" not in script_src
    assert "'unsafe-eval'" not in script_src
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["object-src"] == ["'none'"]
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] in (
        "same-origin", "no-referrer", "strict-origin-when-cross-origin")


def test_security_headers_on_public_pages(anon):
    for path in ("/login", "/healthz"):
        response = anon.get(path)
        assert response.status_code == 200, path
        assert_security_headers(response)


def test_security_headers_on_signed_in_pages_and_errors(client_for):
    admin = client_for("admin")
    for path, status in (("/admin/users", 200), ("/account/password", 200), ("/no/such/page", 404)):
        response = admin.get(path)
        assert response.status_code == status, path
        assert_security_headers(response)


def test_security_headers_on_refused_cross_site_request(client_for):
    admin = client_for("admin")
    response = admin.post("/admin/users", data=NEW_USER, headers={"Sec-Fetch-Site": "cross-site"})
    assert response.status_code == 403
    assert_security_headers(response)


def test_signed_in_pages_are_not_stored(client_for):
    nurse = client_for("nurse")
    admin = client_for("admin")
    for client, path in ((nurse, "/account/password"), (admin, "/admin/users")):
        response = client.get(path)
        assert response.status_code == 200
        assert "no-store" in response.headers.get("cache-control", ""), path
    # A 422 form full of entered data is not kept either.
    response = admin.post("/admin/users", data={"username": "", "full_name": "", "role": "nurse"})
    assert response.status_code == 422
    assert "no-store" in response.headers.get("cache-control", "")


def test_login_page_is_served_to_anonymous_visitors(anon):
    # No no-store requirement here: the login page holds no patient data and may be cached offline.
    response = anon.get("/login")
    assert response.status_code == 200
    assert 'name="username"' in response.text


# --- malformed bodies ---------------------------------------------------------------------------

def test_login_with_json_body_is_400(anon):
    response = anon.post("/login", content=b'{"username": "doctor", "password": "correct horse battery"}',
                         headers={"Content-Type": "application/json"}, follow_redirects=False)
    assert response.status_code == 400
    assert "clinic_session" not in response.headers.get("set-cookie", "")


def test_json_body_to_admin_form_is_400_and_writes_nothing(client_for):
    admin = client_for("admin")
    before = user_count(admin)
    response = admin.post("/admin/users", json=NEW_USER)
    assert response.status_code == 400
    assert user_count(admin) == before


BROKEN_MULTIPART = [
    ("multipart/form-data",  # no boundary
     b"--x\r\nContent-Disposition: form-data; name=\"username\"\r\n\r\nbidan.rina\r\n--x--\r\n"),
    ("multipart/form-data; boundary=x", b"--x\r\nContent-Type: text/plain\r\n\r\nbidan.rina\r\n--x--\r\n"),
    ("multipart/form-data; boundary=x", b"this is not multipart at all"),
]


def test_broken_multipart_is_400_and_writes_nothing(client_for):
    admin = client_for("admin")
    before = user_count(admin)
    for content_type, body in BROKEN_MULTIPART:
        response = admin.post("/admin/users", content=body, headers={"Content-Type": content_type})
        assert response.status_code == 400, body
    assert user_count(admin) == before


def test_file_upload_is_400_and_writes_nothing(client_for):
    admin = client_for("admin")
    before = user_count(admin)
    response = admin.post("/admin/users", data={"full_name": "Bd. Rina Marlina", "role": "nurse"},
                          files={"username": ("a.txt", b"bidan.rina", "text/plain")})
    assert response.status_code == 400
    assert user_count(admin) == before


def test_well_formed_multipart_is_accepted(client_for):
    admin = client_for("admin")
    response = admin.post("/admin/users", files={
        "username": (None, "bidan.rina"), "full_name": (None, "Bd. Rina Marlina"), "role": (None, "nurse"),
    })
    assert response.status_code == 200
    assert users_named(admin, "bidan.rina") == [{"username": "bidan.rina", "role": "nurse"}]


def test_nul_byte_in_a_field_is_400_and_writes_nothing(client_for):
    admin = client_for("admin")
    before = user_count(admin)
    for field in ("username", "full_name"):
        data = dict(NEW_USER)
        data[field] = data[field][:3] + "\x00" + data[field][3:]
        response = admin.post("/admin/users", data=data)
        assert response.status_code == 400, field
    assert user_count(admin) == before


def test_nul_byte_in_login_is_400(anon):
    response = anon.post("/login", data={"username": "doctor\x00", "password": "x"}, follow_redirects=False)
    assert response.status_code == 400
    assert query(anon, "SELECT COUNT(*) AS n FROM login_failures")[0]["n"] == 0


def test_oversized_body_is_413_and_writes_nothing(client_for, settings):
    admin = client_for("admin")
    before = user_count(admin)
    data = dict(NEW_USER, full_name="A" * (settings.max_body_bytes + 1))
    response = admin.post("/admin/users", data=data)
    assert response.status_code == 413
    assert user_count(admin) == before


def test_body_just_under_the_limit_is_read(client_for):
    # A big but allowed body is read whole (not cut off); a field longer than any clinical note is refused
    # as /sync refuses it, and a long field within that cap reaches the form check (and fails it on length).
    admin = client_for("admin")
    before = user_count(admin)
    response = admin.post("/admin/users", data=dict(NEW_USER, full_name="A" * 100_000))
    assert response.status_code == 400
    assert "terlalu panjang" in response.text  # Indonesian, the default language
    response = admin.post("/admin/users", data=dict(NEW_USER, full_name="A" * (FIELD_CHARS - 1)))
    assert response.status_code == 422
    assert user_count(admin) == before


def test_a_huge_page_number_is_the_last_page_not_an_error(client_for):
    # ?page=10**30 once made an OFFSET no database accepts: 500 on both lists.
    admin = client_for("admin")
    for path in ("/patients", "/admin/access-log"):
        for page in ("99999999999999999999999999999", "-5", "x", "10000"):
            response = admin.get(f"{path}?page={page}")
            assert response.status_code == 200, (path, page)


def test_a_fragment_asked_for_after_the_session_ended_swaps_nothing(anon):
    # A page left open (ICD-10 suggestions, search) after its user signed out elsewhere: the sign-in page must
    # not be swapped into the form, and the page keeps what was typed; full pages still go to sign-in.
    for path in ("/icd10?q=demam", "/patients?q=siti"):
        response = anon.get(path, headers={"HX-Request": "true"}, follow_redirects=False)
        assert response.status_code == 204, path
        assert response.text == ""
        assert anon.get(path, follow_redirects=False).headers["location"].startswith("/login?next=")
