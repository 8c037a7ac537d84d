"""`workbench-gym record`: oracle demonstrations written as a LeRobot dataset or robomimic HDF5."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from workbench_gym.envs.config import CAMERAS


def add_record_parser(sub) -> None:
    """Register the `record` subcommand."""
    p = sub.add_parser("record", help="record oracle episodes as low-level trajectories (LeRobot or robomimic HDF5)")
    p.add_argument("--task", default="PickTool-v0")
    p.add_argument("--planner", default="oracle", choices=["oracle"])
    p.add_argument("--episodes", type=int, default=10)
    p.add_argument("--seed", type=int, default=0, help="episodes use seeds seed, seed+1, ...")
    p.add_argument("--format", choices=["lerobot", "hdf5"], default="lerobot")
    p.add_argument("--out", required=True, help="a new directory")
    p.add_argument("--n-tools", type=int, default=12)
    p.add_argument("--instruction-split", choices=["train", "test"], default="train")
    p.add_argument("--variant-split", choices=["seen", "unseen"], default="seen")
    p.add_argument("--camera", choices=CAMERAS, help="also record this camera's RGB (an mp4 per episode in LeRobot)")
    p.add_argument("--image-size", type=int, nargs=2, default=(128, 128), metavar=("W", "H"))
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(run=run_record)


def run_record(args: argparse.Namespace) -> int:
    from workbench_gym.cli import task_name
    from workbench_gym.demonstrations import record_episodes, write_episodes

    out = Path(args.out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ValueError(f"--out {out} exists and is not an empty directory; choose a new one (nothing was written)")
    episodes = record_episodes(
        task_name(args.task), args.episodes, args.seed, args.planner, progress=not args.quiet,
        camera=args.camera, image_size=tuple(args.image_size), n_tools=args.n_tools, instruction_split=args.instruction_split, variant_split=args.variant_split,
    )
    path = write_episodes(episodes, args.out, args.format)
    summary = {
        "path": str(path), "format": args.format, "task": episodes[0].task, "episodes": len(episodes),
        "frames": sum(len(e) for e in episodes), "fps": episodes[0].fps, "success_rate": sum(e.success for e in episodes) / len(episodes),
    }
    print(json.dumps(summary, indent=2))
    return 0
