"""BPJS Kesehatan (JKN-KIS) card numbers, and cleaning of typed digit strings."""

from __future__ import annotations

import re

from clinic.rules import Problem
from clinic.text import N_

# The card number's internal structure is unconfirmed: only its form is checked.
_BPJS_PATTERN = re.compile(r"[0-9]{13}")
# Whitespace (incl. no-break space) and the dashes people type between digit groups.
_SEPARATORS = re.compile(r"[\s\-\u2010\u2011\u2012\u2013\u2014]")


def normalize_digits(text: str) -> str:
    """Remove spaces and dashes, as typed in "0001 2345 67890" or "3201-0112-9000-0001"."""
    return _SEPARATORS.sub("", text)


def check_bpjs(number: str, *, field: str = "bpjs_number") -> list[Problem]:
    """An error unless the number is empty or exactly 13 digits (kept as text: leading zeros matter)."""
    if number == "" or _BPJS_PATTERN.fullmatch(number):
        return []
    return [Problem(field, N_("The BPJS card number must be exactly 13 digits."))]
