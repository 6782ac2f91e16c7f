"""Every route of the app, with the roles that may use it and, for the forms a device may keep while
offline, the record kind its outbox knows them by. Anything not listed here does not exist; this table
is the one source of access rules: the guard, the templates (`can`), /sync and the offline scripts
(the record targets rendered into /sw.js by clinic.targets) all read it."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from clinic import health
from clinic.accounts import handlers as accounts
from clinic.accounts.roles import ADMINS, CLINICAL, CLINICAL_READERS, PUBLIC, REGISTRY_WRITE, SIGNED_IN
from clinic.audit import handlers as audit
from clinic.feed import handlers as feed
from clinic.patients import handlers as patients
from clinic.sync import handlers as sync
from clinic.sync import pwa, replay
from clinic.visits import handlers as visits
from clinic.web import Offline, page, redirect

CORRECTORS = CLINICAL | ADMINS  # the service then allows only the visit's author or an admin


async def home(request: Request) -> Response:
    return redirect("/patients")


P = "/patients/{patient_id:id}"
V = P + "/visits/{visit_id:id}"

ROUTES = [
    page("/healthz", health.healthz, roles=PUBLIC),
    page("/", home, roles=SIGNED_IN),
    page("/login", accounts.login_form, roles=PUBLIC),
    page("/login", accounts.login, roles=PUBLIC, methods=["POST"], name="login_post"),
    page("/logout", accounts.logout, roles=PUBLIC, methods=["POST"]),
    page("/lang", accounts.set_language, roles=PUBLIC, methods=["POST"]),
    page("/account/password", accounts.password_form, roles=SIGNED_IN),
    page("/account/password", accounts.change_password, roles=SIGNED_IN, methods=["POST"],
         name="change_password_post"),
    # The registry: registration staff, nurses and doctors write; the admin reads.
    page("/patients", patients.patient_list, roles=SIGNED_IN),
    page("/patients", patients.create_patient, roles=REGISTRY_WRITE, methods=["POST"],
         offline=Offline("patient", replay.register)),
    page("/patients/new", patients.new_patient_form, roles=REGISTRY_WRITE),
    page(P, patients.show_patient, roles=SIGNED_IN),
    page(P, patients.update_patient, roles=REGISTRY_WRITE, methods=["POST"],
         offline=Offline("patient-edit", replay.edit)),
    page(P + "/edit", patients.edit_patient_form, roles=REGISTRY_WRITE),
    # Clinical notes: doctors and nurses; corrections also by an admin.
    page(P + "/visits/new", visits.new_visit_form, roles=CLINICAL),
    page(P + "/visits", visits.create_visit, roles=CLINICAL, methods=["POST"],
         offline=Offline("visit", replay.visit)),
    page(V + "/correct", visits.correct_form, roles=CORRECTORS),
    page(V + "/revisions", visits.correct_visit, roles=CORRECTORS, methods=["POST"],
         offline=Offline("correction", replay.correct)),
    page(V + "/print", visits.print_visit, roles=CLINICAL_READERS),
    page("/icd10", visits.icd_search, roles=CLINICAL_READERS),
    # Offline: the installable app, its shell pages and the batch replay of queued submissions.
    page("/sw.js", pwa.service_worker, roles=PUBLIC),
    page("/manifest.webmanifest", pwa.manifest, roles=PUBLIC),
    page("/texts.js", pwa.texts_script, roles=PUBLIC),
    page("/offline", pwa.offline_page, roles=PUBLIC),
    page("/offline/visit-form", visits.offline_visit_form, roles=CLINICAL),
    page("/sync/status", pwa.sync_status, roles=SIGNED_IN),
    page("/sync", sync.sync, roles=SIGNED_IN, methods=["POST"]),
    # The device's working set: the patient index for every role, recent visits for clinicians.
    page("/feed/patients", feed.patient_index, roles=SIGNED_IN),
    page("/feed/visits", feed.working_set, roles=CLINICAL),
    # Administration.
    page("/admin/users", accounts.users_page, roles=ADMINS),
    page("/admin/users", accounts.add_user, roles=ADMINS, methods=["POST"], name="add_user"),
    page("/admin/users/{user_id:id}", accounts.update_user, roles=ADMINS, methods=["POST"]),
    page("/admin/users/{user_id:id}/sessions", accounts.user_sessions, roles=ADMINS),
    page("/admin/users/{user_id:id}/sessions", accounts.end_sessions, roles=ADMINS, methods=["POST"]),
    page("/admin/access-log", audit.access_log, roles=ADMINS),
    page("/admin/device", feed.settings_page, roles=ADMINS),
    page("/admin/device", feed.save_settings, roles=ADMINS, methods=["POST"], name="save_device_settings"),
]
