"""Provider selection by configuration alone, with the real langchain-openai client against a local OpenAI stand-in.

What a user depends on: setting NEXA_LLM_BASE_URL, OPENROUTER_API_KEY or OPENAI_API_KEY (in that order) picks the
endpoint with no code change, and the embedded llama.cpp server is used when none is set; a role's own endpoint in
per-run config wins for that role only and its key goes nowhere else; each role's sampling settings and JSON schema
are what the server receives; a dead or failing endpoint falls back to the next one, and when all fail the error
names the role and every endpoint tried, quickly. Whole research runs over the wire: test_provider_graph_run.py.
"""

from __future__ import annotations

import asyncio
import json
import uuid

import pytest
from langchain_core.messages import HumanMessage, SystemMessage
from langchain_core.runnables import RunnableLambda
from pydantic import BaseModel, ConfigDict, Field

from nexa_research.config import ROLE_DEFAULTS, ResearchConfig
from nexa_research.errors import ProviderError, ResearchInputError, StructuredOutputError
from nexa_research.providers import ConfiguredProviders, ProviderSettings
from nexa_research.providers.llm import local_server
from nexa_research.providers.llm.chat_models import answered_by
from nexa_research.providers.llm.endpoints import OPENAI_BASE_URL, Endpoint, build_role_models, default_endpoint
from support.openai_stub import closed_port_url

GUARD_SECONDS = 20  # a broken timeout fails the test instead of stalling the suite
QUICK = {"timeout_seconds": 2}
MESSAGES = [SystemMessage("You answer briefly."), HumanMessage("Say something.")]


@pytest.fixture(autouse=True)
def _no_embedded_llm(monkeypatch):
    """No test here may start llama.cpp by accident; the one test of the local default replaces this again."""

    def refuse(settings: ProviderSettings) -> Endpoint:
        raise AssertionError("this test fell through to the embedded llama.cpp server")

    monkeypatch.setattr(local_server, "local_endpoint", refuse)


async def guarded(coro):
    return await asyncio.wait_for(coro, GUARD_SECONDS)


def role_set(role: str, models: dict | None = None, settings: ProviderSettings | None = None, **knobs):
    cfg = ResearchConfig(models=models or {}, provider_retries=knobs.pop("provider_retries", 0), **knobs)
    return ConfiguredProviders(settings or ProviderSettings.load()).role_models(role, cfg)


def max_tokens_sent(body: dict) -> int | None:
    """langchain-openai sends the budget as max_completion_tokens (OpenAI's current name)."""
    return body.get("max_completion_tokens", body.get("max_tokens"))


# --- selection order -------------------------------------------------------------------------------


async def test_base_url_env_wins_over_openrouter_and_openai_keys(serve, monkeypatch):
    stub = serve(api_key="nexa-key")
    monkeypatch.setenv("NEXA_LLM_BASE_URL", stub.base_url)
    monkeypatch.setenv("NEXA_LLM_API_KEY", "nexa-key")
    monkeypatch.setenv("NEXA_LLM_MODEL", "served-model")
    monkeypatch.setenv("OPENROUTER_API_KEY", "or-key")
    monkeypatch.setenv("OPENAI_API_KEY", "oa-key")

    assert default_endpoint(ProviderSettings.load()) == Endpoint("custom", stub.base_url, "nexa-key", "served-model")
    answer = await guarded(role_set("planner").text(MESSAGES))

    assert answer.content == "A scripted answer from the stub server."
    (request,) = stub.chat_requests()
    assert request.headers["authorization"] == "Bearer nexa-key"
    assert request.body["model"] == "served-model"
    assert "repeat_penalty" not in request.body  # llama.cpp-only knobs go to the embedded server only


