"""Phrase embeddings from the offline all-MiniLM-L6-v2 (`language.encoder`, shared with the reader), cached per phrase."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from workbench_gym.language.encoder import load_minilm


class TextEncoder:
    """Encodes phrases to unit 384-d vectors; each distinct phrase is encoded once."""

    def __init__(self, known: dict[str, np.ndarray] | None = None):
        self._cache: dict[str, np.ndarray] = dict(known or {})
        self._model = None

    def _load(self):
        if self._model is None:
            self._model = load_minilm()
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
