"""Settings read from the environment (see README, "Configuration")."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "sqlite:///clinic.db"
SECRET_FILE = Path(".secret_key")


class ConfigError(RuntimeError):
    """A setting is missing or malformed; the message says which and how to fix it."""


def normalize_database_url(url: str, setting: str = "DATABASE_URL") -> str:
    # PaaS hosts hand out postgres://; SQLAlchemy and `databases` want postgresql://.
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if not (url.startswith("sqlite:///") or url.startswith("postgresql://")):
        raise ConfigError(
            "{} must start with sqlite:/// or postgresql:// (got {!r})".format(setting, url.split(":", 1)[0])
        )
    return url


def migrate_database_url() -> str | None:
    """MIGRATE_DATABASE_URL: the tables' owner, which `clinic migrate` logs in as; the app then serves as
    the (lesser) user in DATABASE_URL. Unset: DATABASE_URL does both."""
    url = os.environ.get("MIGRATE_DATABASE_URL", "").strip()
    return normalize_database_url(url, "MIGRATE_DATABASE_URL") if url else None


def is_production() -> bool:
    return os.environ.get("CLINIC_ENV", "development").lower() == "production"


def load_secret_key() -> str:
    key = os.environ.get("SECRET_KEY", "")
    if key:
        return key
    if is_production():
        raise ConfigError("SECRET_KEY must be set when CLINIC_ENV=production.")
    # Development: made once and kept beside the database so sessions survive a restart.
    if SECRET_FILE.exists():
        return SECRET_FILE.read_text().strip()
    key = secrets.token_urlsafe(48)
    SECRET_FILE.write_text(key + "\n")
    SECRET_FILE.chmod(0o600)
    return key


@dataclass(frozen=True)
class Settings:
    database_url: str
    secret_key: str
    session_hours: float = 12.0  # one working shift
    max_body_bytes: int = 2 * 1024 * 1024
    body_timeout_seconds: float = 30.0  # a request body with no byte for this long is answered 408

    @classmethod
    def from_env(cls) -> Settings:
        try:
            hours = float(os.environ.get("SESSION_HOURS", "12"))
        except ValueError as exc:
            raise ConfigError("SESSION_HOURS must be a number of hours, e.g. 12") from exc
        try:
            body_timeout = float(os.environ.get("BODY_TIMEOUT_SECONDS", "30"))
        except ValueError as exc:
            raise ConfigError("BODY_TIMEOUT_SECONDS must be a number of seconds, e.g. 30") from exc
        return cls(
            database_url=normalize_database_url(os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL)),
            secret_key=load_secret_key(),
            session_hours=hours,
            body_timeout_seconds=body_timeout,
        )
