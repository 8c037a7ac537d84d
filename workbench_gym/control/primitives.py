"""Motion primitives: pick and place with a top-down gripper, executed by IK and joint position control.

Each primitive returns a `PrimitiveResult` with success and a reason (unreachable, missed, slipped,
collided, timed out). Time is counted in physics steps of the simulation, never wall-clock.
The optional assisted grasp welds the object to the hand with a fixed constraint once both finger
pads touch it, as RLBench and Ravens do, because friction alone drops thin tools.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

import numpy as np
import pybullet

from workbench_gym.control.ik import InverseKinematics, top_down_quaternion
from workbench_gym.scenes.parts import quat_to_matrix
from workbench_gym.sim.robot import FINGER_JOINTS, HAND_LINK, MAX_FINGER_WIDTH
from workbench_gym.sim.world import ROBOT_BASE, World

FINGERTIP_DROP = 0.0085  # metres the fingertips reach below the grasp point (measured)
#: Metres from the arm's base beyond which no IK is tried: the Panda reaches 0.855 m from its shoulder, 0.333 m above
#: the base, so nothing past ~1.2 m is reachable; IK on absurd targets (1e308) overflows and spins for minutes.
REACH_LIMIT = 1.5
_ARM_LINKS = tuple(range(HAND_LINK))  # links that must not touch the scene (hand and fingers may)
_HAND_LINKS = (HAND_LINK, *FINGER_JOINTS)


def touching_both_pads(world: World) -> str | None:
    """The tool both finger pads touch, if one does (containers are fixed: never grasped)."""
    client, robot = world.client, world.robot.body
    touched = [{c[2] for c in client.getContactPoints(bodyA=robot, linkIndexA=link)} for link in FINGER_JOINTS]
    for tool in world.spec.tools:
        body = world.bodies[tool.name]
        if body in touched[0] and body in touched[1]:
            return tool.name
    return None


def weld_to_hand(world: World, name: str) -> int:
    """Fix an object to the hand where it is now (the assisted grasp); returns the constraint id.

    PyBullet reads a constraint's frames in each body's centre-of-mass frame: the hand's lies 4 cm below its link
    frame, so a weld made in the link frame would pull the tool 4 cm down into the bench as it is lifted.
    """
    client, body, robot = world.client, world.bodies[name], world.robot
    hand_pos, hand_orn = robot.link_pose(HAND_LINK, centre_of_mass=True)
    obj_pos, obj_orn = client.getBasePositionAndOrientation(body)
    inv_pos, inv_orn = client.invertTransform(hand_pos, hand_orn)
    rel_pos, rel_orn = client.multiplyTransforms(inv_pos, inv_orn, obj_pos, obj_orn)
    weld = client.createConstraint(robot.body, HAND_LINK, body, -1, pybullet.JOINT_FIXED, [0, 0, 0], rel_pos, [0, 0, 0], rel_orn)
    client.changeConstraint(weld, maxForce=1000.0)
    return weld


def _rounded(position) -> list[float]:
    return [round(float(v), 3) for v in position]  # np.round overflows on 1e307


class Reason(str, Enum):
    """Why a primitive ended."""

    OK = "ok"
    UNREACHABLE = "unreachable"
    MISSED = "missed"
    SLIPPED = "slipped"
    COLLIDED = "collided"
    TIMED_OUT = "timed_out"
    EMPTY_TEXT = "empty_text"  # an Answer or Ask without words (high-level actions)


@dataclass(frozen=True)
class PrimitiveResult:
    """Outcome of one primitive: `held` names the object in the gripper afterwards, if any."""

    success: bool
    reason: Reason
    sim_steps: int
    held: str | None = None
    detail: str = ""


@dataclass(frozen=True)
class PrimitiveConfig:
    """Heights are above the bench top; speeds in metres per second of simulated time."""

    safe_height: float = 0.25
    approach_height: float = 0.10
    lift_height: float = 0.22
    speed: float = 0.5
    waypoint: float = 0.01  # metres between Cartesian waypoints
    settle_tolerance: float = 0.01  # radians of joint error that counts as arrived
    move_timeout: float = 4.0  # simulated seconds for one motion
    gripper_time: float = 0.5
    assisted_grasp: bool = True


class MotionPrimitives:
    """Pick and place for one world; remembers what it holds between calls."""

    def __init__(self, world: World, config: PrimitiveConfig = PrimitiveConfig()):
        self.world = world
        self.config = config
        self.robot = world.robot
        self.ik = InverseKinematics(world.robot)
        self.held: str | None = None
        self._weld: int | None = None
        self._steps = 0
        self._width = MAX_FINGER_WIDTH

    # --- low-level motion -----------------------------------------------------------------------
    def _step(self, n: int) -> None:
        self.world.step(n)
        self._steps += n

    def _seconds(self, seconds: float) -> int:
        return max(1, int(round(seconds / self.world.config.timestep)))

    def _contacts(self, guarded: bool) -> set[tuple[int, int]]:
        """(body, link) pairs where the robot touches the scene where it must not.

        Arm links must never touch anything; when `guarded` (travelling above the bench) neither
        may the hand or fingers, except for the object they hold.
        """
        held = self.world.bodies.get(self.held) if self.held else None
        return {(c[2], c[3]) for c in self.world.client.getContactPoints(bodyA=self.robot.body)
                if c[2] not in (self.robot.body, held) and (c[3] in _ARM_LINKS or guarded)}

    def _held_touches_down(self) -> bool:
        """Whether the held object, or the hand holding it, rests on something (a floor, a bin's wall, another tool)."""
        client, body = self.world.client, self.world.bodies[self.held]
        if any(c[2] != self.robot.body for c in client.getContactPoints(bodyA=body)):
            return True
        return any(c[3] in _HAND_LINKS and c[2] not in (body, self.robot.body) for c in client.getContactPoints(bodyA=self.robot.body))

    def _move(self, position, yaw: float, guarded: bool = False, set_down: bool = False) -> Reason:
        """Move the grasp point in a straight line to `position`, gripper down at `yaw`.

        With `set_down`, arriving early is fine: the move ends once the held object touches down.
        """
        cfg = self.config
        quat = top_down_quaternion(yaw)
        goal = self.ik.solve_to_tolerance(position, quat)
        if not goal.converged:
            return Reason.UNREACHABLE
        start = self.robot.ee_pose()[0]
        # A tool already touching the arm as the move begins (one left leaning on it) is no collision of this move:
        # counting it would end every later move at once, and the arm could never move away from it.
        tools = {self.world.bodies[t.name] for t in self.world.spec.tools}
        touching = {pair for pair in self._contacts(guarded) if pair[0] in tools}
        n = max(1, int(np.ceil(np.linalg.norm(np.asarray(position) - start) / cfg.waypoint)))
        per_waypoint = self._seconds(cfg.waypoint / cfg.speed)
        for k in range(1, n + 1):
            q = goal.joints if k == n else self.ik.solve(start + (np.asarray(position) - start) * k / n, quat)
            self.robot.command(q, self._width)
            self._step(per_waypoint)
            if set_down and self._held_touches_down():
                return Reason.OK
            if self._contacts(guarded) - touching:
                return Reason.COLLIDED
        for _ in range(self._seconds(cfg.move_timeout) // per_waypoint):
            if np.max(np.abs(self.robot.joint_state()[0][:7] - goal.joints)) < cfg.settle_tolerance:
                return Reason.OK
            if set_down and self._held_touches_down():
                return Reason.OK
            self._step(per_waypoint)
        return Reason.TIMED_OUT

    def _set_gripper(self, width: float) -> None:
        self._width = width
        self.robot.command(self.robot.joint_state()[0][:7], width)
        self._step(self._seconds(self.config.gripper_time))

    def _close_on_object(self) -> str | None:
        """Close the fingers; with the assisted grasp, weld the object as soon as both pads touch it."""
        self._width = 0.0
        self.robot.command(self.robot.joint_state()[0][:7], 0.0)
        chunk = 2
        for _ in range(self._seconds(self.config.gripper_time) // chunk):
            self._step(chunk)
            name = touching_both_pads(self.world)
            if name is not None and self.config.assisted_grasp:
                self._weld = weld_to_hand(self.world, name)
                return name
        return touching_both_pads(self.world)

    def _yaw(self) -> float:
        """Current gripper yaw (the hand points down, so its x axis lies in the bench plane)."""
        _, quat = self.robot.ee_pose()
        x_axis = quat_to_matrix(quat)[:, 0]
        return float(np.arctan2(x_axis[1], x_axis[0]))

    def _reachable_yaw(self, targets, yaw: float) -> float | None:
        """`yaw`, or the same grasp turned half a turn (fingers swapped), whichever the arm reaches; None if neither."""
        for candidate in (yaw, yaw - np.pi if yaw > 0 else yaw + np.pi):
            quat = top_down_quaternion(candidate)
            if all(self.ik.solve_to_tolerance(t, quat).converged for t in targets):
                return candidate
        return None

    def _out_of_reach(self, position) -> bool:
        """Whether `position` is non-finite or farther than `REACH_LIMIT` from the arm's base (no IK needed)."""
        offset = np.asarray(position, float) - (*ROBOT_BASE, self.world.spec.bench.height)  # the arm stands on the bench top
        return not (np.all(np.abs(offset) <= REACH_LIMIT) and float(offset @ offset) <= REACH_LIMIT**2)  # NaN fails too

    def _result(self, reason: Reason, detail: str = "") -> PrimitiveResult:
        steps, self._steps = self._steps, 0
        return PrimitiveResult(reason is Reason.OK, reason, steps, self.held, detail)

    # --- primitives ---------------------------------------------------------------------------
    def pick(self, position, yaw: float, width: float = MAX_FINGER_WIDTH) -> PrimitiveResult:
        """Grasp whatever lies at `position` (the grasp point) with the fingers closing across `yaw` + 90 deg.

        The fingers open to `width` (metres) before descending: no wider than needed, so they
        do not land on neighbouring tools.
        """
        cfg, top = self.config, self.world.spec.bench.height
        if self.held is not None:
            return self._result(Reason.MISSED, f"already holding {self.held}")
        if self._out_of_reach(position):
            return self._result(Reason.UNREACHABLE, f"{_rounded(position)} is beyond the arm's reach of {REACH_LIMIT} m")
        x, y, z = position
        z = max(z, top + FINGERTIP_DROP + 0.0015)  # keep the fingertips off the bench
        above, approach, grasp = (x, y, top + cfg.safe_height), (x, y, top + cfg.approach_height), (x, y, z)
        # Close to the arm's base the approach height is out of reach (the elbow folds to its limit, though the heights
        # above and below are not): then come straight down the same vertical line without stopping there.
        for path in ((above, approach, grasp), (above, grasp)):
            reached = self._reachable_yaw(path, yaw)
            if reached is not None:
                break
        yaw = reached
        if yaw is None:
            return self._result(Reason.UNREACHABLE, f"no IK solution near {np.round(position, 3).tolist()}")
        here = self.robot.ee_pose()[0]
        self._set_gripper(float(np.clip(width, 0.0, MAX_FINGER_WIDTH)))
        for i, target in enumerate(((here[0], here[1], top + cfg.safe_height), *path)):
            reason = self._move(target, yaw if i else self._yaw(), guarded=i == 1)
            if reason is not Reason.OK:
                return self._result(reason, f"moving to {np.round(target, 3).tolist()}")
        name = self._close_on_object()
        if name is None:
            self._set_gripper(MAX_FINGER_WIDTH)
            self._move((x, y, top + cfg.approach_height), yaw)
            return self._result(Reason.MISSED, "the finger pads closed on nothing")
        self.held = name
        before = self.world.object_pose(name)[0][2]
        reason = self._move((x, y, top + cfg.lift_height), yaw)
        lifted = self.world.object_pose(name)[0][2] - before
        if reason is not Reason.OK:
            return self._result(reason, "lifting")
        if lifted < 0.5 * (cfg.lift_height - (z - top)) or (self._weld is None and touching_both_pads(self.world) != name):
            self._release()
            return self._result(Reason.SLIPPED, f"{name} rose {lifted:.3f} m of {cfg.lift_height - (z - top):.3f}")
        return self._result(Reason.OK, f"holding {name}")

    def place(self, position, yaw: float) -> PrimitiveResult:
        """Carry the held object at a safe height, lower the grasp point to `position`, open, retreat."""
        cfg, top = self.config, self.world.spec.bench.height
        if self.held is None:
            return self._result(Reason.MISSED, "nothing is held")
        if self._out_of_reach(position):
            return self._result(Reason.UNREACHABLE, f"{_rounded(position)} is beyond the arm's reach of {REACH_LIMIT} m")
        x, y, z = position
        yaw = self._reachable_yaw(((x, y, top + cfg.safe_height), (x, y, z)), yaw)
        if yaw is None:
            return self._result(Reason.UNREACHABLE, f"no IK solution near {np.round(position, 3).tolist()}")
        here = self.robot.ee_pose()[0]
        for i, target in enumerate(((here[0], here[1], top + cfg.safe_height), (x, y, top + cfg.safe_height), (x, y, z))):
            reason = self._move(target, yaw if i else self._yaw(), guarded=i == 1, set_down=i == 2)
            if reason is not Reason.OK:
                return self._result(reason, f"moving to {np.round(target, 3).tolist()}")
            if self.held and self._weld is None and touching_both_pads(self.world) != self.held:
                self._release()
                return self._result(Reason.SLIPPED, "dropped while carrying")
        name = self.held
        self._release()
        self._move((x, y, top + cfg.safe_height), yaw)
        return self._result(Reason.OK, f"released {name}")

    def _release(self) -> None:
        if self._weld is not None:
            self.world.client.removeConstraint(self._weld)
            self._weld = None
        self.held = None  # with the weld, before the fingers open: recordings read `held` as the grasp assist
        self._set_gripper(MAX_FINGER_WIDTH)
