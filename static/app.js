/* Page wiring: service worker, sync status, outbox views, new record ids, small UI helpers.
   Each listener is one line that calls a named function. The app works without this file. */
(function () {
  "use strict";

  var body = document.body;
  var userId = body.getAttribute("data-user-id");
  var userName = body.getAttribute("data-username");
  var T = readTexts();
  var RETRY_TICK_MS = 5000;
  var QUOTA_WARNING = 0.8;

  document.addEventListener("DOMContentLoaded", start);
  document.addEventListener("click", onClick);
  document.addEventListener("submit", onSubmit);
  window.addEventListener("pageshow", refreshNewIds);
  window.addEventListener("online", onOnline);
  window.addEventListener("offline", renderStatus);

  function readTexts() { return window.CLINIC_TEXTS || {}; } // texts.js, in the page's language

  function start() {
    var shellFilled = retargetShellForm();
    markSavedCopy();
    refreshNewIds();
    showAddRowButtons();
    if (!("serviceWorker" in navigator) || !window.Outbox) return;
    if (!userId) { renderOthersWaiting(); return; } // the sign-in page: whose records wait here, as counts
    registerWorker();
    rememberUser().then(function () {
      renderStatus();
      renderOutboxViews();
      shellFilled.then(fillFromOutbox); // "open and fix" on a form shell: the item's values over the device's
      replay(false);
      warmCaches();
      askForPersistentStorage();
    });
    if (Outbox.channel) Outbox.channel.onmessage = onOutboxMessage;
    window.addEventListener("outbox", function (event) { onOutboxMessage({ data: event.detail }); });
    setInterval(tick, RETRY_TICK_MS);
  }

  // --- new record ids -------------------------------------------------------------------------
  // Each form shown gets a new id (a page may come from a cache, or back from history); every
  // retry of one submission keeps the id it was queued with.
  function newId() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var bytes = crypto.getRandomValues(new Uint8Array(16));
    bytes[6] = (bytes[6] & 0x0f) | 0x40; bytes[8] = (bytes[8] & 0x3f) | 0x80;
    var hex = Array.prototype.map.call(bytes, function (b) { return (b + 256).toString(16).slice(1); }).join("");
    return hex.slice(0, 8) + "-" + hex.slice(8, 12) + "-" + hex.slice(12, 16) + "-" + hex.slice(16, 20) + "-" + hex.slice(20);
  }

  function refreshNewIds(event) {
    if (event && event.type === "pageshow" && !event.persisted && !body.hasAttribute("data-saved-at")) return;
    if (new URLSearchParams(location.search).get("outbox")) return;
    document.querySelectorAll("input[data-new-id]").forEach(function (input) { input.value = newId(); });
  }

  // The forms kept for offline use (data-shell) belong to no record: point them at the one in the address.
  // The visit form here; the identity edit and the correction, filled from the device, in offline_pages.js.
  function retargetShellForm() {
    var shell = document.querySelector("form[data-record-form][data-shell]");
    if (shell && shell.getAttribute("data-record-form") !== "visit") {
      return window.ClinicPages && userId ? ClinicPages.fillShellForm(shell) : Promise.resolve();
    }
    var match = /^\/patients\/([0-9a-f-]{36})\/visits\/new$/.exec(location.pathname);
    var form = document.querySelector("form[data-record-form=visit][data-shell]");
    if (!match || !form) return Promise.resolve();
    form.setAttribute("action", "/patients/" + match[1] + "/visits");
    var line = document.querySelector(".patient-line a");
    if (line) line.setAttribute("href", "/patients/" + match[1]);
    if (!window.Outbox || !userId) return Promise.resolve();
    if (window.ClinicPages) ClinicPages.nameShellForm(match[1], line);
    Outbox.itemOf(userId, match[1]).then(function (item) {
      if (item && line) line.textContent = first(item.fields.name) || line.textContent;
    }).catch(function () {});
    return Promise.resolve();
  }

  // --- service worker and replay -------------------------------------------------------------
  function registerWorker() {
    navigator.serviceWorker.addEventListener("controllerchange", onControllerChange);
    register(0);
  }

  // A registration that fails (the worker's script not fetched) or a first install that fails (its files not
  // fetched, after the worker's own tries) is tried again on this page, a few times, later each time: on a bad
  // link the device would otherwise have no worker, and nothing offline, until the next page.
  var REGISTER_TRIES = 5;
  function register(attempt) {
    var again = function () {
      if (attempt + 1 < REGISTER_TRIES) setTimeout(function () { register(attempt + 1); }, 2000 * Math.pow(2, attempt));
    };
    navigator.serviceWorker.register("/sw.js", { scope: "/" }).then(function (registration) {
      watchForUpdate(registration);
      var first = !registration.active && registration.installing;
      if (first) {
        first.addEventListener("statechange", function () { if (first.state === "redundant" && !registration.active) again(); });
      }
    }).catch(again);
  }

  var reloading = false;
  function onControllerChange() {
    // The first worker just took control (right after sign-in): keep the offline pages now, not at the
    // next page, in case the connection drops before then.
    if (!window.__updateAccepted) { warmCaches(); return; }
    if (reloading) return;
    reloading = true;
    location.reload();
  }

  function watchForUpdate(registration) {
    if (registration.waiting && navigator.serviceWorker.controller) offerUpdate(registration.waiting);
    registration.addEventListener("updatefound", function () {
      var worker = registration.installing;
      if (!worker) return;
      worker.addEventListener("statechange", function () {
        if (worker.state === "installed" && navigator.serviceWorker.controller) offerUpdate(worker);
      });
    });
  }

  function offerUpdate(worker) {
    var box = notice("info", T.updateReady || "A new version is ready.", T.reload || "Reload");
    box.setAttribute("id", "update-ready");
    box.querySelector("button").addEventListener("click", function () {
      window.__updateAccepted = true;
      worker.postMessage({ type: "skip-waiting" });
    });
  }

  function rememberUser() {
    if (!userId) return ClinicDB.setMeta("currentUser", null).catch(function () {});
    var user = { id: userId, name: userName };
    return ClinicDB.getMeta("currentUser").then(function (previous) {
      // Someone else used this tablet last (their session ended without signing out): their saved
      // pages go, so that this user cannot read them offline. Their unsent items stay, for them.
      if (previous && previous.id !== userId && window.caches) {
        return caches.delete("pages-v1");
      }
    }).then(function () {
      return ClinicDB.setMeta("currentUser", user);
    }).then(function () {
      // Signed in again: this user's items paused for a missing session may go on.
      return Outbox.signedIn(userId);
    }).catch(function (error) { notice("error", (T.storageFailed || "Storage failed: ") + error); });
  }

  function replay(force) {
    if (!userId || !window.Outbox) return;
    renderStatus();
    Outbox.replay({ force: force }).then(function () { renderStatus(); renderOutboxViews(); });
  }

  function onOnline() {
    // The service worker gets no `online` event in Chromium: the page tells it.
    if (navigator.serviceWorker && navigator.serviceWorker.controller) {
      navigator.serviceWorker.controller.postMessage({ type: "replay", force: true });
    }
    replay(true);
  }

  function tick() {
    if (!userId) return;
    Outbox.anythingDue(userId).then(function (due) { if (due) replay(false); }).catch(function () {});
  }

  function onOutboxMessage(event) {
    var message = event.data || {};
    if (message.type === "refused") { showRefused(message.key); return; }
    if (message.type === "changed" || message.type === "replayed" || message.type === "syncing") {
      renderStatus(message.type === "syncing");
      if (message.type !== "syncing") renderOutboxViews();
    }
  }

  // The pages needed to work offline; the worker fetches only those this device does not hold yet.
  function warmCaches() {
    var controller = navigator.serviceWorker.controller;
    if (!controller || !userId || body.hasAttribute("data-saved-at")) return;
    var urls = JSON.parse(body.getAttribute("data-offline-pages") || "[]");
    // In idle time: the first signed-in load is not slowed by fetching the offline pages (issue 10, point 8).
    var send = function () { controller.postMessage({ type: "warm", urls: urls }); };
    if (window.requestIdleCallback) requestIdleCallback(send, { timeout: 3000 }); else setTimeout(send, 500);
  }

  // --- sync status ---------------------------------------------------------------------------
  // This user's items still to reach the server (discards waiting to be reported are not shown).
  function pendingItems() {
    if (!userId || !window.Outbox) return Promise.resolve([]);
    return Outbox.pendingOf(userId).catch(function () { return []; });
  }

  function renderStatus(syncing) {
    var status = document.getElementById("sync-status");
    if (!status || !window.Outbox) return;
    pendingItems().then(function (items) {
      var state = Outbox.states.chipState(items, navigator.onLine);
      // "Syncing" only while something of this user's is being sent, not for a replay with nothing to send.
      if (syncing && state === "online" && items.length > 0) state = "syncing";
      status.setAttribute("data-state", state);
      status.setAttribute("data-pending", String(items.length));
      status.querySelector(".sync-label").textContent = T["state_" + state] || state;
      var count = status.querySelector(".sync-count");
      count.hidden = items.length === 0;
      count.textContent = items.length ? String(items.length) : "";
    });
  }

  // --- outbox views: waiting records in lists and timelines, the sync page ----------------------
  function renderOutboxViews() {
    pendingItems().then(function (items) {
      renderPatientRows(items);
      renderTimeline(items);
      renderShell(items);
      renderSyncPage(items);
    });
  }

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) { node.setAttribute(name, attrs[name]); });
    if (text !== undefined) node.textContent = text;
    return node;
  }

  function first(value) { return Array.isArray(value) ? value[0] : value; }
  // The one date format of every page (clinic/rules/dates.py): DD-MM-YYYY, and HH:MM in the device's time.
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function showDate(text) {
    var iso = /^(\d{4})-(\d{1,2})-(\d{1,2})$/.exec(String(text || "").trim());
    return iso ? pad(+iso[3]) + "-" + pad(+iso[2]) + "-" + iso[1] : (text || "");
  }
  function showTime(moment) {
    var d = new Date(moment);
    if (isNaN(d.getTime())) return "";
    return pad(d.getDate()) + "-" + pad(d.getMonth() + 1) + "-" + d.getFullYear() + " " + pad(d.getHours()) + ":" + pad(d.getMinutes());
  }

  function waitingBadge(item) {
    var attention = Outbox.states.needsAttention(item.state);
    return el("span", { "class": "badge " + (attention ? "badge-attention" : "badge-waiting") }, attention ? T.needsAttention : T.waiting);
  }

  // The outbox's waiting patients and visits, from the server's <template>s (offline_pages.js).
  function renderPatientRows(items) { if (window.ClinicPages) ClinicPages.renderPatientRows(items); }

  function renderTimeline(items) { if (window.ClinicPages) ClinicPages.renderTimeline(items); }

  function patientIdOnPage() {
    var match = /^\/patients\/([0-9a-f-]{36})/.exec(location.pathname);
    return match ? match[1] : null;
  }

  // The offline shell: a record that exists only on this device, or a page never opened online.
  function renderShell(items) {
    var shell = document.getElementById("offline-record");
    if (!shell) return;
    var patientId = patientIdOnPage();
    var patient = items.filter(function (item) { return item.kind === "patient" && item.key === patientId; })[0];
    if (!patient && window.ClinicPages) { // a patient of the device's index, opened for the first time
      ClinicPages.showRecord(shell, patientId).then(function (shown) { if (shown) renderTimeline(items); });
      return;
    }
    shell.hidden = !patient;
    var missing = document.getElementById("offline-missing");
    if (missing) missing.hidden = !!patient;
    if (!patient) return;
    shell.setAttribute("data-patient-id", patientId);
    shell.querySelector("[data-name]").textContent = first(patient.fields.name) || "";
    shell.querySelector("[data-birth]").textContent = showDate(first(patient.fields.birth_date));
    shell.querySelector("[data-nik]").textContent = first(patient.fields.nik) || "—";
    shell.querySelector("[data-badge]").replaceChildren(waitingBadge(patient));
    var visitLink = shell.querySelector("a[data-new-visit]");
    if (visitLink) visitLink.setAttribute("href", "/patients/" + patientId + "/visits/new");
  }

  function renderSyncPage(items) {
    var waitingList = document.getElementById("outbox-waiting");
    var attentionList = document.getElementById("outbox-attention");
    if (!waitingList || !attentionList) return;
    waitingList.replaceChildren();
    attentionList.replaceChildren();
    items.forEach(function (item) {
      var attention = Outbox.states.needsAttention(item.state);
      var node = el("li", { "class": "card outbox-item", "data-outbox": item.key, "data-state": item.state });
      node.appendChild(el("strong", {}, (T["kind_" + item.kind.replace("-", "_")] || item.kind) + ": " + (item.summary || "")));
      node.appendChild(el("p", { "class": "muted" }, showTime(item.queuedAt) + " · " +
        (T.attempts || "attempts") + ": " + item.attempts));
      var note = stateNote(item);
      if (note) node.appendChild(el("p", { "class": "muted" }, note));
      var error = item.lastError;
      if (error && error.message) node.appendChild(el("p", { "class": attention ? "error" : "muted" }, error.message));
      if (error && error.errors && item.state !== Outbox.S.CONFLICT) {
        var list = el("ul", { "class": "errors" });
        Object.keys(error.errors).forEach(function (field) { list.appendChild(el("li", {}, field + ": " + error.errors[field])); });
        node.appendChild(list);
      }
      if (item.state === Outbox.S.CONFLICT) node.appendChild(conflictView(item));
      node.appendChild(actionsOf(item));
      (attention ? attentionList : waitingList).appendChild(node);
    });
    document.getElementById("outbox-waiting-empty").hidden = waitingList.children.length > 0;
    document.getElementById("outbox-attention-empty").hidden = attentionList.children.length > 0;
    renderOthersWaiting();
    ClinicDB.getMeta("lastGoodSync").then(function (when) {
      var node = document.getElementById("last-good-sync");
      if (node) node.textContent = when ? showTime(when) : (T.never || "—");
    });
    showStorage();
  }

  function stateNote(item) {
    if (item.state === Outbox.S.PAUSED) return T.pausedForSignIn;
    if (item.state === Outbox.S.BACKING_OFF && item.retryAt) {
      return (T.nextTry || "{time}").replace("{time}", new Date(item.retryAt).toLocaleTimeString(document.documentElement.lang || undefined));
    }
    return "";
  }

  // The ways out of the item's state (outbox_states.js USER_ACTIONS), as buttons and links.
  function actionsOf(item) {
    var E = Outbox.E;
    var actions = el("p", { "class": "actions" });
    (Outbox.states.USER_ACTIONS[item.state] || []).forEach(function (action) {
      if (action === E.FIX && item.formPath) {
        actions.appendChild(el("a", { "class": "btn btn-small btn-primary", href: item.formPath + "?outbox=" + encodeURIComponent(item.key) }, T.openAndFix));
      }
      if (action === E.RESEND) actions.appendChild(el("button", { "class": "btn btn-small btn-secondary", type: "button", "data-send-again": item.key }, T.sendAgain));
      if (action === E.RETRY_NOW) actions.appendChild(el("button", { "class": "btn btn-small btn-secondary", type: "button", "data-retry-now": item.key }, T.tryNow));
      if (action === E.NEW_ID) actions.appendChild(el("button", { "class": "btn btn-small btn-primary", type: "button", "data-new-id-again": item.key }, T.sendUnderNewId));
      if (action === E.DISCARD) actions.appendChild(el("button", { "class": "btn btn-small btn-secondary", type: "button", "data-discard": item.key }, T.discard));
    });
    return actions;
  }

  // Other users' records waiting on this device: how many, and whose; never what they contain. On the
  // sign-in page (no user) everyone's.
  function renderOthersWaiting() {
    var list = document.getElementById("outbox-others");
    if (!list || !window.Outbox) return;
    Outbox.othersWaiting(userId).then(function (others) {
      list.replaceChildren();
      others.forEach(function (other) {
        list.appendChild(el("li", { "data-others": String(other.count) },
          (T.othersWaiting || "{n}: {name}").replace("{n}", other.count).replace("{name}", other.name)));
      });
      list.hidden = others.length === 0;
      var section = list.closest("[data-others-section]");
      if (section) section.hidden = others.length === 0;
    }).catch(function () {});
  }

  // --- conflicts and discards: server-rendered <template>s in the page's language (pwa/status.html) -----
  function fromTemplate(id) {
    var template = document.getElementById(id);
    return template ? template.content.firstElementChild.cloneNode(true) : el("div");
  }

  function slot(node, name, text) {
    var target = node.querySelector('[data-slot="' + name + '"]');
    if (!target) return;
    if ("value" in target && target.tagName !== "DD") target.value = text; else target.textContent = text;
  }

  // Only the fields in conflict, as the server's answer describes them (labels and display values in the
  // page's language): the value before both changes, theirs (who, when) and mine; keep theirs or mine.
  function conflictView(item) {
    var view = fromTemplate("conflict-view-template");
    view.setAttribute("data-outbox-key", item.key);
    var holder = view.querySelector('[data-slot="fields"]');
    ((item.lastError && item.lastError.conflicts) || []).forEach(function (conflict) {
      var field = fromTemplate("conflict-field-template");
      var name = conflict.field;
      field.setAttribute("data-field", name);
      ["label", "base", "theirs", "mine", "changed_by"].forEach(function (part) { slot(field, part, conflict[part] || ""); });
      slot(field, "changed_at", conflict.changed_at ? new Date(conflict.changed_at).toLocaleString(document.documentElement.lang || undefined) : "");
      field.querySelectorAll("input[type=radio]").forEach(function (radio) { radio.name = "keep_" + name + "-" + item.key; });
      var edit = field.querySelector(".keep-edit");
      if (edit && !conflict.editable) edit.remove();
      else if (edit) {
        var input = edit.querySelector("[data-slot=mine_value]");
        input.id = "conflict-" + item.key + "-" + name;
        input.name = name;
        input.value = first(item.fields[name]) || "";
        edit.querySelector("label").setAttribute("for", input.id);
      }
      holder.appendChild(field);
    });
    return view;
  }

  var KEPT_AS_IS = ["id", "revision_id", "version", "base_revision", "author", "accept_warnings", "changed"];

  // One new edit on the current version, carrying the fields the user changed and a choice per field in
  // conflict; it takes the conflict's place in the outbox.
  function resolveConflict(form) {
    var key = form.getAttribute("data-outbox-key");
    Outbox.itemOf(userId, key).then(function (item) {
      if (!item) return;
      var answer = item.lastError || {};
      var fields = {};
      Object.keys(item.fields).forEach(function (name) { fields[name] = item.fields[name].slice(); });
      (answer.conflicts || []).forEach(function (conflict) {
        var name = conflict.field;
        var chosen = form.querySelector('[data-field="' + name + '"] input[data-keep]:checked');
        var keep = chosen ? chosen.getAttribute("data-keep") : "theirs";
        fields["keep_" + name] = [keep];
        var input = form.querySelector('[data-field="' + name + '"] [data-slot=mine_value]');
        if (keep === "mine" && input) fields[name] = [input.value];
        if (keep === "theirs") delete fields[name];
      });
      var changed = answer.changed || [];
      if (changed.length) {
        fields.changed = changed.slice();
        if (item.kind === "patient-edit") {
          Object.keys(answer.current || {}).forEach(function (name) {
            if (KEPT_AS_IS.indexOf(name) === -1 && changed.indexOf(name) === -1) delete fields[name];
          });
        }
      }
      var version = answer.version !== undefined ? answer.version : (answer.current || {}).version;
      fields["base_revision" in fields ? "base_revision" : "version"] = [String(version)];
      fields["revision_id" in fields ? "revision_id" : "id"] = [newId()];
      fields.accept_warnings = ["yes"];
      return Outbox.resolve({ id: userId }, key, fields);
    }).then(function () { replay(true); }, function (error) { notice("error", String(error)); });
  }

  function showDiscardForm(button) {
    var key = button.getAttribute("data-discard");
    var holder = button.closest("li");
    if (!holder || holder.querySelector("[data-discard-form]")) return;
    var form = fromTemplate("discard-template");
    form.setAttribute("data-outbox-key", key);
    var reason = form.querySelector("textarea");
    reason.id = "discard-reason-" + key;
    form.querySelector("label").setAttribute("for", reason.id);
    holder.appendChild(form);
    reason.focus();
  }

  function discardItem(form) {
    var reason = form.querySelector("textarea").value;
    if (!reason.trim()) { form.querySelector("textarea").focus(); return; }
    Outbox.discard({ id: userId }, form.getAttribute("data-outbox-key"), reason).then(function () {
      replay(true);
    }, function (error) { notice("error", String(error)); });
  }

  function onSubmit(event) {
    var form = event.target;
    if (form.matches("[data-conflict][data-outbox-key]")) { event.preventDefault(); resolveConflict(form); return; }
    if (form.matches("[data-discard-form]")) { event.preventDefault(); discardItem(form); }
  }

  // "Open and fix": the original form, filled from the item set aside, with the same record id.
  function fillFromOutbox() {
    var key = new URLSearchParams(location.search).get("outbox");
    var form = document.querySelector("form[data-record-form]");
    if (!key || !form || !userId) return;
    Outbox.itemOf(userId, key).then(function (item) {
      if (!item) return;
      Object.keys(item.fields).forEach(function (name) {
        var inputs = form.querySelectorAll('[name="' + name + '"]');
        item.fields[name].forEach(function (value, index) {
          if (inputs[index]) inputs[index].value = value;
        });
      });
      form.setAttribute("data-from-outbox", key);
      var errors = (item.lastError && item.lastError.errors) || {};
      Object.keys(errors).forEach(function (name) {
        var input = form.querySelector('[name="' + name + '"]');
        if (!input) return;
        input.setAttribute("aria-invalid", "true");
        input.insertAdjacentElement("afterend", el("p", { "class": "error" }, errors[name]));
      });
    });
  }

  // A form the service worker neither sent nor kept: it was opened for a user who is no longer the one
  // signed in on this device (a stale tab). The form stays as typed; the page says what to do.
  function showRefused(key) {
    var form = Array.prototype.filter.call(document.querySelectorAll("form[data-record-form]"), function (candidate) {
      var id = candidate.querySelector('[name="revision_id"]') || candidate.querySelector('[name="id"]');
      return id && id.value === key;
    })[0];
    if (!form) return;
    var old = document.getElementById("author-refused");
    if (old) old.remove();
    var text = (T.authorRefused || "Not saved: {author}").replace(/\{author\}/g, userName || "");
    notice("error", text).setAttribute("id", "author-refused");
    window.scrollTo(0, 0);
  }

  // --- storage ---------------------------------------------------------------------------------
  function askForPersistentStorage() {
    if (!userId || !navigator.storage || !navigator.storage.persist) return;
    navigator.storage.persisted().then(function (already) { if (!already) return navigator.storage.persist(); }).catch(function () {});
    if (!navigator.storage.estimate) return;
    navigator.storage.estimate().then(function (estimate) {
      if (estimate.quota && estimate.usage / estimate.quota > QUOTA_WARNING) notice("warning", T.quotaWarning || "Storage almost full");
    });
  }

  function showStorage() {
    var node = document.getElementById("storage-usage");
    if (!node || !navigator.storage || !navigator.storage.estimate) return;
    Promise.all([navigator.storage.estimate(), navigator.storage.persisted ? navigator.storage.persisted() : false]).then(function (found) {
      var estimate = found[0];
      var mb = function (bytes) { return (bytes / 1048576).toFixed(1) + " MB"; };
      node.textContent = mb(estimate.usage || 0) + " / " + mb(estimate.quota || 0) + " · " + (found[1] ? T.persistent : T.notPersistent);
    });
  }

  // --- small helpers ---------------------------------------------------------------------------
  function notice(kind, text, buttonText) {
    var box = el("div", { "class": "alert alert-" + kind, role: kind === "error" ? "alert" : "status" });
    box.appendChild(el("span", {}, text + " "));
    if (buttonText) box.appendChild(el("button", { "class": "btn btn-small btn-primary", type: "button" }, buttonText));
    var holder = document.getElementById("app-notices") || document.body;
    holder.appendChild(box);
    return box;
  }

  function markSavedCopy() {
    if (new URLSearchParams(location.search).get("saved") === "device") {
      notice("success", T.savedOnDevice || "Saved on this device.").setAttribute("id", "saved-on-device");
    }
    var savedAt = body.getAttribute("data-saved-at");
    if (savedAt === null) return;
    var when = savedAt ? showTime(savedAt) : "";
    var banner = notice("warning", (T.savedCopy || "Saved copy") + (when ? " " + when : ""));
    banner.classList.add("saved-copy");
  }

  function showAddRowButtons() {
    document.querySelectorAll("[data-add-row]").forEach(function (button) {
      button.hidden = false;
      limitRows(button);
    });
  }

  // The server refuses more rows than data-max-rows (clinic/limits.py): the button stops there.
  function limitRows(button) {
    var tbody = document.querySelector(button.getAttribute("data-add-row"));
    var max = Number(button.getAttribute("data-max-rows")) || Infinity;
    button.disabled = !tbody || tbody.children.length >= max;
  }

  function addRow(button) {
    var tbody = document.querySelector(button.getAttribute("data-add-row"));
    var last = tbody && tbody.lastElementChild;
    if (!last || button.disabled) return;
    var copy = last.cloneNode(true);
    copy.querySelectorAll("input, select").forEach(function (input) { input.value = ""; });
    tbody.appendChild(copy);
    limitRows(button);
    copy.querySelector("input, select").focus();
  }

  function confirmSignOut(form) {
    pendingItems().then(function (items) {
      if (items.length && !window.confirm((T.signOutWarning || "").replace("{n}", items.length))) return;
      var controller = navigator.serviceWorker && navigator.serviceWorker.controller;
      if (controller) controller.postMessage({ type: "signed-out" });
      var cleared = window.caches ? caches.delete("pages-v1") : Promise.resolve();
      // The clinical working set belongs to this user; the patient index stays with the device.
      if (window.ClinicDevice) cleared = Promise.all([cleared, ClinicDevice.forgetWorkingSet().catch(function () {})]);
      cleared.then(function () {
        return ClinicDB.setMeta("currentUser", null);
      }).finally(function () { form.submit(); });
    });
  }

  function onClick(event) {
    var target = event.target.closest("[data-print], [data-add-row], [data-send-again], [data-retry-now], [data-new-id-again], " +
      "[data-discard], [data-discard-cancel], [data-sync-now], .logout-form button");
    if (!target) return;
    if (target.matches("[data-print]")) { window.print(); return; }
    if (target.matches("[data-add-row]")) { addRow(target); return; }
    if (target.matches("[data-send-again]")) { Outbox.sendAgain(target.getAttribute("data-send-again")).then(function () { replay(true); }); return; }
    if (target.matches("[data-retry-now]")) { Outbox.retryNow(target.getAttribute("data-retry-now")).then(function () { replay(true); }); return; }
    if (target.matches("[data-new-id-again]")) { Outbox.renew({ id: userId }, target.getAttribute("data-new-id-again"), newId()).then(function () { replay(true); }); return; }
    if (target.matches("[data-discard]")) { showDiscardForm(target); return; }
    if (target.matches("[data-discard-cancel]")) { target.closest("form").remove(); return; }
    if (target.matches("[data-sync-now]")) { event.preventDefault(); replay(true); return; }
    if (target.closest(".logout-form") && window.Outbox) { event.preventDefault(); confirmSignOut(target.closest("form")); }
  }
})();
