// The outbox's state machine (static/outbox_states.js), run by `node --test` (tests/unit/test_outbox_states.py).
"use strict";
const test = require("node:test");
const assert = require("node:assert/strict");
const path = require("node:path");
const M = require(path.join(__dirname, "..", "..", "..", "static", "outbox_states.js"));
const { S, E } = M;

const NOW = 1_000_000;
const item = (state, extra) => Object.assign({ key: "k", state, attempts: 0 }, extra);
const states = Object.values(S);

test("every state is a row of the one table, and every target is a state", () => {
  for (const state of states) assert.ok(state in M.TABLE, state);
  for (const [from, row] of Object.entries(M.TABLE)) {
    for (const [event, to] of Object.entries(row)) {
      assert.ok(states.includes(to), `${from} --${event}--> ${to}`);
      assert.ok(Object.values(E).includes(event), `unknown event ${event}`);
    }
  }
});

test("a kept item waits; kept while signed out it is paused until its author signs in", () => {
  assert.equal(M.transition(item(S.NEW), E.QUEUE, NOW).state, S.WAITING);
  const paused = M.transition(item(S.NEW), E.QUEUE_SIGNED_OUT, NOW);
  assert.equal(paused.state, S.PAUSED);
  assert.equal(M.isDue(paused, NOW, true), false);
  assert.equal(M.transition(paused, E.SIGNED_IN, NOW).state, S.WAITING);
});

test("each /sync answer moves a sending item where it belongs", () => {
  const cases = [
    [{ status: "stored" }, S.STORED], [{ status: "already" }, S.STORED],
    [{ status: "invalid", errors: { nik: "x" } }, S.INVALID], [{ status: "rejected" }, S.INVALID],
    [{ status: "forbidden" }, S.INVALID], [{ status: "missing" }, S.INVALID],
    [{ status: "conflict" }, S.CONFLICT], [{ status: "invalid", errors: { id: "taken" } }, S.ID_TAKEN],
    [{ status: "invalid", errors: { revision_id: "taken" } }, S.ID_TAKEN],
    [{ status: "error" }, S.BACKING_OFF], [{ status: "something new" }, S.BACKING_OFF],
    [undefined, S.BACKING_OFF], [{ status: "wrong_author" }, S.PAUSED],
  ];
  for (const [result, expected] of cases) {
    const sending = item(S.SENDING);
    const out = M.transition(sending, M.eventFor(sending, result, false), NOW, result);
    assert.equal(out.state, expected, JSON.stringify(result));
  }
  const visit = item(S.SENDING);
  assert.equal(M.transition(visit, M.eventFor(visit, { status: "missing" }, true), NOW).state, S.BACKING_OFF);
});

test("a failed request backs off 5 s, 10 s, 20 s ... at most 5 minutes; Sync now sends at once", () => {
  let it = item(S.WAITING);
  const delays = [];
  for (let i = 0; i < 10; i += 1) {
    it = M.transition(M.transition(it.state === S.BACKING_OFF ? M.transition(it, E.DUE, NOW) : it, E.SEND, NOW),
      E.NETWORK, NOW);
    delays.push(it.retryAt - NOW);
  }
  assert.deepEqual(delays.slice(0, 4), [5000, 10000, 20000, 40000]);
  assert.equal(delays[9], 300000);
  assert.equal(M.isDue(it, NOW, false), false);
  assert.equal(M.isDue(it, it.retryAt, false), true);
  assert.equal(M.isDue(it, NOW, true), true);
  assert.equal(M.transition(it, E.RETRY_NOW, NOW).state, S.WAITING);
  const stored = M.transition(M.transition(M.transition(it, E.DUE, NOW), E.SEND, NOW), E.STORED, NOW);
  assert.equal(stored.state, S.STORED);
  assert.equal(stored.failures, 0);
});

test("a whole request refused for the session pauses the item, not counted as an attempt", () => {
  const out = M.transition(item(S.SENDING, { attempts: 2 }), E.SIGNED_OUT, NOW);
  assert.equal(out.state, S.PAUSED);
  assert.equal(out.attempts, 2);
});

