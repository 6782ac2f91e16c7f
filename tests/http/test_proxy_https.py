"""HTTPS behind a proxy: HSTS over HTTPS, and a clear warning when an untrusted proxy claims HTTPS (the session
cookie would silently lose Secure)."""

from __future__ import annotations

import logging

import pytest
from starlette.testclient import TestClient
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from clinic.app import create_app
from tests.conftest import PASSWORD

HSTS = "strict-transport-security"
FORWARDED_HTTPS = {"X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.7"}


def sign_in(client: TestClient, **headers: str):
    return client.post("/login", data={"username": "nurse", "password": PASSWORD}, headers=headers,
                       follow_redirects=False)


def test_hsts_over_https_only(settings):
    with TestClient(create_app(settings), base_url="https://testserver") as client:
        assert client.get("/login").headers[HSTS] == "max-age=31536000"
        assert client.get("/healthz").headers[HSTS] == "max-age=31536000"
    with TestClient(create_app(settings), base_url="http://testserver") as client:
        assert HSTS not in client.get("/login").headers


def test_an_untrusted_proxy_claiming_https_is_warned_about_once(settings, caplog: pytest.LogCaptureFixture):
    # As uvicorn runs it when the proxy's address is not in FORWARDED_ALLOW_IPS: the header is not believed.
    app = ProxyHeadersMiddleware(create_app(settings), trusted_hosts="127.0.0.1")
    with caplog.at_level(logging.WARNING, logger="clinic.security"), \
            TestClient(app, base_url="http://testserver") as client:
        response = sign_in(client, **FORWARDED_HTTPS)
        assert response.status_code == 303
        assert "secure" not in response.headers["set-cookie"].lower()  # what the warning is about
        assert HSTS not in response.headers
        client.get("/patients", headers=FORWARDED_HTTPS)
    warnings = [record for record in caplog.records if record.name == "clinic.security"]
    assert len(warnings) == 1
    assert "FORWARDED_ALLOW_IPS" in warnings[0].getMessage()


def test_a_trusted_proxy_gives_https_secure_cookies_and_no_warning(settings, caplog: pytest.LogCaptureFixture):
    app = ProxyHeadersMiddleware(create_app(settings), trusted_hosts="testclient")
    with caplog.at_level(logging.WARNING, logger="clinic.security"), \
            TestClient(app, base_url="http://testserver") as client:
        response = sign_in(client, **FORWARDED_HTTPS, Origin="https://testserver")
        assert response.status_code == 303
        assert "secure" in response.headers["set-cookie"].lower()
        assert response.headers[HSTS] == "max-age=31536000"
        # Plain HTTP with no proxy header at all is no reason to warn either.
        client.get("/login")
    assert not [record for record in caplog.records if record.name == "clinic.security"]
