import dataclasses

import numpy as np
import pybullet
import pytest

from workbench_gym.scenes import sample_clutter
from workbench_gym.scenes.parts import quat_to_matrix
from workbench_gym.sim import BACKGROUND_ID, BENCH_ID, FIRST_OBJECT_ID, ROBOT_ID, World
from workbench_gym.sim.robot import HOME

ARM_AWAY = (2.6, -0.5, 0.0, -2.0, 0.0, 1.6, 0.8)  # turned back, out of the overhead view


@pytest.mark.parametrize("seed", [0, 1])
def test_forty_tools_settle_without_losses(seed):
    spec = sample_clutter(seed, 40, density=0.5)
    world = World()
    try:
        world.build(spec)
        assert world.fallen_objects() == []
        for tool in spec.tools:  # settling moves nothing far from its spec pose
            position, _ = world.object_pose(tool.name)
            assert np.linalg.norm(position[:2] - np.asarray(tool.pose.position[:2])) < 0.01, tool.name
    finally:
        world.close()


def test_fallen_objects_are_reported(world12, spec12):
    tool = spec12.tools[0]
    world12.set_object_pose(tool, (0.5, 1.5, 0.3))  # beside the bench
    world12.step(50)
    assert tool.name in world12.fallen_objects()


def _project(frame, points):
    cam = (frame.extrinsics[:3, :3] @ points.T).T + frame.extrinsics[:3, 3]
    pix = (frame.intrinsics @ cam.T).T
    return pix[:, :2] / pix[:, 2:], cam[:, 2]


def _top_of_biggest_part(world, tool):
    """World point on top of a tool's most voluminous part: visible from above, inside its mask."""
    part = max(tool.geometry.parts, key=lambda p: p.volume)
    position, quaternion = world.object_pose(tool.name)
    local = np.asarray(part.position, dtype=float)
    local[2] = part.body_vertices()[:, 2].max()
    return position + quat_to_matrix(quaternion) @ local


def test_projected_centres_land_in_their_own_masks(spec12):
    cameras = [dataclasses.replace(c, width=320, height=320) for c in spec12.cameras]  # nuts span a few pixels
    world12 = World()
    world12.build(dataclasses.replace(spec12, cameras=cameras))
    world12.robot.reset(ARM_AWAY)
    frame = world12.render("overhead")
    points = np.array([_top_of_biggest_part(world12, t) for t in spec12.tools])
    pixels, depths = _project(frame, points)
    h, w = frame.segmentation.shape
    for tool, (u, v), z in zip(spec12.tools, pixels, depths):
        iu, iv = int(round(u)), int(round(v))
        assert 0 <= iu < w and 0 <= iv < h, f"{tool.name} projects outside the image"
        window = frame.segmentation[max(iv - 1, 0):iv + 2, max(iu - 1, 0):iu + 2]
        assert world12.instance_ids[tool.name] in window, f"{tool.name} not in its mask"
        assert abs(frame.depth[iv, iu] - z) < 0.02, f"{tool.name}: depth {frame.depth[iv, iu]} vs {z}"
    world12.close()


def test_segmentation_ids_are_named(world12, spec12):
    frame = world12.render("front")
    ids = set(np.unique(frame.segmentation).tolist())
    assert {BACKGROUND_ID, BENCH_ID, ROBOT_ID} <= ids
    expected = {FIRST_OBJECT_ID + i for i in range(len(spec12.objects))}
    assert expected == set(world12.instance_ids.values())
    assert len(ids & expected) >= len(expected) - 3  # a few may hide behind others


@pytest.mark.parametrize("camera", ["front", "overhead", "wrist"])
def test_bench_pixels_back_project_onto_the_bench_top(world12, spec12, camera):
    """Depth, K and extrinsics agree: bench pixels lifted to 3D lie on the plane z = bench height."""
    if camera == "wrist":
        world12.robot.reset(HOME)
    frame = world12.render(camera)
    v, u = np.nonzero(frame.segmentation == BENCH_ID)
    assert len(u) > 50
    z = frame.depth[v, u]
    k_inv = np.linalg.inv(frame.intrinsics)
    cam = (k_inv @ np.stack([u, v, np.ones_like(u)]).astype(np.float64)) * z
    rot, t = frame.extrinsics[:3, :3], frame.extrinsics[:3, 3]
    world = rot.T @ (cam - t[:, None])
    bench = spec12.bench
    on_top = np.abs(world[2] - bench.height) < 0.001
    on_side = (np.abs(world[0] - bench.hi[0]) < 0.001) | (np.abs(np.abs(world[1]) - bench.hi[1]) < 0.001)
    assert on_top.mean() > 0.5
    assert (on_top | on_side).mean() > 0.99


