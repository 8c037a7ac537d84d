import hashlib
import re
import resource
import subprocess
import sys
import warnings

import gymnasium as gym
import numpy as np
import pybullet
import pytest
from gymnasium.utils.env_checker import check_env
from gymnasium.utils.passive_env_checker import env_render_passive_checker

import workbench_gym
from workbench_gym.envs import CONTROL_MODES, OBS_MODES

ENV_ID = "workbench_gym/PickTool-v0"
SMALL = {"n_tools": 6, "image_size": (48, 48)}
# Poses, proprioception and camera matrices are unbounded by nature, and high-level poses are in
# metres rather than [-1, 1]; the checker notes both.
_EXPECTED_WARNINGS = re.compile(r"Box observation space (minimum|maximum) value is -?infinity|recommend using a symmetric and normalized space")


def _digest(obs) -> str:
    """Hash of every array and string in an observation, in key order."""
    h = hashlib.sha256()

    def feed(x):
        if isinstance(x, dict):
            for k in sorted(x):
                h.update(k.encode())
                feed(x[k])
        elif isinstance(x, str):
            h.update(x.encode())
        else:
            h.update(np.ascontiguousarray(x).tobytes())

    feed(obs)
    return h.hexdigest()


def _episode_digest(obs_mode: str, seed: int = 7, steps: int = 4) -> str:
    env = gym.make(ENV_ID, obs_mode=obs_mode, **SMALL)
    try:
        digests = [_digest(env.reset(seed=seed)[0])]
        actions = np.random.default_rng(0).uniform(-1, 1, (steps, 5))
        digests += [_digest(env.step(a)[0]) for a in actions]
    finally:
        env.close()
    return "".join(digests)


def test_ids_registered_on_import():
    assert ENV_ID in workbench_gym.ENV_IDS
    assert ENV_ID in gym.registry


