"""Failing providers: a section is retried, then reported missing with its reason; other errors surface."""

from __future__ import annotations

import httpx
import openai
import pytest

from nexa_research import ProviderError, aresearch
from nexa_research.errors import SearchBackendError
from nexa_research.providers import InMemorySearch, StaticProviders
from support.scripted_models import (
    ScriptedChatModel,
    collator,
    corpus_for,
    planner_for,
    providers_for,
    query_writer,
    reflection_always,
)

TITLES = ["Gutenberg press origins", "Spread across Europe", "Effects on literacy"]


class FlakySearch(InMemorySearch):
    """Fails every query containing `poison`; counts attempts per query."""

    def __init__(self, docs, poison: str, error: Exception) -> None:
        super().__init__(docs)
        self.poison, self.error = poison, error
        self.attempts: dict[str, int] = {}

    async def search(self, query, k, filters=None):
        self.attempts[query] = self.attempts.get(query, 0) + 1
        if self.poison in query:
            raise self.error
        return await super().search(query, k, filters)


async def test_section_whose_search_always_fails_is_missing_with_reason():
    search = FlakySearch(corpus_for(TITLES), "Spread", SearchBackendError("503 from backend"))
    report = await aresearch("The printing press", providers=providers_for(TITLES, search=search), provider_retries=2)
    missing = report.missing_sections
    assert [s.title for s in missing] == ["Spread across Europe"]
    assert "503 from backend" in missing[0].error and "SearchBackendError" in missing[0].error
    assert search.attempts["Spread across Europe facts"] == 3  # first try + 2 retries
    assert [s.status for s in report.sections] == ["done", "missing", "done"]
    assert "This section is missing: " in report.to_markdown()


async def test_a_bug_in_a_backend_is_not_swallowed():
    search = FlakySearch(corpus_for(TITLES), "Spread", KeyError("bug"))
    with pytest.raises(KeyError):
        await aresearch("The printing press", providers=providers_for(TITLES, search=search))


def _failing_model(name: str) -> ScriptedChatModel:
    def boom(messages):
        raise openai.APIConnectionError(request=httpx.Request("POST", f"http://127.0.0.1:9/{name}"))

    return ScriptedChatModel(respond=boom, name_=name)


async def test_synthesizer_falls_back_to_the_next_model():
    from support.scripted_models import cite_all_synthesizer

    broken, backup = _failing_model("broken-primary"), cite_all_synthesizer()
    providers = providers_for(TITLES)
    providers._chat["synthesizer"] = [broken, backup]
    report = await aresearch("The printing press", providers=providers, provider_retries=1)
    assert all(s.status == "done" for s in report.sections)
    assert report.metadata.models_used["synthesizer"] == ["synth-fake"]
    assert len(broken.calls) == 2 * len(TITLES)  # tried and retried before falling back


async def test_synthesizer_failing_everywhere_marks_sections_missing_naming_role():
    providers = providers_for(TITLES)
    providers._chat["synthesizer"] = [_failing_model("a"), _failing_model("b")]
    report = await aresearch("The printing press", providers=providers, provider_retries=0)
    assert len(report.missing_sections) == 3
    assert "role 'synthesizer'" in report.sections[0].error and "tried: a; b" in report.sections[0].error


async def test_collator_failure_still_yields_a_report_with_a_warning():
    providers = providers_for(TITLES)
    providers._chat["collator"] = _failing_model("collator-down")
    report = await aresearch("The printing press", providers=providers, provider_retries=0)
    assert all(s.status == "done" for s in report.sections)
    # without an editor and without a scorer to lift findings, the parts are empty, never a sentence about the report
    assert (report.executive_summary, report.introduction, report.conclusion) == ("", "", "")
    assert "## Executive summary" not in report.to_markdown() and "## 1. " in report.to_markdown()
    assert any("collator model failed" in w for w in report.metadata.warnings)


async def test_planner_failure_surfaces_as_provider_error():
    providers = StaticProviders(
        chat={"planner": _failing_model("p"), "query_writer": query_writer(), "reflection": reflection_always(True),
              "synthesizer": _failing_model("s"), "collator": collator()},
        search=InMemorySearch([]),
    )
    with pytest.raises(ProviderError, match="role 'planner'"):
        await aresearch("The printing press", providers=providers, provider_retries=0)


async def test_planner_retries_a_plan_out_of_bounds():
    answers = iter([TITLES[:2], TITLES])  # 2 sections (too few), then 3

    def respond(messages):
        from support.scripted_models import plan_json

        return plan_json(next(answers))

    planner = ScriptedChatModel(respond=respond)
    providers = providers_for(TITLES)
    providers._chat["planner"] = planner
    report = await aresearch("The printing press", providers=providers, provider_retries=0)
    assert len(report.sections) == 3
    assert len(planner.calls) == 2
    feedback = str(planner.calls[1][-1].content)
    assert "answer was rejected" in feedback and "at least 3 items" in feedback


async def test_planner_rejects_duplicate_sections_with_the_reason():
    answers = iter([[TITLES[0], TITLES[0], TITLES[1]], TITLES])

    def respond(messages):
        from support.scripted_models import plan_json

        return plan_json(next(answers))

    planner = ScriptedChatModel(respond=respond)
    providers = providers_for(TITLES)
    providers._chat["planner"] = planner
    report = await aresearch("The printing press", providers=providers)
    assert [s.title for s in report.sections] == TITLES
    assert "cover the same thing" in str(planner.calls[1][-1].content)


async def test_planner_gives_up_with_a_clear_error():
    from nexa_research import PlanningError

    providers = providers_for(TITLES)
    providers._chat["planner"] = planner_for(TITLES[:2])
    with pytest.raises(PlanningError, match="after 3 attempts"):
        await aresearch("The printing press", providers=providers)


async def test_a_rejected_key_is_not_retried_but_the_section_is_missing():
    class Rejected(SearchBackendError):
        status = 401

    search = FlakySearch(corpus_for(TITLES), "Spread", Rejected("HTTP 401: check EXA_API_KEY"))
    report = await aresearch("The printing press", providers=providers_for(TITLES, search=search), provider_retries=3)
    assert search.attempts["Spread across Europe facts"] == 1
    assert "check EXA_API_KEY" in report.missing_sections[0].error
