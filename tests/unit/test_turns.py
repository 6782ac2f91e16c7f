"""clinic.db.Turns: the turns at the database a signed-in request waits for (issue 14, the load's p99) are
handed out in the order the requests came; a request that comes while others wait goes behind them."""

from __future__ import annotations

import asyncio

from clinic.db import Turns


async def _holder(turns: Turns, name: str, served: list[str], release: asyncio.Event) -> None:
    async with turns.turn():
        served.append(name)
        await release.wait()


def test_waiters_are_served_in_arrival_order_and_a_newcomer_waits_behind_them() -> None:
    async def run() -> list[str]:
        turns, served = Turns(2), []
        gates = {name: asyncio.Event() for name in "abcdef"}
        tasks = {}
        for name in "abcd":  # a and b hold the two turns; c and d wait, in that order
            tasks[name] = asyncio.create_task(_holder(turns, name, served, gates[name]))
            await asyncio.sleep(0)
        assert served == ["a", "b"]
        gates["a"].set()  # a leaves: its turn goes to c, not to e that comes at that very moment
        tasks["e"] = asyncio.create_task(_holder(turns, "e", served, gates["e"]))
        await asyncio.sleep(0.01)
        assert served == ["a", "b", "c"]
        for name in "bcde":
            gates[name].set()
            await asyncio.sleep(0.01)
        await asyncio.gather(*tasks.values())
        assert turns.free == 2 and not turns.waiting
        return served

    assert asyncio.run(run()) == ["a", "b", "c", "d", "e"]


def test_a_waiter_cancelled_gives_up_its_place_and_loses_no_turn() -> None:
    async def run() -> list[str]:
        turns, served = Turns(1), []
        gates = {name: asyncio.Event() for name in "abc"}
        first = asyncio.create_task(_holder(turns, "a", served, gates["a"]))
        await asyncio.sleep(0)
        gone = asyncio.create_task(_holder(turns, "b", served, gates["b"]))
        last = asyncio.create_task(_holder(turns, "c", served, gates["c"]))
        await asyncio.sleep(0)
        gone.cancel()  # e.g. its client went away while it waited
        gates["a"].set()
        gates["c"].set()
        await asyncio.gather(first, last)
        assert gone.cancelled()
        assert turns.free == 1 and not turns.waiting
        return served

    assert asyncio.run(run()) == ["a", "c"]


def test_a_turn_handed_to_a_waiter_cancelled_at_that_moment_goes_on_to_the_next() -> None:
    async def run() -> list[str]:
        turns, served = Turns(1), []
        gates = {name: asyncio.Event() for name in "bc"}
        async with turns.turn():
            served.append("a")
            unlucky = asyncio.create_task(_holder(turns, "b", served, gates["b"]))
            last = asyncio.create_task(_holder(turns, "c", served, gates["c"]))
            await asyncio.sleep(0)
            assert len(turns.waiting) == 2
        # a has left: its turn is handed to b, which is cancelled before it could run
        assert len(turns.waiting) == 1 and turns.free == 0
        unlucky.cancel()
        gates["c"].set()
        await asyncio.gather(unlucky, last, return_exceptions=True)
        assert unlucky.cancelled()
        assert turns.free == 1 and not turns.waiting
        return served

    assert asyncio.run(run()) == ["a", "c"]
