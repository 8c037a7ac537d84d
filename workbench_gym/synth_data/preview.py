"""A contact sheet of a dataset: images with instance masks overlaid and a few referring expressions."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from workbench_gym.synth_data.reader import open_dataset
from workbench_gym.synth_data.records import ImageRecord

TILE = 256
_TEXT_LINES = 3
_LINE = 14


def _palette(n: int) -> np.ndarray:
    """Distinct, fixed colours for instance ids (golden-ratio hues)."""
    hues = (np.arange(n) * 0.618034) % 1.0
    rgb = np.stack([np.abs(hues * 6 - 3) - 1, 2 - np.abs(hues * 6 - 2), 2 - np.abs(hues * 6 - 4)], -1)
    return (np.clip(rgb, 0, 1) * 255).astype(np.uint8)


def tile(record: ImageRecord, alpha: float = 0.45) -> Image.Image:
    """One image with its masks tinted, the boxes of its first expressions drawn, and those expressions below."""
    rgb = record.rgb.astype(np.float32)
    colours = _palette(max((o.instance_id for o in record.objects), default=0) + 1)
    for o in record.objects:
        m = o.mask
        rgb[m] = (1 - alpha) * rgb[m] + alpha * colours[o.instance_id]
    scale = TILE / record.width
    image = Image.fromarray(rgb.astype(np.uint8)).resize((TILE, round(record.height * scale)), Image.NEAREST)
    sheet = Image.new("RGB", (TILE, image.height + _TEXT_LINES * _LINE + 4), "white")
    sheet.paste(image, (0, 0))
    draw = ImageDraw.Draw(sheet)
    for k, e in enumerate(record.expressions[:: max(1, len(record.expressions) // _TEXT_LINES)][:_TEXT_LINES]):
        x, y, w, h = (v * scale for v in record.object(e.instance_id).bbox)
        colour = tuple(int(c) for c in colours[e.instance_id])
        draw.rectangle([x, y, x + w, y + h], outline=colour, width=2)
        draw.text((3, image.height + 2 + k * _LINE), e.text[:42], fill=colour)
    return sheet


def preview(path: str | Path, out: str | Path, count: int = 8, columns: int = 4, split: str | None = None) -> Path:
    """Write a grid of the first `count` images (of a split, if given) to `out` (PNG)."""
    dataset = open_dataset(path)
    if split:
        dataset = dataset.split(split)
    records = [dataset[i] for i in range(min(count, len(dataset)))]
    if not records:
        raise ValueError(f"{path}: the dataset has no images{f' in split {split!r}' if split else ''}")
    tiles = [tile(r) for r in records]
    rows = -(-len(tiles) // columns)
    th = max(t.height for t in tiles)
    grid = Image.new("RGB", (columns * TILE, rows * th), "white")
    for i, t in enumerate(tiles):
        grid.paste(t, ((i % columns) * TILE, (i // columns) * th))
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    grid.save(out)
    return out
