"""Coverage: per day and per month, the finished encounters and how many SATUSEHAT accepted, how many wait
and how many it refused (accreditation counts the share that reached it: 100% from 2025)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from zoneinfo import ZoneInfo

from databases import Database

from clinic.db import utcnow
from clinic.satusehat import outbox


@dataclass
class Tally:
    label: str  # the day (YYYY-MM-DD) or month (YYYY-MM)
    counts: Counter[str] = field(default_factory=Counter)

    @property
    def finished(self) -> int:
        return sum(self.counts.values())

    @property
    def percent(self) -> float | None:
        return 100.0 * self.counts[outbox.ACCEPTED] / self.finished if self.finished else None


@dataclass
class Coverage:
    days: list[Tally]  # newest first, days with encounters only
    month: Tally
    oldest_waiting: dict | None
    oldest_age: dt.timedelta | None


async def coverage(db: Database, zone: ZoneInfo, month: str | None = None) -> Coverage:
    """The month (YYYY-MM, the facility's; default: this one) day by day, and the oldest waiting item."""
    now = utcnow().astimezone(zone)
    year, number = (int(part) for part in month.split("-")) if month else (now.year, now.month)
    start = dt.datetime(year, number, 1, tzinfo=zone)
    end = dt.datetime(year + number // 12, number % 12 + 1, 1, tzinfo=zone)
    tally = Tally(f"{year:04d}-{number:02d}")
    days: dict[str, Tally] = {}
    for row in await outbox.items_since(db, start.astimezone(dt.UTC)):
        local = row["finished_at"].astimezone(zone)
        if local >= end:
            continue
        day = local.date().isoformat()
        days.setdefault(day, Tally(day)).counts[row["state"]] += 1
        tally.counts[row["state"]] += 1
    oldest = await outbox.oldest_waiting(db)
    return Coverage(sorted(days.values(), key=lambda t: t.label, reverse=True), tally, oldest,
                    utcnow() - oldest["queued_at"] if oldest else None)
