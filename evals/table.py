"""Markdown for people: the per-topic table, the targets with pass/fail marks, and the findings behind them.

The findings list, per report, every item that cost it a point (capped per kind, with the remainder counted),
so a reader can open the report at the sentence in question instead of trusting a percentage.
"""

from __future__ import annotations

from collections.abc import Sequence

from nexa_research.evals.aggregate import TARGETS, TopicRow
from nexa_research.evals.history import EvalRun
from nexa_research.evals.scorer import ReportEval
from nexa_research.evals.section_sources import ENOUGH_SOURCES, SectionSources

MAX_ITEMS = 8


def pct(value: float | None) -> str:
    return "–" if value is None else f"{100 * value:.0f}%"


def mark(met: bool | None) -> str:
    return "n/a" if met is None else ("✅ pass" if met else "❌ fail")


def num(value: float | None, digits: int = 1) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def _cell(text: str) -> str:
    return " ".join(text.replace("|", "\\|").split())


def _clip(text: str, limit: int = 160) -> str:
    text = _cell(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def topic_table(rows: Sequence[TopicRow]) -> list[str]:
    out = ["| topic | sections | words | sources | on-topic | supported | recall | relevant recall | sources/section "
           "| self-refs | framing supported | title issues | unsupported sections | fragments | near-dups | seconds "
           "| tokens | judge |",
           "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
    for r in rows:
        sections = f"{r.sections}" + (f" ({r.missing_sections} missing)" if r.missing_sections else "")
        if r.sections_asked:
            sections = f"{r.sections_printed}/{r.sections_asked} asked" + (f" ({r.missing_sections} missing)"
                                                                          if r.missing_sections else "")
        out.append(
            f"| {_cell(r.topic)} | {sections} | {r.words} | {r.sources} | {pct(r.on_topic)} | {pct(r.supported)} "
            f"| {pct(r.recall)} | {pct(r.relevant_recall)} | {num(r.sources_per_section)} | {r.self_references} "
            f"| {pct(r.framing_supported)} | {r.title_problems} | {r.unsupported_sections} | {r.fragments} "
            f"| {r.near_duplicates} | {'–' if r.seconds is None else f'{r.seconds:.0f}'} | {r.tokens} "
            f"| {'–' if r.judge is None else f'{r.judge:.2f}'} |"
        )
    return out


def targets_table(run: EvalRun) -> list[str]:
    agg = run.aggregate
    values = {
        "sources_on_topic": f"{pct(agg.sources_on_topic)} of {agg.sources_scored} ({pct(agg.sources_on_topic_by_score)} on score alone)",
        "recall_mean": pct(agg.recall_mean),
        "title_problems": str(agg.title_problems),
        "fragments": str(agg.fragments),
        "near_duplicates": str(agg.near_duplicates),
        "sentences_supported": f"{pct(agg.sentences_supported)} of {agg.sentences_cited}",
        "relevant_recall_mean": pct(agg.relevant_recall_mean),
        "sources_per_section": f"{num(agg.sources_per_section)} over {agg.sections_scored} sections",
        "self_references": f"{agg.self_references} in {agg.framing_sentences} sentences",
        "words_goal_met": f"{pct(agg.words_goal_met)} (mean {num(agg.words_mean, 0)} words)",
    }
    results = {**run.targets, **run.informational}
    out = ["| measure | value | target | result |", "| --- | --- | --- | --- |"]
    out += [f"| {t.label} | {values[t.name]} | {t.goal} | {mark(results.get(t.name))} |" for t in TARGETS]
    printed = (f"{agg.sections_printed} of {agg.sections_asked} asked ({pct(agg.sections_printed / agg.sections_asked)})"
               if agg.sections_asked else "– (no section count asked)")
    out += [f"| sections printed | {printed} | - | |",
            f"| framing sentences cited and supported | {pct(agg.framing_supported)} of {agg.framing_sentences} | - | |"]
    return out


def _thin_sections(sources: SectionSources | None) -> list[str]:
    return [f"  - section {s.number} \"{_cell(s.title)}\": {s.count} (cites {s.cited or 'nothing'})"
            for s in (sources.sections if sources else []) if s.count < ENOUGH_SOURCES]


def _capped(lines: list[str]) -> list[str]:
    extra = len(lines) - MAX_ITEMS
    return lines[:MAX_ITEMS] + ([f"  - … and {extra} more"] if extra > 0 else [])


def findings(e: ReportEval) -> list[str]:
    """Every item behind a lost point in one report, grouped by measure."""
    groups: list[tuple[str, list[str]]] = [
        ("off-topic sources", [f"  - [{s.number}] {_cell(s.title)} ({s.score:.2f}) {s.url}" for s in e.relevance.off_topic]),
        ("unsupported cited sentences", [
            f"  - {s.where} ({s.score:.2f}{'; ' + s.reason if s.reason else ''}): \"{_clip(s.sentence)}\""
            + (f" closest source sentence: \"{_clip(s.best_source_sentence, 120)}\"" if s.best_source_sentence else "")
            for s in e.support.unsupported
        ]),
        ("generic titles", [f"  - \"{_cell(t)}\"" for t in e.plan.generic_titles]),
        ("duplicate titles", [
            f"  - \"{_cell(p.first)}\" / \"{_cell(p.second)}\" ({'identical' if p.identical else f'{p.score:.2f}'})"
            for p in e.plan.duplicate_titles
        ]),
        ("sections without a source about them", [
            f"  - section {s.number} \"{_cell(s.title)}\" ({s.reason or f'best {s.score:.2f}'})"
            for s in e.plan.unsupported_sections
        ]),
        ("near-duplicate sentences", [
            f"  - {p.first_where}: \"{_clip(p.first, 100)}\" / {p.second_where}: \"{_clip(p.second, 100)}\" "
            f"({'identical' if p.identical else f'{p.score:.2f}'})"
            for p in e.duplicates.pairs
        ]),
        ("fragments", [f"  - {f.kind}, {f.where}: \"{_clip(f.sentence, 120)}\"" for f in e.fragments.items]),
        ("unresolved citations", [f"  - [{u.number}] in {u.where}" for u in e.integrity.unresolved]),
        ("duplicate bibliography URLs", [f"  - {u}" for u in e.integrity.duplicate_urls]),
        ("expected sources not cited", [f"  - {u}" for u in (e.recall.missing if e.recall else [])]),
        ("relevant sources not cited", [f"  - {u}" for u in (e.relevant_recall.missing if e.relevant_recall else [])]),
        (f"sections with fewer than {ENOUGH_SOURCES} on-topic sources", _thin_sections(e.section_sources)),
        ("self-references", [f"  - {r.kind}, {r.where}: \"{_clip(r.sentence)}\""
                             for r in (e.framing.self_references if e.framing else [])]),
        ("judge", [f"  - section {v.number} \"{_cell(v.title)}\": "
                   + (f"error {v.error}" if v.error else f"{v.score:.2f} {_clip(v.reasoning, 200)}")
                   for v in (e.judge.sections if e.judge else []) if v.error or (v.score is not None and v.score < 1)]),
    ]
    out = []
    for name, lines in groups:
        if lines:
            out += [f"- {name} ({len(lines)}):", *_capped(lines)]
    return out or ["- nothing to report"]


def run_markdown(run: EvalRun, evals: Sequence[ReportEval]) -> str:
    lines = [f"# Evaluation {run.run_id}", ""]
    lines.append(f"{run.date}; commit {run.git_commit or 'unknown'}{' (uncommitted changes)' if run.git_dirty else ''}; "
                 f"options {', '.join(f'{k}={v}' for k, v in run.command.items()) or 'none'}")
    lines.append("")
    models = "; ".join(f"{role}: {', '.join(labels)}" for role, labels in run.models.items()) or "unknown"
    prompts = ", ".join(f"{role} {version}" for role, version in run.prompt_versions.items()) or "unknown"
    thresholds = ", ".join(f"{name} {value:.3f}" for name, value in run.thresholds.items())
    lines += [f"Models: {models}  ", f"Prompt versions: {prompts}  ", f"Judge: {run.judge or 'none'}; thresholds: {thresholds}"]
    lines += ["", "## Targets", "", *targets_table(run), "", "## Per topic", "", *topic_table(run.topics), ""]
    if run.failures:
        lines += ["## Failed runs", ""]
        lines += [f"- {_cell(f.topic)}: {_clip(f.error, 300)}" for f in run.failures]
        lines.append("")
    lines += ["## Findings", ""]
    for e in evals:
        lines += [f"### {_cell(e.topic)}", "", f"\"{_cell(e.title)}\"" + (f", {e.file}" if e.file else ""), "", *findings(e), ""]
    return "\n".join(lines).rstrip() + "\n"


def history_markdown(groups: dict[str, list[EvalRun]]) -> str:
    lines = ["# Eval history", ""]
    for key, runs in groups.items():
        lines += [f"## {key}", "",
                  "| date | run | commit | reports | failed | on-topic | supported | recall | relevant recall "
                  "| sources/section | self-refs | title issues | fragments | near-dups | targets met |",
                  "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]
        for r in runs:
            a = r.aggregate
            met = sum(1 for v in r.targets.values() if v)
            applicable = sum(1 for v in r.targets.values() if v is not None)
            commit = (r.git_commit or "–")[:10] + ("*" if r.git_dirty else "")
            lines.append(f"| {r.date} | {r.run_id} | {commit} | {a.reports} | {a.failed} | {pct(a.sources_on_topic)} "
                         f"| {pct(a.sentences_supported)} | {pct(a.recall_mean)} | {pct(a.relevant_recall_mean)} "
                         f"| {num(a.sources_per_section)} | {a.self_references} | {a.title_problems} | {a.fragments} "
                         f"| {a.near_duplicates} | {met}/{applicable} |")
        lines.append("")
    return "\n".join(lines).rstrip() + "\n"
