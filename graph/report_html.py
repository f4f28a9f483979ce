"""A report as one HTML file a reader opens in a browser: `nexa research --format html`, `nexa report`, and the
server's `GET /threads/{id}/report?format=html` all print this.

One file with everything inline (styles, no scripts, no fonts or images fetched), so it can be mailed, archived or
opened offline and still look the same; a Content-Security-Policy in the head says so to the browser too. Every
text in it came from a model or a source page, so every text is escaped: a page titled `<script>` prints as those
characters. Each `[n]` links to bibliography entry n, and each entry to its source (only http, https and file URLs
become links: a `javascript:` URL from a crawled page stays text). The run's metadata closes the page.
"""

from __future__ import annotations

import json
import re
from html import escape
from urllib.parse import unquote, urlsplit

from nexa_research.kernel.sentences import CITATION
from nexa_research.report import BibliographyEntry, Report, ReportMetadata, ReportSection

LINKED_SCHEMES = frozenset({"http", "https", "file"})
_PARAGRAPH_BREAK = re.compile(r"\n\s*\n")
_NUMBER = re.compile(r"\d+")
_POLICY = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"

_STYLE = """
:root { color-scheme: light dark; --muted: #5f6368; --rule: #d0d4d9; --accent: #1a5fb4; --warn: #9c4a00; }
@media (prefers-color-scheme: dark) { :root { --muted: #a6adb4; --rule: #3c4046; --accent: #8cb4ff; --warn: #f0a35e; } }
body { font: 17px/1.6 Georgia, "Iowan Old Style", "Times New Roman", serif; max-width: 46rem; margin: 2.5rem auto;
       padding: 0 1.25rem; }
h1, h2, h3, nav, .meta, .bibliography, .subtitle { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; }
h1 { line-height: 1.25; margin-bottom: .25rem; }
h2 { margin-top: 2.5rem; border-bottom: 1px solid var(--rule); padding-bottom: .2rem; }
a { color: var(--accent); }
a.cite { text-decoration: none; }
a.cite:hover, a.cite:focus { text-decoration: underline; }
.subtitle, .transition, .url, .meta caption { color: var(--muted); }
.transition { font-style: italic; }
nav ol { list-style: none; padding-left: 0; }
.missing-note { color: var(--warn); border-left: 3px solid var(--warn); padding-left: .75rem; }
.bibliography li { margin-bottom: .6rem; word-break: break-word; }
.bibliography li:target { outline: 2px solid var(--accent); outline-offset: 3px; }
.url { font-size: .85em; }
blockquote { margin: .4rem 0 .4rem 1rem; font-size: .9em; }
table { border-collapse: collapse; margin: .75rem 0 1.25rem; font-size: .9rem; }
th, td { text-align: left; vertical-align: top; padding: .2rem .8rem .2rem 0; border-bottom: 1px solid var(--rule); }
caption { text-align: left; font-weight: 600; }
@media print { a { color: inherit; } nav { display: none; } }
"""


def render_html(report: Report) -> str:
    """The whole report as one self-contained HTML5 document."""
    cited = {entry.number for entry in report.bibliography}
    parts = [
        "<!DOCTYPE html>",
        '<html><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{_POLICY}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<meta name="generator" content="nexa-research">',
        f"<title>{escape(report.title)}</title>",
        f"<style>{_STYLE}</style>",
        "</head><body><article>",
        "<header>",
        f"<h1>{escape(report.title)}</h1>",
    ]
    if report.topic.strip().casefold() != report.title.strip().casefold():
        parts.append(f'<p class="subtitle">Topic: {escape(report.topic)}</p>')
    parts += ["</header>", _contents(report)]
    # a part the sources gave no finding for is empty and gets no heading (nodes/text/narrative.py)
    parts += [_prose_block(a, h, t, cited) for a, h, t in _framing(report)[:2] if t.strip()]
    parts += [_section(position, section, cited) for position, section in enumerate(report.sections, start=1)]
    parts += [_prose_block(a, h, t, cited) for a, h, t in _framing(report)[2:] if t.strip()]
    parts.append(_bibliography(report.bibliography))
    parts.append(_run_metadata(report))
    parts.append("</article></body></html>")
    return "\n".join(parts) + "\n"


