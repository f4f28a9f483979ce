"""The browser layer: agent-chat-ui built from the npm registry (tests/support/agent_chat_ui.py), served from this
process, and Debian's Chromium driven by Playwright.

Playwright's own browser download cannot work here (only the package registries are reachable), so the browser
is the distribution's `chromium` (.ci/run installs it). Without Chromium or npm a developer's run skips these
tests with the command that installs them; under CI (CI=true) it fails instead, so a missing install step
cannot pass unseen.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import AsyncIterator, Callable, Iterator
from pathlib import Path

import pytest
from playwright.async_api import BrowserContext, async_playwright

from support.agent_chat_ui import build_agent_chat_ui, serve_static
from support.agent_chat_ui_page import CHROMIUM, CHROMIUM_ARGS
from support.server_harness import Cluster


def _require(found: bool, what: str) -> None:
    if found:
        return
    if os.environ.get("CI"):
        pytest.fail(f"{what} (CI must install it: see .ci/run)")
    pytest.skip(what)


@pytest.fixture(scope="session")
def chromium() -> str:
    path = os.environ.get("NEXA_TEST_CHROMIUM", CHROMIUM)
    _require(Path(path).is_file(), f"no Chromium at {path}: apt-get install chromium")
    return path


@pytest.fixture(scope="session")
def agent_chat_ui() -> Iterator[str]:
    """The URL of the built UI; the first session on a machine builds it (minutes), later ones reuse the cache."""
    _require(shutil.which("npm") is not None, "npm is not installed: apt-get install npm")
    with serve_static(build_agent_chat_ui()) as url:
        yield url


@pytest.fixture(scope="module")
async def browser(chromium: str, tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[BrowserContext]:
    """Chromium with a fresh profile of its own, at a desktop size (the UI shows its history panel from 1024 px)."""
    async with async_playwright() as playwright:
        context = await playwright.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")), executable_path=chromium, headless=True,
            args=CHROMIUM_ARGS, viewport={"width": 1280, "height": 900},
        )
        try:
            yield context
        finally:
            await context.close()


@pytest.fixture(scope="module")
def chat_cluster(cluster_factory: Callable[..., Cluster], agent_chat_ui: str) -> Callable[..., Cluster]:
    """An API and a worker that answer CORS for the UI's origin; extra environment for the worker's defaults."""

    def start(**extra_env: str) -> Cluster:
        cluster = cluster_factory(NEXA_SERVER_CORS_ORIGINS=agent_chat_ui, NEXA_MAX_ITERATIONS="1", **extra_env)
        cluster.start_api()
        cluster.start_worker()
        cluster.wait_for_workers(1)
        return cluster

    return start
