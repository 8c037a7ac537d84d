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


def crop(rgb: np.ndarray, height: np.ndarray, proposal: Proposal) -> np.ndarray:
    """(CROP_CHANNELS, CROP, CROP) float32 crop of one proposal."""
    x0, y0, x1, y1 = proposal.box
    side = max(x1 - x0, y1 - y0) * (1 + 2 * _PAD) + 2
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    steps = (np.arange(CROP) + 0.5) / CROP - 0.5
    h, w = proposal.mask.shape
    cols = np.clip((cx + steps * side).astype(np.int64), 0, w - 1)
    rows = np.clip((cy + steps * side).astype(np.int64), 0, h - 1)
    grid = np.ix_(rows, cols)
    out = np.empty((CROP_CHANNELS, CROP, CROP), np.float32)
    out[:3] = rgb[grid].transpose(2, 0, 1) / 255.0
    out[3] = np.clip(height[grid], -0.01, 0.15) / _HEIGHT_SCALE
    out[4] = proposal.mask[grid]
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
    crops = np.stack([crop(rgb, height, p) for p in proposals]) if proposals else np.zeros((0, CROP_CHANNELS, CROP, CROP), np.float32)
    geo = np.stack([geometry(p) for p in proposals]) if proposals else np.zeros((0, GEOMETRY_FEATURES), np.float32)
    return crops, geo
