"""Realistic Indonesian demo data, entered through the same services the forms use.

Every patient and visit goes through clinic.patients.service.register and clinic.visits.service.record with
Fields built like a submitted form, so it is validated exactly like user input (and logged in the access
log like user input). Places are real Kemendagri region codes (province.regency.district, as in the NIK);
names, addresses and clinical notes are invented. With a seed the data is reproducible (on the same day:
ages count back from today); running again with the same seed adds nothing, since the ids repeat.

The data (places, names, diagnoses with their notes and prescriptions) is clinic/demo_data.json; the rules
that pick from it (ages, weights, who has which illness) are here.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

from databases import Database

from clinic.accounts import queries as accounts
from clinic.accounts.passwords import one_time_password
from clinic.accounts.roles import DOCTOR, NURSE, REGISTRATION, CurrentUser
from clinic.fields import Fields
from clinic.outcome import Kind, Outcome
from clinic.patients import service as patient_service
from clinic.rules.nik import make_nik
from clinic.visits import service as visit_service

# Written to the access log where a request would give the client's address.
ADDRESS = "demo"
STAFF = (
    ("dokter", DOCTOR, "dr. Rina Kartika"),
    ("perawat", NURSE, "Ns. Agus Setiawan"),
    ("pendaftaran", REGISTRATION, "Wulan Sari"),
)
OLDEST = dt.date(1940, 1, 1)

Rx = tuple[str, str, str, str, str]  # drug, dose, frequency, route, duration
DATA: dict[str, Any] = json.loads(resources.files("clinic").joinpath("demo_data.json").read_text(encoding="utf-8"))


def _tuples(entry: dict[str, Any]) -> dict[str, Any]:
    """A JSON object's lists as tuples (the dataclasses below are frozen)."""
    return {key: tuple(value) if isinstance(value, list) else value for key, value in entry.items()}


# ---------------------------------------------------------------------------------------------------------
# Places: real Kemendagri codes (the ones a NIK starts with) and real kelurahan/desa of each kecamatan.


@dataclass(frozen=True)
class Place:
    province: str
    regency: str
    district: str
    regency_name: str
    district_name: str
    villages: tuple[str, ...]
    village_kind: str = "Kel."  # "Desa" for a village with its own head
    rt_rw: bool = True  # Bali addresses name the banjar instead of RT/RW


def _places(regencies: list[dict[str, Any]]) -> dict[str, Place]:
    """Every district, by its code as in a NIK: "32.01.01" (province.regency.district)."""
    places = {}
    for regency in regencies:
        province, code = regency["province"], regency["regency"]
        for district in regency["districts"]:
            places[f"{province}.{code}.{district['code']}"] = Place(
                province, code, district["code"], regency["name"], district["name"], tuple(district["villages"]),
                district.get("village_kind", "Kel."), rt_rw=province != "51")
    return places


PLACES = _places(DATA["places"])
STREETS: tuple[str, ...] = tuple(DATA["streets"])
ESTATES: tuple[str, ...] = tuple(DATA["estates"])
ROMAN: tuple[str, ...] = tuple(DATA["roman_numerals"])
BANJAR: tuple[str, ...] = tuple(DATA["banjars"])


# ---------------------------------------------------------------------------------------------------------
# People. Each group: where its members live, their religions (Dukcapil codes with weights), their names.


@dataclass(frozen=True)
class Group:
    weight: int  # share of the patients
    places: tuple[Place, ...]
    religions: tuple[tuple[str, int], ...]
    male: tuple[str, ...]
    female: tuple[str, ...]
    male_second: tuple[str, ...] = ()
    female_second: tuple[str, ...] = ()
    elder_male: tuple[str, ...] = ()  # single or old-fashioned names of people born before ~1960
    elder_female: tuple[str, ...] = ()
    child_male: tuple[str, ...] = ()  # the group's own names for children (otherwise CHILD_MALE, ...)
    child_female: tuple[str, ...] = ()
    muslim_clans: tuple[str, ...] = ()  # Batak Muslims carry a Mandailing clan name
    birth_order: tuple[tuple[tuple[str, ...], tuple[str, ...]], ...] = ()  # Bali: (male, female) prefixes


