"""Config precedence (per-run > environment > defaults) and validation before any model is called."""

from __future__ import annotations

import pytest

from nexa_research import ResearchConfig, ResearchInputError, aresearch, research
from support.scripted_models import providers_for

TITLES = ["Gutenberg press origins", "Spread across Europe", "Effects on literacy"]


def test_defaults_follow_the_design():
    cfg = ResearchConfig()
    assert cfg.max_iterations == 3 and (cfg.min_sections, cfg.max_sections) == (3, 7)
    assert (cfg.models.planner.temperature, cfg.models.planner.max_tokens) == (0.6, 2000)
    assert (cfg.models.synthesizer.temperature, cfg.models.synthesizer.max_tokens) == (0.2, 1500)


def test_environment_overrides_defaults_and_per_run_overrides_environment(monkeypatch):
    monkeypatch.setenv("NEXA_MAX_ITERATIONS", "2")
    monkeypatch.setenv("NEXA_MODELS__PLANNER__TEMPERATURE", "0.9")
    monkeypatch.setenv("NEXA_MODELS__PLANNER__MODEL", "env-model")
    from_env = ResearchConfig.from_runnable_config({"configurable": {}})
    assert from_env.max_iterations == 2 and from_env.models.planner.temperature == 0.9
    per_run = ResearchConfig.from_runnable_config(
        {"configurable": {"max_iterations": 1, "models": {"planner": {"temperature": 0.1}}, "thread_id": "t"}}
    )
    assert per_run.max_iterations == 1
    assert per_run.models.planner.temperature == 0.1
    assert per_run.models.planner.model == "env-model"  # env still fills what the run did not say
    assert per_run.models.planner.max_tokens == 2000  # role default kept under a partial override


def test_resolved_once_per_values_and_afresh_when_the_environment_changes(monkeypatch):
    monkeypatch.setenv("NEXA_MAX_ITERATIONS", "2")
    first = ResearchConfig.resolve({"min_sections": 3})
    assert ResearchConfig.resolve({"min_sections": 3}) is first
    assert ResearchConfig.resolve({"min_sections": 4}) is not first

    monkeypatch.setenv("nexa_max_iterations", "1")  # any case: pydantic-settings reads it too
    monkeypatch.delenv("NEXA_MAX_ITERATIONS")
    again = ResearchConfig.resolve({"min_sections": 3})
    assert again is not first and (first.max_iterations, again.max_iterations) == (2, 1)
    assert ResearchConfig.from_runnable_config({"configurable": {"min_sections": 3}}, context={}) is again


def test_a_bad_value_is_an_error_every_time_it_is_resolved():
    for _ in range(2):
        with pytest.raises(ResearchInputError, match="max_iterations"):
            ResearchConfig.resolve({"max_iterations": 9})


def test_context_wins_over_configurable():
    cfg = ResearchConfig.from_runnable_config({"configurable": {"max_iterations": 1}}, context={"max_iterations": 2})
    assert cfg.max_iterations == 2


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"max_iterations": 4}, "max_iterations"),
        ({"min_sections": 0}, "min_sections"),
        ({"max_sections": 8}, "max_sections"),
        ({"min_sections": 6, "max_sections": 4}, "min_sections (6) is greater than max_sections (4)"),
        ({"search_results": 0}, "search_results"),
        ({"models": {"planner": {"temperature": 5}}}, "models.planner.temperature"),
        ({"no_such_knob": 1}, "no_such_knob"),
        ({"kb_collection": "my docs/../x"}, "kb_collection"),
    ],
)
def test_out_of_range_config_names_the_field(values, field):
    with pytest.raises(ResearchInputError, match="invalid research config") as err:
        ResearchConfig.from_values(values)
    assert field in str(err.value)
    assert isinstance(err.value, ValueError)


@pytest.mark.parametrize(
    ("topic", "reason"),
    [("", "must not be empty"), ("   \n\t ", "must not be empty"), ("x" * 2001, "the limit is 2000"), (None, "expected a string")],
)
async def test_bad_topic_is_rejected_before_any_model_call(topic, reason):
    providers = providers_for(TITLES)
    with pytest.raises(ResearchInputError, match=reason):
        await aresearch(topic, providers=providers)
    assert all(not m.calls for m in providers._chat.values())


async def test_bad_config_is_rejected_before_any_model_call():
    providers = providers_for(TITLES)
    with pytest.raises(ResearchInputError, match="max_iterations"):
        await aresearch("The printing press", providers=providers, max_iterations=4)
    assert all(not m.calls for m in providers._chat.values())


def test_sync_research_uses_per_run_config():
    providers = providers_for(TITLES)
    report = research("The printing press", {"max_iterations": 1, "language": "English"}, providers=providers)
    assert report.metadata.config["max_iterations"] == 1
    assert len(report.sections) == 3


async def test_missing_key_variable_is_named_before_anything_starts(monkeypatch):
    monkeypatch.delenv("NEXA_TEST_MISSING_KEY", raising=False)
    models = {"synthesizer": {"base_url": "http://127.0.0.1:9/v1", "model": "m", "api_key_env": "NEXA_TEST_MISSING_KEY"}}
    with pytest.raises(ResearchInputError, match=r"models\.synthesizer\.api_key_env: environment variable NEXA_TEST_MISSING_KEY"):
        await aresearch("The printing press", models=models)


async def test_runs_without_any_checkpointer(monkeypatch):
    monkeypatch.setenv("NEXA_CHECKPOINTER", "none")
    report = await aresearch("The printing press", providers=providers_for(TITLES), max_iterations=1)
    assert [s.status for s in report.sections] == ["done"] * 3


def test_the_in_process_checkpointer_is_named_in_memory_and_its_older_name_still_works(monkeypatch):
    """"memory" alone means the research memory across runs; the checkpointer held in this process is `in_memory`."""
    from nexa_research.errors import ResearchInputError
    from nexa_research.providers.settings import ProviderSettings

    for value in ("in_memory", "memory"):
        monkeypatch.setenv("NEXA_CHECKPOINTER", value)
        assert ProviderSettings.load().checkpointer == "in_memory"
    monkeypatch.setenv("NEXA_CHECKPOINTER", "disk")
    with pytest.raises(ResearchInputError, match="NEXA_CHECKPOINTER"):
        ProviderSettings.load()
