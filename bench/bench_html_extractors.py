"""HTML text extraction compared on real documentation trees (issue 20): what each extractor leaves of navigation,
whether headings stay structure or get glued to the next sentence, how much text it keeps, and its speed.

Extractors: this project's reader (providers/documents/html_reader.py: BeautifulSoup + lxml), the parser it
replaced (a hand-written `HTMLParser` keeping every text node, read from git at commit 6b97396), trafilatura
(`extract`, Markdown output, tables on, favour recall) and html2text (Markdown). trafilatura and html2text are not
dependencies of the project: `pip install trafilatura lxml_html_clean html2text` to include them.

The trees are Debian's HTML manuals (`apt-get download postgresql-doc-15 python3.11-doc`, then `dpkg-deb -x` each):

    .venv/bin/python bench/bench_html_extractors.py --pages 150 \
        /tmp/docs/root/usr/share/doc/postgresql-doc-15/html /tmp/docs/root/usr/share/doc/python3.11/html

Measures, per tree, over a fixed sample of pages (every k-th `.html` file in path order):
- navigation lines: output lines that are page furniture: "Prev", "Next", "Up", "Home", "Previous topic", "Next
  topic", "Table of Contents", "This Page", "Show Source", "Report a Bug", "Quick search", "Navigation" and the like,
  alone or together on one line;
- glued headings: output lines that start with one of the page's own heading texts followed by a capitalised
  word and a sentence ("Vacuuming Basics PostgreSQL's VACUUM command has to ..."): the heading run into its text;
- headings apart: the page's content headings (h1-h6 of two words or more outside navigation and sidebars) found
  as a line of their own or as a section heading;
- words: words of output per page;
- ms per page: wall time of the extraction alone (files read beforehand).
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import time
from collections.abc import Callable
from html.parser import HTMLParser
from pathlib import Path

from bs4 import BeautifulSoup

from nexa_research.providers.documents.html_reader import read_html

FURNITURE = re.compile(
    r"^(?:(?:prev(?:ious)?(?: topic)?|next(?: topic)?|up|home|table of contents|this page|show source|report a bug|"
    r"quick search|navigation|index|modules|search|go|contents)\s*[|»«·]*\s*)+$",
    re.IGNORECASE,
)
OLD_COMMIT = "6b97396"


def old_parser() -> Callable[[str], str]:
    """The previous hand-written parser, loaded from git so the comparison runs the code that shipped."""
    source = subprocess.run(["git", "show", f"{OLD_COMMIT}:providers/kb/ingest.py"], capture_output=True, text=True,
                            check=True, cwd=Path(__file__).resolve().parents[1]).stdout
    start, end = source.index("class _HTMLText(HTMLParser):"), source.index("def _read_text_file")
    namespace: dict = {"HTMLParser": HTMLParser}
    exec(compile("from __future__ import annotations\n" + source[start:end], "old_ingest", "exec"), namespace)  # noqa: S102
    return lambda markup: namespace["html_to_text"](markup)[0]


def ours(markup: str) -> str:
    read = read_html(markup)
    lines = []
    for section in read.sections:
        if section.headings:
            lines.append("# " + section.headings[-1])
        lines.append(section.text)
    return "\n".join(lines)


def extractors() -> dict[str, Callable[[str], str]]:
    found: dict[str, Callable[[str], str]] = {"nexa (bs4 + lxml)": ours, "previous HTMLParser": old_parser()}
    try:
        import trafilatura

        found["trafilatura 2.x"] = lambda m: trafilatura.extract(
            m, output_format="markdown", include_tables=True, favor_recall=True, include_links=False) or ""
    except ImportError:
        print("trafilatura not installed: left out", file=sys.stderr)
    try:
        import html2text

        def h2t(markup: str) -> str:
            converter = html2text.HTML2Text()
            converter.ignore_links = converter.ignore_images = True
            converter.body_width = 0
            return converter.handle(markup)

        found["html2text"] = h2t
    except ImportError:
        print("html2text not installed: left out", file=sys.stderr)
    return found


def _in_furniture(tag) -> bool:
    for parent in tag.parents:
        classes = " ".join(parent.get("class") or []) if hasattr(parent, "get") else ""
        if parent.name in ("nav", "aside", "header", "footer") or "sidebar" in classes or "nav" in classes.split() \
                or (hasattr(parent, "get") and parent.get("role") == "navigation"):
            return True
    return False


def headings(markup: str) -> list[str]:
    """The page's content headings of two words or more (not those of its navigation and sidebars)."""
    soup = BeautifulSoup(markup, "lxml")
    out = []
    for h in soup.find_all(["h1", "h2", "h3", "h4", "h5", "h6"]):
        if _in_furniture(h):
            continue
        text = " ".join(h.get_text().replace("¶", "").split())
        text = re.sub(r"^(?:[0-9A-Z]+(?:\.[0-9]+)*\.?|Chapter \d+\.|Part [IVX]+\.|Appendix [A-Z]\.)\s+", "", text)
        if len(text.split()) >= 2:
            out.append(text)
    return out


def measure(output: str, heads: list[str]) -> tuple[int, int, int, int]:
    lines = [ln.strip().lstrip("#*- ").strip() for ln in output.splitlines() if ln.strip()]
    furniture = sum(1 for ln in lines if FURNITURE.match(ln))
    # a heading run into its paragraph: the heading, a space, then a capitalised word starting a longer sentence
    glued = sum(1 for ln in lines for h in heads
                if ln.startswith(h + " ") and len(ln) > len(h) + 20 and ln[len(h) + 1].isupper())
    apart = sum(1 for h in heads if any(ln.endswith(h) and len(ln) <= len(h) + 12 for ln in lines))
    return furniture, glued, apart, len(output.split())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("trees", nargs="+", type=Path)
    parser.add_argument("--pages", type=int, default=150, help="pages sampled per tree")
    args = parser.parse_args()
    tools = extractors()
    print("| tree | extractor | navigation lines | glued headings | headings apart | words per page | ms per page |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for tree in args.trees:
        files = sorted(p for p in tree.rglob("*.html") if "_sources" not in p.parts)
        sample = files[:: max(1, len(files) // args.pages)][: args.pages]
        pages = [(p, p.read_text(encoding="utf-8", errors="replace")) for p in sample]
        heads = {p: headings(m) for p, m in pages}
        total_heads = sum(len(h) for h in heads.values())
        for name, extract in tools.items():
            furniture = glued = apart = words = 0
            elapsed = 0.0
            for path, markup in pages:
                start = time.perf_counter()
                output = extract(markup)
                elapsed += time.perf_counter() - start
                f, g, a, w = measure(output, heads[path])
                furniture, glued, apart, words = furniture + f, glued + g, apart + a, words + w
            print(f"| {tree.parent.name}/{tree.name} ({len(pages)} pages) | {name} | {furniture} | {glued} | "
                  f"{apart} of {total_heads} | {words / len(pages):.0f} | {1000 * elapsed / len(pages):.1f} |")


if __name__ == "__main__":
    main()
