"""Registration data: choices and checks (pure functions, no I/O)."""

from __future__ import annotations

import datetime as dt
import json
import re
from typing import Any

from clinic.fields import Fields
from clinic.limits import ALLERGIES, ALLERGY_CHARS, PATIENT_CHARS
from clinic.rules import Problem
from clinic.rules.bpjs import check_bpjs, normalize_digits
from clinic.rules.clock import facility_today
from clinic.rules.dates import parse_date
from clinic.rules.nik import check_nik
from clinic.text import N_

PATIENT_FIELDS = ("name", "sex", "birth_date", "nik", "bpjs_number", "phone", "address", "religion",
                  "occupation", "education", "marital_status", "mother_nik")

SEXES = (("male", N_("Male")), ("female", N_("Female")))
# Permenkes 24/2022 social data; values are stable codes, labels follow Dukcapil's lists.
RELIGIONS = (
    ("islam", N_("Islam")), ("protestant", N_("Protestant Christian")), ("catholic", N_("Catholic")),
    ("hindu", N_("Hindu")), ("buddhist", N_("Buddhist")), ("confucian", N_("Confucian")),
    ("belief", N_("Belief in One God (Kepercayaan)")), ("other", N_("Other")),
)
EDUCATION = (
    ("none", N_("No schooling")), ("primary", N_("Primary school (SD)")),
    ("junior", N_("Junior high school (SMP)")), ("senior", N_("Senior high school (SMA/SMK)")),
    ("diploma", N_("Diploma (D1-D3)")), ("bachelor", N_("Bachelor (D4/S1)")),
    ("master", N_("Master (S2)")), ("doctorate", N_("Doctorate (S3)")),
)
MARITAL = (
    ("single", N_("Not married")), ("married", N_("Married")), ("divorced", N_("Divorced")),
    ("widowed", N_("Widowed")),
)
CHOICES = {"sex": SEXES, "religion": RELIGIONS, "education": EDUCATION, "marital_status": MARITAL}
PHONE = re.compile(r"^\+?[0-9][0-9 \-]{5,24}$")


def label_of(choices: tuple[tuple[str, str], ...], value: str | None) -> str | None:
    return next((label for key, label in choices if key == value), None)


def parse_birth_date(text: str, today: dt.date) -> tuple[dt.date | None, Problem | None]:
    if not text:
        return None, Problem("birth_date", N_("Enter the birth date."))
    value = parse_date(text)
    if value is None:
        return None, Problem("birth_date", N_("Enter a date as DD-MM-YYYY, e.g. 21-07-1985."))
    if value > today:
        return None, Problem("birth_date", N_("The birth date cannot be in the future."))
    if value.year < 1900:
        return None, Problem("birth_date", N_("The birth date is before 1900."))
    return value, None


def validate_patient(fields: Fields, today: dt.date | None = None) -> tuple[dict[str, Any], list[Problem]]:
    """Clean values for storage and every problem found (errors block, warnings ask for confirmation)."""
    today = today or facility_today()
    raw = fields.values(PATIENT_FIELDS)
    problems: list[Problem] = []
    clean: dict[str, Any] = {}

    name = " ".join(raw["name"].split())
    if not name:
        problems.append(Problem("name", N_("Enter the patient's full name.")))
    clean["name"] = name

    for key, choices in CHOICES.items():
        value = raw[key]
        if value and label_of(choices, value) is None:
            problems.append(Problem(key, N_("Choose one of the options.")))
        clean[key] = value or None
    if not raw["sex"]:
        problems.append(Problem("sex", N_("Choose the sex.")))

    birth_date, problem = parse_birth_date(raw["birth_date"], today)
    if problem:
        problems.append(problem)
    clean["birth_date"] = birth_date

    for key in ("nik", "mother_nik"):
        digits = normalize_digits(raw[key])
        clean[key] = digits or None
        if digits:
            if key == "nik":
                problems += check_nik(digits, field=key, birth_date=birth_date, sex=clean["sex"], today=today)
            else:
                problems += [p for p in check_nik(digits, field=key, today=today) if p.severity == "error"]
    if clean["nik"] and clean["nik"] == clean["mother_nik"]:
        problems.append(Problem("mother_nik", N_("The mother's NIK must differ from the patient's NIK.")))

    bpjs = normalize_digits(raw["bpjs_number"])
    clean["bpjs_number"] = bpjs or None
    if bpjs:
        problems += check_bpjs(bpjs)

    phone = raw["phone"]
    if phone and not PHONE.match(phone):
        problems.append(Problem("phone", N_("Enter a phone number of digits, e.g. 0812 3456 7890.")))
    clean["phone"] = phone or None

    for key in ("address", "occupation"):
        clean[key] = raw[key] or None
    for key, limit in PATIENT_CHARS.items():
        value = clean.get(key) or ""
        if len(value) > limit:
            problems.append(Problem(key, N_("At most {n} characters."), {"n": limit}))
    clean["allergies"], clean["no_known_allergy"], found = allergies_from(fields)
    problems += found
    return clean, problems


def allergy_list(stored: str | list[dict[str, str]] | None) -> list[dict[str, str]]:
    """A patient's allergy pairs as stored (JSON text) or as validated (a list)."""
    if not stored:
        return []
    return json.loads(stored) if isinstance(stored, str) else stored


def allergies_from(fields: Fields) -> tuple[list[dict[str, str]], bool, list[Problem]]:
    """Allergy pairs from the parallel lists allergy_substance[] and allergy_reaction[] (empty pairs dropped),
    and whether "no known allergy" was ticked. Nothing entered and nothing ticked: not asked yet."""
    substances, reactions = fields.getlist("allergy_substance"), fields.getlist("allergy_reaction")
    pairs: list[dict[str, str]] = []
    problems: list[Problem] = []
    for index in range(max(len(substances), len(reactions))):
        substance = " ".join((substances[index] if index < len(substances) else "").split())
        reaction = " ".join((reactions[index] if index < len(reactions) else "").split())
        if not substance and not reaction:
            continue
        if not substance:
            problems.append(Problem("allergy_substance", N_("Allergy {n}: enter the substance (drug, food, ...)."),
                                    {"n": index + 1}))
        if len(substance) > ALLERGY_CHARS or len(reaction) > ALLERGY_CHARS:
            problems.append(Problem("allergy_substance", N_("Allergy {n} is too long."), {"n": index + 1}))
        pairs.append({"substance": substance, "reaction": reaction})
    if len(pairs) > ALLERGIES:
        problems.append(Problem("allergy_substance", N_("At most {n} allergies."), {"n": ALLERGIES}))
    none_known = fields.get("no_known_allergy") in ("yes", "on", "true", "1")
    if none_known and pairs:
        problems.append(Problem("no_known_allergy",
                                N_("An allergy is entered: untick \"no known allergy\" or remove the allergy.")))
    return pairs, none_known, problems

FIELD_LABELS = {
    "name": N_("Full name"), "sex": N_("Sex"), "birth_date": N_("Birth date"), "nik": N_("NIK"),
    "bpjs_number": N_("BPJS number"), "phone": N_("Phone"), "address": N_("Address"),
    "religion": N_("Religion"), "occupation": N_("Occupation"), "education": N_("Education"),
    "marital_status": N_("Marital status"), "mother_nik": N_("Mother's NIK (for a newborn)"),
    "allergy_substance": N_("Allergies"), "no_known_allergy": N_("No known allergy"),
}
