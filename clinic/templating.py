"""Jinja2 environment: autoescaped, i18n, versioned static URLs."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
from decimal import Decimal
from functools import cache
from typing import Any

import jinja2
import jinja2.ext
from jinja2 import nodes
from jinja2.visitor import NodeTransformer
from markupsafe import Markup, escape
from starlette.requests import Request
from starlette.templating import Jinja2Templates

from clinic import i18n
from clinic.accounts.roles import corrects_others, may_correct, ordered, role_label
from clinic.config import ROOT, facility
from clinic.patients.validation import CHOICES, FIELD_LABELS, allergy_list, label_of
from clinic.rules import complaints, icd10
from clinic.rules.clock import facility_today, facility_zone
from clinic.rules.dates import format_date
from clinic.rules.vitals import CONSCIOUSNESS, VITALS
from clinic.text import N_
from clinic.visits.validation import DRUG_ROUTES
from clinic.web import can

TEMPLATE_DIR = ROOT / "templates"
STATIC_DIR = ROOT / "static"


@cache
def static_version(name: str) -> str:
    path = STATIC_DIR / name
    return hashlib.sha256(path.read_bytes()).hexdigest()[:10] if path.is_file() else "0"


def static_url(name: str) -> str:
    # The content hash in the URL lets browsers keep static files for a year.
    return f"/static/{name}?v={static_version(name)}"


def translated(choices: Any) -> list[tuple[str, str]]:
    return [(value, i18n.gettext(label)) for value, label in choices]


def local_date(value: dt.date | dt.datetime | str | None) -> str:
    """The one date format (clinic/rules/dates.py); a moment is shown as its date in the facility's zone."""
    if isinstance(value, dt.datetime):
        value = value.astimezone(facility_zone()).date()
    return format_date(value)


def format_datetime(moment: dt.datetime | None) -> str:
    if moment is None:
        return ""
    local = moment.astimezone(facility_zone())
    return format_date(local.date()) + local.strftime(" %H:%M ") + (local.tzname() or "")


def format_clock(moment: dt.datetime | None) -> str:
    """The local time of day alone (HH:MM), where the day goes without saying (today's queue)."""
    return "" if moment is None else moment.astimezone(facility_zone()).strftime("%H:%M")


def abnormal(spec: Any, value: Any) -> bool:
    if value is None or spec.normal_min is None:
        return False
    return not (spec.normal_min <= value <= spec.normal_max)


def format_number(value: Any) -> str:
    if value is None:
        return ""
    text = format(Decimal(str(value)).normalize(), "f")
    return text.replace(".", ",") if i18n.get_locale() == "id" else text


def _labeller(choices: tuple[tuple[str, str], ...]) -> Any:
    """The translated label of a stored choice (the value itself when not in `choices`). The dict is made
    once: hashing the whole tuple of choices on each call cost more than the lookup."""
    labels = dict(choices)

    def label(value: Any) -> str:
        found = labels.get(value)
        return i18n.gettext(found) if found else (value or "")

    return label



consciousness_label = _labeller(CONSCIOUSNESS)
def vital_signs(content: dict[str, Any]) -> Markup:
    """A visit's vital signs as the record page lists them: each one measured, with its unit, those out of
    the normal range marked `vital-abnormal`, then the consciousness, separated by "; ". One call per visit
    part: the same loop in the template cost as much as the rest of the visit's card. The labels and units
    are the app's own texts (translations are taken as markup, as in the templates), the values numbers."""
    shown = [f'<span class="vital{" vital-abnormal" if abnormal(spec, content[spec.name]) else ""}">'
             f"{i18n.gettext(spec.label)}: {format_number(content[spec.name])} {spec.unit}</span>"
             for spec in VITALS if content.get(spec.name) is not None]
    if content.get("consciousness"):
        shown.append(f'<span class="vital">{i18n.gettext(N_("Consciousness"))}: '
                     f"{escape(consciousness_label(content['consciousness']))}</span>")
    return Markup("; ".join(shown))

def age_text(born: dt.date | None, today: dt.date | None = None) -> str:
    if born is None:
        return ""
    today = today or facility_today()
    years = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
    if years >= 2:
        return i18n._("{n} years", n=years)
    months = (today.year - born.year) * 12 + today.month - born.month - (today.day < born.day)
    if months >= 1:
        return i18n._("{n} months", n=months)
    return i18n._("{n} days", n=(today - born).days)


def choice_label(field: str, value: str | None) -> str:
    label = label_of(CHOICES[field], value)
    return i18n.gettext(label) if label else ""


