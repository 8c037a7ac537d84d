"""Every benchmark in one run, each figure beside panda-gym's (or stock PyBullet's) where one exists.

Measures env steps/s per observation and control mode, camera frames/s per image size and
renderer, resets/s, primitive (oracle) episodes/min per task, async vector scaling from 1 to 2
workers, and resident memory per env; writes JSON and a markdown table. Ratios come from the
same run, rounds interleaved so both sides see the same machine load. Needs the `bench` extra
(panda-gym); without it the baseline columns stay empty.

    python benchmarks/run_all.py --out benchmarks/results/all.json --markdown docs/benchmarks.md
    python benchmarks/run_all.py --quick --out /tmp/all.json --markdown /tmp/all.md   # smoke run
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import platform
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import gymnasium as gym
from tqdm import tqdm

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the sibling benchmark scripts
import env_speed  # noqa: E402
import oracle_success  # noqa: E402

import workbench_gym  # noqa: E402,F401  (registers the envs)
from workbench_gym.envs.task import TASKS  # noqa: E402
from workbench_gym.registration import env_id  # noqa: E402
from workbench_gym.sim import egl  # noqa: E402

OURS = env_id("PickTool")
PANDA_GYM = {"ee_delta": "PandaPickAndPlace-v3", "joint": "PandaPickAndPlaceJoints-v3"}
#: Targets from issue 6 (ratios against the baseline unless the unit says otherwise).
TARGETS = {"state_ee_delta_ratio": 2.0, "camera_fps_128": 160.0, "vector_scaling_2_workers": 1.8}


@dataclass(frozen=True)
class Settings:
    """How much of each benchmark to run."""

    steps: int = 1000  # env steps per round
    rounds: int = 3
    frames: int = 200  # camera frames per round
    tools: int = 20
    resets: int = 10
    episodes: int = 20  # oracle episodes per task
    sizes: tuple[int, ...] = (64, 128, 256)
    obs_modes: tuple[str, ...] = ("state", "rgb", "rgbd", "rgbd_seg")
    control_modes: tuple[str, ...] = ("ee_delta", "joint")
    tasks: tuple[str, ...] = tuple(sorted(TASKS))
    vector_steps: int = 1000  # steps of each vector env per measurement
    memory_envs: int = 4


QUICK = Settings(steps=20, rounds=1, frames=3, tools=6, resets=1, episodes=1, sizes=(64,), obs_modes=("state", "rgbd_seg"),
                 control_modes=("ee_delta",), tasks=("PickTool",), vector_steps=10, memory_envs=1)


@dataclass
class Row:
    """One figure of ours beside its baseline."""

    section: str
    measure: str
    ours: float | None
    unit: str
    baseline: str | None = None
    theirs: float | None = None
    target: str | None = None
    note: str | None = None

    @property
    def ratio(self) -> float | None:
        return float(f"{self.ours / self.theirs:.3g}") if self.ours and self.theirs else None


def _median(samples: list[float]) -> float:
    return round(statistics.median(samples), 1)


def panda_gym_installed() -> bool:
    try:
        import panda_gym  # noqa: F401
    except ImportError:
        return False
    return True


def _panda_gym(env_name: str, **kwargs) -> gym.Env | None:
    return gym.make(env_name, **kwargs) if panda_gym_installed() else None


def env_steps(s: Settings) -> list[Row]:
    """Steps/s under random actions per obs and control mode, interleaved with panda-gym's at 25 Hz."""
    rows = []
    for control in s.control_modes:
        for obs_mode in s.obs_modes:
            ours = gym.make(OURS, obs_mode=obs_mode, control_mode=control, n_tools=s.tools, cameras=("front", "wrist"))
            theirs = _panda_gym(PANDA_GYM[control]) if obs_mode == "state" else None
            mine, other = [], []
            for r in range(s.rounds):
                mine.append(env_speed.step_rate(ours, s.steps, seed=r))
                if theirs is not None:
                    other.append(env_speed.step_rate(theirs, s.steps, seed=r))
            cameras = "" if obs_mode == "state" else ", front + wrist 128x128"
            rows.append(Row("env steps", f"PickTool {obs_mode}, {control}, {s.tools} tools{cameras}", _median(mine), "steps/s",
                            f"panda-gym {PANDA_GYM[control]}" if theirs else None, _median(other) if other else None,
                            f">= {TARGETS['state_ee_delta_ratio']}x" if (obs_mode, control) == ("state", "ee_delta") else None))
            for env in (ours, theirs):
                if env is not None:
                    env.close()
    return rows


