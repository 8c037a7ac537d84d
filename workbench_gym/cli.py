"""`workbench-gym` command line: info, render, rollout, export-usd, record, generate, dataset, serve, eval."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import gymnasium as gym

from workbench_gym.demonstrations.cli import add_record_parser
from workbench_gym.envs.config import CAMERAS, CONTROL_MODES, OBS_MODES, RENDER_MODES
from workbench_gym.envs.registration import NAMESPACE, env_id, register_envs
from workbench_gym.envs.task import TASKS, get_task
from workbench_gym.evaluate import add_eval_arguments
from workbench_gym.policies.backends.server import add_serve_arguments
from workbench_gym.scenes.catalog import CONTAINERS, TOOLS
from workbench_gym.synth_data.cli import add_parsers as add_synth_parsers


def task_name(text: str) -> str:
    """Accept "PickTool", "PickTool-v0" or "workbench_gym/PickTool-v0"."""
    name = text.removeprefix(f"{NAMESPACE}/").removesuffix("-v0")
    get_task(name)  # clear error for unknown names
    return name


def _info(args) -> int:
    data = {
        "envs": register_envs(),
        "obs_modes": list(OBS_MODES),
        "control_modes": list(CONTROL_MODES),
        "render_modes": list(RENDER_MODES),
        "cameras": list(CAMERAS),
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
    for key in ("obs_modes", "control_modes", "render_modes", "cameras"):
        print(f"{key.replace('_', ' ')}: {', '.join(data[key])}")
    print(f"tool categories ({len(TOOLS)}): {', '.join(TOOLS)}")
    print(f"containers: {', '.join(CONTAINERS)}")
    return 0


def _write_image(path: Path, image) -> None:
    try:
        import imageio.v3 as iio
    except ImportError:
        raise SystemExit("writing images needs imageio: pip install 'workbench-gym[video]'") from None
    path.parent.mkdir(parents=True, exist_ok=True)
    iio.imwrite(path, image)


def _render(args) -> int:
    env = gym.make(env_id(task_name(args.task)), obs_mode="rgb", cameras=(args.camera,), image_size=(args.width, args.height), n_tools=args.n_tools)
    try:
        obs, _ = env.reset(seed=args.seed)
    finally:
        env.close()
    _write_image(Path(args.out), obs["cameras"][args.camera]["rgb"])
    print(f"{args.out}: {args.camera} camera, seed {args.seed}: {obs['instruction']!r}")
    return 0


def _rollout(args) -> int:
    from workbench_gym.rollout import rollout, write_summary

    options = {"n_tools": args.n_tools, "instruction_split": args.instruction_split, "variant_split": args.variant_split}
    if args.render_size:
        options["render_size"] = tuple(args.render_size)
    summary = rollout(
        task_name(args.task), args.planner, args.episodes, args.seed, args.video, progress=not args.quiet,
        video_fps=args.video_fps, planner_options={"backend": args.backend} if args.planner == "vlm" else None, **options,
    )
    if args.summary:
        write_summary(summary, args.summary)
    print(json.dumps({k: v for k, v in summary.to_dict().items() if k != "episodes"}, indent=2))
    return 0


def _export_usd(args) -> int:
    try:
        from workbench_gym.scenes.usd import export_usd
    except ImportError as err:
        raise SystemExit(str(err)) from None
    env = gym.make(env_id(task_name(args.task)), n_tools=args.n_tools)
    try:
        env.reset(seed=args.seed)  # the scene exactly as the env builds it for this seed
        spec = env.unwrapped.world.spec
    finally:
        env.close()
    path = export_usd(spec, args.out)
    cameras = sum(cam.mount == "world" for cam in spec.cameras)  # wrist cameras ride on the robot, not exported
    counts = f"{len(spec.tools)} tools, {len(spec.containers)} containers, {cameras} cameras, {len(spec.lights)} lights"
    print(f"{path}: seed {args.seed}, {counts}")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="workbench-gym", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("info", help="list environments, modes and the tool catalog")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(run=_info)

    p = sub.add_parser("render", help="render the first frame of an episode to a PNG")
    p.add_argument("--task", default="PickTool-v0")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", required=True, help="PNG path")
    p.add_argument("--camera", choices=CAMERAS, default="front")
    p.add_argument("--width", type=int, default=512)
    p.add_argument("--height", type=int, default=384)
    p.add_argument("--n-tools", type=int, default=12)
    p.set_defaults(run=_render)

    p = sub.add_parser("rollout", help="run a planner for episodes, with a video and a JSON summary")
    p.add_argument("--task", default="PickTool-v0")
    p.add_argument("--planner", default="random", choices=["random", "oracle", "vlm"])
    p.add_argument("--backend", default="native", help="the VLM planner's backend: native, hf or openai")
    p.add_argument("--episodes", type=int, default=1)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--video", help="MP4 or GIF path")
    p.add_argument("--summary", help="JSON path")
    p.add_argument("--n-tools", type=int, default=12)
    p.add_argument("--instruction-split", choices=["train", "test"], default="train")
    p.add_argument("--variant-split", choices=["seen", "unseen"], default="seen")
    p.add_argument("--video-fps", type=float, help="frames per simulated second (default: the control rate)")
    p.add_argument("--render-size", type=int, nargs=2, metavar=("W", "H"), help="video frame size")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(run=_rollout)

    p = sub.add_parser("export-usd", help="write an episode's scene as a USD stage for Isaac Sim")
    p.add_argument("--task", default="PickTool-v0")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--n-tools", type=int, default=12)
    p.add_argument("--out", required=True, help=".usda (text) or .usd (binary) path")
    p.set_defaults(run=_export_usd)

    add_record_parser(sub)
    add_synth_parsers(sub)  # generate, dataset preview

    p = sub.add_parser("serve", help="serve a VLM backend over an OpenAI-compatible HTTP API (/v1/chat/completions)")
    add_serve_arguments(p)

    add_eval_arguments(sub.add_parser("eval", help="a planner's success, partial credit, primitives and latency per task and split"))
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except (ValueError, KeyError) as err:
        print(f"workbench-gym {args.command}: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