def test_make_with_module_prefix_in_a_fresh_interpreter():
    code = (
        "import sys, gymnasium as gym\n"
        "assert 'workbench_gym' not in sys.modules\n"
        "env = gym.make('workbench_gym:workbench_gym/PickTool-v0', n_tools=3)\n"
        "obs, info = env.reset(seed=0)\n"
        "print(obs['instruction'])\n"
        "env.close()\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert re.search(r"^(pick up|grab|lift) the \w", out.stdout, re.M), out.stdout


CHECKED = [(i, o, "ee_delta") for i in workbench_gym.ENV_IDS for o in OBS_MODES] + [
    (i, "state", c) for i in workbench_gym.ENV_IDS for c in CONTROL_MODES if c != "ee_delta"
]


@pytest.mark.parametrize("env_id,obs_mode,control_mode", CHECKED)
def test_env_checker_passes(env_id, obs_mode, control_mode):
    env = gym.make(env_id, obs_mode=obs_mode, control_mode=control_mode, render_mode="rgb_array", render_size=(64, 48), **SMALL)
    try:
        with warnings.catch_warnings(record=True) as record:
            warnings.simplefilter("always")
            # The render check would also make a render_mode="human" env, which needs a display.
            check_env(env.unwrapped, skip_render_check=True)
            env_render_passive_checker(env.unwrapped)
        messages = [str(w.message) for w in record if not _EXPECTED_WARNINGS.search(str(w.message))]
        assert messages == [], messages
    finally:
        env.close()


def test_human_render_without_display_warns_and_runs_headless(monkeypatch):
    from workbench_gym.envs.config import HeadlessWarning

    monkeypatch.delenv("DISPLAY", raising=False)
    with pytest.warns(HeadlessWarning, match="needs a display"):
        env = gym.make(ENV_ID, render_mode="human", **SMALL)
    env.close()


def test_observation_layout_per_mode():
    env = gym.make(ENV_ID, obs_mode="rgbd_seg", cameras=("front", "overhead", "wrist"), **SMALL)
    try:
        obs, info = env.reset(seed=1)
        assert re.match(r"(pick up|grab|lift) the \w", obs["instruction"])
        assert set(obs["cameras"]) == {"front", "overhead", "wrist"}
        view = obs["cameras"]["front"]
        assert view["rgb"].shape == (48, 48, 3) and view["depth"].shape == (48, 48)
        assert view["segmentation"].max() >= 3, "some tool is visible"
        assert "objects" not in obs and "goal" not in obs, "image modes carry no privileged state"
        assert info["goal"]["category"] in workbench_gym.scenes.TOOLS
    finally:
        env.close()


def test_reset_is_bit_exact_across_envs_and_processes():
    here = _episode_digest("rgbd_seg")
    assert here == _episode_digest("rgbd_seg"), "two envs in one process differ"
    code = f"import sys; sys.path.insert(0, {str(__import__('pathlib').Path(__file__).parent)!r}); import test_env; print(test_env._episode_digest('rgbd_seg'))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip().splitlines()[-1] == here, "another process differs"


def test_reset_with_same_seed_after_other_episodes_matches():
    env = gym.make(ENV_ID, obs_mode="state", **SMALL)
    try:
        first = _digest(env.reset(seed=11)[0])
        env.reset(seed=12)
        env.step(env.action_space.sample())
        assert _digest(env.reset(seed=11)[0]) == first
        assert _digest(env.reset(seed=12)[0]) != first
    finally:
        env.close()


@pytest.mark.parametrize(
    "action,message",
    [
        (np.zeros(3), r"shape \(3,\), expected \(5,\)"),
        (np.zeros((1, 5)), r"shape \(1, 5\)"),
        (np.array([0, np.nan, 0, 0, 0]), r"non-finite .* index \[1\]"),
        (np.array([0, 0, np.inf, 0, -np.inf]), r"non-finite .* index \[2, 4\]"),
        ("left", "must be numeric"),
    ],
)
def test_bad_actions_raise_value_error(action, message):
    env = gym.make(ENV_ID, **SMALL)
    try:
        env.reset(seed=0)
        with pytest.raises(ValueError, match=message):
            env.step(action)
        env.step(np.zeros(5))  # the env still works afterwards
    finally:
        env.close()


def test_out_of_range_actions_are_clipped():
    env = gym.make(ENV_ID, **SMALL)
    try:
        env.reset(seed=0)
        a = env.step(np.full(5, 5.0))[0]["proprio"]
        env.reset(seed=0)
        b = env.step(np.full(5, 1.0))[0]["proprio"]
        np.testing.assert_array_equal(a, b)
    finally:
        env.close()


def test_bad_options_name_the_problem():
    with pytest.raises(ValueError, match="obs_mode='depth'"):
        gym.make(ENV_ID, obs_mode="depth")
    with pytest.raises(ValueError, match="control_mode='torque'"):
        gym.make(ENV_ID, control_mode="torque")
    with pytest.raises(TypeError, match="unknown environment option"):
        gym.make(ENV_ID, n_tool=3)
    with pytest.raises(ValueError, match="unknown task 'Juggle'"):
        workbench_gym.envs.WorkbenchEnv(task="Juggle")
    with pytest.raises(gym.error.Error):
        gym.make("workbench_gym/Juggle-v0")


def test_step_before_reset_is_an_error():
    env = workbench_gym.envs.WorkbenchEnv(**SMALL)
    try:
        with pytest.raises(RuntimeError, match="reset"):
            env.step(np.zeros(5))
    finally:
        env.close()


def test_arm_follows_ee_delta_actions():
    env = gym.make(ENV_ID, **SMALL)
    try:
        obs, _ = env.reset(seed=0)
        start = obs["proprio"][18:21].copy()
        for _ in range(10):
            obs, *_ = env.step(np.array([0.0, 0.5, -0.3, 0.0, 1.0]))
        moved = obs["proprio"][18:21] - start
        assert moved[1] > 0.08 and moved[2] < -0.04 and abs(moved[0]) < 0.02, moved
    finally:
        env.close()


def test_reward_grows_as_the_hand_nears_the_target():
    env = gym.make(ENV_ID, **SMALL)
    try:
        obs, _ = env.reset(seed=2)
        rewards = []
        for _ in range(40):
            goal = obs["goal"][:3] + np.array([0, 0, 0.03])
            delta = np.clip((goal - obs["proprio"][18:21]) / 0.05, -1, 1)
            obs, reward, terminated, truncated, info = env.step(np.array([*delta, 0.0, 1.0]))
            rewards.append(reward)
        assert rewards[-1] > rewards[0] + 0.3
        assert info["is_success"] is False
    finally:
        env.close()


@pytest.mark.parametrize(
    "make_vector",
    [
        lambda fns: gym.vector.SyncVectorEnv(fns),
        # gymnasium 1.x reads Text spaces out of shared memory once, at construction, so async
        # vector envs with an instruction need shared_memory=False (documented in the README).
        lambda fns: gym.vector.AsyncVectorEnv(fns, shared_memory=False),
    ],
    ids=["sync", "async"],
)
def test_vector_envs(make_vector):
    envs = make_vector([lambda: gym.make(ENV_ID, max_episode_steps=3, **SMALL)] * 2)
    try:
        obs, info = envs.reset(seed=[0, 1])
        assert obs["proprio"].shape == (2, 26)
        assert all(re.match(r"(pick up|grab|lift) the \w", text) for text in obs["instruction"])
        assert len(set(info["goal"]["object"])) >= 1 and all(info["goal"]["display_name"])
        first = obs["instruction"]
        for _ in range(3):
            obs, reward, terminated, truncated, info = envs.step(envs.action_space.sample())
        assert truncated.all()
        obs, reward, *_ = envs.step(envs.action_space.sample())  # gymnasium 1.x auto-resets on the next step
        assert np.all(reward == 0)
        assert obs["instruction"] != first, "auto-reset drew new episodes"
    finally:
        envs.close()


def test_render_rgb_array():
    env = gym.make(ENV_ID, render_mode="rgb_array", render_size=(80, 60), **SMALL)
    try:
        env.reset(seed=0)
        frame = env.render()
        assert frame.shape == (60, 80, 3) and frame.dtype == np.uint8 and frame.std() > 10
    finally:
        env.close()


def test_close_releases_clients_over_many_cycles():
    ids, rss_before = [], resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    for i in range(200):
        env = gym.make(ENV_ID, **SMALL)
        if i % 20 == 0:
            env.reset(seed=i)
        ids.append(env.unwrapped.world.client_id)
        env.close()
    assert not any(pybullet.isConnected(i) for i in set(ids))
    assert max(ids) < 8, "client ids keep growing: clients leak"
    grown_mb = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - rss_before) / 1024
    assert grown_mb < 200, f"resident memory grew {grown_mb:.0f} MB"


