"""Bench the embedded llama.cpp server: speed (time to first token, tokens/s) and per-role sampling quality.

    .venv/bin/python bench/bench_local_llm.py speed      # streaming TTFT and tokens/s, 1 and 4 concurrent requests
    .venv/bin/python bench/bench_local_llm.py sampling   # each role's real prompt under candidate llama.cpp settings

Both start the server the way the library does (`local_server(ProviderSettings.load())`), so NEXA_LOCAL_*
apply. The sampling mode sends the project's own prompts and output schemas through ChatOpenAI, with sources
taken from the offline Wikipedia corpus. Results are recorded in bench/local_llm.md.
"""

from __future__ import annotations

import argparse
import asyncio
import re
import statistics
import sys
import time
from typing import Any

from langchain_openai import ChatOpenAI
from openai import AsyncOpenAI

from nexa_research.nodes.collator import CollatorOutput
from nexa_research.nodes.planner import plan_schema
from nexa_research.nodes.query import QueryOutput
from nexa_research.nodes.reflect import ReflectionOutput
from nexa_research.nodes.text.prompt_inputs import numbered_sources
from nexa_research.prompts import load_prompt
from nexa_research.providers.kb.ingest import wikipedia_documents
from nexa_research.providers.llm.local_server import LOCAL_HTTP_HEADERS, local_server
from nexa_research.providers.search.protocol import make_source
from nexa_research.providers.settings import ProviderSettings

SPEED_PROMPTS = [
    "Explain in a short paragraph how the printing press changed Europe.",
    "List five facts about the Moon, one per line.",
    "Write a short paragraph on why the Roman Empire split in two.",
    "Summarise the water cycle in four sentences.",
]
TOPIC = "The history of the printing press"
ARTICLES = ["Printing press", "Johannes Gutenberg", "Printing", "Paper"]
SECTION = {"title": "Gutenberg's invention", "outline": "How Johannes Gutenberg developed movable-type printing.",
           "questions": "- Who invented the printing press?\n- How did movable type work?", "previous_queries": "(none)"}

CANDIDATES: dict[str, dict[str, Any]] = {
    "none": {"repeat_penalty": 1.0},
    "rp1.05/64": {"repeat_penalty": 1.05, "repeat_last_n": 64},
    "rp1.1/64": {"repeat_penalty": 1.1, "repeat_last_n": 64},
    "rp1.1/256": {"repeat_penalty": 1.1, "repeat_last_n": 256},
    "rp1.15/256": {"repeat_penalty": 1.15, "repeat_last_n": 256},
    "dry0.8": {"repeat_penalty": 1.0, "dry_multiplier": 0.8, "dry_base": 1.75, "dry_allowed_length": 2},
}
ROLE_SETTINGS = {"planner": (0.6, 900), "query_writer": (0.4, 120), "reflection": (0.3, 400),
                 "synthesizer": (0.2, 1000), "collator": (0.3, 1500)}


def wiki_sources() -> str:
    """The benchmark's sources: offline Wikipedia extracts, rendered exactly as the nodes render sources."""
    by_title = {d["title"]: d for d in wikipedia_documents()}
    sources = [make_source(url=by_title[t]["url"], title=t, text=by_title[t]["text"]) for t in ARTICLES]
    return numbered_sources(sources, token_budget=100_000, per_source_chars=900)[0]


def role_job(role: str, sources: str, sections: str) -> tuple[list, Any]:
    """The role's real prompt and output schema (None = free text), filled with benchmark inputs."""
    prompt = load_prompt(role)
    if role == "planner":
        return prompt.messages(topic=TOPIC, min_sections=3, max_sections=5, language="English"), plan_schema(3, 5)
    if role == "query_writer":
        return prompt.messages(topic=TOPIC, gaps="- when the first press was built", **SECTION), QueryOutput
    if role == "reflection":
        return prompt.messages(topic=TOPIC, sources=sources, **SECTION), ReflectionOutput
    if role == "synthesizer":
        return prompt.messages(topic=TOPIC, sources=sources, language="English", min_words=400, max_words=800,
                               **SECTION), None
    return prompt.messages(topic=TOPIC, title=TOPIC, sections=sections, section_count=2, language="English"), CollatorOutput


def repeated_ngram_share(text: str, n: int = 4) -> float:
    """Share of word 4-grams already seen earlier in the text: 0 = no looping, high = the model repeats itself."""
    words = re.findall(r"\w+", text.lower())
    grams = [tuple(words[i : i + n]) for i in range(len(words) - n + 1)]
    return 0.0 if not grams else 1 - len(set(grams)) / len(grams)


async def run_role(server: Any, role: str, extras: dict[str, Any], seed: int, sources: str, sections: str) -> dict:
    temperature, max_tokens = ROLE_SETTINGS[role]
    model = ChatOpenAI(model=server.spec.model_path.stem, base_url=server.base_url, api_key=server.api_key,
                       temperature=temperature, max_tokens=max_tokens, seed=seed, max_retries=1, timeout=900,
                       default_headers=LOCAL_HTTP_HEADERS, extra_body=extras)
    messages, schema = role_job(role, sources, sections)
    started = time.perf_counter()
    if schema is None:
        raw, valid = await model.ainvoke(messages), "-"
    else:
        out = await model.with_structured_output(schema, method="json_schema", include_raw=True).ainvoke(messages)
        raw, valid = out["raw"], "ok" if out["parsed"] is not None else "BAD"
    text = str(raw.content)
    usage = raw.usage_metadata or {}
    cited = [int(n) for n in re.findall(r"\[(\d+)\]", text)]
    return {"finish": raw.response_metadata.get("finish_reason"), "tokens": usage.get("output_tokens", 0),
            "words": len(text.split()), "rep": repeated_ngram_share(text), "valid": valid, "cites": len(cited),
            "bad_cites": sorted({c for c in cited if not 1 <= c <= len(ARTICLES)}),
            "secs": time.perf_counter() - started, "text": text}


