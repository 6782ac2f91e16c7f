"""An identity edit against the current version: what it changed, what merges, and the fields in conflict
as a page shows them (labels and values in the page's language)."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from clinic.fields import Fields
from clinic.i18n import gettext
from clinic.outcome import FieldConflict
from clinic.patients.validation import CHOICES, FIELD_LABELS, PATIENT_FIELDS, allergy_list, label_of
from clinic.rules.merge import last_changes
from clinic.text import N_

FREE_TEXT = ("name", "nik", "bpjs_number", "phone", "address", "occupation", "mother_nik")
# What an identity edit may change and a merge compares: the identity fields and the allergies.
ALLERGY_FIELDS = ("allergies", "no_known_allergy")
MERGED_FIELDS = (*PATIENT_FIELDS, *ALLERGY_FIELDS)
LABEL_OF = {"allergies": "allergy_substance"}  # the form's field that carries the pairs


def _allergies(value: Any) -> str | None:
    """Allergy pairs in one comparable form (stored JSON text, a revision's list or a validated list)."""
    pairs = allergy_list(value)
    return json.dumps(pairs, ensure_ascii=False, sort_keys=True) if pairs else None


def stored_values(row: dict[str, Any]) -> dict[str, Any]:
    """A stored patient's editable values as validation gives them (the target an edit's changes go onto)."""
    values = {name: row[name] for name in PATIENT_FIELDS}
    values.update(allergies=allergy_list(row.get("allergies")), no_known_allergy=bool(row.get("no_known_allergy")))
    return values


def comparable(values: dict[str, Any]) -> dict[str, Any]:
    """Identity values as revisions store them (patient_revisions.data): text, dates as YYYY-MM-DD, None
    for empty."""
    out: dict[str, Any] = {}
    for name in PATIENT_FIELDS:
        value = values.get(name)
        if isinstance(value, dt.date):
            value = value.isoformat()
        out[name] = value if value not in ("", None) else None
    out["allergies"] = _allergies(values.get("allergies"))
    out["no_known_allergy"] = True if values.get("no_known_allergy") else None
    return out


def changed_names(fields: Fields) -> list[str] | None:
    """The fields the user says they changed (the repeatable `changed` field), or None when the submission
    does not say: then every field is compared with the base version."""
    if "changed" not in fields.data:
        return None
    names = {name for value in fields.getlist("changed") for name in value.split(",")}
    # Resolving a conflict: a field whose `keep_<name>` is "theirs" stays as stored.
    return [name for name in MERGED_FIELDS if name in names and fields.get(f"keep_{name}") != "theirs"]


def with_base(fields: Fields, base: dict[str, Any], names: list[str]) -> Fields:
    """The submission to validate: the changed fields as sent, every other field as the base version had
    it (a device may send only what it changed)."""
    data = {key: list(values) for key, values in fields.data.items() if key not in PATIENT_FIELDS}
    for name in PATIENT_FIELDS:
        if name in names:
            data[name] = fields.data.get(name, [""])
        else:
            data[name] = [base.get(name) or ""]
    if "allergies" not in names:
        pairs = allergy_list(base.get("allergies"))
        data["allergy_substance"] = [pair["substance"] for pair in pairs]
        data["allergy_reaction"] = [pair.get("reaction") or "" for pair in pairs]
    if "no_known_allergy" not in names:
        data["no_known_allergy"] = ["yes"] if base.get("no_known_allergy") else []
    return Fields(data)


def display(name: str, value: Any) -> str:
    if value in (None, ""):
        return "—"
    if name == "allergies":
        return "; ".join(f"{p['substance']} ({p['reaction']})" if p.get("reaction") else p["substance"]
                         for p in allergy_list(value)) or "—"
    if name == "no_known_allergy":
        return gettext(N_("Yes, none known"))
    if name in CHOICES:
        label = label_of(CHOICES[name], value)
        return gettext(label) if label else str(value)
    if name == "birth_date":
        return dt.date.fromisoformat(str(value)).strftime("%d-%m-%Y")
    return str(value)


def field_conflicts(names: tuple[str, ...], base: dict[str, Any], versions: list[dict[str, Any]],
                    mine: dict[str, Any]) -> list[FieldConflict]:
    """`versions`: the stored versions from the base on (queries.versions_since), the last one current."""
    current = versions[-1]["data"]
    who = last_changes(((row["data"], row) for row in versions), names)
    out = []
    for name in names:
        row = who.get(name)
        out.append(FieldConflict(
            field=name, label=gettext(FIELD_LABELS[LABEL_OF.get(name, name)]), base=display(name, base.get(name)),
            theirs=display(name, current.get(name)), mine=display(name, mine.get(name)),
            mine_value=(mine.get(name) or "") if name in FREE_TEXT else "",
            changed_by=row["changed_by_name"] if row else None, changed_at=row["changed_at"] if row else None,
            editable=name in FREE_TEXT,
            multiline=name == "address"))
    return out