async def test_openrouter_key_is_next_and_is_sent_to_openrouter(serve, monkeypatch):
    stub = serve(api_key="or-key")
    monkeypatch.setenv("OPENROUTER_API_KEY", "or-key")
    monkeypatch.setenv("OPENAI_API_KEY", "oa-key")
    assert default_endpoint(ProviderSettings.load()).base_url == "https://openrouter.ai/api/v1"
    monkeypatch.setenv("NEXA_OPENROUTER_BASE_URL", stub.base_url)
    monkeypatch.setenv("NEXA_OPENROUTER_MODEL", "anthropic/claude-test")

    endpoint = default_endpoint(ProviderSettings.load())
    await guarded(role_set("query_writer").text(MESSAGES))

    assert endpoint.kind == "openrouter" and endpoint.base_url == stub.base_url
    (request,) = stub.chat_requests()
    assert request.headers["authorization"] == "Bearer or-key"
    assert request.body["model"] == "anthropic/claude-test"


def test_openai_key_alone_selects_api_openai_com(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "oa-key")
    settings = ProviderSettings.load()

    assert default_endpoint(settings) == Endpoint("openai", OPENAI_BASE_URL, "oa-key", "gpt-4.1-mini")
    (model,) = build_role_models("collator", ResearchConfig().models.collator, settings)
    assert model.openai_api_base == "https://api.openai.com/v1"
    assert model.openai_api_key.get_secret_value() == "oa-key"
    assert model.model_name == "gpt-4.1-mini"
    monkeypatch.setenv("NEXA_LLM_MODEL", "gpt-test")
    assert default_endpoint(ProviderSettings.load()).default_model == "gpt-test"


async def test_nothing_configured_uses_the_embedded_local_server(serve, monkeypatch):
    stub = serve(api_key="local-key")
    asked: list[ProviderSettings] = []

    def fake_local_endpoint(settings: ProviderSettings) -> Endpoint:
        asked.append(settings)
        return Endpoint("local", stub.base_url, "local-key", "qwen-local")

    monkeypatch.setattr(local_server, "local_endpoint", fake_local_endpoint)
    assert default_endpoint(ProviderSettings.load()).kind == "local" and len(asked) == 1

    await guarded(role_set("synthesizer").text(MESSAGES))
    (request,) = stub.chat_requests()
    assert request.body["model"] == "qwen-local"
    assert request.body["repeat_penalty"] == local_server.local_sampling_extras("synthesizer")["repeat_penalty"]


# --- per-role endpoints and keys -------------------------------------------------------------------


async def test_role_endpoint_in_run_config_wins_for_that_role_only(serve, monkeypatch):
    shared, own = serve(api_key="shared-key"), serve(api_key="synth-secret")
    monkeypatch.setenv("NEXA_LLM_BASE_URL", shared.base_url)
    monkeypatch.setenv("NEXA_LLM_API_KEY", "shared-key")
    monkeypatch.setenv("SYNTH_KEY", "synth-secret")
    models = {"synthesizer": {"base_url": own.base_url, "api_key_env": "SYNTH_KEY", "model": "synth-model", **QUICK}}

    await guarded(role_set("synthesizer", models).text(MESSAGES))
    await guarded(role_set("planner", models).text(MESSAGES))

    (to_own,) = own.chat_requests()
    (to_shared,) = shared.chat_requests()
    assert to_own.headers["authorization"] == "Bearer synth-secret" and to_own.body["model"] == "synth-model"
    assert to_shared.headers["authorization"] == "Bearer shared-key"
    assert to_shared.body["temperature"] == ROLE_DEFAULTS["planner"]["temperature"]


def test_missing_key_variable_is_an_input_error_naming_the_field(serve):
    stub = serve()
    absent = f"NEXA_TEST_ABSENT_{uuid.uuid4().hex[:6].upper()}"
    with pytest.raises(ResearchInputError, match=rf"models\.synthesizer\.api_key_env: .*{absent}"):
        role_set("synthesizer", {"synthesizer": {"base_url": stub.base_url, "api_key_env": absent}})
    fallback = {"model": "b", "base_url": stub.base_url, "api_key_env": absent}
    with pytest.raises(ResearchInputError, match=rf"models\.reflection\.fallbacks\[0\]\.api_key_env: .*{absent}"):
        role_set("reflection", {"reflection": {"fallbacks": [fallback]}}, ProviderSettings(llm_base_url=stub.base_url))


