"""The outbox's state machine (static/outbox_states.js), unit-tested in Node: `node --test tests/unit/js/`."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

JS_TESTS = Path(__file__).resolve().parent / "js"


@pytest.mark.skipif(shutil.which("node") is None, reason="Node is not installed")
def test_outbox_state_machine_in_node() -> None:
    done = subprocess.run(["node", "--test", str(JS_TESTS)], capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stdout[-4000:] + done.stderr[-2000:]
    assert "# fail 0" in done.stdout
