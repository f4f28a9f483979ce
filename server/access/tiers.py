"""Tiers: what a key may ask of the server (the table in ../shared/DESIGN.md, plus run shape and concurrency).

A request that asks for more than its tier allows is refused with a 403 that names the limit, never silently
clamped: a caller who asked for 20 search results and got 5 would read a thinner report without knowing why.
Knobs the caller leaves unset are filled with the tier's limit where the library default is higher (the free
tier's max_sections, for example), so a plain request always fits its tier.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Tier:
    name: str
    daily_runs: int
    search_results: int
    context_token_budget: int
    max_sections: int
    max_iterations: int
    report_cache_ttl_seconds: int
    concurrent_runs: int

    def limits(self) -> dict[str, int]:
        """Knob -> the most this tier allows."""
        return {
            "search_results": self.search_results,
            "context_token_budget": self.context_token_budget,
            "max_sections": self.max_sections,
            "min_sections": self.max_sections,
            "max_iterations": self.max_iterations,
            "report_cache_ttl_seconds": self.report_cache_ttl_seconds,
        }


DAY = 24 * 3600
TIERS: dict[str, Tier] = {
    "free": Tier("free", 10, 5, 4_000, 5, 2, DAY, 1),
    "pro": Tier("pro", 200, 10, 32_000, 7, 3, 3 * DAY, 4),
    "custom": Tier("custom", 10_000, 20, 128_000, 7, 3, 7 * DAY, 20),
}


class TierLimitError(Exception):
    """A knob over the tier's limit: `knob`, what was asked and what the tier allows."""

    def __init__(self, tier: Tier, knob: str, asked: Any, allowed: int) -> None:
        super().__init__(f"{knob}: {asked} is over the {tier.name} tier's limit of {allowed}")
        self.knob, self.asked, self.allowed = knob, asked, allowed


def fit_to_tier(knobs: dict[str, Any], tier: Tier, fill: bool = True) -> dict[str, Any]:
    """The knobs with unset limits filled in from the tier; `TierLimitError` for a knob over its limit.

    `fill=False` for a run that continues a thread: its stored config holds the values it started with.
    """
    fitted = dict(knobs)
    for knob, allowed in tier.limits().items():
        asked = knobs.get(knob)
        if asked is None:
            if not fill:
                continue
            if knob in ("search_results", "max_sections", "max_iterations", "context_token_budget"):
                fitted[knob] = min(allowed, _default(knob))
            continue
        if isinstance(asked, (int, float)) and asked > allowed:
            raise TierLimitError(tier, knob, asked, allowed)
    return fitted


def _default(knob: str) -> int:
    from nexa_research.config import ResearchConfig

    return ResearchConfig.model_fields[knob].default