def _group(entry: dict[str, Any]) -> Group:
    return Group(**{
        **_tuples(entry),
        "places": tuple(PLACES[code] for code in entry["places"]),
        "religions": tuple(entry["religions"].items()),
        "birth_order": tuple((tuple(o["male"]), tuple(o["female"])) for o in entry.get("birth_order", ())),
    })


GROUPS: dict[str, Group] = {key: _group(entry) for key, entry in DATA["groups"].items()}
GROUP_WEIGHTS = tuple((key, group.weight) for key, group in GROUPS.items())
CHILD_MALE: tuple[str, ...] = tuple(DATA["child_names"]["male"])
CHILD_MALE_SECOND: tuple[str, ...] = tuple(DATA["child_names"]["male_second"])
CHILD_FEMALE: tuple[str, ...] = tuple(DATA["child_names"]["female"])
CHILD_FEMALE_SECOND: tuple[str, ...] = tuple(DATA["child_names"]["female_second"])
MUSLIM_MALE: tuple[str, ...] = tuple(DATA["muslim_names"]["male"])
MUSLIM_FEMALE: tuple[str, ...] = tuple(DATA["muslim_names"]["female"])
PHONE_PREFIXES: tuple[str, ...] = tuple(DATA["phone_prefixes"])


def _weighted(rng: random.Random, pairs: Sequence[tuple[Any, int]]) -> Any:
    return rng.choices([value for value, _ in pairs], weights=[weight for _, weight in pairs])[0]


def _name(rng: random.Random, group_key: str, sex: str, age: float, religion: str) -> str:
    group = GROUPS[group_key]
    male = sex == "male"
    child = age < 20
    elder = age >= 62 and rng.random() < 0.6

    if group_key == "bali":
        prefix = rng.choice(rng.choice(group.birth_order)[0 if male else 1])
        given = rng.choice((group.child_male if male else group.child_female) if child else
                           group.male if male else group.female)
        return f"{prefix} {given}"
    if group_key == "batak":
        if religion == "islam":
            first = rng.choice(CHILD_MALE if child and male else CHILD_FEMALE if child else
                               MUSLIM_MALE if male else MUSLIM_FEMALE)
            return f"{first} {rng.choice(group.muslim_clans)}"
        if child:
            first = rng.choice(group.child_male if male else group.child_female)
        elif elder and (group.elder_male if male else group.elder_female):
            first = rng.choice(group.elder_male if male else group.elder_female)
        else:
            first = rng.choice(group.male if male else group.female)
        boru = "" if male or rng.random() < 0.6 else "br. "  # a woman's own clan, as "boru"
        return f"{first} {boru}{rng.choice(group.male_second)}"
    if group_key == "tionghoa":
        if elder:
            return rng.choice(group.elder_male if male else group.elder_female)
        first = rng.choice((group.child_male if male else group.child_female) if child else
                           group.male if male else group.female)
        return f"{first} {rng.choice(group.male_second)}"

    # Javanese, Sundanese, Minang, Bugis
    if child:
        first = rng.choice(CHILD_MALE if male else CHILD_FEMALE)
        second = rng.choice(CHILD_MALE_SECOND if male else CHILD_FEMALE_SECOND)
        name = f"{first} {second}"
    elif elder and (group.elder_male if male else group.elder_female):
        name = rng.choice(group.elder_male if male else group.elder_female)
    else:
        first = rng.choice(group.male if male else group.female)
        seconds = group.male_second if male else group.female_second
        wants_second = rng.random() < (0.5 if group_key == "minang" else 0.85)
        name = f"{first} {rng.choice(seconds)}" if seconds and wants_second else first
        if name == first and first in ("Muh.", "Abdul", "Muhammad", "Sitti", "Siti", "Sri"):
            name = f"{first} {rng.choice(seconds or MUSLIM_FEMALE)}"
    untitled = not name.startswith(("La ", "I ", "Indo", "Puang", "Hj."))
    if group_key == "bugis" and untitled and rng.random() < 0.2:
        name = f"Andi {name}"  # the Bugis nobility title, passed to children
    return name