test("a conflict is never simply sent again: it is resolved, fixed or discarded", () => {
  assert.equal(M.can(S.CONFLICT, E.RESEND), false);
  assert.throws(() => M.next(S.CONFLICT, E.RESEND));
  assert.equal(M.next(S.CONFLICT, E.RESOLVE), S.RESOLVED);
  assert.ok(M.isTerminal(S.RESOLVED));
  assert.equal(M.next(S.ID_TAKEN, E.NEW_ID), S.WAITING);
  assert.equal(M.can(S.ID_TAKEN, E.RESEND), false);
});

test("no item is ever stuck: from every state a user action or time leads out of the device", () => {
  // Events that need nobody but time, the network, or the author signing in.
  const automatic = [E.DUE, E.SEND, E.STORED, E.SIGNED_IN, E.REPORTED];
  for (const start of states) {
    if (start === S.NEW || M.isTerminal(start)) continue;
    const seen = new Set([start]);
    const queue = [start];
    let out = false;
    while (queue.length && !out) {
      const state = queue.shift();
      const events = [...(M.USER_ACTIONS[state] || []), ...automatic];
      for (const event of events) {
        if (!M.can(state, event)) continue;
        const to = M.next(state, event);
        if (M.isTerminal(to)) { out = true; break; }
        if (!seen.has(to)) { seen.add(to); queue.push(to); }
      }
    }
    assert.ok(out, `${start} has no way out`);
  }
  for (const [state, actions] of Object.entries(M.USER_ACTIONS)) {
    for (const action of actions) assert.ok(M.can(state, action), `${state} offers ${action}`);
    assert.ok(actions.includes(E.DISCARD), `${state} can be discarded`);
  }
});

test("a discard waits for the server's audit trail, then leaves", () => {
  const discarded = M.transition(item(S.CONFLICT), E.DISCARD, NOW);
  assert.equal(discarded.state, S.DISCARDED);
  assert.equal(M.isPending(S.DISCARDED), false);
  assert.ok(M.isDue(discarded, NOW, false));
  assert.equal(M.eventFor(discarded, { status: "error" }, false), null);
  assert.equal(M.transition(discarded, M.eventFor(discarded, { status: "error" }, false), NOW), null);
  assert.equal(M.transition(discarded, M.eventFor(discarded, { status: "stored" }, false), NOW).state, S.REPORTED);
  assert.throws(() => M.next(S.SENDING, E.DISCARD)); // not while in a request
});

test("the chip: offline, syncing, attention (also paused for sign-in), else online", () => {
  assert.equal(M.chipState([item(S.WAITING)], false), "offline");
  assert.equal(M.chipState([item(S.SENDING), item(S.CONFLICT)], true), "syncing");
  assert.equal(M.chipState([item(S.WAITING), item(S.CONFLICT)], true), "attention");
  assert.equal(M.chipState([item(S.PAUSED)], true), "attention");
  assert.equal(M.chipState([item(S.WAITING), item(S.BACKING_OFF), item(S.DISCARDED)], true), "online");
  assert.equal(M.chipState([], true), "online");
});

test("fixing clears the server's message; a resend keeps it until the new answer", () => {
  const invalid = item(S.INVALID, { lastError: { status: "invalid" } });
  assert.equal(M.transition(invalid, E.FIX, NOW).lastError, null);
  assert.deepEqual(M.transition(invalid, E.RESEND, NOW).lastError, { status: "invalid" });
});

test("an item kept by the older app in its one 'attention' state gets the state its answer says", () => {
  assert.equal(M.upgrade(item("attention", { lastError: { status: "conflict" } })).state, S.CONFLICT);
  assert.equal(M.upgrade(item("attention", { lastError: { status: "invalid", errors: { id: "x" } } })).state, S.ID_TAKEN);
  assert.equal(M.upgrade(item("attention", { lastError: null })).state, S.INVALID);
  assert.equal(M.upgrade(item(S.WAITING)).state, S.WAITING);
  assert.equal(M.eventFor(item(S.DISCARDED), undefined, false), null);
});

test("every item a replay finds due can be put in a request", () => {
  const backingOff = item(S.BACKING_OFF, { retryAt: NOW + 1000, failures: 1 });
  for (const it of [item(S.WAITING), item(S.SENDING), backingOff, item(S.DISCARDED)]) {
    if (!M.isDue(it, NOW, true)) continue;
    const sent = M.send(it, NOW);
    assert.equal(sent.state, it.state === S.DISCARDED ? S.DISCARDED : S.SENDING, it.state);
  }
  assert.equal(M.send(backingOff, NOW + 2000).failures, 1); // failures in a row count on
});
