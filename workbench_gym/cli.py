"""`workbench-gym` command line: info, render, rollout, export-usd, record, generate, dataset, serve, eval."""

from __future__ import annotations

import json
import sys

import gymnasium as gym

from workbench_gym.arguments import Parser, nonnegative_int, positive_int, task_name, writable_file
from workbench_gym.demonstrations.cli import add_record_parser
from workbench_gym.env_options import add_env_arguments, env_options
from workbench_gym.envs.config import CAMERAS, CONTROL_MODES, OBS_MODES, RENDER_MODES
from workbench_gym.envs.task import TASKS
from workbench_gym.evaluate import add_eval_arguments, add_planner_arguments, planner_options
from workbench_gym.extras import require
from workbench_gym.policies import PLANNERS
from workbench_gym.policies.backends import BACKENDS
from workbench_gym.policies.backends.server import add_serve_arguments
from workbench_gym.registration import env_id, register_envs
from workbench_gym.scenes.catalog import CONTAINERS, TOOLS
from workbench_gym.synth_data.cli import add_parsers as add_synth_parsers
from workbench_gym.synth_data.renderer import RENDERERS
from workbench_gym.synth_data.storage import DatasetError


def _info(args) -> int:
    data = {
        "envs": register_envs(),
        "obs_modes": list(OBS_MODES),
        "control_modes": list(CONTROL_MODES),
        "render_modes": list(RENDER_MODES),
        "cameras": list(CAMERAS),
        "planners": PLANNERS.names(),
        "backends": BACKENDS.names(),
        "renderers": RENDERERS.names(),
        "tools": {name: {"sizes": c.sizes, "colours": list(c.colours)} for name, c in TOOLS.items()},
        "containers": list(CONTAINERS),
    }
    if args.json:
        print(json.dumps(data, indent=2))
        return 0
    print("environments:")
    for name in data["envs"]:
        task = TASKS[task_name(name)]
        print(f"  {name}  (max_episode_steps={task.max_episode_steps}, max_primitives={task.max_primitives})")
    for key in ("obs_modes", "control_modes", "render_modes", "cameras", "planners", "backends", "renderers"):
        print(f"{key.replace('_', ' ')}: {', '.join(data[key])}")
    print(f"tool categories ({len(TOOLS)}): {', '.join(TOOLS)}")
    print(f"containers: {', '.join(CONTAINERS)}")
    return 0


def _render(args) -> int:
    require("video", "render")
    import imageio.v3 as iio

    task, out = task_name(args.task), writable_file(args.out, "--out")
    env = gym.make(env_id(task), **{**env_options(args), "obs_mode": "rgb", "cameras": (args.camera,), "image_size": (args.width, args.height)})
    try:
        obs, _ = env.reset(seed=args.seed)
    finally:
        env.close()
    iio.imwrite(out, obs["cameras"][args.camera]["rgb"])
    print(f"{args.out}: {args.camera} camera, seed {args.seed}: {obs['instruction']!r}")
    return 0


def _rollout(args) -> int:
    from workbench_gym.rollout import rollout, write_summary

    task = task_name(args.task)
    options = planner_options(args)  # checks the planner and its backend can be built here, before any episode
    if args.video:
        require("video", "rollout --video")
        writable_file(args.video, "--video")
    if args.summary:
        writable_file(args.summary, "--summary")
    summary = rollout(task, args.planner, args.episodes, args.seed, args.video, progress=not args.quiet, video_fps=args.video_fps,
                      planner_options=options, **env_options(args))
    if args.summary:
        write_summary(summary, args.summary)
    print(json.dumps({k: v for k, v in summary.to_dict().items() if k != "episodes"}, indent=2))
    return 0


def _export_usd(args) -> int:
    require("usd", "export-usd")
    from workbench_gym.scenes.usd import export_usd

    task, out = task_name(args.task), writable_file(args.out, "--out")
    env = gym.make(env_id(task), **env_options(args))
    try:
        env.reset(seed=args.seed)  # the scene exactly as the env builds it for this seed
        spec = env.unwrapped.world.spec
    finally:
        env.close()
    path = export_usd(spec, out)
    cameras = sum(cam.mount == "world" for cam in spec.cameras)  # wrist cameras ride on the robot, not exported
    counts = f"{len(spec.tools)} tools, {len(spec.containers)} containers, {cameras} cameras, {len(spec.lights)} lights"
    print(f"{path}: seed {args.seed}, {counts}")
    return 0


def build_parser() -> Parser:
    parser = Parser(prog="workbench-gym", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("info", help="list environments, modes, planners, backends, renderers and the tool catalog")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(run=_info)

    p = sub.add_parser("render", help="render the first frame of an episode to a PNG")
    p.add_argument("--task", default="PickTool-v0", help=f"one of {', '.join(TASKS)}")
    p.add_argument("--seed", type=nonnegative_int, default=0)
    p.add_argument("--out", required=True, help="PNG path")
    p.add_argument("--camera", choices=CAMERAS, default="front")
    p.add_argument("--width", type=positive_int, default=512)
    p.add_argument("--height", type=positive_int, default=384)
    add_env_arguments(p, skip=("obs_mode", "cameras", "image_size"))
    p.set_defaults(run=_render)

    p = sub.add_parser("rollout", help="run a planner for episodes, with a video and a JSON summary")
    p.add_argument("--task", default="PickTool-v0", help=f"one of {', '.join(TASKS)}")
    add_planner_arguments(p, default="random")
    p.add_argument("--episodes", type=positive_int, default=1)
    p.add_argument("--seed", type=nonnegative_int, default=0, help="episodes use seeds seed, seed+1, ...")
    p.add_argument("--video", help="MP4 or GIF path")
    p.add_argument("--summary", help="JSON path")
    p.add_argument("--video-fps", type=float, help="frames per simulated second (default: the control rate)")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    add_env_arguments(p)
    p.set_defaults(run=_rollout)

    p = sub.add_parser("export-usd", help="write an episode's scene as a USD stage for Isaac Sim")
    p.add_argument("--task", default="PickTool-v0", help=f"one of {', '.join(TASKS)}")
    p.add_argument("--seed", type=nonnegative_int, default=0)
    p.add_argument("--out", required=True, help=".usda (text) or .usd (binary) path")
    add_env_arguments(p)
    p.set_defaults(run=_export_usd)

    add_record_parser(sub)
    add_synth_parsers(sub)  # generate, dataset preview

    p = sub.add_parser("serve", help="serve a VLM backend over an OpenAI-compatible HTTP API (/v1/chat/completions)")
    add_serve_arguments(p)

    add_eval_arguments(sub.add_parser("eval", help="a planner's success, partial credit, primitives and latency per task and split"))
    return parser


#: What a command reports as a one-line error (exit code 2) instead of a traceback: bad input, missing files or
#: extras, full or read-only disks. Anything else is a bug, and keeps its traceback.
USER_ERRORS = (ValueError, KeyError, OSError, ImportError, DatasetError, gym.error.Error)


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except KeyboardInterrupt:
        print(f"workbench-gym {args.command}: interrupted", file=sys.stderr)
        return 130
    except USER_ERRORS as err:
        message = " ".join(str(err).split()) or type(err).__name__
        print(f"workbench-gym {args.command}: error: {message}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
