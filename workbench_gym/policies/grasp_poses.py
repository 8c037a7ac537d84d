"""Where the hand goes: a pick at a fitted tool's catalog grasp region, a place that sets a held tool in a zone.

Poses only, from what the planner measured (`ToolEstimate`, `Zone`) and public catalog shapes; the step machine
decides when.
"""

from __future__ import annotations

import math

import numpy as np

from workbench_gym.control.grasp_regions import GRASP_SLIDES, finger_width, region_grasp, turned
from workbench_gym.envs.high_level import Pick, Place
from workbench_gym.language.task import HANDOVER
from workbench_gym.policies.perception import ToolEstimate
from workbench_gym.scenes.geometry import GraspRegion, build_geometry
from workbench_gym.scenes.parts import quat_to_matrix
from workbench_gym.scenes.zones import Zone

LONG_TOOL_MARGIN = 0.04  # metres: a tool within this of a zone's length goes in diagonally


def _retry(grasp: GraspRegion, attempt: int) -> tuple[float, bool, float]:
    """(turn, flipped, slide) of grasp `attempt` (0 first): first the region's turns (`GraspRegion.turns`), then
    alternately the fit the other way round and not, sliding along the region as the oracle's retries do."""
    if 0 < attempt <= len(grasp.turns):
        return grasp.turns[attempt - 1], False, 0.0
    k = attempt - len(grasp.turns) if attempt else 0
    return 0.0, bool(k % 2), GRASP_SLIDES[(k // 2) % len(GRASP_SLIDES)]


def pick_at(estimate: ToolEstimate, attempt: int = 0) -> Pick:
    """The Pick at a fitted tool's catalog grasp region.

    Retries of a part held as well across other sides (a hex nut's other flats) close across those first: a finger
    that met a neighbour lands elsewhere. Then odd retries assume the fit had the tool the wrong way round (ends are
    what a partial mask gets wrong), and later ones slide along the region.
    """
    grasp = build_geometry(estimate.category, estimate.size).grasp
    turn, flip, slide = _retry(grasp, attempt)
    pose = estimate.flipped() if flip else estimate
    point, yaw = region_grasp(pose.position, pose.rotation, turned(grasp, turn), slide)
    return Pick((float(point[0]), float(point[1]), float(point[2]), float(yaw)), finger_width(grasp))


def retry_kind(estimate: ToolEstimate, attempt: int) -> str:
    """How retry `attempt` of `pick_at` differs from the first grasp, in words for the planner's log."""
    turn, flip, _ = _retry(build_geometry(estimate.category, estimate.size).grasp, attempt)
    if turn:
        return f"closing across its sides {abs(round(math.degrees(turn)))} degrees round"
    return "taking it the other way round" if flip else "sliding along its grasp region"


def place_in(zone: Zone, slot_index: int, held: ToolEstimate, carry: tuple[np.ndarray, float], clearance: float, failed: int) -> Place:
    """The Place that sets a held tool in a zone's slot.

    `carry` is the held tool's middle relative to the grasp point and the hand's yaw at the pick. The hand turns so
    the tool's long axis lies along the zone (bins), or keeps it (hand-over area), and the tool's middle, not the
    grasp point, goes on the slot. The yaw stays in [-90, 90) degrees, where the primitive takes it as given
    (outside, it may turn the hand half a turn, and the tool with it). After a failed place (`failed` odd) the
    hand goes to the plain slot: the middle's offset may have put it out of reach.
    """
    slot = zone.slot(slot_index)
    z = zone.floor_z + max(held.grip_height, 0.01) + clearance
    offset, pick_yaw = carry
    along = zone.yaw
    if held.model_length > 2 * zone.half[0] - LONG_TOOL_MARGIN:  # a long tool lies along the diagonal: more room
        along += math.atan2(zone.half[1], zone.half[0])
    turn = along - held.yaw if zone.name != HANDOVER else 0.0
    yaw = (pick_yaw + turn + math.pi / 2) % math.pi - math.pi / 2
    c, s = math.cos(yaw - pick_yaw), math.sin(yaw - pick_yaw)
    if failed % 2 == 0:
        slot = slot - np.array([[c, -s], [s, c]]) @ offset
    return Place((float(slot[0]), float(slot[1]), float(z), float(yaw)))


def yaw_of(quaternion: np.ndarray) -> float:
    """Yaw of the gripper's x axis from its quaternion (x, y, z, w); it points down, so x lies in the bench plane."""
    rot = quat_to_matrix(quaternion)
    return float(math.atan2(rot[1, 0], rot[0, 0]))
