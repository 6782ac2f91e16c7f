"""Property-based tests of the pure rules (NIK, BPJS, vital signs, ICD-10): they never raise on any text,
and what they accept and reject agrees with how the values are built."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from clinic.rules import ERROR, WARNING, Problem, errors, icd10
from clinic.rules.bpjs import check_bpjs, normalize_digits
from clinic.rules.nik import FEMALE_DAY_OFFSET, PROVINCE_CODES, check_nik, make_nik, parse_nik
from clinic.rules.vitals import CONSCIOUSNESS, CONSCIOUSNESS_FIELD, VITALS, check_vitals

# No example database: nothing is written into the repository.
FUZZ = settings(max_examples=300, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])

ASCII_DIGITS = "0123456789"
# Digits of other scripts that str.isdigit() and int() accept but the rules must not: Arabic-Indic,
# Devanagari, fullwidth, superscript, Thai.
FOREIGN_DIGITS = "\u0660\u0661\u0669\u0966\u0967\uff10\uff11\uff19\u00b2\u00b3\u0e51"
SEPARATORS = " -\u00a0\u2010\u2011\u2012\u2013\u2014\t"
SEXES = st.sampled_from(["male", "female"])

any_text = st.text()  # every code point but surrogates, NUL included
digit_soup = st.text(alphabet=ASCII_DIGITS + FOREIGN_DIGITS + SEPARATORS + ".,+-eE", max_size=40)


# --- NIK ----------------------------------------------------------------------------------------


@st.composite
def todays(draw: st.DrawFn) -> dt.date:
    return draw(st.dates(min_value=dt.date(2001, 1, 1), max_value=dt.date(2090, 12, 31)))


@st.composite
def valid_nik_parts(draw: st.DrawFn) -> tuple[str, str, str, dt.date, str, int, dt.date]:
    """Parts of a NIK that check_nik must accept, and the `today` it is checked on: a birth date in the
    99 years up to today (a two-digit year is read as the latest such year not after today)."""
    today = draw(todays())
    born = draw(st.dates(min_value=dt.date(today.year - 99, 1, 1), max_value=today))
    two_digits = st.integers(1, 99).map(lambda n: f"{n:02d}")
    return (
        draw(st.sampled_from(sorted(PROVINCE_CODES))),
        draw(two_digits),
        draw(two_digits),
        born,
        draw(SEXES),
        draw(st.integers(1, 9999)),
        today,
    )


@FUZZ
@given(
    nik=st.one_of(any_text, digit_soup, st.text(ASCII_DIGITS, min_size=14, max_size=18)),
    birth_date=st.none() | st.dates(),
    sex=st.none() | SEXES | any_text,
    today=st.none() | st.dates(),
)
@example(nik="\u0661" * 16, birth_date=None, sex=None, today=None)
@example(nik="3273104403900004\n", birth_date=None, sex=None, today=None)
def test_check_nik_never_raises_and_answers_problems(
    nik: str, birth_date: dt.date | None, sex: str | None, today: dt.date | None
) -> None:
    problems = check_nik(nik, birth_date=birth_date, sex=sex, today=today)
    assert all(isinstance(p, Problem) and p.field == "nik" for p in problems)
    assert all(p.severity in (ERROR, WARNING) for p in problems)
    if nik == "":
        assert problems == []
    elif not (len(nik) == 16 and all(c in ASCII_DIGITS for c in nik)):
        # Only 16 ASCII digits are a NIK: no other script's digits, no trailing newline.
        assert [p.severity for p in problems] == [ERROR]
        assert parse_nik(nik) is None


@FUZZ
@given(nik=st.text(ASCII_DIGITS, min_size=16, max_size=16), today=todays())
@example(nik="3273102902000004", today=dt.date(2026, 1, 1))  # 29 Feb 2000
@example(nik="3273106902960004", today=dt.date(2026, 1, 1))  # a woman born 29 Feb 1996
@example(nik="3273102902970004", today=dt.date(2026, 1, 1))  # 29 Feb 1997 does not exist
def test_sixteen_digits_are_an_error_or_a_parse_that_round_trips(nik: str, today: dt.date) -> None:
    problems = check_nik(nik, today=today)
    info = parse_nik(nik, today=today)
    if errors(problems):
        return
    assert problems == []  # no birth date or sex given: nothing to disagree with
    assert info is not None
    assert info.birth_date <= today
    assert (
        make_nik(info.province, info.regency, info.district, info.birth_date, info.sex, int(info.serial))
        == nik
    )


@FUZZ
@given(parts=valid_nik_parts())
def test_a_nik_made_from_valid_parts_passes(parts: tuple[str, str, str, dt.date, str, int, dt.date]) -> None:
    province, regency, district, born, sex, serial, today = parts
    nik = make_nik(province, regency, district, born, sex, serial)
    assert len(nik) == 16 and nik.isascii() and nik.isdigit()
    assert check_nik(nik, today=today) == []
    assert check_nik(nik, birth_date=born, sex=sex, today=today) == []
    info = parse_nik(nik, today=today)
    assert info is not None
    assert (info.province, info.regency, info.district, info.birth_date, info.sex, info.serial) == (
        province,
        regency,
        district,
        born,
        sex,
        f"{serial:04d}",
    )


@FUZZ
@given(parts=valid_nik_parts())
def test_women_add_forty_to_the_day(parts: tuple[str, str, str, dt.date, str, int, dt.date]) -> None:
    province, regency, district, born, sex, serial, today = parts
    nik = make_nik(province, regency, district, born, sex, serial)
    day = int(nik[6:8])
    if sex == "female":
        assert day == born.day + FEMALE_DAY_OFFSET and 41 <= day <= 71
    else:
        assert day == born.day and 1 <= day <= 31
    # The same digits with the other sex entered: a warning about the sex, never an error.
    other = "male" if sex == "female" else "female"
    problems = check_nik(nik, birth_date=born, sex=other, today=today)
    assert [p.severity for p in problems] == [WARNING]
    assert ("woman" if sex == "female" else "man") in problems[0].message
    # Another birth date entered: a warning too (NIKs are not reissued when a date is corrected).
    problems = check_nik(nik, birth_date=born - dt.timedelta(days=1), sex=sex, today=today)
    assert [p.severity for p in problems] == [WARNING]


@FUZZ
@given(
    day=st.integers(32, 40) | st.integers(72, 99) | st.just(0),
    month=st.integers(0, 99),
    yy=st.integers(0, 99),
    today=todays(),
)
def test_days_that_are_neither_a_man_s_nor_a_woman_s_are_an_error(
    day: int, month: int, yy: int, today: dt.date
) -> None:
    nik = f"327310{day:02d}{month:02d}{yy:02d}0004"
    assert parse_nik(nik, today=today) is None
    assert errors(check_nik(nik, today=today))


# --- BPJS ---------------------------------------------------------------------------------------


@FUZZ
@given(text=st.one_of(any_text, digit_soup, st.text(ASCII_DIGITS, min_size=12, max_size=14)))
@example(text="\u0661" * 13)
@example(text="0001234567890\n")
def test_check_bpjs_never_raises_and_accepts_exactly_thirteen_ascii_digits(text: str) -> None:
    problems = check_bpjs(text)
    accepted = text == "" or (len(text) == 13 and all(c in ASCII_DIGITS for c in text))
    assert (problems == []) == accepted
    assert all(p.severity == ERROR and p.field == "bpjs_number" for p in problems)


@FUZZ
@given(text=st.one_of(any_text, digit_soup))
def test_normalize_digits_removes_every_separator_and_is_idempotent(text: str) -> None:
    cleaned = normalize_digits(text)
    assert not any(c.isspace() or c in SEPARATORS for c in cleaned)
    assert normalize_digits(cleaned) == cleaned


@FUZZ
@given(
    digits=st.text(ASCII_DIGITS, min_size=13, max_size=13),
    separators=st.lists(st.text(SEPARATORS, max_size=2), min_size=14, max_size=14),
)
def test_a_card_number_typed_with_spaces_and_dashes_is_accepted(digits: str, separators: list[str]) -> None:
    typed = "".join(sep + digit for sep, digit in zip(separators, digits + " ", strict=True)).strip()
    assert check_bpjs(normalize_digits(typed)) == []


# --- Vital signs --------------------------------------------------------------------------------

NUMERIC = [spec.name for spec in VITALS]
SPECS = {spec.name: spec for spec in VITALS}
# Above 28 significant digits Decimal.quantize() overflows the default context (see the known-bug test
# below); until clinic/rules/vitals.py handles that, generated numbers stay below it.
MAX_DIGITS = 25


@st.composite
def number_like(draw: st.DrawFn) -> str:
    """Text that looks like a measurement, or nearly: signs, both decimal separators, exponents,
    other scripts' digits, thousands separators, spaces."""
    whole = draw(st.text(ASCII_DIGITS, max_size=MAX_DIGITS - 3))
    fraction = draw(st.text(ASCII_DIGITS, max_size=3))
    point = draw(st.sampled_from(["", ".", ",", "..", ",,"]))
    sign = draw(st.sampled_from(["", "-", "+", "--", "\u2212"]))
    suffix = draw(st.sampled_from(["", "", "", "e3", "E-2", "%", " mmHg", "°", "\u00a0"]))
    pad = draw(st.sampled_from(["", " ", "\t", "\n", "\u3000"]))
    return pad + sign + whole + point + fraction + suffix + pad


