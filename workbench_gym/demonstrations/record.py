"""Record oracle episodes as low-level trajectories: the joint targets the motion primitives sent, per physics step."""

from __future__ import annotations

import gymnasium as gym
import numpy as np

from workbench_gym.demonstrations.episode import Episode
from workbench_gym.envs.config import CAMERAS
from workbench_gym.envs.observations import observe
from workbench_gym.envs.workbench_env import WorkbenchEnv
from workbench_gym.policies import PLANNERS
from workbench_gym.registration import env_id

#: Env options that shape the scene and goal; a replay passes them back to `gym.make`.
SCENE_OPTIONS = ("n_tools", "density", "instruction_split", "variant_split", "reward_mode")
_OBSERVED = ("proprio", "objects", "goal", "image")


class _Trajectory:
    """A world step listener: at each physics step, the state before it and the targets the motors held during it."""

    def __init__(self, env: WorkbenchEnv, camera: str | None):
        self.env, self.camera = env, camera
        self.columns: dict[str, list] = {k: [] for k in (*_OBSERVED, "action", "reward", "success")}
        self.pending = self._observe()

    def _observe(self) -> dict:
        env = self.env
        obs = observe(env.config, env.world, env.task, env.instruction, env.dialog)
        image = env.world.render(self.camera, depth=False, segmentation=False).rgb if self.camera else None
        return {"proprio": obs["proprio"], "objects": obs["objects"][: env.config.n_tools], "goal": obs["goal"], "image": image}

    def __call__(self, world) -> None:
        env, targets = self.env, world.robot.targets
        # `held` is set and cleared with the weld of the assisted grasp.
        action = np.array([*targets[:7], targets[7] + targets[8], float(env.held is not None)])
        after = self._observe()
        row = {**self.pending, "action": action, "reward": env.task.reward(world, env.config.reward_mode), "success": env.task.is_success(world)}
        for key, value in row.items():
            self.columns[key].append(value)
        self.pending = after

    def episode(self, task: str, seed: int, instruction: str, options: dict) -> Episode:
        c = self.columns
        return Episode(
            task, seed, instruction, 1.0 / self.env.world.config.timestep, options,
            np.array(c["action"]), np.array(c["proprio"]), np.array(c["objects"]), np.array(c["goal"]),
            np.array(c["reward"], np.float32), np.array(c["success"], bool), self.pending["objects"],
            images=np.array(c["image"]) if self.camera else None, camera=self.camera,
            final_proprio=self.pending["proprio"], final_goal=self.pending["goal"],
        )


def record_episodes(
    task: str, episodes: int, seed: int = 0, planner: str = "oracle", progress: bool = False,
    camera: str | None = None, image_size: tuple[int, int] = (128, 128), **env_options,
) -> list[Episode]:
    """Run `planner` (in primitive control) for episodes with seeds seed, seed+1, ...; return their trajectories.

    With `camera` ("front", "overhead" or "wrist"), each frame also keeps that camera's RGB image at `image_size`.
    """
    if planner not in PLANNERS or PLANNERS[planner].control_mode != "primitive":
        primitive = [name for name, entry in PLANNERS.items() if entry.control_mode == "primitive"]
        raise ValueError(f"demonstrations come from a primitive planner; expected one of {primitive}, got {planner!r}")
    if episodes < 1:
        raise ValueError(f"episodes must be at least 1, got {episodes}")
    if camera is not None and camera not in CAMERAS:
        raise ValueError(f"unknown camera {camera!r}; expected one of {CAMERAS}")
    unknown = sorted(set(env_options) - set(SCENE_OPTIONS))
    if unknown:
        raise ValueError(f"unknown option(s) {unknown}; a recording takes some of {SCENE_OPTIONS}")
    env = gym.make(env_id(task), obs_mode="state", control_mode="primitive", image_size=tuple(image_size), **env_options)
    agent = PLANNERS[planner].make(env, seed)
    world = env.unwrapped.world
    options = {k: getattr(env.unwrapped.config, k) for k in SCENE_OPTIONS}
    out = []
    try:
        for i in _progress(range(episodes), progress):
            obs, _ = env.reset(seed=seed + i)
            agent.reset(obs["instruction"])
            trajectory = _Trajectory(env.unwrapped, camera)
            world.step_listeners.append(trajectory)
            try:
                done = False
                while not done:
                    obs, _, terminated, truncated, _ = env.step(agent.act(obs))
                    done = terminated or truncated
            finally:
                world.step_listeners.remove(trajectory)
            out.append(trajectory.episode(task, seed + i, obs["instruction"], options))
    finally:
        env.close()
    return out


def _progress(items, enabled: bool):
    try:
        from tqdm import tqdm
    except ImportError:
        return items
    return tqdm(items, unit="episode", disable=not enabled)
