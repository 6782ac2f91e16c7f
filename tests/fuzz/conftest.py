"""Fixtures of the fuzz tier: the HTTP tier's `settings`, and a signed-in doctor whose server errors come back
as 500 responses carrying the traceback (instead of being raised inside the test client)."""

from __future__ import annotations

import traceback
from collections.abc import Iterator

import pytest
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.testclient import TestClient

from clinic.app import create_app
from clinic.config import Settings
from tests.conftest import PASSWORD
from tests.http.conftest import ORIGIN, query
from tests.http.conftest import settings as settings  # noqa: F401  (the fixture, for tests/fuzz)

COUNTED = ("patients", "patient_revisions", "visits", "visit_revisions")
ACTIONS = ("register", "edit", "visit", "correct")  # the access-log entries of writes
# A conflict's answer carries the current record: a logged read. Other logged reads (a form shown again, the
# possible duplicates listed) come with forms the fuzzer cannot predict and are not writes: not counted here.
LOGGED_READS = ("conflict",)


async def traceback_page(request: Request, exc: Exception) -> Response:
    """The 500 handler of a fuzzed app: the traceback, so the failing assertion shows the cause."""
    return PlainTextResponse("".join(traceback.format_exception(exc)), status_code=500)


def signed_in_client(settings: Settings, username: str) -> TestClient:
    """Like tests/http's client_for(username), but a server exception is a 500 response with its traceback."""
    app = create_app(settings)
    app.exception_handlers[Exception] = traceback_page  # read when the middleware stack is built
    client = TestClient(app, base_url=ORIGIN, raise_server_exceptions=False)
    client.__enter__()
    response = client.post(
        "/login", data={"username": username, "password": PASSWORD}, follow_redirects=False
    )
    assert response.status_code == 303, response.text
    return client


@pytest.fixture
def doctor(settings: Settings) -> Iterator[TestClient]:  # noqa: F811
    client = signed_in_client(settings, "doctor")
    yield client
    client.__exit__(None, None, None)


def counts(client: TestClient) -> dict[str, int]:
    """Rows in the written tables, the access-log entries of writes (all, and by action), and of conflicts."""
    sql = ", ".join(f"(SELECT COUNT(*) FROM {table}) AS {table}" for table in COUNTED)
    writes = ", ".join(f"'{a}'" for a in ACTIONS)
    sql += f", (SELECT COUNT(*) FROM access_log WHERE action IN ({writes})) AS access_log, " + ", ".join(
        f"(SELECT COUNT(*) FROM access_log WHERE action = '{a}') AS log_{a}" for a in (*ACTIONS, *LOGGED_READS)
    )
    (row,) = query(client, f"SELECT {sql}")
    return {key: int(value) for key, value in row.items()}


def delta(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    return {key: after[key] - before[key] for key in before if after[key] != before[key]}


def patient_is_whole(client: TestClient, patient_id: str) -> None:
    """A stored patient has exactly one first revision and one 'register' access_log row."""
    revisions = query(
        client, "SELECT version FROM patient_revisions WHERE patient_id = :id", {"id": patient_id}
    )
    assert [row["version"] for row in revisions] == [1], revisions
    registered = query(
        client,
        "SELECT COUNT(*) AS n FROM access_log WHERE patient_id = :id AND action = 'register'",
        {"id": patient_id},
    )
    assert registered[0]["n"] == 1


def visit_is_whole(client: TestClient, visit_id: str) -> None:
    """A stored visit has exactly one revision (sharing the visit's id) and one 'visit' access_log row."""
    revisions = query(
        client, "SELECT id, revision FROM visit_revisions WHERE visit_id = :id", {"id": visit_id}
    )
    assert revisions == [{"id": visit_id, "revision": 1}], revisions
    logged = query(
        client,
        "SELECT COUNT(*) AS n FROM access_log WHERE visit_id = :id AND action = 'visit'",
        {"id": visit_id},
    )
    assert logged[0]["n"] == 1
