"""What the planner is shown of the topic survey and what it makes of titles: a page's subsections found by the
survey are listed under their page (and a plan built from the corpus takes them in that order), and a title the
model cut off is the heading it begins."""

from __future__ import annotations

from nexa_research.nodes.checks.page_groups import heading_groups, in_page_order
from nexa_research.nodes.planner import article_list


def _article(title: str, text: str = "Some text about it.") -> dict:
    return {"title": title, "text": text, "url": f"file:///doc/{title}.html", "id": title}


def test_subsections_follow_their_page_in_found_order():
    found = [
        _article("Index Access Method Interface Definition"),
        _article("Index Types › SP-GiST"),
        _article("Indexes › Introduction"),
        _article("Index Types › B-Tree"),
        _article("Examining Index Usage"),
        _article("Index Types"),
        _article("Index Types › GIN"),
    ]
    assert [a["title"] for a in in_page_order(found)] == [
        "Index Access Method Interface Definition",
        "Index Types",  # the page itself heads its subsections, wherever the survey found it
        "Index Types › SP-GiST",
        "Index Types › B-Tree",
        "Index Types › GIN",
        "Indexes › Introduction",  # one subsection of its page: where it was found
        "Examining Index Usage",
    ]
    groups = heading_groups(found)
    assert (None, [found[5]]) in groups and ("Index Types", [found[1], found[3], found[6]]) in groups


def test_encyclopedia_titles_keep_their_order():
    found = [_article("Black Death"), _article("Bubonic plague"), _article("Yersinia pestis")]
    assert in_page_order(found) == found
    assert heading_groups(found) == [(None, [a]) for a in found]


def test_the_planner_sees_a_page_with_its_subsections_under_it():
    found = [
        _article("Index Types", "PostgreSQL provides several index types. Each uses a different algorithm."),
        _article("CREATE INDEX › Notes", "Only some methods support multiple-key-column indexes."),
        _article("Index Types › B-Tree", "B-trees can handle equality and range queries."),
        _article("Index Types › GIN", "GIN indexes are inverted indexes."),
    ]
    assert article_list(found).splitlines() == [
        "- Index Types: PostgreSQL provides several index types.",
        "  - B-Tree: B-trees can handle equality and range queries.",
        "  - GIN: GIN indexes are inverted indexes.",
        "- CREATE INDEX › Notes: Only some methods support multiple-key-column indexes.",
    ]
    without_page = article_list(found[1:]).splitlines()
    assert without_page[1:3] == ["- Index Types:", "  - B-Tree: B-trees can handle equality and range queries."]


def test_a_title_cut_inside_a_word_is_the_heading_it_begins():
    from nexa_research.nodes.planner import completed_title

    found = [
        _article("Continuous Archiving › Making a Base Backup › Backing Up the Data Directory",
                 "Backing up the data directory is done with any tool that copies files."),
        _article("SQL Dump", "The idea behind this dump method is to generate a file with SQL commands."),
    ]
    assert completed_title("Backing Up the D", found) == "Backing Up the Data Directory"
    assert completed_title("SQL Dump", found) == "SQL Dump", "a whole word is not a cut one"
    assert completed_title("Backing Up Tablespaces", found) == "Backing Up Tablespaces"
