"""Sending the outbox: one item at a time, oldest first. Exactly once: an item tried before (its answer
may have been lost after SATUSEHAT stored it) is first looked up by the patient and our identifier, and a
"duplicate" answer is resolved the same way; an answer that says nothing certain (timeout, 408, 429, 5xx)
leaves the item waiting with backoff. Other 4xx answers refuse it until a correction of the visit."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import uuid
from typing import Any

import httpx2
from databases import Database

from clinic.accounts.roles import DOCTOR
from clinic.config import Satusehat
from clinic.db import fetch_one, utcnow
from clinic.patients.queries import get_patient
from clinic.pharmacy.queries import coded_entries_for
from clinic.queue import queries as queue
from clinic.satusehat import outbox
from clinic.satusehat.bundle import NotSendable, Refs, checked, encounter_identifier, wire_bytes
from clinic.satusehat.client import Client
from clinic.satusehat.encounter import from_visit, line_key
from clinic.visits.queries import get_visit

log = logging.getLogger("clinic.satusehat")
IDLE_SECONDS = 2.0  # how often an idle worker looks for due items
RETRY_STATUSES = frozenset({408, 429})


class Wait(Exception):
    """The item cannot go yet for a reason outside the bundle (no NIK, not known to SATUSEHAT): it waits."""


def outcome_text(reply_body: Any, text: str) -> str:
    """The platform's message: each OperationOutcome issue as `code: diagnostics/details`, else the text."""
    if isinstance(reply_body, dict) and reply_body.get("resourceType") == "OperationOutcome":
        parts = []
        for issue in reply_body.get("issue", []):
            detail = issue.get("diagnostics") or (issue.get("details") or {}).get("text", "")
            parts.append(f"{issue.get('code', '')}: {detail}".strip())
        return "; ".join(parts)
    return text


def is_duplicate(reply_body: Any) -> bool:
    return isinstance(reply_body, dict) and any(
        issue.get("code") == "duplicate" for issue in reply_body.get("issue", []))


def encounter_id(reply_body: Any) -> str | None:
    """The stored Encounter's id from a transaction-response (its entry's location, Encounter/<id>/...)."""
    if not isinstance(reply_body, dict):
        return None
    for entry in reply_body.get("entry", []):
        location = (entry.get("response") or {}).get("location", "")
        if location.startswith("Encounter/"):
            return location.split("/")[1]
    return None


async def _ihs(db: Database, client: Client, resource: str, nik: str | None, who: str) -> str:
    kind = resource.lower()
    if not nik:
        raise Wait(f"{who} has no NIK")
    known = await outbox.known_ihs(db, kind, nik)
    if known:
        return known
    found = await client.ihs_by_nik(resource, nik)
    if found is None:
        raise Wait(f"{who}: NIK {nik} is not known to SATUSEHAT")
    await outbox.keep_ihs(db, kind, nik, found)  # looked up once, kept
    return found


async def _coded_formulary(db: Database, content: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """The formulary entries with a KFA code that the encounter's prescription lines name:
    line_key(label) -> (KFA code, label)."""
    found: dict[str, tuple[str, str]] = {}
    for line in content.get("prescriptions") or ():
        drug = line_key(line.get("drug", ""))
        for row in await coded_entries_for(db, drug.lower()) if drug else ():
            label = " ".join(part for part in (row["name"], row["strength"], row["form"]) if part)
            if line_key(label) == drug:
                found[drug] = (row["kfa_code"].strip(), label)
    return found


async def send_one(db: Database, client: Client, settings: Satusehat, owner: str) -> bool:
    """Send the oldest due item; False when none was due."""
    claim = await outbox.claim(db, owner)
    if claim is None:
        return False
    size: int | None = None
    try:
        visit = await get_visit(db, claim.visit_id)
        assert visit is not None
        patient = await get_patient(db, visit.patient_id)
        encounter = from_visit(visit, patient, await _coded_formulary(db, visit.encounter_content),
                               await queue.encounter_location(db, visit.id))
        doctor = await fetch_one(db, "SELECT nik FROM users WHERE id = :id", {"id": encounter.practitioner_id})
        assert patient is not None and doctor is not None
        refs = Refs(settings.organization_id, settings.location_id,
                    await _ihs(db, client, "Patient", patient["nik"], "The patient"),
                    await _ihs(db, client, "Practitioner", doctor["nik"],
                               f"{DOCTOR.title()} {encounter.practitioner_name}"))
        system = encounter_identifier(settings.organization_id)
        if claim.attempts > 0:  # an earlier answer may have been lost after the platform stored it
            found = await client.find_encounter(refs.patient_ihs, system, encounter.id)
            if found:
                await outbox.accepted(db, claim, found, None)
                return True
        body = wire_bytes(checked(encounter, refs, utcnow()))
        size = len(body)
        reply = await client.post_bundle(body)
        if reply.status in (200, 201):
            await outbox.accepted(db, claim, encounter_id(reply.body) or "", size)
        elif is_duplicate(reply.body):
            found = await client.find_encounter(refs.patient_ihs, system, encounter.id)
            if found:
                await outbox.accepted(db, claim, found, size)
            else:
                await outbox.retry(db, claim, "duplicate: " + outcome_text(reply.body, reply.text), size)
        elif reply.status in RETRY_STATUSES or reply.status >= 500:
            await outbox.retry(db, claim, f"HTTP {reply.status}: {outcome_text(reply.body, reply.text)}", size)
        else:
            await outbox.refused(db, claim, outcome_text(reply.body, reply.text) or f"HTTP {reply.status}", size)
    except NotSendable as exc:
        await outbox.refused(db, claim, str(exc))
    except Wait as exc:
        await outbox.retry(db, claim, str(exc))
    except httpx2.HTTPError as exc:
        await outbox.retry(db, claim, f"{type(exc).__name__}: {exc}", size)
    except asyncio.CancelledError:
        await asyncio.shield(outbox.release(db, claim))
        raise
    return True


async def drain(db: Database, client: Client, settings: Satusehat, owner: str | None = None) -> int:
    """Send every item due now (the cron command); how many were handled."""
    owner = owner or f"cli-{uuid.uuid4().hex[:12]}"
    handled = 0
    while await send_one(db, client, settings, owner):
        handled += 1
    return handled


async def run_worker(db: Database, settings: Satusehat, idle: float = IDLE_SECONDS,
                     transport: httpx2.AsyncBaseTransport | None = None) -> None:
    """The worker inside `clinic serve`: sends while items are due, otherwise looks again every `idle` s."""
    owner = f"serve-{uuid.uuid4().hex[:12]}"
    client = Client(settings, transport)
    try:
        while True:
            try:
                if not await send_one(db, client, settings, owner):
                    await asyncio.sleep(idle)
            except asyncio.CancelledError:
                raise
            except Exception:  # the database away for a moment: log, wait, go on
                log.exception("SATUSEHAT sender")
                await asyncio.sleep(idle)
    finally:
        await client.close()


def age(since: dt.datetime) -> dt.timedelta:
    return utcnow() - since
