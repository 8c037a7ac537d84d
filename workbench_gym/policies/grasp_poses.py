"""Where the hand goes: a pick at a fitted tool's catalog grasp region, a place that sets a held tool in a zone.

Poses only, from what the planner measured (`ToolEstimate`, `Zone`) and public catalog shapes; the step machine
decides when.
"""

from __future__ import annotations

import math

import numpy as np

from workbench_gym.control.grasp_regions import GRASP_SLIDES, finger_width, region_grasp
from workbench_gym.envs.high_level import Pick, Place
from workbench_gym.language.task import HANDOVER
from workbench_gym.policies.perception import ToolEstimate
from workbench_gym.scenes.geometry import build_geometry
from workbench_gym.scenes.parts import quat_to_matrix
from workbench_gym.scenes.zones import Zone

LONG_TOOL_MARGIN = 0.04  # metres: a tool within this of a zone's length goes in diagonally


def pick_at(estimate: ToolEstimate, attempt: int = 0) -> Pick:
    """The Pick at a fitted tool's catalog grasp region.

    Odd retries assume the fit had the tool the wrong way round (ends are what a partial mask gets wrong);
    later ones slide along the region as the oracle's retries do.
    """
    pose = estimate.flipped() if attempt % 2 else estimate
    grasp = build_geometry(estimate.category, estimate.size).grasp
    slide = GRASP_SLIDES[(attempt // 2) % len(GRASP_SLIDES)]
    point, yaw = region_grasp(pose.position, pose.rotation, grasp, slide)
    return Pick((float(point[0]), float(point[1]), float(point[2]), float(yaw)), finger_width(grasp))


def retry_kind(attempt: int) -> str:
    return "taking it the other way round" if attempt % 2 else "sliding along its grasp region"


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
