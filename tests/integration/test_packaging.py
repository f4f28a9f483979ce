"""The built wheel carries every module and prompt, and each module imports from the wheel (not the checkout)."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

from support.paths import REPO

ROOT = REPO
PACKAGE_DIRS = {"graph": "nexa_research", "nodes": "nexa_research/nodes", "prompts": "nexa_research/prompts",
                "providers": "nexa_research/providers", "server": "nexa_research/server", "evals": "nexa_research/evals"}
EVAL_DATA = {"topics.jsonl"}  # read by `nexa eval` at run time
PACKAGE_DATA = {"nexa_research/kernel/calibration.json"}  # the one calibration file: pipeline and evals read it


def _expected_files() -> set[str]:
    files = set()
    for folder, target in PACKAGE_DIRS.items():
        for path in (ROOT / folder).rglob("*"):
            if path.suffix in (".py", ".md") and path.is_file() and "__pycache__" not in path.parts:
                if path.suffix == ".md" and path.parent != ROOT / folder:
                    continue  # only top-level docs ship (prompts, the evals README)
                files.add(f"{target}/{path.relative_to(ROOT / folder).as_posix()}")
    files |= {f"nexa_research/evals/data/{name}" for name in EVAL_DATA}
    return files | PACKAGE_DATA


def _checkout_copy(dest: Path) -> Path:
    """The tracked files only: a `build/` left by an earlier build would put modules that moved since in the wheel."""
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, check=True, capture_output=True).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file():
            (dest / name).parent.mkdir(parents=True, exist_ok=True)
            (dest / name).write_bytes(source.read_bytes())
    return dest


def test_wheel_contains_and_imports_every_module(tmp_path):
    source = _checkout_copy(tmp_path / "src")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path), str(source)],
        check=True, capture_output=True, text=True,
    )
    wheel = next(tmp_path.glob("nexa_research-*.whl"))
    names = set(zipfile.ZipFile(wheel).namelist())
    missing = _expected_files() - names
    assert not missing, f"not in the wheel: {sorted(missing)}"
    assert any(n.endswith("entry_points.txt") for n in names)
    unpacked = tmp_path / "site"
    zipfile.ZipFile(wheel).extractall(unpacked)
    modules = sorted(n[:-3].replace("/", ".").removesuffix(".__init__") for n in names if n.endswith(".py"))
    script = (
        "import importlib, nexa_research, sys\n"
        f"assert nexa_research.__file__.startswith({str(unpacked)!r}), nexa_research.__file__\n"
        f"for m in {modules!r}: importlib.import_module(m)\n"
        "from nexa_research.prompts import prompt_versions; assert len(prompt_versions()) == 6\n"
        "print(nexa_research.build_graph())\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True,
        env={"PYTHONPATH": str(unpacked), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
    )
    assert result.returncode == 0, result.stderr
    assert "CompiledStateGraph" in result.stdout
