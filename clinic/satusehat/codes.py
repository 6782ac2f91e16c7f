"""The ICD-10 codes SATUSEHAT accepts (version 2010): the app's one list, `clinic.rules.icd10`, which the
visit form validates against too. Kept as the names the mapping reads."""

from __future__ import annotations

from clinic.rules.icd10 import description, is_valid, satusehat_code


def is_2010(code: str) -> bool:
    return is_valid(code)


def title(code: str) -> str:
    """The English title of a 2010 code ('' when it is not one), sent as the coding's display."""
    return description(code)


__all__ = ["is_2010", "satusehat_code", "title"]
