/* The outbox: submissions kept on this device until the server confirms it stored them.
   Shared by pages and the service worker. Rules (../shared/OFFLINE.md): nothing leaves the device
   unconfirmed, nothing expires, one replay at a time per device, items only under their author. */
(function (scope) {
  "use strict";

  var DB = scope.ClinicDB;
  var BATCH_SIZE = 100; // items per request: on a slow link each round trip costs more than the bytes
  var LOCK_NAME = "clinic-outbox-replay";
  var LEASE_MS = 60000;
  var MIN_BACKOFF_MS = 5000;
  var MAX_BACKOFF_MS = 300000;
  var WAITING = "waiting";
  var ATTENTION = "attention";
  var channel = "BroadcastChannel" in scope ? new BroadcastChannel("clinic-outbox") : null;
  var syncInProgress = false;

  function announce(message) {
    if (channel) channel.postMessage(message);
    if (scope.dispatchEvent && typeof CustomEvent === "function" && scope.document) {
      scope.dispatchEvent(new CustomEvent("outbox", { detail: message }));
    }
  }

  function first(value) { return Array.isArray(value) ? value[0] : value; }

  function keyOf(fields) {
    // The submission's own UUID: the record id of a create or a correction, the revision id of an edit.
    return first(fields.revision_id) || first(fields.id) || null;
  }

  // The record target a URL names, from the list generated from the server's route table (targets.js).
  function targetOf(path) {
    var targets = scope.RECORD_TARGETS || [];
    for (var i = 0; i < targets.length; i++) {
      var match = new RegExp(targets[i].pattern).exec(path);
      if (match) return { kind: targets[i].kind, params: match.groups || {} };
    }
    return null;
  }

  function kindOf(target) {
    var found = targetOf(target);
    return found ? found.kind : null;
  }

  function patientOf(target, fields) {
    var found = targetOf(target);
    return (found && found.params.patient_id) || first(fields.id);
  }

  function summaryOf(kind, fields) {
    if (kind === "patient" || kind === "patient-edit") return first(fields.name) || "";
    return first(fields.complaint) || "";
  }

  // The user a form was opened for (its `author` field), or null for a form that names no one.
  function authorOf(fields) { return first(fields.author) || null; }

  // Whether `user` may send or keep this form: a form opened for someone else (a stale tab on a shared
  // tablet) is never stored under whoever is signed in now.
  function isAuthor(fields, user) {
    var author = authorOf(fields);
    return !!user && (author === null || author === user.id);
  }

  // Keep one submission; the same submission queued again replaces itself, never doubles.
  function enqueue(target, fields, author, formPath) {
    var key = keyOf(fields);
    if (!key) return Promise.reject(new Error("the form carries no record id"));
    if (!isAuthor(fields, author)) return Promise.reject(new Error("the form belongs to another user"));
    var kind = kindOf(target);
    return DB.transaction(DB.OUTBOX, "readwrite", function (tx) {
      var outbox = tx.store(DB.OUTBOX);
      return Promise.all([outbox.get(key), outbox.last("seq")]).then(function (found) {
        var old = found[0];
        var top = found[1] ? found[1].seq : 0;
        var item = {
          key: key, seq: old ? old.seq : Math.max(top + 1, Date.now()), target: target, method: "POST",
          fields: fields, author: author.id, authorName: author.name, kind: kind,
          patientId: patientOf(target, fields), summary: summaryOf(kind, fields), formPath: formPath || null,
          queuedAt: old ? old.queuedAt : new Date().toISOString(), attempts: old ? old.attempts : 0,
          lastError: null, state: WAITING,
        };
        return outbox.put(item).then(function () { return item; });
      });
    }).then(function (item) {
      announce({ type: "changed" });
      return item;
    });
  }

  function items() { return DB.allInOrder(); }

  // A page reads only its own user's items: another user's stay theirs, even on a shared tablet.
  function itemsOf(userId) {
    return items().then(function (all) {
      return all.filter(function (item) { return item.author === userId; });
    });
  }

  function itemOf(userId, key) {
    return DB.get(DB.OUTBOX, key).then(function (item) {
      return item && item.author === userId ? item : null;
    });
  }

  // Other users' items on this device, as counts by name: [{name, count}], never their content.
  function othersWaiting(userId) {
    return items().then(function (all) {
      var byAuthor = {};
      all.forEach(function (item) {
        if (item.author === userId) return;
        var entry = byAuthor[item.author] = byAuthor[item.author] || { name: item.authorName || "?", count: 0 };
        entry.count += 1;
      });
      return Object.keys(byAuthor).map(function (author) { return byAuthor[author]; });
    });
  }

  function markSent(key) { return DB.remove(DB.OUTBOX, key); }

  function update(key, change) {
    return DB.transaction(DB.OUTBOX, "readwrite", function (tx) {
      var outbox = tx.store(DB.OUTBOX);
      return outbox.get(key).then(function (item) {
        if (item) return outbox.put(Object.assign(item, change));
      });
    }).then(function () {});
  }

  function setAside(item, result) {
    return update(item.key, { state: ATTENTION, lastError: result, attempts: item.attempts + 1 });
  }

  function sendAgain(key) {
    return update(key, { state: WAITING }).then(function () { announce({ type: "changed" }); });
  }

  function currentUser() { return DB.getMeta("currentUser"); }

  // Backoff while the server or network fails: 5 s, 10 s, 20 s ... at most 5 minutes. Never gives up.
  function backOff() {
    return DB.getMeta("backoff").then(function (old) {
      var delay = old ? Math.min(old.delay * 2, MAX_BACKOFF_MS) : MIN_BACKOFF_MS;
      return DB.setMeta("backoff", { delay: delay, until: Date.now() + delay });
    });
  }

  function dueForRetry() {
    return DB.getMeta("backoff").then(function (b) { return !b || Date.now() >= b.until; });
  }

  function wire(item) {
    return { key: item.key, target: item.target, method: item.method, fields: item.fields,
             author: item.author, queued_at: item.queuedAt };
  }

  function createsPatient(all, patientId) {
    return all.some(function (other) { return other.kind === "patient" && other.key === patientId; });
  }

  // What each answer means for its item: gone (stored), set aside, or kept waiting for a retry.
  function outcomeOf(item, result, all) {
    if (!result || result.status === "wrong_author") return null;
    if (result.status === "stored" || result.status === "already") return { remove: true, progress: true };
    var retry = { state: WAITING, attempts: item.attempts + 1, lastError: result };
    if (result.status === "error") return { change: retry, progress: false };
    // Its patient is still on this device (waiting or set aside): the visit waits for it.
    if (result.status === "missing" && createsPatient(all, item.patientId)) return { change: retry, progress: false };
    return { change: { state: ATTENTION, attempts: item.attempts + 1, lastError: result }, progress: true };
  }

  // All answers of one batch are written to the device in one IndexedDB transaction.
  function apply(batch, results, all) {
    var byKey = {};
    results.forEach(function (result) { byKey[result.key] = result; });
    var progress = 0;
    return DB.transaction(DB.OUTBOX, "readwrite", function (tx) {
      var outbox = tx.store(DB.OUTBOX);
      return Promise.all(batch.map(function (item) {
        var outcome = outcomeOf(item, byKey[item.key], all);
        if (!outcome) return null;
        if (outcome.progress) progress += 1;
        if (outcome.remove) return outbox.delete(item.key);
        return outbox.put(Object.assign({}, item, outcome.change));
      }));
    }).then(function () {
      announce({ type: "changed" });
      return progress;
    });
  }

  // gzip where the browser can (CompressionStream): a batch of visits shrinks about fivefold.
  function encode(payload) {
    var json = JSON.stringify(payload);
    if (typeof CompressionStream !== "function") return Promise.resolve({ body: json, headers: {} });
    var stream = new Blob([json]).stream().pipeThrough(new CompressionStream("gzip"));
    return new Response(stream).arrayBuffer().then(function (body) {
      return { body: body, headers: { "Content-Encoding": "gzip" } };
    }, function () { return { body: json, headers: {} }; });
  }

  function sendBatch(user) {
    return Promise.all([items(), DB.getMeta("batchSize")]).then(function (found) {
      var all = found[0];
      // A smaller batch may be set for measurements (meta "batchSize"); the default suits slow links.
      var size = found[1] || BATCH_SIZE;
      var waiting = all.filter(function (item) { return item.state === WAITING && item.author === user.id; });
      if (!waiting.length) return "done";
      var batch = waiting.slice(0, size);
      return encode({ items: batch.map(wire) }).then(function (encoded) {
        return fetch("/sync", {
          method: "POST", credentials: "same-origin", cache: "no-store",
          headers: Object.assign({ "Content-Type": "application/json", "Accept": "application/json" }, encoded.headers),
          body: encoded.body,
        });
      }).then(function (response) {
        if (response.status === 401 || response.status === 403) {
          return DB.setMeta("authPaused", user.id).then(function () { return "auth"; });
        }
        if (!response.ok) return backOff().then(function () { return "server"; });
        return response.json().then(function (body) {
          return apply(batch, body.results || [], all).then(function (progress) {
            return progress > 0 ? sendBatch(user) : backOff().then(function () { return "stalled"; });
          });
        });
      }, function () {
        return backOff().then(function () { return "network"; });
      });
    });
  }

  function runReplay() {
    return Promise.all([currentUser(), DB.getMeta("authPaused")]).then(function (found) {
      var user = found[0];
      if (!user) return "no-user";
      if (found[1] === user.id) return "auth";
      syncInProgress = true;
      announce({ type: "syncing" });
      return sendBatch(user).then(function (outcome) {
        var chain = Promise.resolve();
        if (outcome === "done") {
          chain = DB.setMeta("lastGoodSync", new Date().toISOString()).then(function () {
            return DB.setMeta("backoff", null);
          });
        }
        return chain.then(function () { return outcome; });
      });
    }).then(function (outcome) {
      syncInProgress = false;
      announce({ type: "replayed", outcome: outcome });
      return outcome;
    }, function (error) {
      syncInProgress = false;
      announce({ type: "replayed", outcome: "error", error: String(error) });
      return "error";
    });
  }

  // One replay at a time on this device, across tabs and the service worker.
  function withLock(fn) {
    if (scope.navigator && scope.navigator.locks) {
      return scope.navigator.locks.request(LOCK_NAME, { ifAvailable: true }, function (lock) {
        return lock ? fn() : "busy";
      });
    }
    return takeLease().then(function (mine) {
      if (!mine) return "busy";
      return fn().then(function (outcome) { return DB.setMeta("lease", null).then(function () { return outcome; }); });
    });
  }

  // Fallback where Web Locks are missing: a lease in IndexedDB, looked at and taken in one read-write
  // transaction, so that of two replays starting together only one gets it.
  function takeLease() {
    var token = Math.random().toString(36).slice(2);
    return DB.transaction(DB.META, "readwrite", function (tx) {
      var meta = tx.store(DB.META);
      return meta.get("lease").then(function (row) {
        var lease = row && row.value;
        if (lease && lease.until >= Date.now()) return false;
        return meta.put({ name: "lease", value: { token: token, until: Date.now() + LEASE_MS } }).then(function () {
          return true;
        });
      });
    });
  }

  function replay(options) {
    var force = options && options.force;
    if (scope.navigator && scope.navigator.onLine === false) return Promise.resolve("offline");
    return (force ? Promise.resolve(true) : dueForRetry()).then(function (due) {
      if (!due) return "backoff";
      // A forced replay ("online", "Sync now") waits for one already running instead of being dropped.
      if (force && scope.navigator && scope.navigator.locks) return scope.navigator.locks.request(LOCK_NAME, runReplay);
      return withLock(runReplay);
    });
  }

  scope.Outbox = {
    WAITING: WAITING, ATTENTION: ATTENTION, enqueue: enqueue, items: items, itemsOf: itemsOf, itemOf: itemOf,
    othersWaiting: othersWaiting, authorOf: authorOf, isAuthor: isAuthor, markSent: markSent, setAside: setAside, sendAgain: sendAgain, replay: replay, keyOf: keyOf,
    kindOf: kindOf, patientOf: patientOf, currentUser: currentUser, isSyncing: function () { return syncInProgress; },
    channel: channel, announce: announce,
  };
})(self);
