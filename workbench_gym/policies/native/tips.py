"""`TipReader`: tells a Phillips screwdriver from a flathead by its tip, which the grounding crop cannot resolve.

The grounding model sees a proposal in a 32x32 crop of its whole box, where a screwdriver's tip (a 12 mm blade or a
cross point) is under one crop pixel. This reader cuts a small crop at the image's own resolution at each end of the
proposal's principal axis, turned to lie along it, and a small CNN says whether that end is a Phillips tip, a
flathead tip or neither (a handle). Its odds between the two kinds, at the end that looks most like a tip, update the
grounding model's (`refine`). Trained by `scripts/train_tips.py` on scenes it renders itself.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import torch
from safetensors.torch import save_file
from torch import nn

from workbench_gym.policies.native.model import read_weights

#: The two kinds told apart, in the classifier's output order after "handle" (class 0).
KINDS = ("phillips_screwdriver", "flathead_screwdriver")
ALONG, ACROSS, END_AT = 20, 12, 14  # crop samples along the axis and across it; the proposal's end sits at column END_AT
CHANNELS = 4  # R, G, B, mask
MIN_PIXELS = 8  # fewer mask pixels have no axis worth the name
MIN_SHARE = 0.2  # a proposal the grounding model gives the two kinds less than this share of is not a screwdriver
#: The weights shipped with the package, made by scripts/train_tips.py.
DEFAULT_TIP_WEIGHTS = Path(__file__).with_name("weights") / "tips.safetensors"


def end_crops(rgb: np.ndarray, mask: np.ndarray, box: tuple[int, int, int, int] | None = None) -> np.ndarray | None:
    """(2, CHANNELS, ACROSS, ALONG) float32 crops at both ends of a mask's principal axis, each turned so the axis runs
    along the crop towards that end (nearest-neighbour samples, one per image pixel); None for a mask too small.
    `box` (x0, y0, x1, y1), where known, bounds the mask: only that window is searched for its pixels."""
    x0, y0, x1, y1 = box or (0, 0, mask.shape[1], mask.shape[0])
    rows, cols = np.nonzero(mask[y0:y1, x0:x1])
    rows, cols = rows + y0, cols + x0
    if len(rows) < MIN_PIXELS:
        return None
    pixels = np.stack([cols, rows], 1).astype(np.float64)
    middle = pixels.mean(0)
    axis = np.linalg.svd(pixels - middle, full_matrices=False)[2][0]
    along = (pixels - middle) @ axis
    out = np.empty((2, CHANNELS, ACROSS, ALONG), np.float32)
    a = np.arange(ALONG) - END_AT
    b = np.arange(ACROSS) - (ACROSS - 1) / 2
    for k, (end, direction) in enumerate(((pixels[along.argmax()], axis), (pixels[along.argmin()], -axis))):
        across = np.array([-direction[1], direction[0]])
        grid = end + a[None, :, None] * direction + b[:, None, None] * across  # (ACROSS, ALONG, 2) column, row
        c = np.clip(np.rint(grid[..., 0]).astype(np.int64), 0, rgb.shape[1] - 1)
        r = np.clip(np.rint(grid[..., 1]).astype(np.int64), 0, rgb.shape[0] - 1)
        out[k, :3] = rgb[r, c].transpose(2, 0, 1) / 255.0
        out[k, 3] = mask[r, c]
    return out


class TipModel(nn.Module):
    """A small CNN over an end crop: logits for handle, Phillips tip, flathead tip."""

    def __init__(self, channels: tuple[int, int, int] = (32, 64, 64)):
        super().__init__()
        c1, c2, c3 = channels
        self.channels = channels
        self.net = nn.Sequential(
            nn.Conv2d(CHANNELS, c1, 3, padding=1), nn.ReLU(), nn.Conv2d(c1, c2, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
            nn.Conv2d(c2, c3, 3, padding=1), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(c3, 1 + len(KINDS)),
        )

    def forward(self, crops: torch.Tensor) -> torch.Tensor:
        return self.net(crops)

    def save(self, path: str | Path, meta: dict | None = None) -> None:
        """Write the weights and their sizes (and `meta`, such as how they were trained) to a safetensors file."""
        Path(path).parent.mkdir(parents=True, exist_ok=True)
        tensors = {k: v.detach().contiguous() for k, v in self.state_dict().items()}
        save_file(tensors, str(path), metadata={"channels": json.dumps(self.channels), **{k: json.dumps(v) for k, v in (meta or {}).items()}})

    @classmethod
    def load(cls, path: str | Path = DEFAULT_TIP_WEIGHTS) -> TipModel:
        """Read weights written by `save` (safetensors only: nothing is unpickled)."""
        meta, tensors = read_weights(path, ("channels",), "tip weights", "a tip model", "scripts/train_tips.py")
        model = cls(tuple(json.loads(meta["channels"])))
        model.load_state_dict(tensors)
        return model.eval()


class TipReader:
    """Refines a frame's category probabilities between Phillips and flathead screwdrivers from their tips."""

    def __init__(self, model: TipModel | None = None):
        self.model = (model or TipModel.load()).eval()

    def kind_share(self, rgb: np.ndarray, masks: list[np.ndarray], boxes: list | None = None) -> np.ndarray:
        """(N,) the tips' odds for Phillips as a share in [0, 1] per mask (0.5: its crops say nothing); `boxes`, where
        known, bound the masks."""
        crops = [end_crops(rgb, m, b) for m, b in zip(masks, boxes or [None] * len(masks))]
        kept = [i for i, c in enumerate(crops) if c is not None]
        share = np.full(len(masks), 0.5)
        if kept:
            share[kept] = self.share(np.stack([crops[i] for i in kept]))
        return share

    def share(self, crops: np.ndarray) -> np.ndarray:
        """(K,) Phillips' share for K proposals' end crops (K, 2, ...): read at the end that looks most like a tip,
        pulled towards 0.5 as far as that end looks like a handle."""
        with torch.no_grad():
            probs = self.model(torch.from_numpy(crops.reshape(-1, *crops.shape[2:]))).softmax(1).numpy().reshape(len(crops), 2, -1)
        tipness = 1.0 - probs[:, :, 0]
        end = tipness.argmax(1)
        chosen = probs[np.arange(len(crops)), end]  # (K, 3) at the more tip-like end
        phillips = chosen[:, 1] / np.maximum(chosen[:, 1] + chosen[:, 2], 1e-6)
        return 0.5 + tipness[np.arange(len(crops)), end] * (phillips - 0.5)

    def refine(self, category_probs: np.ndarray, rgb: np.ndarray, masks: list[np.ndarray], columns: tuple[int, int],
               boxes: list | None = None) -> np.ndarray:
        """Category probabilities (N, C) with each screwdriver-like proposal's two kind columns (`columns`: Phillips,
        flathead) re-split by the grounding model's odds times the tip's; their sum and every other column kept.
        `boxes`, where known, bound the masks."""
        ph, fl = columns
        total = category_probs[:, ph] + category_probs[:, fl]
        which = np.flatnonzero(total >= MIN_SHARE * np.maximum(category_probs.max(1), 1e-6))
        if not len(which):
            return category_probs
        tips = self.kind_share(rgb, [masks[i] for i in which], [boxes[i] for i in which] if boxes else None)
        odds = combine(category_probs[which, ph] / np.maximum(total[which], 1e-6), tips)
        out = category_probs.copy()
        out[which, ph], out[which, fl] = total[which] * odds, total[which] * (1 - odds)
        return out


def combine(model: np.ndarray, tip: np.ndarray) -> np.ndarray:
    """Phillips' share given the grounding model's share and the tip reader's, as independent odds (the reader was
    trained on as many tips of each kind, so its share is a likelihood ratio)."""
    return model * tip / np.maximum(model * tip + (1 - model) * (1 - tip), 1e-6)
