"""Catalogue upkeep: `python -m clinic.i18n_tools fill-english | missing`.

English is the source language of the messages, so the English catalogue's translations are the
messages themselves; the Indonesian one is written by people.
"""

from __future__ import annotations

import sys

from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po

from clinic.i18n import LOCALE_DIR


def load(locale: str) -> Catalog:
    with (LOCALE_DIR / locale / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        return read_po(handle, locale=locale)


def save(catalog: Catalog, locale: str) -> None:
    with (LOCALE_DIR / locale / "LC_MESSAGES" / "messages.po").open("wb") as handle:
        write_po(handle, catalog, omit_header=True, no_location=True, width=110)


def untranslated(catalog: Catalog) -> list[str]:
    return [str(message.id) for message in catalog if message.id and not message.string]


def fill_english() -> None:
    catalog = load("en")
    for message in catalog:
        if message.id and not message.string:
            message.string = message.id
    save(catalog, "en")


def main(argv: list[str]) -> int:
    if argv[:1] == ["fill-english"]:
        fill_english()
        return 0
    if argv[:1] == ["missing"]:
        missing = untranslated(load("id"))
        print("\n".join(missing))
        return 1 if missing else 0
    print(__doc__)
    return 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
