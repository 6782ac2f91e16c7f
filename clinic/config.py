"""Settings read from the environment (see README, "Configuration")."""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "sqlite:///clinic.db"
ENVIRONMENTS = ("development", "production")
# 32 characters of token_urlsafe are 192 random bits; anything shorter is a password, not a key.
MIN_SECRET_KEY_CHARS = 32
SQLITE_PREFIX = "sqlite:///"
POOL_SIZE = 10  # PostgreSQL connections per app process (clinic.db.make_database)


class ConfigError(RuntimeError):
    """A setting is missing or malformed; the message says which and how to fix it."""


def data_dir() -> Path:
    """Where relative SQLite paths and the development `.secret_key` live: CLINIC_DATA_DIR, else the project
    directory (the clone), so the same database is used whatever the current directory."""
    configured = os.environ.get("CLINIC_DATA_DIR", "")
    if not configured:
        return ROOT
    path = Path(configured).expanduser().resolve()
    if not path.is_dir():
        raise ConfigError(f"CLINIC_DATA_DIR {configured!r} is not a directory: create it or fix the setting.")
    return path


def sqlite_path(url: str) -> Path | None:
    """The file of a sqlite:/// URL (None for PostgreSQL or an SQLite `file:` URI)."""
    if not url.startswith(SQLITE_PREFIX):
        return None
    name = url[len(SQLITE_PREFIX):].split("?", 1)[0]
    return None if name.startswith("file:") or name == ":memory:" else Path(name)


def normalize_database_url(url: str, setting: str = "DATABASE_URL") -> str:
    # PaaS hosts hand out postgres://; SQLAlchemy and `databases` want postgresql://.
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if not (url.startswith(SQLITE_PREFIX) or url.startswith("postgresql://")):
        raise ConfigError(
            "{} must start with sqlite:/// or postgresql:// (got {!r})".format(setting, url.split(":", 1)[0])
        )
    path = sqlite_path(url)
    if path is None:
        return url
    if not path.is_absolute():
        path = data_dir() / path
        _, question, query = url.partition("?")
        url = f"{SQLITE_PREFIX}{path}{question}{query}"
    check_sqlite_directory(path)
    return url


def migrate_database_url() -> str | None:
    """MIGRATE_DATABASE_URL: the tables' owner, which `clinic migrate` logs in as; the app then serves as
    the (lesser) user in DATABASE_URL. Unset: DATABASE_URL does both."""
    url = os.environ.get("MIGRATE_DATABASE_URL", "").strip()
    return normalize_database_url(url, "MIGRATE_DATABASE_URL") if url else None


def check_sqlite_directory(path: Path) -> None:
    """SQLite creates the file and its journal (-wal, -shm) beside it: the directory must exist and be writable."""
    directory = path.parent
    if not directory.is_dir():
        raise ConfigError(f"The directory {directory} of the SQLite database in DATABASE_URL does not exist: "
                          "create it, or fix DATABASE_URL.")
    if not os.access(directory, os.W_OK | os.X_OK):
        raise ConfigError(f"The directory {directory} of the SQLite database is not writable (SQLite keeps its "
                          "journal files beside the database): fix its permissions, or DATABASE_URL.")


