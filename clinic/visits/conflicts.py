"""A correction against the visit's latest revision, per SOAP field: what it changed, what merges, and the
fields in conflict as a page shows them (labels and values in the page's language)."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from clinic.fields import Fields
from clinic.i18n import get_locale, gettext
from clinic.outcome import FieldConflict
from clinic.rules.complaints import label as complaint_label
from clinic.rules.merge import last_changes
from clinic.rules.vitals import CONSCIOUSNESS, VITALS
from clinic.text import N_
from clinic.visits.records import Revision
from clinic.visits.validation import COMPLAINT_CODE, FIELD_LABELS, RX_COLUMNS, TEXT_FIELDS, VITAL_FIELDS

CONTENT = (*TEXT_FIELDS, COMPLAINT_CODE, *VITAL_FIELDS, "consciousness", "diagnoses", "prescriptions")
LABELS = FIELD_LABELS | {"diagnoses": FIELD_LABELS["diagnosis"], "prescriptions": N_("Prescriptions"),
                         "prescription": N_("Prescription notes (e.g. a compounded recipe)")}
ALIASES = {"diagnosis": "diagnoses"} | {f"rx_{col}": "prescriptions" for col in RX_COLUMNS}
UNITS = {spec.name: spec.unit for spec in VITALS}


def _number(value: Any) -> str:
    return format(Decimal(str(value)).normalize(), "f")


def comparable(content: dict[str, Any]) -> dict[str, Any]:
    """One revision's content in a form that compares equal when the note says the same: numbers as plain
    decimals, lists as JSON text, empty as None."""
    out: dict[str, Any] = {}
    for name in CONTENT:
        value = content.get(name)
        if name in VITAL_FIELDS and value not in (None, ""):
            value = _number(value)
        elif name in ("diagnoses", "prescriptions"):
            value = json.dumps(value or [], sort_keys=True, ensure_ascii=False) if value else None
        out[name] = value if value not in ("", None) else None
    return out


def changed_names(fields: Fields) -> list[str] | None:
    """The fields the correction says it changed (repeatable `changed`, content names or the form's), or
    None: then every field is compared with the base revision. `keep_<name>` = "theirs" drops one."""
    if "changed" not in fields.data:
        return None
    names = {ALIASES.get(name, name) for value in fields.getlist("changed") for name in value.split(",")}
    return [name for name in CONTENT if name in names and fields.get(f"keep_{name}") != "theirs"]


def form_fields(content: dict[str, Any]) -> dict[str, list[str]]:
    """A revision's content as the correction form sends it."""
    data: dict[str, list[str]] = {name: [content.get(name) or ""] for name in (*TEXT_FIELDS, COMPLAINT_CODE,
                                                                                  "consciousness")}
    for name in VITAL_FIELDS:
        data[name] = ["" if content.get(name) in (None, "") else _number(content[name])]
    data["diagnosis"] = list(content.get("diagnoses") or [])
    lines = content.get("prescriptions") or []
    for col in RX_COLUMNS:
        data[f"rx_{col}"] = [line.get(col, "") for line in lines]
    return data


def with_base(fields: Fields, base: dict[str, Any], names: list[str]) -> Fields:
    """The correction to validate: the changed fields as sent, every other one as the base revision had it."""
    base_form = form_fields(base)
    data = {key: list(values) for key, values in fields.data.items()}
    for key, values in base_form.items():
        if ALIASES.get(key, key) not in names:
            data[key] = values
    return Fields(data)


def display(name: str, value: Any) -> str:
    if value in (None, "", []):
        return "—"
    if name in VITAL_FIELDS:
        text = _number(value)
        return f"{text.replace('.', ',') if get_locale() == 'id' else text} {UNITS[name]}"
    if name == "consciousness":
        label = dict(CONSCIOUSNESS).get(value)
        return gettext(label) if label else str(value)
    if name == COMPLAINT_CODE:
        return complaint_label(value, get_locale())
    if name == "diagnoses":
        return ", ".join(value)
    if name == "prescriptions":
        return "; ".join(" ".join(line.get(col, "") for col in RX_COLUMNS if line.get(col)) for line in value)
    return str(value)


def field_conflicts(names: tuple[str, ...], revisions: list[Revision], mine: dict[str, Any]) -> list[FieldConflict]:
    """`revisions`: from the base revision on, the last one current; `mine`: the correction's clean values."""
    base, current = revisions[0].content, revisions[-1].content
    who = last_changes(((comparable(r.content), r) for r in revisions), names)
    out = []
    for name in names:
        revision = who.get(name)
        text = name in TEXT_FIELDS
        out.append(FieldConflict(
            field=name, label=gettext(LABELS[name]), base=display(name, base.get(name)),
            theirs=display(name, current.get(name)), mine=display(name, mine.get(name)),
            mine_value=mine.get(name) if text else "", changed_by=revision.author_name if revision else None,
            changed_at=revision.created_at if revision else None, editable=text, multiline=text))
    return out