vital_text = st.one_of(
    st.just(""),
    number_like(),
    st.decimals(min_value=-1000, max_value=1000, places=2, allow_nan=False).map(str),
    st.integers(-(10**20), 10**20).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(str),
    st.sampled_from(
        [
            "1e309",
            "nan",
            "NaN",
            "-nan",
            "inf",
            "-Infinity",
            "-0",
            "+0",
            "0",
            "-0.0",
            "1,000",
            "1.000,5",
            "36,5",
            "36.55",
            "36.5.5",
            "120.",
            ".5",
            ",5",
            "0x78",
            "1_20",
            "١٢٠",
            "\uff11\uff12\uff10",
            "¹²⁰",
            "12\u00b2",
            " 120 ",
            "120\x00",
            "12 0",
            "sNaN",
            "Infinity",
        ]
    ),
    st.text(alphabet=ASCII_DIGITS + FOREIGN_DIGITS + SEPARATORS + ".,+-eE", max_size=MAX_DIGITS),
    any_text,
)
consciousness_text = st.one_of(
    st.sampled_from([key for key, _ in CONSCIOUSNESS]),
    st.just(""),
    any_text,
    st.sampled_from([" compos_mentis ", "COMPOS_MENTIS", "Compos mentis"]),
)
vital_forms = st.fixed_dictionaries(
    {}, optional={name: vital_text for name in NUMERIC} | {CONSCIOUSNESS_FIELD: consciousness_text}
)


