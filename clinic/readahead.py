"""What a /sync request reads ahead for the items it is about to check: the patients and the visits' ids
they name, both in one round trip (clinic.db.fetch_sets, one text for any number of ids: clinic.db.among)
instead of one or two per item. The checks ask it as they would ask the database (`patient`,
`stored_under`); an id it did not read is read then. The caller forgets it once the request has written
anything, so no check sees what was true before its own request's writes. With the patients it reads which
of them have a check-in today: a visit of a patient who has none has no queue to move on, and its write
skips that statement."""

from __future__ import annotations

from collections.abc import Iterable

from databases import Database

from clinic.db import Row, among, fetch_sets, listed
from clinic.patients import queries as patients
from clinic.queue import queries as queue
from clinic.visits import queries as visits

# What `stored_under` answers (clinic.visits.queries), kept for each id read ahead.
STORED_KEYS = ("visit_id", "patient_id", "author_id", "revision", "encounter_id")


# The patients read ahead, each with whether it has a check-in today.
PATIENTS = (f"SELECT {patients.COLUMNS}, EXISTS (SELECT 1 FROM checkins c WHERE c.patient_id = patients.id "
            "AND c.day = :today) AS checked_in FROM patients WHERE {ids}")


class ReadAhead:
    def __init__(self) -> None:
        self.patients: dict[str, Row | None] = {}
        self.stored: dict[str, Row | None] = {}
        self.not_checked_in: set[str] = set()  # patients read ahead with no check-in today

    async def read(self, db: Database, patient_ids: Iterable[str], record_ids: Iterable[str]) -> None:
        """Reads the patients named by `patient_ids` and what the visits' ids `record_ids` name (no statement
        for an empty list)."""
        self.patients = dict.fromkeys(sorted(set(patient_ids)))
        self.stored = dict.fromkeys(sorted(set(record_ids)))
        self.not_checked_in = set()
        if not self.patients and not self.stored:
            return
        # Both reads in one round trip; a read with no id to read is left out (its text unplanned for nothing).
        reads = ([PATIENTS.format(ids=among(db, "id", "patients"))] if self.patients else []) + (
            [visits.STORED_UNDER.format(revisions_among=among(db, "r.id", "records"),
                                        visits_among=among(db, "id", "records"))] if self.stored else [])
        found = await fetch_sets(db, reads, {"patients": listed(db, self.patients), "records": listed(db, self.stored),
                                             "today": queue.today()})
        for row in found[0] if self.patients else []:
            if not row.pop("checked_in"):
                self.not_checked_in.add(row["id"])
            self.patients[row["id"]] = row
        for row in found[-1] if self.stored else []:
            known = self.stored.get(row["record_id"])
            if known is None or int(row["revision"]) > int(known["revision"]):
                self.stored[row["record_id"]] = {key: row[key] for key in STORED_KEYS}

    def forget(self) -> None:
        self.patients.clear()
        self.stored.clear()
        self.not_checked_in.clear()

    def may_be_checked_in(self, patient_id: str) -> bool:
        """False only for a patient read ahead without a check-in today (the queue's day, as `queue.today`)."""
        return patient_id not in self.not_checked_in

    async def patient(self, db: Database, patient_id: str) -> Row | None:
        if patient_id in self.patients:
            return self.patients[patient_id]
        return await patients.get_patient(db, patient_id)

    async def stored_under(self, db: Database, record_id: str) -> Row | None:
        if record_id in self.stored:
            return self.stored[record_id]
        return await visits.stored_under(db, record_id)

