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
  window.addEventListener("pageshow", refreshNewIds);
  window.addEventListener("online", onOnline);
  window.addEventListener("offline", renderStatus);

  function readTexts() { return window.CLINIC_TEXTS || {}; } // texts.js, in the page's language

  function start() {
    retargetShellForm();
    markSavedCopy();
    refreshNewIds();
    showAddRowButtons();
    if (!("serviceWorker" in navigator) || !window.Outbox) return;
    registerWorker();
    rememberUser().then(function () {
      renderStatus();
      renderOutboxViews();
      fillFromOutbox();
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

  // The visit form kept for offline use belongs to no patient: point it at the one in the address.
  var SHELL_ID = "00000000-0000-4000-8000-000000000000";
  function retargetShellForm() {
    var match = /^\/patients\/([0-9a-f-]{36})\/visits\/new$/.exec(location.pathname);
    var form = document.querySelector("form[data-record-form=visit]");
    if (!match || !form || form.getAttribute("action").indexOf(SHELL_ID) === -1) return;
    form.setAttribute("action", "/patients/" + match[1] + "/visits");
    var line = document.querySelector(".patient-line a");
    if (line) line.setAttribute("href", "/patients/" + match[1]);
    if (!window.Outbox || !userId) return;
    if (window.ClinicPages) ClinicPages.nameShellForm(match[1], line);
    Outbox.itemOf(userId, match[1]).then(function (item) {
      if (item && line) line.textContent = first(item.fields.name) || line.textContent;
    }).catch(function () {});
  }

  // --- service worker and replay -------------------------------------------------------------
  function registerWorker() {
    navigator.serviceWorker.register("/sw.js", { scope: "/" }).then(watchForUpdate).catch(function () {});
    navigator.serviceWorker.addEventListener("controllerchange", onControllerChange);
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
      // Signed in again: a replay paused for a missing session may go on.
      return ClinicDB.getMeta("authPaused");
    }).then(function (paused) {
      if (paused === userId) return ClinicDB.setMeta("authPaused", null);
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
    pendingItems().then(function (items) {
      if (items.some(function (item) { return item.state === Outbox.WAITING; })) replay(false);
    });
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
  function pendingItems() {
    if (!userId || !window.Outbox) return Promise.resolve([]);
    return Outbox.itemsOf(userId).catch(function () { return []; });
  }

  function renderStatus(syncing) {
    var status = document.getElementById("sync-status");
    if (!status || !window.Outbox) return;
    Promise.all([pendingItems(), ClinicDB.getMeta("authPaused").catch(function () { return null; })]).then(function (found) {
      var items = found[0];
      var attention = items.some(function (item) { return item.state === Outbox.ATTENTION; }) || found[1] === userId;
      // "Syncing" only while something of this user's is being sent, not for a replay with nothing to send.
      var sending = (syncing || Outbox.isSyncing()) && items.length > 0;
      var state = !navigator.onLine ? "offline" : sending ? "syncing" : attention ? "attention" : "online";
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

  function waitingBadge(item) {
    var label = item.state === Outbox.ATTENTION ? T.needsAttention : T.waiting;
    return el("span", { "class": "badge " + (item.state === Outbox.ATTENTION ? "badge-attention" : "badge-waiting") }, label);
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
    shell.querySelector("[data-birth]").textContent = first(patient.fields.birth_date) || "";
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
      var node = el("li", { "class": "card outbox-item", "data-outbox": item.key, "data-state": item.state });
      node.appendChild(el("strong", {}, (T["kind_" + item.kind.replace("-", "_")] || item.kind) + ": " + (item.summary || "")));
      node.appendChild(el("p", { "class": "muted" }, new Date(item.queuedAt).toLocaleString(document.documentElement.lang || undefined) + " · " +
        (T.attempts || "attempts") + ": " + item.attempts));
      var error = item.lastError;
      if (error && error.message) node.appendChild(el("p", { "class": item.state === Outbox.ATTENTION ? "error" : "muted" }, error.message));
      if (error && error.errors) {
        var list = el("ul", { "class": "errors" });
        Object.keys(error.errors).forEach(function (field) { list.appendChild(el("li", {}, field + ": " + error.errors[field])); });
        node.appendChild(list);
      }
      if (error && error.current) node.appendChild(conflictTable(item, error.current));
      if (item.state === Outbox.ATTENTION) {
        var actions = el("p", { "class": "actions" });
        if (item.formPath) actions.appendChild(el("a", { "class": "btn btn-small btn-primary", href: item.formPath + "?outbox=" + encodeURIComponent(item.key) }, T.openAndFix));
        actions.appendChild(el("button", { "class": "btn btn-small btn-secondary", type: "button", "data-send-again": item.key }, T.sendAgain));
        node.appendChild(actions);
      }
      (item.state === Outbox.ATTENTION ? attentionList : waitingList).appendChild(node);
    });
    document.getElementById("outbox-waiting-empty").hidden = waitingList.children.length > 0;
    document.getElementById("outbox-attention-empty").hidden = attentionList.children.length > 0;
    renderOthersWaiting();
    ClinicDB.getMeta("lastGoodSync").then(function (when) {
      var node = document.getElementById("last-good-sync");
      if (node) node.textContent = when ? new Date(when).toLocaleString(document.documentElement.lang || undefined) : (T.never || "—");
    });
    showStorage();
  }

  // Other users' records waiting on this device: how many, and whose; never what they contain.
  function renderOthersWaiting() {
    var list = document.getElementById("outbox-others");
    if (!list) return;
    Outbox.othersWaiting(userId).then(function (others) {
      list.replaceChildren();
      others.forEach(function (other) {
        list.appendChild(el("li", { "data-others": String(other.count) },
          (T.othersWaiting || "{n}: {name}").replace("{n}", other.count).replace("{name}", other.name)));
      });
      list.hidden = others.length === 0;
    });
  }

  function conflictTable(item, current) {
    var table = el("table", { "class": "list conflict" });
    var head = el("tr");
    ["", T.nowStored, T.yours].forEach(function (text) { head.appendChild(el("th", { scope: "col" }, text)); });
    table.appendChild(head);
    Object.keys(item.fields).forEach(function (name) {
      if (!(name in current)) return;
      var mine = (item.fields[name] || []).join(", ");
      var theirs = current[name] === null || current[name] === undefined ? "" : String(current[name]);
      var row = el("tr", mine !== theirs ? { "class": "differs" } : {});
      row.appendChild(el("th", { scope: "row" }, name));
      row.appendChild(el("td", {}, theirs));
      row.appendChild(el("td", {}, mine));
      table.appendChild(row);
    });
    return table;
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
    var when = savedAt ? new Date(savedAt).toLocaleString(document.documentElement.lang || undefined) : "";
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
    var target = event.target.closest("[data-print], [data-add-row], [data-send-again], [data-sync-now], .logout-form button");
    if (!target) return;
    if (target.matches("[data-print]")) { window.print(); return; }
    if (target.matches("[data-add-row]")) { addRow(target); return; }
    if (target.matches("[data-send-again]")) { Outbox.sendAgain(target.getAttribute("data-send-again")).then(function () { replay(true); }); return; }
    if (target.matches("[data-sync-now]")) { event.preventDefault(); replay(true); return; }
    if (target.closest(".logout-form") && window.Outbox) { event.preventDefault(); confirmSignOut(target.closest("form")); }
  }
})();
