"""What a stored assistant gives a run: its knobs under the run's own, checked as a run's knobs are."""

from __future__ import annotations

import pytest

from nexa_research.server.api_errors import ApiError
from nexa_research.server.assistant_lookup import (
    ASSISTANT_ID,
    check_assistant_id,
    checked_assistant_knobs,
    run_defaults,
)

STORED = {"assistant_id": "a", "config": {"configurable": {"max_sections": 3, "search_results": 4}},
          "context": {"max_sections": 3, "search_results": 4}}


def test_the_run_s_own_knobs_win_wherever_it_sets_them() -> None:
    assert run_defaults(STORED, None, None) == {"max_sections": 3, "search_results": 4}
    assert run_defaults(STORED, None, {"max_sections": 5}) == {"search_results": 4}
    assert run_defaults(STORED, {"configurable": {"max_sections": 5, "thread_id": "t"}}, None) == {"search_results": 4}
    assert run_defaults({"config": {}, "context": {}}, None, {"max_sections": 5}) == {}


def test_an_assistant_s_knobs_are_checked_as_a_run_s() -> None:
    assert checked_assistant_knobs({}, {"max_sections": 3}) == {"max_sections": 3}
    with pytest.raises(ApiError) as unknown:
        checked_assistant_knobs({}, {"sectionz": 3})
    assert unknown.value.status == 422 and "context.sectionz" in unknown.value.message
    with pytest.raises(ApiError) as invalid:
        checked_assistant_knobs({"configurable": {"max_iterations": 9}}, None)
    assert invalid.value.status == 422 and "max_iterations" in invalid.value.message
    with pytest.raises(ApiError) as both:
        checked_assistant_knobs({"configurable": {"max_sections": 3}}, {"max_sections": 4})
    assert both.value.status == 400


def test_ids_that_can_name_no_assistant_are_a_404_before_any_lookup() -> None:
    check_assistant_id("nexa_research")
    check_assistant_id(ASSISTANT_ID)
    check_assistant_id("6f1c2a8e-0d4b-4b8e-9a57-3f0e1d2c4b5a")
    with pytest.raises(ApiError) as unknown:
        check_assistant_id("not-an-assistant")
    assert unknown.value.status == 404
