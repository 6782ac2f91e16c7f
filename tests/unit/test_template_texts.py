"""The templates' translated texts, kept per language once done, come out as jinja2's i18n extension makes
them: in the request's language, escaped as markup, `%`-formatted with their variables."""

from __future__ import annotations

import jinja2

from clinic import i18n
from clinic.templating import environment


def render(source: str, locale: str, env: jinja2.Environment | None = None) -> str:
    """In the app's environment of that language (its constant texts translated when compiled), or `env`."""
    token = i18n._current.set(locale)
    try:
        return (env or environment(locale)).from_string(source).render()
    finally:
        i18n._current.reset(token)


def stock_environment() -> jinja2.Environment:
    env = jinja2.Environment(autoescape=True, extensions=["jinja2.ext.i18n"])
    env.install_gettext_callables(i18n.gettext, i18n.ngettext, newstyle=True)  # type: ignore[attr-defined]
    return env


def test_each_language_gets_its_own_text_however_often_asked() -> None:
    for _ in range(2):  # the second time from what was kept
        assert render('{{ _("Sign out") }}', "id") == "Keluar"
        assert render('{{ _("Sign out") }}', "en") == "Sign out"
        assert render('{{ gettext("Sign out") }}', "id") == "Keluar"


def test_variables_and_percent_signs_as_jinja_does_them() -> None:
    stock = stock_environment()
    sources = ['{{ _("%(who)s & co", who="<b>") }}', '{{ _("100%%") }}', '{{ _("{n} years").format(n="<3>") }}',
               '{{ gettext("Sign out") }}', '{% autoescape false %}{{ _("%(who)s", who="<b>") }}{% endautoescape %}',
               '{{ _("<b>Sign out</b>") }}', '{% autoescape false %}{{ _("a & b") }}{% endautoescape %}',
               '{{ _("a & b")|e }}', '{{ _("Sign out")|upper }}', '{{ _("Sign out") ~ "<" }}']
    for _ in range(2):
        for source in sources:
            for locale in i18n.LOCALES:
                assert render(source, locale) == render(source, locale, stock), source


def test_a_constant_text_is_translated_when_the_template_is_compiled() -> None:
    """Each language's templates carry their constant texts as their own (no call per render); a text with
    variables, or not constant, is still translated when rendered."""
    indonesian = environment("id").compile('{{ _("Sign out") }}', raw=True)
    assert "Keluar" in indonesian and "Sign out" not in indonesian and "context.call" not in indonesian
    english = environment("en").compile('{{ _("Sign out") }}', raw=True)
    assert "Sign out" in english and "context.call" not in english
    assert render('{% set t = "Sign out" %}{{ _(t) }}', "id") == "Keluar"
    assert render('{{ _("Sign out") }} {{ _("Sign out") }}', "en") == "Sign out Sign out"
