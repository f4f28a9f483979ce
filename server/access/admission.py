"""What every run request passes before it is queued or run, through the runs API and LangServe alike: the
caller's key and what it owns, the tier's limits on the knobs, the endpoint-knob rule, the daily quota.

Isolation: a thread belongs to the key that created it (its record's `owner`). Another key gets a 404 for it,
never a 403, so ids reveal nothing; listing and search show a key only its own threads. A thread known only to
the checkpointer (a library or CLI run on the same Redis) belongs to no key: callers with keys cannot see it,
and with auth off it is adopted by the first request that names it.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request

from nexa_research.server.access.api_keys import ApiKey
from nexa_research.server.access.endpoint_knobs import EndpointKnobError, check_endpoint_knobs
from nexa_research.server.access.quota import Admission
from nexa_research.server.access.tiers import TIERS, TierLimitError, fit_to_tier
from nexa_research.server.api_errors import ApiError


def api_key_of(request: Request | None) -> ApiKey | None:
    if request is None:
        return None
    return (request.scope.get("state") or {}).get("api_key")


def owner_of(request: Request | None) -> str | None:
    key = api_key_of(request)
    return key.key_id if key is not None else None


def fit_knobs(knobs: dict[str, Any], key: ApiKey | None, access: Any, fill: bool = True) -> dict[str, Any]:
    """The knobs under the key's tier (unset limits filled in when `fill`); 403 naming the knob otherwise."""
    try:
        check_endpoint_knobs(knobs, access)
    except EndpointKnobError as exc:
        raise ApiError(403, str(exc)) from exc
    if key is None:
        return knobs
    try:
        return fit_to_tier(knobs, TIERS[key.tier], fill)
    except TierLimitError as exc:
        raise ApiError(403, str(exc)) from exc


async def take_quota(ctx: Any, key: ApiKey | None, run_id: str, track_running: bool = True) -> Admission | None:
    """Count one run against the key's day (and its runs in progress); 429 with Retry-After when over."""
    if key is None:
        return None
    tier = TIERS[key.tier]
    daily = key.daily_quota if key.daily_quota is not None else tier.daily_runs
    admission = await ctx.quotas.admit(key.key_id, run_id, daily, tier.concurrent_runs, track_running)
    if admission.admitted:
        return admission
    if ctx.metrics is not None:
        await ctx.metrics.quota_refused(tier.name, admission.reason)
    if admission.reason == "concurrency":
        raise ApiError(429, f"the {tier.name} tier runs {tier.concurrent_runs} run(s) at a time; wait for one to "
                            "finish", {"Retry-After": "10"})
    raise ApiError(429, f"daily quota of {daily} runs used; it resets at {admission.resets_at:%Y-%m-%d %H:%M} UTC",
                   {"Retry-After": str(admission.retry_after), "X-Quota-Remaining": "0",
                    "X-Quota-Reset": admission.resets_at.isoformat()})


def quota_headers(admission: Admission | None) -> dict[str, str]:
    """X-Quota-Remaining on an accepted run, and a warning once 80% of the day is used."""
    if admission is None:
        return {}
    headers = {"X-Quota-Remaining": str(admission.remaining), "X-Quota-Reset": admission.resets_at.isoformat()}
    if admission.used >= 0.8 * admission.limit:
        headers["X-Quota-Warning"] = f"{admission.used} of {admission.limit} daily runs used"
    return headers
