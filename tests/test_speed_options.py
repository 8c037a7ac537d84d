"""Speed-related options and fast paths: renderer choice with EGL fallback, solver settings, batched poses."""

import warnings

import gymnasium as gym
import numpy as np
import pybullet
import pytest
from scipy.spatial.transform import Rotation

import workbench_gym  # noqa: F401  (registers the envs)
from workbench_gym.sim import egl
from workbench_gym.sim.world import SimConfig, World, rotation_forms


def test_rotation_forms_rotate_like_scipy():
    rng = np.random.default_rng(0)
    quaternions = rng.normal(size=(50, 4))
    quaternions /= np.linalg.norm(quaternions, axis=1, keepdims=True)
    vectors = rng.normal(size=(50, 3))
    pairs = (quaternions[:, :, None] * quaternions[:, None, :]).reshape(-1, 16, 1)
    rotated = np.matmul(rotation_forms(vectors), pairs)[..., 0]
    np.testing.assert_allclose(rotated, Rotation.from_quat(quaternions).apply(vectors), atol=1e-12)


def test_tool_poses_match_object_poses_after_a_tool_moves(world12, spec12):
    tool = spec12.tools[0]
    world12.set_object_pose(tool, (0.5, 0.0, world12.spec.bench.height + 0.2), rpy=(0.3, -0.2, 1.0))
    world12.step(10)  # falling and turning
    positions, quaternions = world12.tool_poses()
    for i, t in enumerate(spec12.tools):
        position, quaternion = world12.object_pose(t.name)
        np.testing.assert_allclose(positions[i], position, atol=1e-12)
        np.testing.assert_array_equal(quaternions[i], quaternion)


def test_clients_bind_functions_to_their_own_world(spec12):
    a, b = World(), World()
    try:
        a.build(spec12, settle=False)
        b.build(spec12, settle=False)
        tool = spec12.tools[0]
        b.set_object_pose(tool, (0.5, 0.1, 1.5))
        assert a.client.getBasePositionAndOrientation is a.client.getBasePositionAndOrientation, "bound once"
        assert a.object_pose(tool.name)[0][2] < 1.0 < b.object_pose(tool.name)[0][2]
    finally:
        a.close()
        b.close()


@pytest.mark.parametrize(
    "options, message",
    [
        ({"renderer": "vulkan"}, "renderer='vulkan' is not supported"),
        ({"renderer": "egl", "gui": True}, "renderer='egl' is for headless clients"),
        ({"solver_residual_threshold": -1.0}, "solver_residual_threshold=-1.0"),
    ],
)
def test_bad_sim_options_are_named(options, message):
    with pytest.raises(ValueError, match=message):
        SimConfig(**options)


def test_env_renderer_option_reaches_the_sim():
    with pytest.raises(ValueError, match="renderer='nope'"):
        gym.make("workbench_gym/PickTool-v0", renderer="nope")


def test_egl_without_a_gpu_driver_warns_and_renders_like_tinyrenderer(monkeypatch, spec12):
    monkeypatch.setattr(egl, "gpu_driver_present", lambda: False)
    with pytest.warns(egl.EGLUnavailableWarning, match="no GPU driver found.*TinyRenderer"):
        fallback = World(SimConfig(renderer="egl"))
    tiny = World()
    try:
        assert fallback.renderer == "tiny"
        frames = []
        for world in (fallback, tiny):
            world.build(spec12)
            frames.append(world.render("front"))
        np.testing.assert_array_equal(frames[0].rgb, frames[1].rgb)
        np.testing.assert_array_equal(frames[0].segmentation, frames[1].segmentation)
    finally:
        fallback.close()
        tiny.close()


def test_env_with_egl_falls_back_in_gym_make(monkeypatch):
    monkeypatch.setattr(egl, "gpu_driver_present", lambda: False)
    with pytest.warns(egl.EGLUnavailableWarning):
        env = gym.make("workbench_gym/PickTool-v0", obs_mode="rgbd_seg", renderer="egl", cameras=("front",), n_tools=6, image_size=(32, 32))
    try:
        obs, _ = env.reset(seed=0)
        assert env.unwrapped.world.renderer == "tiny"
        assert obs["cameras"]["front"]["rgb"].shape == (32, 32, 3)
    finally:
        env.close()


def test_egl_plugin_draws_the_scene_when_it_loads(monkeypatch, spec12):
    """Runs the EGL path itself wherever EGL works, here on a GPU or on Mesa's CPU driver."""
    monkeypatch.setattr(egl, "gpu_driver_present", lambda: True)
    reason = egl.probe()
    if reason is not None:
        pytest.skip(f"EGL cannot render on this machine: {reason}")
    with warnings.catch_warnings():
        warnings.simplefilter("error", egl.EGLUnavailableWarning)
        world = World(SimConfig(renderer="egl"))
    try:
        assert world.renderer == "egl"
        world.build(spec12)
        frame = world.render("front")
        ids = set(np.unique(frame.segmentation).tolist())
        assert {1, 2} <= ids, "bench and robot are drawn"
        assert len(ids & set(world.instance_ids.values())) >= len(spec12.tools) // 2, "most tools are drawn"
        camera = world.cameras["front"].spec
        assert camera.near <= frame.depth.min() and frame.depth.max() <= camera.far * 1.001
        assert frame.rgb.std() > 10
    finally:
        world.close()


def test_a_closed_worlds_robot_cannot_reach_the_client_that_reuses_its_id(spec12):
    old = World()
    old.build(spec12, settle=False)
    robot = old.robot
    robot.joint_state()  # binds getJointStates to the old client
    old.close()
    new = World()
    try:
        new.build(spec12, settle=False)
        with pytest.raises(pybullet.error):
            robot.joint_state()
    finally:
        new.close()
