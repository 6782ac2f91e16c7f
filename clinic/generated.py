"""Files generated from the route table (static/targets.js, the README's role table): written by their
module's command, or checked with --check so a stale copy fails instead of drifting."""

from __future__ import annotations

import sys
from pathlib import Path


def write_or_check(path: Path, expected: str, argv: list[str], command: str) -> int:
    if argv[:1] == ["--check"]:
        if path.read_text(encoding="utf-8") != expected:
            print(f"{path.name} differs from the route table (clinic/routes.py); run `{command}`", file=sys.stderr)
            return 1
        return 0
    path.write_text(expected, encoding="utf-8")
    print(f"wrote {path}")
    return 0
