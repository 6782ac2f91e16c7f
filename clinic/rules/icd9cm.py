"""ICD-9-CM procedure codes as SATUSEHAT uses them (`data/icd9cm.tsv`, see `data/README.md`):
normalising, validating, describing and searching. Pure: no I/O beyond reading the shipped list once."""

from __future__ import annotations

import functools
import re
from pathlib import Path

from clinic.rules.icd10 import _words

DATA_FILE = Path(__file__).resolve().parent / "data" / "icd9cm.tsv"
_UNDOTTED = re.compile(r"([0-9]{2})([0-9]{1,3})")


def normalize(code: str) -> str:
    """Strip and add the dot: " 8901 " -> "89.01"; "89.01" and "89" stay as they are."""
    code = code.strip().rstrip(".").rstrip()
    undotted = _UNDOTTED.fullmatch(code)
    return f"{undotted[1]}.{undotted[2]}" if undotted else code


def is_valid(code: str) -> bool:
    return normalize(code) in _titles()


def describe(code: str) -> str:
    """The English title; ValueError for a code not in the list."""
    title = _titles().get(normalize(code))
    if title is None:
        raise ValueError(f"{code!r} is not an ICD-9-CM code")
    return title


def description(code: str) -> str:
    return _titles().get(normalize(code), "")


def search(text: str, limit: int = 20) -> list[tuple[str, str]]:
    """The exact code and codes starting with the query in code order, then titles with a word starting
    with each query word, shortest first."""
    query = text.strip()
    if query == "" or limit <= 0:
        return []
    titles = _titles()
    prefix = normalize(query)
    found = [code for code in titles if code.startswith(prefix)] if prefix[:1].isdigit() else []
    words = _words(query)
    if words:
        by_words = sorted((code for code, title in titles.items() if code not in found
                           and all(any(w.startswith(q) for w in _words(title)) for q in words)),
                          key=lambda code: (len(titles[code]), code))
        found += by_words
    return [(code, titles[code]) for code in found[:limit]]


@functools.cache
def _titles() -> dict[str, str]:
    lines = DATA_FILE.read_text(encoding="utf-8").splitlines()[1:]
    return dict(sorted(line.split("\t", 1) for line in lines if line))
