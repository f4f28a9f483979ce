"""all-MiniLM-L6-v2 read with transformers alone: its BERT, then the mean of its token vectors.

The packaged model is a sentence-transformers folder (modules.json: Transformer, mean Pooling, Normalize), and the
package's own loader goes through sentence-transformers, whose import alone cost 2.9 s of CPU here (torch and
transformers 1.9 s) on every CLI run and worker start (bench/README.md). The two steps that make its vectors are
small enough to run directly: the folder's config files say which (a folder that asks for other steps is refused
rather than embedded differently), and the vectors equal the sentence-transformers ones (tests/unit/providers/kb).
The unit length is applied by the caller (providers/kb/embeddings.py), as before.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from nexa_research.errors import ModelAssetError

_STEPS = ["sentence_transformers.models.Transformer", "sentence_transformers.models.Pooling",
          "sentence_transformers.models.Normalize"]


class MeanPooledEncoder:
    """Callable like a SentenceTransformer on padded features: `model(features)["sentence_embedding"]`."""

    def __init__(self, folder: Path) -> None:
        from transformers import AutoModel, AutoTokenizer

        steps = [module.get("type") for module in _read(folder / "modules.json")]
        pooling = _read(folder / "1_Pooling" / "config.json")
        other_modes = [k for k, v in pooling.items() if k.startswith("pooling_mode_") and v and k != "pooling_mode_mean_tokens"]
        if steps != _STEPS or not pooling.get("pooling_mode_mean_tokens") or other_modes:
            raise ModelAssetError(f"{folder} is not a mean-pooled sentence model (modules {steps}, pooling {pooling})")
        self.max_seq_length = int(_read(folder / "sentence_bert_config.json")["max_seq_length"])
        self.dim = int(pooling["word_embedding_dimension"])
        self.tokenizer = AutoTokenizer.from_pretrained(str(folder))
        self.bert = AutoModel.from_pretrained(str(folder)).eval()

    def __call__(self, features: dict[str, Any]) -> dict[str, Any]:
        tokens = self.bert(**features).last_hidden_state
        mask = features["attention_mask"].unsqueeze(-1).to(tokens.dtype)
        return {"sentence_embedding": (tokens * mask).sum(dim=1) / mask.sum(dim=1).clamp(min=1e-9)}


def _read(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise ModelAssetError(f"could not read the embedding model's {path.name} at {path}: {exc}") from exc
