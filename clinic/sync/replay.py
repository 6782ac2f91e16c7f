"""How each record target stores a submission replayed from a device: the same services as the HTML
forms, called with the target's path parameters. The route table (clinic.routes) names these."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Mapping

from databases import Database

from clinic.accounts.roles import CurrentUser
from clinic.fields import Fields
from clinic.outcome import Outcome
from clinic.patients import service as patients
from clinic.queue import service as queue
from clinic.readahead import ReadAhead
from clinic.visits import service as visits


async def register(db: Database, user: CurrentUser, params: dict[str, str], fields: Fields, address: str,
                   entered_at: dt.datetime | None) -> Outcome:
    # Offline, nobody could be asked to confirm a warning: the record is kept, the warnings returned.
    return await patients.register(db, user, fields, address, accept_warnings=True, possible_duplicates=False,
                                   entered_at=entered_at)


async def edit(db: Database, user: CurrentUser, params: dict[str, str], fields: Fields, address: str,
               entered_at: dt.datetime | None) -> Outcome:
    return await patients.edit(db, user, params["patient_id"], fields, address, accept_warnings=True)


async def visit(db: Database, user: CurrentUser, params: dict[str, str], fields: Fields, address: str,
                entered_at: dt.datetime | None) -> Outcome:
    return await visits.record(db, user, params["patient_id"], fields, address, entered_at)


async def correct(db: Database, user: CurrentUser, params: dict[str, str], fields: Fields, address: str,
                  entered_at: dt.datetime | None) -> Outcome:
    return await visits.correct(db, user, params["patient_id"], params["visit_id"], fields, address, entered_at)


async def check_in(db: Database, user: CurrentUser, params: dict[str, str], fields: Fields, address: str,
                   entered_at: dt.datetime | None) -> Outcome:
    return await queue.check_in(db, user, params["patient_id"], fields, address, entered_at)


async def continue_visit(db: Database, user: CurrentUser, params: dict[str, str], fields: Fields, address: str,
                         entered_at: dt.datetime | None) -> Outcome:
    return await visits.continue_encounter(db, user, params["patient_id"], params["visit_id"], fields, address,
                                           entered_at)


# The record targets whose creates /sync writes together (clinic.sync.batch): for each replay above, the
# same service's checks up to the write. `pending`: the registration times of the patients of the batch;
# `known`: what the request read ahead.
async def prepare_register(db: Database, user: CurrentUser, params: dict[str, str], fields: Fields, address: str,
                           entered_at: dt.datetime | None,
                           pending: Mapping[str, dt.datetime], known: ReadAhead) -> Outcome | patients.NewPatient:
    return await patients.prepare_register(db, user, fields, address, entered_at, known)


async def prepare_visit(db: Database, user: CurrentUser, params: dict[str, str], fields: Fields, address: str,
                        entered_at: dt.datetime | None,
                        pending: Mapping[str, dt.datetime], known: ReadAhead) -> Outcome | visits.NewVisit:
    return await visits.prepare_visit(db, user, params["patient_id"], fields, address, entered_at, pending, known)


Prepare = Callable[..., Awaitable["Outcome | patients.NewPatient | visits.NewVisit"]]
BATCHED: dict[Callable[..., Awaitable[Outcome]], Prepare] = {register: prepare_register, visit: prepare_visit}
