"""A device item its author discarded (with a reason) is reported through /sync to the access log, once."""

from __future__ import annotations

import uuid
from typing import Any

from tests.conftest import USER_IDS
from tests.http.conftest import query


def discard_item(key: str, reason: str = "Pasien salah, dicatat ulang", author: str = "nurse") -> dict[str, Any]:
    patient = str(uuid.uuid4())
    return {"key": key, "target": f"/patients/{patient}/visits", "method": "POST", "author": USER_IDS[author],
            "discard": {"reason": reason, "kind": "visit", "patient": patient}}


def discards(client) -> list[dict[str, Any]]:  # type: ignore[no-untyped-def]
    return query(client, "SELECT user_id, patient_id, detail FROM access_log WHERE action = 'discard'")


def test_a_discard_reaches_the_access_log_with_its_reason_once(client_for):  # type: ignore[no-untyped-def]
    nurse = client_for("nurse")
    key = str(uuid.uuid4())
    item = discard_item(key)
    first = nurse.post("/sync", json={"items": [item]}).json()["results"]
    again = nurse.post("/sync", json={"items": [item]}).json()["results"]
    assert [r["status"] for r in first + again] == ["stored", "stored"]
    rows = discards(nurse)
    assert len(rows) == 1
    assert rows[0]["user_id"] == USER_IDS["nurse"]
    detail = rows[0]["detail"]
    assert key in detail and "Pasien salah, dicatat ulang" in detail and "visit" in detail
    assert str(rows[0]["patient_id"]) in item["target"]
    # Nothing else was stored for it.
    assert query(nurse, "SELECT COUNT(*) AS n FROM visits")[0]["n"] == 0


def test_a_discard_without_a_reason_or_by_someone_else_is_refused(client_for):  # type: ignore[no-untyped-def]
    nurse = client_for("nurse")
    results = nurse.post("/sync", json={"items": [
        discard_item(str(uuid.uuid4()), reason="  "),
        discard_item("not-a-uuid"),
        discard_item(str(uuid.uuid4()), author="doctor"),
    ]}).json()["results"]
    assert [r["status"] for r in results] == ["rejected", "rejected", "wrong_author"]
    assert discards(nurse) == []
