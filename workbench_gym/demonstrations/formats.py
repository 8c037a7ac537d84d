"""Write and read episodes by format name: "lerobot" (a directory) or "hdf5" (robomimic, `DIR/demo.hdf5`)."""

from __future__ import annotations

import json
from pathlib import Path

from workbench_gym.demonstrations.episode import Episode
from workbench_gym.demonstrations.hdf5 import FILE_NAME, read_hdf5, write_hdf5
from workbench_gym.demonstrations.lerobot import read_lerobot, write_lerobot

FORMATS = {"lerobot": (write_lerobot, read_lerobot), "hdf5": (write_hdf5, read_hdf5)}


def write_episodes(episodes: list[Episode], out: str | Path, format: str) -> Path:
    """Write episodes under directory `out` in `format`; returns the dataset's path."""
    if format not in FORMATS:
        raise ValueError(f"unknown format {format!r}; expected one of {sorted(FORMATS)}")
    if not episodes:
        raise ValueError("no episodes to write")
    kinds = {
        (e.task, e.fps, json.dumps(e.env_options, sort_keys=True), e.camera, e.objects.shape[1:], e.goal.shape[1:], None if e.images is None else e.images.shape[1:])
        for e in episodes
    }
    if len(kinds) > 1:
        raise ValueError(f"a dataset holds one task with one set of env options and camera; these episodes differ: {sorted(map(str, kinds))}")
    return FORMATS[format][0](episodes, out)


def load_episodes(path: str | Path, indices: list[int] | None = None) -> list[Episode]:
    """Read episodes back from a LeRobot directory or a robomimic HDF5 file (or its directory), format detected."""
    path = Path(path)
    if (path / "meta" / "info.json").exists():
        return read_lerobot(path, indices)
    if path.suffix in (".hdf5", ".h5") or (path / FILE_NAME).exists():
        return read_hdf5(path, indices)
    raise ValueError(f"{path} holds no recorded episodes: expected a LeRobot directory (meta/info.json) or {FILE_NAME}")
