/* Pages filled on the device (issue 10): the patient search over the device's index with the server's matching
   rules (clinic/patients/queries.py: _search_condition), the outbox's waiting patients and visits, and the
   record of any patient of the index in the offline shell. No markup is built here: each piece is a <template>
   rendered by the server (translated there), and fill() puts the values into its data-slot elements. */
(function (scope) {
  "use strict";

  var PAGE_SIZE = 20; // as the server's result pages (clinic/patients/queries.py: PAGE_SIZE)
  var MAX_WORDS = 5;
  var index = null; // the index entries, read once per page

  function texts() { return scope.CLINIC_TEXTS || {}; } // texts.js, in the page's language

  // --- the filler ------------------------------------------------------------------------------------
  // A copy of the template's first element, with `data-slot="key"` elements' text set to values[key] and
  // `data-slot-attr="attribute:key"` attributes set to values[key]. A value of null leaves the slot as rendered.
  // A `data-slot-if="key"` element is kept only when values[key] is true.
  function fill(templateId, values) {
    var template = document.getElementById(templateId);
    if (!template) return null;
    var node = template.content.firstElementChild.cloneNode(true);
    node.querySelectorAll("[data-slot-if]").forEach(function (el) {
      if (values[el.getAttribute("data-slot-if")] !== true) el.remove();
    });
    [node].concat(Array.prototype.slice.call(node.querySelectorAll("[data-slot], [data-slot-attr]"))).forEach(function (el) {
      var slot = el.getAttribute("data-slot");
      if (slot && values[slot] !== undefined && values[slot] !== null) {
        if (values[slot] instanceof Node) el.replaceChildren(values[slot]);
        else el.textContent = values[slot];
      }
      var attr = el.getAttribute("data-slot-attr");
      if (attr) {
        var parts = attr.split(":");
        if (values[parts[1]] !== undefined) el.setAttribute(parts[0], values[parts[1]]);
      }
    });
    return node;
  }

  function first(value) { return Array.isArray(value) ? value[0] : value; }

  // clinic/templating.py: age_text
  function ageText(born) {
    if (!born) return "";
    var b = new Date(born + "T00:00:00"), today = new Date();
    var before = today.getMonth() < b.getMonth() || (today.getMonth() === b.getMonth() && today.getDate() < b.getDate());
    var years = today.getFullYear() - b.getFullYear() - (before ? 1 : 0);
    if (years >= 2) return (texts().ageYears || "{n}").replace("{n}", years);
    var months = (today.getFullYear() - b.getFullYear()) * 12 + today.getMonth() - b.getMonth() - (today.getDate() < b.getDate() ? 1 : 0);
    if (months >= 1) return (texts().ageMonths || "{n}").replace("{n}", months);
    return (texts().ageDays || "{n}").replace("{n}", Math.round((today - b) / 86400000));
  }

  function sexText(sex) {
    var template = document.getElementById("patient-row-template");
    if (!template || !sex) return "";
    return template.getAttribute(sex === "male" ? "data-male" : "data-female");
  }

  function needsAttention(item) { return !!(window.Outbox && Outbox.states.needsAttention(item.state)); }

  // The one date format of every page (clinic/rules/dates.py): DD-MM-YYYY.
  function showDate(text) {
    var iso = /^(\d{4})-(\d{1,2})-(\d{1,2})$/.exec(String(text || "").trim());
    var pad = function (n) { return (n < 10 ? "0" : "") + n; };
    return iso ? pad(+iso[3]) + "-" + pad(+iso[2]) + "-" + iso[1] : (text || "");
  }

  function waitingBadge(item) {
    var attention = needsAttention(item);
    var badge = fill("waiting-badge-template", { text: attention ? texts().needsAttention : texts().waiting });
    if (badge && attention) badge.className = "badge badge-attention";
    return badge;
  }

  function patientRow(p, item) {
    var row = fill("patient-row-template", {
      id: p.id, href: "/patients/" + p.id, visit_href: "/patients/" + p.id + "/visits/new", record_number: p.record_number || "—", name: p.name || "",
      sex: sexText(p.sex), age: ageText(p.birth_date), birth_date: showDate(p.birth_date), nik: p.nik || "—",
      badge: item ? waitingBadge(item) : null, possible_duplicate: !!p.possible_duplicate,
    });
    if (row) row.setAttribute("data-patient-id", p.id);
    return row;
  }

  // --- the matching rules: clinic/patients/queries.py _search_condition -----------------------------
  function normalized(query) { return query.split(/\s+/).filter(Boolean).join(" ").slice(0, 100); }

  function isNumber(query) { return /^[0-9]+$/.test(query.replace(/ /g, "")); }

  function matcher(query) {
    var digits = query.replace(/ /g, "");
    if (isNumber(query)) {
      var padded = digits.length < 6 ? ("000000" + digits).slice(-6) : digits;
      return function (p) {
        return p.nik === digits || p.bpjs_number === digits || p.record_number === padded || p.mother_nik === digits ||
          (p.record_number || "").indexOf(digits) === 0;
      };
    }
    var words = query.toLowerCase().split(" ").slice(0, MAX_WORDS);
    return function (p) {
      var name = p.search || (p.name || "").toLowerCase();
      for (var w = 0; w < words.length; w++) if (name.indexOf(words[w]) === -1) return false;
      return true;
    };
  }

  function byName(a, b) {
    return a.name < b.name ? -1 : a.name > b.name ? 1 : (a.record_number || "") < (b.record_number || "") ? -1 : 1;
  }

  // The index read once per page, in the order of the results (no sort per keystroke), and by id.
  function loadIndex() {
    if (!index) {
      var all = scope.ClinicDevice ? ClinicDevice.allPatients() : Promise.resolve([]);
      index = all.catch(function () { return []; }).then(function (entries) {
        var byId = new Map();
        entries.forEach(function (p) { byId.set(p.id, p); });
        return { sorted: entries.sort(byName), byId: byId };
      });
    }
    return index;
  }

  // The device brought new index entries: a page that has read the index reads it again, before the next keystroke.
  function reloadIndex(event) {
    if (!index || !(event.detail && event.detail.changed)) return;
    index = null;
    loadIndex();
  }

  // The index's patients matching `query`, in name order, a merged patient standing for its survivor once
  // (clinic/patients/queries.py: search, _survivors): the first page of them, and how many there are.
  // Typing on in a name narrows the previous results: only those are searched again.
  var previous = null; // {found, query, matches}: the last name search, all its matching entries in order

  function findInIndex(found, query) {
    var match = matcher(query), name = query && !isNumber(query);
    var narrowing = name && previous && previous.found === found && query.indexOf(previous.query) === 0;
    var entries = narrowing ? previous.matches : found.sorted;
    var matches = [], page = [], count = 0, throughAlias = null;
    for (var i = 0; i < entries.length; i++) {
      var p = entries[i];
      if (query && !match(p)) continue;
      matches.push(p);
      if (p.merged_into) {
        var survivor = found.byId.get(p.merged_into);
        if (survivor) {
          if (!query || match(survivor)) continue; // listed as itself
          throughAlias = throughAlias || new Set();
          if (throughAlias.has(survivor.id)) continue;
          throughAlias.add(survivor.id);
          p = survivor;
        }
      }
      count++;
      if (page.length < PAGE_SIZE) page.push(p);
    }
    previous = name ? { found: found, query: query, matches: matches } : null;
    return { page: page, count: count };
  }

  // The outbox's waiting patients, read once until the outbox changes (not at every keystroke).
  var waiting = null;

  function outboxPatients() {
    var user = document.body.getAttribute("data-user-id");
    if (!user || !scope.Outbox) return Promise.resolve([]);
    if (!waiting) {
      waiting = Outbox.itemsOf(user).then(function (items) {
        return items.filter(function (item) { return item.kind === "patient"; });
      }).catch(function () { waiting = null; return []; });
    }
    return waiting;
  }

  function forgetWaiting() { waiting = null; }

  function asPatient(item) {
    return { id: item.key, name: first(item.fields.name) || "", sex: first(item.fields.sex), birth_date: first(item.fields.birth_date),
      nik: first(item.fields.nik), bpjs_number: first(item.fields.bpjs_number), mother_nik: first(item.fields.mother_nik),
      record_number: "" };
  }

  // The results for `query` from the device: waiting patients first, then the index, as the server orders them.
  function searchOnDevice(query) {
    var rows = document.getElementById("patient-rows");
    if (!rows) return Promise.resolve();
    query = normalized(query);
    return Promise.all([loadIndex(), outboxPatients()]).then(function (found) {
      var match = matcher(query);
      var waiting = found[1].filter(function (item) { return !query || match(asPatient(item)); });
      var hits = findInIndex(found[0], query);
      var nodes = waiting.map(function (item) {
        var row = patientRow(asPatient(item), item);
        row.setAttribute("data-outbox", item.key);
        row.classList.add("waiting");
        return row;
      }).concat(hits.page.map(function (p) { return patientRow(p); }));
      if (!nodes.length) nodes = [fill("patient-empty-template", { text: query ? (texts().noMatch || "").replace("{q}", query) : texts().noPatients })];
      rows.replaceChildren.apply(rows, nodes);
      var pagination = document.querySelector("#results .pagination");
      if (pagination) pagination.hidden = true;
      var note = document.getElementById("offline-search-note");
      if (note) {
        note.hidden = false;
        note.textContent = (texts().foundOnDevice || "{n}").replace("{n}", hits.count);
      }
    });
  }

  function onDevice() { return !navigator.onLine || document.body.hasAttribute("data-saved-at"); }

  function isSearchBox(node) { return node && node.id === "q" && node.closest("form.search"); }

  function onSearchInput(event) {
    if (!isSearchBox(event.target) || !onDevice()) return;
    event.stopImmediatePropagation(); // htmx would ask the network
    searchOnDevice(event.target.value);
  }

  function onSearchSubmit(event) {
    if (!event.target.matches || !event.target.matches("form.search") || !onDevice()) return;
    event.preventDefault();
    event.stopImmediatePropagation();
    searchOnDevice(event.target.querySelector("#q").value);
  }

  function onHtmxRequest(event) {
    if (onDevice() && event.target && (isSearchBox(event.target) || event.target.closest && event.target.closest("form.search"))) {
      event.preventDefault();
    }
  }

  // A saved /patients page opened offline: its results are the device's for the query in the address, unless
  // the saved page is the server's answer to that same query and newer than the device's index (a patient
  // registered online after the index was last brought up to date is on it, and not yet in the index).
  // Without a query, a saved copy keeps the list it was saved with (newest first, as the server ordered it; the
  // outbox's waiting patients are added to it). The index is read at once either way, for the first keystroke.
  function searchFromAddress() {
    var box = document.getElementById("q");
    if (!box || !isSearchBox(box) || !onDevice()) return;
    var query = new URLSearchParams(location.search).get("q") || "";
    var answered = normalized(box.value); // the query the saved page was rendered for
    loadIndex();
    if (!query && document.body.hasAttribute("data-saved-at")) return;
    box.value = query;
    savedCopyIsNewer().then(function (newer) {
      if (!newer || answered !== normalized(query)) searchOnDevice(query);
    });
  }

  function savedCopyIsNewer() {
    var savedAt = Date.parse(document.body.getAttribute("data-saved-at") || "");
    if (isNaN(savedAt) || !scope.ClinicDevice) return Promise.resolve(false);
    return ClinicDevice.readyState().then(function (ready) { return !ready || Date.parse(ready.asOf) < savedAt; });
  }

  // --- the outbox's waiting records on the list and the record page ---------------------------------
  function renderPatientRows(items) {
    var rows = document.getElementById("patient-rows");
    if (!rows) return;
    rows.querySelectorAll("tr[data-outbox]").forEach(function (row) { row.remove(); });
    items.filter(function (item) { return item.kind === "patient"; }).forEach(function (item) {
      var row = patientRow(asPatient(item), item);
      if (!row) return;
      row.setAttribute("data-outbox", item.key);
      row.classList.add("waiting");
      rows.insertBefore(row, rows.firstChild);
    });
  }

  function patientIdOnPage() {
    var match = /^\/patients\/([0-9a-f-]{36})/.exec(location.pathname);
    return match ? match[1] : null;
  }

  function when(iso) { return iso ? new Date(iso).toLocaleString(document.documentElement.lang || undefined) : ""; }

  function renderTimeline(items) {
    var timeline = document.getElementById("visit-timeline");
    var patientId = patientIdOnPage();
    if (!timeline || !patientId) return;
    timeline.querySelectorAll("li[data-outbox]").forEach(function (node) { node.remove(); });
    items.filter(function (item) {
      return item.patientId === patientId && (item.kind === "visit" || item.kind === "correction" || item.kind === "patient-edit");
    }).forEach(function (item) {
      var node = fill("waiting-item-template", {
        key: item.key, badge: waitingBadge(item), kind: texts()["kind_" + item.kind.replace("-", "_")] || item.kind,
        time: when(item.queuedAt), author: item.authorName || "", summary: item.summary || "",
        diagnoses: (item.fields.diagnosis || []).filter(Boolean).join(", "),
      });
      if (!node) return;
      if (item.kind === "visit") node.setAttribute("data-visit-id", item.key);
      timeline.insertBefore(node, timeline.firstChild);
    });
    var empty = timeline.querySelector("li.empty");
    if (empty) empty.hidden = !!timeline.querySelector("li[data-outbox], li[data-visit-id]");
  }

  // --- a record from the device: the offline shell (templates/pwa/offline.html) ----------------------
  function vitalsText(content) {
    var specs = JSON.parse(document.getElementById("visit-card-template").getAttribute("data-vitals") || "[]");
    return specs.filter(function (spec) { return content[spec[0]] !== null && content[spec[0]] !== undefined; }).map(function (spec) {
      return spec[1] + ": " + String(content[spec[0]]).replace(".", document.documentElement.lang === "id" ? "," : ".") + " " + spec[2];
    }).join("; ");
  }

  function visitCard(visit) {
    var c = visit.content || {};
    var rx = (c.prescriptions || []).map(function (line) {
      return [line.drug, line.dose, line.frequency, line.duration].filter(Boolean).join(" ");
    }).concat(c.prescription ? [c.prescription] : []).join("; ");
    var card = fill("visit-card-template", {
      id: visit.id, time: when(visit.time_of_care), author: visit.author_name, complaint: c.complaint || "—",
      vitals: vitalsText(c) || "—", diagnoses: (c.diagnoses || []).join(", ") || "—", assessment: c.assessment || "—",
      plan: c.plan || "—", prescriptions: rx || "—", time_iso: visit.time_of_care,
      correct_href: "/patients/" + visit.patient_id + "/visits/" + visit.id + "/correct",
    });
    var actions = card && card.querySelector("[data-correct-actions]");
    if (actions && !mayCorrect(visit)) actions.remove();
    return card;
  }

  // clinic/accounts/roles.py may_correct: the visit's author, or a role that corrects others' entries (the
  // server renders which into the template).
  function mayCorrect(visit) {
    var template = document.getElementById("visit-card-template");
    return visit.author_id === document.body.getAttribute("data-user-id") ||
      (!!template && template.getAttribute("data-corrects-others") === "true");
  }

  // A record page from the device starts reading the patient at once, before the page's other work.
  var early = null; // {id, found}

  function readRecord(patientId) {
    if (early && early.id === patientId) return early.found;
    return ClinicDevice.record(patientId);
  }

  function readEarly() {
    var patientId = patientIdOnPage();
    if (scope.ClinicDevice && patientId && document.getElementById("offline-record")) {
      var handed = handedRecord(patientId);
      early = { id: patientId, found: handed ? Promise.resolve(ClinicDevice.judgeRecord(handed)) : ClinicDevice.record(patientId) };
    }
  }

  // The record the worker read from this device and put into the shell as JSON (sw.js deviceRecord), or null.
  function handedRecord(patientId) {
    var element = document.getElementById("device-record");
    if (!element) return null;
    try {
      var handed = JSON.parse(element.textContent);
      return handed && handed.id === patientId ? handed.parts : null;
    } catch (error) {
      return null;
    }
  }

  // ... and shows it once the page's scripts have run (texts.js), not after the outbox's reads (app.js).
  function showEarly() {
    var shell = document.getElementById("offline-record");
    if (early && shell) showRecord(shell, early.id);
  }

  function showDuplicateAlert(shell, p) {
    shell.querySelectorAll("[data-possible-duplicate]").forEach(function (el) { el.remove(); });
    var alert = p.possible_duplicate ? fill("duplicate-alert-template", {}) : null;
    var place = shell.querySelector("[data-duplicate-alert]");
    if (alert && place) place.appendChild(alert);
  }

  // The shell shows a patient of the index (a record never opened on this device) with the recent visits,
  // once a page: showEarly and app.js (after the outbox's waiting items) ask alike.
  var shown = null; // {id, done}

  function showRecord(shell, patientId) {
    if (!shown || shown.id !== patientId) shown = { id: patientId, done: fillRecord(shell, patientId) };
    return shown.done;
  }

  function fillRecord(shell, patientId) {
    if (!scope.ClinicDevice) return Promise.resolve(false);
    return readRecord(patientId).then(function (found) {
      var p = found.patient;
      if (!p) return false;
      if (p.id !== patientId) history.replaceState(history.state, "", "/patients/" + p.id);
      shell.hidden = false;
      shell.setAttribute("data-patient-id", p.id);
      var asOf = (found.ready && found.ready.asOf) || "";
      shell.setAttribute("data-as-of", asOf);
      var set = function (selector, text) { var el = shell.querySelector(selector); if (el) el.textContent = text; };
      set("[data-name]", p.name);
      set("[data-record-number]", p.record_number);
      set("[data-sex]", sexText(p.sex));
      set("[data-birth]", showDate(p.birth_date) + " (" + ageText(p.birth_date) + ")");
      set("[data-nik]", p.nik || "—");
      set("[data-bpjs]", p.bpjs_number || "—");
      set("[data-address]", p.address || "—");
      set("[data-as-of-note]", (texts().dataAsOf || "{time}").replace("{time}", when(asOf)));
      showDuplicateAlert(shell, p);
      shell.querySelectorAll("[data-device-only]").forEach(function (el) { el.hidden = false; });
      shell.querySelectorAll("[data-outbox-only]").forEach(function (el) { el.hidden = true; });
      var links = { "a[data-new-visit]": "/visits/new", "a[data-edit-identity]": "/edit" };
      Object.keys(links).forEach(function (selector) {
        var link = shell.querySelector(selector);
        if (link) link.setAttribute("href", "/patients/" + p.id + links[selector]);
      });
      var timeline = shell.querySelector("#visit-timeline");
      timeline.querySelectorAll("li[data-visit-id]:not([data-outbox])").forEach(function (node) { node.remove(); });
      found.visits.forEach(function (visit) {
        var card = visitCard(Object.assign({ patient_id: p.id }, visit));
        if (card) timeline.appendChild(card);
      });
      var empty = timeline.querySelector("li.empty");
      if (empty) empty.hidden = timeline.children.length > 1;
      var missing = document.getElementById("offline-missing");
      if (missing) missing.hidden = true;
      if (scope.performance && performance.mark) performance.mark("clinic:record-shown"); // bench/device_search.py
      return true;
    });
  }

  // The visit form kept for offline use names the patient from the index too.
  function nameShellForm(patientId, line) {
    if (!scope.ClinicDevice) return;
    ClinicDevice.patient(patientId).then(function (p) {
      if (p && line) line.textContent = p.name;
    });
  }

  // --- the form shells: identity edit and visit correction for any record of the device ---------------
  // The server renders each form once for no record (/offline/edit-form, /offline/correction-form; the
  // worker serves it for /patients/<id>/edit and /patients/<id>/visits/<id>/correct). Here it is pointed at
  // the record in the address and filled from the index or the working set; on submit its `changed` field
  // lists only what the user changed, so the server's three-way merge touches nothing else.
  var SHELLS = [
    { pattern: /^\/patients\/([0-9a-f-]{36})\/edit$/, fill: fillEditShell },
    { pattern: /^\/patients\/([0-9a-f-]{36})\/visits\/([0-9a-f-]{36})\/correct$/, fill: fillCorrectionShell },
  ];
  var RX_COLUMNS = ["drug", "dose", "frequency", "route", "duration"]; // clinic/visits/validation.py RX_COLUMNS

  function fillShellForm(form) {
    for (var i = 0; i < SHELLS.length; i++) {
      var match = SHELLS[i].pattern.exec(location.pathname);
      if (match && scope.ClinicDevice) return SHELLS[i].fill(form, match[1], match[2]).catch(function () { shellMissing(form); });
    }
    return Promise.resolve();
  }

  // The fields a user can change, as the form would send them.
  function editable(form) {
    return Array.prototype.filter.call(form.elements, function (el) {
      return el.name && !el.disabled && ["hidden", "submit", "button"].indexOf(el.type) === -1;
    });
  }

  function snapshot(form) {
    var values = {};
    editable(form).forEach(function (el) {
      var value = el.type === "checkbox" || el.type === "radio" ? (el.checked ? el.value : "") : el.value;
      (values[el.name] = values[el.name] || []).push(value);
    });
    return values;
  }

  function setValue(el, value) {
    if (!el) return;
    if (el.type === "checkbox") el.checked = !!value;
    else el.value = value === null || value === undefined ? "" : String(value);
  }

  function setHidden(form, name, value) { setValue(form.querySelector('input[type=hidden][name="' + name + '"]'), value); }

  function pointAt(form, action, patientId, name) {
    form.setAttribute("action", action);
    document.querySelectorAll(".patient-line a, form[data-shell] .actions a").forEach(function (link) {
      link.setAttribute("href", "/patients/" + patientId);
    });
    var line = document.querySelector(".patient-line a");
    if (line && name) line.textContent = name;
  }

  // Filled: what the user changes in the record's fields (`names`; not the correction's reason) is measured
  // from here; the page's other scripts may read the values.
  function filled(form, names) {
    form.setAttribute("data-filled", "");
    var values = snapshot(form);
    form.__filledWith = {};
    names.forEach(function (name) { form.__filledWith[name] = values[name] || []; });
    document.dispatchEvent(new CustomEvent("clinic:form-filled"));
  }

  function shellMissing(form) {
    form.hidden = true;
    var note = document.querySelector("[data-shell-missing]");
    if (note) note.hidden = false;
  }

  // The identity fields an index entry holds whole are filled; the others stay out of the edit (disabled).
  function fillEditShell(form, patientId) {
    return ClinicDevice.patient(patientId).then(function (p) {
      if (!p) return shellMissing(form);
      var whole = JSON.parse(form.getAttribute("data-device-fields") || "[]");
      pointAt(form, "/patients/" + p.id, p.id);
      var heading = document.querySelector("[data-patient-name]");
      if (heading) heading.textContent = p.name;
      setHidden(form, "version", String(p.version));
      var names = [];
      editable(form).forEach(function (el) {
        if (whole.indexOf(el.name) === -1) { el.disabled = true; return; }
        setValue(el, p[el.name]);
        names.push(el.name);
      });
      form.querySelectorAll("fieldset").forEach(function (set) {
        if (!set.querySelector("input:not([disabled]), select:not([disabled]), textarea:not([disabled])")) set.disabled = true;
      });
      filled(form, names);
    });
  }

  // As many diagnosis fields and prescription rows as the visit has, copies of the server's last one.
  function growDiagnoses(form, n) {
    var list = form.querySelector("#diagnosis-list");
    var fields = list ? list.querySelectorAll(".diagnosis-field") : [];
    for (var i = fields.length; list && i < n; i++) {
      var copy = list.lastElementChild.cloneNode(true);
      var id = "f-diagnosis-" + (i + 1);
      var input = copy.querySelector("input");
      input.id = id;
      input.setAttribute("aria-describedby", "diagnosis-hint " + id + "-label");
      copy.querySelector("label").setAttribute("for", id);
      copy.querySelector("label").textContent = (list.getAttribute("data-secondary-label") || "{n}").replace("{n}", i);
      copy.querySelector("[data-icd-label]").id = id + "-label";
      list.appendChild(copy);
    }
  }

  function growPrescriptions(form, n) {
    var rows = form.querySelector("#rx-rows");
    for (var i = rows ? rows.children.length : n; i < n; i++) {
      var copy = rows.lastElementChild.cloneNode(true);
      copy.querySelectorAll("[aria-label]").forEach(function (el) {
        el.setAttribute("aria-label", el.getAttribute("aria-label").replace(/\d+$/, String(i + 1)));
      });
      rows.appendChild(copy);
    }
  }

  // The visit's current revision as the working set holds it, on the correction form.
  function fillCorrectionShell(form, patientId, visitId) {
    return Promise.all([ClinicDevice.recentVisits(patientId), ClinicDevice.patient(patientId)]).then(function (found) {
      var visit = found[0].filter(function (v) { return v.id === visitId; })[0];
      if (!visit) return shellMissing(form);
      var base = "/patients/" + patientId;
      pointAt(form, base + "/visits/" + visitId + "/revisions", patientId, found[1] && found[1].name);
      setHidden(form, "base_revision", String(visit.revision));
      if (visit.encounter_id) {
        var firstPart = form.querySelector("[data-first-part-only]");
        if (firstPart) firstPart.remove(); // a later part of an encounter has no complaint of its own
      }
      var c = visit.content || {};
      var names = ["diagnosis"].concat(RX_COLUMNS.map(function (column) { return "rx_" + column; }));
      editable(form).forEach(function (el) {
        if (!Object.prototype.hasOwnProperty.call(c, el.name) || Array.isArray(c[el.name])) return;
        setValue(el, c[el.name]);
        names.push(el.name);
      });
      var codes = c.diagnoses || [];
      growDiagnoses(form, codes.length);
      form.querySelectorAll('[name="diagnosis"]').forEach(function (el, i) { setValue(el, codes[i]); });
      var lines = c.prescriptions || [];
      growPrescriptions(form, lines.length);
      form.querySelectorAll("#rx-rows tr").forEach(function (row, i) {
        RX_COLUMNS.forEach(function (column) { setValue(row.querySelector('[name="rx_' + column + '"]'), (lines[i] || {})[column]); });
      });
      filled(form, names);
    });
  }

  // Only the fields whose values differ from what the form was filled with (the server reads the form's
  // names: diagnosis, rx_drug, ...).
  function listChanges(event) {
    var form = event.target;
    var mark = form.querySelector && form.querySelector("input[data-changed]");
    if (!mark || !form.__filledWith) return;
    var before = form.__filledWith, now = snapshot(form);
    mark.value = Object.keys(before).filter(function (name) {
      return JSON.stringify(now[name] || []) !== JSON.stringify(before[name]);
    }).join(",");
  }

  document.addEventListener("input", onSearchInput, true);
  document.addEventListener("submit", listChanges, true);
  document.addEventListener("search", onSearchInput, true);
  document.addEventListener("submit", onSearchSubmit, true);
  document.addEventListener("htmx:before:request", onHtmxRequest);
  document.addEventListener("DOMContentLoaded", searchFromAddress);
  document.addEventListener("device:ready", reloadIndex);
  scope.addEventListener("outbox", forgetWaiting);
  if (scope.Outbox && Outbox.channel) Outbox.channel.addEventListener("message", forgetWaiting);
  readEarly();
  document.addEventListener("DOMContentLoaded", showEarly);

  scope.ClinicPages = {
    fill: fill, matcher: matcher, searchOnDevice: searchOnDevice, loadIndex: loadIndex, renderPatientRows: renderPatientRows,
    renderTimeline: renderTimeline, showRecord: showRecord, nameShellForm: nameShellForm, fillShellForm: fillShellForm,
  };
})(self);
