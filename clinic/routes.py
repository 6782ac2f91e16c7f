"""Every route of the app, with the roles that may use it and, for the forms a device may keep while
offline, the record kind its outbox knows them by. Anything not listed here does not exist; this table
is the one source of access rules: the guard, the templates (`can`), /sync and the offline scripts
(the record targets rendered into /sw.js by clinic.targets) all read it."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import Response

from clinic import health
from clinic.accounts import handlers as accounts
from clinic.accounts.roles import (
    ADMINS,
    CLINICAL,
    CLINICAL_READERS,
    DOCTORS,
    PHARMACY,
    PUBLIC,
    REGISTRATION,
    REGISTRY_WRITE,
    REPORT_READERS,
    SIGNED_IN,
)
from clinic.audit import handlers as audit
from clinic.duplicates import handlers as duplicates
from clinic.feed import handlers as feed
from clinic.patients import handlers as patients
from clinic.pharmacy import handlers as pharmacy
from clinic.queue import handlers as queue
from clinic.reports import handlers as reports
from clinic.satusehat import handlers as satusehat
from clinic.sync import handlers as sync
from clinic.sync import pwa, replay
from clinic.visits import handlers as visits
from clinic.web import Offline, page, redirect

CORRECTORS = CLINICAL | ADMINS  # the service then allows only the visit's author or an admin
DUPLICATE_REVIEWERS = frozenset({REGISTRATION}) | ADMINS


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
    # The day's queue: registration (and clinical staff) check in; nurses and doctors call and finish.
    page(P + "/checkins", queue.check_in, roles=REGISTRY_WRITE, methods=["POST"],
         offline=Offline("checkin", replay.check_in)),
    page("/queue", queue.queue_page, roles=SIGNED_IN),
    page("/queue/{poli_id:id}/next", queue.call_next, roles=CLINICAL, methods=["POST"]),
    page("/queue/checkins/{checkin_id:id}/status", queue.set_status, roles=CLINICAL, methods=["POST"]),
    page("/queue/{poli_id:id}/numbers/{number:int}/status", queue.set_numbered_status, roles=CLINICAL,
         methods=["POST"]),
    page("/duplicates", duplicates.review, roles=DUPLICATE_REVIEWERS),
    page("/duplicates", duplicates.not_duplicate, roles=DUPLICATE_REVIEWERS, methods=["POST"]),
    page("/duplicates/merge", duplicates.merge_records, roles=DUPLICATE_REVIEWERS, methods=["POST"]),
    page("/duplicates/undo", duplicates.undo_merge, roles=DUPLICATE_REVIEWERS, methods=["POST"]),
    # Clinical notes: doctors and nurses; corrections also by an admin.
    page(P + "/visits/new", visits.new_visit_form, roles=CLINICAL),
    page(P + "/visits", visits.create_visit, roles=CLINICAL, methods=["POST"],
         offline=Offline("visit", replay.visit)),
    # One encounter, several hands: the doctor continues the encounter a nurse's triage started.
    page(V + "/continue", visits.continue_form, roles=DOCTORS),
    page(V + "/parts", visits.continue_visit, roles=DOCTORS, methods=["POST"],
         offline=Offline("visit-part", replay.continue_visit)),
    page(V + "/correct", visits.correct_form, roles=CORRECTORS),
    page(V + "/revisions", visits.correct_visit, roles=CORRECTORS, methods=["POST"],
         offline=Offline("correction", replay.correct)),
    page(V + "/print", visits.print_visit, roles=CLINICAL_READERS),
    page("/icd10", visits.icd_search, roles=CLINICAL_READERS),
    # Pharmacy: the formulary (admin), suggestions for prescription lines, today's prescriptions (pharmacist).
    page("/admin/formulary", pharmacy.formulary_page, roles=ADMINS),
    page("/admin/formulary", pharmacy.import_formulary, roles=ADMINS, methods=["POST"]),
    page("/formulary", pharmacy.formulary_options, roles=CLINICAL),
    page("/pharmacy", pharmacy.pharmacy, roles=PHARMACY),
    page("/pharmacy/{visit_id:id}/dispense", pharmacy.dispense, roles=PHARMACY, methods=["POST"]),
    page(V + "/prescription", pharmacy.prescription_copy, roles=CLINICAL_READERS | PHARMACY),
    # Reports: LB1 for doctors and admins (CONTRACT); the day's register and the overdue chronic patients.
    page("/reports/lb1", reports.lb1, roles=REPORT_READERS),
    page("/reports/register", reports.daily_register, roles=CLINICAL_READERS),
    page("/reports/overdue", reports.overdue_chronic, roles=CLINICAL_READERS),
    # Offline: the installable app, its shell pages and the batch replay of queued submissions.
    page("/sw.js", pwa.service_worker, roles=PUBLIC),
    page("/manifest.webmanifest", pwa.manifest, roles=PUBLIC),
    page("/texts.js", pwa.texts_script, roles=PUBLIC),
    page("/icd10.json", pwa.icd10_data, roles=PUBLIC),
    page("/offline", pwa.offline_page, roles=PUBLIC),
    page("/offline/visit-form", visits.offline_visit_form, roles=CLINICAL),
    page("/offline/edit-form", patients.offline_edit_form, roles=REGISTRY_WRITE),
    page("/offline/correction-form", visits.offline_correction_form, roles=CORRECTORS),
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
    page("/admin/polis", queue.polis_page, roles=ADMINS),
    page("/admin/polis", queue.add_poli, roles=ADMINS, methods=["POST"]),
    page("/admin/polis/{poli_id:id}", queue.update_poli, roles=ADMINS, methods=["POST"]),
    page("/admin/polis/{poli_id:id}/location", queue.set_poli_location, roles=ADMINS, methods=["POST"]),
    page("/admin/satusehat", satusehat.coverage_page, roles=ADMINS),
    page("/admin/satusehat/practitioners", satusehat.practitioners_page, roles=ADMINS),
    page("/admin/satusehat/practitioners/{user_id:id}", satusehat.set_practitioner_nik, roles=ADMINS,
         methods=["POST"]),
    page("/admin/device", feed.settings_page, roles=ADMINS),
    page("/admin/device", feed.save_settings, roles=ADMINS, methods=["POST"], name="save_device_settings"),
]
