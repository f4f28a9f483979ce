"""`nexa setup`'s fetch of OpenSSL 1.1 for the bundled Redis Stack, into the data folder, without touching the system.

Only `nexa setup` (and `make setup`) import this module: it is the one place that runs apt-get, because a library
call must never install or download anything (providers/services/openssl.py only looks, and says to run this).
Debian 11's security suite still carries `libssl1.1`, so apt runs with a private sources list, private package lists
and a private cache, downloads the .deb, and `dpkg -x` unpacks it. Nothing is installed: the libraries are only put
on LD_LIBRARY_PATH of the Redis process. The archive host is taken from the machine's own apt sources, so mirrors
and proxies configured there keep working.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

from nexa_research.errors import ServiceStartError
from nexa_research.providers.services.openssl import SONAMES, lib_dir, openssl_target, system_has_libssl11
from nexa_research.providers.settings import ProviderSettings

logger = logging.getLogger(__name__)

SUITE = "bullseye-security"
PACKAGE = "libssl1.1"
APT_RETRIES = 3  # apt's own default, explicit: a flaky mirror deserves retries, a dead one fails in about 7 s
APT_SOURCES = (Path("/etc/apt/sources.list.d"), Path("/etc/apt/sources.list"))
_HINT = "Install libssl1.1 yourself, or set REDIS_URL to a Redis Stack server (RedisJSON + RediSearch) you run."


def fetch_libssl11(settings: ProviderSettings) -> Path | None:
    """Return the folder holding libssl.so.1.1 and libcrypto.so.1.1, fetching them once; None if the system has them.

    Idempotent: a second call finds the unpacked libraries in `<data_dir>/openssl11/` and does no I/O beyond a glob.
    """
    if system_has_libssl11():
        return None
    target = openssl_target(settings)
    found = lib_dir(target)
    if found is not None:
        return found
    if shutil.which("apt-get") is None or shutil.which("dpkg") is None:
        raise ServiceStartError(f"OpenSSL 1.1 is missing and this machine has no apt-get/dpkg to fetch it. {_HINT}")
    uri, signed_by = security_archive()
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="openssl11-", dir=target.parent) as tmp:
        work = Path(tmp)
        deb = _download(work, uri, signed_by)
        unpacked = work / "root"
        _run(["dpkg", "-x", str(deb), str(unpacked)], what=f"unpacking {deb.name}")
        if lib_dir(unpacked) is None:
            raise ServiceStartError(f"{deb.name} did not contain {' and '.join(SONAMES)}. {_HINT}")
        try:
            unpacked.rename(target)
        except OSError:
            if lib_dir(target) is None:  # not a concurrent setup that won the race: a real failure
                raise
    found = lib_dir(target)
    if found is None:
        raise ServiceStartError(f"OpenSSL 1.1 libraries missing under {target} after unpacking. {_HINT}")
    logger.info("OpenSSL 1.1 for Redis Stack unpacked into %s", found)
    return found


def security_archive(sources: tuple[Path, ...] = APT_SOURCES) -> tuple[str, str | None]:
    """(URI, Signed-By keyring or None) of the Debian security archive named in this machine's apt sources."""
    files: list[Path] = []
    for place in sources:
        if place.is_dir():
            files += sorted(place.glob("*.sources")) + sorted(place.glob("*.list"))
        elif place.is_file():
            files.append(place)
    for path in files:
        text = path.read_text(encoding="utf-8", errors="replace")
        entries = _deb822_entries(text) if path.suffix == ".sources" else _one_line_entries(text)
        for uri, suites, signed_by in entries:
            if any(s.endswith("-security") for s in suites):
                return uri.rstrip("/"), signed_by
    searched = ", ".join(str(p) for p in sources)
    raise ServiceStartError(f"no Debian security archive found in the apt sources ({searched}). {_HINT}")


def _deb822_entries(text: str) -> list[tuple[str, list[str], str | None]]:
    entries = []
    for stanza in re.split(r"\n\s*\n", text):
        fields: dict[str, str] = {}
        for line in stanza.splitlines():
            if line.startswith("#") or ":" not in line or line[:1].isspace():
                continue
            key, _, value = line.partition(":")
            fields[key.strip().lower()] = value.strip()
        if "deb" not in fields.get("types", "").split() or fields.get("enabled", "yes").lower() == "no":
            continue
        for uri in fields.get("uris", "").split():
            entries.append((uri, fields.get("suites", "").split(), fields.get("signed-by") or None))
    return entries


def _one_line_entries(text: str) -> list[tuple[str, list[str], str | None]]:
    entries = []
    for line in text.splitlines():
        match = re.match(r"\s*deb\s+(?:\[(?P<opts>[^\]]*)\]\s+)?(?P<uri>\S+)\s+(?P<suite>\S+)", line)
        if match:
            signed = re.search(r"signed-by=(\S+)", match.group("opts") or "")
            entries.append((match.group("uri"), [match.group("suite")], signed.group(1) if signed else None))
    return entries


def _download(work: Path, uri: str, signed_by: str | None) -> Path:
    """apt-get update + download against a private state; the system's lists, cache and sources stay untouched."""
    for sub in ("lists/partial", "cache/archives/partial", "debs"):
        (work / sub).mkdir(parents=True)
    # Only a keyring path can be passed on; a key embedded in the sources file falls back to apt's trusted keys.
    options = f"[signed-by={signed_by}] " if signed_by and signed_by.startswith("/") else ""
    sources = work / "sources.list"
    sources.write_text(f"deb {options}{uri} {SUITE} main\n", encoding="utf-8")
    apt = [
        "apt-get", "-q",
        "-o", f"Dir::Etc::sourcelist={sources}",
        "-o", "Dir::Etc::sourceparts=-",
        "-o", f"Dir::State::Lists={work / 'lists'}",
        "-o", f"Dir::Cache={work / 'cache'}",
        "-o", f"Acquire::Retries={APT_RETRIES}",
    ]  # fmt: skip
    if os.geteuid() == 0:
        apt += ["-o", "APT::Sandbox::User=root"]  # the private folders are not readable by apt's `_apt` user
    _run([*apt, "update"], what=f"apt-get update of {uri} {SUITE}")
    _run([*apt, "download", PACKAGE], what=f"apt-get download {PACKAGE} from {uri} {SUITE}", cwd=work / "debs")
    debs = sorted((work / "debs").glob(f"{PACKAGE}_*.deb"))
    if not debs:
        raise ServiceStartError(f"apt-get download {PACKAGE} left no .deb in {work / 'debs'}. {_HINT}")
    return debs[-1]


def _run(cmd: list[str], *, what: str, cwd: Path | None = None) -> None:
    try:
        done = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=300, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise ServiceStartError(f"{what} failed: {exc}. {_HINT}") from exc
    # apt-get update exits 0 when it cannot fetch an index (it only warns); without the index nothing can follow.
    errors = [line for line in done.stderr.splitlines() if line.startswith(("E:", "W: Failed to fetch"))]
    if done.returncode != 0 or errors:
        detail = "\n".join(errors) or done.stderr.strip()[-800:]
        raise ServiceStartError(f"{what} failed (exit {done.returncode}): {detail}. {_HINT}")
