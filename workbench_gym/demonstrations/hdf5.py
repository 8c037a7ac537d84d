"""Episodes as robomimic-style HDF5: `data/demo_i/{obs/*, actions, rewards, dones}`, env args in attributes.

```
data                attrs: total (frames), env_args (JSON: env_name, type, env_kwargs)
data/demo_0         attrs: num_samples, seed, instruction, success, fps; final_objects (dataset)
data/demo_0/obs/{proprio, objects, goal}, obs/<camera>_image (T, H, W, 3) uint8 if a camera was recorded
data/demo_0/{actions, rewards, dones, successes}
```
`env_args["type"]` is 2, robomimic's code for a gym env.
"""

from __future__ import annotations

import json
from pathlib import Path


from workbench_gym.demonstrations.episode import ACTION_NAMES, Episode
from workbench_gym.envs.registration import env_id

FILE_NAME = "demo.hdf5"
GYM_ENV_TYPE = 2


def _h5py():
    try:
        import h5py
    except ImportError:
        raise ImportError("the HDF5 format needs h5py: pip install 'workbench-gym[rl]'") from None
    return h5py


def write_hdf5(episodes: list[Episode], root: str | Path) -> Path:
    """Write episodes to `root`/demo.hdf5 (which must not exist yet); returns the file's path."""
    h5py = _h5py()
    path = Path(root) / FILE_NAME
    if path.exists():
        raise FileExistsError(f"{path} exists already; choose a new --out directory")
    path.parent.mkdir(parents=True, exist_ok=True)
    first = episodes[0]
    env_args = {"env_name": env_id(first.task), "type": GYM_ENV_TYPE, "env_kwargs": {**first.env_options, "control_mode": "joint_target", "control_freq": first.fps}}
    with h5py.File(path, "w") as f:
        data = f.create_group("data")
        data.attrs["total"] = sum(len(e) for e in episodes)
        data.attrs["env_args"] = json.dumps(env_args)
        data.attrs["action_names"] = json.dumps(ACTION_NAMES)
        for i, episode in enumerate(episodes):
            demo = data.create_group(f"demo_{i}")
            demo.attrs.update(num_samples=len(episode), seed=episode.seed, instruction=episode.instruction, success=episode.success, fps=episode.fps, task=episode.task)
            for key, value in (("proprio", episode.proprio), ("objects", episode.objects), ("goal", episode.goal)):
                demo.create_dataset(f"obs/{key}", data=value, compression="gzip")
            if episode.images is not None:
                demo.create_dataset(f"obs/{episode.camera}_image", data=episode.images, compression="gzip", chunks=(1, *episode.images.shape[1:]))
            for key in ("actions", "rewards", "dones", "successes", "final_objects"):
                demo.create_dataset(key, data=getattr(episode, key))
    return path


def read_hdf5(root: str | Path, indices: list[int] | None = None) -> list[Episode]:
    """Episodes of a file `write_hdf5` wrote (`root` is the file or its directory)."""
    h5py = _h5py()
    path = Path(root)
    path = path / FILE_NAME if path.is_dir() else path
    with h5py.File(path, "r") as f:
        data = f["data"]
        env_kwargs = json.loads(data.attrs["env_args"])["env_kwargs"]
        options = {k: v for k, v in env_kwargs.items() if k not in ("control_mode", "control_freq")}
        count = len(data)
        out = []
        for i in range(count) if indices is None else indices:
            if f"demo_{i}" not in data:
                raise IndexError(f"episode {i} is not in {path}, which holds {count}")
            demo = data[f"demo_{i}"]
            a = demo.attrs
            cameras = [key.removesuffix("_image") for key in demo["obs"] if key.endswith("_image")]
            out.append(Episode(
                str(a["task"]), int(a["seed"]), str(a["instruction"]), float(a["fps"]), options,
                demo["actions"][()], demo["obs/proprio"][()], demo["obs/objects"][()], demo["obs/goal"][()],
                demo["rewards"][()], demo["successes"][()], demo["final_objects"][()],
                images=demo[f"obs/{cameras[0]}_image"][()] if cameras else None, camera=cameras[0] if cameras else None,
            ))
    return out
