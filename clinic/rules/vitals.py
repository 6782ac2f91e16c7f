"""Vital signs of one visit: parsing, possible ranges (errors) and adult normal ranges (warnings)."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from clinic.rules import ERROR, WARNING, Problem
from clinic.text import N_


@dataclass(frozen=True)
class VitalSpec:
    name: str  # form field name
    label: str
    unit: str
    possible_min: Decimal  # outside [possible_min, possible_max]: an error
    possible_max: Decimal
    normal_min: Decimal | None  # outside [normal_min, normal_max] (adults): a warning
    normal_max: Decimal | None
    decimals: int  # decimal places allowed
    example: str  # shown in "Enter a number, e.g. ..."


def _spec(
    name: str,
    label: str,
    unit: str,
    possible: tuple[str, str],
    normal: tuple[str, str] | None,
    decimals: int,
    example: str,
) -> VitalSpec:
    low, high = (Decimal(normal[0]), Decimal(normal[1])) if normal else (None, None)
    return VitalSpec(
        name, label, unit, Decimal(possible[0]), Decimal(possible[1]), low, high, decimals, example
    )


VITALS: tuple[VitalSpec, ...] = (
    _spec("systolic", N_("Systolic"), "mmHg", ("40", "300"), ("90", "139"), 0, "120"),
    _spec("diastolic", N_("Diastolic"), "mmHg", ("20", "200"), ("60", "89"), 0, "80"),
    _spec("pulse", N_("Pulse"), "/min", ("20", "300"), ("60", "100"), 0, "80"),
    _spec("resp_rate", N_("Respiratory rate"), "/min", ("4", "80"), ("12", "20"), 0, "18"),
    _spec("temperature", N_("Temperature"), "°C", ("25", "45"), ("36.0", "37.5"), 1, "36.5"),
    # Pulse oximetry: no living patient reads below 30 %; under 95 % at rest is low (WHO pulse oximetry manual).
    _spec("spo2", N_("Oxygen saturation (SpO2)"), "%", ("30", "100"), ("95", "100"), 0, "98"),
    # Weight, height and waist depend on age and build: no normal range, so no warning.
    _spec("weight", N_("Weight"), "kg", ("0.3", "500"), None, 2, "60.5"),
    _spec("height", N_("Height"), "cm", ("20", "272"), None, 1, "160"),
    _spec("waist", N_("Waist circumference"), "cm", ("20", "300"), None, 1, "80"),
)

# Levels of consciousness (kesadaran), most alert first.
CONSCIOUSNESS: tuple[tuple[str, str], ...] = (
    ("compos_mentis", N_("Compos mentis (alert)")),
    ("apathetic", N_("Apathetic (indifferent)")),
    ("somnolent", N_("Somnolent (drowsy)")),
    ("soporous", N_("Soporous (responds only to pain)")),
    ("comatose", N_("Comatose (no response)")),
    ("delirium", N_("Delirium (confused, disoriented)")),
)
CONSCIOUSNESS_FIELD = "consciousness"

# Digits with at most two decimals; "," is the Indonesian decimal separator.
_NUMBER_PATTERN = re.compile(r"-?(?:[0-9]+|[0-9]*[.,][0-9]{1,2})")


def parse_decimal(text: str) -> Decimal | None:
    """Read "36.5", "36,5" or " 120 " as a Decimal; None when blank; ValueError for anything else."""
    text = text.strip()
    if text == "":
        return None
    if not _NUMBER_PATTERN.fullmatch(text):
        raise ValueError(f"not a number with at most two decimals: {text!r}")
    return Decimal(text.replace(",", "."))


def check_vitals(form: Mapping[str, str]) -> tuple[dict[str, Decimal | str | None], list[Problem]]:
    """Parse and check the vital-sign fields of a visit form, and the level of consciousness.

    Returns each field's value (None when empty or in error, so nothing impossible gets stored)
    and the problems found, in form order.
    """
    checked = {spec.name: _check_one(spec, form.get(spec.name, "")) for spec in VITALS}
    pressure = _pressure_problem(checked["systolic"], checked["diastolic"])
    if pressure is not None:
        checked["diastolic"] = (None, pressure)  # replaces a mere out-of-normal warning
    values: dict[str, Decimal | str | None] = {
        name: None if problem is not None and problem.severity == ERROR else value
        for name, (value, problem) in checked.items()
    }
    problems = [problem for _, problem in checked.values() if problem is not None]
    consciousness, problem = _check_consciousness(form.get(CONSCIOUSNESS_FIELD, ""))
    values[CONSCIOUSNESS_FIELD] = consciousness
    if problem is not None:
        problems.append(problem)
    return values, problems


def _check_one(spec: VitalSpec, text: str) -> tuple[Decimal | None, Problem | None]:
    try:
        value = parse_decimal(text)
    except ValueError:
        return None, Problem(spec.name, N_("Enter a number, e.g. {example}."), {"example": spec.example})
    if value is None:
        return None, None
    if not (spec.possible_min <= value <= spec.possible_max):
        return None, _range_problem(spec, value)  # before rounding: a 40-digit number cannot be quantized
    if _decimal_places(value) > spec.decimals:
        step = Decimal(1).scaleb(-spec.decimals)
        if value != value.quantize(step):
            return None, _too_precise(spec)
        value = value.quantize(step)  # "36.50" -> 36.5, "120.0" -> 120
    return value, _range_problem(spec, value)


def _decimal_places(value: Decimal) -> int:
    exponent = value.as_tuple().exponent
    return -exponent if isinstance(exponent, int) and exponent < 0 else 0


def _too_precise(spec: VitalSpec) -> Problem:
    if spec.decimals == 0:
        message = N_("Enter a whole number, e.g. {example}.")
    elif spec.decimals == 1:
        message = N_("Enter a number with at most one decimal, e.g. {example}.")
    else:
        message = N_("Enter a number with at most two decimals, e.g. {example}.")
    return Problem(spec.name, message, {"example": spec.example})


def _range_problem(spec: VitalSpec, value: Decimal) -> Problem | None:
    if not spec.possible_min <= value <= spec.possible_max:
        return Problem(
            spec.name,
            N_("{value} {unit} is not possible for a human body: check the value."),
            {"value": value, "unit": spec.unit},
        )
    if spec.normal_min is None or spec.normal_max is None:
        return None
    if not spec.normal_min <= value <= spec.normal_max:
        return Problem(
            spec.name,
            N_("{value} {unit} is outside the normal range ({low}-{high} {unit})."),
            {"value": value, "unit": spec.unit, "low": spec.normal_min, "high": spec.normal_max},
            WARNING,
        )
    return None


def _pressure_problem(
    systolic: tuple[Decimal | None, Problem | None], diastolic: tuple[Decimal | None, Problem | None]
) -> Problem | None:
    (high, high_problem), (low, low_problem) = systolic, diastolic
    if high is None or low is None or low < high or ERROR in _severities(high_problem, low_problem):
        return None
    return Problem(
        "diastolic",
        N_("The diastolic pressure must be lower than the systolic pressure ({systolic} mmHg)."),
        {"systolic": high},
    )


def _severities(*problems: Problem | None) -> set[str]:
    return {problem.severity for problem in problems if problem is not None}


def _check_consciousness(text: str) -> tuple[str | None, Problem | None]:
    value = text.strip()
    if value == "":
        return None, None
    if value not in dict(CONSCIOUSNESS):
        return None, Problem(CONSCIOUSNESS_FIELD, N_("Choose a level of consciousness from the list."))
    return value, None
