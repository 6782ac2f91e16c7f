"""Settings that refuse mistakes, and the README kept true to the code."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bench.common import Result, write
from clinic import access_table
from clinic.config import ROOT, ConfigError, Settings, display_url, normalize_database_url
from clinic.routes import ROUTES

README = ROOT / "README.md"


@pytest.mark.parametrize("value", ["prod", "Production", "staging", ""])
def test_an_unknown_clinic_env_is_refused(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("CLINIC_ENV", value)
    monkeypatch.setenv("SECRET_KEY", "k" * 48)
    with pytest.raises(ConfigError, match="CLINIC_ENV must be one of development, production"):
        Settings.from_env()


@pytest.mark.parametrize("environment", ["development", "production"])
def test_a_short_secret_key_is_refused(monkeypatch: pytest.MonkeyPatch, environment: str) -> None:
    monkeypatch.setenv("CLINIC_ENV", environment)
    monkeypatch.setenv("SECRET_KEY", "abc")
    with pytest.raises(ConfigError, match="at least 32 characters"):
        Settings.from_env()
    monkeypatch.setenv("SECRET_KEY", "k" * 32)
    assert Settings.from_env().secret_key == "k" * 32


def test_a_relative_sqlite_path_is_the_project_directory_s_whatever_the_current_one(
        monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.delenv("CLINIC_DATA_DIR", raising=False)
    monkeypatch.chdir(tmp_path)
    assert normalize_database_url("sqlite:///clinic.db") == f"sqlite:///{ROOT / 'clinic.db'}"
    monkeypatch.setenv("CLINIC_DATA_DIR", str(tmp_path))
    assert normalize_database_url("sqlite:///clinic.db") == f"sqlite:///{tmp_path / 'clinic.db'}"
    assert normalize_database_url(f"sqlite:///{tmp_path}/x.db") == f"sqlite:///{tmp_path}/x.db"


def test_display_url_hides_only_the_password() -> None:
    assert display_url("postgresql://app:s3cret@db:5432/clinic") == "postgresql://app:***@db:5432/clinic"
    assert display_url("postgresql://app@db/clinic") == "postgresql://app@db/clinic"
    assert display_url("sqlite:////srv/clinic.db") == "sqlite:////srv/clinic.db"


def test_the_readme_role_table_is_the_route_table() -> None:
    text = README.read_text(encoding="utf-8")
    assert access_table.START in text and access_table.END in text
    assert access_table.with_table(text, ROUTES) == text, "run `python -m clinic.access_table`"


def test_the_readme_points_only_inside_the_repository() -> None:
    text = README.read_text(encoding="utf-8")
    assert "../" not in text
    for target in re.findall(r"\]\(([^)#]+)\)", text):
        if not target.startswith(("http://", "https://")):
            assert (ROOT / target).exists(), target


def test_bench_leaves_the_readme_alone_unless_asked(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    readme.write_text("intro\n<!-- bench:start -->\nold\n<!-- bench:end -->\nrest\n")
    results = [Result("figure", 1.0, "s", "<= 2 s", "met", "here")]
    write(results, tmp_path)
    assert "old" in readme.read_text()
    write(results, tmp_path, readme=readme)
    text = readme.read_text()
    assert "old" not in text and "| figure |" in text and text.endswith("<!-- bench:end -->\nrest\n")


@pytest.mark.parametrize("value", ["0", "11", "four", "-1", "2.5"])
def test_db_concurrency_outside_one_to_the_pool_size_is_refused(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("SECRET_KEY", "k" * 48)
    monkeypatch.setenv("DB_CONCURRENCY", value)
    with pytest.raises(ConfigError, match="DB_CONCURRENCY must be a whole number from 1 to 10"):
        Settings.from_env()
    monkeypatch.setenv("DB_CONCURRENCY", "6")
    assert Settings.from_env().db_concurrency == 6