def _panda_gym_render_fps(size: int, frames: int) -> float | None:
    env = _panda_gym("PandaPickAndPlace-v3", render_mode="rgb_array", render_width=size, render_height=size)
    if env is None:
        return None
    try:
        env.reset(seed=0)
        start = time.perf_counter()
        for _ in range(frames):
            env.render()
        return frames / (time.perf_counter() - start)
    finally:
        env.close()


def render_fps(s: Settings) -> list[Row]:
    """Front-camera RGB + depth + segmentation frames/s per size and renderer, beside panda-gym's RGB render."""
    rows = []
    egl_reason = None if egl.gpu_driver_present() else "no GPU driver on this machine"
    for renderer in ("tiny", "egl"):
        for size in s.sizes:
            if renderer == "egl" and egl_reason is not None:
                rows.append(Row("camera", f"front rgbd_seg {size}x{size}, EGL", None, "frames/s", note=f"not measured: {egl_reason}"))
                continue
            env = gym.make(OURS, obs_mode="rgbd_seg", n_tools=s.tools, cameras=("front",), image_size=(size, size), renderer=renderer)
            env.reset(seed=0)
            if env.unwrapped.world.renderer != renderer:
                egl_reason = "the EGL plugin did not load (see its warning)"
                rows.append(Row("camera", f"front rgbd_seg {size}x{size}, EGL", None, "frames/s", note=f"not measured: {egl_reason}"))
                env.close()
                continue
            mine, other = [], []
            for _ in range(s.rounds):
                mine.append(env_speed.camera_fps(env, s.frames))
                if renderer == "tiny":
                    fps = _panda_gym_render_fps(size, s.frames)
                    if fps is not None:
                        other.append(fps)
            env.close()
            target = None if size != 128 else f">= {TARGETS['camera_fps_128']:g} frames/s" if renderer == "tiny" else ">= 1000 frames/s"
            rows.append(Row("camera", f"front rgbd_seg {size}x{size}, {'TinyRenderer' if renderer == 'tiny' else 'EGL'}, {s.tools} tools",
                            _median(mine), "frames/s", "panda-gym render() RGB, TinyRenderer" if other else None,
                            _median(other) if other else None, target))
    stock = [env_speed.stock_render_fps(s.frames) for _ in range(s.rounds)]
    rows.append(Row("camera", "stock TinyRenderer 128x128: pybullet_data Panda (full meshes) + 30 cubes", _median(stock), "frames/s",
                    note="the issue's reference scene (32 frames/s quoted)"))
    return rows


def resets(s: Settings) -> list[Row]:
    """`reset(seed)` per second over fresh seeds on both reset paths, after untimed resets (a world's first build makes its body pool)."""
    rows = []
    theirs = _panda_gym("PandaPickAndPlace-v3")
    for mode in ("rebuild", "reuse"):
        for tools, target in ((1, ">= 300 resets/s"), (s.tools, ">= 100 resets/s" if s.tools == 20 else None)):
            ours = gym.make(OURS, n_tools=tools, reset_mode=mode)
            env_speed.reset_rate(ours, s.resets * 3, first_seed=5000)
            mine, other = [], []
            for r in range(s.rounds):
                mine.append(env_speed.reset_rate(ours, s.resets, first_seed=r * s.resets))
                if theirs:
                    other.append(env_speed.reset_rate(theirs, s.resets, first_seed=r * s.resets))
            ours.close()
            rows.append(Row("resets", f"PickTool reset, {tools} tool{'s' if tools > 1 else ''}, reset_mode={mode}", _median(mine), "resets/s",
                            "panda-gym PandaPickAndPlace-v3" if other else None, _median(other) if other else None, target))
    if theirs:
        theirs.close()
    return rows


