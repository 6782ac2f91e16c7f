"""Marking a patient as changed for the devices' change feed (migration 0008): called as the last statement of
the write's transaction, see `clinic.db.next_change_number`. Every write locks the patient's row before the
counter row, never the other way round (no deadlock between an identity edit and a visit of one patient)."""

from __future__ import annotations

from databases import Database

from clinic.db import execute, fetch_value, next_change_number, next_change_numbers


async def identity_changed(db: Database, patient_id: str) -> None:
    """The patient's index entry (identity) changed: the next delta of every device carries it. The caller has
    just inserted or updated the row, so it holds the row's lock."""
    await execute(db, "UPDATE patients SET change_number = :n WHERE id = :id",
                  {"n": await next_change_number(db), "id": patient_id})


async def clinical_changed(db: Database, patient_id: str) -> None:
    """A visit of the patient was recorded or corrected: the clinicians' working sets carry it again."""
    # Lock the patient's row first (PostgreSQL), then take the number.
    await execute(db, "UPDATE patients SET clinical_change = clinical_change WHERE id = :id", {"id": patient_id})
    await execute(db, "UPDATE patients SET clinical_change = :n WHERE id = :id",
                  {"n": await next_change_number(db), "id": patient_id})


async def clinical_changed_of_visit(db: Database, visit_id: str) -> None:
    """A correction of a visit: its patient's working set entry changed."""
    patient_id = await fetch_value(db, "SELECT patient_id FROM visits WHERE id = :id", {"id": visit_id})
    if patient_id is not None:
        await clinical_changed(db, patient_id)


async def changed_together(db: Database, identities: list[str], clinical: list[str]) -> None:
    """The batch write's stamps (clinic.sync.batch), as the single path's: the new patients' index entries and
    the patients with new visits, each a change number of its own, taken last in the batch's transaction in
    two statements per kind whatever the batch's size. The batch inserted the new patients' rows, so it holds
    their locks; the visits' patients are locked first, as `clinical_changed` does."""
    for column, ids in (("change_number", list(dict.fromkeys(identities))),
                        ("clinical_change", list(dict.fromkeys(clinical)))):
        if not ids:
            continue
        names = {f"p{i}": patient_id for i, patient_id in enumerate(ids)}
        listed = ", ".join(":" + name for name in names)
        if column == "clinical_change":
            await execute(db, f"UPDATE patients SET clinical_change = clinical_change WHERE id IN ({listed})", names)
        numbers = await next_change_numbers(db, len(ids))
        # CAST: PostgreSQL types a bare parameter in CASE's THEN as text.
        cases = " ".join(f"WHEN :{name} THEN CAST(:n{i} AS bigint)" for i, name in enumerate(names))
        await execute(db, f"UPDATE patients SET {column} = CASE id {cases} END WHERE id IN ({listed})",
                      names | {f"n{i}": number for i, number in enumerate(numbers)})