@FUZZ
@given(form=vital_forms)
@example(
    form={"systolic": "1e309", "diastolic": "nan", "pulse": "-0", "temperature": "36,55", "weight": "1,000"}
)
@example(form={"systolic": "120", "diastolic": "120"})
@example(form={"systolic": "90", "diastolic": "95.4"})
def test_check_vitals_never_raises_and_keeps_only_possible_values(form: dict[str, str]) -> None:
    values, problems = check_vitals(form)
    assert set(values) == {*NUMERIC, CONSCIOUSNESS_FIELD}
    for name in NUMERIC:
        value = values[name]
        if value is not None:
            spec = SPECS[name]
            assert isinstance(value, Decimal) and value.is_finite()
            assert spec.possible_min <= value <= spec.possible_max, (name, value)
            assert value == value.quantize(Decimal(1).scaleb(-spec.decimals))
    assert values[CONSCIOUSNESS_FIELD] in (None, *(key for key, _ in CONSCIOUSNESS))
    # An error exists for a field exactly when its text is not blank and no value was kept.
    for name in (*NUMERIC, CONSCIOUSNESS_FIELD):
        has_error = any(p.field == name and p.severity == ERROR for p in problems)
        rejected = form.get(name, "").strip() != "" and values[name] is None
        assert has_error == rejected, (name, form.get(name), values[name], problems)
    assert {p.field for p in problems} <= {*NUMERIC, CONSCIOUSNESS_FIELD}
    if values["systolic"] is not None and values["diastolic"] is not None:
        assert values["diastolic"] < values["systolic"]