def display_url(url: str) -> str:
    """The URL without its password, for start-up messages and logs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.rsplit("@", 1)[1]
    user = parts.username or ""
    return urlunsplit(parts._replace(netloc=f"{user}:***@{netloc}"))


def environment() -> str:
    value = os.environ.get("CLINIC_ENV", "development")
    if value not in ENVIRONMENTS:
        # A typo ("prod") must not quietly run a production server with development settings.
        raise ConfigError(f"CLINIC_ENV must be one of {', '.join(ENVIRONMENTS)} (got {value!r}).")
    return value


def is_production() -> bool:
    return environment() == "production"


def secret_file() -> Path:
    return data_dir() / ".secret_key"


def load_secret_key() -> str:
    key = os.environ.get("SECRET_KEY", "")
    if key:
        if len(key) < MIN_SECRET_KEY_CHARS:
            raise ConfigError(f"SECRET_KEY must have at least {MIN_SECRET_KEY_CHARS} characters (it has "
                              f"{len(key)}): make one with `python3 -c 'import secrets; "
                              "print(secrets.token_urlsafe(48))'`.")
        return key
    if is_production():
        raise ConfigError("SECRET_KEY must be set when CLINIC_ENV=production.")
    # Development: made once and kept beside the database so sessions survive a restart.
    path = secret_file()
    if path.exists():
        return path.read_text().strip()
    key = secrets.token_urlsafe(48)
    path.write_text(key + "\n")
    path.chmod(0o600)
    return key


@dataclass(frozen=True)
class Settings:
    database_url: str
    secret_key: str
    session_hours: float = 12.0  # one working shift
    max_body_bytes: int = 2 * 1024 * 1024
    body_timeout_seconds: float = 30.0  # a request body with no byte for this long is answered 408
    # Signed-in requests working on PostgreSQL at once, per process; the others wait their turn in the order
    # they came (clinic.db.Turns). More than the cores can run only lengthens every request.
    db_concurrency: int = 4
    satusehat: Satusehat = field(default_factory=lambda: Satusehat())

    @classmethod
    def from_env(cls) -> Settings:
        try:
            hours = float(os.environ.get("SESSION_HOURS", "12"))
        except ValueError as exc:
            raise ConfigError("SESSION_HOURS must be a number of hours, e.g. 12") from exc
        environment()  # refuse an unknown CLINIC_ENV even when SECRET_KEY is set
        try:
            body_timeout = float(os.environ.get("BODY_TIMEOUT_SECONDS", "30"))
        except ValueError as exc:
            raise ConfigError("BODY_TIMEOUT_SECONDS must be a number of seconds, e.g. 30") from exc
        concurrency = os.environ.get("DB_CONCURRENCY", "4").strip()
        if not concurrency.isdigit() or not 1 <= int(concurrency) <= POOL_SIZE:
            raise ConfigError(f"DB_CONCURRENCY must be a whole number from 1 to {POOL_SIZE}, e.g. 4")
        return cls(
            database_url=normalize_database_url(os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL)),
            secret_key=load_secret_key(),
            session_hours=hours,
            body_timeout_seconds=body_timeout,
            db_concurrency=int(concurrency),
            satusehat=Satusehat.from_env(),
        )


@dataclass(frozen=True)
class Facility:
    """The facility named on every print: FACILITY_NAME, FACILITY_ADDRESS, FACILITY_CODE (the Kemenkes
    facility code); README, "Configuration"."""

    name: str
    address: str
    code: str


def facility() -> Facility:
    return Facility(os.environ.get("FACILITY_NAME", "").strip() or "Puskesmas",
                    os.environ.get("FACILITY_ADDRESS", "").strip(), os.environ.get("FACILITY_CODE", "").strip())


# SATUSEHAT (CONTRACT.md): off by default; the app works fully without it.
SATUSEHAT_HOSTS = {"sandbox": "https://api-satusehat-stg.dto.kemkes.go.id",
                   "production": "https://api-satusehat.kemkes.go.id"}
SATUSEHAT_ENVS = ("off", *SATUSEHAT_HOSTS)


@dataclass(frozen=True)
class Satusehat:
    env: str = "off"
    client_id: str = ""
    client_secret: str = ""
    organization_id: str = ""
    location_id: str = ""  # the default poli's Location, for polis without one of their own
    base_url: str = ""  # the host: SATUSEHAT_BASE_URL (a stand-in) or the environment's

    @property
    def enabled(self) -> bool:
        return self.env != "off"

    @classmethod
    def from_env(cls) -> Satusehat:
        env = os.environ.get("SATUSEHAT_ENV", "off").strip() or "off"
        if env not in SATUSEHAT_ENVS:
            raise ConfigError(f"SATUSEHAT_ENV must be one of {', '.join(SATUSEHAT_ENVS)} (got {env!r}).")
        if env == "off":
            return cls()
        values = {name: os.environ.get(f"SATUSEHAT_{name.upper()}", "").strip()
                  for name in ("client_id", "client_secret", "organization_id", "location_id")}
        missing = [f"SATUSEHAT_{name.upper()}" for name, value in values.items() if not value]
        if missing:
            raise ConfigError(f"SATUSEHAT_ENV={env} needs {', '.join(missing)} (or set SATUSEHAT_ENV=off).")
        base = os.environ.get("SATUSEHAT_BASE_URL", "").strip().rstrip("/") or SATUSEHAT_HOSTS[env]
        return cls(env=env, base_url=base, **values)
