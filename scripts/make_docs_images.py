"""Render the README's pictures: a cluttered bench (docs/images/bench_front.png, bench_overhead.png)
and a GIF of the oracle sorting a bench (docs/images/oracle_sort.gif).

    python scripts/make_docs_images.py [--seed 0] [--tools 30]
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path

import imageio.v3 as iio

from workbench_gym.rollout import rollout
from workbench_gym.scenes import sample_clutter
from workbench_gym.sim import World

OUT = Path(__file__).resolve().parent.parent / "docs" / "images"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--tools", type=int, default=30)
    parser.add_argument("--width", type=int, default=640)
    parser.add_argument("--height", type=int, default=480)
    args = parser.parse_args()

    spec = sample_clutter(args.seed, args.tools, density=0.45)
    spec.cameras = [dataclasses.replace(c, width=args.width, height=args.height) for c in spec.cameras]
    world = World()
    try:
        world.build(spec)
        OUT.mkdir(parents=True, exist_ok=True)
        for camera in ("front", "overhead"):
            path = OUT / f"bench_{camera}.png"
            iio.imwrite(path, world.render(camera, depth=False, segmentation=False).rgb)
            print(path)
    finally:
        world.close()
    gif = OUT / "oracle_sort.gif"
    rollout("SortTools", "oracle", episodes=1, seed=2, video=gif, progress=False, video_fps=5, n_tools=4, render_size=(240, 180))
    print(gif)


if __name__ == "__main__":
    main()
