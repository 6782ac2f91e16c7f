"""The Indonesian catalogue is complete: every message in the code and templates is translated, placeholders
kept. English is the source language and is served from the messages themselves, with no catalogue."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import jinja2
import pytest
from babel.messages.pofile import read_po

from clinic import i18n

ROOT = Path(__file__).resolve().parents[2]
PLACEHOLDER = re.compile(r"\{(\w+)\}")


@pytest.fixture(scope="module")
def extracted(tmp_path_factory: pytest.TempPathFactory) -> set[str]:
    pot = tmp_path_factory.mktemp("i18n") / "messages.pot"
    subprocess.run([sys.executable, "-m", "babel.messages.frontend", "extract", "-F", "babel.cfg", "-k", "N_",
                    "-k", "_", "-o", str(pot), "--no-location", "."], cwd=ROOT, check=True, capture_output=True)
    with pot.open("rb") as handle:
        return {str(message.id) for message in read_po(handle) if message.id}


@pytest.mark.parametrize("locale", [locale for locale in i18n.LOCALES if locale != i18n.SOURCE_LOCALE])
def test_catalogue_translates_every_message(locale: str, extracted: set[str]) -> None:
    with (ROOT / "clinic" / "locale" / locale / "LC_MESSAGES" / "messages.po").open("rb") as handle:
        catalog = read_po(handle, locale=locale)
    translated = {str(m.id): str(m.string) for m in catalog if m.id and m.string}
    missing = sorted(extracted - set(translated))
    assert not missing, f"untranslated in {locale}: {missing[:20]}"
    wrong = [msgid for msgid, text in translated.items()
             if set(PLACEHOLDER.findall(msgid)) != set(PLACEHOLDER.findall(text))]
    assert not wrong, f"placeholders differ in {locale}: {wrong[:10]}"


def test_indonesian_is_really_translated() -> None:
    i18n.set_locale("id")
    assert i18n.gettext("Sign out") == "Keluar"
    assert i18n.gettext("Patients") != "Patients"
    i18n.set_locale("en")
    assert i18n.gettext("Sign out") == "Sign out"
    i18n.set_locale("id")


def test_english_is_the_source_text_without_a_catalogue() -> None:
    assert not (ROOT / "clinic" / "locale" / "en").exists()
    i18n.set_locale("en")
    try:
        assert i18n.gettext("Patients") == "Patients"
        assert i18n._("Use at least {n} characters.", n=12) == "Use at least 12 characters."
        assert i18n.gettext("A message no catalogue has") == "A message no catalogue has"
        assert [i18n.ngettext("{n} visit", "{n} visits", n) for n in (0, 1, 2)] == ["{n} visits", "{n} visit",
                                                                                     "{n} visits"]
        env = jinja2.Environment(extensions=["jinja2.ext.i18n"], autoescape=True)
        env.install_gettext_callables(i18n.gettext, i18n.ngettext, newstyle=True)  # type: ignore[attr-defined]
        template = env.from_string("{% trans count=n %}{{ count }} patient{% pluralize %}{{ count }} patients"
                                   "{% endtrans %}")
        assert [template.render(n=n) for n in (1, 3)] == ["1 patient", "3 patients"]
    finally:
        i18n.set_locale("id")
