"""Talking to SATUSEHAT: the OAuth2 client-credentials token (kept until shortly before it expires), lookups
by NIK and by the encounter's own identifier, and the transaction Bundle. Every request has a timeout; a
transport failure raises httpx2.TransportError for the sender to retry."""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any

import httpx2

from clinic.config import Satusehat

NIK_SYSTEM = "https://fhir.kemkes.go.id/id/nik"
TIMEOUT = httpx2.Timeout(15.0, connect=5.0)


@dataclass(frozen=True)
class Reply:
    status: int
    body: Any  # parsed JSON, or None when the answer was not JSON (5xx are sometimes text/plain)
    text: str


def expiry(expires_in: Any, now: float) -> float:
    """When to stop using a token: its lifetime (a number, or a string of one: both arrive) less a margin of
    a tenth of it, at most a minute; an unreadable lifetime is taken as a minute."""
    try:
        lifetime = float(expires_in)
    except (TypeError, ValueError):
        lifetime = 60.0
    return now + lifetime - min(60.0, lifetime / 10)


class Client:
    def __init__(self, settings: Satusehat, transport: httpx2.AsyncBaseTransport | None = None) -> None:
        self.settings = settings
        self.fhir = f"{settings.base_url}/fhir-r4/v1"
        self._http = httpx2.AsyncClient(timeout=TIMEOUT, transport=transport)
        self._token: str | None = None
        self._token_until = 0.0
        self.requests = 0  # every request made, the token's included (for the bench)
        self.bytes_sent = 0  # request bodies

    async def close(self) -> None:
        await self._http.aclose()

    async def token(self) -> str:
        if self._token is None or time.monotonic() >= self._token_until:
            body = {"client_id": self.settings.client_id, "client_secret": self.settings.client_secret}
            self.requests += 1
            response = await self._http.post(f"{self.settings.base_url}/oauth2/v1/accesstoken",
                                             params={"grant_type": "client_credentials"}, data=body)
            if response.status_code != 200:
                raise httpx2.TransportError(f"token refused: HTTP {response.status_code}")
            answer = response.json()
            self._token = str(answer["access_token"])
            self._token_until = expiry(answer.get("expires_in"), time.monotonic())
        return self._token

    async def _request(self, method: str, url: str, **kwargs: Any) -> Reply:
        """One request with the token; a 401 (the token ended early) fetches a new token and asks once more."""
        for _ in range(2):
            headers = {"Authorization": f"Bearer {await self.token()}"}
            if "content" in kwargs:
                headers["Content-Type"] = "application/fhir+json"
                self.bytes_sent += len(kwargs["content"])
            self.requests += 1
            response = await self._http.request(method, url, headers=headers, **kwargs)
            if response.status_code != 401:
                break
            self._token = None
        try:
            body = response.json()
        except (json.JSONDecodeError, UnicodeDecodeError):
            body = None
        return Reply(response.status_code, body, response.text[:2000])

    async def ihs_by_nik(self, resource: str, nik: str) -> str | None:
        """The IHS number of a Patient or Practitioner with this NIK; None when SATUSEHAT has none."""
        reply = await self._request("GET", f"{self.fhir}/{resource}", params={"identifier": f"{NIK_SYSTEM}|{nik}"})
        if reply.status >= 500 or reply.status in (408, 429) or not isinstance(reply.body, dict):
            raise httpx2.TransportError(f"{resource} lookup: HTTP {reply.status}")
        entries = reply.body.get("entry") or []
        return str(entries[0]["resource"]["id"]) if entries else None

    async def find_encounter(self, patient_ihs: str, system: str, value: str) -> str | None:
        """The id of the Encounter stored with our identifier, found among the patient's encounters."""
        reply = await self._request("GET", f"{self.fhir}/Encounter", params={"subject": patient_ihs})
        if reply.status != 200 or not isinstance(reply.body, dict):
            raise httpx2.TransportError(f"Encounter search: HTTP {reply.status}")
        for entry in reply.body.get("entry") or []:
            resource = entry.get("resource", {})
            if any(i.get("system") == system and i.get("value") == value for i in resource.get("identifier", [])):
                return str(resource["id"])
        return None

    async def post_bundle(self, body: bytes) -> Reply:
        return await self._request("POST", self.fhir, content=body)
