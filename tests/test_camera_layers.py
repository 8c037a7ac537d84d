"""Cameras draw less than the whole scene (cached backgrounds, culling) and still give the frames a full draw gives."""

import sys
from pathlib import Path

import numpy as np
import pytest

from workbench_gym.scenes import sample_clutter
from workbench_gym.sim import World
from workbench_gym.sim.layers import outside_view
from workbench_gym.sim.robot import HOME

sys.path.insert(0, str(Path(__file__).parent))
from test_world import _full_render  # noqa: E402

#: Arm poses that point the wrist camera at different parts of the bench.
WRIST_POSES = [HOME, (0.5, 0.2, 0.0, -2.0, 0.0, 2.2, 0.8), (-0.6, 0.4, 0.2, -1.8, 0.1, 2.3, 0.3), (0.0, 0.6, 0.0, -1.2, 0.0, 1.9, 0.785)]


@pytest.fixture(scope="module")
def world20():
    world = World()
    world.build(sample_clutter(seed=5, n_tools=20))
    yield world
    world.close()


def _assert_same_frame(a, b):
    np.testing.assert_array_equal(a.rgb, b.rgb)
    np.testing.assert_array_equal(a.depth, b.depth)
    np.testing.assert_array_equal(a.segmentation, b.segmentation)


@pytest.mark.parametrize("arm", WRIST_POSES)
def test_wrist_frames_with_culling_equal_full_draws(world20, arm):
    world20.robot.reset(arm)
    cam = world20.cameras["wrist"]
    _, extrinsics = cam.view(world20.robot.link_pose(8))
    culled = world20.layers.culled(extrinsics, cam.intrinsics, (cam.spec.width, cam.spec.height), cam.spec.near, cam.spec.far)
    assert culled, "this pose leaves bodies out of view, so culling is exercised"
    _assert_same_frame(world20.render("wrist"), _full_render(world20, "wrist"))


def test_outside_view_keeps_what_the_camera_sees():
    extrinsics = np.eye(4)  # camera at the origin looking along +z
    intrinsics = np.array([[100.0, 0, 64], [0, 100.0, 63], [0, 0, 1]])
    boxes = np.array([
        [[-0.1, -0.1, 1.0], [0.1, 0.1, 1.2]],    # straight ahead
        [[-0.1, -0.1, -2.0], [0.1, 0.1, -1.0]],  # behind the camera
        [[5.0, -0.1, 1.0], [6.0, 0.1, 1.2]],     # far to the right
        [[0.6, -0.1, 1.0], [5.0, 0.1, 1.2]],     # straddles the right edge
        [[-0.1, -0.1, 9.0], [0.1, 0.1, 9.5]],    # beyond the far plane
    ])
    np.testing.assert_array_equal(outside_view(boxes, extrinsics, intrinsics, (128, 128), 0.01, 4.0), [False, True, True, False, True])


def test_moved_tools_leave_the_background_and_frames_stay_exact(world20):
    world20.robot.reset(HOME)
    spec = world20.spec
    before = world20.layers.still()
    assert before == frozenset(world20._tool_bodies), "after a build every tool lies where it settled"
    world20.render("front")
    moved = spec.tools[3]
    world20.set_object_pose(moved, (0.45, 0.1, spec.bench.height + 0.15))
    assert world20.layers.still() == before - {world20.bodies[moved.name]}
    _assert_same_frame(world20.render("front"), _full_render(world20, "front"))


def test_frames_do_not_depend_on_which_frames_were_drawn_before():
    """The background a camera caches follows from the world's state, not from when frames were asked for."""
    spec = sample_clutter(seed=8, n_tools=12)
    worlds = [World(), World()]
    try:
        for world in worlds:
            world.build(spec)
        frames, still = [], []
        for world, every_step in zip(worlds, (True, False)):
            for i in range(40):
                if i == 5:  # dropped onto its neighbours: it and whatever it knocks leave the background
                    world.set_object_pose(spec.tools[0], (*spec.tools[1].pose.position[:2], spec.bench.height + 0.08))
                world.step(3)
                if every_step:
                    world.render("front")
            frames.append(world.render("front"))
            still.append(world.layers.still())
        assert still[0] == still[1] and len(still[0]) < len(spec.tools)
        _assert_same_frame(*frames)
    finally:
        for world in worlds:
            world.close()
