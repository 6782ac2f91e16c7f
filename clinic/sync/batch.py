"""The valid creates of one /sync request (new patients, new visits: the high-volume kinds), written
together: one transaction, one multi-row statement per table (patients, their revisions, visits, their
first revisions, the access log), `ON CONFLICT DO NOTHING ... RETURNING id` telling which ids were new,
one commit.

Each item is checked before (clinic.patients.service.prepare_register, clinic.visits.service.prepare_visit:
the same checks as the single path, which also uses them). When the batch meets any stored id (a copy of
the same submission raced it, an id taken meanwhile) or fails for any other reason, nothing of it stays,
and the caller stores those items one by one through the single path, whose answers decide each case
exactly as before. The rows come from the same functions as the single path's (`patient_row`,
`revision_row`, `visit_row`, `access_row`): a column added there is written by both."""

from __future__ import annotations

import logging

from databases import Database

from clinic import audit
from clinic.db import Row, write_transaction
from clinic.feed import stamps
from clinic.outcome import Outcome
from clinic.patients import queries as patient_queries
from clinic.patients.service import NewPatient, after_writes
from clinic.visits import queries as visit_queries
from clinic.visits.service import NewVisit

log = logging.getLogger("clinic.sync")
Prepared = NewPatient | NewVisit


def access_row(new: Prepared) -> Row:
    if isinstance(new, NewPatient):
        return audit.access_row(new.user, "register", new.address, patient_id=new.id)
    return audit.access_row(new.user, "visit", new.address, patient_id=new.patient_id, visit_id=new.id)


async def write(db: Database, batch: list[Prepared]) -> list[Outcome] | None:
    """The outcomes of `batch`, in its order, all stored in one transaction; None when it was not stored
    (nothing of it was: the caller stores the items one by one)."""
    patients = [new for new in batch if isinstance(new, NewPatient)]
    visits = [new for new in batch if isinstance(new, NewVisit)]
    try:
        async with write_transaction(db):
            rows = await patient_queries.insert_patients(
                db, [(new.id, new.clean, new.user.id, new.registered_at) for new in patients]) if patients else []
            now = await visit_queries.insert_visits(
                db, [(new.id, new.patient_id, new.clean, new.user.id, new.care, (new.part, None)) for new in visits]
            ) if visits else None
            await audit.log_accesses(db, [access_row(new) for new in batch])
            # What the writes set going: duplicate flags (one check for all the registrations), the queue, SATUSEHAT.
            flagged = await after_writes(db, patients)  # the patients the new ones resemble: their entries change
            for visit in visits:
                await visit.after_write(db)
            # Last: the devices' change feed (clinic.db.stamp_changes).
            await stamps.changed_together(db, [new.id for new in patients] + flagged,
                                          [new.patient_id for new in visits], frozenset(new.id for new in patients))
    except Exception as exc:  # NotAllNew, a deadlock, a constraint: each item is tried on its own
        log.info("batch of %d not written together (%s: %s); storing its items one by one",
                 len(batch), type(exc).__name__, exc)
        return None
    stored = dict(zip((new.id for new in patients), rows, strict=True))
    return [new.stored(stored[new.id]) if isinstance(new, NewPatient) else new.stored(now)  # type: ignore[arg-type]
            for new in batch]
