"""What a cron request must be before it is stored: its run part checked as the runs API checks a run."""

from __future__ import annotations

import pytest

from nexa_research.server.access.settings import AccessSettings
from nexa_research.server.api_errors import ApiError
from nexa_research.server.cron_requests import CronCreate, CronPatch, new_cron, patched_cron
from nexa_research.server.routes.assistants import ASSISTANT_ID

ACCESS = AccessSettings()
TOPIC = {"topic": "The printing press"}


def make(thread_id: str | None = None, **fields: object) -> dict[str, object]:
    body = CronCreate(**{"assistant_id": "nexa_research", "schedule": "0 9 * * 1", "input": TOPIC, **fields})
    return new_cron(body, thread_id, None, ACCESS)


def test_a_stateless_cron_deletes_its_threads_by_default_and_a_thread_cron_has_no_such_rule() -> None:
    stateless = make(context={"max_sections": 3})
    assert stateless["on_run_completed"] == "delete" and stateless["assistant_id"] == ASSISTANT_ID
    assert stateless["payload"] == {"assistant_id": "nexa_research", "input": TOPIC, "context": {"max_sections": 3},
                                    "stream_mode": ["values"], "stream_subgraphs": False, "stream_resumable": False}
    assert make("t1", on_run_completed="keep")["on_run_completed"] is None
    assert make(end_time="2030-01-01T10:00:00+02:00")["end_time"] == "2030-01-01T08:00:00+00:00"


@pytest.mark.parametrize(("fields", "named"), [
    ({"input": None}, "input"), ({"command": {"resume": "approve"}}, "command"), ({"webhook": "https://x"}, "webhook"),
    ({"multitask_strategy": "rollback"}, "multitask_strategy"), ({"schedule": "61 * * * *"}, "schedule"),
    ({"context": {"nope": 1}}, "context.nope"), ({"input": {"topic": ""}}, "input"),
])
def test_what_a_run_would_be_refused_for_is_refused_now(fields: dict[str, object], named: str) -> None:
    with pytest.raises(ApiError) as caught:
        make(**fields)
    assert caught.value.status == 422 and caught.value.message.startswith(named)


def test_an_unknown_assistant_is_a_404() -> None:
    with pytest.raises(ApiError) as caught:
        make(assistant_id="another_graph")
    assert caught.value.status == 404


def test_a_patch_reschedules_only_when_the_schedule_changes() -> None:
    cron = make(metadata={"a": 1})
    changed, reschedule = patched_cron(cron, CronPatch(metadata={"b": 2}, context={"max_sections": 4}), None, ACCESS)
    assert not reschedule and changed["metadata"] == {"a": 1, "b": 2}
    assert changed["payload"]["context"] == {"max_sections": 4} and changed["payload"]["input"] == TOPIC
    ended, reschedule = patched_cron(cron, CronPatch(end_time="2030-01-01T00:00:00Z"), None, ACCESS)
    assert reschedule and ended["end_time"] == "2030-01-01T00:00:00+00:00"
    cleared, _ = patched_cron(ended, CronPatch.model_validate({"end_time": None}), None, ACCESS)
    assert cleared["end_time"] is None


def test_a_patch_must_change_something_and_keeps_to_the_checks() -> None:
    cron = make()
    for patch, named in ((CronPatch(), "body"), (CronPatch(schedule="soon"), "schedule"),
                         (CronPatch(context={"max_sections": 99}), "max_sections")):
        with pytest.raises(ApiError) as caught:
            patched_cron(cron, patch, None, ACCESS)
        assert caught.value.status == 422 and named in caught.value.message
    with pytest.raises(ApiError, match="^on_run_completed"):
        patched_cron(make("t1"), CronPatch(on_run_completed="keep"), None, ACCESS)
