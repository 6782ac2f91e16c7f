"""The pharmacy: the formulary's import (whole or not at all, bad lines named), suggestions for prescription
lines, today's prescriptions for the pharmacist, dispensing (append-only, in the access log), the patient's copy."""

from __future__ import annotations

import pytest

from tests.conftest import USER_IDS
from tests.http.conftest import query
from tests.http.test_visits import record_visit, register

GOOD = "name,strength,form,kfa_code\nAmlodipin,5 mg,tablet,93001234\nParasetamol,500 mg,tablet,\nOralit,,serbuk,\n"
BAD = ("name;strength;form;kfa_code\nAmlodipin;5 mg;tablet;93001234\n;10 mg;tablet;\n"
       "Metformin;500 mg;tablet;KFA#1\nAmlodipin;5 mg;tablet;\n")


def test_a_formulary_with_bad_lines_imports_nothing_and_names_them(client_for) -> None:  # type: ignore
    admin = client_for("admin")
    assert admin.post("/admin/formulary", files={"file": ("f.csv", GOOD.encode())}).status_code == 200
    response = admin.post("/admin/formulary", files={"file": ("f.csv", BAD.encode())})
    assert response.status_code == 422
    assert 'data-line="3"' in response.text and 'data-line="4"' in response.text and 'data-line="5"' in response.text
    assert 'data-line="2"' not in response.text
    names = {row["name"] for row in query(admin, "SELECT name FROM formulary")}
    assert names == {"Amlodipin", "Parasetamol", "Oralit"}  # the former list, untouched
    pasted = admin.post("/admin/formulary", data={"csv": "name,form\nCaptopril 25 mg,tablet\n"})
    assert pasted.status_code == 200 and 'data-imported="1"' in pasted.text
    assert [row["name"] for row in query(admin, "SELECT name FROM formulary")] == ["Captopril 25 mg"]
    assert query(admin, "SELECT COUNT(*) AS n FROM access_log WHERE action = 'formulary'")[0]["n"] == 2
    assert admin.post("/admin/formulary", data={"csv": "drug\nX\n"}).status_code == 422


def test_prescription_lines_suggest_from_the_formulary(client_for) -> None:  # type: ignore[no-untyped-def]
    client_for("admin").post("/admin/formulary", files={"file": ("f.csv", GOOD.encode())})
    doctor = client_for("doctor")
    options = doctor.get("/formulary?rx_drug=amlo").text
    assert 'value="Amlodipin 5 mg tablet"' in options and "KFA 93001234" in options
    assert "Parasetamol" not in options
    patient_id = register(doctor)
    form = doctor.get(f"/patients/{patient_id}/visits/new").text
    assert 'list="formulary-options"' in form and 'name="prescription"' in form  # free text stays


def test_the_pharmacist_dispenses_todays_prescriptions(client_for) -> None:  # type: ignore[no-untyped-def]
    doctor, pharmacist = client_for("doctor"), client_for("pharmacist")
    patient_id = register(doctor)
    visit_id = record_visit(doctor, patient_id)
    bare = record_visit(doctor, patient_id, rx_drug=[], rx_dose=[], rx_frequency=[], rx_route=[], rx_duration=[],
                        prescription="")  # nothing to dispense
    page = pharmacist.get("/pharmacy")
    assert page.status_code == 200
    assert f'data-visit-id="{visit_id}" data-dispensed=""' in page.text and bare not in page.text
    refused = pharmacist.post(f"/pharmacy/{visit_id}/dispense", data={"status": "partial", "note": ""})
    assert refused.status_code == 422 and "field-error" in refused.text
    assert query(pharmacist, "SELECT COUNT(*) AS n FROM dispensings")[0]["n"] == 0
    done = pharmacist.post(f"/pharmacy/{visit_id}/dispense",
                           data={"status": "partial", "note": "Kloramfenikol 56 kaps, sisa besok"})
    assert done.status_code == 200 and f'data-visit-id="{visit_id}" data-dispensed="partial"' in done.text
    assert "Apt. Rina Kusuma" in done.text
    rows = query(pharmacist, "SELECT status, note, dispensed_by, revision FROM dispensings")
    note = "Kloramfenikol 56 kaps, sisa besok"
    assert [(r["status"], r["note"], r["revision"]) for r in rows] == [("partial", note, 1)]
    logged = query(pharmacist, "SELECT visit_id, detail FROM access_log WHERE action = 'dispense'")
    assert logged[0]["visit_id"] == visit_id and logged[0]["detail"].startswith("partial")
    with pytest.raises(Exception, match="append-only"):
        query(pharmacist, "UPDATE dispensings SET status = 'full'")
    assert pharmacist.post("/pharmacy/00000000-0000-4000-8000-000000000001/dispense",
                           data={"status": "full"}).status_code == 404
    copy = pharmacist.get(f"/patients/{patient_id}/visits/{visit_id}/prescription")
    assert copy.status_code == 200 and "Kloramfenikol 250 mg kaps" in copy.text and "data-signature" in copy.text
    assert "Kloramfenikol 56 kaps, sisa besok" in copy.text
    assert doctor.get("/pharmacy").status_code == 403


def test_an_admin_sets_a_doctors_licence_number_shown_on_the_prints(client_for) -> None:  # type: ignore
    admin, doctor = client_for("admin"), client_for("doctor")
    response = admin.post(f"/admin/users/{USER_IDS['doctor']}", data={"action": "sip", "sip": "503/SIP/77/2026"})
    assert response.status_code == 200 and 'value="503/SIP/77/2026"' in response.text
    assert admin.post(f"/admin/users/{USER_IDS['doctor']}", data={"action": "sip", "sip": "S" * 61}).status_code == 422
    patient_id = register(doctor)
    visit_id = record_visit(doctor, patient_id)
    for path in ("print", "prescription"):
        page = doctor.get(f"/patients/{patient_id}/visits/{visit_id}/{path}").text
        assert "503/SIP/77/2026" in page and "data-signature" in page and "data-facility" in page