def test_an_env_left_open_exits_without_a_traceback():
    """A script that never calls env.close() still exits quietly (PyBullet's client cleanup ran at interpreter exit)."""
    pytest.importorskip("torch")
    # With torch and the native backend loaded, interpreter teardown reaches PyBullet's module before the client.
    script = ("import gymnasium as gym, workbench_gym; from workbench_gym.policies.native import NativeBackend; "
              f"backend = NativeBackend(); env = gym.make({ENV_ID!r}, obs_mode='state'); env.reset(seed=0)")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert "Exception ignored" not in done.stderr and "Traceback" not in done.stderr, done.stderr


def test_sim_time_counts_control_steps():
    env = gym.make(ENV_ID, **SMALL)
    try:
        env.reset(seed=0)
        for _ in range(5):
            info = env.step(np.zeros(5))[-1]
        assert info["sim_time"] == pytest.approx(5 / 25.0, abs=1e-12)
    finally:
        env.close()


def test_a_callers_sort_sentence_is_scored_as_it_asks():
    """A replaced SortTools instruction names its bins unless reset says it is goal-level; other tasks refuse the flag."""
    env = gym.make("workbench_gym/SortTools-v0", control_mode="primitive")
    try:
        _, info = env.reset(seed=3, options={"instruction": "Put each kind of tool in a bin of its own."})
        assert info["goal"]["any_bins"] is False
        _, info = env.reset(seed=3, options={"instruction": "Put like with like, please.", "goal_level": True})
        assert info["goal"]["any_bins"] is True
        with pytest.raises(ValueError, match="goal_level"):
            env.reset(seed=3, options={"goal_level": True})
    finally:
        env.close()
    env = gym.make("workbench_gym/PickTool-v0", control_mode="primitive")
    try:
        with pytest.raises(ValueError, match="no goal-level form"):
            env.reset(seed=3, options={"instruction": "Pick up the hammer.", "goal_level": True})
    finally:
        env.close()
