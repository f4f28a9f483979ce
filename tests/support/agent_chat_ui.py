"""agent-chat-ui, built unchanged from the npm registry and served from 127.0.0.1, for the browser tests.

Where the source comes from: agent-chat-ui is a private package on GitHub (never published to npm) and CI reaches
only the package registries, while this repository may not hold third-party code. LangChain's own scaffolder,
`create-agent-chat-app`, is on npm and ships the UI's source as a template folder (`templates/vite`: the same
React app - Stream and Thread providers, thread history, agent inbox for interrupts - as agent-chat-ui at the
time it was published, as a Vite single-page app). So the build packs that pinned tarball (its registry
integrity checked), copies the template folder byte for byte, installs the app's own package.json from npm and
runs the app's own build script. Nothing of the UI is edited; it is configured the way a user does it, through
its setup form (deployment URL, assistant id, API key sent as X-Api-Key).

The app's package.json has caret ranges and no lock file; `npm install --before` resolves them as the registry
stood on one date, so a build today and one next year get the same versions. The result (sources, node_modules,
the production build) is kept in a cache folder outside the repository, keyed on everything that shapes it, so
only the first run pays for the install and the build.
"""

from __future__ import annotations

import fcntl
import functools
import hashlib
import json
import os
import shutil
import subprocess
import tarfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

SCAFFOLDER = "create-agent-chat-app@0.1.6"
SCAFFOLDER_INTEGRITY = (
    "sha512-FmiAY3/1QHsScsfMRAtQBS9ljKvMDlG0yzgYhYiOgacSzO4cF755zJ4i/xCIpyaG/nnuW0HeAIOZgIgSVrfOEQ=="
)
TEMPLATE = "templates/vite"  # the chat UI as a static single-page app: no Node server at test time
RESOLVE_BEFORE = "2026-12-01"  # the app's dependency ranges resolve to what the npm registry held on this day
RECIPE = "1"  # bump when the steps of `build_agent_chat_ui` change, so an old cached build is not reused


class UiBuildError(RuntimeError):
    """A step of the UI build failed; the message names the step and ends with its output."""


def cache_root() -> Path:
    """NEXA_TEST_UI_CACHE, else the user's cache folder: outside the repository and reused between runs."""
    configured = os.environ.get("NEXA_TEST_UI_CACHE")
    if configured:
        return Path(configured)
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    return base / "nexa-research" / "agent-chat-ui"


def build_key() -> str:
    node = _run(["node", "--version"], Path.cwd(), "node --version").strip()
    parts = [SCAFFOLDER, SCAFFOLDER_INTEGRITY, TEMPLATE, RESOLVE_BEFORE, RECIPE, node.split(".")[0]]
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:16]


def build_agent_chat_ui(root: Path | None = None) -> Path:
    """The folder of the production build (index.html and assets), built once per key and then reused.

    A lock file makes a second process wait for the first one's build instead of building beside it.
    """
    root = root or cache_root()
    root.mkdir(parents=True, exist_ok=True)
    key = build_key()
    done = root / key
    with (root / f"{key}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not (done / "dist" / "index.html").is_file():
            work = root / f"{key}.partial"
            shutil.rmtree(work, ignore_errors=True)
            work.mkdir()
            _scaffold(work)
            _install_and_build(work / "web")
            shutil.rmtree(done, ignore_errors=True)
            work.rename(done)
    return done / "dist"


def _scaffold(work: Path) -> None:
    """The scaffolder's tarball from the registry, checked against the pinned integrity; its template copied."""
    packed = json.loads(_run(["npm", "pack", SCAFFOLDER, "--json", "--pack-destination", str(work)], work, "npm pack"))
    if packed[0]["integrity"] != SCAFFOLDER_INTEGRITY:
        raise UiBuildError(f"npm pack: {SCAFFOLDER} has integrity {packed[0]['integrity']}, "
                           f"expected {SCAFFOLDER_INTEGRITY}: the registry serves a different tarball")
    with tarfile.open(work / packed[0]["filename"]) as tar:
        tar.extractall(work / "unpacked", filter="data")
    shutil.copytree(work / "unpacked" / "package" / TEMPLATE, work / "web")


def _install_and_build(web: Path) -> None:
    _run(["npm", "install", f"--before={RESOLVE_BEFORE}", "--no-audit", "--no-fund", "--loglevel=error"],
         web, "npm install")
    # The app's own build steps (tsc -b && vite build); its `build` script only wraps them in turbo for the monorepo.
    _run(["npm", "run", "build:internal"], web, "npm run build:internal")
    if not (web / "dist" / "index.html").is_file():
        raise UiBuildError(f"npm run build:internal: no dist/index.html under {web}")
    (web.parent / "dist").symlink_to(Path("web") / "dist")  # relative: the folder is renamed when complete
    # Only the build is served; npm's own cache keeps the packages for a rebuild, so 400 MB of node_modules go.
    shutil.rmtree(web / "node_modules")


def _run(args: list[str], cwd: Path, step: str) -> str:
    env = {**os.environ, "npm_config_update_notifier": "false", "CI": "true"}
    try:
        done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=1200)
    except FileNotFoundError as exc:
        raise UiBuildError(f"{step}: {args[0]} is not installed (Debian: apt-get install nodejs npm)") from exc
    if done.returncode != 0:
        tail = "\n".join((done.stdout + done.stderr).splitlines()[-40:])
        raise UiBuildError(f"{step} failed with exit code {done.returncode} in {cwd}:\n{tail}")
    return done.stdout


class _QuietFiles(SimpleHTTPRequestHandler):
    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - the base class's name
        return


@contextmanager
def serve_static(folder: Path) -> Iterator[str]:
    """The built app on a free 127.0.0.1 port, from a thread of this process; yields its base URL."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietFiles, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, name="agent-chat-ui", daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)
