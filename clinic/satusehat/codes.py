"""The ICD-10 codes SATUSEHAT accepts: version 2010 (its terminology page: "SSP menggunakan ICD-10 versi
2010"), not the WHO 2019 list the visit form validated against until now. Pure lookups, no I/O beyond
reading the shipped list once.

`icd10_2010.tsv.gz` holds code and English title of `../shared/terminology/icd10-2010-satusehat.csv`
(seed data of the MIT-licensed ivanwilliammd/satusehat-integration project, which loads the Kemenkes list);
the machine-translated Indonesian column is left out on purpose (it has clinical errors).

The lead may repoint `satusehat_code` and `title` at `clinic.rules.icd10` once that module speaks 2010."""

from __future__ import annotations

import functools
import gzip
from pathlib import Path

LIST_FILE = Path(__file__).with_name("icd10_2010.tsv.gz")

# Codes of WHO 2019 whose 2010 code is certain (issue 13): dengue without and with warning signs / severe.
CERTAIN_2019_TO_2010 = {"A97.0": "A90", "A97.9": "A90", "A97.1": "A91", "A97.2": "A91"}


@functools.cache
def _titles() -> dict[str, str]:
    with gzip.open(LIST_FILE, "rt", encoding="utf-8") as lines:
        return dict(line.rstrip("\n").split("\t", 1) for line in lines if line.strip())


def is_2010(code: str) -> bool:
    return code in _titles()


def title(code: str) -> str:
    """The English title of a 2010 code ('' when it is not one), sent as the coding's display."""
    return _titles().get(code, "")


def satusehat_code(code: str) -> str | None:
    """The code to send for a stored diagnosis: itself when it is in the 2010 list, its certain 2010
    counterpart (A97.0 -> A90), else None: the encounter waits for a correction."""
    if is_2010(code):
        return code
    return CERTAIN_2019_TO_2010.get(code)
