"""`Episode`: one recorded low-level trajectory, with what it takes to rebuild its env."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

#: The low-level action, one per physics step: what `control_mode="joint_target"` takes.
ACTION_NAMES = (*(f"joint_{i}" for i in range(7)), "finger_width", "grasp_assist")


@dataclass
class Episode:
    """Arrays have one row per frame (physics step at `fps`): the observation before the frame's action.

    `rewards`, `successes` and `dones` describe the state after the action. `final_objects` is the
    tool state after the last action (the end state a replay must reach). `env_options` and `seed`
    rebuild the same scene: `gym.make(env_id(task), **env_options).reset(seed=seed)`.
    """

    task: str
    seed: int
    instruction: str
    fps: float
    env_options: dict
    actions: np.ndarray  # (T, 9) float64, see ACTION_NAMES: float32 rounding (1e-7 rad) can end a tumbling tool cm away
    proprio: np.ndarray  # (T, 26) float32
    objects: np.ndarray  # (T, n_tools, 8) float32: present flag, position, quaternion
    goal: np.ndarray  # (T, goal_size) float32
    rewards: np.ndarray  # (T,) float32, the "dense" low-level reward
    successes: np.ndarray  # (T,) bool
    final_objects: np.ndarray  # (n_tools, 8) float32
    images: np.ndarray | None = None  # (T, H, W, 3) uint8 RGB of `camera`, if one was recorded
    camera: str | None = None
    final_proprio: np.ndarray | None = None  # (26,) float32 after the last action, where the recording kept it
    final_goal: np.ndarray | None = None  # (goal_size,) float32 after the last action, likewise
    dones: np.ndarray = field(init=False)  # (T,) bool: True on the last frame

    def __post_init__(self):
        self.dones = np.zeros(len(self.actions), bool)
        if len(self.dones):
            self.dones[-1] = True
        arrays = (self.actions, self.proprio, self.objects, self.goal, self.rewards, self.successes)
        lengths = {len(a) for a in arrays + ((self.images,) if self.images is not None else ())}
        if len(lengths) != 1:
            raise ValueError(f"episode arrays differ in length: {sorted(lengths)}")

    def next_observations(self) -> dict[str, np.ndarray]:
        """Each frame's observation after its action (robomimic's `next_obs`): the next frame's, then the final state.

        Where the final proprioception or goal was not kept (a dataset read back from LeRobot), the last frame's stands in.
        """
        final = {"proprio": self.final_proprio, "objects": self.final_objects, "goal": self.final_goal}
        out = {}
        for key, values in (("proprio", self.proprio), ("objects", self.objects), ("goal", self.goal)):
            last = values[-1:] if final[key] is None else np.asarray(final[key], values.dtype)[None]
            out[key] = np.concatenate([values[1:], last])
        return out

    def __len__(self) -> int:
        return len(self.actions)

    @property
    def success(self) -> bool:
        return bool(len(self) and self.successes[-1])