def section_anchor(position: int) -> str:
    """The id of the `position`-th section (1-based, as the table of contents numbers it)."""
    return f"section-{position}"


def reference_anchor(number: int) -> str:
    """The id of bibliography entry `number`: what every `[number]` in the text links to."""
    return f"ref-{number}"


def _framing(report: Report) -> list[tuple[str, str, str]]:
    """Anchor, heading and text of the summary, introduction and conclusion."""
    return [("summary", "Executive summary", report.executive_summary),
            ("introduction", "Introduction", report.introduction), ("conclusion", "Conclusion", report.conclusion)]


def _contents(report: Report) -> str:
    framing = [(anchor, heading) for anchor, heading, text in _framing(report) if text.strip()]
    items = [item for item in framing if item[0] != "conclusion"]
    for position, section in enumerate(report.sections, start=1):
        label = f"{position}. {section.title}" + (" (missing)" if section.status == "missing" else "")
        items.append((section_anchor(position), label))
    items += [item for item in framing if item[0] == "conclusion"]
    items += [("sources", "Sources"), ("run", "About this report")]
    links = "".join(f'<li><a href="#{anchor}">{escape(label)}</a></li>' for anchor, label in items)
    return f'<nav aria-labelledby="contents"><h2 id="contents">Contents</h2><ol>{links}</ol></nav>'


def _prose_block(anchor: str, heading: str, text: str, cited: set[int]) -> str:
    return f'<section id="{anchor}"><h2>{escape(heading)}</h2>{_paragraphs(text, cited)}</section>'


def _section(position: int, section: ReportSection, cited: set[int]) -> str:
    heading = f"<h2>{position}. {escape(section.title)}</h2>"
    anchor = section_anchor(position)
    if section.status == "missing":
        reason = escape(section.error or "no reason recorded")
        return (f'<section id="{anchor}" class="missing">{heading}'
                f'<p class="missing-note">This section is missing: {reason}</p></section>')
    transition = f'<p class="transition">{_linked_citations(section.transition, cited)}</p>' if section.transition else ""
    return f'<section id="{anchor}">{heading}{transition}{_paragraphs(section.content, cited)}</section>'


def _paragraphs(text: str, cited: set[int]) -> str:
    return "".join(f"<p>{_linked_citations(p.strip(), cited)}</p>" for p in _PARAGRAPH_BREAK.split(text) if p.strip())


def _linked_citations(text: str, cited: set[int]) -> str:
    """Escaped `text` with each number of each citation ([3], [1, 2], [1-3]) linked to its bibliography entry;
    a number with no entry stays plain text, so no link ever points nowhere."""

    def link(number: re.Match[str]) -> str:
        n = int(number.group())
        return f'<a class="cite" href="#{reference_anchor(n)}">{n}</a>' if n in cited else number.group()

    out: list[str] = []
    last = 0
    for match in CITATION.finditer(text):
        out.append(escape(text[last:match.start()]))
        out.append("[" + _NUMBER.sub(link, escape(match.group(1))) + "]")
        last = match.end()
    out.append(escape(text[last:]))
    return "".join(out)


def _source_link(entry: BibliographyEntry) -> str:
    title = escape(entry.title or entry.url)
    if urlsplit(entry.url.strip()).scheme.lower() not in LINKED_SCHEMES:
        return f"{title} <span class=\"url\">{escape(entry.url)}</span>"
    url = escape(entry.url.strip(), quote=True)
    return f'<a href="{url}">{title}</a><br><span class="url">{escape(unquote(entry.url))}</span>'


