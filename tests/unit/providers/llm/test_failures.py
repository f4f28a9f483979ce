"""One provider error type and one retry policy, with the real openai client against the local OpenAI stand-in.

What a node depends on: whatever the SDK or the HTTP layer raises arrives as a `ProviderError` naming the role,
the model and the reason; only transient failures (timeouts, lost connections, 429, 5xx) are tried again, by
the retry policy alone (the SDK's own retries are off); and a bug in our own code is never passed off as a
provider failure, so it cannot become a "missing section".
"""

from __future__ import annotations

import asyncio
import json

import httpx2
import openai
import pytest
from langchain_core.messages import HumanMessage
from pydantic import BaseModel, ConfigDict

from nexa_research import aresearch
from nexa_research.config import ResearchConfig
from nexa_research.errors import ProviderError, StructuredOutputError
from nexa_research.providers import ConfiguredProviders, ProviderSettings
from nexa_research.providers.llm.failures import model_failure
from nexa_research.providers.retry_policy import RetryPolicy
from support.openai_stub import closed_port_url
from support.scripted_models import ScriptedChatModel, providers_for

GUARD_SECONDS = 20
MESSAGES = [HumanMessage("Say something.")]
TITLES = ["Gutenberg press origins", "Spread across Europe", "Effects on literacy"]


class Verdict(BaseModel):
    model_config = ConfigDict(extra="forbid")

    label: str


def role_set(stub_url: str, *, retries: int = 2, timeout: float = 2, fallback_url: str | None = None):
    role = {"base_url": stub_url, "model": "main", "timeout_seconds": timeout}
    if fallback_url:
        role["fallbacks"] = [{"model": "backup", "base_url": fallback_url}]
    cfg = ResearchConfig(models={"reflection": role}, provider_retries=retries)
    return ConfiguredProviders(ProviderSettings()).role_models("reflection", cfg)


async def guarded(coro):
    return await asyncio.wait_for(coro, GUARD_SECONDS)


# --- translation over the wire, and what is retried -------------------------------------------------


async def test_a_server_error_is_retried_once_and_then_succeeds(serve):
    stub = serve(respond=lambda body: "fine")
    stub.script("500")
    answer = await guarded(role_set(stub.base_url).text(MESSAGES))
    assert answer.content == "fine"
    assert len(stub.chat_requests()) == 2


async def test_a_bad_request_is_not_retried(serve):
    stub = serve(default_mode="400")
    models = role_set(stub.base_url, retries=3)
    with pytest.raises(ProviderError) as caught:
        await guarded(models.text(MESSAGES))
    error = caught.value
    assert len(stub.chat_requests()) == 1
    assert error.role == "reflection" and error.status == 400 and not error.transient
    assert "HTTP 400: Invalid value for 'messages'" in error.reason
    assert f"{stub.base_url} main" in str(error)
    failure = error.__cause__
    assert isinstance(failure, ProviderError) and failure.model == f"{stub.base_url} main"
    assert isinstance(failure.__cause__, openai.BadRequestError)  # the SDK's exception stays attached


async def test_a_timeout_is_retried_then_reported_as_a_timeout(serve):
    stub = serve(default_mode="slow", slow_seconds=5)
    with pytest.raises(ProviderError) as caught:
        await guarded(role_set(stub.base_url, retries=1, timeout=0.5).text(MESSAGES))
    assert len(stub.chat_requests()) == 2
    assert caught.value.reason == "timed out" and "timed out" in str(caught.value)


async def test_a_malformed_answer_is_a_provider_error_and_goes_to_the_fallback(serve):
    broken, backup = serve(default_mode="malformed"), serve(respond=lambda body: "from the backup")
    models = role_set(broken.base_url, retries=2, fallback_url=backup.base_url)
    answer = await guarded(models.text(MESSAGES))
    assert answer.content == "from the backup"
    assert len(broken.chat_requests()) == 1  # not worth repeating on the same endpoint

    with pytest.raises(ProviderError) as caught:
        await guarded(role_set(broken.base_url, retries=2).text(MESSAGES))
    assert "not a valid chat completion" in caught.value.reason and not caught.value.transient


