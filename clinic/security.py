"""Cross-site request refusal and security headers, as one pure ASGI middleware."""

from __future__ import annotations

import logging

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
# default-src covers scripts, styles, images, fetches, the manifest and the worker: all from this origin.
CSP = "default-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
HEADERS = {  # on every response
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
}
DOCUMENT_HEADERS = {  # not on static files (scripts, styles, icons): bytes matter on a slow link
    "content-security-policy": CSP,  # frame-ancestors 'none' supersedes X-Frame-Options
    "cross-origin-opener-policy": "same-origin",
}
# The app's own assets that a page loads as a script or data, never as a document or a worker (where the two
# headers above take effect): like static files, they go without them. /sw.js is a worker: it keeps them.
ASSET_PATHS = frozenset({"/texts.js", "/icd10.json"})
# Over HTTPS only (RFC 6797 ignores it over HTTP): a year, this host only (other services may share the domain).
HSTS = "max-age=31536000"
UNTRUSTED_PROXY = (
    "A request came through a proxy at %s that says the browser used HTTPS (X-Forwarded-Proto), but that proxy "
    "is not in FORWARDED_ALLOW_IPS, so the app sees plain HTTP: session cookies lose their Secure flag and "
    "HSTS is not sent. Add the proxy's address to FORWARDED_ALLOW_IPS (on a PaaS whose router is the only way "
    "in: FORWARDED_ALLOW_IPS='*'). See README, Deployment."
)
log = logging.getLogger("clinic.security")


def claims_https_untrusted(scope: Scope) -> bool:
    """A proxy said HTTPS, yet the scheme is http: uvicorn applies X-Forwarded-Proto only from the addresses in
    FORWARDED_ALLOW_IPS, so the proxy in front is not trusted."""
    if scope.get("scheme") != "http":
        return False
    headers = Headers(scope=scope)
    proto = headers.get("x-forwarded-proto", "").split(",")[0].strip().lower()
    return proto == "https" or "proto=https" in headers.get("forwarded", "").lower()


def is_cross_site(scope: Scope) -> bool:
    """Modern browsers say where a request came from (Sec-Fetch-Site); older ones send Origin.
    No token: a token in a cached form would go stale while a tablet is offline for hours."""
    headers = Headers(scope=scope)
    site = headers.get("sec-fetch-site")
    if site is not None:
        return site not in ("same-origin", "none")
    origin = headers.get("origin")
    if origin is None:
        return False
    host = headers.get("host", "")
    scheme = scope.get("scheme", "http")
    return origin not in (f"{scheme}://{host}",)


class SecurityMiddleware:
    def __init__(self, app: ASGIApp, forbidden: ASGIApp) -> None:
        self.app = app
        self.forbidden = forbidden
        self.warned_untrusted_proxy = False  # one warning per process, not one per request

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        if not self.warned_untrusted_proxy and claims_https_untrusted(scope):
            self.warned_untrusted_proxy = True
            client = scope.get("client")
            log.warning(UNTRUSTED_PROXY, client[0] if client else "an unknown address")

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in HEADERS.items():
                    headers.setdefault(name, value)
                if scope.get("scheme") == "https":
                    headers.setdefault("strict-transport-security", HSTS)
                if not scope["path"].startswith("/static/") and scope["path"] not in ASSET_PATHS:
                    for name, value in DOCUMENT_HEADERS.items():
                        headers.setdefault(name, value)
                # Signed-in pages hold patient data: never kept by the browser's HTTP cache or a proxy.
                if scope.get("user") is not None and "cache-control" not in headers:
                    headers["cache-control"] = "no-store"
            await send(message)

        if scope["method"] not in SAFE_METHODS and is_cross_site(scope):
            await self.forbidden(scope, receive, send_with_headers)
            return
        await self.app(scope, receive, send_with_headers)