def test_base_url_without_scheme_is_an_input_error_naming_where(monkeypatch):
    with pytest.raises(ResearchInputError, match=r"models\.planner\.base_url: '127\.0\.0\.1:8080/v1'"):
        role_set("planner", {"planner": {"base_url": "127.0.0.1:8080/v1"}}, ProviderSettings(openai_api_key="k"))
    monkeypatch.setenv("NEXA_LLM_BASE_URL", "localhost:1234")
    with pytest.raises(ResearchInputError, match="NEXA_LLM_BASE_URL"):
        role_set("planner")


async def test_fallback_at_another_host_never_receives_the_primary_key(serve, monkeypatch):
    primary, other = serve(), serve()
    monkeypatch.setenv("PRIMARY_KEY", "primary-secret")
    role = {
        "base_url": primary.base_url,
        "api_key_env": "PRIMARY_KEY",
        "model": "main",
        "fallbacks": [{"model": "same-host"}, {"model": "other-host", "base_url": other.base_url}],
        **QUICK,
    }
    primary.script("503", "503")  # the primary model, then the fallback sharing its host
    answer = await guarded(role_set("collator", {"collator": role}).text(MESSAGES))

    assert answered_by(answer, "?") == "other-host"
    assert [r.body["model"] for r in primary.chat_requests()] == ["main", "same-host"]
    assert {r.headers["authorization"] for r in primary.chat_requests()} == {"Bearer primary-secret"}
    (to_other,) = other.chat_requests()
    assert to_other.headers["authorization"] == "Bearer not-needed"


# --- what reaches the wire -------------------------------------------------------------------------


async def test_role_sampling_settings_reach_the_wire(serve):
    stub = serve()
    settings = ProviderSettings(llm_base_url=stub.base_url)
    tuned = {"temperature": 0.15, "max_tokens": 777, "frequency_penalty": 0.4, "presence_penalty": -0.3}
    await guarded(role_set("synthesizer", {"synthesizer": tuned}, settings).text(MESSAGES))
    await guarded(role_set("query_writer", {}, settings).text(MESSAGES))

    synth, query = stub.chat_bodies()
    assert (synth["temperature"], max_tokens_sent(synth)) == (0.15, 777)
    assert (synth["frequency_penalty"], synth["presence_penalty"]) == (0.4, -0.3)
    defaults = ROLE_DEFAULTS["query_writer"]
    assert (query["temperature"], max_tokens_sent(query)) == (defaults["temperature"], defaults["max_tokens"])


class Verdict(BaseModel):
    model_config = ConfigDict(extra="forbid")

    label: str = Field(max_length=40)
    confidence: float


async def test_structured_output_sends_a_json_schema_and_parses_the_answer(serve):
    stub = serve(respond=lambda body: json.dumps({"label": "supported", "confidence": 0.8}), served_model="judge-1")
    answer = await guarded(role_set("reflection", {}, ProviderSettings(llm_base_url=stub.base_url)).structured(Verdict, MESSAGES))

    assert answer.parsed == Verdict(label="supported", confidence=0.8)
    assert answer.model == "judge-1"
    (body,) = stub.chat_bodies()
    fmt = body["response_format"]
    assert fmt["type"] == "json_schema" and fmt["json_schema"]["name"] == "Verdict"
    schema = fmt["json_schema"]["schema"]
    assert set(schema["required"]) == {"label", "confidence"} and schema["additionalProperties"] is False


async def test_answer_not_matching_the_schema_is_a_structured_output_error(serve):
    stub = serve(respond=lambda body: json.dumps({"wrong": 1}))
    with pytest.raises(StructuredOutputError) as caught:
        await guarded(role_set("reflection", {}, ProviderSettings(llm_base_url=stub.base_url)).structured(Verdict, MESSAGES))
    assert isinstance(caught.value.__cause__, StructuredOutputError)
    assert "Verdict" in caught.value.reason and caught.value.role == "reflection"
    assert len(stub.chat_requests()) == 2  # not retried as is; asked once more with the reason


