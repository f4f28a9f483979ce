"""End to end with no fakes: embedded llama.cpp, Qdrant holding real Wikipedia articles, Redis Stack checkpoints.

This is what `make run` does, on a subset of the corpus for speed. It asserts the report's shape and that every
citation points at an English Wikipedia article this run actually retrieved.
"""

from __future__ import annotations

import pytest

from nexa_research import aresearch
from nexa_research.kernel.self_reference import self_reference
from nexa_research.kernel.sentences import split_sentences
from nexa_research.nodes.text.citations import cited_numbers
from nexa_research.providers import ProviderSettings
from nexa_research.providers.llm.model_file import ensure_default_model
from support.kb_fixtures import wiki_subset

pytestmark = [pytest.mark.e2e, pytest.mark.redis]


@pytest.fixture(scope="module")
def default_model_path():
    return ensure_default_model(ProviderSettings.load())


async def test_offline_report_on_a_topic_the_corpus_covers(monkeypatch, wiki_kb_data_dir, default_model_path, redis_stack_url):
    monkeypatch.setenv("NEXA_DATA_DIR", str(wiki_kb_data_dir))
    monkeypatch.setenv("NEXA_LOCAL_MODEL", str(default_model_path))
    monkeypatch.setenv("NEXA_CHECKPOINTER", "redis")
    monkeypatch.setenv("REDIS_URL", redis_stack_url)
    retrieved: dict[str, str] = {}

    def collect(namespace, chunk):
        for update in chunk.values():
            if isinstance(update, dict):
                for source in update.get("sources") or []:
                    retrieved[source["id"]] = source["url"]

    report = await aresearch(
        "The invention and spread of the printing press",
        on_update=collect,
        min_sections=3,
        max_sections=3,
        max_iterations=2,
        search_results=4,
    )

    # the plan had 3-7 sections; one whose every sentence an earlier section printed is left out, with a warning
    left_out = [w for w in report.metadata.warnings if "was left out" in w]
    assert 3 <= len(report.sections) + len(left_out) <= 7 and report.sections
    assert report.executive_summary.strip()
    # the summary, introduction and conclusion state findings or are left out, never a sentence about the report
    framing = [report.executive_summary, report.introduction, report.conclusion]
    assert not [s for part in framing for s in split_sentences(part) if self_reference(s)], framing
    done = [s for s in report.sections if s.status == "done"]
    assert len(done) >= 2, ([(s.title, s.error) for s in report.sections], report.metadata.warnings)
    assert report.bibliography, "nothing was cited"
    corpus_urls = {d["url"] for d in wiki_subset()}
    for entry in report.bibliography:
        assert entry.url.startswith("https://en.wikipedia.org/wiki/"), entry.url
        assert entry.url in corpus_urls
        assert entry.source_ids and set(entry.source_ids) <= set(retrieved), "cited a source not retrieved in this run"
    numbers = {e.number for e in report.bibliography}
    texts = [report.executive_summary, report.introduction, report.conclusion, *(s.content for s in report.sections)]
    assert all(n in numbers for text in texts for n in cited_numbers(text))
    assert any(cited_numbers(s.content) for s in done)
    assert all(1 <= s.iterations <= 2 for s in done)
    meta = report.metadata
    assert meta.models["synthesizer"][0].startswith("http://127.0.0.1:")
    assert meta.token_usage["synthesizer"]["output_tokens"] > 0
    # a heading for every section, every part with text, and the bibliography
    assert report.to_markdown().count("\n## ") == len(report.sections) + sum(bool(p.strip()) for p in framing) + 1
