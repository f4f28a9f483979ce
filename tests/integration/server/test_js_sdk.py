"""@langchain/langgraph-sdk, the JS client web back ends use, unchanged against a real server and worker.

tests/js pins the SDK (package.json and package-lock.json); `npm ci` installs it once into a cache folder named
after the lock file's hash (NEXA_JS_CACHE, default ~/.cache/nexa-research/js), reused by later runs. The script
tests/js/sdk_calls.mjs makes the calls and prints one JSON object of what it saw; the assertions are here.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from support.server_providers import TITLES, TOPIC

pytestmark = pytest.mark.redis
JS = Path(__file__).resolve().parents[2] / "js"


def installed_sdk() -> Path:
    """A folder holding tests/js's pinned packages (installed by `npm ci` on first use) and the script."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("node and npm are not installed: the JS SDK test needs Node.js 20 or newer")
    lock = (JS / "package-lock.json").read_bytes()
    cache = Path(os.environ.get("NEXA_JS_CACHE", Path.home() / ".cache" / "nexa-research" / "js"))
    folder = cache / hashlib.sha256(lock).hexdigest()[:16]
    if not (folder / "node_modules" / "@langchain" / "langgraph-sdk" / "package.json").exists():
        cache.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(dir=cache, prefix="installing-"))
        for name in ("package.json", "package-lock.json"):
            shutil.copy(JS / name, staging / name)
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=staging, check=True,
                       timeout=600)
        try:
            staging.rename(folder)  # atomic: a concurrent run that got there first keeps its folder
        except OSError:
            shutil.rmtree(staging)
    shutil.copy(JS / "sdk_calls.mjs", folder / "sdk_calls.mjs")
    return folder


@pytest.fixture(scope="module")
def js_results(nexa_server, server_env) -> dict:
    folder = installed_sdk()
    env = {**os.environ, "NEXA_URL": nexa_server.url, "NEXA_API_KEY": os.environ["LANGGRAPH_API_KEY"],
           "NEXA_TEST_HOLD_FILE": server_env["NEXA_TEST_HOLD_FILE"], "NEXA_TOPIC": TOPIC}
    done = subprocess.run(["node", "sdk_calls.mjs"], cwd=folder, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def test_assistant_graph_schemas_subgraphs_and_versions(js_results):
    found = js_results["assistants"]
    assert "research_paragraph:reflect" in found["graph_nodes"] and "plan" in found["graph_nodes"]
    assert {"max_sections", "max_iterations", "review_plan"} <= set(found["context_knobs"])
    assert {"topic", "paragraphs", "report"} <= set(found["state_keys"])
    assert found["subgraphs"] == ["research_paragraph"]
    assert found["versions"] == [1]


def test_stream_a_run_then_read_state_history_and_search(js_results):
    run = js_results["run"]
    assert run["first_event"] == "metadata" and {"values", "updates", "custom"} <= set(run["events"])
    assert run["updated_nodes"][:2] == ["cached_report", "plan"] and run["updated_nodes"][-1] == "store_report"
    assert run["progress_titles"] == sorted(TITLES)
    assert run["last_values_sections"] == run["state_sections"] == TITLES
    assert run["state_next"] == [] and run["thread_status"] == "idle"
    assert run["history_length"] >= 4 and run["history_head_is_state"] and run["history_tail_next"] == ["__start__"]
    assert run["search_ids"] == [run["thread_id"]]


def test_cancel_a_running_run(js_results):
    assert js_results["cancel"] == {"before": "running", "after": "interrupted"}


def test_join_a_stream_again_after_leaving_it(js_results):
    rejoined = js_results["reconnect"]
    assert len(rejoined["ids"]) > 5 and len(set(rejoined["ids"])) == len(rejoined["ids"]), "no event twice"
    assert rejoined["last_event"] == "updates" and rejoined["last_nodes"] == ["store_report"]
    assert rejoined["status"] == "success"


def test_store_items_and_namespaces(js_results):
    store = js_results["store"]
    assert store["got"] == {"namespace": ["js", "memories"], "key": "k1", "value": {"text": "hello", "n": 1},
                            "has_dates": True}
    assert store["filtered"] == ["k2"] and store["all"] == ["k1", "k2", "k3"]
    assert store["namespaces"] == [["js", "memories"], ["js", "notes"]]
    assert store["gone"] is None


def test_thread_stream_and_checkpoint_metadata(js_results):
    thread = js_results["thread"]
    assert thread["lifecycle"] == [{"run_id": thread["run_id"], "attempt": 1},
                                   {"status": "run_done", "run_id": thread["run_id"]}]
    assert thread["label"] == "js" and thread["same_checkpoint"]