def _phone(rng: random.Random) -> str:
    prefix = rng.choice(PHONE_PREFIXES)
    digits = "".join(str(rng.randint(0, 9)) for _ in range(rng.choice((7, 8, 8))))
    style = rng.random()
    if style < 0.5:
        return prefix + digits
    if style < 0.85:
        return f"{prefix}-{digits[:4]}-{digits[4:]}"
    return f"{prefix} {digits[:4]} {digits[4:]}"


def _address(rng: random.Random, place: Place) -> str:
    number = rng.randint(1, 120)
    style = rng.random()
    if style < 0.6:
        street = f"Jl. {rng.choice(STREETS)} No. {number}"
    elif style < 0.85:
        street = f"Gg. {rng.choice(STREETS)} {rng.choice(ROMAN)} No. {number}"
    else:
        street = f"Perum {rng.choice(ESTATES)} Blok {rng.choice('ABCDEFG')}{rng.randint(1, 12)} No. {number}"
    local = (f"RT {rng.randint(1, 12):02d}/RW {rng.randint(1, 9):02d}" if place.rt_rw
             else f"Br. {rng.choice(BANJAR)}")
    return (f"{street}, {local}, {place.village_kind} {rng.choice(place.villages)}, "
            f"Kec. {place.district_name}, {place.regency_name}")


def _occupation(rng: random.Random, group_key: str, sex: str, age: float) -> str:
    if age < 6:
        return "Belum bekerja"
    if age < 19:
        return "Pelajar"
    if age < 24 and rng.random() < 0.5:
        return "Mahasiswa"
    if age >= 60:
        options = [("Pensiunan", 3), ("Tidak bekerja", 3), ("Petani", 2), ("Pedagang", 2)]
        if sex == "female":
            options.append(("Mengurus rumah tangga", 4))
        return _weighted(rng, options)
    common = [("Wiraswasta", 4), ("Karyawan swasta", 5), ("Pedagang", 3), ("Guru", 2), ("PNS", 2),
              ("Buruh harian lepas", 3)]
    if sex == "female":
        common += [("Mengurus rumah tangga", 10), ("Buruh pabrik", 2), ("Penjahit", 1), ("Bidan", 1)]
    else:
        common += [("Petani", 3), ("Sopir", 2), ("Tukang bangunan", 2), ("Pengemudi ojek online", 2)]
    if group_key == "bugis":
        common += [("Nelayan danau", 3), ("Penenun sutra", 2)] if sex == "male" else [("Penenun sutra", 4)]
    if group_key == "bali":
        common.append(("Pengrajin", 3) if sex == "male" else ("Pedagang canang", 3))
    return _weighted(rng, common)


def _education(rng: random.Random, age: float) -> str:
    if age < 7:
        return "none"
    if age < 13:
        return "primary"
    if age < 16:
        return "junior"
    if age < 23:
        return "senior"
    if age < 60:
        return _weighted(rng, (("primary", 14), ("junior", 17), ("senior", 40), ("diploma", 9),
                               ("bachelor", 16), ("master", 3), ("none", 1)))
    return _weighted(rng, (("none", 14), ("primary", 44), ("junior", 15), ("senior", 16), ("diploma", 3),
                           ("bachelor", 7), ("master", 1)))


def _marital(rng: random.Random, age: float) -> str:
    if age < 18:
        return "single"
    if age < 25:
        return _weighted(rng, (("single", 70), ("married", 30)))
    if age < 60:
        return _weighted(rng, (("married", 82), ("single", 8), ("divorced", 6), ("widowed", 4)))
    return _weighted(rng, (("married", 52), ("widowed", 43), ("divorced", 5)))


# ---------------------------------------------------------------------------------------------------------
# Clinical content: common puskesmas diagnoses (ICD-10 version 2010: the edition the app validates, as SATUSEHAT).


