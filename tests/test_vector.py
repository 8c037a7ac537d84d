"""Vector envs from `gym.make_vec`, sync and async, and Gymnasium 1.x's next-step auto-reset."""

import gymnasium as gym
import numpy as np
import pytest
from gymnasium.vector import AutoresetMode

import workbench_gym  # noqa: F401  (registers the envs)

ENV_ID = "workbench_gym/PickTool-v0"
SMALL = {"n_tools": 6, "max_episode_steps": 3}
STILL = np.array([0.0, 0.0, 0.0, 0.0, 1.0], np.float32)  # hold the hand where it is


def make_vec(mode: str, num_envs: int = 2):
    # shared_memory=False: gymnasium 1.x reads Text observations out of shared memory only once.
    kwargs = {"vector_kwargs": {"shared_memory": False}} if mode == "async" else {}
    return gym.make_vec(ENV_ID, num_envs=num_envs, vectorization_mode=mode, **SMALL, **kwargs)


def single_env_episodes(seed: int, episodes: int) -> list[dict]:
    """First observations of consecutive episodes of one env: reset(seed) once, then reset()."""
    env = gym.make(ENV_ID, **SMALL)
    try:
        out = [env.reset(seed=seed)[0]]
        for _ in range(episodes - 1):
            out.append(env.reset()[0])
        return out
    finally:
        env.close()


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_make_vec_steps_and_auto_resets_on_the_next_step(mode):
    envs = make_vec(mode)
    try:
        assert envs.metadata["autoreset_mode"] == AutoresetMode.NEXT_STEP
        assert envs.num_envs == 2
        obs, info = envs.reset(seed=10)  # env i is seeded 10 + i
        assert obs["proprio"].shape == (2, 26) and obs["objects"].shape[0] == 2
        first = list(obs["instruction"])
        actions = np.stack([STILL, STILL])
        for step in range(3):
            obs, reward, terminated, truncated, info = envs.step(actions)
            assert not terminated.any()
            assert truncated.all() == (step == 2), "the time limit ends both episodes at step 3"
        assert list(obs["instruction"]) == first, "the last step of an episode still shows that episode"
        # The step after the end ignores the action and returns the next episode's first observation.
        obs, reward, terminated, truncated, info = envs.step(actions)
        assert np.all(reward == 0) and not terminated.any() and not truncated.any()
        for i in range(2):
            expected = single_env_episodes(10 + i, 2)[1]
            assert obs["instruction"][i] == expected["instruction"]
            np.testing.assert_array_equal(obs["objects"][i], expected["objects"])
            np.testing.assert_array_equal(obs["proprio"][i], expected["proprio"])
        obs, reward, terminated, truncated, info = envs.step(actions)
        assert not truncated.any(), "the new episode runs on"
    finally:
        envs.close()


def test_sync_and_async_step_the_same_episodes():
    results = {}
    for mode in ("sync", "async"):
        envs = make_vec(mode)
        try:
            envs.action_space.seed(3)
            obs, _ = envs.reset(seed=3)
            trace = [obs["proprio"]]
            for _ in range(5):  # crosses an auto-reset
                obs, reward, *_ = envs.step(envs.action_space.sample())
                trace += [obs["proprio"], reward]
            results[mode] = trace
        finally:
            envs.close()
    for a, b in zip(results["sync"], results["async"]):
        np.testing.assert_array_equal(a, b)


def test_async_with_gymnasiums_defaults_gives_current_instructions():
    """Shared memory on (Gymnasium's default): instruction and dialog are the episodes' own, never placeholders."""
    envs = gym.make_vec(ENV_ID, num_envs=2, vectorization_mode="async", **SMALL)
    try:
        assert envs.shared_memory
        obs, _ = envs.reset(seed=10)
        expected = [single_env_episodes(10 + i, 2) for i in range(2)]
        assert list(obs["instruction"]) == [e[0]["instruction"] for e in expected]
        assert list(obs["dialog"]) == ["", ""]
        for _ in range(4):  # the fourth step starts the next episodes
            obs, *_ = envs.step(np.stack([STILL, STILL]))
        assert list(obs["instruction"]) == [e[1]["instruction"] for e in expected]
        assert isinstance(obs["instruction"], tuple), "copied observations hold plain strings"
    finally:
        envs.close()
