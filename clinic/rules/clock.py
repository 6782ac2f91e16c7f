"""The time of care: when a record was entered on the device, which may be hours before the server
receives it (a visit entered offline at 08:00 and synced at 14:00). A device's clock can be wrong, so what
it says is kept as it said it, and the time of care used everywhere else is bounded."""

from __future__ import annotations

import datetime as dt
import os
from typing import Any
from zoneinfo import ZoneInfo

from clinic.limits import CARE_RECEIPT_APART_HOURS, DEVICE_CLOCK_AHEAD_MINUTES

AHEAD = dt.timedelta(minutes=DEVICE_CLOCK_AHEAD_MINUTES)
APART = dt.timedelta(hours=CARE_RECEIPT_APART_HOURS)
_LONGEST = 40  # "2026-12-01T08:00:00.000000+07:00" is 32 characters
# A reset clock says 1970 or 2000, and is worth keeping as said; past these, a time is no clock's reading
# (and year 9999 could not even be shown in a local zone).
_FIRST = dt.datetime(1900, 1, 1, tzinfo=dt.UTC)
_LAST = dt.datetime(9000, 1, 1, tzinfo=dt.UTC)


def device_time(value: Any) -> dt.datetime | None:
    """An ISO 8601 time with its UTC offset (the outbox's `queued_at`, from `Date.toISOString()`), in UTC;
    None for anything else: absent, not text, without an offset (its zone unknown), not a time, or a year
    no clock could mean."""
    if not isinstance(value, str) or len(value) > _LONGEST:
        return None
    try:
        moment = dt.datetime.fromisoformat(value.strip())
        if moment.tzinfo is None:
            return None
        moment = moment.astimezone(dt.UTC)
    except (ValueError, OverflowError):
        return None
    return moment if _FIRST <= moment < _LAST else None


def time_of_care(said: dt.datetime | None, received: dt.datetime, earliest: dt.datetime | None = None
                 ) -> dt.datetime:
    """The device's time bounded: never before `earliest` (the patient's registration), never more than
    AHEAD past `received`; the time received when the device said nothing."""
    if said is None:
        return received
    if earliest is not None and said < earliest:
        said = earliest
    return min(said, received + AHEAD)


def apart(care: dt.datetime, received: dt.datetime) -> bool:
    """Whether the time of care and the time received differ by more than a day: shown on the record."""
    return abs(care - received) > APART


def facility_zone() -> ZoneInfo:
    """The facility's time zone (WIB, WITA or WIT): times are stored in UTC and days are the facility's."""
    return ZoneInfo(os.environ.get("CLINIC_TIMEZONE", "Asia/Jakarta"))


def facility_date(moment: dt.datetime) -> dt.date:
    """The facility's calendar day at a moment: a queue's numbers start again each such day."""
    return moment.astimezone(facility_zone()).date()


def facility_today() -> dt.date:
    """Today at the facility, not on the server's clock: at 01:00 WIB a server in UTC is still on yesterday,
    and a baby born that night must not have a birth date "in the future"."""
    return facility_date(dt.datetime.now(dt.UTC))
