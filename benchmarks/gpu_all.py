"""Every GPU and many-core figure in one script, for when a machine with an NVIDIA GPU (and ~16 cores) is lent.

Measures, in a few minutes:
- EGL camera frames/s (front camera, RGB + depth + segmentation, 20 tools) in one process and summed
  over `--processes` processes, at 128x128 and 256x256, beside TinyRenderer in one process;
- state-observation env steps/s (PickTool, 20 tools, random ee_delta actions, resets not counted)
  summed over `--processes` processes;
- BlenderProc (Cycles) seconds per 256x256 image on the GPU, where bpy and a GPU are present;
- end-to-end SB3 PPO env steps/s on PickTool with torch on CUDA and on the CPU, where torch has CUDA.

Anything the machine cannot run is skipped with the reason, so the script runs anywhere (`--quick`
is a smoke run for tests). Writes JSON (`--out`) and a markdown section (`--markdown`) for
docs/benchmarks.md.

    python benchmarks/gpu_all.py --out benchmarks/results/gpu_all.json --markdown benchmarks/results/gpu_all.md
"""

from __future__ import annotations

import argparse
import multiprocessing
import os
import platform
import shutil
import subprocess
import sys
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # the sibling benchmark scripts
from report import emit  # noqa: E402

import workbench_gym  # noqa: E402,F401  (registers the envs)
from workbench_gym.sim import egl  # noqa: E402

OURS = "workbench_gym/PickTool-v0"
#: Issue 15's targets on a GPU machine.
TARGETS = {"egl_fps_128_one_process": 1000, "egl_fps_128_all_processes": 8000, "state_steps_all_processes": 15000}


def gpu_name() -> str | None:
    """The NVIDIA GPU's name and driver, or None without nvidia-smi."""
    if shutil.which("nvidia-smi") is None:
        return None
    done = subprocess.run(["nvidia-smi", "--query-gpu=name,driver_version,memory.total", "--format=csv,noheader"],
                          capture_output=True, text=True, timeout=30, check=False)
    return done.stdout.strip() or None if done.returncode == 0 else None


def egl_unavailable() -> str | None:
    """Why EGL rendering cannot run here, or None if it can."""
    if not egl.gpu_driver_present():
        return f"no GPU driver (none of {', '.join(egl.GPU_DEVICE_PATTERNS)} exists)"
    return egl.probe()


def _camera_env(renderer: str, size: int):
    import gymnasium as gym

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        env = gym.make(OURS, obs_mode="rgbd_seg", n_tools=20, cameras=("front",), image_size=(size, size), renderer=renderer)
    env.reset(seed=0)
    return env


def _frames(env, seconds: float) -> tuple[int, float]:
    world, count = env.unwrapped.world, 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        world.render("front")
        count += 1
    return count, time.perf_counter() - start


def _steps(env, seconds: float) -> tuple[int, float]:
    env.action_space.seed(0)
    env.reset(seed=0)
    count, elapsed = 0, 0.0
    while elapsed < seconds:
        action = env.action_space.sample()
        start = time.perf_counter()
        *_, terminated, truncated, _ = env.step(action)
        elapsed += time.perf_counter() - start
        count += 1
        if terminated or truncated:
            env.reset()
    return count, elapsed


_BARRIER = []  # each worker process's handle on the barrier that starts all measurements together


def _join(barrier) -> None:
    _BARRIER.append(barrier)


def _worker(job: tuple) -> float:
    """One process of a many-process measurement: build its env, wait for the others, measure for `seconds`."""
    kind, size, seconds = job
    import gymnasium as gym

    env = _camera_env("egl", size) if kind == "egl" else gym.make(OURS, obs_mode="state", n_tools=20)
    if kind == "egl" and env.unwrapped.world.renderer != "egl":
        return float("nan")
    try:
        _BARRIER[0].wait()
        count, elapsed = _frames(env, seconds) if kind == "egl" else _steps(env, seconds)
        return count / elapsed
    finally:
        env.close()


def many_processes(kind: str, processes: int, seconds: float, size: int = 128) -> dict:
    """Rates summed over `processes` spawned processes measuring at the same time."""
    ctx = multiprocessing.get_context("spawn")  # EGL contexts do not survive a fork
    with ctx.Pool(processes, initializer=_join, initargs=(ctx.Barrier(processes),)) as pool:
        rates = pool.map(_worker, [(kind, size, seconds)] * processes, chunksize=1)
    return {"processes": processes, "total_per_s": round(sum(rates), 1), "per_process": [round(r, 1) for r in rates]}


def egl_section(args) -> dict:
    reason = egl_unavailable()
    out = {"available": reason is None}
    for size in args.sizes:
        env = _camera_env("tiny", size)
        count, elapsed = _frames(env, args.seconds)
        env.close()
        out[f"tinyrenderer_fps_{size}_one_process"] = round(count / elapsed, 1)
    if reason is not None:
        out["skipped"] = f"EGL not measured: {reason}"
        return out
    for size in args.sizes:
        env = _camera_env("egl", size)
        if env.unwrapped.world.renderer != "egl":
            env.close()
            out["skipped"] = "EGL not measured: the EGL plugin did not load in the env (see its warning)"
            return out
        count, elapsed = _frames(env, args.seconds)
        env.close()
        out[f"egl_fps_{size}_one_process"] = round(count / elapsed, 1)
        out[f"egl_{size}_all_processes"] = many_processes("egl", args.processes, args.seconds, size)
    return out


