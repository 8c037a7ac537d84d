"""Demonstrations: oracle episodes recorded as low-level trajectories, written as LeRobot or robomimic HDF5, replayed.

`record_episodes` runs the privileged oracle with motion primitives and keeps, at every physics
step, the state observation and the joint targets the primitives sent; `write_lerobot` /
`write_hdf5` store them, `load_episodes` reads either back, and `replay` runs an episode's
actions in a fresh `control_mode="joint_target"` env to its end state.
"""

from workbench_gym.demonstrations.episode import ACTION_NAMES, Episode
from workbench_gym.demonstrations.formats import FORMATS, load_episodes, write_episodes
from workbench_gym.demonstrations.record import record_episodes
from workbench_gym.demonstrations.replay import replay

__all__ = ["ACTION_NAMES", "FORMATS", "Episode", "load_episodes", "record_episodes", "replay", "write_episodes"]