def js_texts() -> dict[str, str]:
    """Texts the page script shows, in the page's language."""
    g = i18n.gettext  # noqa: N806 -- the strings below are extracted through the N_ markers
    return {
        "state_online": g(N_("Online")), "state_offline": g(N_("Offline")), "state_syncing": g(N_("Syncing…")),
        "state_attention": g(N_("Needs attention")), "waiting": g(N_("Waiting to sync")),
        "needsAttention": g(N_("Needs attention")), "kind_patient": g(N_("New patient")),
        "kind_patient_edit": g(N_("Identity change")), "kind_visit": g(N_("Visit")),
        "kind_correction": g(N_("Correction")),
        "attempts": g(N_("attempts")), "openAndFix": g(N_("Open and fix")), "sendAgain": g(N_("Send again")),
        "nowStored": g(N_("Now stored")), "yours": g(N_("Yours")), "never": g(N_("never")),
        "persistent": g(N_("kept permanently")), "notPersistent": g(N_("may be cleared by the browser")),
        "quotaWarning": g(N_("Storage on this device is almost full. Sync now and free space.")),
        "savedCopy": g(N_("Saved copy: you are offline, this page is as it was on")),
        "updateReady": g(N_("A new version of the app is ready.")), "reload": g(N_("Reload now")),
        "signOutWarning": g(N_("{n} record(s) entered on this device are not on the server yet. They stay on this "
                            "device and are sent when you sign in again. Sign out?")),
        "storageFailed": g(N_("This device could not save data: ")),
        "ageYears": g(N_("{n} years")), "ageMonths": g(N_("{n} months")), "ageDays": g(N_("{n} days")),
        "noMatch": g(N_("No patient matches “{q}”.")), "noPatients": g(N_("No patients registered yet.")),
        "foundOnDevice": g(N_("Searched on this device (offline): {n} patient(s) found.")),
        "dataAsOf": g(N_("Data as of {time}, kept on this device.")),
        "savedOnDevice": g(N_("Saved on this device. It will be sent to the server when the connection returns.")),
        "othersWaiting": g(N_("{n} record(s) of {name} wait on this device for them to sign in.")),
        "discard": g(N_("Discard")), "tryNow": g(N_("Try now")), "sendUnderNewId": g(N_("Send under a new id")),
        "pausedForSignIn": g(N_("Waits for you to sign in again.")), "nextTry": g(N_("Next try at {time}.")),
        # The diagnosis field's checks on the device (static/icd10.js), as clinic/rules/icd10.py says them.
        "icdNotCode": g(N_("{code} is not an ICD-10 code.")), "icdRepeated": g(N_("{code} is entered more than once.")),
        "icdOtherEdition": g(N_("{code} is not in ICD-10 version 2010, the edition SATUSEHAT uses: use {codes}.")),
        "authorRefused": g(N_("Not saved: this form was opened by {author}, who is no longer the one signed in on "
                              "this device. What was typed is still here. Sign in again as {author} (for example in "
                              "another tab), then send the form again.")),
    }


@cache
def texts_version() -> str:
    """Changes whenever a text of the page script changes, in either language: its URL is cached for a year."""
    digest = hashlib.sha256()
    for locale in i18n.LOCALES:
        token = i18n._current.set(locale)
        try:
            digest.update(json.dumps(js_texts(), sort_keys=True).encode())
        finally:
            i18n._current.reset(token)
    return digest.hexdigest()[:10]


def texts_url(locale: str) -> str:
    # One small script per language, kept by the browser and the worker, instead of the texts in every page.
    return f"/texts.js?lang={locale}&v={texts_version()}"


def icd10_data_url() -> str:
    # The diagnosis list for the device (static/icd10.js), versioned by its content: kept for a year.
    return f"/icd10.json?v={icd10.device_version()}"


def _context(request: Request) -> dict[str, Any]:
    return {
        "user": request.scope.get("user"),
        "can": lambda name: can(request, name),
        "lang": i18n.get_locale(),
        "languages": i18n.LANGUAGE_NAMES,
        "current_path": request.url.path
        + (("?" + request.url.query) if request.url.query else ""),
    }


MAX_KEPT_TEXTS = 10_000  # translated texts kept per process: the templates' own are a few hundred


def kept_gettext() -> Any:
    """The templates' `_()` and `gettext`, as jinja2.ext.i18n's newstyle gettext does it (the translation,
    taken as markup when escaping, `%`-formatted with its variables), with each text without variables kept
    once done, by language: a record page asks for ~120 of them, each through two context calls."""
    kept: dict[tuple[str, str, bool], str] = {}

    @jinja2.pass_context
    def gettext(context: jinja2.runtime.Context, message: str, **variables: Any) -> str:
        escape = context.eval_ctx.autoescape
        key = (i18n.get_locale(), message, escape)
        if not variables and key in kept:
            return kept[key]
        text = i18n.gettext(message)
        done: str = (Markup(text) if escape else text) % variables
        if not variables and len(kept) < MAX_KEPT_TEXTS:
            kept[key] = done
        return done

    return gettext


