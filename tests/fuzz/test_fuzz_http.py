"""Property-based tests over HTTP, on SQLite and on PostgreSQL: random form posts to POST /patients and
POST /patients/{id}/visits, and random JSON batches to POST /sync.

Whatever is sent: never a 5xx, always a message the user can read (a 422 form with its error text, a 400 page,
or JSON with "message"), and never a partial write: after each example the row counts of patients,
patient_revisions, visits, visit_revisions and access_log are unchanged, or changed exactly as one stored
record changes them.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
import uuid
from typing import Any

import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from clinic.db import parse_uuid
from clinic.fields import Fields, InvalidFields
from clinic.routes import ROUTES
from clinic.rules.nik import PROVINCE_CODES, make_nik
from clinic.rules.vitals import CONSCIOUSNESS
from clinic.visits.validation import RX_COLUMNS
from clinic.web import resolve_target
from tests.conftest import USER_IDS
from tests.fuzz.conftest import counts, delta, patient_is_whole, visit_is_whole
from tests.http.conftest import query

HTTP = settings(
    max_examples=40,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

NO_CHANGE: dict[str, int] = {}
REGISTERED = {"patients": 1, "patient_revisions": 1, "access_log": 1, "log_register": 1}
VISITED = {"visits": 1, "visit_revisions": 1, "access_log": 1, "log_visit": 1}
EDITED = {"patient_revisions": 1, "access_log": 1, "log_edit": 1}
CORRECTED = {"visit_revisions": 1, "access_log": 1, "log_correct": 1}
ERROR_TEXT = 'class="alert alert-error"'

# --- text: valid values and garbage -------------------------------------------------------------

SPECIAL = st.sampled_from([
    "", " ", "\x00", "a\x00b", "\u0661\u0662\u0660", "\uff11\uff12\uff10", "1e309", "nan", "-0", "1,000",
    "null", "[]", "{}", "\u202eevil", "\ufeff", "\U0001d54f", "\U0001f600", "' OR 1=1 --", "%00", "\r\n",
    "<script>", "\u2028", "{code}", "{0}", "%s", "\\", "NaN", "Infinity", "true", "0x78", "12\u00b2",
])
HUGE = st.builds(
    lambda char, n: char * n,
    st.sampled_from(["x", "9", "\u00e9", "\U0001f600", " ", "\x00", "1."]),
    st.integers(150, 21_000),
)
GARBAGE = st.one_of(st.text(max_size=30), SPECIAL, HUGE)
LETTERS = st.from_regex(r"[A-Za-z][A-Za-z .'\-]{0,30}", fullmatch=True)
CODES = ["A01.0", "R50.9", "J45.9", "I10", "E11.9", "k297", " j06.9 "]


def uuid_text() -> st.SearchStrategy[str]:
    return st.builds(
        lambda u, form: form.format(u=u, U=str(u).upper(), h=u.hex),
        st.uuids(version=4),
        st.sampled_from(["{u}", "{u}", "{u}", "{U}", " {u} ", "{{{u}}}", "urn:uuid:{u}", "{h}"]),
    )


# Each example is "clean" (every field valid: it should be stored), "one_bad" (one thing wrong) or "chaos"
# (every field may be wrong), so that stored records, single errors and garbage are all exercised.
MODES = st.sampled_from(["clean", "clean", "one_bad", "one_bad", "chaos"])


@st.composite
def patient_values(draw: st.DrawFn) -> dict[str, st.SearchStrategy[str]]:
    sex = draw(st.sampled_from(["male", "female"]))
    born = draw(st.dates(dt.date(1927, 1, 1), dt.date.today()))
    nik = make_nik(
        draw(st.sampled_from(sorted(PROVINCE_CODES))), "73", "10", born, sex, draw(st.integers(1, 9999))
    )
    return {
        "name": LETTERS,
        "sex": st.just(sex),
        "birth_date": st.just(born.isoformat()),
        "nik": st.sampled_from([nik, nik, f"{nik[:4]} {nik[4:8]}-{nik[8:]}", ""]),
        "mother_nik": st.sampled_from(["", "", make_nik("32", "01", "01", dt.date(1980, 5, 5), "female", 1)]),
        "bpjs_number": st.from_regex(r"[0-9]{13}", fullmatch=True) | st.just(""),
        "phone": st.from_regex(r"08[0-9]{8,11}", fullmatch=True) | st.just(""),
        "address": st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=60),
        "occupation": LETTERS,
        "religion": st.sampled_from(["islam", "catholic", "hindu", ""]),
        "education": st.sampled_from(["primary", "bachelor", ""]),
        "marital_status": st.sampled_from(["single", "married", ""]),
    }


def vital_values() -> dict[str, st.SearchStrategy[str]]:
    return {
        "systolic": st.integers(90, 180).map(str),
        "diastolic": st.integers(50, 89).map(str),
        "pulse": st.integers(20, 300).map(str),
        "resp_rate": st.sampled_from(["18", "4", "80", ""]),
        "temperature": st.sampled_from(["36,5", "36.5", "45.0", "25", ""]),
        "weight": st.sampled_from(["60.5", "0.3", "500", "3,25"]),
        "height": st.sampled_from(["160", "272", "20.5"]),
        "waist": st.sampled_from(["80", ""]),
        "consciousness": st.sampled_from([key for key, _ in CONSCIOUSNESS] + [""]),
    }


NOTE = st.text(st.characters(codec="utf-8", exclude_characters="\x00"), max_size=40)


def visit_values() -> dict[str, st.SearchStrategy[str]]:
    return {
        "complaint": LETTERS,
        "history": NOTE,
        "examination": NOTE,
        "assessment": NOTE,
        "plan": NOTE,
        "prescription": NOTE,
        **vital_values(),
    }


# Wrong values that only make sense for one field: NIK look-alikes, impossible or unreadable vital signs.
EDGES = {
    "nik": st.sampled_from(
        ["\u0661" * 16, "3273104403900004", "327310440390000", "0" * 16, "32731044039000041"]
    ),
    "birth_date": st.sampled_from(
        ["1899-12-31", "2999-01-01", "2020-02-30", "20200101", "2020-W01-1", "01/02/2003"]
    ),
    "sex": st.sampled_from(["MALE", "m", "other", " female "]),
    "systolic": st.sampled_from(
        ["301", "1" * 31 + ".5", "1e309", "-0", "\u0661\u0662\u0660", "120.5", "9" * 25]
    ),
    "diastolic": st.sampled_from(["200", "19", "80,5", "nan", "130"]),
    "temperature": st.sampled_from(["36.55", "1" * 40 + ".55", "-Infinity", "45.1", "3\u00b2"]),
    "weight": st.sampled_from(["0.29", "1,000", "500.001", "Infinity"]),
    "consciousness": st.sampled_from(["awake", "COMPOS_MENTIS"]),
}
ROUTE_NAMES = ["oral", "iv", "topical", ""]


@st.composite
def clean_lists(draw: st.DrawFn) -> dict[str, list[str]]:
    """Diagnoses and complete prescription rows (the parallel columns rx_drug[], rx_dose[], ...)."""
    rows = draw(
        st.lists(
            st.tuples(
                st.sampled_from(["Parasetamol 500 mg", "Amoksisilin 500 mg", "ORS"]),
                st.sampled_from(["1 tab", "2 kaps"]),
                st.sampled_from(["3x1", "2x sehari"]),
                st.sampled_from(ROUTE_NAMES),
                st.sampled_from(["5 hari", ""]),
            ),
            max_size=3,
        )
    )
    columns = {f"rx_{name}": [row[i] for row in rows] for i, name in enumerate(RX_COLUMNS)}
    return {"diagnosis": draw(st.lists(st.sampled_from(CODES), max_size=3, unique=True)), **columns}


def wild_lists() -> st.SearchStrategy[dict[str, list[str]]]:
    codes = st.lists(st.sampled_from(CODES) | GARBAGE, max_size=14)
    column = st.lists(
        st.sampled_from(["Parasetamol 500 mg", "1 tab", "3x1", "5 hari", ""]) | GARBAGE, max_size=4
    )
    return st.fixed_dictionaries(
        {
            "diagnosis": codes,
            "rx_route": st.lists(st.sampled_from(ROUTE_NAMES + ["spoon"]), max_size=4),
            **{f"rx_{name}": column for name in RX_COLUMNS if name != "route"},
        }
    )


def wrong(name: str) -> st.SearchStrategy[Any]:
    """A wrong form value for field `name`: garbage, a value only wrong here, repeated, or absent."""
    return st.one_of(GARBAGE, EDGES.get(name, GARBAGE), st.lists(GARBAGE, min_size=2, max_size=3), st.none())


@st.composite
def forms(
    draw: st.DrawFn, values: dict[str, st.SearchStrategy[str]], with_lists: bool = False
) -> dict[str, Any]:
    """A form in one of the MODES; unknown fields and repeated fields included."""
    mode = draw(MODES)
    form: dict[str, Any] = {name: draw(valid) for name, valid in values.items()}
    if with_lists:
        form |= draw(clean_lists() if mode == "clean" else clean_lists() | wild_lists())
    if mode == "one_bad":
        name = draw(st.sampled_from(sorted(form) + ["unknown field"]))
        form[name] = draw(wrong(name))
    elif mode == "chaos":
        for name in sorted(form):
            if draw(st.booleans()):
                form[name] = draw(wrong(name))
        form.update(
            draw(st.dictionaries(st.text(max_size=8), GARBAGE | st.lists(GARBAGE, max_size=2), max_size=2))
        )
    return {name: value for name, value in form.items() if value is not None}


def id_choice() -> st.SearchStrategy[str | None]:
    return st.one_of(uuid_text(), uuid_text(), st.just("REUSE"), st.none(), GARBAGE)


# --- checks -------------------------------------------------------------------------------------


def answered(response: Any) -> None:
    """Never a 5xx: a server exception is a 500 whose body is the traceback (see conftest)."""
    assert response.status_code < 500, response.text[-6000:]


def html_answer_is_clear(response: Any) -> None:
    answered(response)
    status = response.status_code
    event(f"HTTP {status}")  # shown by --hypothesis-show-statistics
    assert status in (200, 303, 400, 404, 413, 422), (status, response.text[:2000])
    if status in (400, 422):
        assert ERROR_TEXT in response.text, response.text[:2000]
    if status == 200:  # warnings to confirm: the form again
        assert "<form" in response.text and "accept_warnings" in response.text


def exists(client: TestClient, table: str, record_id: str | None) -> bool:
    return bool(record_id) and bool(
        query(client, f"SELECT id FROM {table} WHERE id = :id", {"id": record_id})
    )


def post_form(client: TestClient, url: str, form: dict[str, Any]) -> Any:
    return client.post(url, data=form, follow_redirects=False)


def first(value: str | list[str] | None) -> str:
    if isinstance(value, list):
        return value[0].strip() if value else ""
    return (value or "").strip()


# --- fixtures -----------------------------------------------------------------------------------


@pytest.fixture
def record(doctor: TestClient) -> dict[str, str]:
    """One registered patient with one visit, written by the doctor through the forms."""
    patient_id, visit_id = str(uuid.uuid4()), str(uuid.uuid4())
    response = post_form(
        doctor,
        "/patients",
        {
            "id": patient_id,
            "name": "Siti Rahmawati",
            "sex": "female",
            "birth_date": "1990-03-02",
            "nik": make_nik("32", "73", "10", dt.date(1990, 3, 2), "female", 4),
            "accept_warnings": "yes",
        },
    )
    assert response.status_code == 303, response.text
    response = post_form(
        doctor,
        f"/patients/{patient_id}/visits",
        {
            "id": visit_id,
            "complaint": "Demam 3 hari",
            "systolic": "120",
            "diastolic": "80",
            "diagnosis": "A01.0",
        },
    )
    assert response.status_code == 303, response.text
    return {"P": patient_id, "V": visit_id}


# --- POST /patients -----------------------------------------------------------------------------


@HTTP
@given(
    values=patient_values().flatmap(forms),
    raw_id=id_choice(),
    accept=st.sampled_from(["yes", "yes", None, "no", ["yes", "no"], "\x00"]),
)
@example(values={"name": "A\x00", "sex": "male", "birth_date": "2000-01-01"}, raw_id=None, accept="yes")
@example(
    values={"name": "x" * 201, "sex": "male", "birth_date": "2000-01-01", "phone": "0" * 31},
    raw_id=None,
    accept="yes",
)
@example(
    values={"name": "Budi", "sex": ["male", "female"], "birth_date": "1899-12-31"}, raw_id=None, accept="yes"
)
def test_post_patients_answers_clearly_and_writes_all_or_nothing(
    doctor: TestClient, record: dict[str, str], values: dict[str, Any], raw_id: str | None, accept: Any
) -> None:
    form = dict(values)
    if raw_id == "REUSE":
        raw_id = record["P"]
    if raw_id is not None:
        form["id"] = raw_id
    if accept is not None:
        form["accept_warnings"] = accept
    patient_id = parse_uuid(first(form.get("id")))
    existed = exists(doctor, "patients", patient_id)
    before = counts(doctor)

    response = post_form(doctor, "/patients", form)

    html_answer_is_clear(response)
    change = delta(before, counts(doctor))
    if response.status_code != 303:
        assert change == NO_CHANGE, (response.status_code, change)
        return
    stored_id = response.headers["location"].removeprefix("/patients/")
    assert parse_uuid(stored_id) == stored_id
    if patient_id:
        assert stored_id == patient_id
    assert change == (NO_CHANGE if existed else REGISTERED), change
    patient_is_whole(doctor, stored_id)


# --- POST /patients/{id}/visits -----------------------------------------------------------------


@HTTP
@given(
    values=forms(visit_values(), with_lists=True),
    raw_id=id_choice(),
    path=st.sampled_from(["P", "P", "P", "P", "other", "garbage"]),
)
@example(values={"complaint": "Demam", "systolic": "1" * 31 + ".5"}, raw_id=str(uuid.UUID(int=77)), path="P")
@example(
    values={"complaint": "Demam", "temperature": "9" * 40 + ".55"}, raw_id=str(uuid.UUID(int=78)), path="P"
)
@example(values={"complaint": "Batuk", "diagnosis": CODES * 3}, raw_id=str(uuid.UUID(int=79)), path="P")
def test_post_visits_answers_clearly_and_writes_all_or_nothing(
    doctor: TestClient, record: dict[str, str], values: dict[str, Any], raw_id: str | None, path: str
) -> None:
    form = dict(values)
    if raw_id == "REUSE":
        raw_id = record["V"]
    if raw_id is not None:
        form["id"] = raw_id
    patient_id = {"P": record["P"], "other": str(uuid.uuid4()), "garbage": "not-a-uuid"}[path]
    visit_id = parse_uuid(first(form.get("id")))
    existed = exists(doctor, "visits", visit_id)
    before = counts(doctor)

    response = post_form(doctor, f"/patients/{patient_id}/visits", form)

    html_answer_is_clear(response)
    change = delta(before, counts(doctor))
    if path != "P":  # no such patient: nothing is stored
        assert response.status_code != 303
    if response.status_code != 303:
        assert change == NO_CHANGE, (response.status_code, change)
        return
    assert response.headers["location"] == f"/patients/{patient_id}#visit-{visit_id}"
    assert change == (NO_CHANGE if existed else VISITED), change
    assert visit_id is not None
    visit_is_whole(doctor, visit_id)


# --- raw bodies to the form endpoints -----------------------------------------------------------

CONTENT_TYPES = st.sampled_from([
    "application/x-www-form-urlencoded", "application/x-www-form-urlencoded; charset=latin-1",
    "multipart/form-data; boundary=xyz", "multipart/form-data", "application/json", "text/plain", "",
    "APPLICATION/X-WWW-FORM-URLENCODED",
])
MULTIPART_FILE = (
    b'--xyz\r\nContent-Disposition: form-data; name="complaint"; filename="a.txt"\r\n'
    b"Content-Type: text/plain\r\n\r\nDemam\r\n--xyz--\r\n"
)
MULTIPART_BAD_UTF8 = (
    b'--xyz\r\nContent-Disposition: form-data; name="name\xff"\r\n\r\n\xed\xa0\x80\xff\r\n'
    b'--xyz\r\nContent-Disposition: form-data; name="complaint"\r\n\r\nA\x00\r\n--xyz--\r\n'
)


@HTTP
@given(
    body=st.one_of(
        st.binary(max_size=300),
        st.sampled_from(
            [
                MULTIPART_FILE,
                MULTIPART_BAD_UTF8,
                b"name=%ED%A0%80&sex=male",
                b"complaint=%00",
                b"%%%&&==",
                b"a=" + b"%FF" * 500,
                b"complaint=Demam&id=" + str(uuid.UUID(int=5)).encode() + b"&diagnosis=%C0%AF",
            ]
        ),
        st.text().map(lambda text: text.encode("utf-8", "surrogatepass")),
    ),
    content_type=CONTENT_TYPES,
    target=st.sampled_from(["/patients", "visits"]),
)
def test_raw_bodies_to_the_forms_are_refused_or_answered_without_writing(
    doctor: TestClient, record: dict[str, str], body: bytes, content_type: str, target: str
) -> None:
    url = f"/patients/{record['P']}/visits" if target == "visits" else target
    before = counts(doctor)
    headers = {"content-type": content_type} if content_type else {}
    response = doctor.post(url, content=body, headers=headers, follow_redirects=False)
    html_answer_is_clear(response)
    change = delta(before, counts(doctor))
    if response.status_code != 303:
        assert change == NO_CHANGE, (response.status_code, change)


# --- POST /sync ---------------------------------------------------------------------------------


class Raw(str):
    """JSON text written into the body as it is: tokens json.dumps would never write."""


@dataclasses.dataclass
class Obj:
    """A JSON object as written: its pairs in order, duplicate keys allowed."""

    pairs: list[tuple[str, Any]]


RAW_TOKENS = st.sampled_from([Raw(token) for token in (
    "NaN", "Infinity", "-Infinity", "1e400", "-1e400", '"\\ud800"', '"a\\udfffb"', '"\\udc00\\ud800"',
    '"\\u0000"', "1" * 5000, "-0", "1E2", "0.1e-400", "123456789012345678901234567890", '"\\uD83D\\uDE00"',
)])
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
    SPECIAL,
    RAW_TOKENS,
)
JSON_VALUES = st.recursive(
    SCALARS,
    lambda children: (
        st.lists(children, max_size=3)
        | st.builds(
            Obj,
            st.lists(
                st.tuples(st.text(max_size=6) | st.sampled_from(["key", "fields", "id"]), children),
                max_size=3,
            ),
        )
    ),
    max_leaves=8,
)


def dump(value: Any, ascii_only: bool) -> str:
    if isinstance(value, Raw):
        return str(value)
    if isinstance(value, Obj):
        return (
            "{"
            + ",".join(f"{dump(key, ascii_only)}:{dump(item, ascii_only)}" for key, item in value.pairs)
            + "}"
        )
    if isinstance(value, list):
        return "[" + ",".join(dump(item, ascii_only) for item in value) + "]"
    return json.dumps(value, ensure_ascii=ascii_only)


ABSENT = object()


def json_wrong(name: str) -> st.SearchStrategy[Any]:
    """A wrong replayed field: any form-wrong value, or a number, null, bool, a nested list, an object, ..."""
    return st.one_of(
        wrong(name).map(lambda value: ABSENT if value is None else value),
        JSON_VALUES,
        st.lists(st.lists(st.text(max_size=5), max_size=2), min_size=1, max_size=2),
    )


@st.composite
def json_fields(
    draw: st.DrawFn, values: dict[str, st.SearchStrategy[str]], mode: str, with_lists: bool = False
) -> Obj:
    fields: dict[str, Any] = {name: draw(valid) for name, valid in values.items()}
    fields["id"] = draw(uuid_text())
    if with_lists:
        fields |= draw(clean_lists() if mode == "clean" else clean_lists() | wild_lists())
    if mode == "one_bad":
        name = draw(st.sampled_from(sorted(fields) + ["unknown"]))
        fields[name] = draw(
            json_wrong(name) | st.sampled_from(["{P}", "{V}"]) if name == "id" else json_wrong(name)
        )
    elif mode == "chaos":
        for name in sorted(fields):
            if draw(st.booleans()):
                fields[name] = draw(json_wrong(name))
    pairs = [(name, value) for name, value in fields.items() if value is not ABSENT]
    if mode == "chaos" and draw(
        st.booleans()
    ):  # a duplicate key: the last one counts, in every parser used here
        name = draw(st.sampled_from([name for name, _ in pairs] or ["id"]))
        pairs.append((name, draw(JSON_VALUES)))
    return Obj(pairs)


@st.composite
def item_fields(draw: st.DrawFn, kind: str, mode: str) -> tuple[str, Obj]:
    """The target and fields of one item of `kind`; in "clean" mode it should be stored."""
    if kind == "register":
        return "/patients", draw(json_fields(draw(patient_values()), mode))
    if kind == "edit":
        values = draw(patient_values()) | {
            "version": st.sampled_from(["1", "2", "3"]),
            "revision_id": uuid_text(),
        }
        return "/patients/{P}", draw(json_fields(values, mode))
    if kind == "visit":
        return "/patients/{P}/visits", draw(json_fields(visit_values(), mode, with_lists=True))
    values = visit_values() | {"reason": LETTERS, "base_revision": st.sampled_from(["1", "2", "3"])}
    return "/patients/{P}/visits/{V}/revisions", draw(json_fields(values, mode, with_lists=True))


WRONG_TARGETS = st.sampled_from([
    "/PATIENTS", "/patients/", "/patients?x=1", "/login", "/sync", "/patients/{P}/visits/{V}", "/x",
    "/patients/{X}",
    "/patients/{P}/print", "/patients/{X}/visits", "/patients/{P}/visits/{X}/revisions", "patients", "",
    "/patients/{X}/visits/{V}/revisions", "/patients/" + "-" * 36 + "/visits", "/patients/{P}/visits/",
    "/patients/{P}\n/visits",
]) | GARBAGE | JSON_VALUES


@st.composite
def sync_items(draw: st.DrawFn) -> Any:
    """One queued submission: well formed, or with one thing wrong, or anything at all."""
    kind = draw(st.sampled_from(["register", "register", "visit", "visit", "edit", "correct", "garbage"]))
    if kind == "garbage":
        return draw(JSON_VALUES)
    mode = draw(MODES)
    target, fields = draw(item_fields(kind, mode))
    item: dict[str, Any] = {"key": draw(st.uuids().map(str)), "target": target, "fields": fields,
                            "author": USER_IDS["doctor"]}
    if draw(st.booleans()):
        item["method"] = draw(st.sampled_from(["POST", "post"]))
    wrongs = {
        "key": SCALARS | JSON_VALUES,
        "target": WRONG_TARGETS,
        "method": st.sampled_from(["GET", "DELETE", "", None, "P0ST"]) | JSON_VALUES,
        "author": st.sampled_from([USER_IDS["nurse"], USER_IDS["doctor"].upper(), "", None]) | JSON_VALUES,
        "unknown": JSON_VALUES,
        "fields": JSON_VALUES,
    }
    if mode != "clean":
        for name in draw(
            st.lists(
                st.sampled_from(sorted(wrongs)),
                min_size=1,
                max_size=1 if mode == "one_bad" else 4,
                unique=True,
            )
        ):
            item[name] = draw(wrongs[name])
    pairs = draw(st.permutations(list(item.items())))
    if mode == "chaos" and draw(st.booleans()):
        pairs.pop(draw(st.integers(0, len(pairs) - 1)))  # a missing key
    if mode == "chaos" and draw(st.booleans()):
        name, _ = draw(st.sampled_from(pairs))  # a duplicate key
        pairs.append((name, draw(JSON_VALUES)))
    return Obj(pairs)


@st.composite
def sync_bodies(draw: st.DrawFn) -> str | bytes:
    shape = draw(
        st.sampled_from(["batch"] * 8 + ["duplicate_items", "any_json", "not_json", "deep", "too_many"])
    )
    if shape == "not_json":
        return draw(
            st.binary(max_size=200) | st.sampled_from([b"", b"{", b'{"items": [}', b"\xff\xfe{", b"[1,]"])
        )
    if shape == "deep":
        depth = draw(st.integers(20, 50_000))
        return '{"items": [{"key": ' + "[" * depth + "]" * depth + ', "target": "/patients"}]}'
    if shape == "too_many":
        return dump(Obj([("items", [Obj([("target", "/x")])] * draw(st.integers(201, 400)))]), True)
    ascii_only = draw(st.booleans())
    if shape == "any_json":
        return dump(draw(JSON_VALUES), ascii_only)
    items = Obj([("items", draw(st.lists(sync_items(), max_size=6)))])
    if shape == "duplicate_items":
        items.pairs.insert(draw(st.integers(0, 1)), ("items", draw(JSON_VALUES)))
    return dump(items, ascii_only)


STATUSES = {"stored", "already", "invalid", "conflict", "missing", "forbidden", "rejected", "wrong_author"}
KIND_CHANGES = {"patient": REGISTERED, "visit": VISITED, "patient-edit": EDITED, "correction": CORRECTED}


def kind_of(item: Any) -> str | None:
    target = item.get("target") if isinstance(item, dict) else None
    if not isinstance(target, str):
        return None
    found = resolve_target(ROUTES, target, "POST")
    return found[0].offline.kind if found and found[0].offline else None


@HTTP
@given(body=sync_bodies())
@example(body='{"items": [{"key": NaN, "target": "/patients", "fields": {}}]}')
@example(body='{"items": [{"key": 1e400, "target": "/patients", "fields": {}}]}')
@example(body='{"items": [{"key": "\\ud800", "target": "/patients", "fields": {}}]}')
@example(body='{"items": [{"target": "/patients\\udfff", "fields": {}}]}')
@example(
    body='{"items": [{"target": "/patients", "fields": {"name": "Ani\\ud800", "sex": "female", '
    '"birth_date": "2001-02-03"}}]}'
)
@example(
    body='{"items": [{"target": "/patients/{P}/visits", "fields": {"id": "'
    + str(uuid.UUID(int=99))
    + '", "complaint": "x", "diagnosis": ["J45.9\\udc00"]}}]}'
)
@example(
    body='{"items": [{"target": "/patients/{P}/visits", "fields": {"id": "'
    + str(uuid.UUID(int=98))
    + '", "complaint": "x", "systolic": "'
    + "1" * 31
    + '.5"}}]}'
)
@example(body='{"items": ' + "[" * 100_000 + "]" * 100_000 + "}")
@example(body='{"items": [{"key": ' + "[" * 990 + "]" * 990 + ', "target": "/x"}]}')
def test_sync_answers_every_item_clearly_and_writes_all_or_nothing(
    doctor: TestClient, record: dict[str, str], caplog: pytest.LogCaptureFixture, body: str | bytes
) -> None:
    caplog.clear()
    if isinstance(body, str):
        ids = {"{P}": record["P"], "{V}": record["V"], "{X}": str(uuid.uuid4())}
        body = re.sub(r"\{[PVX]\}", lambda match: ids[match[0]], body).encode("utf-8")
    before = counts(doctor)

    response = doctor.post("/sync", content=body, headers={"content-type": "application/json"})

    answered(response)
    event(f"HTTP {response.status_code}")
    change = delta(before, counts(doctor))
    answer = response.json()
    if response.status_code != 200:
        assert response.status_code in (400, 413), response.text[:2000]
        assert isinstance(answer.get("message"), str) and answer["message"], answer
        assert change == NO_CHANGE, change
        return
    items = json.loads(body)["items"]
    results = answer["results"]
    assert isinstance(results, list) and len(results) == len(items)
    expected: dict[str, int] = {}
    for item, result in zip(items, results, strict=True):
        failures = "\n".join(line.getMessage() + "\n" + (line.exc_text or "") for line in caplog.records)
        assert result.get("code", 500) < 500, (result, failures)
        assert result["status"] in STATUSES, result
        event(f"item {result['status']}")
        if result["status"] in ("stored", "already"):
            assert result["code"] == 200
        else:
            assert isinstance(result.get("message"), str) and result["message"], result
        if result["status"] == "invalid":
            assert result["errors"] and all(
                isinstance(text, str) and text for text in result["errors"].values()
            )
        if result["status"] == "conflict":  # the answer carries the current record: a logged read
            expected["log_conflict"] = expected.get("log_conflict", 0) + 1
        if result["status"] != "stored":
            continue
        kind = kind_of(item)
        assert kind is not None, (item, result)
        for key, n in KIND_CHANGES[kind].items():
            expected[key] = expected.get(key, 0) + n
        if kind == "patient":
            patient_is_whole(doctor, result["location"].removeprefix("/patients/"))
        if kind == "visit":
            visit_id = parse_uuid(_fields(item).get("id"))
            assert visit_id is not None
            visit_is_whole(doctor, visit_id)
    assert change == expected, (change, expected, results)


def _fields(item: dict[str, Any]) -> Fields:
    try:
        return Fields.from_json(item.get("fields"))
    except InvalidFields as exc:  # a stored item's fields were read by the server: this cannot happen
        raise AssertionError(item) from exc
