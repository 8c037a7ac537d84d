"""The BlenderProc renderer: a small settled scene drawn by Cycles in a child process, checked against PyBullet.

The job-building and robot-kinematics tests need no Blender. The rendering tests need bpy and
BlenderProc (`pip install 'workbench-gym[blender]'`, Python 3.11; CI installs them with the test extra).
"""

from __future__ import annotations

import dataclasses
import os
import signal

import numpy as np
import pybullet
import pytest
from pybullet_utils.bullet_client import BulletClient

from workbench_gym.scenes import sample_clutter
from workbench_gym.sim.robot import Panda
from workbench_gym.sim.world import BENCH_ID, FIRST_OBJECT_ID, ROBOT_ID
from workbench_gym.synth_data.blenderproc_renderer import (
    BlenderProcConfig,
    BlenderProcError,
    BlenderProcRenderer,
    missing_modules,
    scene_job,
)
from workbench_gym.synth_data.renderer import PyBulletRenderer, make_renderer, settle_spec
from workbench_gym.synth_data.robot_mesh import link_poses, panda_home_meshes

MISSING = missing_modules()
needs_blender = pytest.mark.skipif(
    bool(MISSING), reason=f"BlenderProc renderer not installed (missing {MISSING}): pip install 'workbench-gym[blender]' on Python 3.11"
)
SIZE = 96
FAST = {"samples": 4, "threads": 1}  # one thread: CI runs test files side by side on 2 cores


def _small(spec):
    """The spec with its cameras shrunk to SIZE x SIZE (both renderers get this same spec)."""
    return dataclasses.replace(spec, cameras=[dataclasses.replace(c, width=SIZE, height=SIZE) for c in spec.cameras])


@pytest.fixture(scope="module")
def scene():
    return _small(settle_spec(sample_clutter(seed=5, n_tools=10)))


@pytest.fixture(scope="module")
def pybullet_frames(scene):
    renderer = PyBulletRenderer()
    try:
        yield renderer.render(scene)
    finally:
        renderer.close()


@pytest.fixture(scope="module")
def renderer():
    if MISSING:
        pytest.skip(f"BlenderProc renderer not installed (missing {MISSING})")
    with make_renderer("blenderproc", **FAST) as r:
        yield r


@pytest.fixture(scope="module")
def blender_frames(renderer, scene):
    return renderer.render(scene)


# --- without Blender ---------------------------------------------------------------------------------
def test_job_gives_every_object_its_world_id(scene):
    job, arrays = scene_job(scene)
    ids = [m["instance_id"] for m in job["meshes"]]
    assert ids[:3] == [BENCH_ID, ROBOT_ID, ROBOT_ID]  # bench, pedestal, arm
    assert ids[3:] == [FIRST_OBJECT_ID + i for i in range(len(scene.objects))]
    assert [m["name"] for m in job["meshes"][3:]] == [o.name for o in scene.objects]
    for i in range(len(job["meshes"])):
        faces, materials = arrays[f"mesh{i}_faces"], arrays[f"mesh{i}_materials"]
        assert faces.max() < len(arrays[f"mesh{i}_vertices"]) and len(materials) == len(faces)
        assert materials.max() < len(job["materials"])
    assert [c["name"] for c in job["cameras"]] == ["front", "overhead"]  # the wrist camera is not drawn


def test_object_mesh_is_placed_at_its_spec_pose(scene):
    job, arrays = scene_job(scene)
    obj = scene.objects[5]
    i = 3 + 5  # after the bench, the pedestal and the arm
    bounds = obj.geometry.bounds
    np.testing.assert_allclose(arrays[f"mesh{i}_vertices"].min(0), bounds[0], atol=1e-3)
    np.testing.assert_allclose(arrays[f"mesh{i}_vertices"].max(0), bounds[1], atol=1e-3)
    rotation = np.reshape(pybullet.getMatrixFromQuaternion(pybullet.getQuaternionFromEuler(obj.pose.rpy)), (3, 3))
    np.testing.assert_allclose(arrays[f"mesh{i}_matrix"][:3, :3], rotation, atol=1e-6)
    np.testing.assert_allclose(arrays[f"mesh{i}_matrix"][:3, 3], obj.pose.position)


def test_robot_kinematics_match_pybullet():
    client = BulletClient(pybullet.DIRECT)
    try:
        panda = Panda(client, (0.0, 0.0, 0.0))
        names = [client.getJointInfo(panda.body, j)[1].decode() for j in range(client.getNumJoints(panda.body))]
        links = [client.getJointInfo(panda.body, j)[12].decode() for j in range(client.getNumJoints(panda.body))]
        q = [s[0] for s in client.getJointStates(panda.body, range(len(names)))]
        poses = link_poses(dict(zip(names, q)))
        for j, link in enumerate(links):
            position = client.getLinkState(panda.body, j, computeForwardKinematics=True)[4]
            np.testing.assert_allclose(poses[link][:3, 3], position, atol=1e-6, err_msg=link)
    finally:
        client.disconnect()
    assert {m.link for m in panda_home_meshes()} >= {"panda_link0", "panda_hand", "panda_leftfinger"}


