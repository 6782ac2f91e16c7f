"""Calendar dates as people read and type them: one display format, two accepted input forms.

Pages, forms and prints show every date as DD-MM-YYYY, in both languages (the Indonesian habit, and
unambiguous in English too). Forms accept YYYY-MM-DD (what `<input type=date>` sends) and DD-MM-YYYY
(what people type where the browser offers a plain text field), see CONTRACT.md.
"""

from __future__ import annotations

import datetime as dt
import re

DISPLAY = "%d-%m-%Y"  # the one date format of every page, form and print
_ISO = re.compile(r"([0-9]{4})-([0-9]{1,2})-([0-9]{1,2})")
_DAY_FIRST = re.compile(r"([0-9]{1,2})-([0-9]{1,2})-([0-9]{4})")


def parse_date(text: str) -> dt.date | None:
    """The date typed as YYYY-MM-DD or DD-MM-YYYY (surrounding spaces ignored); None if it is neither
    or not a real date (30-02-1985)."""
    text = (text or "").strip()
    iso, day_first = _ISO.fullmatch(text), _DAY_FIRST.fullmatch(text)
    if iso:
        year, month, day = iso.groups()
    elif day_first:
        day, month, year = day_first.groups()
    else:
        return None
    try:
        return dt.date(int(year), int(month), int(day))
    except ValueError:
        return None


def format_date(value: dt.date | dt.datetime | str | None) -> str:
    """DD-MM-YYYY for a date (a datetime gives its own date: convert it to local time first); an ISO
    date string, as kept in JSON, is formatted too; anything else is shown as it is."""
    if value is None or value == "":
        return ""
    if isinstance(value, dt.date):
        return value.strftime(DISPLAY)
    parsed = parse_date(str(value)[:10]) if _ISO.match(str(value)) else None
    return parsed.strftime(DISPLAY) if parsed else str(value)
