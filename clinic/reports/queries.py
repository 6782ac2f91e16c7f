"""The reports' SQL. Each report is one statement, aggregated by the database (GROUP BY with CASE for the age
bands), written once for SQLite and PostgreSQL through clinic.db's dialect helpers.

Definitions (README, "Reports"):
- A visit counts in a period by its time of care (visits.care_at; before time of care was kept, the time it
  was received), in the facility's calendar.
- An encounter counts once: a multi-part encounter (the nurse's triage, the doctor's examination) is one visit,
  at its first part's time of care, with the distinct codes of its parts' current (latest) revisions (the
  examination's, in practice: a triage rarely names one); each distinct code of an encounter is one case.
- A case is new (kasus baru) when that visit is the patient's first visit, ever, diagnosed with that code
  (ordered by time of care, then visit id); every later visit with the code is a returning case (kasus lama).
- Age is the patient's age on the local date of care.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from databases import Database

from clinic.db import Row, age_days, age_years, fetch_all, json_items, local_date

# LB1's age bands, in order: (key, label). The CASE below gives each case its band's key.
AGE_BANDS = (
    ("d0_7", "0-7 hr"), ("d8_28", "8-28 hr"), ("m1_11", "1-11 bl"), ("y1_4", "1-4 th"), ("y5_9", "5-9 th"),
    ("y10_14", "10-14 th"), ("y15_19", "15-19 th"), ("y20_44", "20-44 th"), ("y45_54", "45-54 th"),
    ("y55_59", "55-59 th"), ("y60_69", "60-69 th"), ("y70", "70+ th"),
)

AT = "COALESCE(v.care_at, v.created_at)"
# A later part's encounter is its first part (`e`, joined by visits.encounter_id): the encounter's time is that
# part's; each part's diagnoses count under the encounter's id.
ENCOUNTER_AT = "COALESCE(e.care_at, e.created_at, v.care_at, v.created_at)"
CURRENT = "NOT EXISTS (SELECT 1 FROM visit_revisions r2 WHERE r2.visit_id = r.visit_id AND r2.revision > r.revision)"


def _band_case(days: str, years: str) -> str:
    return f"""CASE WHEN {days} <= 7 THEN 'd0_7' WHEN {days} <= 28 THEN 'd8_28' WHEN {years} < 1 THEN 'm1_11'
        WHEN {years} <= 4 THEN 'y1_4' WHEN {years} <= 9 THEN 'y5_9' WHEN {years} <= 14 THEN 'y10_14'
        WHEN {years} <= 19 THEN 'y15_19' WHEN {years} <= 44 THEN 'y20_44' WHEN {years} <= 54 THEN 'y45_54'
        WHEN {years} <= 59 THEN 'y55_59' WHEN {years} <= 69 THEN 'y60_69' ELSE 'y70' END"""


def cases_sql(db: Database) -> str:
    """Every case (encounter x distinct code) up to :end of the patients seen in [:start, :end), with `nth`: 1 for
    the patient's first visit with that code. Columns: visit_id, patient_id, sex, birth_date, at, code, nth.
    A poli (or any other column of the visit) joins in by visit_id."""
    return f"""
        SELECT visit_id, patient_id, sex, birth_date, at, code,
               ROW_NUMBER() OVER (PARTITION BY patient_id, code ORDER BY at, visit_id) AS nth
        FROM (SELECT DISTINCT COALESCE(v.encounter_id, v.id) AS visit_id, v.patient_id, p.sex, p.birth_date,
                     {ENCOUNTER_AT} AS at, UPPER(TRIM(d.value)) AS code
              FROM visits v JOIN patients p ON p.id = v.patient_id
              LEFT JOIN visits e ON e.id = v.encounter_id
              JOIN visit_revisions r ON r.visit_id = v.id AND {CURRENT}
              {json_items(db, "r.diagnoses", "d")}
              WHERE {ENCOUNTER_AT} < :end AND TRIM(d.value) <> ''
                AND v.patient_id IN (SELECT v.patient_id FROM visits v WHERE {AT} >= :start AND {AT} < :end)
        ) AS coded"""


async def lb1(db: Database, start: dt.datetime, end: dt.datetime, zone: dict[str, Any]) -> list[Row]:
    """LB1's cells: one row per (code, band, sex) with `new` and `returning` case counts, for visits whose
    time of care is in [start, end) (UTC instants of the month's local bounds)."""
    day = local_date(db, "c.at")
    band = _band_case("a.days", "a.years")
    return await fetch_all(
        db, f"""SELECT a.code, {band} AS band, a.sex,
                   SUM(CASE WHEN a.nth = 1 THEN 1 ELSE 0 END) AS new_cases,
                   SUM(CASE WHEN a.nth > 1 THEN 1 ELSE 0 END) AS old_cases
            FROM (SELECT c.code, c.sex, c.nth, {age_days(db, day, "c.birth_date")} AS days,
                         {age_years(db, day, "c.birth_date")} AS years
                  FROM ({cases_sql(db)}) AS c WHERE c.at >= :start) AS a
            GROUP BY a.code, band, a.sex ORDER BY a.code""",
        {"start": start, "end": end, **zone},
    )


async def register(db: Database, start: dt.datetime, end: dt.datetime, zone: dict[str, Any],
                   poli_id: str | None = None) -> list[Row]:
    """The daily register: each encounter whose time of care is in [start, end), one row per encounter and code
    (an encounter without a diagnosis: one row, code NULL), with the patient, who examined last (the doctor of a
    triage and examination), `nth` (1: a new case) and the poli: that of the check-in the encounter served
    (visit_checkins), else (an encounter recorded before the link was kept) the one the patient was checked in
    to that day, the latest check-in made by the encounter's time, else the day's first. `poli_id`: only that
    poli's."""
    same_day = f"k.patient_id = v.patient_id AND k.day = {local_date(db, AT)}"
    poli = f"""COALESCE(
        (SELECT k.poli_id FROM visit_checkins l JOIN checkins k ON k.id = l.checkin_id WHERE l.visit_id = v.id),
        (SELECT k.poli_id FROM checkins k WHERE {same_day} AND k.created_at <= {AT}
          ORDER BY k.created_at DESC, k.id LIMIT 1),
        (SELECT k.poli_id FROM checkins k WHERE {same_day} ORDER BY k.created_at, k.id LIMIT 1))"""
    return await fetch_all(
        db, f"""SELECT e.*, pl.name AS poli_name FROM (
            SELECT v.id AS visit_id, {AT} AS at, p.id AS patient_id, p.name, p.record_number, p.sex,
                   p.birth_date, c.code, c.nth, {poli} AS poli_id,
                   (SELECT u.full_name FROM visits x JOIN users u ON u.id = x.author_id
                     WHERE x.id = v.id OR x.encounter_id = v.id
                     ORDER BY COALESCE(x.care_at, x.created_at) DESC, x.id DESC LIMIT 1) AS author_name,
                   (SELECT COUNT(*) FROM visits x WHERE x.patient_id = v.patient_id AND x.encounter_id IS NULL
                      AND COALESCE(x.care_at, x.created_at) < {AT}) AS earlier_visits
            FROM visits v JOIN patients p ON p.id = v.patient_id
            LEFT JOIN ({cases_sql(db)}) AS c ON c.visit_id = v.id
            WHERE v.encounter_id IS NULL AND {AT} >= :start AND {AT} < :end) AS e
            LEFT JOIN polis pl ON pl.id = e.poli_id
            {"WHERE e.poli_id = :poli" if poli_id else ""}
            ORDER BY e.at, e.visit_id, e.code""",
        {"start": start, "end": end, **zone, **({"poli": poli_id} if poli_id else {})},
    )


CHRONIC = {
    "hypertension": ("I10", "I11", "I12", "I13", "I14", "I15"),
    "diabetes": ("E10", "E11", "E12", "E13", "E14"),
}


async def overdue_chronic(db: Database, now: dt.datetime, days: int = 30) -> list[Row]:
    """Patients ever diagnosed with hypertension (I10-I15) or diabetes (E10-E14) whose last visit's time of
    care is more than `days` days before `now`; with the condition(s), the last visit, and the last blood
    pressure recorded (the latest visit with both values), oldest last visit first."""
    condition = {name: " OR ".join(f"UPPER(d.value) LIKE '{code}%'" for code in codes)
                 for name, codes in CHRONIC.items()}
    return await fetch_all(
        db, f"""WITH chronic AS (
                SELECT v.patient_id,
                       MAX(CASE WHEN {condition["hypertension"]} THEN 1 ELSE 0 END) AS hypertension,
                       MAX(CASE WHEN {condition["diabetes"]} THEN 1 ELSE 0 END) AS diabetes
                FROM visits v JOIN visit_revisions r ON r.visit_id = v.id AND {CURRENT}
                {json_items(db, "r.diagnoses", "d")}
                WHERE {condition["hypertension"]} OR {condition["diabetes"]}
                GROUP BY v.patient_id),
            last_visit AS (
                SELECT v.patient_id, MAX({AT}) AS last_at FROM visits v
                WHERE v.patient_id IN (SELECT patient_id FROM chronic) GROUP BY v.patient_id),
            bp AS (
                SELECT patient_id, systolic, diastolic, at FROM (
                    SELECT v.patient_id, r.systolic, r.diastolic, {AT} AS at,
                           ROW_NUMBER() OVER (PARTITION BY v.patient_id ORDER BY {AT} DESC, v.id DESC) AS nth
                    FROM visits v JOIN visit_revisions r ON r.visit_id = v.id AND {CURRENT}
                    WHERE v.patient_id IN (SELECT patient_id FROM chronic)
                      AND r.systolic IS NOT NULL AND r.diastolic IS NOT NULL) AS ranked
                WHERE nth = 1)
            SELECT p.id AS patient_id, p.name, p.record_number, p.sex, p.birth_date, p.phone,
                   ch.hypertension, ch.diabetes, lv.last_at, bp.systolic, bp.diastolic, bp.at AS bp_at
            FROM chronic ch JOIN patients p ON p.id = ch.patient_id
            JOIN last_visit lv ON lv.patient_id = ch.patient_id
            LEFT JOIN bp ON bp.patient_id = ch.patient_id
            WHERE lv.last_at < :cutoff
            ORDER BY lv.last_at, p.name""",
        {"cutoff": now - dt.timedelta(days=days)},
    )
