"""The route table is the one source of access rules and record targets: /sync, the templates, the
service worker and the outbox all derive theirs from it, so none of them can drift."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest
from starlette.routing import Route

from clinic import targets
from clinic.routes import ROUTES
from clinic.web import Page, record_targets, resolve_target

ROOT = Path(__file__).resolve().parents[2]
PATIENT, VISIT = str(uuid.uuid4()), str(uuid.uuid4())


def example_path(route: Route) -> str:
    return route.path.replace("{patient_id:id}", PATIENT).replace("{visit_id:id}", VISIT) \
        .replace("{user_id:id}", str(uuid.uuid4()))


def test_every_route_declares_its_roles() -> None:
    assert all(isinstance(route, Page) and route.roles for route in ROUTES)


def test_the_worker_carries_the_route_tables_targets(tmp_path: Path) -> None:
    from starlette.testclient import TestClient

    from clinic.app import create_app
    from clinic.config import Settings

    app = create_app(Settings(database_url=f"sqlite:///{tmp_path / 'unused.db'}", secret_key="k" * 32))
    worker = TestClient(app).get("/sw.js")
    assert worker.status_code == 200
    assert targets.script(ROUTES) in worker.text
    assert "self.RECORD_TARGETS = [" in targets.script(ROUTES)


def test_sync_accepts_exactly_the_routes_declared_offline() -> None:
    declared = {route.path for route in record_targets(ROUTES)}
    assert len(declared) == 6
    for route in ROUTES:
        for method in (route.methods or set()) - {"HEAD"}:
            found = resolve_target(ROUTES, example_path(route), method)
            if route.path in declared and method == "POST":
                assert found is not None and found[0] is route, route.path
            else:
                assert found is None or found[0].path in declared, (method, route.path)
    # Path parameters come back canonical (lowercase), as the services expect them.
    found = resolve_target(ROUTES, f"/patients/{PATIENT.upper()}/visits", "POST")
    assert found is not None and found[1] == {"patient_id": PATIENT}
    assert resolve_target(ROUTES, "/patients/not-a-uuid/visits", "POST") is None
    assert resolve_target(ROUTES, f"/patients/{PATIENT}/visits", "GET") is None


def test_templates_and_scripts_hold_no_role_names_or_record_urls_of_their_own() -> None:
    role_check = re.compile(r"\buser\.role\s*(==|!=|in\b|not in\b)|data-role")
    for path in [*(ROOT / "templates").rglob("*.html"), ROOT / "static" / "app.js"]:
        assert not role_check.search(path.read_text(encoding="utf-8")), f"{path}: ask can(...) instead"
    for path in (ROOT / "static" / "outbox.js", ROOT / "templates" / "pwa" / "sw.js"):
        text = path.read_text(encoding="utf-8")
        assert "revisions" not in text and "/visits$" not in text, f"{path}: record URLs come from clinic/targets.py"


@pytest.mark.skipif(shutil.which("node") is None, reason="Node is not installed")
def test_the_outbox_knows_each_target_by_the_kind_the_server_declares(tmp_path: Path) -> None:
    # The outbox and the worker's targets as the browser loads them, in Node with a bare `self`.
    generated = tmp_path / "targets.js"
    generated.write_text(targets.script(ROUTES), encoding="utf-8")
    cases = [(example_path(route), route.offline.kind) for route in record_targets(ROUTES) if route.offline]
    cases.append((f"/patients/{PATIENT}/edit", None))
    cases.append(("/patients/not-a-uuid/visits", None))
    script = f"""
        global.self = {{}};
        require({json.dumps(str(generated))});
        require({json.dumps(str(ROOT / "static" / "outbox_states.js"))});
        require({json.dumps(str(ROOT / "static" / "outbox.js"))});
        const cases = {json.dumps(cases)};
        const answer = ([path]) => [self.Outbox.kindOf(path), self.Outbox.patientOf(path, {{}})];
        console.log(JSON.stringify(cases.map(answer)));
    """
    result = subprocess.run(["node", "-e", script], capture_output=True, text=True, timeout=30, check=True)
    answers = json.loads(result.stdout)
    for (path, kind), (found, patient) in zip(cases, answers, strict=True):
        assert found == kind, path
        if kind not in (None, "patient"):
            assert patient == PATIENT