@dataclass(frozen=True)
class Condition:
    code: str
    ages: tuple[float, float]
    weight: int
    complaints: tuple[str, ...]
    histories: tuple[str, ...]
    exams: tuple[str, ...]
    assessments: tuple[str, ...]
    plans: tuple[str, ...]
    adult_rx: tuple[Rx, ...]
    child_rx: tuple[Rx, ...] = ()  # 2-11 years
    infant_rx: tuple[Rx, ...] = ()  # under 2 years
    fever: float = 0.0  # chance of a raised temperature


# Prescription lines by name; a dose in braces ("{zinc_dose}") depends on the patient's age.
PRESCRIPTIONS: dict[str, Rx] = {
    name: (line["drug"], line["dose"], line["frequency"], line["route"], line["duration"])
    for name, line in DATA["prescriptions"].items()
}


def _condition(entry: dict[str, Any]) -> Condition:
    """A condition of the data file, its prescription names resolved ("note" is for the file's readers)."""
    fields = {key: value for key, value in _tuples(entry).items() if key != "note"}
    for key in ("adult_rx", "child_rx", "infant_rx"):
        if key in fields:
            fields[key] = tuple(PRESCRIPTIONS[name] for name in fields[key])
    return Condition(**fields)


ACUTE: tuple[Condition, ...] = tuple(_condition(entry) for entry in DATA["conditions"]["acute"])
CHRONIC: dict[str, Condition] = {c.code: c for c in map(_condition, DATA["conditions"]["chronic"])}
NEWBORN_CHECK = _condition(DATA["conditions"]["newborn"])
# Every diagnosis the demo writes; the tests check each against the ICD-10 list.
DIAGNOSIS_CODES = tuple(c.code for c in (*ACUTE, *CHRONIC.values(), NEWBORN_CHECK))


# ---------------------------------------------------------------------------------------------------------
# Generation.


@dataclass
class Person:
    fields: dict[str, list[str]]
    name: str
    sex: str
    age: float  # years
    group: str
    place: Place
    nik: str
    chronic: list[str]
    weight: float
    height: float
    visits: list[tuple[str, dict[str, list[str]]]] = field(default_factory=list)  # (author, fields)