async def test_streamed_answer_arrives_whole_with_token_usage(serve):
    text = "one two three four five six seven eight nine ten"
    stub = serve(respond=lambda body: text)
    (model,) = build_role_models("synthesizer", ResearchConfig().models.synthesizer, ProviderSettings(llm_base_url=stub.base_url))
    chunks = [c async for c in model.astream(MESSAGES)]

    whole = chunks[0]
    for chunk in chunks[1:]:
        whole += chunk
    assert len([c for c in chunks if c.content]) > 1 and whole.content == text
    assert whole.usage_metadata["output_tokens"] == 10
    (body,) = stub.chat_bodies()
    assert body["stream"] is True and body["stream_options"] == {"include_usage": True}


# --- fallbacks and errors --------------------------------------------------------------------------


@pytest.mark.parametrize("primary_state", ["closed_port", "drop", "401", "429", "500", "503"])
async def test_failing_primary_falls_back_to_the_configured_endpoint(serve, primary_state):
    backup = serve()
    failing = None if primary_state == "closed_port" else serve(default_mode=primary_state)
    primary_url = failing.base_url if failing else closed_port_url()
    role = {"base_url": primary_url, "model": "main", "fallbacks": [{"model": "backup", "base_url": backup.base_url}], **QUICK}
    models = role_set("synthesizer", {"synthesizer": role})

    answer = await guarded(models.text(MESSAGES))

    assert models.labels == [f"{primary_url} main", f"{backup.base_url} backup"]
    assert answered_by(answer, models.labels[0]) == "backup"
    assert len(backup.chat_requests()) == 1
    if failing:
        assert len(failing.chat_requests()) == 1  # the SDK does not retry and provider_retries=0: one try, then fall back


async def test_a_failing_stream_falls_back_too(serve):
    """Under stream_events (LangServe, Studio) models stream; a stream cut mid-way must count as a failure."""
    primary, backup = serve(default_mode="drop_mid_stream"), serve(respond=lambda body: "from the backup")
    role = {"base_url": primary.base_url, "model": "main", "fallbacks": [{"model": "backup", "base_url": backup.base_url}], **QUICK}
    models = role_set("synthesizer", {"synthesizer": role})

    async def synthesize(_):
        return await models.text(MESSAGES)

    events = [e async for e in RunnableLambda(synthesize).astream_events("go", version="v2")]
    output = events[-1]["data"]["output"]

    assert output.content == "from the backup" and answered_by(output, "?") == "backup"
    assert primary.chat_bodies()[0]["stream"] is True and backup.chat_bodies()[0]["stream"] is True


async def test_retries_are_the_retry_policy_alone(serve):
    """The SDK's own retries are off: a request is sent 1 + provider_retries times, not multiplied by them."""
    stub = serve(default_mode="429")
    models = role_set("planner", {"planner": {"base_url": stub.base_url, "timeout_seconds": 2}}, provider_retries=2)
    with pytest.raises(ProviderError) as caught:
        await guarded(models.text(MESSAGES))
    sent = stub.chat_requests()
    assert len(sent) == 3
    assert [r.headers.get("x-stainless-retry-count") for r in sent] == ["0", "0", "0"]
    assert caught.value.status == 429 and not caught.value.transient  # retries spent: nobody retries it again


async def test_every_endpoint_failing_names_the_role_and_each_endpoint(serve):
    slow, locked = serve(default_mode="slow"), serve(api_key="a-key-we-do-not-have")
    dead = closed_port_url()
    role = {
        "base_url": slow.base_url,
        "model": "main",
        "timeout_seconds": 1,
        "fallbacks": [{"model": "second", "base_url": dead}, {"model": "third", "base_url": locked.base_url}],
    }
    with pytest.raises(ProviderError) as caught:
        await guarded(role_set("reflection", {"reflection": role}).text(MESSAGES))

    message = str(caught.value)
    assert caught.value.role == "reflection" and "role 'reflection'" in message
    for url in (slow.base_url, dead, locked.base_url):
        assert url in message
    assert "timed out" in message  # the primary's failure is said (LangChain's fallbacks re-raise the first error)
    assert len(slow.chat_requests()) == 1 and len(locked.chat_requests()) == 1
