"""Wrappers that hand state observations to RL libraries as one flat float32 vector.

Stable-Baselines3, CleanRL and most trainers take Box (or Dict-of-Box) observations only, not
gymnasium's Text spaces, so `flatten_state` keeps the numeric state keys and drops the
instruction and dialog. In state observations the privileged `goal` vector names the target
(its pose), so a state policy needs no words; language-conditioned policies use image modes.
"""

from __future__ import annotations

from collections.abc import Sequence

import gymnasium as gym
from gymnasium.wrappers import FilterObservation, FlattenObservation

from workbench_gym.registration import env_id

#: Numeric keys of a state observation: proprioception, every tool's pose, the task's goal.
STATE_KEYS = ("proprio", "objects", "goal")


def flatten_state(env: gym.Env, keys: Sequence[str] = STATE_KEYS) -> gym.Env:
    """The env with observations `keys` concatenated into one float32 Box (the text keys dropped)."""
    available = set(env.observation_space.spaces)
    if "goal" not in available:
        raise ValueError(f"flatten_state needs obs_mode='state'; this env observes {sorted(available)}")
    unknown = sorted(set(keys) - set(STATE_KEYS))
    if unknown or not keys:
        raise ValueError(f"keys {list(keys)} must be a non-empty subset of {STATE_KEYS}; unknown: {unknown}")
    return FlattenObservation(FilterObservation(env, list(keys)))


def make_rl_env(task: str, keys: Sequence[str] = STATE_KEYS, **options) -> gym.Env:
    """`gym.make` of a task with state observations, flattened for RL libraries (see `flatten_state`)."""
    if options.get("obs_mode", "state") != "state":
        raise ValueError(f"make_rl_env builds state-observation envs, got obs_mode={options['obs_mode']!r}")
    return flatten_state(gym.make(env_id(task), **options), keys)
