"""What the crop encoder sees of a proposal: a fixed-size RGB + height + mask crop and a few measured numbers.

The crop is the proposal's box made square and padded, sampled at `CROP` x `CROP` pixels (nearest
neighbour: cheap, and it keeps the mask crisp). Geometry is measured in metres from depth, so a far
screwdriver and a near one, or one seen at 256x256 and at 384x384, give the same numbers.
"""

from __future__ import annotations

import numpy as np

from workbench_gym.policies.perception.proposals import Proposal

CROP = 32
CROP_CHANNELS = 5  # R, G, B, height above the bench, mask
GEOMETRY_FEATURES = 9
_HEIGHT_SCALE = 0.05  # metres to a unit-ish channel
_PAD = 0.2  # of the box side, each way: a little context around the object


_STEPS = (np.arange(CROP) + 0.5) / CROP - 0.5  # sample positions across a crop, in crop sides


def crops(rgb: np.ndarray, height: np.ndarray, proposals: list[Proposal]) -> np.ndarray:
    """(N, CROP_CHANNELS, CROP, CROP) float32 crops of proposals. Pixels are gathered by flat index with `np.take`:
    colour and height for all crops at once, each proposal's mask on its own; numpy's 2-D fancy indexing costs ~5x more."""
    if rgb.shape != (*height.shape, 3):
        raise ValueError(f"crops need an (H, W, 3) RGB image and an (H, W) height map; got {rgb.shape} and {height.shape}")
    h, w = height.shape
    boxes = np.array([p.box for p in proposals], np.float64).reshape(-1, 4)
    side = np.maximum(boxes[:, 2] - boxes[:, 0], boxes[:, 3] - boxes[:, 1]) * (1 + 2 * _PAD) + 2
    cols = ((boxes[:, 0] + boxes[:, 2]) / 2)[:, None] + _STEPS * side[:, None]
    rows = ((boxes[:, 1] + boxes[:, 3]) / 2)[:, None] + _STEPS * side[:, None]
    cols = np.minimum(np.maximum(cols.astype(np.int64), 0), w - 1)
    rows = np.minimum(np.maximum(rows.astype(np.int64), 0), h - 1)
    flat = rows[:, :, None] * w + cols[:, None, :]  # (N, CROP, CROP)
    out = np.empty((len(proposals), CROP_CHANNELS, CROP, CROP), np.float32)
    out[:, :3] = np.take(rgb.reshape(-1, 3), flat, axis=0).transpose(0, 3, 1, 2) / 255.0
    out[:, 3] = np.clip(np.take(height, flat), -0.01, 0.15) / _HEIGHT_SCALE
    for i, proposal in enumerate(proposals):
        out[i, 4] = np.take(proposal.mask, flat[i])
    return out


def geometry(proposal: Proposal) -> np.ndarray:
    """Measured length, width, height and area on the bench (log metres, m²), ratios, fill, and whether it was split
    as a container: every number in metres, so none shifts with the image's resolution as a pixel count does."""
    length, width, tall = np.maximum(proposal.extent.astype(np.float64), 1e-3)
    area = max(proposal.area, 1e-6)
    return np.array([
        np.log(length / 0.1), np.log(width / 0.03), np.log(tall / 0.01), np.log(length / width), np.log(width / tall),
        proposal.fill, float(proposal.is_container), np.log(area / 0.002) / 3, length * tall / 0.003,
    ], np.float32)


def features(rgb: np.ndarray, height: np.ndarray, proposals: list[Proposal]) -> tuple[np.ndarray, np.ndarray]:
    """Crops (N, C, CROP, CROP) and geometry (N, GEOMETRY_FEATURES) of all proposals."""
    images = crops(rgb, height, proposals)
    geo = np.stack([geometry(p) for p in proposals]) if proposals else np.zeros((0, GEOMETRY_FEATURES), np.float32)
    return images, geo
