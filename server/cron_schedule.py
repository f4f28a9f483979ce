"""When a cron fires: its schedule read by croniter, as the LangGraph server reads it, and the next due time.

Kept apart from Redis and HTTP so the rules can be checked alone. Schedules are the five cron fields (minute
hour day-of-month month day-of-week) or six with seconds last (croniter's reading: `"* * * * * */10"` is every
ten seconds), in UTC unless the cron names an IANA timezone. The next due time is always counted from *now*,
not from the due time just served, so a scheduler that was down for a week fires once when it is back, not once
per missed slot: what the official scheduler does too.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from croniter import croniter

from nexa_research.server.api_errors import ApiError


def check_schedule(schedule: Any) -> str:
    """The schedule if croniter reads it; 422 naming `schedule` otherwise."""
    if not isinstance(schedule, str) or not croniter.is_valid(schedule):
        raise ApiError(422, f"schedule: {schedule!r} is not a cron schedule; use five fields (minute hour "
                            "day-of-month month day-of-week, e.g. '0 9 * * 1' for Mondays at 9:00) or six with "
                            "seconds last")
    return schedule


def check_timezone(timezone: str | None) -> str | None:
    """An IANA timezone name (None: UTC); 422 naming `timezone` for anything else."""
    if timezone is None:
        return None
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:  # OSError: a folder's name ('Europe'), too long
        raise ApiError(422, f"timezone: {timezone!r} is not an IANA timezone (e.g. 'Europe/Paris')") from exc
    return timezone


def as_utc(moment: datetime) -> datetime:
    """A datetime in UTC; a naive one is taken to be UTC already (what the SDK sends is aware)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def check_end_time(end_time: datetime | None) -> str | None:
    """The end time as ISO text in UTC (None: no end); 422 naming `end_time` for one UTC cannot hold."""
    if end_time is None:
        return None
    try:
        return as_utc(end_time).isoformat()
    except OverflowError as exc:
        raise ApiError(422, f"end_time: {end_time.isoformat()} is out of range") from exc


def next_run_after(schedule: str, after: datetime, timezone: str | None = None) -> datetime:
    """The schedule's first time strictly after `after`, in UTC (read in `timezone` when given)."""
    base = as_utc(after)
    if timezone:
        base = base.astimezone(ZoneInfo(timezone))
    return as_utc(croniter(schedule, base).get_next(datetime))


def next_due(cron: dict[str, Any], now: datetime) -> int | None:
    """When the cron fires next (epoch seconds), or None: it is disabled, or its next time is past its end."""
    if not cron.get("enabled", True):
        return None
    upcoming = next_run_after(cron["schedule"], now, cron.get("timezone"))
    end = cron.get("end_time")
    if end is not None and upcoming > as_utc(datetime.fromisoformat(end)):
        return None
    return int(upcoming.timestamp())
