"""The installable app: web app manifest, service worker, offline shell pages, sync status page."""

from __future__ import annotations

import hashlib
import json
import os
from functools import cache

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from clinic import i18n, targets
from clinic.rules import icd10
from clinic.templating import (
    STATIC_DIR,
    TEMPLATE_DIR,
    environment,
    icd10_data_url,
    js_texts,
    render,
    static_url,
    texts_url,
    texts_version,
)

# Cached at install: what the app needs to start and show its offline page with no network.
SHELL_FILES = ("app.css", "htmx.min.js", "idb.js", "outbox_states.js", "outbox.js", "index_wire.js", "device.js",
               "offline_pages.js", "app.js", "icons/icon-192.png", "icons/favicon.svg", "icd10.js")


@cache
def worker_version() -> str:
    """Changes whenever a static file or the worker itself changes, so browsers install the new one."""
    digest = hashlib.sha256()
    for path in sorted(STATIC_DIR.rglob("*")):
        if path.is_file():
            digest.update(path.name.encode())
            digest.update(path.read_bytes())
    digest.update((TEMPLATE_DIR / "pwa" / "sw.js").read_bytes())
    digest.update(icd10.device_version().encode())  # a new diagnosis list is fetched by a new worker
    # A deployment may also force a new worker (e.g. after a change of templates): CLINIC_BUILD.
    digest.update(os.environ.get("CLINIC_BUILD", "").encode())
    return digest.hexdigest()[:12]


async def service_worker(request: Request) -> Response:
    shell = ([static_url(name) for name in SHELL_FILES] + [texts_url(locale) for locale in i18n.LOCALES]
             + [icd10_data_url()])
    body = environment().get_template("pwa/sw.js").render(version=worker_version(), shell=shell, static_url=static_url,
                                                       record_targets=targets.script(request.app.routes))
    return Response(body, media_type="application/javascript", headers={
        "Cache-Control": "no-cache", "Service-Worker-Allowed": "/",
    })


async def texts_script(request: Request) -> Response:
    """The page script's texts in one language: kept by the browser for a year under its versioned URL."""
    locale = request.query_params.get("lang", "")
    i18n.set_locale(locale)
    body = "self.CLINIC_TEXTS = " + json.dumps(js_texts(), ensure_ascii=False) + ";\n"
    versioned = request.query_params.get("v") == texts_version() and locale in i18n.LOCALES
    return Response(body, media_type="application/javascript", headers={
        "Cache-Control": "public, max-age=31536000, immutable" if versioned else "no-cache"})


async def icd10_data(request: Request) -> Response:
    """The ICD-10 list with the curated Indonesian terms and names, for suggestions and checks on the device
    (static/icd10.js): generated from clinic/rules/icd10.py, kept for a year under its versioned URL."""
    versioned = request.query_params.get("v") == icd10.device_version()
    return Response(icd10.device_json(), media_type="application/json", headers={
        "Cache-Control": "public, max-age=31536000, immutable" if versioned else "no-cache"})


async def manifest(request: Request) -> Response:
    return JSONResponse({
        "name": "Rekam Medis Elektronik Puskesmas",
        "short_name": "Rekam Medis",
        "description": "Rekam medis elektronik untuk layanan primer, tetap bekerja tanpa sinyal.",
        "lang": "id",
        "start_url": "/patients",
        "scope": "/",
        "id": "/",
        "display": "standalone",
        "orientation": "any",
        "background_color": "#ffffff",
        "theme_color": "#0f766e",
        "icons": [
            {"src": static_url("icons/icon-192.png"), "sizes": "192x192", "type": "image/png", "purpose": "any"},
            {"src": static_url("icons/icon-512.png"), "sizes": "512x512", "type": "image/png", "purpose": "any"},
            {"src": static_url("icons/icon-maskable-512.png"), "sizes": "512x512", "type": "image/png",
             "purpose": "maskable"},
        ],
    }, media_type="application/manifest+json", headers={"Cache-Control": "no-cache"})


async def offline_page(request: Request) -> Response:
    """Shown by the service worker for a page that was never saved on this device; it renders
    records that exist only in the device's outbox."""
    return render(request, "pwa/offline.html", {}, headers={"Cache-Control": "no-cache"})


async def sync_status(request: Request) -> Response:
    return render(request, "pwa/status.html", {})