def oracle_episodes(s: Settings) -> list[Row]:
    rows = []
    for task in tqdm(s.tasks, desc="oracle episodes", leave=False):
        result = oracle_success.run_task(task, s.episodes)
        rows.append(Row("primitive episodes", f"{task} oracle, {s.episodes} episodes", result["episodes_per_minute"], "episodes/min",
                        note=f"success {result['success']:.0%}"))
    return rows


def vector_rate(env_name: str, num_envs: int, steps: int, **kwargs) -> float:
    """Env steps/s (all envs together) of an async vector env under random actions, resets excluded.

    Steps are timed in chunks that start from a fresh `reset` and end before the env's time limit,
    as `env_speed.step_rate` times single envs: resets/s is a figure of its own.
    """
    vector_kwargs = {"shared_memory": False} if env_name.startswith("workbench_gym/") else {}
    chunk = max(1, (gym.spec(env_name).max_episode_steps or steps + 1) - 1)
    envs = gym.make_vec(env_name, num_envs=num_envs, vectorization_mode="async", vector_kwargs=vector_kwargs, **kwargs)
    try:
        envs.action_space.seed(0)
        elapsed, done = 0.0, 0
        while done < steps:
            envs.reset(seed=done)
            actions = [envs.action_space.sample() for _ in range(min(chunk, steps - done))]
            start = time.perf_counter()
            for action in actions:
                envs.step(action)
            elapsed += time.perf_counter() - start
            done += len(actions)
        return num_envs * steps / elapsed
    finally:
        envs.close()


def vector_scaling(s: Settings) -> list[Row]:
    """Async vector env steps/s with 1 and 2 workers, and their ratio, beside panda-gym's."""
    sides = {"ours": (OURS, {"n_tools": s.tools})}
    if panda_gym_installed():
        sides["theirs"] = ("PandaPickAndPlace-v3", {})
    figures = {}
    for side, (name, kwargs) in sides.items():
        one, two = [], []
        for _ in range(s.rounds):
            one.append(vector_rate(name, 1, s.vector_steps, **kwargs))
            two.append(vector_rate(name, 2, s.vector_steps, **kwargs))
        figures[side] = (_median(one), _median(two), round(statistics.median(two) / statistics.median(one), 2))
    baseline = "panda-gym PandaPickAndPlace-v3" if "theirs" in figures else None
    theirs = figures.get("theirs", (None, None, None))
    ours = figures["ours"]
    return [
        Row("vector", f"async, 1 worker, state obs, {s.tools} tools", ours[0], "steps/s", baseline, theirs[0]),
        Row("vector", f"async, 2 workers, state obs, {s.tools} tools", ours[1], "steps/s", baseline, theirs[1]),
        Row("vector", "scaling, 2 workers over 1", ours[2], "x", baseline, theirs[2], f">= {TARGETS['vector_scaling_2_workers']}x",
            f"{os.cpu_count()} CPUs"),
    ]


def rss_mb() -> float:
    """Resident memory of this process in MiB (Linux)."""
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def memory_per_env(make, n: int) -> float:
    """RSS growth per extra env (after one was made, so imports and caches are not counted).

    Every env resets to the same seed: a new scene could fill per-process caches (a variant's first
    resting pose is found in a short-lived client) and count them against an env.
    """
    envs = [make()]
    envs[0].reset(seed=0)
    before = rss_mb()
    for _ in range(n):
        envs.append(make())
        envs[-1].reset(seed=0)
    after = rss_mb()
    for env in envs:
        env.close()
    return (after - before) / n


def memory(s: Settings) -> list[Row]:
    ours = memory_per_env(lambda: gym.make(OURS, n_tools=s.tools), s.memory_envs)
    theirs = memory_per_env(lambda: gym.make("PandaPickAndPlace-v3"), s.memory_envs) if panda_gym_installed() else None
    return [Row("memory", f"RSS per PickTool env, state obs, {s.tools} tools", round(ours, 1), "MiB",
                "panda-gym PandaPickAndPlace-v3" if theirs is not None else None, None if theirs is None else round(theirs, 1))]


