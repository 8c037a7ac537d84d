"""Bench-top patterns of `BenchSpec.texture`: greyscale images in (0, 1] that renderers multiply with the bench colour.

Fixed images (no randomness): which pattern a bench shows is the spec's choice, so every renderer draws the same.
"""

from __future__ import annotations

import numpy as np

from workbench_gym.scenes.spec import BENCH_TEXTURES

PATTERN_SIZE = 64  # pixels a side; the bench stretches one copy over its top


def bench_pattern(name: str, size: int = PATTERN_SIZE) -> np.ndarray:
    """(size, size) float32 shades in [0.55, 1] of a bench texture: wood grain, a checkerboard or speckles."""
    if name not in BENCH_TEXTURES:
        raise ValueError(f"unknown bench texture {name!r}; expected one of {BENCH_TEXTURES}")
    rows, cols = np.mgrid[0:size, 0:size] / size
    if name == "grain":
        shade = 0.8 + 0.12 * np.sin(2 * np.pi * (9 * cols + 0.6 * np.sin(2 * np.pi * 2 * rows))) + 0.06 * np.sin(2 * np.pi * 31 * cols)
    elif name == "checker":
        shade = np.where((np.floor(8 * rows) + np.floor(8 * cols)) % 2 == 0, 1.0, 0.65)
    else:
        shade = np.where(np.random.default_rng(0).random((size, size)) < 0.12, 0.55, 0.95)
    return np.clip(shade, 0.55, 1.0).astype(np.float32)
