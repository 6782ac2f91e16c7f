"""The patient index on the wire (clinic/feed/wire.py) and back on the device (static/index_wire.js, run in Node):
the device holds exactly the entries the server read, whatever the No. RM, NIK or birth date looks like."""

from __future__ import annotations

import datetime as dt
import gzip
import json
import shutil
import subprocess
import uuid
from pathlib import Path
from typing import Any

import pytest

from clinic.feed import wire
from clinic.feed.queries import INDEX_FIELDS
from clinic.rules.nik import make_nik

DECODER = Path(__file__).resolve().parents[2] / "static" / "index_wire.js"


def entry(number: str, born: dt.date | None, sex: str, nik: str | None, **extra: Any) -> dict[str, Any]:
    return {"id": str(uuid.uuid4()), "record_number": number, "name": f"Pasien {number}", "sex": sex,
            "birth_date": born, "nik": nik, "bpjs_number": "0001946067406", "mother_nik": None,
            "address": "Jl. Melati No. 4", "version": 1, "possible_duplicate": False, "merged_into": None} | extra


def sample() -> list[dict[str, Any]]:
    women = dt.date(1990, 3, 12)
    return [
        entry("000001", women, "female", make_nik("32", "73", "10", women, "female", 4)),  # date part dropped
        entry("000002", dt.date(1942, 5, 7), "male", make_nik("33", "74", "01", dt.date(1942, 5, 7), "male", 7176)),
        entry("000003", dt.date(1969, 12, 31), "male", "3273101507850002"),  # NIK of another birth date: as it is
        entry("000010", dt.date(2026, 1, 1), "female", None, possible_duplicate=True),  # a gap in the numbers
        entry("000009", dt.date(2000, 2, 29), "male", "1234567890"),  # an older number after a newer one; 10 digits
        entry("RM-77", dt.date(1955, 8, 17), "female", None, merged_into=str(uuid.uuid4())),  # an imported No. RM
        entry("0012", None, "male", None, mother_nik="3273105203900004"),  # fewer digits than six; no birth date
        entry("1234567", dt.date(1900, 1, 1), "female", None, address=None, version=3),  # seven digits
        entry("000011", dt.date(1980, 4, 1), "male", make_nik("11", "01", "01", dt.date(1980, 4, 1), "male", 1)),
    ]


def test_the_page_has_every_field_of_the_index_and_ids_as_22_characters() -> None:
    entries = sample()
    columns = wire.columns(entries)
    assert set(columns) == set(INDEX_FIELDS)
    assert len(columns["id"]) == 22 * len(entries)
    assert columns["record_number"][:5] == [1, 1, 1, 7, -1]
    assert columns["record_number"][5:7] == ["RM-77", "0012"]
    assert columns["nik"][0] == int(entries[0]["nik"][:6] + entries[0]["nik"][12:])
    assert columns["nik"][2] == "3273101507850002"
    assert columns["birth_date"][2] == -1 and columns["birth_date"][6] is None


@pytest.mark.skipif(shutil.which("node") is None, reason="Node is not installed")
def test_the_device_reads_back_exactly_the_entries_sent() -> None:
    entries = sample()
    page = json.dumps({"columns": wire.columns(entries), "count": len(entries)})
    script = (f"const wire = require({json.dumps(str(DECODER))});"
              "const page = JSON.parse(require('fs').readFileSync(0, 'utf8'));"
              "process.stdout.write(JSON.stringify(wire.entries(page.columns, page.count)));")
    done = subprocess.run(["node", "-e", script], input=page, capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    expected = [e | {"birth_date": e["birth_date"].isoformat() if e["birth_date"] else None} for e in entries]
    assert json.loads(done.stdout) == expected


def test_columns_of_short_forms_compress_to_less_than_rows_of_text() -> None:
    """What the short forms are for (bench/device_index.py measures the real figure)."""
    entries = [entry(f"{n:06d}", dt.date(1950, 1, 1) + dt.timedelta(days=n * 7), "female",
                     make_nik("32", "73", "10", dt.date(1950, 1, 1) + dt.timedelta(days=n * 7), "female", n))
               for n in range(1, 2001)]
    rows = json.dumps([[e[name] if name != "birth_date" else e[name].isoformat() for name in INDEX_FIELDS]
                       for e in entries]).encode()
    sent = json.dumps(wire.columns(entries)).encode()
    assert len(gzip.compress(sent, 9)) < 0.7 * len(gzip.compress(rows, 9))
