"""The local model file: assembled from chunks once, verified, and every defect reported with the file named."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pytest
from local_llm_fixtures import tiny_gguf_bytes, write_tiny_gguf

from nexa_research.errors import ModelAssetError
from nexa_research.providers import local_model
from nexa_research.providers.gguf_file import GGUFArray
from nexa_research.providers.local_model import (
    DEFAULT_MODEL,
    ModelSpec,
    ensure_default_model,
    ensure_model,
    locate_chunks,
    read_gguf_metadata,
    resolve_model_path,
)
from nexa_research.providers.settings import ProviderSettings


def _settings(tmp_path: Path, model: Path | None = None) -> ProviderSettings:
    return ProviderSettings(NEXA_DATA_DIR=tmp_path / "data", NEXA_LOCAL_MODEL=model)


@pytest.fixture
def chunked(tmp_path: Path) -> tuple[ModelSpec, list[Path], bytes]:
    """A tiny GGUF split into three chunk files, with a spec pinning its size and hash."""
    blob = tiny_gguf_bytes()
    cuts = [0, 1000, 2500, len(blob)]
    chunks = []
    for i in range(3):
        chunk = tmp_path / "chunks" / f"part{i + 1:02d}.bin"
        chunk.parent.mkdir(exist_ok=True)
        chunk.write_bytes(blob[cuts[i] : cuts[i + 1]])
        chunks.append(chunk)
    spec = ModelSpec(
        name="tiny",
        chunk_packages=("tiny-part1", "tiny-part2", "tiny-part3"),
        size=len(blob),
        sha256=hashlib.sha256(blob).hexdigest(),
        general_name="Tiny Test Model",
    )
    return spec, chunks, blob


def test_user_model_path_is_used_and_its_metadata_read(tmp_path: Path) -> None:
    model = write_tiny_gguf(tmp_path / "mine.gguf")
    assert resolve_model_path(_settings(tmp_path, model)) == model
    meta = read_gguf_metadata(model)
    assert meta["general.name"] == "Tiny Test Model"
    assert meta["llama.context_length"] == 2048
    assert meta["tokenizer.ggml.tokens"] == GGUFArray("string", 300)
    assert not (tmp_path / "data").exists(), "a user model must not trigger assembling the default one"


def test_missing_user_model_names_the_path(tmp_path: Path) -> None:
    missing = tmp_path / "nowhere" / "model.gguf"
    with pytest.raises(ModelAssetError, match=rf"NEXA_LOCAL_MODEL={missing}.*does not exist"):
        resolve_model_path(_settings(tmp_path, missing))


def test_non_gguf_user_model_is_rejected(tmp_path: Path) -> None:
    fake = tmp_path / "model.gguf"
    fake.write_bytes(b"PK\x03\x04" + b"\0" * 200)
    with pytest.raises(ModelAssetError, match=rf"{fake}: not a GGUF model file"):
        resolve_model_path(_settings(tmp_path, fake))


def test_tiny_non_gguf_file_is_rejected(tmp_path: Path) -> None:
    fake = tmp_path / "empty.gguf"
    fake.write_bytes(b"")
    with pytest.raises(ModelAssetError, match=rf"{fake}: not a GGUF model file \(0 bytes"):
        read_gguf_metadata(fake)


def test_truncated_tensor_data_is_detected(tmp_path: Path) -> None:
    model = tmp_path / "cut.gguf"
    model.write_bytes(tiny_gguf_bytes()[:-10])
    with pytest.raises(ModelAssetError, match=rf"{model}: truncated model file.*needs 4128 bytes, file has 4118"):
        resolve_model_path(_settings(tmp_path, model))


def test_file_cut_inside_the_header_is_detected(tmp_path: Path) -> None:
    model = tmp_path / "cut.gguf"
    model.write_bytes(tiny_gguf_bytes()[:700])
    with pytest.raises(ModelAssetError, match=rf"{model}: truncated GGUF header"):
        read_gguf_metadata(model)


def test_corrupted_value_type_is_reported(tmp_path: Path) -> None:
    blob = bytearray(tiny_gguf_bytes())
    # first key is "general.architecture": 24-byte preamble, 8-byte length, 20 bytes of key, then its type
    type_at = 24 + 8 + len("general.architecture")
    blob[type_at : type_at + 4] = (99).to_bytes(4, "little")
    model = tmp_path / "bad.gguf"
    model.write_bytes(bytes(blob))
    with pytest.raises(ModelAssetError, match=rf"{model}: metadata key 'general.architecture' has unknown GGUF value type 99"):
        read_gguf_metadata(model)


def test_assembles_once_then_trusts_the_sidecar(chunked, tmp_path: Path, monkeypatch) -> None:
    spec, chunks, blob = chunked
    target = tmp_path / "models" / "tiny.gguf"
    assert ensure_model(spec, target, lambda: chunks) == target
    assert target.read_bytes() == blob
    assert sorted(p.name for p in target.parent.iterdir()) == ["tiny.gguf", "tiny.gguf.verified.json"]

    def no_hashing(path: Path) -> str:
        raise AssertionError(f"re-hashed {path} although it was verified")

    monkeypatch.setattr(local_model, "_hash_file", no_hashing)
    assert ensure_model(spec, target, lambda: pytest.fail("chunks needed for a verified file")) == target


def test_modified_assembled_file_is_rebuilt(chunked, tmp_path: Path) -> None:
    spec, chunks, blob = chunked
    target = tmp_path / "models" / "tiny.gguf"
    ensure_model(spec, target, lambda: chunks)
    target.write_bytes(blob[:2000])  # a truncated copy: new size and mtime invalidate the sidecar
    ensure_model(spec, target, lambda: chunks)
    assert target.read_bytes() == blob


def test_corrupted_chunk_fails_and_leaves_nothing_behind(chunked, tmp_path: Path) -> None:
    spec, chunks, _ = chunked
    data = bytearray(chunks[1].read_bytes())
    data[10] ^= 0xFF
    chunks[1].write_bytes(bytes(data))
    target = tmp_path / "models" / "tiny.gguf"
    with pytest.raises(ModelAssetError, match=rf"assembled tiny.gguf .* expected {spec.size} bytes with sha256 {spec.sha256}"):
        ensure_model(spec, target, lambda: chunks)
    assert list(target.parent.iterdir()) == [], "no partial model or temp file may remain"


def test_missing_chunk_file_is_named(chunked, tmp_path: Path) -> None:
    spec, chunks, _ = chunked
    chunks[2].unlink()
    with pytest.raises(ModelAssetError, match=rf"model chunk {chunks[2]} is missing"):
        ensure_model(spec, tmp_path / "models" / "tiny.gguf", lambda: chunks)


def test_missing_chunk_package_is_named() -> None:
    with pytest.raises(ModelAssetError, match=r"model chunk package 'nexa-no-such-chunk-pkg' is not installed"):
        locate_chunks(["nexa-no-such-chunk-pkg"])


def test_wrong_model_name_is_rejected(chunked, tmp_path: Path) -> None:
    spec, chunks, _ = chunked
    other = ModelSpec(spec.name, spec.chunk_packages, spec.size, spec.sha256, general_name="Something Else")
    target = tmp_path / "models" / "tiny.gguf"
    with pytest.raises(ModelAssetError, match=r"general.name is 'Tiny Test Model', expected 'Something Else'"):
        ensure_model(other, target, lambda: chunks)


def test_default_chunks_are_installed_in_part_order() -> None:
    chunks = locate_chunks(DEFAULT_MODEL.chunk_packages)
    assert [c.name for c in chunks] == [f"part0{i}.bin" for i in range(1, 7)]
    assert sum(c.stat().st_size for c in chunks) == DEFAULT_MODEL.size


@pytest.mark.e2e
def test_real_default_model_verifies_and_has_a_chat_template() -> None:
    path = ensure_default_model(ProviderSettings.load())
    assert path.name == "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"
    assert path.stat().st_size == DEFAULT_MODEL.size
    meta = read_gguf_metadata(path)
    assert meta["general.name"] == "Qwen2.5 Coder 0.5B Instruct AWQ"
    assert "<|im_start|>" in meta["tokenizer.chat_template"]
    assert os.access(path, os.R_OK)
