"""GET /threads/{id}/report without ?format=: the Accept header a browser, a chat UI or a script sends decides."""

from __future__ import annotations

import pytest

from nexa_research.server.routes.report import negotiated_format

FIREFOX = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (FIREFOX, "html"),
        (None, "json"),
        ("*/*", "json"),
        ("application/json", "json"),
        ("text/markdown", "markdown"),
        ("text/markdown;q=0.5, text/html;q=0.9", "html"),
        ("application/json, text/html", "json"),  # equal weight: the first listed
        ("text/html;q=0, application/json;q=0.1", "json"),  # q=0 means "not this"
        ("TEXT/HTML", "html"),
        ("text/html;q=bad, text/markdown", "markdown"),
        ("image/png", "json"),
    ],
)
def test_the_preferred_format_we_have_else_json(accept, expected):
    assert negotiated_format(accept) == expected
