"""A strict stand-in for SATUSEHAT, for tests, the bench and demos (`python -m tests.satusehat_fake`, then
SATUSEHAT_BASE_URL=http://127.0.0.1:8900). It implements the token endpoint with expiring tokens, Patient
and Practitioner lookup by NIK, Encounter search by subject, and transaction Bundles checked against the
platform's documented rules on its own (not with the app's checks): the R4 model, datetimes exactly
YYYY-MM-DDThh:mm:ss+00:00 and never in the future, required Encounter fields, ICD-10 2010 codes ("code not
found" otherwise), a chief complaint Condition (problem-list-item) coded with a well-formed SNOMED CT concept
id, Medication with a KFA code and the MedicationRequest naming it, LOINC vital signs with UCUM units, known
Location ids, references that resolve, and duplicates by identifier.
Faults on demand: given statuses (429, 5xx, text/plain) before anything is stored, and answers lost after
the bundle was stored (LossyTransport turns them into a dropped connection)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import random
import re
import secrets
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx2
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route

ROOT = Path(__file__).resolve().parents[1]
ICD10_2010 = ROOT / "clinic" / "rules" / "data" / "icd10-2010.tsv"  # the Kemenkes list as shipped, not the app's code
DATETIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\+00:00")
NIK = "https://fhir.kemkes.go.id/id/nik"
LOINC_UNITS = {"8480-6": "mm[Hg]", "8462-4": "mm[Hg]", "8867-4": "/min", "9279-1": "/min", "8310-5": "Cel",
               "29463-7": "kg", "8302-2": "cm", "8280-0": "cm"}
LOST = "x-fake-lost"
KFA_CODE = re.compile(r"9[23]\d{6}")  # KFA product (92...) and packaged product (93...) codes


def snomed_concept_id(code: str) -> bool:
    """A SNOMED CT concept id: 6 to 18 digits, no leading zero, partition 00 (a concept, short format) and a
    valid Verhoeff check digit. (The fake's own check, independent of the app's curated list.)"""
    if not re.fullmatch(r"[1-9]\d{5,17}", code) or code[-3:-1] != "00":
        return False
    d = [[0, 1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 2, 3, 4, 0, 6, 7, 8, 9, 5], [2, 3, 4, 0, 1, 7, 8, 9, 5, 6],
         [3, 4, 0, 1, 2, 8, 9, 5, 6, 7], [4, 0, 1, 2, 3, 9, 5, 6, 7, 8], [5, 9, 8, 7, 6, 0, 4, 3, 2, 1],
         [6, 5, 9, 8, 7, 1, 0, 4, 3, 2], [7, 6, 5, 9, 8, 2, 1, 0, 4, 3], [8, 7, 6, 5, 9, 3, 2, 1, 0, 4],
         [9, 8, 7, 6, 5, 4, 3, 2, 1, 0]]
    p = [[0, 1, 2, 3, 4, 5, 6, 7, 8, 9]]
    for _ in range(7):
        p.append([p[-1][[1, 5, 7, 6, 2, 8, 3, 0, 9, 4][k]] for k in range(10)])
    check = 0
    for index, digit in enumerate(reversed(code)):
        check = d[check][p[index % 8][int(digit)]]
    return check == 0


def outcome(status: int, code: str, text: str) -> JSONResponse:
    return JSONResponse({"resourceType": "OperationOutcome",
                         "issue": [{"severity": "error", "code": code, "details": {"text": text}}]}, status)


class Refused(Exception):
    def __init__(self, code: str, text: str) -> None:
        super().__init__(text)
        self.code, self.text = code, text


class FakeSatusehat:
    def __init__(self, client_id: str = "fake-client", client_secret: str = "fake-secret",
                 organization_id: str = "100000001", location_ids: tuple[str, ...] = ("loc-poli-umum",),
                 token_seconds: float = 3599, seed: int = 1) -> None:
        self.client_id, self.client_secret = client_id, client_secret
        self.organization_id = organization_id
        self.location_ids = set(location_ids)
        self.token_seconds = token_seconds
        self.tokens: dict[str, float] = {}  # token -> when it expires (monotonic)
        self.unknown_niks: set[str] = set()  # NIKs SATUSEHAT has no one for
        self.encounters: dict[str, dict[str, Any]] = {}  # our identifier value -> stored Encounter
        self.bundles: dict[str, dict[str, Any]] = {}  # our identifier value -> the accepted bundle
        self.stored_by_identifier: Counter[str] = Counter()  # must never pass 1
        self.faults: list[int] = []  # statuses to answer next, before anything is stored
        self.lose_next = 0  # answers to lose after storing
        self.lose_rate = 0.0
        self.fail_rate = 0.0  # share of bundle posts answered 503 before storing
        self.check_model = True  # the R4 model check (fhir.resources): off only where the fake's CPU is measured
        self.expire_tokens_every = 0  # every n-th authorized request finds every token expired
        self.authorized_requests = 0
        self.random = random.Random(seed)
        self.counts: Counter[str] = Counter()  # token, lookup, search, post, duplicate, refused, lost, fault
        self.refusals: list[str] = []
        self.codes = self._codes()
        self.app = Starlette(routes=[
            Route("/oauth2/v1/accesstoken", self.token, methods=["POST"]),
            Route("/fhir-r4/v1", self.transaction, methods=["POST"]),
            Route("/fhir-r4/v1/Patient", self.lookup, methods=["GET"]),
            Route("/fhir-r4/v1/Practitioner", self.lookup, methods=["GET"]),
            Route("/fhir-r4/v1/Encounter", self.search, methods=["GET"]),
        ])

    @staticmethod
    def _codes() -> set[str]:
        with ICD10_2010.open(encoding="utf-8") as lines:
            next(lines)  # the header
            return {line.split("\t", 1)[0] for line in lines if line.strip()}

    @staticmethod
    def ihs(kind: str, nik: str) -> str:
        digits = str(int(hashlib.sha256(f"{kind}{nik}".encode()).hexdigest(), 16))[:11]
        return ("P" if kind == "Patient" else "N") + digits

    def transport(self) -> LossyTransport:
        return LossyTransport(self.app)

    # -- endpoints ------------------------------------------------------------------------------------

    async def token(self, request: Request) -> Response:
        form = await request.form()
        if (request.query_params.get("grant_type") != "client_credentials"
                or form.get("client_id") != self.client_id or form.get("client_secret") != self.client_secret):
            return JSONResponse({"fault": {"faultstring": "Invalid client credentials"}}, 401)
        self.counts["token"] += 1
        token = secrets.token_urlsafe(24)
        self.tokens[token] = time.monotonic() + self.token_seconds
        # As the platform does: expires_in as a string.
        return JSONResponse({"access_token": token, "expires_in": str(int(self.token_seconds)),
                             "token_type": "BearerToken", "organization_name": "Klinik Uji"})

    def _authorized(self, request: Request) -> bool:
        token = request.headers.get("authorization", "").removeprefix("Bearer ")
        self.authorized_requests += 1
        if self.expire_tokens_every and self.authorized_requests % self.expire_tokens_every == 0:
            self.tokens.clear()
            self.counts["expired"] += 1
        return self.tokens.get(token, 0) > time.monotonic()

    async def lookup(self, request: Request) -> Response:
        if not self._authorized(request):
            return outcome(401, "login", "Access token expired or invalid")
        kind = request.url.path.rsplit("/", 1)[1]
        system, _, nik = request.query_params.get("identifier", "").partition("|")
        if system != NIK or not re.fullmatch(r"\d{16}", nik):
            return outcome(400, "value", "identifier must be nik|16 digits")
        self.counts["lookup"] += 1
        entries = [] if nik in self.unknown_niks else [{"resource": {"resourceType": kind, "id": self.ihs(kind, nik)}}]
        return JSONResponse({"resourceType": "Bundle", "type": "searchset", "total": len(entries), "entry": entries})

    async def search(self, request: Request) -> Response:
        if not self._authorized(request):
            return outcome(401, "login", "Access token expired or invalid")
        self.counts["search"] += 1
        subject = request.query_params.get("subject", "")
        found = [{"resource": e} for e in self.encounters.values() if e["subject"]["reference"] == f"Patient/{subject}"]
        return JSONResponse({"resourceType": "Bundle", "type": "searchset", "total": len(found), "entry": found})

    async def transaction(self, request: Request) -> Response:
        if not self._authorized(request):
            return outcome(401, "login", "Access token expired or invalid")
        self.counts["post"] += 1
        if self.faults:
            status = self.faults.pop(0)
            self.counts["fault"] += 1
            if status >= 500 and status % 2:  # some 5xx come as text/plain
                return PlainTextResponse("upstream connect error", status)
            return outcome(status, "throttled" if status == 429 else "exception", "try again later")
        if self.fail_rate and self.random.random() < self.fail_rate:
            self.counts["fault"] += 1
            return PlainTextResponse("Service Unavailable", 503)
        try:
            bundle = json.loads(await request.body())
            encounter, resources = self.check(bundle)
        except Refused as exc:
            self.counts["refused"] += 1
            self.refusals.append(exc.text)
            return outcome(400, exc.code, exc.text)
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            self.counts["refused"] += 1
            return outcome(400, "structure", f"invalid bundle: {exc}")
        value = encounter["identifier"][0]["value"]
        if value in self.encounters:
            self.counts["duplicate"] += 1
            return outcome(400, "duplicate", f"Encounter with identifier {value} already exists")
        answer = {"resourceType": "Bundle", "type": "transaction-response", "entry": []}
        ids = {}
        for entry in bundle["entry"]:
            ids[entry["fullUrl"]] = f"{entry['resource']['resourceType']}/{secrets.token_hex(16)}"
        stored = json.loads(json.dumps(encounter))
        stored["id"] = ids[next(e["fullUrl"] for e in bundle["entry"] if e["resource"] is encounter)].split("/")[1]
        self.encounters[value] = stored
        self.bundles[value] = bundle
        self.stored_by_identifier[value] += 1
        for entry in bundle["entry"]:
            location = ids[entry["fullUrl"]] + "/_history/1"
            answer["entry"].append({"response": {"status": "201 Created", "location": location}})
        response = JSONResponse(answer, 200)
        if self.lose_next or (self.lose_rate and self.random.random() < self.lose_rate):
            self.lose_next = max(0, self.lose_next - 1)
            self.counts["lost"] += 1
            response.headers[LOST] = "1"
        return response

    # -- the rules ------------------------------------------------------------------------------------

    def check(self, bundle: dict[str, Any]) -> tuple[dict[str, Any], list[dict[str, Any]]]:
        from fhir.resources.R4B.bundle import Bundle
        from pydantic import ValidationError

        try:
            if self.check_model:
                Bundle.model_validate(bundle)
        except ValidationError as exc:
            raise Refused("structure", f"not a valid FHIR R4 Bundle: {exc.errors()[0]['msg']}") from exc
        if bundle.get("type") != "transaction":
            raise Refused("value", "Bundle.type must be transaction")
        now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")
        self._times(bundle, now)
        full_urls = set()
        for entry in bundle["entry"]:
            if not re.fullmatch(r"urn:uuid:[0-9a-f-]{36}", entry.get("fullUrl", "")):
                raise Refused("value", "fullUrl must be urn:uuid")
            request = entry.get("request", {})
            if request.get("method") != "POST" or request.get("url") != entry["resource"]["resourceType"]:
                raise Refused("value", "request must be POST to the resource type")
            full_urls.add(entry["fullUrl"])
        resources = [entry["resource"] for entry in bundle["entry"]]
        encounters = [r for r in resources if r["resourceType"] == "Encounter"]
        if len(encounters) != 1:
            raise Refused("required", "exactly one Encounter")
        encounter = encounters[0]
        self._encounter(encounter, full_urls)
        subject = encounter["subject"]["reference"]
        medications = {entry["fullUrl"]: entry["resource"] for entry in bundle["entry"]
                       if entry["resource"]["resourceType"] == "Medication"}
        for resource in resources:
            kind = resource["resourceType"]
            if kind == "Encounter":
                continue
            if kind == "Medication":  # no subject: checked as the MedicationRequest naming it is
                self._medication(resource)
                continue
            if resource.get("subject", {}).get("reference") != subject:
                raise Refused("value", f"{kind}.subject differs from the Encounter's")
            if resource.get("encounter", {}).get("reference") not in full_urls:
                raise Refused("value", f"{kind}.encounter does not resolve")
            if kind == "Condition":
                self._condition(resource)
            elif kind == "Observation":
                self._observation(resource)
            elif kind == "MedicationRequest":
                self._medication_request(resource, medications)
            else:
                raise Refused("not-supported", f"{kind} is not expected here")
        return encounter, resources

    def _times(self, node: Any, now: str) -> None:
        if isinstance(node, dict):
            for key, value in node.items():
                if isinstance(value, str) and (key in ("start", "end", "issued", "recordedDate", "authoredOn")
                                               or key.endswith("DateTime")):
                    if not DATETIME.fullmatch(value):
                        raise Refused("format", f"{key}: datetime must be YYYY-MM-DDThh:mm:ss+00:00 ({value})")
                    if value > now:
                        raise Refused("value", f"{key}: {value} is in the future")
                else:
                    self._times(value, now)
        elif isinstance(node, list):
            for value in node:
                self._times(value, now)

    def _encounter(self, encounter: dict[str, Any], full_urls: set[str]) -> None:
        for name in ("identifier", "status", "class", "subject", "participant", "period", "location",
                     "serviceProvider", "statusHistory", "diagnosis"):
            if not encounter.get(name):
                raise Refused("required", f"Encounter.{name} is required")
        identifier = encounter["identifier"][0]
        if identifier.get("system") != f"http://sys-ids.kemkes.go.id/encounter/{self.organization_id}":
            raise Refused("value", "Encounter.identifier.system must name this organization")
        if encounter["status"] != "finished":
            raise Refused("value", "Encounter.status must be finished")
        cls = encounter["class"]
        if cls.get("system") != "http://terminology.hl7.org/CodeSystem/v3-ActCode" or cls.get("code") != "AMB":
            raise Refused("value", "Encounter.class must be AMB")
        if not re.fullmatch(r"Patient/P\d+", encounter["subject"]["reference"]):
            raise Refused("value", "Encounter.subject must be a Patient")
        participant = encounter["participant"][0]
        if participant["type"][0]["coding"][0]["code"] != "ATND" or not re.fullmatch(
                r"Practitioner/N\d+", participant["individual"]["reference"]):
            raise Refused("value", "Encounter.participant must be the attending Practitioner")
        location = encounter["location"][0]["location"]["reference"]
        if location.removeprefix("Location/") not in self.location_ids:
            raise Refused("value", f"{location} not found")
        if encounter["serviceProvider"]["reference"] != f"Organization/{self.organization_id}":
            raise Refused("value", "Encounter.serviceProvider must be this organization")
        steps = encounter["statusHistory"]
        if [step["status"] for step in steps] != ["arrived", "in-progress", "finished"] or not all(
                step.get("period", {}).get("start") for step in steps):
            raise Refused("value", "Encounter.statusHistory must be arrived, in-progress, finished with periods")
        period = encounter["period"]
        if not period.get("start") or not period.get("end") or period["end"] < period["start"]:
            raise Refused("value", "Encounter.period must have a start and a later end")
        for diagnosis in encounter["diagnosis"]:
            if diagnosis["condition"]["reference"] not in full_urls:
                raise Refused("value", "Encounter.diagnosis.condition does not resolve")

    def _condition(self, condition: dict[str, Any]) -> None:
        category = condition.get("category", [{}])[0].get("coding", [{}])[0]
        if category.get("system") != "http://terminology.hl7.org/CodeSystem/condition-category":
            raise Refused("value", "Condition.category must be from condition-category")
        if not condition.get("clinicalStatus"):
            raise Refused("required", "Condition.clinicalStatus is required")
        coding = condition["code"]["coding"][0]
        if category.get("code") == "problem-list-item":  # the chief complaint (anamnesis): SNOMED CT
            if coding.get("system") != "http://snomed.info/sct":
                raise Refused("value", "a chief complaint Condition must be coded in SNOMED CT")
            if not snomed_concept_id(coding.get("code", "")):
                raise Refused("value", f"code not found: {coding.get('code')} is not a SNOMED CT concept id")
            if not coding.get("display") or not condition.get("recordedDate"):
                raise Refused("required", "Condition.code.display and recordedDate are required")
            return
        if category.get("code") != "encounter-diagnosis":
            raise Refused("value", "Condition.category must be encounter-diagnosis or problem-list-item")
        if coding.get("system") != "http://hl7.org/fhir/sid/icd-10":
            raise Refused("value", "Condition.code must be ICD-10")
        if coding.get("code") not in self.codes:
            raise Refused("value", f"code not found: {coding.get('code')}")

    def _medication(self, medication: dict[str, Any]) -> None:
        identifier = (medication.get("identifier") or [{}])[0]
        if identifier.get("system") != f"http://sys-ids.kemkes.go.id/medication/{self.organization_id}" \
                or not identifier.get("value"):
            raise Refused("value", "Medication.identifier must use medication/{organization}")
        coding = ((medication.get("code") or {}).get("coding") or [{}])[0]
        if coding.get("system") != "http://sys-ids.kemkes.go.id/kfa" or not KFA_CODE.fullmatch(coding.get("code", "")):
            raise Refused("value", f"code not found: KFA {coding.get('code')}")
        if not coding.get("display") or medication.get("status") != "active":
            raise Refused("required", "Medication.code.display and status active are required")
        kinds = [e for e in medication.get("extension", []) if e.get("url", "").endswith("/MedicationType")]
        if not kinds or kinds[0]["valueCodeableConcept"]["coding"][0].get("code") not in ("NC", "SD", "EP"):
            raise Refused("required", "Medication.extension medicationType is required")

    def _medication_request(self, request: dict[str, Any], medications: dict[str, dict[str, Any]]) -> None:
        systems = {i.get("system") for i in request.get("identifier", []) if i.get("value")}
        if f"http://sys-ids.kemkes.go.id/prescription/{self.organization_id}" not in systems:
            raise Refused("value", "MedicationRequest.identifier must use prescription/{organization}")
        if request.get("status") not in ("active", "completed", "on-hold", "cancelled", "stopped", "draft") \
                or request.get("intent") != "order":
            raise Refused("value", "MedicationRequest.status and intent (order) are required")
        reference = (request.get("medicationReference") or {}).get("reference")
        if reference not in medications:
            raise Refused("value", "MedicationRequest.medicationReference must resolve to a Medication in the bundle")
        if not re.fullmatch(r"Practitioner/N\d+", (request.get("requester") or {}).get("reference", "")):
            raise Refused("value", "MedicationRequest.requester must be a Practitioner")
        if not request.get("authoredOn") or not request.get("dosageInstruction"):
            raise Refused("required", "MedicationRequest.authoredOn and dosageInstruction are required")

    def _observation(self, observation: dict[str, Any]) -> None:
        coding = observation["code"]["coding"][0]
        unit = LOINC_UNITS.get(coding.get("code", ""))
        if coding.get("system") != "http://loinc.org" or unit is None:
            raise Refused("value", f"Observation code {coding.get('code')} is not a vital sign LOINC code")
        if observation["category"][0]["coding"][0]["code"] != "vital-signs":
            raise Refused("value", "Observation.category must be vital-signs")
        quantity = observation.get("valueQuantity", {})
        if quantity.get("system") != "http://unitsofmeasure.org" or quantity.get("code") != unit:
            raise Refused("value", f"Observation {coding['code']} must be in {unit}")
        if not observation.get("performer") or not observation.get("effectiveDateTime"):
            raise Refused("required", "Observation.performer and effectiveDateTime are required")


class LossyTransport(httpx2.ASGITransport):
    """The fake in-process; an answer marked lost reaches the client as a dropped connection, after the
    fake has stored what it was sent."""

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        response = await super().handle_async_request(request)
        if response.headers.get(LOST):
            raise httpx2.ReadError("connection reset (answer lost after commit)", request=request)
        return response


if __name__ == "__main__":  # a demo stand-in: SATUSEHAT_BASE_URL=http://127.0.0.1:8900
    import argparse

    import uvicorn

    parser = argparse.ArgumentParser(description="A strict fake SATUSEHAT for demos")
    parser.add_argument("--port", type=int, default=8900)
    parser.add_argument("--organization", default="100000001")
    parser.add_argument("--location", action="append", help="a Location id it knows (repeatable)")
    args = parser.parse_args()
    fake = FakeSatusehat(organization_id=args.organization, location_ids=tuple(args.location or ["loc-poli-umum"]))
    print("client id fake-client, secret fake-secret", flush=True)
    uvicorn.run(fake.app, host="127.0.0.1", port=args.port)