def blenderproc_section(args) -> dict:
    if gpu_name() is None:
        return {"skipped": "BlenderProc on the GPU not measured: no NVIDIA GPU (nvidia-smi not found or silent)"}
    try:
        from workbench_gym.synth_data.blenderproc_renderer import missing_modules
    except ImportError as err:
        return {"skipped": f"BlenderProc not measured: {err}"}
    missing = missing_modules()
    if missing:
        return {"skipped": f"BlenderProc not measured: missing modules {missing}"}
    from blenderproc_speed import blenderproc_speed

    try:
        result = blenderproc_speed(scenes=args.blenderproc_scenes, device="gpu")
    except Exception as err:  # Cycles found no usable device, the child failed: say why, keep the other figures
        return {"skipped": f"BlenderProc on the GPU failed: {type(err).__name__}: {err}"}
    return {k: result[k] for k in ("seconds_per_image", "images_per_s", "child_start_s", "scenes", "samples", "pybullet_seconds_per_image")}


def ppo_section(args) -> dict:
    try:
        import torch
    except ImportError:
        return {"skipped": "PPO on CUDA not measured: torch is not installed"}
    if not torch.cuda.is_available():
        return {"skipped": f"PPO on CUDA not measured: torch {torch.__version__} sees no CUDA device"}
    from rl_throughput import run

    ppo = argparse.Namespace(timesteps=args.ppo_timesteps, envs=4, n_steps=256, batch_size=64, epochs=10, tools=20)
    out = {device: run("PickTool", ppo, seed=0, device=device) for device in ("cuda", "cpu")}
    out["cuda_over_cpu"] = round(out["cuda"]["env_steps_per_s"] / out["cpu"]["env_steps_per_s"], 2)
    return out


def markdown(result: dict) -> str:
    """A section for docs/benchmarks.md: one row per figure, skipped ones with their reason."""
    m, egl_r, state = result["machine"], result["egl"], result["state_steps"]
    rows = []
    for size in result["settings"]["sizes"]:
        rows.append((f"front rgbd_seg {size}x{size}, TinyRenderer, 1 process", egl_r.get(f"tinyrenderer_fps_{size}_one_process"), "frames/s", ""))
        one = egl_r.get(f"egl_fps_{size}_one_process")
        many = egl_r.get(f"egl_{size}_all_processes", {}).get("total_per_s")
        target_one = f">= {TARGETS['egl_fps_128_one_process']}" if size == 128 else ""
        target_many = f">= {TARGETS['egl_fps_128_all_processes']}" if size == 128 else ""
        rows.append((f"front rgbd_seg {size}x{size}, EGL, 1 process", one, "frames/s", target_one))
        rows.append((f"front rgbd_seg {size}x{size}, EGL, {result['settings']['processes']} processes", many, "frames/s", target_many))
    rows.append((f"PickTool state steps, 20 tools, {state['processes']} processes", state.get("total_per_s"), "steps/s",
                 f">= {TARGETS['state_steps_all_processes']}"))
    bp = result["blenderproc_gpu"]
    rows.append(("BlenderProc (Cycles, GPU) 256x256", bp.get("seconds_per_image"), "s/image", ""))
    ppo = result["ppo_cuda"]
    rows.append(("SB3 PPO on PickTool, torch on CUDA", ppo.get("cuda", {}).get("env_steps_per_s"), "env steps/s", ""))
    rows.append(("SB3 PPO on PickTool, torch on CPU", ppo.get("cpu", {}).get("env_steps_per_s"), "env steps/s", ""))
    lines = [
        "## GPU and many cores", "",
        f"Made by `python benchmarks/gpu_all.py` on {m['cpu_count']} CPUs, GPU: {m['gpu'] or 'none'}"
        + (" (`--quick`: a smoke run, figures not meaningful)" if result["quick"] else "") + ".", "",
        "| measure | value | unit | target |", "| --- | --- | --- | --- |",
    ]
    lines += [f"| {name} | {'—' if v is None else f'{v:g}'} | {unit} | {target or '—'} |" for name, v, unit, target in rows]
    skipped = [s["skipped"] for s in (egl_r, bp, ppo) if "skipped" in s]
    lines += ["", *(f"- {reason}" for reason in skipped), ""]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--processes", type=int, default=16, help="processes of the many-process figures")
    parser.add_argument("--seconds", type=float, default=10.0, help="measuring time of each rate")
    parser.add_argument("--sizes", type=int, nargs="+", default=[128, 256])
    parser.add_argument("--blenderproc-scenes", type=int, default=4)
    parser.add_argument("--ppo-timesteps", type=int, default=8192)
    parser.add_argument("--quick", action="store_true", help="a smoke run: 2 processes, 1 s rates, 128x128, little PPO")
    parser.add_argument("--out", help="write the JSON here too")
    parser.add_argument("--markdown", help="write the markdown section here")
    args = parser.parse_args(argv)
    if args.quick:
        args.processes, args.seconds, args.sizes, args.blenderproc_scenes, args.ppo_timesteps = 2, 1.0, [128], 2, 512
    result = {
        "machine": {"cpu_count": os.cpu_count(), "gpu": gpu_name(), "python": platform.python_version(), "platform": platform.platform(),
                    "load_average_before": os.getloadavg()},
        "quick": args.quick,
        "settings": {k: v for k, v in vars(args).items() if k not in ("out", "markdown")},
        "targets": TARGETS,
    }
    result["egl"] = egl_section(args)
    result["state_steps"] = many_processes("state", args.processes, args.seconds)
    result["blenderproc_gpu"] = blenderproc_section(args)
    result["ppo_cuda"] = ppo_section(args)
    result["machine"]["load_average_after"] = os.getloadavg()
    emit(result, args.out)
    if args.markdown:
        Path(args.markdown).parent.mkdir(parents=True, exist_ok=True)
        Path(args.markdown).write_text(markdown(result))
    return result


if __name__ == "__main__":
    main()
