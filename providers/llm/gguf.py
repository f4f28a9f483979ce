"""A small, dependency-free reader for GGUF headers: metadata key/values and tensor extents.

Why hand-written: the model files we run come from third-party packages or from the user, and llama.cpp
reports a bad file only as "failed to init server". Reading the header ourselves lets us say which file
is wrong and how (not GGUF, cut short, unknown value type) before anything is started. Only the header is
read (through mmap), so a multi-GB file costs milliseconds; tensor data is never touched, but its declared
extent is checked against the file size, which catches a truncated download.
"""

from __future__ import annotations

import mmap
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nexa_research.errors import ModelAssetError

GGUF_MAGIC = b"GGUF"
DEFAULT_ALIGNMENT = 32
MAX_LISTED_ARRAY = 256  # longer arrays (token tables) are summarised, not materialised

# Scalar GGUF value types -> struct format (little-endian).
_SCALARS: dict[int, str] = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q", 11: "<q", 12: "<d"}
_STRING, _ARRAY = 8, 9
_TYPE_NAMES = {0: "uint8", 1: "int8", 2: "uint16", 3: "int16", 4: "uint32", 5: "int32", 6: "float32", 7: "bool",
               8: "string", 9: "array", 10: "uint64", 11: "int64", 12: "float64"}

# ggml tensor type -> (elements per block, bytes per block); used to compute where tensor data must end.
_GGML_BLOCKS: dict[int, tuple[int, int]] = {
    0: (1, 4), 1: (1, 2), 2: (32, 18), 3: (32, 20), 6: (32, 22), 7: (32, 24), 8: (32, 34), 9: (32, 36),
    10: (256, 84), 11: (256, 110), 12: (256, 144), 13: (256, 176), 14: (256, 210), 15: (256, 292),
    16: (256, 66), 17: (256, 74), 18: (256, 98), 19: (256, 50), 20: (32, 18), 21: (256, 110), 22: (256, 82),
    23: (256, 136), 24: (1, 1), 25: (1, 2), 26: (1, 4), 27: (1, 8), 28: (1, 8), 29: (256, 56), 30: (1, 2),
    34: (256, 54), 35: (256, 66), 39: (32, 17),
}


@dataclass(frozen=True)
class GGUFArray:
    """A long metadata array (e.g. the 150k-entry token table), kept as its type and length only."""

    item_type: str
    length: int


@dataclass
class GGUFHeader:
    """What the header says: version, metadata, tensor count and the byte size the file must have at least."""

    version: int
    metadata: dict[str, Any] = field(default_factory=dict)
    tensor_count: int = 0
    required_size: int | None = None  # None when a tensor type is unknown to this reader


class _Cursor:
    """Bounds-checked little-endian reads over a buffer; running off the end means the file is cut short."""

    def __init__(self, buf: mmap.mmap, path: Path) -> None:
        self.buf, self.pos, self.path = buf, 0, path

    def take(self, n: int, what: str) -> int:
        start = self.pos
        if n < 0 or start + n > len(self.buf):
            raise ModelAssetError(
                f"{self.path}: truncated GGUF header (needs {n} more bytes for {what} at offset {start}, "
                f"file has {len(self.buf)} bytes)"
            )
        self.pos += n
        return start

    def scalar(self, fmt: str, what: str) -> Any:
        start = self.take(struct.calcsize(fmt), what)
        return struct.unpack_from(fmt, self.buf, start)[0]

    def string(self, what: str) -> str:
        n = self.scalar("<Q", what)
        start = self.take(n, what)
        return bytes(self.buf[start : start + n]).decode("utf-8", errors="replace")


