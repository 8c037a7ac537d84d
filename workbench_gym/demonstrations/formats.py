"""Write and read episodes by format name: "lerobot" (a directory, LeRobot v3.0 or v2.1) or "hdf5" (robomimic)."""

from __future__ import annotations

import json
from pathlib import Path

from workbench_gym.demonstrations import hdf5, lerobot
from workbench_gym.demonstrations.episode import Episode

FORMATS = {"lerobot": (lerobot.write_lerobot, lerobot.read_lerobot), "hdf5": (hdf5.write_hdf5, hdf5.read_hdf5)}
LEROBOT_VERSIONS = lerobot.VERSIONS


def check_format(format: str, camera: bool = False) -> None:
    """Fail before recording if `format` cannot be written here: ValueError for unknown names, ImportError naming
    the pip command for a missing extra (with `camera`, also what writes its images)."""
    if format not in FORMATS:
        raise ValueError(f"unknown format {format!r}; expected one of {sorted(FORMATS)}")
    (lerobot if format == "lerobot" else hdf5).check_writable(camera)


def write_episodes(episodes: list[Episode], out: str | Path, format: str, **options) -> Path:
    """Write episodes under directory `out` in `format` (options: LeRobot's `version`); returns the dataset's path."""
    check_format(format)
    if not episodes:
        raise ValueError("no episodes to write")
    kinds = {
        (e.task, e.fps, json.dumps(e.env_options, sort_keys=True), e.camera, e.objects.shape[1:], e.goal.shape[1:], None if e.images is None else e.images.shape[1:])
        for e in episodes
    }
    if len(kinds) > 1:
        raise ValueError(f"a dataset holds one task with one set of env options and camera; these episodes differ: {sorted(map(str, kinds))}")
    return FORMATS[format][0](episodes, out, **options)


def load_episodes(path: str | Path, indices: list[int] | None = None) -> list[Episode]:
    """Read episodes back from a LeRobot directory or a robomimic HDF5 file (or its directory), format detected."""
    path = Path(path)
    if (path / "meta" / "info.json").exists():
        return lerobot.read_lerobot(path, indices)
    if path.suffix in (".hdf5", ".h5") or (path / hdf5.FILE_NAME).exists():
        return hdf5.read_hdf5(path, indices)
    raise ValueError(f"{path} holds no recorded episodes: expected a LeRobot directory (meta/info.json) or {hdf5.FILE_NAME}")