def _bibliography(entries: list[BibliographyEntry]) -> str:
    items = []
    for entry in entries:
        passages = ""
        if entry.passages:
            quoted = "".join(f"<blockquote>{escape(p)}</blockquote>" for p in entry.passages)
            passages = f"<details><summary>Cited passages ({len(entry.passages)})</summary>{quoted}</details>"
        items.append(f'<li id="{reference_anchor(entry.number)}" value="{entry.number}">'
                     f"{_source_link(entry)}{passages}</li>")
    body = f"<ol>{''.join(items)}</ol>" if items else "<p>No sources were cited.</p>"
    return f'<section id="sources" class="bibliography"><h2>Sources</h2>{body}</section>'


def _seconds(value: float) -> str:
    minutes, seconds = divmod(round(value), 60)
    return f"{minutes} min {seconds} s" if minutes else f"{value:.1f} s"


def _table(caption: str, head: list[str], rows: list[list[str]]) -> str:
    """A table of already-escaped cells."""
    if not rows:
        return ""
    header = "".join(f"<th scope=\"col\">{h}</th>" for h in head)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    return f"<table><caption>{caption}</caption><thead><tr>{header}</tr></thead><tbody>{body}</tbody></table>"


def _run_metadata(report: Report) -> str:
    meta: ReportMetadata = report.metadata
    gathered = sum(sum(rounds) for rounds in meta.sources_per_round.values())
    missing = len(report.missing_sections)
    facts = [
        ("Created", f'<time datetime="{escape(meta.created_at, quote=True)}">{escape(meta.created_at)}</time>'),
        ("Sections", f"{len(report.sections)}" + (f" ({missing} missing)" if missing else "")),
        ("Sources cited", str(len(report.bibliography))),
        ("Sources found (new per research round, all sections)", str(gathered)),
        ("Time in steps (summed over sections researched in parallel)", escape(_seconds(sum(meta.timings.values())))),
    ]
    if meta.thread_id:
        facts.insert(1, ("Thread", f"<code>{escape(meta.thread_id)}</code>"))
    rows = "".join(f"<tr><th scope=\"row\">{escape(name)}</th><td>{value}</td></tr>" for name, value in facts)
    roles = sorted(set(meta.models) | set(meta.models_used) | set(meta.token_usage))
    models = [[escape(role), escape(", ".join(meta.models.get(role, []))), escape(", ".join(meta.models_used.get(role, []))),
               str(meta.token_usage.get(role, {}).get("input_tokens", "")),
               str(meta.token_usage.get(role, {}).get("output_tokens", ""))] for role in roles]
    steps = [[escape(node), escape(_seconds(seconds))] for node, seconds in meta.timings.items()]
    sections = [[escape(title), str(rounds), escape(", ".join(str(n) for n in meta.sources_per_round.get(title, [])))]
                for title, rounds in meta.iterations.items()]
    parts = [f"<table><caption>Run</caption><tbody>{rows}</tbody></table>",
             _table("Models per role", ["Role", "Configured", "Answered", "Input tokens", "Output tokens"], models),
             _table("Research per section", ["Section", "Rounds", "New sources per round"], sections),
             _table("Time per step", ["Step", "Time"], steps),
             _table("Prompt versions", ["Prompt", "Version"],
                    [[escape(name), f"<code>{escape(v)}</code>"] for name, v in meta.prompt_versions.items()]),
             _table("Cache", ["Counter", "Value"], [[escape(k), str(v)] for k, v in meta.cache.items()])]
    if meta.warnings:
        parts.append("<h3>Warnings</h3><ul>" + "".join(f"<li>{escape(w)}</li>" for w in meta.warnings) + "</ul>")
    if meta.config:
        settings = escape(json.dumps(meta.config, indent=2, sort_keys=True, default=str))
        parts.append(f"<details><summary>Settings of the run</summary><pre>{settings}</pre></details>")
    return f'<section id="run" class="meta"><h2>About this report</h2>{"".join(parts)}</section>'
