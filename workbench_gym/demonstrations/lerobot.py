"""Episodes as a LeRobot dataset: codebase version v3.0 (LeRobot 0.4 and later, the default), or v2.1 on request.

v3.0 (episodes concatenated into few files; meta in parquet):
```
meta/info.json                                fps (int), features (dtype, shape, names), path templates, totals
meta/stats.json                               min/max/mean/std/count of every feature over the dataset
meta/tasks.parquet                            the instructions: index = task text, column task_index
meta/episodes/chunk-000/file-000.parquet      one row per episode: tasks, length, where its frames and video lie
                                              (data/*, dataset_from/to_index, videos/<key>/*), per-episode stats,
                                              and ours: seed, success, final_objects
data/chunk-000/file-000.parquet               one row per frame, all episodes
videos/observation.images.<camera>/chunk-000/file-000.mp4   all episodes' frames, if a camera was recorded (H.264)
```
v2.1: `meta/{tasks,episodes,episodes_stats}.jsonl`, one parquet and one mp4 per episode (LeRobot 0.2-0.3).

`action` is float32, as LeRobot's policies train on it; `replay.action` keeps the exact float64 joint targets
(float32 rounding, 1e-7 rad, can end a tumbling tool centimetres away), which LeRobot's policies ignore (they read
`observation.*` and `action*`). Vectors are fixed-size list columns, as `datasets` writes `Sequence(length=n)`.
The privileged tool states go in `observation.environment_state`, as LeRobot's simulated datasets do. Written
with pyarrow and pandas alone: installing lerobot pulls a torchvision that does not load beside every torch.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from workbench_gym.demonstrations.episode import ACTION_NAMES, Episode
from workbench_gym.sim.robot import PROPRIO_SIZE

VERSIONS = ("v3.0", "v2.1")
CHUNK_SIZE = 1000
DATA_FILE_SIZE_MB, VIDEO_FILE_SIZE_MB = 100, 200  # LeRobot's defaults; our datasets stay within one file
PATHS = {
    "v3.0": ("data/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet",
             "videos/{video_key}/chunk-{chunk_index:03d}/file-{file_index:03d}.mp4"),
    "v2.1": ("data/chunk-{episode_chunk:03d}/episode_{episode_index:06d}.parquet",
             "videos/chunk-{episode_chunk:03d}/{video_key}/episode_{episode_index:06d}.mp4"),
}
EPISODES_PATH = "meta/episodes/chunk-000/file-000.parquet"
REPLAY_ACTION = "replay.action"


def _pyarrow():
    try:
        import pandas as pd
        import pyarrow as pa
        import pyarrow.parquet as pq
    except ImportError:
        raise ImportError("the LeRobot format needs pyarrow and pandas: pip install 'workbench-gym[rl]'") from None
    return pa, pq, pd


def _imageio():
    try:
        import imageio.v3 as iio
    except ImportError:
        raise ImportError("camera videos need imageio and imageio-ffmpeg: pip install 'workbench-gym[video]'") from None
    return iio


def check_writable(camera: bool) -> None:
    """Raise ImportError naming the pip command if this format cannot be written here (with videos if `camera`)."""
    _pyarrow()
    if camera:
        _imageio()


def _columns(episode: Episode, episode_index: int, index_offset: int, task_index: int) -> dict[str, np.ndarray]:
    n = len(episode)
    return {
        "action": episode.actions.astype(np.float32),
        REPLAY_ACTION: episode.actions.astype(np.float64),
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


def _fps(episode: Episode) -> int:
    fps = round(episode.fps)
    if abs(fps - episode.fps) > 1e-9:
        raise ValueError(f"LeRobot stores fps as an integer; this recording runs at {episode.fps} frames per second")
    return fps


def _features(episode: Episode) -> dict:
    n_tools = episode.objects.shape[1]
    tool_names = [f"tool_{i}.{f}" for i in range(n_tools) for f in ("present", "x", "y", "z", "qx", "qy", "qz", "qw")]

    def vector(size, names, dtype="float32"):
        return {"dtype": dtype, "shape": [size], "names": names}

    def scalar(dtype):
        return {"dtype": dtype, "shape": [1], "names": None}

    features = {
        "action": vector(len(ACTION_NAMES), list(ACTION_NAMES)),
        REPLAY_ACTION: vector(len(ACTION_NAMES), list(ACTION_NAMES), "float64"),
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
    if episode.images is not None:
        height, width = episode.images.shape[1:3]
        features[_video_key(episode.camera)] = {
            "dtype": "video", "shape": [height, width, 3], "names": ["height", "width", "channels"],
            "info": {
                "video.fps": _fps(episode), "video.height": height, "video.width": width, "video.channels": 3, "video.codec": "h264",
                "video.pix_fmt": "yuv420p", "video.is_depth_map": False, "has_audio": False,
            },
        }
    return features


def _stats(columns: dict[str, np.ndarray], images: np.ndarray | None, video_key: str | None) -> dict:
    """Per-feature min/max/mean/std/count, as LeRobot computes them (images: per channel, in [0, 1])."""
    out = {}
    for key, values in columns.items():
        v = values.reshape(len(values), -1).astype(np.float64)
        out[key] = {"min": v.min(0).tolist(), "max": v.max(0).tolist(), "mean": v.mean(0).tolist(), "std": v.std(0).tolist(), "count": [len(v)]}
    if images is not None:
        pixels = images.reshape(-1, 3).astype(np.float64) / 255.0
        per_channel = {name: getattr(pixels, name)(0).reshape(3, 1, 1).tolist() for name in ("min", "max", "mean", "std")}
        out[video_key] = {**per_channel, "count": [len(images)]}
    return out


def _aggregate(stats: list[dict]) -> dict:
    """Dataset-wide stats from per-episode ones (pooled means and variances)."""
    out = {}
    for key in stats[0]:
        counts = np.array([s[key]["count"][0] for s in stats], float)
        means = np.array([s[key]["mean"] for s in stats])
        variances = np.array([s[key]["std"] for s in stats]) ** 2
        weights = (counts / counts.sum()).reshape(-1, *[1] * (means.ndim - 1))
        mean = (weights * means).sum(0)
        variance = (weights * (variances + (means - mean) ** 2)).sum(0)
        out[key] = {"min": np.min([s[key]["min"] for s in stats], 0).tolist(), "max": np.max([s[key]["max"] for s in stats], 0).tolist(),
                    "mean": mean.tolist(), "std": np.sqrt(variance).tolist(), "count": [int(counts.sum())]}
    return out


def _table(pa, columns: dict[str, np.ndarray]):
    return pa.table({
        key: pa.FixedSizeListArray.from_arrays(pa.array(v.ravel()), v.shape[1]) if v.ndim == 2 else pa.array(v)
        for key, v in columns.items()
    })


def write_lerobot(episodes: list[Episode], root: str | Path, version: str = VERSIONS[0]) -> Path:
    """Write episodes as a new LeRobot dataset of `version` ("v3.0" or "v2.1") at `root` (which must not hold one)."""
    if version not in VERSIONS:
        raise ValueError(f"unknown LeRobot format version {version!r}; expected one of {VERSIONS}")
    pa, pq, pd = _pyarrow()
    root = Path(root)
    if (root / "meta" / "info.json").exists():
        raise FileExistsError(f"{root} already holds a LeRobot dataset; choose a new --out directory")
    first = episodes[0]
    fps = _fps(first)
    video_key = _video_key(first.camera) if first.images is not None else None
    if video_key:
        iio = _imageio()
    tasks: dict[str, int] = {}
    rows, stats, tables, frames = [], [], [], 0
    for i, episode in enumerate(episodes):
        task_index = tasks.setdefault(episode.instruction, len(tasks))
        columns = _columns(episode, i, frames, task_index)
        stats.append(_stats(columns, episode.images, video_key))
        row = {"episode_index": i, "tasks": [episode.instruction], "length": len(episode)}
        if version == "v2.1":
            path = root / PATHS[version][0].format(episode_chunk=i // CHUNK_SIZE, episode_index=i)
            path.parent.mkdir(parents=True, exist_ok=True)
            pq.write_table(_table(pa, columns), path)
            if video_key:
                video = root / PATHS[version][1].format(episode_chunk=i // CHUNK_SIZE, video_key=video_key, episode_index=i)
                video.parent.mkdir(parents=True, exist_ok=True)
                iio.imwrite(video, episode.images, fps=fps, codec="libx264", macro_block_size=1)
        else:
            tables.append(_table(pa, columns))
            row.update({"data/chunk_index": 0, "data/file_index": 0, "dataset_from_index": frames, "dataset_to_index": frames + len(episode)})
            if video_key:
                row.update({f"videos/{video_key}/chunk_index": 0, f"videos/{video_key}/file_index": 0,
                            f"videos/{video_key}/from_timestamp": frames / fps, f"videos/{video_key}/to_timestamp": (frames + len(episode)) / fps})
            row.update({"meta/episodes/chunk_index": 0, "meta/episodes/file_index": 0})
            row.update({f"stats/{key}/{name}": value for key, s in stats[-1].items() for name, value in s.items()})
        row.update({"seed": episode.seed, "success": episode.success, "final_objects": episode.final_objects.tolist()})
        rows.append(row)
        frames += len(episode)
    data_path, video_path = PATHS[version]
    info = {
        "codebase_version": version,
        "robot_type": "franka_panda",
        "total_episodes": len(episodes),
        "total_frames": frames,
        "total_tasks": len(tasks),
        "chunks_size": CHUNK_SIZE,
        "fps": fps,
        "splits": {"train": f"0:{len(episodes)}"},
        "data_path": data_path,
        "video_path": video_path if video_key else None,
        "features": _features(first),
        # Ours, beyond LeRobot's keys: what rebuilds the env for a replay.
        "workbench_gym": {"task": first.task, "env_options": first.env_options, "action_space": "control_mode='joint_target'"},
    }
    meta = root / "meta"
    meta.mkdir(parents=True, exist_ok=True)
    if version == "v2.1":
        info.update(total_videos=len(episodes) if video_key else 0, total_chunks=(len(episodes) - 1) // CHUNK_SIZE + 1)
        _write_jsonl(meta / "tasks.jsonl", [{"task_index": i, "task": t} for t, i in tasks.items()])
        _write_jsonl(meta / "episodes.jsonl", rows)
        _write_jsonl(meta / "episodes_stats.jsonl", [{"episode_index": i, "stats": s} for i, s in enumerate(stats)])
    else:
        info.update(data_files_size_in_mb=DATA_FILE_SIZE_MB, video_files_size_in_mb=VIDEO_FILE_SIZE_MB)
        path = root / data_path.format(chunk_index=0, file_index=0)
        path.parent.mkdir(parents=True, exist_ok=True)
        pq.write_table(pa.concat_tables(tables), path)
        if video_key:
            video = root / video_path.format(video_key=video_key, chunk_index=0, file_index=0)
            video.parent.mkdir(parents=True, exist_ok=True)
            iio.imwrite(video, np.concatenate([e.images for e in episodes]), fps=fps, codec="libx264", macro_block_size=1)
        (root / EPISODES_PATH).parent.mkdir(parents=True, exist_ok=True)
        pd.DataFrame(rows).to_parquet(root / EPISODES_PATH)
        pd.DataFrame({"task_index": list(tasks.values())}, index=pd.Index(list(tasks), name="task")).to_parquet(meta / "tasks.parquet")
        (meta / "stats.json").write_text(json.dumps(_aggregate(stats), indent=2))
    (meta / "info.json").write_text(json.dumps(info, indent=2))
    return root


def read_lerobot(root: str | Path, indices: list[int] | None = None) -> list[Episode]:
    """Episodes of a dataset `write_lerobot` wrote (all, or those at `indices`), either version."""
    _, pq, pd = _pyarrow()
    root = Path(root)
    info = json.loads((root / "meta" / "info.json").read_text())
    version = info.get("codebase_version")
    if version not in VERSIONS or "workbench_gym" not in info:
        raise ValueError(f"{root} is not a workbench-gym LeRobot dataset of version {' or '.join(VERSIONS)} (info.json: {version!r})")
    if version == "v2.1":
        rows = [json.loads(line) for line in (root / "meta" / "episodes.jsonl").read_text().splitlines()]
    else:
        rows = pd.read_parquet(root / EPISODES_PATH).to_dict("records")
        data = pq.read_table(root / info["data_path"].format(chunk_index=0, file_index=0))
    ours = info["workbench_gym"]
    videos = [key for key, f in info["features"].items() if f["dtype"] == "video"]
    out = []
    for i in range(len(rows)) if indices is None else indices:
        if not 0 <= i < len(rows):
            raise IndexError(f"episode {i} is not in {root}, which holds {len(rows)}")
        row = rows[i]
        images = None
        if version == "v2.1":
            table = pq.read_table(root / info["data_path"].format(episode_chunk=i // info["chunks_size"], episode_index=i))
            if videos:  # decoded from H.264: close to, not equal to, what was recorded
                path = info["video_path"].format(episode_chunk=i // info["chunks_size"], video_key=videos[0], episode_index=i)
                images = _imageio().imread(root / path)
        else:
            table = data.slice(row["dataset_from_index"], row["length"])
            if videos:
                start = round(row[f"videos/{videos[0]}/from_timestamp"] * info["fps"])
                path = info["video_path"].format(video_key=videos[0], chunk_index=0, file_index=0)
                images = _imageio().imread(root / path)[start:start + row["length"]]
        out.append(_episode(table, row, info, ours, images, videos[0].removeprefix("observation.images.") if videos else None))
    return out


def _episode(table, row: dict, info: dict, ours: dict, images, camera: str | None) -> Episode:
    def column(key):
        return np.stack(table.column(key).to_numpy(zero_copy_only=False)) if table.num_rows else np.zeros((0,))

    final_objects = np.array([np.asarray(o, np.float32) for o in row["final_objects"]], np.float32)
    return Episode(
        ours["task"], int(row["seed"]), str(row["tasks"][0]), float(info["fps"]), ours["env_options"],
        column(REPLAY_ACTION), column("observation.state"), column("observation.environment_state").reshape(table.num_rows, len(final_objects), -1),
        column("observation.goal"), table.column("next.reward").to_numpy(), table.column("next.success").to_numpy(zero_copy_only=False),
        final_objects, images=images, camera=camera,
    )


def _write_jsonl(path: Path, rows: list[dict]) -> None:
    path.write_text("".join(json.dumps(row) + "\n" for row in rows))
