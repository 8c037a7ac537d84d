import dataclasses

import numpy as np
import pybullet
import pytest

from workbench_gym.control.ik import InverseKinematics, top_down_quaternion
from workbench_gym.control.primitives import MotionPrimitives, PrimitiveConfig, Reason
from workbench_gym.envs.grasping import grasp_pose, inside
from workbench_gym.scenes import ObjectSpec, Pose, sample_clutter
from workbench_gym.scenes.sampler import default_containers
from workbench_gym.sim import World


@pytest.fixture
def one_tool_world():
    def build(category="combination_wrench", seed=0):
        spec = sample_clutter(seed, 1, category_mix=[category])
        world = World()
        world.build(spec)
        built.append(world)
        return world, spec.tools[0]

    built = []
    yield build
    for world in built:
        world.close()


def test_ik_reaches_random_poses_within_tolerance(one_tool_world):
    world, _ = one_tool_world()
    ik = InverseKinematics(world.robot)
    before = world.robot.joint_state()
    rng = np.random.default_rng(0)
    top = world.spec.bench.height
    for _ in range(50):
        target = np.array([rng.uniform(0.3, 0.7), rng.uniform(-0.35, 0.35), top + rng.uniform(0.01, 0.35)])
        solution = ik.solve_to_tolerance(target, top_down_quaternion(rng.uniform(-np.pi / 2, np.pi / 2)))
        assert solution.converged and solution.position_error <= 0.002 and solution.angle_error <= np.radians(2)
        assert np.all(solution.joints >= world.robot.lower[:7]) and np.all(solution.joints <= world.robot.upper[:7])
    after = world.robot.joint_state()
    np.testing.assert_allclose(before[0], after[0], atol=1e-12)  # the arm was left as it was


def test_ik_unwinds_a_wrist_wound_near_its_limit(one_tool_world):
    """From an arm whose wrist is wound near its limit PyBullet's solver finds no answer for a yaw the arm reaches from
    its rest pose (above a far slot of the parts tray): the solve is tried again from there, and the arm's state is kept."""
    world, _ = one_tool_world()
    wound = [0.4, -0.3032, 0.0695, -2.7108, 0.0309, 2.408, 2.6359]  # after a pick, on its way to the tray (dev seed 1011)
    for joint, value in enumerate(wound):
        world.client.resetJointState(world.robot.body, joint, value)
    solution = InverseKinematics(world.robot).solve_to_tolerance((0.327, 0.53, 1.0), top_down_quaternion(1.91))
    assert solution.converged
    assert np.allclose(world.robot.joint_state()[0][:7], wound)


def test_ik_reports_unreachable_poses(one_tool_world):
    world, _ = one_tool_world()
    solution = InverseKinematics(world.robot).solve_to_tolerance((1.6, 0.0, 1.0), top_down_quaternion(0.0))
    assert not solution.converged and solution.position_error > 0.3


def test_pick_lifts_the_tool_and_place_puts_it_in_a_bin(one_tool_world):
    world, tool = one_tool_world()
    primitives = MotionPrimitives(world)
    steps_before = world.physics_steps
    picked = primitives.pick(*grasp_pose(world, tool))
    assert picked.success and picked.reason is Reason.OK and picked.held == tool.name
    assert picked.sim_steps == world.physics_steps - steps_before  # counted in simulated steps
    assert world.object_pose(tool.name)[0][2] > world.spec.bench.height + 0.08
    bin_ = next(c for c in world.spec.containers if c.name == "bin_middle")
    x, y, z = bin_.pose.position
    placed = primitives.place((x, y, z + 0.06), 0.0)
    assert placed.success and placed.held is None
    world.step(100)
    position = world.object_pose(tool.name)[0]
    assert abs(position[0] - x) < 0.08 and abs(position[1] - y) < 0.11 and position[2] < z + 0.05


def test_the_grasp_weld_holds_the_tool_where_the_pads_closed(one_tool_world, monkeypatch):
    """Lifted, a welded tool keeps the offset from the hand it had when the pads closed (a weld made in the hand's
    link frame rather than its centre-of-mass frame drags it 4 cm down, into the bench and its neighbours)."""
    import workbench_gym.control.primitives as primitives_module

    world, tool = one_tool_world()
    body = world.bodies[tool.name]

    def offset():
        hand = world.robot.link_pose(8)
        inv = world.client.invertTransform(*hand)
        return np.array(world.client.multiplyTransforms(*inv, *world.client.getBasePositionAndOrientation(body))[0])

    at_weld = []
    original = primitives_module.weld_to_hand

    def recording_weld(w, name):
        at_weld.append(offset())
        return original(w, name)

    monkeypatch.setattr(primitives_module, "weld_to_hand", recording_weld)
    picked = MotionPrimitives(world).pick(*grasp_pose(world, tool))
    assert picked.success and len(at_weld) == 1
    world.step(50)
    assert np.linalg.norm(offset() - at_weld[0]) < 0.005