def test_bad_options_are_named():
    with pytest.raises(TypeError, match="sampels"):
        BlenderProcRenderer(sampels=4)
    with pytest.raises(ValueError, match="device"):
        BlenderProcConfig(device="tpu")
    with pytest.raises(ValueError, match="resolution"):
        BlenderProcConfig(resolution=(0, 64))


# --- with Blender ---------------------------------------------------------------------------------
@needs_blender
def test_frames_follow_the_camera_contract(blender_frames, pybullet_frames):
    assert sorted(blender_frames) == sorted(pybullet_frames) == ["front", "overhead"]
    for name, frame in blender_frames.items():
        reference = pybullet_frames[name]
        assert frame.rgb.shape == (SIZE, SIZE, 3) and frame.rgb.dtype == np.uint8
        assert frame.depth.shape == (SIZE, SIZE) and frame.depth.dtype == np.float32
        assert frame.segmentation.shape == (SIZE, SIZE) and frame.segmentation.dtype == np.int32
        np.testing.assert_array_equal(frame.intrinsics, reference.intrinsics)
        np.testing.assert_array_equal(frame.extrinsics, reference.extrinsics)
        assert frame.rgb.std() > 10  # a picture, not a blank frame


@needs_blender
def test_segmentation_matches_the_spec_and_pybullet(scene, blender_frames, pybullet_frames):
    allowed = {0, BENCH_ID, ROBOT_ID} | {FIRST_OBJECT_ID + i for i in range(len(scene.objects))}
    for name, frame in blender_frames.items():
        ours, theirs = frame.segmentation, pybullet_frames[name].segmentation
        assert set(np.unique(ours)) <= allowed
        visible = {i for i in np.unique(ours) if i >= FIRST_OBJECT_ID}
        reference = {i for i in np.unique(theirs) if i >= FIRST_OBJECT_ID}
        assert len(visible ^ reference) <= 1, (name, visible ^ reference)  # a sliver of one object may differ
        assert np.mean(ours == theirs) > 0.97, name
        robot = ours == ROBOT_ID, theirs == ROBOT_ID
        if robot[1].sum() > 20:
            assert (robot[0] & robot[1]).sum() / (robot[0] | robot[1]).sum() > 0.8, name


@needs_blender
def test_depth_in_metres_agrees_with_pybullet(scene, blender_frames, pybullet_frames):
    for name, frame in blender_frames.items():
        reference = pybullet_frames[name]
        same = (frame.segmentation == reference.segmentation) & (frame.segmentation >= FIRST_OBJECT_ID)
        assert same.sum() > 50, name
        assert np.median(np.abs(frame.depth[same] - reference.depth[same])) < 2e-3, name
        cam = next(c for c in scene.cameras if c.name == name)
        np.testing.assert_array_equal(frame.depth[frame.segmentation == 0], np.float32(cam.far))


@needs_blender
def test_child_is_replaced_when_it_dies_or_has_drawn_its_share(scene):
    other = _small(sample_clutter(seed=6, n_tools=4))
    with BlenderProcRenderer(scenes_per_process=2, **FAST) as r:
        first = r.render(scene)
        os.kill(r.child_pid, signal.SIGKILL)  # dies between scenes: the next render starts another
        r.render(other)
        again = r.render(scene)  # that child's second scene: it is retired afterwards
        assert r.processes_started == 2 and r.child_pid is None
    for name in first:  # same spec, same frames, whichever process drew them
        for buffer in ("rgb", "depth", "segmentation"):
            np.testing.assert_array_equal(getattr(again[name], buffer), getattr(first[name], buffer), err_msg=f"{name} {buffer}")


@needs_blender
def test_timeout_kills_the_child_and_quotes_its_stderr(scene):
    with BlenderProcRenderer(timeout_s=0.05, retries=0, **FAST) as r:
        with pytest.raises(BlenderProcError, match=r"(?s)seed=.*timed out.*stderr.*\S"):
            r.render(scene)
        assert r.child_pid is None  # killed, not left running


@needs_blender
def test_the_wrist_camera_is_drawn_where_the_hand_holds_it(renderer):
    import gymnasium as gym

    from workbench_gym.benchmark.photoreal import PhotorealFrames

    env = PhotorealFrames(gym.make("workbench_gym/PickTool-v0", control_mode="primitive", obs_mode="rgbd_seg", cameras=("wrist",),
                                   image_size=(SIZE, SIZE)), renderer)
    try:
        obs, _ = env.reset(seed=5204)
        cycles, pybullet_frame = obs["cameras"]["wrist"], env.unwrapped.world.render("wrist")
        assert not np.array_equal(cycles["rgb"], pybullet_frame.rgb), "Cycles drew the wrist view"
        same = (cycles["segmentation"] == pybullet_frame.segmentation) & (pybullet_frame.segmentation > 0)
        assert same.mean() > 0.5, "the same bodies at the same pixels: the camera is where the hand holds it"
        assert np.median(np.abs(cycles["depth"][same] - pybullet_frame.depth[same])) < 3e-3
    finally:
        env.close()
