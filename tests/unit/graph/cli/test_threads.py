"""`nexa threads prune --older-than`: the durations a user types."""

from __future__ import annotations

import pytest
import typer

from nexa_research.cli.threads import parse_duration


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("30d", 30 * 86400), ("12h", 43200), ("90m", 5400), ("45s", 45), ("2w", 14 * 86400), ("30", 30 * 86400),
     ("0.5", 43200), (" 1.5 H ", 5400)],
)
def test_durations_in_the_units_people_write(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "d", "3x", "-1d", "1 day", "1e3"])
def test_anything_else_is_refused_with_examples(text: str) -> None:
    with pytest.raises(typer.BadParameter, match="is not a duration: use e.g. 30d"):
        parse_duration(text)
