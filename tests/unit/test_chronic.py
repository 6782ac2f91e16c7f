"""The return visit's prefill: ongoing chronic diagnoses (I10-I15, E10-E14) and the last prescription."""

from __future__ import annotations

from clinic.rules.chronic import EncounterNote, is_chronic, return_visit

AMLODIPIN = {"drug": "Amlodipin 5 mg", "dose": "1 tab", "frequency": "1x sehari", "route": "oral", "duration": "30"}
METFORMIN = {"drug": "Metformin 500 mg", "dose": "1 tab", "frequency": "2x sehari", "route": "oral", "duration": "60"}


def test_chronic_categories() -> None:
    assert all(is_chronic(code) for code in ("I10", "I11.9", "I15.0", "E11.9", "E10", "e14.9"))
    assert not any(is_chronic(code) for code in ("I16", "I09.9", "E15", "E09", "J06.9", "A01.0"))


def test_prefill_takes_ongoing_diagnoses_and_the_last_prescription() -> None:
    notes = [EncounterNote(["J06.9"], [{"drug": "Paracetamol"}]),  # newest: an acute visit
             EncounterNote(["I10", "E11.9"], [AMLODIPIN, METFORMIN]),
             EncounterNote(["I10"], [AMLODIPIN])]
    found = return_visit(notes)
    assert found is not None
    assert found.diagnoses == ["I10", "E11.9"]
    assert found.prescriptions == [AMLODIPIN, METFORMIN]  # the last chronic visit's, not the acute one's
    assert return_visit([EncounterNote(["J06.9"], [AMLODIPIN])]) is None
    assert return_visit([]) is None
