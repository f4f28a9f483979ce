"""notebooks/quickstart.ipynb runs top to bottom (top-level await as in Jupyter)."""

from __future__ import annotations

import ast
import json

from support.paths import REPO

NOTEBOOK = REPO / "notebooks" / "quickstart.ipynb"


async def test_quickstart_notebook_runs():
    cells = json.loads(NOTEBOOK.read_text())["cells"]
    namespace: dict = {}
    for cell in cells:
        if cell["cell_type"] != "code":
            continue
        source = "".join(cell["source"])
        code = compile(source, str(NOTEBOOK), "exec", flags=ast.PyCF_ALLOW_TOP_LEVEL_AWAIT)
        result = eval(code, namespace)  # noqa: S307 - our own notebook
        if result is not None:
            await result
    assert namespace["report"].sections[0].status == "done"
