"""Episodes in the LeRobot dataset layout, codebase version v2.1 (LeRobot 0.2-0.3, before v3.0's merged files).

```
meta/info.json             fps, features (dtype, shape, names), path templates, totals
meta/tasks.jsonl           {"task_index", "task"}: the instructions
meta/episodes.jsonl        {"episode_index", "tasks", "length"} + our seed, success and end state
meta/episodes_stats.jsonl  per-episode min/max/mean/std/count of each numeric feature
data/chunk-000/episode_000000.parquet   one row per frame
videos/chunk-000/observation.images.<camera>/episode_000000.mp4   if a camera was recorded (H.264)
```
Vectors are fixed-size list columns, as Hugging Face `datasets` writes `Sequence(length=n)`. The
privileged tool states go in `observation.environment_state`, as LeRobot's simulated datasets do.
Written with pyarrow alone: installing lerobot pulls torchvision, which this project avoids.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from workbench_gym.demonstrations.episode import ACTION_NAMES, Episode
from workbench_gym.sim.robot import PROPRIO_SIZE

CODEBASE_VERSION = "v2.1"
CHUNK_SIZE = 1000
DATA_PATH = "data/chunk-{episode_chunk:03d}/episode_{episode_index:06d}.parquet"
VIDEO_PATH = "videos/chunk-{episode_chunk:03d}/{video_key}/episode_{episode_index:06d}.mp4"


def _pyarrow():
    try:
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise ImportError("the LeRobot format needs pyarrow: pip install 'workbench-gym[rl]'") from None
    return pa, pq


def _columns(episode: Episode, episode_index: int, index_offset: int, task_index: int) -> dict[str, np.ndarray]:
    n = len(episode)
    return {
        "action": episode.actions.astype(np.float64),
        "observation.state": episode.proprio.astype(np.float32),
        "observation.environment_state": episode.objects.reshape(n, -1).astype(np.float32),
        "observation.goal": episode.goal.astype(np.float32),
        "timestamp": (np.arange(n) / episode.fps).astype(np.float32),
        "frame_index": np.arange(n, dtype=np.int64),
        "episode_index": np.full(n, episode_index, np.int64),
        "index": np.arange(index_offset, index_offset + n, dtype=np.int64),
        "task_index": np.full(n, task_index, np.int64),
        "next.reward": episode.rewards.astype(np.float32),
        "next.success": episode.successes.astype(bool),
        "next.done": episode.dones.astype(bool),
    }


def _video_key(camera: str) -> str:
    return f"observation.images.{camera}"


def _video_feature(episode: Episode) -> dict:
    height, width = episode.images.shape[1:3]
    return {
        "dtype": "video", "shape": [height, width, 3], "names": ["height", "width", "channels"],
        "info": {
            "video.fps": episode.fps, "video.height": height, "video.width": width, "video.channels": 3, "video.codec": "h264",
            "video.pix_fmt": "yuv420p", "video.is_depth_map": False, "has_audio": False,
        },
    }


def _imageio():
    try:
        import imageio.v3 as iio
    except ImportError:
        raise ImportError("camera videos need imageio and imageio-ffmpeg: pip install 'workbench-gym[video]'") from None
    return iio


def _features(episode: Episode) -> dict:
    n_tools = episode.objects.shape[1]
    tool_names = [f"tool_{i}.{f}" for i in range(n_tools) for f in ("present", "x", "y", "z", "qx", "qy", "qz", "qw")]
    vector = lambda size, names, dtype="float32": {"dtype": dtype, "shape": [size], "names": names}  # noqa: E731
    scalar = lambda dtype: {"dtype": dtype, "shape": [1], "names": None}  # noqa: E731
    return {
        "action": vector(len(ACTION_NAMES), list(ACTION_NAMES), "float64"),
        "observation.state": vector(PROPRIO_SIZE, None),
        "observation.environment_state": vector(len(tool_names), tool_names),
        "observation.goal": vector(episode.goal.shape[1], None),
        "timestamp": scalar("float32"),
        "frame_index": scalar("int64"),
        "episode_index": scalar("int64"),
        "index": scalar("int64"),
        "task_index": scalar("int64"),
        "next.reward": scalar("float32"),
        "next.success": scalar("bool"),
        "next.done": scalar("bool"),
    }


def _stats(columns: dict[str, np.ndarray]) -> dict:
    out = {}
    for key, values in columns.items():
        v = values.reshape(len(values), -1).astype(np.float64)
        out[key] = {"min": v.min(0).tolist(), "max": v.max(0).tolist(), "mean": v.mean(0).tolist(), "std": v.std(0).tolist(), "count": [len(v)]}
    return out


def write_lerobot(episodes: list[Episode], root: str | Path) -> Path:
    """Write episodes as a new LeRobot v2.1 dataset at `root` (which must not hold one already)."""
    pa, pq = _pyarrow()
    root = Path(root)
    if (root / "meta" / "info.json").exists():
        raise FileExistsError(f"{root} already holds a LeRobot dataset; choose a new --out directory")
    first = episodes[0]
    tasks: dict[str, int] = {}
    episode_lines, stats_lines, frames = [], [], 0
    for i, episode in enumerate(episodes):
        task_index = tasks.setdefault(episode.instruction, len(tasks))
        columns = _columns(episode, i, frames, task_index)
        path = root / DATA_PATH.format(episode_chunk=i // CHUNK_SIZE, episode_index=i)
        path.parent.mkdir(parents=True, exist_ok=True)
        arrays = {
            key: pa.FixedSizeListArray.from_arrays(pa.array(v.ravel()), v.shape[1]) if v.ndim == 2 else pa.array(v)
            for key, v in columns.items()
        }
        pq.write_table(pa.table(arrays), path)
        if episode.images is not None:
            video = root / VIDEO_PATH.format(episode_chunk=i // CHUNK_SIZE, video_key=_video_key(episode.camera), episode_index=i)
            video.parent.mkdir(parents=True, exist_ok=True)
            _imageio().imwrite(video, episode.images, fps=episode.fps, codec="libx264", macro_block_size=1)
        frames += len(episode)
        episode_lines.append({
            "episode_index": i, "tasks": [episode.instruction], "length": len(episode),
            "seed": episode.seed, "success": episode.success, "final_objects": episode.final_objects.tolist(),
        })
        stats_lines.append({"episode_index": i, "stats": _stats(columns)})
    info = {
        "codebase_version": CODEBASE_VERSION,
        "robot_type": "franka_panda",
        "total_episodes": len(episodes),
        "total_frames": frames,
        "total_tasks": len(tasks),
        "total_videos": sum(e.images is not None for e in episodes),
        "total_chunks": (len(episodes) - 1) // CHUNK_SIZE + 1,
        "chunks_size": CHUNK_SIZE,
        "fps": first.fps,
        "splits": {"train": f"0:{len(episodes)}"},
        "data_path": DATA_PATH,
        "video_path": VIDEO_PATH,
        "features": {**_features(first), **({_video_key(first.camera): _video_feature(first)} if first.images is not None else {})},
        # Ours, beyond LeRobot's keys: what rebuilds the env for a replay.
        "workbench_gym": {"task": first.task, "env_options": first.env_options, "action_space": "control_mode='joint_target'"},
    }
    meta = root / "meta"
    meta.mkdir(parents=True, exist_ok=True)
    _write_jsonl(meta / "tasks.jsonl", [{"task_index": i, "task": t} for t, i in tasks.items()])
    _write_jsonl(meta / "episodes.jsonl", episode_lines)
    _write_jsonl(meta / "episodes_stats.jsonl", stats_lines)
    (meta / "info.json").write_text(json.dumps(info, indent=2))
    return root


def read_lerobot(root: str | Path, indices: list[int] | None = None) -> list[Episode]:
    """Episodes of a dataset `write_lerobot` wrote (all, or those at `indices`)."""
    _, pq = _pyarrow()
    root = Path(root)
    info = json.loads((root / "meta" / "info.json").read_text())
    if info.get("codebase_version") != CODEBASE_VERSION or "workbench_gym" not in info:
        raise ValueError(f"{root} is not a workbench-gym LeRobot {CODEBASE_VERSION} dataset (info.json: {info.get('codebase_version')!r})")
    lines = [json.loads(line) for line in (root / "meta" / "episodes.jsonl").read_text().splitlines()]
    ours = info["workbench_gym"]
    out = []
    for i in range(len(lines)) if indices is None else indices:
        if not 0 <= i < len(lines):
            raise IndexError(f"episode {i} is not in {root}, which holds {len(lines)}")
        line = lines[i]
        table = pq.read_table(root / info["data_path"].format(episode_chunk=i // info["chunks_size"], episode_index=i))
        col = lambda key: np.stack(table.column(key).to_numpy(zero_copy_only=False)) if table.num_rows else np.zeros((0,))  # noqa: E731
        n_tools = len(line["final_objects"])
        videos = [key.removeprefix("observation.images.") for key, f in info["features"].items() if f["dtype"] == "video"]
        images = None
        if videos:  # decoded from H.264: close to, not equal to, what was recorded
            video = root / info["video_path"].format(episode_chunk=i // info["chunks_size"], video_key=_video_key(videos[0]), episode_index=i)
            images = _imageio().imread(video)
        out.append(Episode(
            ours["task"], line["seed"], line["tasks"][0], info["fps"], ours["env_options"],
            col("action"), col("observation.state"), col("observation.environment_state").reshape(table.num_rows, n_tools, -1),
            col("observation.goal"), table.column("next.reward").to_numpy(), table.column("next.success").to_numpy(zero_copy_only=False),
            np.asarray(line["final_objects"], np.float32), images=images, camera=videos[0] if videos else None,
        ))
    return out


def _write_jsonl(path: Path, rows: list[dict]) -> None:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