def test_a_tool_close_to_the_arms_base_is_picked(one_tool_world):
    """10 cm above a tool 25 cm from the base the elbow is at its limit, though the heights above and below are reachable:
    the pick comes straight down instead of stopping there."""
    world, tool = one_tool_world()
    spec = dataclasses.replace(world.spec, tools=[dataclasses.replace(tool, pose=Pose((0.25, 0.0, tool.pose.position[2]), (0.0, 0.0, 1.0)))])
    world.build(spec)
    position, yaw = grasp_pose(world, spec.tools[0])
    assert 0.24 < position[0] < 0.28
    result = MotionPrimitives(world).pick(position, yaw)
    assert result.success and result.held == tool.name


def test_a_long_tool_set_down_in_a_bin_ends_up_inside_it(one_tool_world):
    """The hand is as wide as a bin: lowering a tool into one 5 cm off its centre line (a tool held off its grasp
    region's centre is set down so), the hand meets a rim before the tool meets the floor, and the place releases
    there rather than pressing on until it times out."""
    world, tool = one_tool_world("combination_wrench")
    primitives = MotionPrimitives(world)
    assert primitives.pick(*grasp_pose(world, tool)).success
    bin_ = next(c for c in world.spec.containers if c.name == "bin_middle")
    x, y, z = bin_.pose.position
    placed = primitives.place((x, y + 0.05, z + 0.035), 0.0)  # the tool's long axis along the bin's
    assert placed.success, placed.detail
    world.step(100)
    assert inside(world, tool, bin_)


def test_unreachable(one_tool_world):
    world, _ = one_tool_world()
    result = MotionPrimitives(world).pick((1.6, 0.0, world.spec.bench.height + 0.01), 0.0)
    assert result.reason is Reason.UNREACHABLE and result.sim_steps == 0, "nothing moved"


def test_missed_on_an_empty_spot(one_tool_world):
    world, tool = one_tool_world()
    x, y, _ = tool.pose.position
    empty = (0.45, -y if abs(y) > 0.15 else y + 0.3, world.spec.bench.height + 0.01)
    result = MotionPrimitives(world).pick(empty, 0.0)
    assert result.reason is Reason.MISSED and result.held is None


def test_slipped_when_friction_cannot_hold(one_tool_world):
    world, tool = one_tool_world("claw_hammer")
    world.client.changeDynamics(world.bodies[tool.name], -1, lateralFriction=0.0)
    result = MotionPrimitives(world, PrimitiveConfig(assisted_grasp=False)).pick(*grasp_pose(world, tool))
    assert result.reason is Reason.SLIPPED and result.held is None


def test_collided_with_an_obstacle_in_the_way(one_tool_world):
    world, tool = one_tool_world()
    primitives = MotionPrimitives(world)
    assert primitives.pick(*grasp_pose(world, tool)).success
    hand = world.robot.ee_pose()[0]
    c = world.client
    wall = c.createCollisionShape(pybullet.GEOM_BOX, halfExtents=[0.3, 0.01, 0.4])
    c.createMultiBody(0, wall, -1, [hand[0], hand[1] + 0.15, world.spec.bench.height + 0.4])
    result = primitives.place((hand[0], hand[1] + 0.35, world.spec.bench.height + 0.05), 0.0)
    assert result.reason is Reason.COLLIDED


def test_timed_out_when_motion_is_too_slow(one_tool_world):
    world, tool = one_tool_world()
    config = dataclasses.replace(PrimitiveConfig(), move_timeout=0.02, speed=50.0)
    result = MotionPrimitives(world, config).pick(*grasp_pose(world, tool))
    assert result.reason is Reason.TIMED_OUT


def test_tool_inside_a_container_is_a_valid_spec_and_settles(one_tool_world):
    world, _ = one_tool_world()
    bins = default_containers(world.spec.bench)
    x, y, z = bins[0].pose.position
    spec = dataclasses.replace(world.spec, tools=[ObjectSpec("nut_in_bin", "nut", "large", "brass", Pose((x, y, z + 0.006)))])
    world.build(spec)
    assert world.fallen_objects() == []


def test_containers_are_never_grasped(one_tool_world):
    """Fingers closing on the tray's wall must not weld the (fixed) tray to the hand."""
    world, _ = one_tool_world()
    tray = next(c for c in world.spec.containers if c.category == "parts_tray")
    x, y, z = tray.pose.position
    wall_y = y + tray.geometry.bounds[1, 1] - 0.002  # the middle of the +y wall
    result = MotionPrimitives(world).pick((x, wall_y, z + 0.03), 0.0, width=0.03)
    assert result.reason is Reason.MISSED and result.held is None
    assert world.client.getNumConstraints() == 0
