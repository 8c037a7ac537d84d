"""Replay a recorded episode's low-level actions in a fresh env built from the same seed."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from workbench_gym.demonstrations.episode import Episode
from workbench_gym.envs.workbench_env import WorkbenchEnv

START_TOLERANCE = 1e-6  # the rebuilt scene must match the recorded first frame this closely


@dataclass(frozen=True)
class ReplayResult:
    """Tool state (n_tools, 8) after the last action, whether the task was solved, and the return."""

    final_objects: np.ndarray
    success: bool
    episode_return: float


def replay(episode: Episode) -> ReplayResult:
    """Step a `control_mode="joint_target"` env at the recording's rate through the episode's actions.

    Raises `ValueError` if the rebuilt scene does not start where the recording did (another
    version of the scene sampler or physics, or a mismatched episode).
    """
    env = WorkbenchEnv(episode.task, obs_mode="state", control_mode="joint_target", control_freq=episode.fps, **episode.env_options)
    try:
        obs, _ = env.reset(seed=episode.seed)
        n = len(episode.final_objects)
        start_error = float(np.max(np.abs(obs["objects"][:n] - episode.objects[0]))) if len(episode) else 0.0
        if start_error > START_TOLERANCE:
            raise ValueError(f"episode (task {episode.task}, seed {episode.seed}) starts {start_error:.2e} away from the rebuilt scene; was it recorded with another version?")
        total, info = 0.0, {"is_success": False}
        for action in episode.actions:
            obs, reward, _, _, info = env.step(action)
            total += reward
        return ReplayResult(obs["objects"][:n], bool(info["is_success"]), total)
    finally:
        env.close()
