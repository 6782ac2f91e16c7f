/* The outbox's one state machine: every state an item can be in, every event that moves it, in ONE table.
   Pure (no IndexedDB, no DOM, no clock of its own): loaded by pages (<script>), the service worker
   (importScripts) and Node (require, for its unit tests). outbox.js, app.js and sw.js ask it; none of them
   keeps a state of its own. */
(function (scope) {
  "use strict";

  // States. An item in a terminal state leaves the device (outbox.js deletes it).
  var S = {
    NEW: "new", // not kept yet
    WAITING: "waiting", // kept, to be sent at the next replay
    SENDING: "sending", // in a request now (found at the start of a replay: a replay that died; sent again)
    BACKING_OFF: "backing_off", // the server or network failed: sent again at retryAt, or at once on "Sync now"
    PAUSED: "paused", // its author's session ended: sent when they sign in on this device again
    INVALID: "invalid", // needs attention: the server refused it (messages at its fields)
    CONFLICT: "conflict", // needs attention: someone else changed the same fields first
    ID_TAKEN: "id_taken", // needs attention: its id is stored for another record
    DISCARDED: "discarded", // its author discarded it, with a reason: the server's audit trail is told next
    STORED: "stored", // terminal: the server has it
    RESOLVED: "resolved", // terminal: its conflict was resolved by a new edit (queued in its place)
    REPORTED: "reported", // terminal: the discard is in the server's audit trail
  };

  // Events: the server's answers (one per /sync status, a few refined), the replay's own, and the user's.
  var E = {
    QUEUE: "queue", QUEUE_SIGNED_OUT: "queue_signed_out", // kept by the worker or a page
    SEND: "send", // put in a request
    STORED: "stored", ALREADY: "already", INVALID: "invalid", REJECTED: "rejected", FORBIDDEN: "forbidden",
    MISSING: "missing", WAIT_FOR_PATIENT: "wait_for_patient", CONFLICT: "conflict", TAKEN: "taken",
    WRONG_AUTHOR: "wrong_author", ERROR: "error", NO_ANSWER: "no_answer", // per item, from /sync's answer
    NETWORK: "network", SERVER: "server", SIGNED_OUT: "signed_out", // the whole request failed
    DUE: "due", RETRY_NOW: "retry_now", SIGNED_IN: "signed_in", // time passed, "Sync now", sign-in
    FIX: "fix", RESEND: "resend", RESOLVE: "resolve", NEW_ID: "new_id", DISCARD: "discard", // the user
    REPORTED: "reported", // a discard reached the audit trail
  };

  var ATTENTION = [S.INVALID, S.CONFLICT, S.ID_TAKEN];
  var SENT_AS_REQUEST = [E.NETWORK, E.SERVER, E.SIGNED_OUT];

  function row(extra) {
    // Whatever a user can do with any item they authored that is not in a request right now.
    return Object.assign({ fix: S.WAITING, discard: S.DISCARDED }, extra);
  }

  // THE table: state -> event -> next state. An event missing here is not allowed in that state.
  var TABLE = {};
  TABLE[S.NEW] = { queue: S.WAITING, queue_signed_out: S.PAUSED };
  TABLE[S.WAITING] = row({ send: S.SENDING, signed_out: S.PAUSED });
  TABLE[S.SENDING] = {
    send: S.SENDING, fix: S.WAITING,
    stored: S.STORED, already: S.STORED,
    invalid: S.INVALID, rejected: S.INVALID, forbidden: S.INVALID, missing: S.INVALID,
    conflict: S.CONFLICT, taken: S.ID_TAKEN,
    wait_for_patient: S.BACKING_OFF, error: S.BACKING_OFF, no_answer: S.BACKING_OFF,
    network: S.BACKING_OFF, server: S.BACKING_OFF,
    signed_out: S.PAUSED, wrong_author: S.PAUSED,
  };
  TABLE[S.BACKING_OFF] = row({ due: S.WAITING, retry_now: S.WAITING, signed_out: S.PAUSED });
  TABLE[S.PAUSED] = row({ signed_in: S.WAITING });
  TABLE[S.INVALID] = row({ resend: S.WAITING });
  // Sent again as it was, a conflict would conflict again: it is resolved (a new edit on the current
  // version takes its place), or opened and fixed, or discarded.
  TABLE[S.CONFLICT] = row({ resolve: S.RESOLVED });
  // The same id would be refused again: it is sent under a new id.
  TABLE[S.ID_TAKEN] = row({ new_id: S.WAITING });
  TABLE[S.DISCARDED] = { reported: S.REPORTED };
  TABLE[S.STORED] = {};
  TABLE[S.RESOLVED] = {};
  TABLE[S.REPORTED] = {};

  // What the user may do in each state, in the order the page offers them (events of the table).
  var USER_ACTIONS = {};
  USER_ACTIONS[S.WAITING] = [E.DISCARD];
  USER_ACTIONS[S.BACKING_OFF] = [E.RETRY_NOW, E.DISCARD];
  USER_ACTIONS[S.PAUSED] = [E.DISCARD]; // and signing in
  USER_ACTIONS[S.INVALID] = [E.FIX, E.RESEND, E.DISCARD];
  USER_ACTIONS[S.CONFLICT] = [E.RESOLVE, E.DISCARD];
  USER_ACTIONS[S.ID_TAKEN] = [E.NEW_ID, E.DISCARD];

  // What a whole replay came to (Outbox.replay's answer).
  var R = {
    DONE: "done", // nothing of this user's is left to send now
    PAUSED: "auth", // the session ended: their items wait for them to sign in
    SERVER: "server", NETWORK: "network", // the request failed: items back off
    BACKOFF: "backoff", // nothing is due yet: what is left backs off
    OFFLINE: "offline", NO_USER: "no-user", BUSY: "busy", // not tried
    ERROR: "error", // the device failed (IndexedDB)
  };

  var MIN_BACKOFF_MS = 5000;
  var MAX_BACKOFF_MS = 300000;

  function next(state, event) {
    var to = (TABLE[state] || {})[event];
    if (!to) throw new Error("outbox: no transition from " + state + " on " + event);
    return to;
  }

  function can(state, event) { return !!(TABLE[state] || {})[event]; }

  function isTerminal(state) { return state === S.STORED || state === S.RESOLVED || state === S.REPORTED; }

  function needsAttention(state) { return ATTENTION.indexOf(state) !== -1; }

  // Still to reach the server as a record (a discard is only a note for the audit trail).
  function isPending(state) { return !isTerminal(state) && state !== S.DISCARDED && state !== S.NEW; }

  // 5 s, 10 s, 20 s ... at most 5 minutes, by how many times in a row the item failed. Never gives up.
  function backoffDelay(failures) {
    return Math.min(MIN_BACKOFF_MS * Math.pow(2, Math.max(failures, 1) - 1), MAX_BACKOFF_MS);
  }

  // Whether a replay at `now` puts this item in its request (`force`: "Sync now", back online).
  function isDue(item, now, force) {
    if (item.state === S.WAITING || item.state === S.SENDING || item.state === S.DISCARDED) return true;
    return item.state === S.BACKING_OFF && (force || !item.retryAt || now >= item.retryAt);
  }

  // The event one /sync answer is for this item. `patientWaiting`: the item's patient is still on this
  // device (its registration not stored yet), so a "missing" patient is only not there *yet*.
  function eventFor(item, result, patientWaiting) {
    if (item.state === S.DISCARDED) {
      return result && (result.status === "stored" || result.status === "already") ? E.REPORTED : null;
    }
    if (!result) return E.NO_ANSWER;
    var status = result.status;
    if (status === "missing" && patientWaiting) return E.WAIT_FOR_PATIENT;
    if (status === "invalid" && result.errors && (result.errors.id || result.errors.revision_id)) return E.TAKEN;
    return TABLE[S.SENDING][status] ? status : E.ERROR;
  }

  // An item kept by an older version of the app, whose one "attention" state said no more.
  function upgrade(item) {
    if (item.state !== "attention") return item;
    var result = item.lastError || {};
    var event = eventFor({ state: S.SENDING }, result, false);
    var state = TABLE[S.SENDING][event] || S.INVALID;
    return Object.assign({}, item, { state: state === S.BACKING_OFF || state === S.PAUSED ? S.INVALID : state });
  }

  // The item after `event` at `now` (ms), with its bookkeeping; `detail` is the server's answer, if any.
  // Returns null when the event leaves it as it is (a discard not reported yet).
  function transition(item, event, now, detail) {
    if (event === null) return null;
    var to = next(item.state || S.NEW, event);
    var out = Object.assign({}, item, { state: to, changedAt: now });
    if (event === E.SEND) return out;
    if (item.state === S.SENDING && SENT_AS_REQUEST.indexOf(event) === -1) out.attempts = (item.attempts || 0) + 1;
    if (detail !== undefined) out.lastError = detail;
    if (to === S.BACKING_OFF) {
      out.failures = (item.failures || 0) + 1;
      out.retryAt = now + backoffDelay(out.failures);
    } else {
      out.retryAt = null;
      // Failures in a row: counted on through the waits, ended by an answer or by the user.
      if (to !== S.WAITING && to !== S.SENDING || event !== E.DUE && event !== E.RETRY_NOW) out.failures = 0;
    }
    if (to === S.WAITING && (event === E.FIX || event === E.QUEUE || event === E.NEW_ID)) out.lastError = null;
    return out;
  }

  // A due item (isDue) put in a request: one backing off is first due again (or retried at once).
  function send(item, now) {
    if (item.state === S.DISCARDED) return item; // reported as it is
    if (item.state === S.BACKING_OFF) {
      item = transition(item, item.retryAt && now >= item.retryAt ? E.DUE : E.RETRY_NOW, now);
    }
    return transition(item, E.SEND, now);
  }

  // The sync chip (CONTRACT: #sync-status data-state) from this user's items.
  function chipState(items, online) {
    if (!online) return "offline";
    var states = items.map(function (item) { return item.state; });
    if (states.indexOf(S.SENDING) !== -1) return "syncing";
    if (states.some(function (state) { return needsAttention(state) || state === S.PAUSED; })) return "attention";
    return "online";
  }

  var api = {
    S: S, E: E, R: R, TABLE: TABLE, USER_ACTIONS: USER_ACTIONS, next: next, can: can, isTerminal: isTerminal,
    needsAttention: needsAttention, isPending: isPending, isDue: isDue, backoffDelay: backoffDelay,
    eventFor: eventFor, upgrade: upgrade, transition: transition, send: send, chipState: chipState,
  };
  if (typeof module === "object" && module.exports) module.exports = api;
  if (scope) scope.OutboxStates = api;
})(typeof self !== "undefined" ? self : this);
