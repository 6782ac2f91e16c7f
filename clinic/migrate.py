"""Schema migrations (Alembic, in migrations/), run through the app's own async drivers."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor

from alembic import command
from alembic.config import Config

from clinic.config import ROOT


def alembic_url(database_url: str) -> str:
    if database_url.startswith("sqlite:"):
        return "sqlite+aiosqlite:" + database_url[len("sqlite:") :]
    return "postgresql+asyncpg:" + database_url[len("postgresql:") :]


def alembic_config(database_url: str) -> Config:
    config = Config()
    config.set_main_option("script_location", str(ROOT / "migrations"))
    config.set_main_option("sqlalchemy.url", alembic_url(database_url).replace("%", "%%"))
    return config


def upgrade(database_url: str) -> None:
    """Alembic's env.py runs its own event loop; from inside a running loop it gets a thread of its own."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        command.upgrade(alembic_config(database_url), "head")
        return
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(command.upgrade, alembic_config(database_url), "head").result()
