"""NIK (Nomor Induk Kependudukan), the 16-digit national identity number.

Layout: PP KK DD ddmmyy SSSS = province, regency/city, district (of first registration), birth date
(women add 40 to the day), serial from 0001.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from clinic.rules import WARNING, Problem
from clinic.rules.clock import facility_today
from clinic.rules.dates import format_date
from clinic.text import N_

# Kemendagri province codes: the 34 provinces plus the four Papua provinces of 2022
# (93 Papua Selatan, 94 Papua Tengah, 95 Papua Pegunungan, 96 Papua Barat Daya).
PROVINCE_CODES: frozenset[str] = frozenset(
    """
    11 12 13 14 15 16 17 18 19 21
    31 32 33 34 35 36
    51 52 53
    61 62 63 64 65
    71 72 73 74 75 76
    81 82
    91 92 93 94 95 96
    """.split()
)

FEMALE_DAY_OFFSET = 40
_NIK_PATTERN = re.compile(r"[0-9]{16}")


@dataclass(frozen=True)
class NikInfo:
    province: str
    regency: str
    district: str
    birth_date: date
    sex: str  # "male" or "female"
    serial: str  # four digits, leading zeros kept


def parse_nik(nik: str, *, today: date | None = None) -> NikInfo | None:
    """Split a NIK into its parts, or None unless it is 16 digits holding a real birth date.

    Region codes and the serial are not judged here: check_nik() does that.
    """
    if not _NIK_PATTERN.fullmatch(nik):
        return None
    day, month, yy = int(nik[6:8]), int(nik[8:10]), int(nik[10:12])
    sex = "female" if day > FEMALE_DAY_OFFSET else "male"
    if sex == "female":
        day -= FEMALE_DAY_OFFSET
    birth_date = _resolve_birth_date(day, month, yy, today or facility_today())
    if birth_date is None:
        return None
    return NikInfo(nik[0:2], nik[2:4], nik[4:6], birth_date, sex, nik[12:16])


def _resolve_birth_date(day: int, month: int, yy: int, today: date) -> date | None:
    """The latest real date with this two-digit year that is not after `today`.

    The previous century is tried too, so 29-02-00 is a birth date (2000 was a leap year) and so is
    29-02-96 (1996), while 29-02-97 is not.
    """
    century = today.year // 100 * 100
    for year in (century + yy, century - 100 + yy):
        try:
            candidate = date(year, month, day)
        except ValueError:
            continue
        if candidate <= today:
            return candidate
    return None


def check_nik(
    nik: str,
    *,
    field: str = "nik",
    birth_date: date | None = None,
    sex: str | None = None,
    today: date | None = None,
) -> list[Problem]:
    """Errors for a malformed NIK; warnings where it disagrees with the entered birth date or sex.

    An empty NIK is fine (unknown patients are registered too). Pass the text through
    normalize_digits() first if spaces and dashes should be tolerated.
    """
    if nik == "":
        return []
    if not _NIK_PATTERN.fullmatch(nik):
        return [Problem(field, N_("NIK must be exactly 16 digits."))]
    problems = _structure_problems(nik, field)
    info = parse_nik(nik, today=today)
    if info is None:
        problems.append(
            Problem(
                field,
                N_(
                    "Digits 7-12 of the NIK ({digits}) are not a birth date"
                    " (DDMMYY, women add 40 to the day)."
                ),
                {"digits": nik[6:12]},
            )
        )
        return problems
    return problems + _mismatch_warnings(info, field, birth_date, sex)


def _structure_problems(nik: str, field: str) -> list[Problem]:
    problems = []
    if nik[0:2] not in PROVINCE_CODES:
        problems.append(
            Problem(
                field,
                N_("The NIK starts with {code}, which is not an Indonesian province code."),
                {"code": nik[0:2]},
            )
        )
    if nik[2:4] == "00":
        problems.append(Problem(field, N_("Digits 3-4 of the NIK (regency or city) cannot be 00.")))
    if nik[4:6] == "00":
        problems.append(Problem(field, N_("Digits 5-6 of the NIK (district) cannot be 00.")))
    if nik[12:16] == "0000":
        problems.append(Problem(field, N_("The last four digits of the NIK cannot be 0000.")))
    return problems


def _mismatch_warnings(info: NikInfo, field: str, birth_date: date | None, sex: str | None) -> list[Problem]:
    # A mismatch is only a warning: NIKs are not reissued when a birth date is corrected.
    problems = []
    if birth_date is not None and birth_date != info.birth_date:
        problems.append(
            Problem(
                field,
                N_("The birth date in the NIK ({nik_date}) differs from the birth date entered."),
                {"nik_date": format_date(info.birth_date)},
                WARNING,
            )
        )
    if sex in ("male", "female") and sex != info.sex:
        message = (
            N_("The NIK belongs to a woman (40 is added to the day of birth), but the sex entered is male.")
            if info.sex == "female"
            else N_("The NIK belongs to a man, but the sex entered is female.")
        )
        problems.append(Problem(field, message, {}, WARNING))
    return problems


def make_nik(province: str, regency: str, district: str, birth_date: date, sex: str, serial: int) -> str:
    """Build a NIK from its parts (for demo data and tests)."""
    for code in (province, regency, district):
        if not re.fullmatch(r"[0-9]{2}", code):
            raise ValueError(f"region codes are two digits, got {code!r}")
    if sex not in ("male", "female"):
        raise ValueError(f"sex must be 'male' or 'female', got {sex!r}")
    if not 1 <= serial <= 9999:
        raise ValueError(f"serial must be 1-9999, got {serial}")
    day = birth_date.day + (FEMALE_DAY_OFFSET if sex == "female" else 0)
    return (
        f"{province}{regency}{district}{day:02d}{birth_date.month:02d}{birth_date.year % 100:02d}{serial:04d}"
    )
