"""`workbench-gym record`: oracle demonstrations written as a LeRobot dataset or robomimic HDF5."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from workbench_gym.arguments import nonnegative_int, positive_int, task_name, writable_file
from workbench_gym.demonstrations.formats import FORMATS, LEROBOT_VERSIONS, check_format
from workbench_gym.demonstrations.record import SCENE_OPTIONS
from workbench_gym.env_options import add_env_arguments, env_options
from workbench_gym.envs.config import CAMERAS


def add_record_parser(sub) -> None:
    """Register the `record` subcommand."""
    p = sub.add_parser("record", help="record oracle episodes as low-level trajectories (LeRobot or robomimic HDF5)")
    p.add_argument("--task", default="PickTool-v0")
    p.add_argument("--planner", default="oracle", choices=["oracle"])
    p.add_argument("--episodes", type=positive_int, default=10)
    p.add_argument("--seed", type=nonnegative_int, default=0, help="episodes use seeds seed, seed+1, ...")
    p.add_argument("--format", choices=list(FORMATS), default="lerobot",
                   help=f"lerobot (LeRobot v{LEROBOT_VERSIONS[0]}; --lerobot-version {LEROBOT_VERSIONS[1]} for older loaders) or hdf5 (robomimic)")
    p.add_argument("--lerobot-version", choices=LEROBOT_VERSIONS, default=LEROBOT_VERSIONS[0], help="LeRobot dataset format version")
    p.add_argument("--out", required=True, help="a new directory")
    p.add_argument("--camera", choices=CAMERAS, help="also record this camera's RGB (an mp4 per episode in LeRobot)")
    p.add_argument("--image-size", type=positive_int, nargs=2, default=(128, 128), metavar=("W", "H"))
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    add_env_arguments(p, only=SCENE_OPTIONS)  # the recorder chooses observation and control modes itself
    p.set_defaults(run=run_record)


def run_record(args: argparse.Namespace) -> int:
    from workbench_gym.demonstrations import record_episodes, write_episodes

    task = task_name(args.task)
    out = Path(args.out)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ValueError(f"--out {out} exists and is not an empty directory; choose a new one (nothing was written)")
    check_format(args.format, camera=args.camera is not None)  # a missing extra shows now, not after recording
    writable_file(out / "meta", "--out")  # makes and checks the directory
    episodes = record_episodes(
        task, args.episodes, args.seed, args.planner, progress=not args.quiet, camera=args.camera, image_size=tuple(args.image_size),
        **env_options(args),
    )
    options = {"version": args.lerobot_version} if args.format == "lerobot" else {}
    path = write_episodes(episodes, out, args.format, **options)
    summary = {
        "path": str(path), "format": args.format, "task": episodes[0].task, "episodes": len(episodes),
        "frames": sum(len(e) for e in episodes), "fps": episodes[0].fps, "success_rate": sum(e.success for e in episodes) / len(episodes),
    }
    print(json.dumps(summary, indent=2))
    return 0
