"""ICD-10 diagnosis codes, version 2010 (the edition SATUSEHAT uses): normalising, validating,
describing and searching.

The list is `data/icd10-2010.tsv` (code and English title; see `data/README.md` for where it comes
from). Only its codes are diagnosis codes: categories (J45), subcategories (J45.9) and the fifth
characters the list carries (M54.06); chapters (X) and blocks (J40-J47) are not. Codes of other
editions (WHO 2019 dengue A97.x) are refused for new entries; `satusehat_code` says which stored
ones can be sent as they are or mapped with certainty.
"""

from __future__ import annotations

import bisect
import functools
import hashlib
import re
import unicodedata
from collections.abc import Iterator
from itertools import islice
from pathlib import Path
from typing import Any, NamedTuple

from clinic.rules import Problem
from clinic.text import N_

DATA_FILE = Path(__file__).resolve().parent / "data" / "icd10-2010.tsv"
EDITION = "2010"

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
    """The English title of the 2010 list; ValueError for a code that is not in it."""
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
    then the codes of curated Indonesian terms, then descriptions containing a word that starts with
    each query word, shortest first. static/icd10.js follows the same rules on the device."""
    query = text.strip()
    if query == "" or limit <= 0:
        return []
    index = _index()
    matches = _unique(_code_matches(index, normalize(query)), _local_matches(index, query),
                      _word_matches(index, query))
    return [(entry.code, entry.description) for entry in islice(matches, limit)]


# The list is in English; these are the words Indonesian primary care writes for its most common
# diagnoses, each pointing at codes of the 2010 list (dengue: A90 dengue fever, A91 dengue
# haemorrhagic fever, DBD). Curated by the project: they, not the list's machine-translated
# Indonesian column (which is not shipped), are what the app shows and searches in Indonesian.
LOCAL_TERMS: dict[str, tuple[str, ...]] = {
    "ispa": ("J06.9",), "infeksi saluran pernapasan atas": ("J06.9",), "batuk pilek": ("J00",),
    "common cold": ("J00",), "faringitis": ("J02.9",), "tonsilitis": ("J03.9",), "bronkitis": ("J20.9",),
    "pneumonia": ("J18.9",), "asma": ("J45.9",), "hipertensi": ("I10",), "darah tinggi": ("I10",),
    "diabetes melitus tipe 2": ("E11.9",), "kencing manis": ("E11.9",), "dm tipe 2": ("E11.9",),
    "diare": ("A09",), "gastroenteritis": ("A09",), "dispepsia": ("K30",), "maag": ("K30", "K29.7"),
    "gastritis": ("K29.7",), "tifoid": ("A01.0",), "tipes": ("A01.0",), "demam tifoid": ("A01.0",),
    "demam berdarah": ("A91", "A90"), "dbd": ("A91", "A90"), "demam berdarah dengue": ("A91",),
    "demam dengue": ("A90",), "dengue": ("A90", "A91"),
    "demam": ("R50.9",), "sakit kepala": ("R51",), "pusing": ("R42",), "vertigo": ("H81.1", "R42"),
    "mialgia": ("M79.1",), "pegal linu": ("M79.1",), "nyeri punggung bawah": ("M54.5",),
    "dermatitis": ("L30.9",), "gatal": ("L29.9",), "skabies": ("B86",), "kudis": ("B86",),
    "konjungtivitis": ("H10.9",), "sakit mata": ("H10.9",), "tuberkulosis paru": ("A15.0",), "tbc": ("A15.0",),
    "infeksi saluran kemih": ("N39.0",), "isk": ("N39.0",), "anemia": ("D64.9",), "karies gigi": ("K02.9",),
    "sakit gigi": ("K08.8",), "hamil": ("Z34.9",), "kehamilan normal": ("Z34.9",), "imunisasi": ("Z23.8",),
    "cacingan": ("B82.0",), "malaria": ("B54",), "varisela": ("B01.9",), "cacar air": ("B01.9",),
    "otitis media": ("H66.9",), "kolesterol tinggi": ("E78.0",), "hiperkolesterolemia": ("E78.0",),
    "asam urat": ("M10.9", "E79.0"), "gout": ("M10.9",), "luka": ("T14.1",), "luka robek": ("T14.1",),
    "wasir": ("I84.9",), "ambeien": ("I84.9",), "hemoroid": ("I84.9",),
}

# The project's Indonesian names of the codes above, shown instead of the English title on pages
# in Indonesian (the page's language decides; English pages show the list's title).
LOCAL_NAMES: dict[str, str] = {
    "J06.9": "Infeksi saluran pernapasan atas akut (ISPA)", "J00": "Nasofaringitis akut (batuk pilek)",
    "J02.9": "Faringitis akut", "J03.9": "Tonsilitis akut", "J20.9": "Bronkitis akut",
    "J18.9": "Pneumonia", "J45.9": "Asma", "I10": "Hipertensi esensial (primer)",
    "E11.9": "Diabetes melitus tipe 2 tanpa komplikasi", "A09": "Diare dan gastroenteritis (dugaan infeksi)",
    "K30": "Dispepsia", "K29.7": "Gastritis", "A01.0": "Demam tifoid",
    "A90": "Demam dengue", "A91": "Demam berdarah dengue (DBD)",
    "R50.9": "Demam", "R51": "Sakit kepala", "R42": "Pusing", "H81.1": "Vertigo posisional paroksismal jinak",
    "M79.1": "Mialgia (nyeri otot)", "M54.5": "Nyeri punggung bawah", "L30.9": "Dermatitis",
    "L29.9": "Gatal (pruritus)", "B86": "Skabies (kudis)", "H10.9": "Konjungtivitis",
    "A15.0": "Tuberkulosis paru, terkonfirmasi mikroskopis dahak", "N39.0": "Infeksi saluran kemih",
    "D64.9": "Anemia", "K02.9": "Karies gigi", "K08.8": "Gangguan gigi dan jaringan penyangga lain",
    "Z34.9": "Pemeriksaan kehamilan normal", "Z23.8": "Imunisasi terhadap penyakit bakteri lain",
    "B82.0": "Cacingan (helminthiasis usus)", "B54": "Malaria", "B01.9": "Varisela (cacar air)",
    "H66.9": "Otitis media", "E78.0": "Hiperkolesterolemia", "M10.9": "Gout (asam urat)",
    "E79.0": "Hiperurisemia tanpa artritis", "T14.1": "Luka terbuka", "I84.9": "Hemoroid (wasir)",
}

# Codes of other editions that the form refuses with a pointer to the 2010 codes to use instead.
REPLACEMENTS: dict[str, tuple[str, ...]] = {
    "A97": ("A90", "A91"), "A97.0": ("A90", "A91"), "A97.1": ("A90", "A91"), "A97.2": ("A90", "A91"),
    "A97.9": ("A90", "A91"),
}

# Stored codes of WHO 2019 that are sent to SATUSEHAT as a 2010 code because the mapping is certain:
# dengue without warning signs and unspecified dengue are dengue fever; with warning signs and severe
# dengue are dengue haemorrhagic fever.
_CERTAIN_MAPPINGS: dict[str, str] = {"A97.0": "A90", "A97.9": "A90", "A97.1": "A91", "A97.2": "A91"}


def label(code: str, lang: str = "en") -> str:
    """What to show beside a code in a page of language `lang`: the curated Indonesian name where
    there is one and the page is Indonesian, else the list's English title; empty for a code not in
    the 2010 list."""
    code = normalize(code)
    if lang == "id" and code in LOCAL_NAMES:
        return LOCAL_NAMES[code]
    return description(code)


def in_edition(code: str) -> bool:
    """False for a code stored before the 2010 list was used (e.g. WHO 2019 A97.0): shown flagged."""
    return is_valid(code)


def satusehat_code(code: str) -> str | None:
    """The code to send to SATUSEHAT for a stored diagnosis: the code itself when it is in the 2010
    list, its 2010 code where the mapping is certain (A97.0/A97.9 -> A90, A97.1/A97.2 -> A91), else
    None (the diagnosis waits for a correction)."""
    code = normalize(code)
    if is_valid(code):
        return code
    return _CERTAIN_MAPPINGS.get(code)


def replacements(code: str) -> tuple[str, ...]:
    """The 2010 codes to use instead of a code of another edition (empty when there is no hint)."""
    return REPLACEMENTS.get(normalize(code), ())


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
            problems.append(_not_a_code(field, code))
        seen.add(code)
        result.append(code)
    return result, problems


def _not_a_code(field: str, code: str) -> Problem:
    instead = replacements(code)
    if instead:
        return Problem(field, N_("{code} is not in ICD-10 version 2010, the edition SATUSEHAT uses: use {codes}."),
                       {"code": code, "codes": " / ".join(instead)})
    return Problem(field, N_("{code} is not an ICD-10 code."), {"code": code})


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


def _load() -> list[tuple[str, str]]:
    lines = DATA_FILE.read_text(encoding="utf-8").splitlines()[1:]  # the first line names the columns
    return [(code, title) for code, title in (line.split("\t", 1) for line in lines if line)]


@functools.cache
def _index() -> _Index:
    entries = [_Entry(code, title, " " + " ".join(_words(title))) for code, title in _load()]
    by_code = {entry.code: entry for entry in entries}
    by_rank = sorted(entries, key=lambda entry: (len(entry.description), entry.code))
    starts = [0]
    for entry in by_rank:
        starts.append(starts[-1] + len(entry.words) + 1)
    text = "".join(entry.words + "\n" for entry in by_rank)
    return _Index(sorted(by_code), by_code, by_rank, text, starts)


def device_data() -> dict[str, Any]:
    """Everything static/icd10.js needs to validate and suggest as this module does, offline."""
    index = _index()
    return {
        "edition": EDITION,
        "codes": [[code, index.by_code[code].description] for code in index.codes],
        "terms": [[term, list(codes)] for term, codes in LOCAL_TERMS.items()],
        "names": LOCAL_NAMES,
        "replacements": {code: list(codes) for code, codes in REPLACEMENTS.items()},
    }


SHARED_MIN = 3  # a shorter shared start is written out: its number would be as long


def packed_table(pairs: list[list[str]]) -> str:
    """The code list as the device receives it (a quarter smaller gzipped than [code, description] pairs; static/
    icd10.js `unpack` reads it back): one line per code, in the list's order, `code<TAB>shared<TAB>rest`. A
    subcode of the line before's category is written from its dot (".0"); the description is the number of
    leading characters it shares with the line before's (empty when under SHARED_MIN) and the rest. The
    descriptions are in the Basic Multilingual Plane, so a count of characters here is one in JavaScript."""
    lines: list[str] = []
    category, previous = "", ""
    for code, description in pairs:
        if "\t" in description or "\n" in description or any(ord(char) > 0xFFFF for char in description):
            raise ValueError(f"{code}: a description the packed table cannot carry")
        head = code.split(".")[0]
        written = code[len(head):] if head == category and code != head else code
        shared = 0
        while shared < min(len(previous), len(description)) and previous[shared] == description[shared]:
            shared += 1
        if shared < SHARED_MIN:
            shared = 0
        lines.append(f"{written}\t{shared or ''}\t{description[shared:]}")
        category, previous = head, description
    return "\n".join(lines)


@functools.cache
def device_json() -> str:
    import json  # only the device asset needs it

    data = device_data()
    data["table"] = packed_table(data.pop("codes"))
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


@functools.cache
def device_version() -> str:
    """Changes whenever the list, the curated terms or names change: the asset's URL carries it."""
    return hashlib.sha256(device_json().encode()).hexdigest()[:10]
