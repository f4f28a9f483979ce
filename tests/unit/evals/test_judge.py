"""The optional LLM judge, through the real openevals and langchain-openai clients, against the local OpenAI stub.

The stub plays a judge that reads the prompt openevals built: it marks the section with the planted claim as
poorly grounded and the others as grounded. The test checks what went over the wire (the groundedness rubric,
the section, its cited passages, a JSON-schema response format, the key from the environment) and what came
back into the ReportEval, including an endpoint that refuses the key: the error is reported per section.
"""

from __future__ import annotations

import json

from nexa_research.evals import Judge, score_report
from nexa_research.evals.judge import JudgeSettings, judge_model, judge_report
from support.eval_reports import EXPECTED, SECTIONS, make_report
from support.openai_stub import message_text

CLAIM = "Gutenberg sold his first Bibles to the Pope at a large profit [2]."


def _judge_answers(body: dict) -> str:
    prompt = message_text(body, "user")
    if "Bibles to the Pope" in prompt:
        reasoning = "The sale to the Pope is not in the context. Thus, the score should be: 0.25."
        return json.dumps({"reasoning": reasoning, "score": 0.25})
    return json.dumps({"reasoning": "Every claim is in the context. Thus, the score should be: 1.0.", "score": 1.0})


def _report():
    return make_report([(SECTIONS[0][0], f"{SECTIONS[0][1]} {CLAIM}", ""), *SECTIONS[1:]])


def test_judge_scores_each_section_through_openevals(serve, monkeypatch):
    stub = serve(respond=_judge_answers, api_key="judge-key")
    monkeypatch.setenv("NEXA_EVAL_JUDGE_API_KEY", "judge-key")
    settings = JudgeSettings.from_env(model="judge-model", base_url=stub.base_url)
    judge = Judge(chat_model=judge_model(settings), label=settings.label())

    result = score_report(_report(), expect_urls=EXPECTED, judge=judge).judge

    assert [(v.number, v.score) for v in result.sections] == [(1, 0.25), (2, 1.0), (3, 1.0)]
    assert "not in the context" in result.sections[0].reasoning and not result.sections[0].error
    assert result.mean_score == 0.75 and result.judge == f"judge-model @ {stub.base_url}"
    bodies = stub.chat_bodies()
    assert len(bodies) == 3 and {b["model"] for b in bodies} == {"judge-model"}
    assert all(b["response_format"]["type"] == "json_schema" for b in bodies)
    first = message_text(bodies[0], "user")
    assert "<context>" in first and "[2] Johannes Gutenberg" in first and CLAIM in first
    assert all(r.headers["authorization"] == "Bearer judge-key" for r in stub.chat_requests())


def test_judge_errors_are_reported_per_section(serve):
    stub = serve(respond=_judge_answers, api_key="right-key")
    settings = JudgeSettings(model="judge-model", base_url=stub.base_url, api_key="wrong-key")
    result = judge_report(_report(), judge_model(settings), settings.label())
    assert [v.score for v in result.sections] == [None, None, None] and result.mean_score is None
    assert all("AuthenticationError" in v.error and "401" in v.error for v in result.sections)


def test_no_judge_without_a_model(monkeypatch):
    monkeypatch.delenv("NEXA_EVAL_JUDGE_MODEL", raising=False)
    assert JudgeSettings.from_env() is None
    monkeypatch.setenv("NEXA_EVAL_JUDGE_MODEL", "m")
    assert JudgeSettings.from_env().model == "m"
