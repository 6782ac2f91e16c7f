/* The outbox: submissions kept on this device until the server confirms it stored them.
   Shared by pages and the service worker. Rules (../shared/OFFLINE.md): nothing leaves the device
   unconfirmed, nothing expires, one replay at a time per device, items only under their author. */
(function (scope) {
  "use strict";

  var DB = scope.ClinicDB;
  var M = scope.OutboxStates; // the states and transitions (outbox_states.js)
  var S = M.S, E = M.E, R = M.R;
  var BATCH_SIZE = 100; // items per request: on a slow link each round trip costs more than the bytes
  var LOCK_NAME = "clinic-outbox-replay";
  var LEASE_MS = 60000;
  var channel = "BroadcastChannel" in scope ? new BroadcastChannel("clinic-outbox") : null;

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

  // Keep one submission; the same submission queued again replaces itself, never doubles (for the state
  // machine: the user fixed it). `signedOut`: kept because the session ended; it waits for sign-in.
  function enqueue(target, fields, author, formPath, signedOut) {
    var key = keyOf(fields);
    if (!key) return Promise.reject(new Error("the form carries no record id"));
    if (!isAuthor(fields, author)) return Promise.reject(new Error("the form belongs to another user"));
    var kind = kindOf(target);
    return DB.transaction(DB.OUTBOX, "readwrite", function (tx) {
      var outbox = tx.store(DB.OUTBOX);
      return Promise.all([outbox.get(key), outbox.last("seq")]).then(function (found) {
        var old = found[0] && M.upgrade(found[0]);
        var top = found[1] ? found[1].seq : 0;
        var item = {
          key: key, seq: old ? old.seq : Math.max(top + 1, Date.now()), target: target, method: "POST",
          fields: fields, author: author.id, authorName: author.name, kind: kind,
          patientId: patientOf(target, fields), summary: summaryOf(kind, fields), formPath: formPath || null,
          queuedAt: old ? old.queuedAt : new Date().toISOString(), attempts: old ? old.attempts : 0,
          lastError: null, state: old ? old.state : S.NEW,
        };
        var event = old ? E.FIX : signedOut ? E.QUEUE_SIGNED_OUT : E.QUEUE;
        if (old && old.state === S.PAUSED && signedOut) event = null; // kept again while still signed out
        item = event ? M.transition(item, event, Date.now()) : item;
        return outbox.put(item).then(function () { return item; });
      });
    }).then(function (item) {
      announce({ type: "changed" });
      return item;
    });
  }

  function items() {
    return DB.allInOrder().then(function (all) { return all.map(M.upgrade); });
  }

  // A page reads only its own user's items: another user's stay theirs, even on a shared tablet.
  function itemsOf(userId) {
    return items().then(function (all) {
      return all.filter(function (item) { return item.author === userId; });
    });
  }

  // This user's items still to reach the server (a discard waiting to be reported is not one).
  function pendingOf(userId) {
    return itemsOf(userId).then(function (mine) {
      return mine.filter(function (item) { return M.isPending(item.state); });
    });
  }

  function itemOf(userId, key) {
    return DB.get(DB.OUTBOX, key).then(function (item) {
      return item && item.author === userId ? item : null;
    });
  }

  // Other users' records on this device, as counts by name: [{name, count}], never their content.
  // With no user (the sign-in page), everyone's.
  function othersWaiting(userId) {
    return items().then(function (all) {
      var byAuthor = {};
      all.forEach(function (item) {
        if (item.author === userId || !M.isPending(item.state)) return;
        var entry = byAuthor[item.author] = byAuthor[item.author] || { name: item.authorName || "?", count: 0 };
        entry.count += 1;
      });
      return Object.keys(byAuthor).map(function (author) { return byAuthor[author]; });
    });
  }

  // Items move only through the state machine: `event` on each item of `keys` (or each of `userId`'s
  // items it applies to), in one transaction; an item reaching a terminal state leaves the device.
  function move(keys, event, change) {
    var now = Date.now();
    return DB.transaction(DB.OUTBOX, "readwrite", function (tx) {
      var outbox = tx.store(DB.OUTBOX);
      return Promise.all(keys.map(function (key) {
        return outbox.get(key).then(function (item) {
          if (!item) return null;
          var moved = M.transition(Object.assign(M.upgrade(item), change || {}), event, now);
          return M.isTerminal(moved.state) ? outbox.delete(key) : outbox.put(moved);
        });
      }));
    }).then(function () { announce({ type: "changed" }); });
  }

  function moveAll(userId, event) {
    return itemsOf(userId).then(function (mine) {
      var keys = mine.filter(function (item) { return M.can(item.state, event); }).map(function (item) { return item.key; });
      return keys.length ? move(keys, event) : null;
    });
  }

  // The form the worker sent was stored: the item kept for it, if any, is done.
  function markSent(key) {
    return DB.get(DB.OUTBOX, key).then(function (item) {
      if (!item) return null;
      return M.can(M.upgrade(item).state, E.STORED) ? move([key], E.STORED) : DB.remove(DB.OUTBOX, key);
    });
  }

  function sendAgain(key) { return move([key], E.RESEND); }

  function retryNow(key) { return move([key], E.RETRY_NOW); }

  function signedIn(userId) { return moveAll(userId, E.SIGNED_IN); }

  // Discarded by its author, with a reason: kept until the server's audit trail has the discard.
  function discard(user, key, reason) {
    reason = String(reason || "").trim();
    if (!reason) return Promise.reject(new Error("a discard needs a reason"));
    return itemOf(user.id, key).then(function (item) {
      if (!item) throw new Error("only its author may discard an item");
      return move([key], E.DISCARD, { discard: { reason: reason, at: new Date().toISOString() } });
    });
  }

  // A conflict resolved: the new edit (on the current version, with the chosen fields) is queued in its
  // place, in one transaction, so the conflict never shows again.
  function resolve(user, key, fields) {
    var newKey = keyOf(fields);
    return DB.transaction(DB.OUTBOX, "readwrite", function (tx) {
      var outbox = tx.store(DB.OUTBOX);
      return outbox.get(key).then(function (found) {
        var old = found && M.upgrade(found);
        if (!old || old.author !== user.id) throw new Error("only its author may resolve an item");
        M.transition(old, E.RESOLVE, Date.now()); // throws unless it is a conflict
        var item = M.transition(Object.assign({}, old, {
          key: newKey, fields: fields, attempts: 0, lastError: null, state: S.NEW,
          queuedAt: new Date().toISOString(), resolves: key,
        }), E.QUEUE, Date.now());
        return outbox.delete(key).then(function () { return outbox.put(item); });
      });
    }).then(function () { announce({ type: "changed" }); });
  }

  // An id stored for another record: the same submission under a new id.
  function renew(user, key, newId) {
    return DB.transaction(DB.OUTBOX, "readwrite", function (tx) {
      var outbox = tx.store(DB.OUTBOX);
      return outbox.get(key).then(function (found) {
        var old = found && M.upgrade(found);
        if (!old || old.author !== user.id) throw new Error("only its author may send an item again");
        var fields = Object.assign({}, old.fields);
        fields[fields.revision_id ? "revision_id" : "id"] = [newId];
        var item = M.transition(Object.assign({}, old, { key: newId, fields: fields }), E.NEW_ID, Date.now());
        if (old.kind === "patient") item.patientId = newId;
        return outbox.delete(key).then(function () { return outbox.put(item); });
      });
    }).then(function () { announce({ type: "changed" }); });
  }

  function currentUser() { return DB.getMeta("currentUser"); }

  function wire(item) {
    if (item.state === S.DISCARDED) {
      return { key: item.key, target: item.target, method: item.method, author: item.author,
               discard: { reason: item.discard.reason, at: item.discard.at, kind: item.kind, patient: item.patientId } };
    }
    return { key: item.key, target: item.target, method: item.method, fields: item.fields,
             author: item.author, queued_at: item.queuedAt };
  }

  function patientWaiting(all, patientId) {
    return all.some(function (other) {
      return other.kind === "patient" && other.key === patientId && M.isPending(other.state);
    });
  }

  // Each item of the batch through the machine: one event per answer, all written in one transaction.
  function apply(batch, results, all) {
    var byKey = {};
    results.forEach(function (result) { byKey[result.key] = result; });
    var now = Date.now();
    return DB.transaction(DB.OUTBOX, "readwrite", function (tx) {
      var outbox = tx.store(DB.OUTBOX);
      return Promise.all(batch.map(function (item) {
        var result = byKey[item.key];
        var moved = M.transition(item, M.eventFor(item, result, patientWaiting(all, item.patientId)), now, result);
        if (!moved) return null;
        return M.isTerminal(moved.state) ? outbox.delete(item.key) : outbox.put(moved);
      }));
    }).then(function () { announce({ type: "changed" }); });
  }

  // The batch's items put in a request (no event: M.send), or, when the request failed as a whole,
  // `event` for each.
  function markBatch(batch, event) {
    var now = Date.now();
    var moved = batch.map(function (item) {
      if (!event) return M.send(item, now);
      return item.state === S.DISCARDED ? item : M.transition(item, event, now);
    });
    return DB.transaction(DB.OUTBOX, "readwrite", function (tx) {
      var outbox = tx.store(DB.OUTBOX);
      return Promise.all(moved.map(function (item) { return outbox.put(item); }));
    }).then(function () { announce({ type: "changed" }); return moved; });
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

  function sendBatch(user, force) {
    return Promise.all([items(), DB.getMeta("batchSize")]).then(function (found) {
      var all = found[0];
      // A smaller batch may be set for measurements (meta "batchSize"); the default suits slow links.
      var size = found[1] || BATCH_SIZE;
      var now = Date.now();
      var due = all.filter(function (item) { return item.author === user.id && M.isDue(item, now, force); });
      if (!due.length) {
        var backingOff = all.some(function (item) { return item.author === user.id && item.state === S.BACKING_OFF; });
        return backingOff ? R.BACKOFF : R.DONE;
      }
      return markBatch(due.slice(0, size), null).then(function (batch) {
        return encode({ items: batch.map(wire) }).then(function (encoded) {
          return fetch("/sync", {
            method: "POST", credentials: "same-origin", cache: "no-store",
            headers: Object.assign({ "Content-Type": "application/json", "Accept": "application/json" }, encoded.headers),
            body: encoded.body,
          });
        }).then(function (response) {
          if (response.status === 401 || response.status === 403) {
            return markBatch(batch, E.SIGNED_OUT).then(function () { return moveAll(user.id, E.SIGNED_OUT); })
              .then(function () { return R.PAUSED; });
          }
          if (!response.ok) return markBatch(batch, E.SERVER).then(function () { return R.SERVER; });
          return response.json().then(function (body) {
            // Items that failed now back off: the next round sends only what is still due.
            return apply(batch, body.results || [], all).then(function () { return sendBatch(user, false); });
          });
        }, function () {
          return markBatch(batch, E.NETWORK).then(function () { return R.NETWORK; });
        });
      });
    });
  }

  function runReplay(force) {
    return currentUser().then(function (user) {
      if (!user) return R.NO_USER;
      announce({ type: "syncing" });
      return sendBatch(user, force).then(function (outcome) {
        if (outcome !== R.DONE) return outcome;
        return DB.setMeta("lastGoodSync", new Date().toISOString()).then(function () { return outcome; });
      });
    }).then(function (outcome) {
      announce({ type: "replayed", outcome: outcome });
      return outcome;
    }, function (error) {
      announce({ type: "replayed", outcome: R.ERROR, error: String(error) });
      return R.ERROR;
    });
  }

  // One replay at a time on this device, across tabs and the service worker.
  function withLock(fn) {
    if (scope.navigator && scope.navigator.locks) {
      return scope.navigator.locks.request(LOCK_NAME, { ifAvailable: true }, function (lock) {
        return lock ? fn() : R.BUSY;
      });
    }
    return takeLease().then(function (mine) {
      if (!mine) return R.BUSY;
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
    var force = !!(options && options.force);
    if (scope.navigator && scope.navigator.onLine === false) return Promise.resolve(R.OFFLINE);
    var run = function () { return runReplay(force); };
    // A forced replay ("online", "Sync now") waits for one already running instead of being dropped.
    if (force && scope.navigator && scope.navigator.locks) return scope.navigator.locks.request(LOCK_NAME, run);
    return withLock(run);
  }

  // Whether a replay now would send anything of this user's (the page's timer asks).
  function anythingDue(userId) {
    return itemsOf(userId).then(function (mine) {
      var now = Date.now();
      return mine.some(function (item) { return M.isDue(item, now, false); });
    });
  }

  function isSyncing(userId) {
    return items().then(function (all) {
      return all.some(function (item) { return item.state === S.SENDING && (!userId || item.author === userId); });
    });
  }

  scope.Outbox = {
    S: S, E: E, R: R, states: M, enqueue: enqueue, items: items, itemsOf: itemsOf, pendingOf: pendingOf,
    itemOf: itemOf, othersWaiting: othersWaiting, authorOf: authorOf, isAuthor: isAuthor, markSent: markSent,
    sendAgain: sendAgain, retryNow: retryNow, signedIn: signedIn, discard: discard, resolve: resolve, renew: renew,
    replay: replay, anythingDue: anythingDue, isSyncing: isSyncing, keyOf: keyOf, kindOf: kindOf,
    patientOf: patientOf, currentUser: currentUser, channel: channel, announce: announce,
  };
})(self);
