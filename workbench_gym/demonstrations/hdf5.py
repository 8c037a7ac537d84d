"""Episodes as robomimic HDF5: `data/demo_i/{obs/*, next_obs/*, actions, rewards, dones}`, env args in attributes,
and robomimic's train/valid filter keys, so `robomimic.utils.dataset.SequenceDataset` reads it as it is.

```
data                attrs: total (frames), env_args (JSON: env_name, type, env_kwargs)
data/demo_0         attrs: num_samples, seed, instruction, success, fps; final_objects (dataset)
data/demo_0/obs/{proprio, objects, goal}, obs/<camera>_image (T, H, W, 3) uint8 if a camera was recorded
data/demo_0/next_obs/...   the same keys, each frame's observation after its action (the last: the end state)
data/demo_0/{actions, rewards, dones, successes}
mask/train, mask/valid     demo names (bytes); every tenth demo is held out for validation, as robomimic splits
```
`env_args["type"]` is 2, robomimic's code for a gym env.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from workbench_gym.demonstrations.episode import ACTION_NAMES, Episode
from workbench_gym.registration import env_id

FILE_NAME = "demo.hdf5"
GYM_ENV_TYPE = 2
VALID_EVERY = 10  # demo i is in mask/valid when i % 10 == 9


def _h5py():
    try:
        import h5py
    except ImportError:
        raise ImportError("the HDF5 format needs h5py: pip install 'workbench-gym[rl]'") from None
    return h5py


def check_writable(camera: bool = False) -> None:
    """Raise ImportError naming the pip command if HDF5 cannot be written here."""
    _h5py()


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
            after = episode.next_observations()
            for key, value in (("proprio", episode.proprio), ("objects", episode.objects), ("goal", episode.goal)):
                demo.create_dataset(f"obs/{key}", data=value, compression="gzip")
                demo.create_dataset(f"next_obs/{key}", data=after[key], compression="gzip")
            if episode.images is not None:
                image = f"{episode.camera}_image"
                demo.create_dataset(f"obs/{image}", data=episode.images, compression="gzip", chunks=(1, *episode.images.shape[1:]))
                next_images = np.concatenate([episode.images[1:], episode.images[-1:]])  # no frame is rendered after the last action
                demo.create_dataset(f"next_obs/{image}", data=next_images, compression="gzip", chunks=(1, *episode.images.shape[1:]))
            for key in ("actions", "rewards", "dones", "successes", "final_objects"):
                demo.create_dataset(key, data=getattr(episode, key))
            if episode.final_proprio is not None:
                demo.create_dataset("final_proprio", data=episode.final_proprio)
                demo.create_dataset("final_goal", data=episode.final_goal)
        names = [f"demo_{i}" for i in range(len(episodes))]
        f.create_dataset("mask/train", data=np.array([n for i, n in enumerate(names) if i % VALID_EVERY != VALID_EVERY - 1], "S"))
        f.create_dataset("mask/valid", data=np.array([n for i, n in enumerate(names) if i % VALID_EVERY == VALID_EVERY - 1], "S"))
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
        count = sum(key.startswith("demo_") for key in data)
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
                final_proprio=demo["final_proprio"][()] if "final_proprio" in demo else None,
                final_goal=demo["final_goal"][()] if "final_goal" in demo else None,
            ))
    return out
