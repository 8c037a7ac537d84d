"""Draw one settled scene with both renderers, side by side: docs/images/renderers_side_by_side.png.

Rows are the front and overhead cameras; columns PyBullet (TinyRenderer), BlenderProc (Cycles) and
BlenderProc's instance segmentation. Both renderers take the same settled spec. Needs the `blender` extra.

    python scripts/make_renderer_comparison.py [--seed 0] [--tools 24] [--size 360] [--samples 64]
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from workbench_gym.scenes import sample_clutter
from workbench_gym.synth_data.blenderproc_renderer import BlenderProcRenderer
from workbench_gym.synth_data.renderer import PyBulletRenderer, settle_spec

OUT = Path(__file__).resolve().parent.parent / "docs" / "images" / "renderers_side_by_side.png"
LABEL_HEIGHT = 22


def colour_ids(segmentation: np.ndarray) -> np.ndarray:
    """Instance ids as distinct colours (background black), the same colour for the same id in every image."""
    palette = np.random.default_rng(0).integers(40, 256, size=(int(segmentation.max()) + 1, 3), dtype=np.uint8)
    palette[0] = 0
    return palette[segmentation]


def labelled(image: np.ndarray, text: str) -> np.ndarray:
    canvas = Image.new("RGB", (image.shape[1], image.shape[0] + LABEL_HEIGHT), "white")
    canvas.paste(Image.fromarray(image), (0, LABEL_HEIGHT))
    ImageDraw.Draw(canvas).text((6, 5), text, fill="black")
    return np.asarray(canvas)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--tools", type=int, default=24)
    parser.add_argument("--size", type=int, default=360)
    parser.add_argument("--samples", type=int, default=64)
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()

    spec = sample_clutter(args.seed, args.tools)
    spec.cameras = [dataclasses.replace(c, width=args.size, height=args.size) for c in spec.cameras]
    spec = settle_spec(spec)
    pybullet = PyBulletRenderer()
    try:
        reference = pybullet.render(spec)
    finally:
        pybullet.close()
    with BlenderProcRenderer(samples=args.samples) as renderer:
        photoreal = renderer.render(spec)
    rows = [
        np.concatenate([
            labelled(reference[name].rgb, f"PyBullet TinyRenderer - {name}"),
            labelled(photoreal[name].rgb, f"BlenderProc Cycles, {args.samples} samples - {name}"),
            labelled(colour_ids(photoreal[name].segmentation), f"BlenderProc instance ids - {name}"),
        ], axis=1)
        for name in reference
    ]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.concatenate(rows, axis=0)).save(args.out, optimize=True)
    print(args.out)


if __name__ == "__main__":
    main()