def _new_id(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _age(birth: dt.date, today: dt.date) -> float:
    return (today - birth).days / 365.25


def _birth_date(rng: random.Random, today: dt.date) -> dt.date:
    band = _weighted(rng, (((0.1, 5), 12), ((5, 18), 14), ((18, 45), 30), ((45, 60), 20), ((60, 86), 24)))
    days = rng.randint(int(band[0] * 365.25), int(band[1] * 365.25))
    return max(today - dt.timedelta(days=days), OLDEST)


def _nik(rng: random.Random, place: Place, birth: dt.date, sex: str, used: set[str]) -> str:
    while True:
        nik = make_nik(place.province, place.regency, place.district, birth, sex, rng.randint(1, 9999))
        if nik not in used:
            used.add(nik)
            return nik


def _bpjs(rng: random.Random) -> str:
    # 13 digits; cards commonly start with zeros (stored as text). The structure is not public.
    return f"000{rng.randint(1, 10**10 - 1):010d}"


def _body(rng: random.Random, age: float, sex: str, chronic: list[str]) -> tuple[float, float]:
    if age < 1:
        months = age * 12
        return 3.3 + 0.6 * months + rng.uniform(-0.3, 0.3), 50 + 2.1 * months + rng.uniform(-1, 1)
    if age < 13:
        return (2 * age + 8) * rng.uniform(0.88, 1.15), (6 * age + 77) * rng.uniform(0.96, 1.04)
    if age < 18:
        base_h = 150 + 2.5 * (age - 13) + (4 if sex == "male" else 0)
        return (40 + 3 * (age - 13)) * rng.uniform(0.85, 1.2), base_h + rng.uniform(-5, 5)
    heavier = 6 if chronic else 0
    if sex == "male":
        height = rng.uniform(156, 176) - (3 if age >= 65 else 0)
        return rng.uniform(50, 80) + heavier, height
    height = rng.uniform(146, 162) - (3 if age >= 65 else 0)
    return rng.uniform(42, 70) + heavier, height


def make_person(rng: random.Random, today: dt.date, used_niks: set[str], used_names: set[str]) -> Person:
    group_key = _weighted(rng, GROUP_WEIGHTS)
    group = GROUPS[group_key]
    place = rng.choice(group.places)
    sex = rng.choice(("male", "female"))
    birth = _birth_date(rng, today)
    age = _age(birth, today)
    religion = _weighted(rng, group.religions)
    name = _name(rng, group_key, sex, age, religion)
    for _ in range(10):  # namesakes exist, but a demo reads better without them
        if name not in used_names:
            break
        name = _name(rng, group_key, sex, age, religion)
    used_names.add(name)
    # Children under 5 often have no KIA (child ID card) yet; some adults forgot theirs.
    has_nik = rng.random() > (0.4 if age < 5 else 0.07)
    nik = _nik(rng, place, birth, sex, used_niks) if has_nik else ""
    chronic = []
    if age >= 40 and rng.random() < 0.35 + (0.15 if age >= 60 else 0):
        chronic.append("I10")
    if age >= 40 and rng.random() < 0.15:
        chronic.append("E11.9")
    weight, height = _body(rng, age, sex, chronic)
    occupation = _occupation(rng, group_key, sex, age)
    education = "senior" if occupation == "Mahasiswa" else _education(rng, age)
    phone = _phone(rng) if age >= 13 or rng.random() < 0.9 else ""  # a child's number is a parent's
    if age >= 70 and rng.random() < 0.4:
        phone = ""
    fields = {
        "id": [_new_id(rng)], "name": [name], "sex": [sex], "birth_date": [birth.isoformat()], "nik": [nik],
        "bpjs_number": [_bpjs(rng) if rng.random() < 0.6 else ""], "phone": [phone],
        "address": [_address(rng, place)], "religion": [religion],
        "occupation": [occupation], "education": [education],
        "marital_status": [_marital(rng, age)], "mother_nik": [""],
    }
    return Person(fields, name, sex, age, group_key, place, nik, chronic, weight, height)


def _newborn(rng: random.Random, today: dt.date, people: list[Person], used_niks: set[str]) -> Person:
    """A baby of a few days, without a NIK yet: identified by the mother's NIK (SATUSEHAT nik-ibu)."""
    mothers = [p for p in people if p.sex == "female" and 18 <= p.age <= 40 and p.nik]
    birth = today - dt.timedelta(days=rng.randint(3, 25))
    sex = rng.choice(("male", "female"))
    if mothers:
        mother = rng.choice(mothers)
        mother_name, mother_nik, place = mother.name, mother.nik, mother.place
        address, phone = mother.fields["address"][0], mother.fields["phone"][0]
        religion = mother.fields["religion"][0]
        group_key = mother.group
    else:  # too few patients for a mother among them: she is not a patient here
        group_key = _weighted(rng, GROUP_WEIGHTS)
        place = rng.choice(GROUPS[group_key].places)
        mother_age_days = rng.randint(20 * 365, 38 * 365)
        religion = _weighted(rng, GROUPS[group_key].religions)
        mother_name = _name(rng, group_key, "female", 30, religion)
        mother_nik = _nik(rng, place, today - dt.timedelta(days=mother_age_days), "female", used_niks)
        address, phone = _address(rng, place), _phone(rng)
    # Until the family registers a name, the record carries "By. Ny." (baby of Mrs.) and the mother's name.
    name = f"By. Ny. {mother_name}"
    fields = {
        "id": [_new_id(rng)], "name": [name], "sex": [sex], "birth_date": [birth.isoformat()], "nik": [""],
        "bpjs_number": [""], "phone": [phone], "address": [address], "religion": [religion],
        "occupation": [""], "education": [""], "marital_status": ["single"], "mother_nik": [mother_nik],
    }
    age = _age(birth, today)
    return Person(fields, name, sex, age, group_key, place, "", [], 3.0 + rng.uniform(0, 0.6),
                  48 + rng.uniform(0, 4))


def _fmt(value: float, decimals: int) -> str:
    return f"{value:.{decimals}f}"


def _vitals(rng: random.Random, person: Person, fever: bool, hypertensive_control: bool) -> dict[str, str]:
    age = person.age
    vitals: dict[str, str] = {}
    if age >= 13:
        if "I10" in person.chronic:
            controlled = rng.random() < (0.45 if hypertensive_control else 0.3)
            if controlled:
                systolic, diastolic = rng.randint(122, 138), rng.randint(76, 88)
            else:
                systolic = rng.choice((145, 150, 150, 155, 160, 165, 170, 178))
                diastolic = rng.choice((90, 95, 95, 100, 105))
        elif age >= 18:
            systolic, diastolic = rng.randint(106, 136), rng.randint(66, 86)
        else:
            systolic, diastolic = rng.randint(98, 120), rng.randint(60, 78)
        vitals["systolic"], vitals["diastolic"] = str(systolic), str(diastolic)
    if age < 1:
        pulse, resp = rng.randint(120, 150), rng.randint(36, 50)
    elif age < 6:
        pulse, resp = rng.randint(90, 125), rng.randint(24, 32)
    elif age < 13:
        pulse, resp = rng.randint(78, 110), rng.randint(18, 26)
    else:
        pulse, resp = rng.randint(64, 94), rng.randint(14, 20)
    temperature = rng.uniform(36.2, 37.2)
    if fever:
        temperature = rng.uniform(37.8, 39.6)
        pulse += rng.randint(8, 18)
    vitals.update(pulse=str(pulse), resp_rate=str(resp), temperature=_fmt(temperature, 1))
    if age >= 2:
        vitals["weight"] = _fmt(person.weight + rng.uniform(-1.2, 1.2) * (age >= 18), 1)
    else:
        vitals["weight"] = _fmt(person.weight, 2)
    vitals["height"] = _fmt(person.height, 0 if age >= 18 else 1)
    if age >= 18 and (person.chronic or rng.random() < 0.5):
        waist = 0.9 * person.weight + (25 if person.sex == "male" else 28) + rng.uniform(-4, 4)
        vitals["waist"] = _fmt(waist, 0)
    vitals["consciousness"] = "compos_mentis"
    return vitals


def _lines(rng: random.Random, rx: Sequence[Rx], limit: int = 3) -> list[Rx]:
    if not rx:
        return []
    extra = rng.randint(0, min(limit - 1, len(rx) - 1))
    return [rx[0], *rng.sample(list(rx[1:]), extra)]


def _visit(rng: random.Random, person: Person, index: int) -> dict[str, list[str]]:
    age = person.age
    diagnoses: list[str]
    rx: list[Rx]
    context: dict[str, Any] = {"d": rng.randint(1, 4), "n": rng.randint(4, 8), "y": rng.randint(1, 12),
                               "gds": rng.randint(110, 290), "age_days": int(age * 365.25),
                               "bbl": rng.randrange(2700, 3700, 50)}
    control = bool(person.chronic) and rng.random() < 0.6
    if person.fields["mother_nik"][0] and index == 0:
        condition, fever = NEWBORN_CHECK, False
    elif control:
        condition, fever = CHRONIC[person.chronic[0]], False
    else:
        candidates = [c for c in ACUTE if c.ages[0] <= age <= c.ages[1]]
        condition = rng.choices(candidates, weights=[c.weight for c in candidates])[0]
        fever = rng.random() < condition.fever
        if condition.code == "A01.0":
            context["d"] = rng.randint(5, 8)
        elif condition.code == "A90":
            context["d"] = rng.randint(3, 4)
    vitals = _vitals(rng, person, fever, control)
    context["demam"] = (rng.choice(("Demam ringan naik turun", "Demam sejak kemarin", "Badan terasa panas"))
                        if fever else "Tidak demam")
    context.update(sys=vitals.get("systolic", "-"), dia=vitals.get("diastolic", "-"), pulse=vitals["pulse"])
    context.update(pcm_drop="0,6 ml" if age < 1 else "1 ml",
                   zinc_dose="1/2 tab (10 mg)" if age < 0.5 else "1 tab (20 mg)",
                   oralit_dose="50-100 ml" if age < 1 else "100-200 ml")

    if condition.code in CHRONIC:
        diagnoses = list(person.chronic)  # a control visit: every chronic illness, the first as primary
        assessment, plan, rx = _chronic_notes(rng, person, vitals, context)
    else:
        diagnoses = [condition.code]
        if person.chronic and rng.random() < 0.6:
            diagnoses += person.chronic  # known chronic illnesses as secondary diagnoses
        band_rx = ((condition.infant_rx if age < 2 else condition.child_rx if age < 12 else ())
                   or condition.adult_rx)
        rx = _lines(rng, band_rx)
        assessment = rng.choice(condition.assessments).format_map(context) if condition.assessments else ""
        plan = rng.choice(condition.plans).format_map(context) if condition.plans else ""

    fields: dict[str, list[str]] = {
        "id": [_new_id(rng)],
        "complaint": [rng.choice(condition.complaints).format_map(context)],
        "history": [rng.choice(condition.histories).format_map(context)],
        "examination": [rng.choice(condition.exams).format_map(context)],
        "assessment": [assessment],
        "plan": [plan],
        "diagnosis": diagnoses,
        "prescription": [""],
    }
    fields.update({name: [value] for name, value in vitals.items()})
    if condition.code == "J06.9" and 2 <= age < 6 and rng.random() < 0.4:
        # Compounded powders (racikan) are everyday paediatric practice in puskesmas.
        rx = []
        fields["prescription"] = ["R/ Racikan puyer: Paracetamol 120 mg, Ambroxol 7,5 mg, m.f. pulv. dtd "
                                  "No. IX, S 3 dd pulv I (3x sehari 1 bungkus)"]
    for column, position in (("drug", 0), ("dose", 1), ("frequency", 2), ("route", 3), ("duration", 4)):
        fields[f"rx_{column}"] = [line[position].format_map(context) for line in rx]
    return fields


def _chronic_notes(rng: random.Random, person: Person, vitals: dict[str, str],
                   context: dict[str, Any]) -> tuple[str, str, list[Rx]]:
    assessments, plans, rx = [], [], []
    amlodipine, metformin = PRESCRIPTIONS["amlodipine"], PRESCRIPTIONS["metformin"]
    if "I10" in person.chronic:
        systolic, diastolic = int(vitals["systolic"]), int(vitals["diastolic"])
        if systolic >= 140 or diastolic >= 90:
            stage = 2 if systolic >= 160 or diastolic >= 100 else 1
            assessments.append(f"Hipertensi stage {stage}, belum terkontrol "
                               f"(TD {systolic}/{diastolic} mmHg).")
            plans.append("Kepatuhan minum obat ditekankan; diet rendah garam (maks. 1 sendok teh sehari), "
                         "olahraga jalan kaki 30 menit sehari.")
            rx += [amlodipine, PRESCRIPTIONS["hydrochlorothiazide"]] if rng.random() < 0.5 else [amlodipine]
        else:
            assessments.append(f"Hipertensi terkontrol (TD {systolic}/{diastolic} mmHg).")
            plans.append("Lanjut amlodipin 5 mg 1x sehari. Pertahankan diet rendah garam dan aktivitas "
                         "fisik.")
            rx.append(amlodipine)
    if "E11.9" in person.chronic:
        gds = context["gds"]
        if gds >= 200:
            assessments.append(f"DM tipe 2 belum terkontrol (GDS {gds} mg/dL).")
            plans.append("Diet 3J (jumlah, jadwal, jenis), kurangi minuman manis. Cek HbA1c bila tersedia.")
            rx += [metformin, PRESCRIPTIONS["glibenclamide"]]
        else:
            assessments.append(f"DM tipe 2 terkontrol (GDS {gds} mg/dL).")
            plans.append("Lanjut metformin 3x500 mg. Diet 3J dan olahraga teratur.")
            rx.append(metformin)
    plans.append("Kontrol 1 bulan (Prolanis).")
    return " ".join(assessments), " ".join(plans), rx[:3]


def plan_people(rng: random.Random, count: int, today: dt.date) -> list[Person]:
    used_niks: set[str] = set()
    used_names: set[str] = set()
    people = [make_person(rng, today, used_niks, used_names) for _ in range(count - 1 if count >= 2 else count)]
    if count >= 2:
        people.append(_newborn(rng, today, people, used_niks))
    for person in people:
        visits = 1 if person.fields["mother_nik"][0] else _weighted(rng, ((1, 25), (2, 35), (3, 25), (4, 15)))
        for index in range(visits):
            author = "dokter" if rng.random() < 0.7 else "perawat"
            person.visits.append((author, _visit(rng, person, index)))
    return people


# ---------------------------------------------------------------------------------------------------------
# Storing, through the services the forms use.


def _require_stored(outcome: Outcome, what: str) -> None:
    if outcome.kind == Kind.STORED:
        return
    details = [f"{name}: {message}" for name, message in outcome.errors.items()]
    details += [f"{name}: {message}" for name, messages in outcome.warnings.items() for message in messages]
    if outcome.duplicates:
        details.append(f"{len(outcome.duplicates)} possible duplicate(s)")
    raise RuntimeError(f"Demo data: {what} came back {outcome.kind!r}, not stored: " + "; ".join(details))


async def _staff(db: Database, password: str) -> tuple[dict[str, CurrentUser], list[str], list[str]]:
    users: dict[str, CurrentUser] = {}
    created: list[str] = []
    existing: list[str] = []
    for username, role, full_name in STAFF:
        row = await accounts.get_user_by_username(db, username)
        if row is None:
            try:
                await accounts.create_user(db, username=username, full_name=full_name, roles=[role],
                                           password=password, must_change_password=True)
                created.append(username)
            except accounts.UsernameTaken:  # made meanwhile by someone else
                existing.append(username)
            row = await accounts.get_user_by_username(db, username)
        else:
            existing.append(username)
        if role not in row["roles"]:
            raise RuntimeError(f"Demo data: the existing user {username!r} has the roles {row['roles']!r}, "
                               f"but the demo needs {role!r}.")
        users[username] = CurrentUser(
            id=str(row["id"]), username=row["username"], full_name=row["full_name"], roles=frozenset(row["roles"]),
            must_change_password=bool(row["must_change_password"]),
        )
    return users, created, existing


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


async def add_demo_data(db: Database, patients: int = 40, seed: int | None = None) -> str:
    """Register `patients` demo patients (one a newborn known by the mother's NIK) with 1-4 visits each,
    by demo staff created when absent, and return a one-line summary for the command line."""
    if patients < 0:
        raise ValueError("patients must be 0 or more")
    rng = random.Random(seed)
    today = dt.date.today()
    password = one_time_password()
    users, created, existing = await _staff(db, password)
    people = plan_people(rng, patients, today)

    added_patients = added_visits = 0
    for person in people:
        # One transaction per patient: a patient is stored with all their visits or not at all, and on
        # SQLite one commit (one fsync) per patient instead of one per statement keeps this fast.
        async with db.transaction():
            outcome = await patient_service.register(db, users["pendaftaran"], Fields(person.fields), ADDRESS,
                                                     accept_warnings=True, possible_duplicates=False)
            _require_stored(outcome, f"patient {person.name!r}")
            created_here = int(outcome.created)
            patient_id = str(outcome.record["id"])
            visits_here = 0
            for author, visit_fields in person.visits:
                outcome = await visit_service.record(db, users[author], patient_id, Fields(visit_fields),
                                                     ADDRESS)
                _require_stored(outcome, f"a visit of {person.name!r}")
                visits_here += outcome.created
        added_patients += created_here
        added_visits += visits_here

    summary = f"Added {_plural(added_patients, 'patient')} and {_plural(added_visits, 'visit')}"
    if created:
        # A shared, printed password: each demo user chooses their own at the first sign-in.
        summary += f", and demo users {'/'.join(created)} (one-time password: {password})"
    if existing:
        summary += (f"{';' if created else ','} demo users {'/'.join(existing)} already existed "
                    "(passwords unchanged)")
    return summary + "."