class Unindented(jinja2.ext.Extension):
    """HTML templates lose their source's indentation when compiled: pages are a few hundred bytes smaller on
    the wire, and look the same (a line break stays, so inline elements keep their space; no template breaks a
    <textarea> or <pre> over lines, and `white-space: pre-line` drops a line's leading blanks anyway)."""

    INDENT = re.compile(r"^[ \t]+", re.MULTILINE)

    def preprocess(self, source: str, name: str | None, filename: str | None = None) -> str:
        return self.INDENT.sub("", source) if name and name.endswith(".html") else source


class FixedTexts(NodeTransformer):
    """`_("...")` and `gettext("...")` of a constant text without variables, replaced by its translation in one
    language when a template is compiled: the page carries it as its own text, with no call, lookup or escaping
    per render (a record page had ~160 of them, a fifth of its template time). The result is what the call
    gives (`kept_gettext`): the translation, `%`-formatted with no variables, markup where escaping is on."""

    def __init__(self, locale: str) -> None:
        self.locale = locale

    def visit_Call(self, node: nodes.Call) -> nodes.Node:  # noqa: N802 -- NodeTransformer's naming
        self.generic_visit(node)
        fixed = (isinstance(node.node, nodes.Name) and node.node.name in ("_", "gettext") and len(node.args) == 1
                 and isinstance(node.args[0], nodes.Const) and isinstance(node.args[0].value, str)
                 and not node.kwargs and node.dyn_args is None and node.dyn_kwargs is None)
        if not fixed:
            return node
        try:
            text = i18n.translations(self.locale).gettext(node.args[0].value) % {}
        except (TypeError, ValueError, KeyError):  # a lone `%`: left to fail, or not, as the call would
            return node
        return nodes.MarkSafeIfAutoescape(nodes.Const(text, lineno=node.lineno), lineno=node.lineno)


class LocaleEnvironment(jinja2.Environment):
    """The templates of one language: their constant texts translated once, when each is compiled."""

    def __init__(self, locale: str, **options: Any) -> None:
        super().__init__(**options)
        self.locale = locale

    def _parse(self, source: str, name: str | None, filename: str | None) -> nodes.Template:
        tree = super()._parse(source, name, filename)
        return FixedTexts(self.locale).visit(tree)  # type: ignore[no-any-return]


def make_environment(locale: str) -> jinja2.Environment:
    """One environment per language (`environment()` picks the request's): each compiles its own copy of a
    template, with that language's constant texts in it."""
    env = LocaleEnvironment(
        locale,
        loader=jinja2.FileSystemLoader(str(TEMPLATE_DIR)),
        autoescape=jinja2.select_autoescape(default=True),
        extensions=["jinja2.ext.i18n", Unindented],
        trim_blocks=True,
        lstrip_blocks=True,
        # Each template is read and compiled once per process: no file checks on every render. After editing
        # a template, restart the server.
        auto_reload=False,
    )
    env.install_gettext_callables(i18n.gettext, i18n.ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.globals["gettext"] = env.globals["_"] = kept_gettext()
    env.globals["static_url"] = static_url
    env.globals["role_name"] = role_label
    env.globals["roles_in_order"] = ordered
    env.globals["translated"] = translated
    env.globals["abnormal"] = abnormal
    env.globals["complaint_label"] = lambda code: complaints.label(code, i18n.get_locale())
    env.globals["field_labels"] = FIELD_LABELS
    env.globals["allergy_list"] = allergy_list
    env.globals["texts_url"] = texts_url
    env.globals["icd10_data_url"] = icd10_data_url
    env.filters["datetime"] = format_datetime
    env.filters["clock"] = format_clock
    env.filters["date"] = local_date  # the one date format of every page, form and print (clinic/rules/dates.py)
    env.filters["number"] = format_number
    env.globals["icd_describe"] = lambda code: icd10.label(code, i18n.get_locale())
    env.globals["icd_in_edition"] = icd10.in_edition
    env.globals["icd_replacements"] = icd10.replacements
    env.globals["vitals_specs"] = VITALS
    env.globals["consciousness_label"] = consciousness_label
    env.globals["vital_signs"] = vital_signs
    env.globals["route_label"] = _labeller(DRUG_ROUTES)
    env.globals["age_text"] = age_text
    env.globals["facility"] = facility
    env.globals["choice_label"] = choice_label
    env.globals["may_correct"] = may_correct
    env.globals["corrects_others"] = corrects_others
    return env


_by_locale = {locale: Jinja2Templates(env=make_environment(locale), context_processors=[_context])
              for locale in i18n.LOCALES}


def environment(locale: str | None = None) -> jinja2.Environment:
    """The templates of a language (the current one by default)."""
    return _by_locale[locale or i18n.get_locale()].env


def render(request: Request, name: str, context: dict[str, Any] | None = None, status_code: int = 200,
           headers: dict[str, str] | None = None) -> Any:
    return _by_locale[i18n.get_locale()].TemplateResponse(request, name, context or {}, status_code=status_code,
                                                          headers=headers)
