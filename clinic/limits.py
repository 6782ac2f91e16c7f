"""How much a submission may hold: one table for the checks of every form and of /sync."""

from __future__ import annotations

# Any one field of a form or a replayed item; longer is not a clinical note, and the submission is
# refused whole (400) before any check of its content.
FIELD_CHARS = 20_000
# Identity data, per field (characters).
PATIENT_CHARS = {"name": 200, "phone": 30, "address": 500, "occupation": 100}
POLI_NAME_CHARS = 60  # polis.name
ALLERGIES = 20  # substance and reaction pairs on one patient
ALLERGY_CHARS = 200  # a substance, or a reaction
NOTE_CHARS = 10_000  # one SOAP text of a visit
# The longest measurement is "500.00"; far longer text is no number, and past 28 digits check_vitals'
# Decimal.quantize() overflows (decimal.InvalidOperation), so such text is refused before it gets there.
VITAL_CHARS = 20
PRESCRIPTION_CHARS = 200  # each column of one prescription line
REASON_CHARS = 1_000  # the reason given for a correction
AUDIT_DETAIL_CHARS = 200  # what the access log keeps of that reason
DIAGNOSES = 12
PRESCRIPTIONS = 20
# No name may repeat in one submission more often than the longest list a form sends (one value per
# prescription line; the form's add-row button stops there), and no submission may carry more names than
# a form has (the visit form sends about 30). More is no form's: the submission is refused whole (400)
# before any value is looked at, so no list costs more work than an honest one.
FIELD_VALUES = max(DIAGNOSES, PRESCRIPTIONS)
FIELD_NAMES = 100
USERNAME_CHARS = 60
FULL_NAME_CHARS = 200
SIP_CHARS = 60  # a doctor's licence number (Surat Izin Praktik), users.sip
# A device's clock: the time it says a record was entered (the time of care) may run ahead of the
# server's by at most this many minutes; the record notes when care and receipt are more than a day apart.
DEVICE_CLOCK_AHEAD_MINUTES = 5
CARE_RECEIPT_APART_HOURS = 24
