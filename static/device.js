/* The device's working set (issue 10): the facility's patient index and, for clinicians, the recent visits of
   the patients they are likely to see, downloaded after sign-in in idle time, page by page, and kept current
   with deltas from the server's change feed (GET /feed/patients, /feed/visits; clinic/feed/). Each page is
   stored in one transaction with its cursor, so a download cut off anywhere resumes at the next page.
   The index belongs to the device; the working set to the signed-in user, and goes at sign-out. */
(function (scope) {
  "use strict";

  var REFRESH_MS = 60000; // a delta while a page stays open and online
  var IDLE_TIMEOUT_MS = 2000;
  var LOCK = "clinic-device-feed"; // one download at a time per device, whatever the number of tabs

  // What each feed keeps, and under which names its state is stored in META.
  var FEEDS = {
    "/feed/patients": { store: "patients", key: "id", cursor: "cursor:patients", shared: true },
    "/feed/visits": { store: "working_set", key: "patient_id", cursor: "cursor:visits", shared: false },
  };
  var OWNER = "workingSetOwner"; // the user whose working set this device holds (ClinicDB.OWNER)
  var READY = "deviceReady"; // {user, asOf}: the last complete download for that user (ClinicDB.READY)

  var pulling = null;
  var indexChanged = false; // this refresh stored or removed index entries (a page holding the index reads it again)

  function userId() { return document.body.getAttribute("data-user-id"); }

  function allowedFeeds() {
    try { return JSON.parse(document.body.getAttribute("data-feeds") || "[]"); } catch (e) { return []; }
  }

  function idle() {
    return new Promise(function (resolve) {
      if (scope.requestIdleCallback) scope.requestIdleCallback(function () { resolve(); }, { timeout: IDLE_TIMEOUT_MS });
      else setTimeout(resolve, 50);
    });
  }

  function getJSON(url) {
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } }).then(function (response) {
      if (!response.ok || response.redirected) throw new Error("feed " + response.status);
      return response.json();
    });
  }

  // The index entries of a feed page (sent by column, static/index_wire.js), with what the offline search
  // compares kept ready.
  function indexEntries(answer) {
    var entries = IndexWire.entries(answer.columns, answer.count);
    entries.forEach(function (entry) { entry.search = (entry.name || "").toLowerCase(); });
    return entries;
  }

  function workingSetEntry(entry) {
    var visits = entry.visits || [];
    return { patient_id: entry.patient_id, visits: visits, seen: visits.length ? visits[0].time_of_care : "" };
  }

  // One feed page after page from its stored cursor. Resolves with the last answer's `as_of`.
  function pull(path) {
    var feed = FEEDS[path];
    return ClinicDB.getMeta(feed.cursor).then(function (cursor) {
      return page(path, feed, cursor || 0);
    });
  }

  function page(path, feed, cursor) {
    return getJSON(path + "?after=" + cursor).then(function (answer) {
      if (answer.enabled === false) return reset(feed).then(function () { return answer.as_of || new Date().toISOString(); });
      if (cursor > answer.latest) return reset(feed).then(function () { return page(path, feed, 0); }); // restored database
      return store(feed, answer).then(function () {
        if (!answer.more) return answer.as_of;
        return idle().then(function () { return page(path, feed, answer.cursor); });
      });
    });
  }

  function store(feed, answer) {
    return ClinicDB.transaction([feed.store, ClinicDB.META], "readwrite", function (tx) {
      var target = tx.store(feed.store);
      var entries = feed.shared ? indexEntries(answer) : answer.entries.map(workingSetEntry);
      if (feed.shared && entries.length) indexChanged = true;
      var writes = entries.map(function (entry) { return target.put(entry); });
      writes.push(tx.store(ClinicDB.META).put({ name: feed.cursor, value: answer.cursor }));
      return Promise.all(writes);
    });
  }

  function reset(feed) {
    if (feed.shared) indexChanged = true;
    return ClinicDB.transaction([feed.store, ClinicDB.META], "readwrite", function (tx) {
      return Promise.all([tx.store(feed.store).clear(), tx.store(ClinicDB.META).delete(feed.cursor)]);
    });
  }

  // Patients not seen for the feed's days leave the working set (the server sends no deletions).
  function pruneWorkingSet(days) {
    var oldest = new Date(Date.now() - days * 86400000).toISOString();
    return ClinicDB.transaction(ClinicDB.WORKING_SET, "readwrite", function (tx) {
      var store = tx.store(ClinicDB.WORKING_SET);
      return store.getAll().then(function (entries) {
        return Promise.all(entries.filter(function (entry) { return entry.seen < oldest; }).map(function (entry) {
          return store.delete(entry.patient_id);
        }));
      });
    });
  }

  // The working set belongs to one user: another user's goes before this one's is downloaded.
  function claimWorkingSet(user) {
    return ClinicDB.getMeta(OWNER).then(function (owner) {
      if (owner === user) return;
      return forgetWorkingSet().then(function () { return ClinicDB.setMeta(OWNER, user); });
    });
  }

  function forgetWorkingSet() {
    return reset(FEEDS["/feed/visits"]).then(function () {
      return Promise.all([ClinicDB.setMeta(OWNER, null), ClinicDB.setMeta(READY, null)]);
    });
  }

  function withLock(fn) {
    if (navigator.locks && navigator.locks.request) return navigator.locks.request(LOCK, fn);
    return fn();
  }

  // Every feed this user may read, one after the other; then the status element says how current it is.
  function refresh() {
    var user = userId();
    if (!user || !scope.ClinicDB || pulling) return pulling || Promise.resolve();
    var paths = allowedFeeds().filter(function (path) { return FEEDS[path]; });
    indexChanged = false;
    pulling = idle().then(function () {
      return withLock(function () {
        return claimWorkingSet(user).then(function () {
          var asOf = null;
          return paths.reduce(function (done, path) {
            return done.then(function () { return pull(path); }).then(function (when) { asOf = asOf || when; });
          }, Promise.resolve()).then(function () {
            return paths.indexOf("/feed/visits") === -1 ? null : pruneWorkingSet(30);
          }).then(function () {
            var ready = { user: user, asOf: asOf || new Date().toISOString() };
            return ClinicDB.setMeta(READY, ready).then(function () { return ready; });
          });
        });
      });
    }).then(markReady, function () {
      // Offline, or the server is away: the device works from its last complete download.
      return ClinicDB.getMeta(READY).then(function (ready) { if (ready && ready.user === user) markReady(ready); });
    }).catch(function () {}).then(function () { pulling = null; });
    return pulling;
  }

  function markReady(ready) {
    var status = document.getElementById("sync-status");
    if (!status || !ready) return;
    status.setAttribute("data-ready", "true");
    status.setAttribute("data-as-of", ready.asOf);
    document.dispatchEvent(new CustomEvent("device:ready", { detail: { user: ready.user, asOf: ready.asOf, changed: indexChanged } }));
  }

  // When the device's data was last brought up to date for this user (or null).
  function readyState() {
    return ClinicDB.getMeta(READY).then(function (ready) { return ready && ready.user === userId() ? ready : null; })
      .catch(function () { return null; });
  }

  function patient(id) { return ClinicDB.get(ClinicDB.PATIENTS, id).catch(function () { return undefined; }); }

  function recentVisits(id) {
    return ClinicDB.getMeta(OWNER).then(function (owner) {
      if (owner !== userId()) return [];
      return ClinicDB.get(ClinicDB.WORKING_SET, id).then(function (entry) { return entry ? entry.visits : []; });
    }).catch(function () { return []; });
  }

  // What a record shown from the device needs: the patient (or the survivor it was merged into: its record
  // now, as on the server), this user's recent visits of it, and how current they are. `parts` are
  // ClinicDB.readRecord's, read by this page or handed over by the worker with the page.
  function judgeRecord(parts) {
    var user = userId();
    if (!parts || !parts.patient) return { patient: null, visits: [], ready: null };
    var mine = parts.owner === user;
    var ready = parts.ready && parts.ready.user === user ? parts.ready : null;
    return { patient: parts.patient, visits: mine && parts.entry ? parts.entry.visits : [], ready: ready };
  }

  function record(id) {
    return ClinicDB.readRecord(id).catch(function () { return null; }).then(judgeRecord);
  }

  function allPatients() {
    return ClinicDB.transaction(ClinicDB.PATIENTS, "readonly", function (tx) { return tx.store(ClinicDB.PATIENTS).getAll(); });
  }

  function start() {
    if (!userId() || !scope.ClinicDB) return;
    refresh();
    setInterval(function () { if (navigator.onLine) refresh(); }, REFRESH_MS);
    scope.addEventListener("online", refresh);
  }

  document.addEventListener("DOMContentLoaded", start);

  scope.ClinicDevice = {
    refresh: refresh, forgetWorkingSet: forgetWorkingSet, readyState: readyState, patient: patient,
    recentVisits: recentVisits, allPatients: allPatients, record: record, judgeRecord: judgeRecord,
  };
})(self);
