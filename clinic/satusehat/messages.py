"""SATUSEHAT's refusals and the sender's own reasons, translated for the administrator where the message
is known; the platform's own words are always shown beside the translation."""

from __future__ import annotations

import re

from clinic.i18n import _
from clinic.text import N_

# (pattern in the stored message, what it means and how to fix it), first match wins.
KNOWN = (
    (re.compile(r"code not found|not in the 2010 list", re.I),
     N_("A diagnosis code is not in SATUSEHAT's list (ICD-10 version 2010): correct the visit's diagnosis.")),
    (re.compile(r"in the future", re.I),
     N_("A time of the visit lies in the future: check the device's clock, then correct the visit.")),
    (re.compile(r"YYYY-MM-DD|datetime", re.I), N_("A date or time is not in the format SATUSEHAT requires.")),
    (re.compile(r"has no NIK", re.I),
     N_("The patient or the doctor has no NIK: add it (patient identity, or the doctor's practitioner NIK).")),
    (re.compile(r"not known to SATUSEHAT", re.I),
     N_("SATUSEHAT knows no one with this NIK: check the NIK of the patient or of the doctor.")),
    (re.compile(r"Location/\S+ not found", re.I),
     N_("SATUSEHAT does not know the poli's Location id: check the settings.")),
    (re.compile(r"required|missing", re.I), N_("SATUSEHAT misses a required part of the visit.")),
    (re.compile(r"^HTTP (408|429|5\d\d)|Error:|timed? ?out", re.I),
     N_("SATUSEHAT could not be reached or was busy: it is tried again automatically.")),
)


def explain(message: str | None) -> str:
    """The translated meaning of a stored message ('' when none is known)."""
    for pattern, meaning in KNOWN:
        if message and pattern.search(message):
            return _(meaning)
    return ""
