"""The README's table of who may do what, generated from the route table (clinic/routes.py), so the README
never states a rule the app does not apply.

    python -m clinic.access_table          # rewrite the table between the README's roles markers
    python -m clinic.access_table --check  # exit 1 when the README differs from the route table
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterable

from starlette.routing import BaseRoute

from clinic.accounts.roles import ROLES
from clinic.config import ROOT
from clinic.generated import write_or_check
from clinic.web import Page

README = ROOT / "README.md"
START, END = "<!-- roles:start -->", "<!-- roles:end -->"


def table(routes: Iterable[BaseRoute]) -> str:
    pages = [route for route in routes if isinstance(route, Page)]
    public = [route for route in pages if "*" in route.roles]
    lines = [f"| request | {' | '.join(ROLES)} |", "|---|" + "---|" * len(ROLES)]
    for route in pages:
        if route in public:
            continue
        assert route.methods is not None
        methods = "/".join(sorted(route.methods - {"HEAD"}))
        path = re.sub(r"\{(\w+):\w+\}", r"{\1}", route.path)
        marks = " | ".join("✓" if role in route.roles else "" for role in ROLES)
        lines.append(f"| `{methods} {path}` ({route.name}) | {marks} |")
    names = ", ".join(f"`{path}`" for path in dict.fromkeys(route.path for route in public))
    return "\n".join(lines) + f"\n\nWithout signing in: {names}.\n"


def with_table(readme: str, routes: Iterable[BaseRoute]) -> str:
    head, _, rest = readme.partition(START)
    _, _, tail = rest.partition(END)
    return f"{head}{START}\n{table(routes)}{END}{tail}"


def main(argv: list[str]) -> int:
    from clinic.routes import ROUTES

    expected = with_table(README.read_text(encoding="utf-8"), ROUTES)
    return write_or_check(README, expected, argv, "python -m clinic.access_table")


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
