"""Reviewing possible duplicates: the open flags as groups of patients (the same person registered on three
tablets is one review entry, not three), and the decision that they are different people."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from databases import Database

from clinic import audit
from clinic.accounts.roles import CurrentUser
from clinic.db import Row, write_transaction
from clinic.duplicates import queries
from clinic.feed import stamps
from clinic.limits import AUDIT_DETAIL_CHARS


@dataclass
class Group:
    patients: list[dict[str, Any]] = field(default_factory=list)  # oldest No. RM first
    reasons: set[str] = field(default_factory=set)
    flagged_at: Any = None

    @property
    def ids(self) -> list[str]:
        return [p["id"] for p in self.patients]


def groups(flags: list[Row]) -> list[Group]:
    """Open flags joined into groups of patients that resemble one another (union of the pairs)."""
    parent: dict[str, str] = {}

    def root(key: str) -> str:
        while parent.setdefault(key, key) != key:
            parent[key] = parent[parent[key]]
            key = parent[key]
        return key

    people: dict[str, dict[str, Any]] = {}
    for row in flags:
        people[row["patient_id"]] = {"id": row["patient_id"], "record_number": row["a_number"],
                                     "name": row["a_name"], "birth_date": row["a_birth"], "nik": row["a_nik"]}
        people[row["other_id"]] = {"id": row["other_id"], "record_number": row["b_number"],
                                   "name": row["b_name"], "birth_date": row["b_birth"], "nik": row["b_nik"]}
        parent[root(row["patient_id"])] = root(row["other_id"])
    found: dict[str, Group] = {}
    for row in flags:  # oldest flag first: the groups come in the order they were first flagged
        group = found.setdefault(root(row["patient_id"]), Group(flagged_at=row["flagged_at"]))
        group.reasons.add(row["reason"])
    for key, person in people.items():
        found[root(key)].patients.append(person)
    for group in found.values():
        group.patients.sort(key=lambda p: p["record_number"])
    return list(found.values())


async def review_list(db: Database) -> list[Group]:
    return groups(await queries.open_flags(db))


async def not_duplicates(db: Database, user: CurrentUser, patient_ids: list[str], address: str) -> None:
    """These patients are different people: their open flags among each other are closed, and each
    decision is in the access log."""
    async with write_transaction(db):
        await queries.decide_not_duplicate(db, patient_ids, user.id)
        for patient_id in patient_ids:
            await audit.log_access(db, user, "not_duplicate", address, patient_id=patient_id)
        await stamps.identities_changed(db, patient_ids)  # last: the devices' flags go


async def merge(db: Database, user: CurrentUser, survivor_id: str, patient_ids: list[str], reason: str,
                address: str) -> list[str]:
    """Merge every one of `patient_ids` but the survivor into it, in one transaction; the ids merged (none
    when any of them could not be: an alias already, or the survivor of others)."""
    aliases = [pid for pid in dict.fromkeys(patient_ids) if pid != survivor_id]
    detail = reason[:AUDIT_DETAIL_CHARS]
    try:
        async with write_transaction(db):
            for alias_id in aliases:
                if not await queries.merge(db, survivor_id, alias_id, user.id, reason):
                    raise _NotMerged
                await audit.log_access(db, user, "merge", address, patient_id=alias_id, detail=detail)
            await audit.log_access(db, user, "merge", address, patient_id=survivor_id, detail=detail)
            await queries.close_flags(db, [survivor_id, *aliases], user.id, "merged")
            # Last: the devices' index sends each alias to the survivor, the survivor's recent visits gain theirs.
            await stamps.changed_together(db, [survivor_id, *aliases], [survivor_id, *aliases])
    except _NotMerged:
        return []
    return aliases


async def undo(db: Database, user: CurrentUser, survivor_id: str, alias_id: str, reason: str, address: str) -> bool:
    async with write_transaction(db):
        if not await queries.undo(db, survivor_id, alias_id, user.id, reason):
            return False
        for patient_id in (alias_id, survivor_id):
            await audit.log_access(db, user, "unmerge", address, patient_id=patient_id,
                                   detail=reason[:AUDIT_DETAIL_CHARS])
        await stamps.changed_together(db, [survivor_id, alias_id], [survivor_id, alias_id])  # last
    return True


class _NotMerged(Exception):
    pass