SECTIONS = {"env_steps": env_steps, "render_fps": render_fps, "resets": resets, "oracle_episodes": oracle_episodes,
            "vector_scaling": vector_scaling, "memory": memory}


def markdown(rows: list[Row], settings: Settings, quick: bool, note: str | None = None) -> str:
    """The results as a markdown document: one table, one row per figure."""
    lines = [
        "# Benchmarks", "",
        "Made by `python benchmarks/run_all.py --out benchmarks/results/all.json --markdown docs/benchmarks.md`"
        + (" (`--quick`: a smoke run, figures not meaningful)" if quick else "") + ".",
        *([note] if note else []),
        f"Machine: {os.cpu_count()} CPUs, Python {platform.python_version()}. Baselines ran in the same process, rounds interleaved.",
        "Where the time goes, and what made it faster: [speed.md](speed.md).",
        "", "| section | measure | workbench-gym | baseline | baseline figure | ratio | target | note |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for r in rows:
        def cell(v):
            return "—" if v is None else f"{v:g}"
        lines.append(f"| {r.section} | {r.measure} | {cell(r.ours)} {r.unit if r.ours is not None else ''} | {r.baseline or '—'} | "
                     f"{cell(r.theirs)} | {cell(r.ratio) + '×' if r.ratio else '—'} | {r.target or '—'} | {r.note or ''} |")
    lines += ["", f"Settings: `{json.dumps(dataclasses.asdict(settings))}`", "", gpu_section()]
    return "\n".join(lines)


def gpu_section() -> str:
    """The GPU figures `benchmarks/gpu_all.py` wrote last (results/gpu_all.md), or why there are none."""
    made = Path(__file__).parent / "results" / "gpu_all.md"
    if made.exists():
        return made.read_text()
    return ("## GPU and many cores\n\n**Not measured**: no machine with a GPU has been lent to this work. On one (an NVIDIA GPU, ~16 cores), "
            "`python benchmarks/gpu_all.py --out benchmarks/results/gpu_all.json --markdown benchmarks/results/gpu_all.md` measures EGL "
            "frames/s in one and in 16 processes (targets >= 1000 and >= 8000 at 128x128), state steps/s over 16 processes with 20 tools "
            "each (target >= 15000), BlenderProc on the GPU and PPO on CUDA in a few minutes; the next run of this script puts them here.\n")


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="a few steps of each benchmark (a smoke run for tests)")
    parser.add_argument("--only", nargs="*", choices=sorted(SECTIONS), help="run only these sections")
    parser.add_argument("--rounds", type=int, help="interleaved rounds per figure (default: 3, or 1 with --quick)")
    parser.add_argument("--episodes", type=int, help="oracle episodes per task (default: 20, or 1 with --quick)")
    parser.add_argument("--note", help="a sentence for the markdown (how loaded the machine was, say)")
    parser.add_argument("--out", help="write the JSON here")
    parser.add_argument("--markdown", help="write the markdown table here")
    args = parser.parse_args(argv)
    settings = QUICK if args.quick else Settings()
    overrides = {name: getattr(args, name) for name in ("rounds", "episodes") if getattr(args, name) is not None}
    for name, value in overrides.items():
        if value < 1:
            parser.error(f"--{name} must be at least 1, got {value}")
    settings = dataclasses.replace(settings, **overrides)
    rows: list[Row] = []
    for name in tqdm(args.only or list(SECTIONS), desc="benchmarks"):
        rows += SECTIONS[name](settings)
    result = {
        "machine": {"cpu_count": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
        "quick": args.quick,
        "note": args.note,
        "settings": dataclasses.asdict(settings),
        "rows": [{**dataclasses.asdict(r), "ratio": r.ratio} for r in rows],
    }
    text = json.dumps(result, indent=2)
    for path, content in ((args.out, text + "\n"), (args.markdown, markdown(rows, settings, args.quick, args.note))):
        if path:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            Path(path).write_text(content)
    if not args.out:
        print(text)
    return result


if __name__ == "__main__":
    main()
