"""Marking a patient as changed for the devices' change feed (migration 0008): called as the last statement of
the write's transaction, see `clinic.db.stamp_changes`. Every write locks the patient's row before the
counter row, never the other way round (no deadlock between an identity edit and a visit of one patient)."""

from __future__ import annotations

from databases import Database

from clinic.db import among, fetch_all, fetch_value, listed, locking, stamp_changes, values_of


async def identities_changed(db: Database, patient_ids: list[str]) -> None:
    """Index entries of patients this write did not insert changed (a duplicate flag set or cleared, a merge):
    each row is locked before the counter; then each takes its change number."""
    await changed_together(db, patient_ids, [])


async def identity_changed(db: Database, patient_id: str) -> None:
    """The patient's index entry (identity) changed: the next delta of every device carries it. The caller has
    just inserted or updated the row, so it holds the row's lock."""
    await stamp_changes(db, [patient_id], [])


async def clinical_changed(db: Database, patient_id: str) -> None:
    """A visit of the patient was recorded or corrected: the clinicians' working sets carry it again (and the
    survivor's, when the patient was merged into another: its recent visits hold this one's)."""
    await changed_together(db, [], [patient_id])


async def clinical_changed_of_visit(db: Database, visit_id: str) -> None:
    """A correction of a visit: its patient's working set entry changed."""
    patient_id = await fetch_value(db, "SELECT patient_id FROM visits WHERE id = :id", {"id": visit_id})
    if patient_id is not None:
        await clinical_changed(db, patient_id)


# The rows a write stamps, locked in the order of their ids (two writers never wait for each other in a
# circle): the patients named, and the records the clinical ones were merged into. Each with the record it was
# merged into, read once it is locked.
LOCKED = """SELECT id, merged_into FROM patients WHERE id IN (
    {named}
    UNION SELECT merged_into FROM patients WHERE merged_into IS NOT NULL AND {clinical})
    ORDER BY id{locking}"""


async def changed_together(db: Database, identities: list[str], clinical: list[str],
                           inserted: frozenset[str] = frozenset()) -> None:
    """The stamps of one write (a batch's or a single item's): the patients' index entries (new, edited, flagged
    as possible duplicates, merged) and the patients with new or corrected visits (and the survivor of a merged
    one: its recent visits hold the merged record's), each a change number of its own, taken last in the write's
    transaction. Two statements whatever the batch's size: one locks every row first (and finds the
    survivors), so the counter row, taken by the second, is always the last lock taken. `inserted`: patients
    this transaction inserted, whose rows it holds already (and which no record was merged into): when it
    names only those, the first statement is left out (a registration's)."""
    identities, clinical = list(dict.fromkeys(identities)), list(dict.fromkeys(clinical))
    named = list(dict.fromkeys(identities + clinical))
    if not named:
        return
    if inserted.issuperset(named):
        await stamp_changes(db, identities, clinical)
        return
    sql = LOCKED.format(named=values_of(db, "ids"), clinical=among(db, "id", "clinical"), locking=locking(db))
    rows = await fetch_all(db, sql, {"ids": listed(db, named), "clinical": listed(db, clinical)})
    locked = {row["id"]: row["merged_into"] for row in rows}
    survivors = [locked[patient_id] for patient_id in clinical
                 if locked.get(patient_id) is not None and locked[patient_id] in locked]
    await stamp_changes(db, identities, list(dict.fromkeys(clinical + survivors)))
