"""Translations: Bahasa Indonesia by default, English second.

The messages in the code and templates are written in English, so English needs no catalogue: it is
served from the source text. Indonesian comes from the gettext catalogue in clinic/locale/id.
"""

from __future__ import annotations

from contextvars import ContextVar
from functools import cache
from io import BytesIO
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

LOCALE_DIR = Path(__file__).parent / "locale"
LOCALES = ("id", "en")
DEFAULT_LOCALE = "id"
SOURCE_LOCALE = "en"  # the language the messages are written in
LANGUAGE_NAMES = {"id": "Bahasa Indonesia", "en": "English"}
COOKIE = "lang"

_current: ContextVar[str] = ContextVar("locale", default=DEFAULT_LOCALE)


@cache
def translations(locale: str) -> NullTranslations:
    if locale == SOURCE_LOCALE:
        # gettext returns the message itself; ngettext the singular for 1, otherwise the plural.
        return NullTranslations()
    # The .po files are the source of truth; they are compiled in memory once per process.
    path = LOCALE_DIR / locale / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=locale)
    buffer = BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(fp=buffer, domain="messages")


def set_locale(locale: str) -> None:
    _current.set(locale if locale in LOCALES else DEFAULT_LOCALE)


def get_locale() -> str:
    return _current.get()


def gettext(message: str) -> str:
    return translations(get_locale()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return translations(get_locale()).ngettext(singular, plural, n)


def _(message: str, **params: object) -> str:
    """Translate, then fill `{name}` placeholders."""
    text = gettext(message)
    return text.format(**params) if params else text


def choose_locale(cookie: str | None) -> str:
    if cookie in LOCALES:
        return cookie
    # Indonesian staff are the default audience; an English browser alone does not switch.
    return DEFAULT_LOCALE