def _value(cur: _Cursor, vtype: int, key: str) -> Any:
    if vtype in _SCALARS:
        return cur.scalar(_SCALARS[vtype], key)
    if vtype == _STRING:
        return cur.string(key)
    if vtype == _ARRAY:
        item_type = cur.scalar("<I", key)
        length = cur.scalar("<Q", key)
        if item_type not in _TYPE_NAMES or item_type == _ARRAY:
            raise ModelAssetError(f"{cur.path}: metadata key {key!r} is an array of unsupported type {item_type}")
        if length > MAX_LISTED_ARRAY:
            if item_type in _SCALARS:
                cur.take(struct.calcsize(_SCALARS[item_type]) * length, key)
            else:
                for _ in range(length):
                    cur.take(cur.scalar("<Q", key), key)
            return GGUFArray(_TYPE_NAMES[item_type], length)
        return [_value(cur, item_type, key) for _ in range(length)]
    raise ModelAssetError(f"{cur.path}: metadata key {key!r} has unknown GGUF value type {vtype}")


def _tensor_extent(cur: _Cursor, count: int) -> int | None:
    """Largest offset+size over all tensors, relative to the data section; None if a type is unknown."""
    end: int | None = 0
    for _ in range(count):
        name = cur.string("tensor name")
        n_dims = cur.scalar("<I", f"tensor {name!r} dims")
        if not 1 <= n_dims <= 8:
            raise ModelAssetError(f"{cur.path}: tensor {name!r} declares {n_dims} dimensions; the header is corrupt")
        elements = 1
        for _ in range(n_dims):
            elements *= cur.scalar("<Q", f"tensor {name!r} shape")
        ggml_type = cur.scalar("<I", f"tensor {name!r} type")
        offset = cur.scalar("<Q", f"tensor {name!r} offset")
        block = _GGML_BLOCKS.get(ggml_type)
        if block is None or end is None:
            end = None
            continue
        end = max(end, offset + elements // block[0] * block[1])
    return end


def read_gguf_header(path: Path) -> GGUFHeader:
    """Parse a GGUF file's header. Any defect is a `ModelAssetError` naming the file and the defect."""
    path = Path(path)
    try:
        with path.open("rb") as fh:
            size = path.stat().st_size
            if size < 24:
                raise ModelAssetError(f"{path}: not a GGUF model file ({size} bytes, too short for a GGUF header)")
            with mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as buf:
                return _parse(_Cursor(buf, path), size)
    except OSError as exc:
        raise ModelAssetError(f"{path}: cannot read model file: {exc.strerror or exc}") from exc


def _parse(cur: _Cursor, size: int) -> GGUFHeader:
    magic = bytes(cur.buf[0:4])
    if magic != GGUF_MAGIC:
        raise ModelAssetError(f"{cur.path}: not a GGUF model file (starts with {magic!r}, expected b'GGUF')")
    cur.take(4, "magic")
    version = cur.scalar("<I", "version")
    if version not in (2, 3):
        raise ModelAssetError(f"{cur.path}: unsupported GGUF version {version} (supported: 2, 3)")
    tensor_count = cur.scalar("<Q", "tensor count")
    kv_count = cur.scalar("<Q", "metadata count")
    if kv_count * 12 > size or tensor_count * 24 > size:
        raise ModelAssetError(f"{cur.path}: header declares {kv_count} keys and {tensor_count} tensors; it is corrupt")
    header = GGUFHeader(version=version, tensor_count=tensor_count)
    for _ in range(kv_count):
        key = cur.string("metadata key")
        header.metadata[key] = _value(cur, cur.scalar("<I", f"type of {key!r}"), key)
    extent = _tensor_extent(cur, tensor_count)
    alignment = int(header.metadata.get("general.alignment", DEFAULT_ALIGNMENT)) or DEFAULT_ALIGNMENT
    data_start = -(-cur.pos // alignment) * alignment
    header.required_size = None if extent is None else data_start + extent
    if header.required_size is not None and header.required_size > size:
        raise ModelAssetError(
            f"{cur.path}: truncated model file: tensor data needs {header.required_size} bytes, file has {size}"
        )
    return header