def test_buffers_have_documented_types(world12):
    frame = world12.render("front")
    h, w = frame.depth.shape
    assert frame.rgb.dtype == np.uint8 and frame.rgb.shape == (h, w, 3)
    assert frame.depth.dtype == np.float32 and np.all(frame.depth > 0)
    assert frame.segmentation.dtype == np.int32
    assert frame.intrinsics.shape == (3, 3) and frame.extrinsics.shape == (4, 4)
    only_rgb = world12.render("front", depth=False, segmentation=False)
    assert only_rgb.depth is None and only_rgb.segmentation is None
    np.testing.assert_array_equal(only_rgb.rgb, frame.rgb)


def test_wrist_camera_moves_with_the_hand(world12):
    first = world12.render("wrist").extrinsics
    world12.robot.reset(ARM_AWAY)
    assert not np.allclose(first, world12.render("wrist").extrinsics)


def test_unknown_camera(world12):
    with pytest.raises(KeyError, match="no camera 'ceiling'"):
        world12.render("ceiling")


def test_close_disconnects_and_is_idempotent(spec12):
    world = World()
    cid = world.client_id
    world.build(spec12, settle=False)
    world.close()
    world.close()
    assert not pybullet.isConnected(cid)
    assert not world.connected


def _full_render(world, camera):
    layers, world.layers = world.layers, None
    try:
        return world.render(camera)
    finally:
        world.layers = layers


@pytest.mark.parametrize("camera", ["front", "overhead"])
def test_cached_scenery_composite_equals_a_full_render(world12, spec12, camera):
    """Fixed cameras draw static scenery once and composite moving bodies by depth: same pixels."""
    world12.render(camera)  # caches the background
    world12.robot.reset(ARM_AWAY)
    world12.set_object_pose(spec12.tools[0], (0.45, 0.0, spec12.bench.height + 0.2))
    bin_ = spec12.containers[0]
    world12.set_object_pose(bin_, (bin_.pose.position[0], bin_.pose.position[1] + 0.03, bin_.pose.position[2]))
    fast, full = world12.render(camera), _full_render(world12, camera)
    np.testing.assert_array_equal(fast.rgb, full.rgb)
    np.testing.assert_array_equal(fast.depth, full.depth)
    np.testing.assert_array_equal(fast.segmentation, full.segmentation)


def test_the_panda_collides_with_the_hulls_its_full_meshes_make(tmp_path):
    """The URDF's collision meshes are trimmed copies (sim.robot.hull_obj): PyBullet must build the same points, in the same order."""
    from pathlib import Path

    import pybullet_data

    from workbench_gym.sim.robot import lowpoly_panda_urdf

    trimmed = Path(lowpoly_panda_urdf())
    originals = Path(pybullet_data.getDataPath()) / "franka_panda" / "meshes" / "collision"
    full = tmp_path / "full.urdf"
    full.write_text(trimmed.read_text().replace(f'"{trimmed.parent.as_posix()}/', f'"{originals.as_posix()}/'))
    assert full.read_text() != trimmed.read_text()
    client = pybullet.connect(pybullet.DIRECT)
    try:
        hulls = []
        for urdf in (trimmed, full):
            body = pybullet.loadURDF(str(urdf), useFixedBase=True, physicsClientId=client)
            hulls.append([pybullet.getMeshData(body, link, physicsClientId=client) for link in range(-1, pybullet.getNumJoints(body, physicsClientId=client))])
        assert sum(n for n, _ in hulls[0]) > 1000
        assert hulls[0] == hulls[1]
    finally:
        pybullet.disconnect(client)


def test_parallel_workers_write_the_panda_files_once(tmp_path):
    """Workers starting together (a vector env) each find a whole URDF folder, and no half-written copy is left behind."""
    import os
    import subprocess
    import sys

    code = "from workbench_gym.sim.robot import lowpoly_panda_urdf as f; import pybullet as p; p.connect(p.DIRECT); p.loadURDF(f()); print(f())"
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    workers = [subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True) for _ in range(6)]
    paths = {worker.communicate(timeout=120)[0].strip() for worker in workers}
    assert [worker.returncode for worker in workers] == [0] * 6
    assert len(paths) == 1
    (folder,) = tmp_path.iterdir()
    assert str(folder / "panda.urdf") in paths
    assert len(list(folder.glob("*.obj"))) == 10
