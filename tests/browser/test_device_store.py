"""The device's IndexedDB (static/idb.js, static/outbox.js) in a real Chromium: the schema tablets in the
field already have, queueing that never doubles, transactions that write all or nothing, one replay at a time."""

from __future__ import annotations

import time

import pytest

from tests.browser.offline_helpers import outbox, sign_in_ready

pytestmark = pytest.mark.browser

SCHEMA_JS = """async () => {
  const db = await ClinicDB.open();
  const tx = db.transaction(['outbox', 'meta']);
  const store = tx.objectStore('outbox');
  return {name: db.name, version: db.version, stores: [...db.objectStoreNames],
          keyPaths: [store.keyPath, tx.objectStore('meta').keyPath],
          indexes: [...store.indexNames].map(n => [n, store.index(n).keyPath])};
}"""

ENQUEUE_JS = """async ({first, second}) => {
  const author = await Outbox.currentUser();
  // Started together: their transactions run in call order, so seq follows the calls.
  const a = Outbox.enqueue('/patients', {id: [first], name: ['Ani']}, author, '/patients/new');
  const b = Outbox.enqueue('/patients', {id: [second], name: ['Budi']}, author, '/patients/new');
  const queued = await Promise.all([a, b]);
  // The same record queued again (a correction before it was sent) replaces itself.
  const again = await Outbox.enqueue('/patients', {id: [first], name: ['Ani Lestari']}, author, '/patients/new');
  return {queued, again};
}"""


def test_schema_is_the_one_tablets_already_have(context, page, live_server):  # type: ignore[no-untyped-def]
    sign_in_ready(page, "nurse")
    # A new name, version or store would run an upgrade on tablets holding unsent records.
    assert page.evaluate(SCHEMA_JS) == {
        "name": "clinic", "version": 2, "stores": ["meta", "outbox", "patients", "working_set"],
        "keyPaths": ["key", "name"],
        "indexes": [["seq", "seq"]],
    }


def test_queueing_the_same_record_again_replaces_it_and_keeps_its_place(context, page, live_server):  # type: ignore[no-untyped-def]
    sign_in_ready(page, "nurse")
    context.set_offline(True)
    first, second = "11111111-1111-4111-8111-111111111111", "22222222-2222-4222-8222-222222222222"

    done = page.evaluate(ENQUEUE_JS, {"first": first, "second": second})

    a, b = done["queued"]
    assert a["seq"] < b["seq"]
    items = outbox(page)
    assert [item["key"] for item in items] == [first, second]
    assert items[0]["fields"]["name"] == ["Ani Lestari"]
    assert (items[0]["seq"], items[0]["queuedAt"]) == (a["seq"], a["queuedAt"])
    assert done["again"] == items[0]


def test_a_transaction_that_fails_part_way_writes_nothing(context, page, live_server):  # type: ignore[no-untyped-def]
    sign_in_ready(page, "nurse")

    error = page.evaluate("""() => ClinicDB.transaction(['outbox', 'meta'], 'readwrite', tx =>
        tx.store('meta').put({name: 'half', value: 1})
          .then(() => tx.store('outbox').put({key: 'k-half', seq: 1}))
          .then(() => { throw new Error('stopped half way'); })
      ).then(() => 'committed', e => e.message)""")

    assert error == "stopped half way"
    assert page.evaluate("ClinicDB.getMeta('half')") is None
    assert page.evaluate("ClinicDB.get('outbox', 'k-half')") is None


def test_without_web_locks_two_replays_started_together_one_runs_the_other_is_busy(context, page, live_server):  # type: ignore[no-untyped-def]
    sign_in_ready(page, "nurse")
    # The page's own start-up replay must be over first, or it may hold the lease when the two below start.
    deadline = time.monotonic() + 20
    done = "Promise.all([ClinicDB.getMeta('lastGoodSync'), Outbox.isSyncing()]).then(([at, busy]) => !!at && !busy)"
    while not page.evaluate(done):
        assert time.monotonic() < deadline, "the page's start-up replay did not finish"
        time.sleep(0.1)
    page.evaluate("Object.defineProperty(Navigator.prototype, 'locks', {get: () => undefined, configurable: true})")

    outcomes = page.evaluate("Promise.all([Outbox.replay(), Outbox.replay()])")

    assert sorted(outcomes) == ["busy", "done"]
    assert page.evaluate("ClinicDB.getMeta('lease')") is None  # given back when the replay ended
    assert page.evaluate("Outbox.replay()") == "done"
