"""Jinja2 environment: autoescaped, i18n, versioned static URLs."""

from __future__ import annotations

import hashlib
from functools import cache
from pathlib import Path
from typing import Any

import jinja2
from starlette.requests import Request
from starlette.templating import Jinja2Templates

from clinic import i18n
from clinic.config import ROOT
from clinic.web import role_label

TEMPLATE_DIR = ROOT / "templates"
STATIC_DIR = ROOT / "static"


@cache
def static_version(name: str) -> str:
    path = STATIC_DIR / name
    return hashlib.sha256(path.read_bytes()).hexdigest()[:10] if path.is_file() else "0"


def static_url(name: str) -> str:
    # The content hash in the URL lets browsers keep static files for a year.
    return f"/static/{name}?v={static_version(name)}"


def _context(request: Request) -> dict[str, Any]:
    return {
        "user": request.scope.get("user"),
        "lang": i18n.get_locale(),
        "languages": i18n.LANGUAGE_NAMES,
        "current_path": request.url.path
        + (("?" + request.url.query) if request.url.query else ""),
    }


def make_environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(TEMPLATE_DIR)),
        autoescape=jinja2.select_autoescape(default=True),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.install_gettext_callables(i18n.gettext, i18n.ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.globals["static_url"] = static_url
    env.globals["role_name"] = role_label
    return env


templates = Jinja2Templates(env=make_environment(), context_processors=[_context])


def render(request: Request, name: str, context: dict[str, Any] | None = None, status_code: int = 200,
           headers: dict[str, str] | None = None) -> Any:
    return templates.TemplateResponse(request, name, context or {}, status_code=status_code, headers=headers)
