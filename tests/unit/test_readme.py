"""The README's library example runs as written."""

from __future__ import annotations

import re

from support.paths import REPO


def test_readme_library_example_runs():
    readme = (REPO / "README.md").read_text()
    blocks = re.findall(r"```python\n(.*?)```", readme, re.DOTALL)
    assert blocks, "README has no python example"
    namespace: dict = {}
    exec(compile(blocks[0], "README.md", "exec"), namespace)  # noqa: S102 - the README is ours
    report = namespace["report"]
    assert [s.status for s in report.sections] == ["done", "done", "done"]
    assert report.bibliography and "[1]" in report.sections[0].content


def test_readme_starts_with_the_two_commands():
    readme = (REPO / "README.md").read_text()
    first_block = re.search(r"```bash\n(.*?)```", readme, re.DOTALL).group(1)
    assert first_block.splitlines()[0].startswith('make run TOPIC="')
    assert first_block.splitlines()[1].startswith("make test")
