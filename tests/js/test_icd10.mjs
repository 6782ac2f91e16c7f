// static/icd10.js against clinic/rules/icd10.py: the same suggestions, checks and labels on the device as on
// the server. Run with `node --test tests/js/test_icd10.mjs` (tests/unit/test_icd10_js.py runs it in the Python suite).
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { test } from "node:test";
import { fileURLToPath } from "node:url";

const ROOT = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
const require = createRequire(import.meta.url);
const ICD10 = require(join(ROOT, "static", "icd10.js"));
const VENV_PYTHON = join(ROOT, ".venv", "bin", "python");
const PYTHON = process.env.PYTHON || (existsSync(VENV_PYTHON) ? VENV_PYTHON : "python3");

const QUERIES = [
  "demam berdarah", "dbd", "Demam Berd", "demam", "dengue", "hipertensi", "darah tinggi", "kencing manis",
  "ispa", "batuk", "sakit kep", "maag", "asam urat", "luka", "typhoid", "typhoid fever", "fev typho",
  "diabetes non-insulin", "ménière", "asthma", "of", "fracture of femur", "J45", "j459", "J45.9", " j45.9 ",
  "A09", "A9", "J4", "M54.0", "m5406", "A97", "A97.0", "K64", "I84", "U07", "z00", "xyzzy", "a b", "tb",
  "0", "zz", "A", "e11", "diare", "cacar air", "wasir", "vertigo", "pusing", "gatal",
];
const LIMIT = 15;

function python(code) {
  return JSON.parse(execFileSync(PYTHON, ["-c", code], { cwd: ROOT, maxBuffer: 64 * 1024 * 1024 }).toString());
}

const data = python("import sys; from clinic.rules import icd10; sys.stdout.write(icd10.device_json())");
const expected = python(`
import json, sys
from clinic.rules import icd10
queries = json.loads(sys.argv[1]) if len(sys.argv) > 1 else ${JSON.stringify(QUERIES)}
checks = [["A97.0", "a91", "A91", "K64.9", "", "j459", "A00.5", "A97.9"], ["I10", "E11.9"], ["M5406", "m54.06"]]
out = {
  "search": {q: [list(pair) for pair in icd10.search(q, ${LIMIT})] for q in queries},
  "check": [[[p.params["code"], p.message, p.params.get("codes")] for p in icd10.check_diagnoses(c)[1]] for c in checks],
  "checks": checks,
  "normalize": {q: icd10.normalize(q) for q in queries},
  "label": {c: [icd10.label(c, "id"), icd10.label(c, "en")] for c in ["A91", "a90", "J45.0", "A97.0", "I10", "xyz"]},
}
sys.stdout.write(json.dumps(out))
`);
const index = ICD10.build(data);

test("the device's list is the server's", () => {
  assert.equal(index.codes.length, 18547);
  assert.ok(ICD10.isValid(index, "A90") && ICD10.isValid(index, "a91") && !ICD10.isValid(index, "A97.0"));
});

test("the packed table unpacks to the server's [code, description] pairs, each one", () => {
  const pairs = python("import sys, json; from clinic.rules import icd10; sys.stdout.write(json.dumps(icd10.device_data()['codes']))");
  assert.equal(data.codes, undefined);
  assert.deepEqual(ICD10.unpack(data.table), pairs);
});

test("suggestions are the server's, in the same order, for every query", () => {
  for (const query of QUERIES) {
    assert.deepEqual(ICD10.search(index, query, LIMIT), expected.search[query], query);
  }
});

test("demam berdarah suggests A91 then A90", () => {
  assert.deepEqual(ICD10.search(index, "demam berdarah", LIMIT).map((pair) => pair[0]).slice(0, 2), ["A91", "A90"]);
});

test("codes are normalised as on the server", () => {
  for (const query of QUERIES) assert.equal(ICD10.normalize(query), expected.normalize[query], query);
});

test("the device refuses what the server refuses, with the same hint", () => {
  const keys = {
    icdNotCode: "{code} is not an ICD-10 code.",
    icdRepeated: "{code} is entered more than once.",
    icdOtherEdition: "{code} is not in ICD-10 version 2010, the edition SATUSEHAT uses: use {codes}.",
  };
  expected.checks.forEach((codes, i) => {
    const found = ICD10.check(index, codes).map((p) => [p.code, keys[p.key], p.codes === undefined ? null : p.codes]);
    assert.deepEqual(found, expected.check[i], codes.join(","));
  });
});

test("labels are the curated Indonesian names on Indonesian pages, else the list's title", () => {
  for (const [code, [id, en]] of Object.entries(expected.label)) {
    assert.equal(ICD10.label(index, code, "id"), id, code);
    assert.equal(ICD10.label(index, code, "en"), en, code);
  }
});