async def bench_sampling(server: Any, roles: list[str], candidates: list[str], seeds: int, show: bool) -> None:
    sources = wiki_sources()
    sections = "## Gutenberg's invention\n" + sources[:1200] + "\n\n## Spread of printing\n" + sources[1200:2400]
    print(f"{'role':<13} {'setting':<11} {'seed':>4} {'finish':<7} {'tok':>5} {'words':>5} {'rep4':>5} {'json':>4} "
          f"{'secs':>5} {'cites':>5} bad_cites")
    for role in roles:
        for name in candidates:
            for seed in range(1, seeds + 1):
                r = await run_role(server, role, CANDIDATES[name], seed, sources, sections)
                print(f"{role:<13} {name:<11} {seed:>4} {r['finish']!s:<7} {r['tokens']:>5} {r['words']:>5} "
                      f"{r['rep']:>5.2f} {r['valid']:>4} {r['secs']:>5.1f} {r['cites']:>5} {r['bad_cites'] or ''}", flush=True)
                if show:
                    print("    " + r["text"][:1600].replace("\n", "\n    "), flush=True)


async def stream_one(client: AsyncOpenAI, model: str, prompt: str, max_tokens: int) -> dict[str, float]:
    start = time.perf_counter()
    first, tokens = None, 0
    stream = await client.chat.completions.create(
        model=model, messages=[{"role": "user", "content": prompt}], max_tokens=max_tokens, temperature=0.2,
        stream=True, stream_options={"include_usage": True},
    )
    async for chunk in stream:
        if first is None and chunk.choices and chunk.choices[0].delta.content:
            first = time.perf_counter()
        if chunk.usage is not None:
            tokens = chunk.usage.completion_tokens
    end = time.perf_counter()
    first = first or end
    return {"ttft": first - start, "tokens": tokens, "tps": tokens / max(end - first, 1e-9), "total": end - start}


async def bench_speed(server: Any, max_tokens: int) -> None:
    client = AsyncOpenAI(base_url=server.base_url, api_key=server.api_key, max_retries=0, timeout=600,
                         default_headers=LOCAL_HTTP_HEADERS)
    model = server.spec.model_path.stem
    await stream_one(client, model, "Say hi.", 8)  # warm-up: the first request pays one-off allocations
    print(f"{'concurrent':>10} {'prompt':>6} {'ttft s':>7} {'tokens':>6} {'tok/s':>6} {'total s':>8}")
    for concurrency in (1, 4):
        started = time.perf_counter()
        if concurrency == 1:
            results = [await stream_one(client, model, p, max_tokens) for p in SPEED_PROMPTS]
        else:
            results = await asyncio.gather(*(stream_one(client, model, p, max_tokens) for p in SPEED_PROMPTS))
        wall = time.perf_counter() - started
        for i, r in enumerate(results, 1):
            print(f"{concurrency:>10} {i:>6} {r['ttft']:>7.2f} {r['tokens']:>6} {r['tps']:>6.1f} {r['total']:>8.2f}")
        total = sum(r["tokens"] for r in results)
        print(f"{concurrency:>10} {'all':>6} {statistics.median(r['ttft'] for r in results):>7.2f} {total:>6} "
              f"{total / wall:>6.1f} {wall:>8.2f}   <- median ttft, aggregate tok/s, wall s")
    long_prompt = f"Sources:\n{wiki_sources()}\n\nSummarise these sources in one paragraph."
    r = await stream_one(client, model, long_prompt, max_tokens)
    print(f"{1:>10} {'long':>6} {r['ttft']:>7.2f} {r['tokens']:>6} {r['tps']:>6.1f} {r['total']:>8.2f}   "
          f"<- a {len(long_prompt)}-character prompt: ttft is mostly prompt processing")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mode", choices=["speed", "sampling"])
    parser.add_argument("--max-tokens", type=int, default=128, help="speed: tokens generated per prompt")
    parser.add_argument("--roles", default=",".join(ROLE_SETTINGS), help="sampling: comma-separated roles")
    parser.add_argument("--candidates", default=",".join(CANDIDATES), help="sampling: comma-separated settings")
    parser.add_argument("--seeds", type=int, default=2, help="sampling: seeds per role and setting")
    parser.add_argument("--show", action="store_true", help="sampling: print each answer")
    args = parser.parse_args(argv)
    started = time.perf_counter()
    server = local_server(ProviderSettings.load())
    spec = server.spec
    print(f"model {spec.model_path.name}, {spec.parallel} slots x {spec.ctx_per_slot} ctx, {spec.threads} threads; "
          f"ready in {time.perf_counter() - started:.1f}s")
    if args.mode == "speed":
        asyncio.run(bench_speed(server, args.max_tokens))
    else:
        roles, candidates = args.roles.split(","), args.candidates.split(",")
        asyncio.run(bench_sampling(server, roles, candidates, args.seeds, args.show))
    return 0


if __name__ == "__main__":
    sys.exit(main())
