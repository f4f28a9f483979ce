"""The model the embedded default runs: assembled by `nexa setup`, verified and carrying a chat template."""

from __future__ import annotations

import os

import pytest

from nexa_research.providers.llm.model_file import DEFAULT_MODEL, ensure_default_model, read_gguf_metadata
from nexa_research.providers.settings import ProviderSettings


@pytest.mark.e2e
def test_real_default_model_verifies_and_has_a_chat_template() -> None:
    path = ensure_default_model(ProviderSettings.load())
    assert path.name == "qwen2.5-coder-0.5b-instruct-q4_k_m.gguf"
    assert path.stat().st_size == DEFAULT_MODEL.size
    meta = read_gguf_metadata(path)
    assert meta["general.name"] == "Qwen2.5 Coder 0.5B Instruct AWQ"
    assert "<|im_start|>" in meta["tokenizer.chat_template"]
    assert os.access(path, os.R_OK)
