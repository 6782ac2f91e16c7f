"""Marking a patient as changed for the devices' change feed (migration 0008): called as the last statement of
the write's transaction, see `clinic.db.stamp_changes`. Every write locks the patient's row before the
counter row, never the other way round (no deadlock between an identity edit and a visit of one patient)."""

from __future__ import annotations

from databases import Database

from clinic.db import execute, fetch_value, stamp_changes


async def identity_changed(db: Database, patient_id: str) -> None:
    """The patient's index entry (identity) changed: the next delta of every device carries it. The caller has
    just inserted or updated the row, so it holds the row's lock."""
    await stamp_changes(db, "change_number", [patient_id])


async def clinical_changed(db: Database, patient_id: str) -> None:
    """A visit of the patient was recorded or corrected: the clinicians' working sets carry it again."""
    await changed_together(db, [], [patient_id])


async def clinical_changed_of_visit(db: Database, visit_id: str) -> None:
    """A correction of a visit: its patient's working set entry changed."""
    patient_id = await fetch_value(db, "SELECT patient_id FROM visits WHERE id = :id", {"id": visit_id})
    if patient_id is not None:
        await clinical_changed(db, patient_id)


async def changed_together(db: Database, identities: list[str], clinical: list[str]) -> None:
    """The stamps of one write (a batch's or a single item's): the new or edited patients' index entries and
    the patients with new or corrected visits, each a change number of its own, taken last in the write's
    transaction in at most one statement per kind (and one to lock the visits' patients) whatever the batch's
    size. The write inserted or updated the identities' rows, so it holds their locks; the visits' patients
    are locked first here (PostgreSQL), before the counter row."""
    identities, clinical = list(dict.fromkeys(identities)), list(dict.fromkeys(clinical))
    if clinical:
        names = {f"p{i}": patient_id for i, patient_id in enumerate(clinical)}
        await execute(db, "UPDATE patients SET clinical_change = clinical_change "
                          f"WHERE id IN ({', '.join(':' + name for name in names)})", names)
    await stamp_changes(db, "change_number", identities)
    await stamp_changes(db, "clinical_change", clinical)
