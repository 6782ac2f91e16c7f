"""Marking a patient as changed for the devices' change feed (migration 0008): called as the last statement of
the write's transaction, see `clinic.db.next_change_number`. Every write locks the patient's row before the
counter row, never the other way round (no deadlock between an identity edit and a visit of one patient)."""

from __future__ import annotations

from databases import Database

from clinic.db import execute, fetch_all, fetch_value, next_change_number, next_change_numbers


async def identities_changed(db: Database, patient_ids: list[str]) -> None:
    """Index entries of patients this write did not insert changed (a duplicate flag set or cleared, a merge):
    each row is locked, in id order, before the counter; then each takes its change number."""
    await changed_together(db, patient_ids, [])


async def identity_changed(db: Database, patient_id: str) -> None:
    """The patient's index entry (identity) changed: the next delta of every device carries it. The caller has
    just inserted or updated the row, so it holds the row's lock."""
    await execute(db, "UPDATE patients SET change_number = :n WHERE id = :id",
                  {"n": await next_change_number(db), "id": patient_id})


async def clinical_changed(db: Database, patient_id: str) -> None:
    """A visit of the patient was recorded or corrected: the clinicians' working sets carry it again (and the
    survivor's, when the patient was merged into another: its recent visits hold this one's)."""
    await changed_together(db, [], [patient_id])


async def clinical_changed_of_visit(db: Database, visit_id: str) -> None:
    """A correction of a visit: its patient's working set entry changed."""
    patient_id = await fetch_value(db, "SELECT patient_id FROM visits WHERE id = :id", {"id": visit_id})
    if patient_id is not None:
        await clinical_changed(db, patient_id)


async def changed_together(db: Database, identities: list[str], clinical: list[str]) -> None:
    """The batch write's stamps (clinic.sync.batch), as the single path's: the new patients' index entries and
    the patients with new visits, each a change number of its own, taken last in the batch's transaction in
    a few statements per kind whatever the batch's size. Every row is locked before the counter (the new
    patients' rows are the batch's own; those it flagged as possible duplicates and the visits' patients are
    not), as `clinical_changed` does."""
    if clinical:
        names = {f"p{i}": patient_id for i, patient_id in enumerate(clinical)}
        survivors = await fetch_all(db, f"""SELECT merged_into FROM patients WHERE merged_into IS NOT NULL
                                            AND id IN ({", ".join(":" + name for name in names)})""", names)
        clinical = [*clinical, *(row["merged_into"] for row in survivors)]
    for column, ids in (("change_number", sorted(set(identities))), ("clinical_change", sorted(set(clinical)))):
        if not ids:
            continue
        names = {f"p{i}": patient_id for i, patient_id in enumerate(ids)}
        listed = ", ".join(":" + name for name in names)
        await execute(db, f"UPDATE patients SET {column} = {column} WHERE id IN ({listed})", names)
        numbers = await next_change_numbers(db, len(ids))
        cases = " ".join(f"WHEN :{name} THEN CAST(:n{i} AS BIGINT)" for i, name in enumerate(names))
        await execute(db, f"UPDATE patients SET {column} = CASE id {cases} END WHERE id IN ({listed})",
                      names | {f"n{i}": number for i, number in enumerate(numbers)})
