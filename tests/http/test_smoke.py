from __future__ import annotations

import gc
import re

from tests.http.conftest import query


def test_healthz_reports_database(anon):
    response = anon.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "database": "ok"}


def test_login_page_renders_in_indonesian(anon):
    response = anon.get("/login")
    assert response.status_code == 200
    assert 'lang="id"' in response.text


def test_doctor_signs_in(client_for):
    doctor = client_for("doctor")
    rows = query(doctor, "SELECT username FROM users WHERE role = 'doctor' ORDER BY username")
    assert rows[0]["username"] == "doctor"


def test_the_page_scripts_texts_come_once_per_language_and_are_kept(anon):
    # Not inline in every page (they were about 0.7 KB gzipped in each), but one script per language.
    page = anon.get("/login")
    match = re.search(r'src="(/texts\.js\?lang=id&amp;v=\w+)"', page.text)
    assert match and 'id="js-texts"' not in page.text
    script = anon.get(match.group(1).replace("&amp;", "&"))
    assert script.status_code == 200 and script.headers["content-type"].startswith("application/javascript")
    assert "immutable" in script.headers["cache-control"]
    assert '"state_offline": "Luring"' in script.text
    english = anon.get(match.group(1).replace("&amp;", "&").replace("lang=id", "lang=en"))
    assert '"state_offline": "Offline"' in english.text
    assert "no-cache" in anon.get("/texts.js?lang=id&v=old").headers["cache-control"]


def test_a_started_app_has_built_what_requests_need_before_the_first_one(settings):
    """The ICD-10 index and the templates are built when the process starts, not by its first requests (with
    50 tablets syncing at once, every request waited behind them)."""
    from starlette.testclient import TestClient

    from clinic import i18n
    from clinic.app import create_app
    from clinic.rules import icd10
    from clinic.templating import environment

    icd10._index.cache_clear()
    for locale in i18n.LOCALES:
        environment(locale).cache.clear()  # type: ignore[union-attr]
    gc.unfreeze()
    app = create_app(settings)
    with TestClient(app):
        assert gc.get_freeze_count() > 0  # and kept out of the garbage collector's passes
        assert icd10._index.cache_info().currsize == 1
        for locale in i18n.LOCALES:  # each language's own copy
            loaded = {template.name for template in environment(locale).cache.values()}  # type: ignore[union-attr]
            assert {"patients/show.html", "visits/_part.html", "pwa/sw.js"} <= loaded