@FUZZ
@given(name=st.sampled_from(NUMERIC), data=st.data())
def test_a_possible_value_typed_in_any_accepted_way_is_kept(name: str, data: st.DataObject) -> None:
    spec = SPECS[name]
    value = data.draw(
        st.decimals(
            min_value=spec.possible_min,
            max_value=spec.possible_max,
            places=spec.decimals,
            allow_nan=False,
            allow_infinity=False,
        )
    )
    text = format(value, "f")
    text = data.draw(st.sampled_from([text, text.replace(".", ","), f"  {text}\t"]))
    values, problems = check_vitals({name: text})
    assert values[name] == value
    assert not errors(problems)


@given(digits=st.integers(27, 60), name=st.sampled_from(["systolic", "temperature"]))
@settings(max_examples=10, deadline=None, database=None)
def test_vitals_overlong_number_with_too_many_decimals_is_an_error(digits: int, name: str) -> None:
    values, problems = check_vitals({name: "1" * digits + ".55"})
    assert values[name] is None and errors(problems)


# --- ICD-10 -------------------------------------------------------------------------------------

code_like = st.builds(
    lambda letter, rest, dot, tail, pad: pad + letter + rest + dot + tail + pad,
    st.sampled_from("ABCJKRZUabjz\u0130\u0131\u00df"),
    st.text("0123456789AX", max_size=3),
    st.sampled_from(["", ".", "..", " ."]),
    st.text("0123456789", max_size=3),
    st.sampled_from(["", " ", "\t", "\u00a0"]),
)
icd_text = st.one_of(
    code_like,
    any_text,
    st.sampled_from(
        ["asthma", "Ménière", "demam", "J45", "j459", "B18.00", "tuberculosis of lung", "a", "ß", "İ", "ﬁ"]
    ),
)


@FUZZ
@given(text=icd_text, limit=st.integers(-3, 40))
def test_icd10_never_raises_and_search_gives_only_valid_codes(text: str, limit: int) -> None:
    normalized = icd10.normalize(text)
    assert isinstance(normalized, str)
    valid = icd10.is_valid(text)
    if valid:
        assert icd10.describe(text)
    else:
        with pytest.raises(ValueError):
            icd10.describe(text)
    results = icd10.search(text, limit=limit)
    assert len(results) <= max(limit, 0)
    codes = [code for code, _ in results]
    assert len(codes) == len(set(codes))
    for code, description in results:
        assert icd10.is_valid(code) and icd10.normalize(code) == code
        assert icd10.describe(code) == description
    if valid and limit > 0:
        assert results[0][0] == normalized  # the exact code comes first


@FUZZ
@given(index=st.integers(0, 20_000), variant=st.sampled_from(["lower", "undotted", "padded", "trailing_dot"]))
def test_every_valid_code_is_recognised_however_it_is_typed(index: int, variant: str) -> None:
    codes = icd10._index().codes
    code = codes[index % len(codes)]
    typed = {
        "lower": code.lower(),
        "undotted": code.replace(".", ""),
        "padded": f"  {code}\t",
        "trailing_dot": code + ".",
    }[variant]
    assert icd10.normalize(typed) == code
    assert icd10.is_valid(typed)


@FUZZ
@given(codes=st.lists(icd_text, max_size=15))
def test_check_diagnoses_never_raises(codes: list[str]) -> None:
    result, problems = icd10.check_diagnoses(codes)
    assert len(result) == len(set(result))
    assert all(code and code == code.upper() and not code.endswith(".") for code in result)
    invalid = [code for code in result if not icd10.is_valid(code)]
    assert {p.params["code"] for p in problems if "not an ICD-10" in p.message} == set(invalid)
    assert all(p.severity == ERROR for p in problems)


def test_icd10_space_before_trailing_dot() -> None:
    assert icd10.normalize("J45 .") == "J45"
