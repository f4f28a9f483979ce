"""When a cron fires: schedules read as croniter reads them, counted from now, stopped by the end time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from nexa_research.server.api_errors import ApiError
from nexa_research.server.cron_schedule import check_end_time, check_schedule, check_timezone, next_due, next_run_after

MONDAY_9 = "0 9 * * 1"
NOW = datetime(2026, 1, 1, 12, 0, 0, tzinfo=UTC)  # a Thursday


def cron(**fields: object) -> dict[str, object]:
    return {"schedule": MONDAY_9, "timezone": None, "end_time": None, "enabled": True, **fields}


def test_a_weekly_schedule_fires_next_monday_and_a_seconds_field_is_read_last() -> None:
    assert next_run_after(MONDAY_9, NOW) == datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
    assert next_run_after("* * * * * */10", NOW) == NOW + timedelta(seconds=10)


def test_the_next_time_is_strictly_after_now_so_missed_slots_fire_once() -> None:
    late = datetime(2026, 1, 1, 12, 0, 7, tzinfo=UTC)
    assert next_run_after("* * * * * */5", late) == datetime(2026, 1, 1, 12, 0, 10, tzinfo=UTC)
    assert next_run_after("* * * * * */5", datetime(2026, 1, 1, 12, 0, 10, tzinfo=UTC)).second == 15


def test_a_timezone_reads_the_schedule_in_local_time() -> None:
    assert next_run_after(MONDAY_9, NOW, "Europe/Paris") == datetime(2026, 1, 5, 8, 0, tzinfo=UTC)


@pytest.mark.parametrize("schedule", ["bogus", "61 * * * *", "", "* * *", 5])
def test_an_invalid_schedule_is_a_422_naming_schedule(schedule: object) -> None:
    with pytest.raises(ApiError) as caught:
        check_schedule(schedule)
    assert caught.value.status == 422 and caught.value.message.startswith("schedule:")


def test_an_unknown_timezone_is_a_422_naming_timezone() -> None:
    assert check_timezone(None) is None and check_timezone("Europe/Paris") == "Europe/Paris"
    with pytest.raises(ApiError, match="^timezone:"):
        check_timezone("Mars/Olympus")


def test_next_due_is_none_once_disabled_or_past_the_end() -> None:
    monday = int(datetime(2026, 1, 5, 9, 0, tzinfo=UTC).timestamp())
    assert next_due(cron(), NOW) == monday
    assert next_due(cron(end_time="2026-01-05T09:00:00+00:00"), NOW) == monday  # the end time itself still fires
    assert next_due(cron(end_time="2026-01-05T08:59:59+00:00"), NOW) is None
    assert next_due(cron(end_time="2026-01-05T08:00:00"), NOW) is None  # naive: UTC
    assert next_due(cron(enabled=False), NOW) is None


@pytest.mark.parametrize("timezone", ["Mars/Olympus", "Europe", "", "../etc/passwd", "x" * 300])
def test_any_timezone_but_an_iana_one_is_a_422(timezone: str) -> None:
    with pytest.raises(ApiError, match="^timezone:"):
        check_timezone(timezone)


def test_an_end_time_utc_cannot_hold_is_a_422() -> None:
    assert check_end_time(None) is None
    assert check_end_time(datetime(2030, 1, 1, 2, tzinfo=timezone(timedelta(hours=2)))) == "2030-01-01T00:00:00+00:00"
    with pytest.raises(ApiError, match="^end_time:"):
        check_end_time(datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=1))))