async def test_an_answer_cut_at_the_token_limit_is_a_structured_output_error(serve):
    stub = serve(default_mode="length", respond=lambda body: json.dumps({"label": "x"}))
    with pytest.raises(StructuredOutputError) as caught:
        await guarded(role_set(stub.base_url).structured(Verdict, MESSAGES))
    assert "cut off at max_tokens" in caught.value.reason
    assert len(stub.chat_requests()) == 2  # the first answer, then one re-ask with the reason; no blind retries


async def test_a_dead_endpoint_is_retried_as_a_connection_failure():
    dead = closed_port_url()
    with pytest.raises(ProviderError) as caught:
        await guarded(role_set(dead, retries=1).text(MESSAGES))
    assert "could not connect" in caught.value.reason and dead in str(caught.value)


def test_llama_cpp_context_overflow_says_what_to_change():
    request = httpx2.Request("POST", "http://127.0.0.1:1/v1/chat/completions")
    body = {"code": 400, "message": "the request exceeds the available context size", "type": "exceed_context_size_error"}
    response = httpx2.Response(400, json={"error": body}, request=request)
    sdk_error = openai.BadRequestError("Error code: 400", response=response, body=body)
    failure = model_failure(sdk_error, role="synthesizer", model="http://127.0.0.1:1/v1 local")
    assert failure.status == 400 and not failure.transient
    assert "NEXA_LOCAL_CTX" in failure.reason and failure.role == "synthesizer"


# --- the policy itself ------------------------------------------------------------------------------


async def test_the_policy_retries_only_transient_provider_errors():
    calls: list[str] = []

    async def flaky(error: Exception):
        calls.append(type(error).__name__)
        raise error

    policy = RetryPolicy(attempts=3, first_wait=0)
    with pytest.raises(ProviderError):
        await policy.run(lambda: flaky(ProviderError("down", status=503)))
    with pytest.raises(ProviderError):
        await policy.run(lambda: flaky(ProviderError("no such model", status=404)))
    with pytest.raises(ValueError, match="a bug"):
        await policy.run(lambda: flaky(ValueError("a bug")))
    assert calls == ["ProviderError"] * 3 + ["ProviderError", "ValueError"]


def test_the_wait_doubles_and_a_longer_asked_wait_wins():
    policy = RetryPolicy(attempts=4, first_wait=1.0)
    assert 1.0 <= policy.wait_seconds(1) <= 1.5 and 2.0 <= policy.wait_seconds(2) <= 3.0
    assert policy.wait_seconds(1, asked=7.0) == 7.0
    assert policy.wait_seconds(1, asked=3600.0) <= 1.5  # an hour is not waited out: the next model is tried
    assert RetryPolicy(attempts=2, first_wait=0).wait_seconds(3) == 0


# --- nodes: provider failures degrade, bugs surface -------------------------------------------------


async def test_a_value_error_in_a_node_is_not_turned_into_a_missing_section():
    def buggy(messages):
        raise ValueError("a bug in our own code")

    providers = providers_for(TITLES)
    providers._chat["synthesizer"] = ScriptedChatModel(respond=buggy, name_="buggy")
    with pytest.raises(ValueError, match="a bug in our own code"):
        await aresearch("The printing press", providers=providers, provider_retries=0, writing="abstractive")


async def test_a_provider_failure_in_the_same_place_is_a_missing_section_with_the_reason():
    def down(messages):
        raise ProviderError("HTTP 503 from the endpoint", status=503)

    providers = providers_for(TITLES)
    providers._chat["synthesizer"] = ScriptedChatModel(respond=down, name_="down")
    report = await aresearch("The printing press", providers=providers, provider_retries=1, writing="abstractive")
    assert [s.status for s in report.sections] == ["missing"] * 3
    assert "HTTP 503 from the endpoint" in report.sections[0].error and "role 'synthesizer'" in report.sections[0].error
