"""The device's ICD-10 script (static/icd10.js) agrees with clinic/rules/icd10.py: runs the Node test."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.skipif(shutil.which("node") is None, reason="Node.js is not installed")
def test_the_device_script_suggests_and_refuses_as_the_server() -> None:
    result = subprocess.run(["node", "--test", "tests/js/test_icd10.mjs"], cwd=ROOT, capture_output=True, text=True,
                            env={"PATH": "/usr/bin:/bin:/usr/local/bin", "PYTHON": sys.executable}, check=False,
                            timeout=300)
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
