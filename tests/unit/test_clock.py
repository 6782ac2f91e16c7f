"""The time of care: what a device's clock says, read strictly and bounded."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from clinic.rules.clock import AHEAD, apart, device_time, time_of_care

UTC = dt.UTC
RECEIVED = dt.datetime(2026, 12, 1, 7, 0, tzinfo=UTC)  # 14:00 WIB
REGISTERED = dt.datetime(2026, 11, 1, 1, 0, tzinfo=UTC)


def test_the_outboxs_iso_time_is_read_in_utc() -> None:
    assert device_time("2026-12-01T01:00:00.000Z") == dt.datetime(2026, 12, 1, 1, 0, tzinfo=UTC)
    assert device_time("2026-12-01T08:00:00+07:00") == dt.datetime(2026, 12, 1, 1, 0, tzinfo=UTC)
    assert device_time("1970-01-01T00:00:00Z") == dt.datetime(1970, 1, 1, tzinfo=UTC)  # a reset clock, kept


def test_anything_else_is_no_device_time() -> None:
    for value in (None, "", 12345, ["2026-12-01T01:00:00Z"], "2026-12-01T08:00:00", "kemarin", "2026-13-01T00:00Z",
                  "9999-12-31T23:59:59Z", "0001-01-01T00:00:00+14:00", "2026-12-01T08:00:00Z" + " " * 40):
        assert device_time(value) is None, value


def test_the_time_of_care_is_the_devices_within_its_bounds() -> None:
    offline = dt.datetime(2026, 12, 1, 1, 0, tzinfo=UTC)  # 08:00 WIB, synced at 14:00
    assert time_of_care(offline, RECEIVED, REGISTERED) == offline
    assert time_of_care(None, RECEIVED, REGISTERED) == RECEIVED
    assert time_of_care(RECEIVED + dt.timedelta(minutes=3), RECEIVED, REGISTERED) == RECEIVED + dt.timedelta(minutes=3)
    assert time_of_care(RECEIVED + dt.timedelta(days=400), RECEIVED, REGISTERED) == RECEIVED + AHEAD
    assert time_of_care(dt.datetime(1970, 1, 1, tzinfo=UTC), RECEIVED, REGISTERED) == REGISTERED
    assert time_of_care(dt.datetime(1970, 1, 1, tzinfo=UTC), RECEIVED) == dt.datetime(1970, 1, 1, tzinfo=UTC)


@given(st.datetimes(min_value=dt.datetime(1900, 1, 1), max_value=dt.datetime(8999, 1, 1), timezones=st.just(UTC)))
def test_the_time_of_care_never_leaves_its_bounds(said: dt.datetime) -> None:
    care = time_of_care(said, RECEIVED, REGISTERED)
    assert REGISTERED <= care <= RECEIVED + AHEAD


def test_care_and_receipt_more_than_a_day_apart() -> None:
    assert not apart(RECEIVED - dt.timedelta(hours=23), RECEIVED)
    assert apart(RECEIVED - dt.timedelta(hours=25), RECEIVED)
