"""Every browser test finds Chromium the same way: Debian's, through the `chromium_executable` fixture, which
skips where it is missing and fails in CI (never Playwright's own download, which cannot be fetched here)."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from tests.browser import fixtures

ROOT = Path(__file__).resolve().parents[2]
LAUNCHERS = {"launch", "launch_persistent_context"}


def test_every_browser_launch_names_the_fixtures_chromium() -> None:
    launches = []
    for path in [*(ROOT / "tests").rglob("*.py")]:
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in LAUNCHERS \
                    and isinstance(node.func.value, ast.Attribute) and node.func.value.attr == "chromium":
                given = {keyword.arg: keyword.value for keyword in node.keywords}
                assert isinstance(given.get("executable_path"), ast.Name), f"{path}:{node.lineno}"
                assert given["executable_path"].id == "chromium_executable", f"{path}:{node.lineno}"
                launches.append(f"{path.name}:{node.lineno}")
    assert len(launches) >= 2, launches  # the shared browser and the installability test's own profile


def test_a_missing_chromium_skips_locally_and_fails_in_ci(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(fixtures, "chromium_path", lambda: None)
    check = fixtures.chromium_executable.__wrapped__  # type: ignore[attr-defined]
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception):
        check()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(RuntimeError, match="CI must run the browser tests"):
        check()
