"""The app in-process (TestClient) against each real database."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from starlette.testclient import TestClient

from clinic.app import create_app
from clinic.config import Settings
from clinic.db import fetch_all
from tests.conftest import PASSWORD

ORIGIN = "http://testserver"


@pytest.fixture
def settings(database_url: str) -> Settings:
    return Settings(database_url=database_url, secret_key="test-secret-key-not-for-production")


@pytest.fixture
def anon(settings: Settings) -> Iterator[TestClient]:
    with TestClient(create_app(settings), base_url=ORIGIN) as client:
        yield client


@pytest.fixture
def client_for(settings: Settings) -> Iterator[Callable[[str], TestClient]]:
    """client_for("doctor") gives a signed-in TestClient for that seeded user. Each client has its own
    app instance (and so its own connection pool on its own event loop)."""
    clients: list[TestClient] = []

    def make(username: str) -> TestClient:
        client = TestClient(create_app(settings), base_url=ORIGIN)
        client.__enter__()
        clients.append(client)
        response = client.post("/login", data={"username": username, "password": PASSWORD},
                               follow_redirects=False)
        assert response.status_code == 303, response.text
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


def query(client: TestClient, sql: str, params: dict | None = None) -> list[dict]:
    """Read the database behind a client's app, on that client's event loop."""
    async def run() -> list[dict]:
        return await fetch_all(client.app.state.db, sql, params)  # type: ignore[attr-defined]
    assert client.portal is not None
    return client.portal.call(run)
