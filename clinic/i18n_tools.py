"""Catalogue upkeep: `python -m clinic.i18n_tools missing` lists the messages Indonesian lacks.

English is the source language of the messages and has no catalogue; the Indonesian one is written by people.
"""

from __future__ import annotations

import sys

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po

from clinic.i18n import LOCALE_DIR


def load(locale: str) -> Catalog:
    with (LOCALE_DIR / locale / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        return read_po(handle, locale=locale)


def untranslated(catalog: Catalog) -> list[str]:
    return [str(message.id) for message in catalog if message.id and not message.string]


def main(argv: list[str]) -> int:
    if argv[:1] == ["missing"]:
        missing = untranslated(load("id"))
        print("\n".join(missing))
        return 1 if missing else 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
