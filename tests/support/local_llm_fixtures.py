"""Helpers for the local-model tests: a writer for tiny, well-formed GGUF files.

A real model is 491 MB; the failure paths (bad magic, cut-short data, hash mismatch) are better exercised on
files of a few hundred bytes whose every field we control. Imported directly (no conftest registration needed).
"""

from __future__ import annotations

import struct
from pathlib import Path

CHAT_TEMPLATE = "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}"


def _str(s: str) -> bytes:
    raw = s.encode()
    return struct.pack("<Q", len(raw)) + raw


def _kv(key: str, value: object) -> bytes:
    if isinstance(value, str):
        return _str(key) + struct.pack("<I", 8) + _str(value)
    if isinstance(value, bool):
        return _str(key) + struct.pack("<I", 7) + struct.pack("<?", value)
    if isinstance(value, int):
        return _str(key) + struct.pack("<I", 4) + struct.pack("<I", value)
    if isinstance(value, list):
        return _str(key) + struct.pack("<IIQ", 9, 8, len(value)) + b"".join(_str(str(v)) for v in value)
    raise TypeError(f"unsupported test value {value!r}")


def tiny_gguf_bytes(
    *,
    name: str = "Tiny Test Model",
    chat_template: str | None = CHAT_TEMPLATE,
    tokens: int = 300,
    floats: int = 64,
) -> bytes:
    """A valid GGUF v3: a few metadata keys, a long token array, and one F32 tensor of `floats` values."""
    meta: dict[str, object] = {"general.architecture": "llama", "general.name": name, "llama.context_length": 2048}
    if chat_template is not None:
        meta["tokenizer.chat_template"] = chat_template
    meta["tokenizer.ggml.tokens"] = [f"t{i}" for i in range(tokens)]
    body = b"GGUF" + struct.pack("<IQQ", 3, 1, len(meta)) + b"".join(_kv(k, v) for k, v in meta.items())
    body += _str("weights") + struct.pack("<I", 1) + struct.pack("<Q", floats) + struct.pack("<IQ", 0, 0)
    body += b"\0" * (-len(body) % 32)
    return body + struct.pack(f"<{floats}f", *range(floats))


def write_tiny_gguf(path: Path, **kwargs: object) -> Path:
    path.write_bytes(tiny_gguf_bytes(**kwargs))  # type: ignore[arg-type]
    return path


def wiki_sources(titles: list[str], chars: int = 600) -> str:
    """Numbered `[n] title (url)` blocks of offline Wikipedia extracts, rendered exactly as the nodes render sources."""
    from nexa_research.nodes.text.prompt_inputs import numbered_sources
    from nexa_research.providers.kb.ingest import wikipedia_documents
    from nexa_research.providers.search.protocol import make_source

    by_title = {d["title"]: d for d in wikipedia_documents()}
    sources = [make_source(url=by_title[t]["url"], title=t, text=by_title[t]["text"]) for t in titles]
    return numbered_sources(sources, token_budget=100_000, per_source_chars=chars)[0]
