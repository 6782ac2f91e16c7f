"""The formulary's CSV (pure checks): a header row naming the columns `name`, `strength`, `form` and
`kfa_code` (any order; `name` required, the others may be absent or empty), then one medicine a row. Every bad
row is reported with its line number; a file with any bad row is imported not at all."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from clinic.i18n import _

COLUMNS = ("name", "strength", "form", "kfa_code")
LIMITS = {"name": 200, "strength": 100, "form": 100, "kfa_code": 40}
MAX_ROWS = 20_000
DISPENSE_STATUSES = ("full", "partial", "substituted")


@dataclass(frozen=True)
class Medicine:
    name: str
    strength: str
    form: str
    kfa_code: str

    @property
    def label(self) -> str:
        return " ".join(part for part in (self.name, self.strength, self.form) if part)


def parse_formulary(text: str) -> tuple[list[Medicine], list[tuple[int, str]]]:
    """The medicines of a CSV text, and its problems as (line number, message); no medicines when any."""
    text = text.lstrip("\ufeff")
    if not text.strip():
        return [], [(1, _("The file is empty."))]
    sample = text[:2048]
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(text), dialect)
    header = [cell.strip().lower() for cell in next(reader)]
    if "name" not in header:
        return [], [(1, _("The first line must name the columns: name, strength, form, kfa_code."))]
    unknown = [cell for cell in header if cell and cell not in COLUMNS]
    if unknown:
        return [], [(1, _("Unknown column: {names}.").format(names=", ".join(unknown)))]
    medicines, problems, seen = [], [], {}
    for row in reader:
        line = reader.line_num
        if not any(cell.strip() for cell in row):
            continue
        if len(row) > len(header):
            problems.append((line, _("More cells than the header has columns.")))
            continue
        values = {column: "" for column in COLUMNS}
        values.update({header[i]: cell.strip() for i, cell in enumerate(row) if header[i]})
        if not values["name"]:
            problems.append((line, _("The name is missing.")))
            continue
        too_long = [column for column in COLUMNS if len(values[column]) > LIMITS[column]]
        if too_long:
            problems.append((line, _("Too long: {names}.").format(names=", ".join(too_long))))
            continue
        if values["kfa_code"] and not values["kfa_code"].replace("-", "").isalnum():
            problems.append((line, _("The KFA code may hold only letters and digits.")))
            continue
        medicine = Medicine(**values)
        key = medicine.label.lower()
        if key in seen:
            problems.append((line, _("The same medicine as on line {line}.").format(line=seen[key])))
            continue
        seen[key] = line
        medicines.append(medicine)
        if len(medicines) > MAX_ROWS:
            return [], [(line, _("More than {count} medicines.").format(count=MAX_ROWS))]
    if not medicines and not problems:
        problems.append((1, _("The file holds no medicine.")))
    return ([] if problems else medicines), problems


def check_dispensing(status: str, note: str) -> dict[str, str]:
    errors = {}
    if status not in DISPENSE_STATUSES:
        errors["status"] = _("Choose how the prescription was dispensed.")
    elif status != "full" and not note.strip():
        errors["note"] = _("Say what was substituted or how much was given.")
    if len(note) > 1000:
        errors["note"] = _("The note is too long.")
    return errors
