"""Triangle meshes of the Panda at its home pose, for renderers other than PyBullet.

Forward kinematics of the same low-poly URDF that `sim.robot` loads (its collision meshes), at
`sim.robot.HOME` with the fingers fully open, as `World.build` leaves the arm. Reading the URDF
here, rather than asking PyBullet, keeps other renderers independent of the simulator.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass
from functools import cache, lru_cache

import numpy as np
import trimesh

from workbench_gym.scenes.parts import quat_from_euler, quat_to_matrix
from workbench_gym.sim.robot import ARM_JOINTS, FINGER_JOINTS, HOME, LINK_COLOURS, MAX_FINGER_WIDTH, lowpoly_panda_urdf


@dataclass(frozen=True)
class LinkMesh:
    """One link's visual mesh in the robot base frame, and its colour (linear RGB)."""

    link: str
    mesh: trimesh.Trimesh
    colour: tuple[float, float, float]


def _origin(element) -> np.ndarray:
    """4x4 transform of a URDF <origin> (identity when absent)."""
    out = np.eye(4)
    if element is not None:
        out[:3, 3] = [float(v) for v in element.get("xyz", "0 0 0").split()]
        out[:3, :3] = quat_to_matrix(quat_from_euler(*(float(v) for v in element.get("rpy", "0 0 0").split())))
    return out


def _joint_motion(joint, value: float) -> np.ndarray:
    """Transform a revolute or prismatic joint adds at `value` (radians or metres)."""
    out = np.eye(4)
    kind = joint.get("type")
    if kind == "fixed":
        return out
    axis = np.array([float(v) for v in joint.find("axis").get("xyz").split()])
    if kind == "prismatic":
        out[:3, 3] = axis * value
    elif kind in ("revolute", "continuous"):
        out[:3, :3] = trimesh.transformations.rotation_matrix(value, axis)[:3, :3]
    else:
        raise ValueError(f"unsupported URDF joint type {kind!r} in {joint.get('name')!r}")
    return out


def link_poses(joint_values: dict[str, float]) -> dict[str, np.ndarray]:
    """Base-frame pose (4x4) of every link of the URDF for the given joint values (missing joints: 0)."""
    root = ET.parse(lowpoly_panda_urdf()).getroot()
    joints = root.findall("joint")
    children = {j.find("child").get("link") for j in joints}
    poses = {link.get("name"): np.eye(4) for link in root.findall("link") if link.get("name") not in children}
    pending = list(joints)
    while pending:  # URDF lists joints in any order: place each once its parent is placed
        ready = [j for j in pending if j.find("parent").get("link") in poses]
        if not ready:
            raise ValueError(f"URDF joints {[j.get('name') for j in pending]} hang from links that are never placed")
        for joint in ready:
            parent = poses[joint.find("parent").get("link")]
            motion = _joint_motion(joint, joint_values.get(joint.get("name"), 0.0))
            poses[joint.find("child").get("link")] = parent @ _origin(joint.find("origin")) @ motion
            pending.remove(joint)
    return poses


@lru_cache(maxsize=1)
def panda_home_meshes() -> tuple[LinkMesh, ...]:
    """The Panda's link meshes at `HOME`, fingers open, in its base frame (what PyBullet draws after a reset)."""
    return panda_meshes(HOME, MAX_FINGER_WIDTH)


def panda_meshes(arm_q, finger_width: float) -> tuple[LinkMesh, ...]:
    """The Panda's link meshes at arm joint angles `arm_q` (7) and a finger opening (metres), in its base frame."""
    root = ET.parse(lowpoly_panda_urdf()).getroot()
    joints = root.findall("joint")
    # PyBullet numbers a joint and its child link by the joint's place in the file; sim.robot colours links by that index.
    link_index = {j.find("child").get("link"): i for i, j in enumerate(joints)}
    names = {i: j.get("name") for i, j in enumerate(joints)}
    values = {names[i]: float(q) for i, q in zip(ARM_JOINTS, arm_q)}
    values.update({names[i]: float(finger_width) / 2 for i in FINGER_JOINTS})
    poses = link_poses(values)
    out = []
    for link in root.findall("link"):
        name = link.get("name")
        for visual in link.findall("visual"):
            mesh_element = visual.find("geometry/mesh")
            if mesh_element is None:
                continue
            mesh = _link_mesh(mesh_element.get("filename"), mesh_element.get("scale", "1 1 1")).copy()
            mesh.apply_transform(poses[name] @ _origin(visual.find("origin")))
            colour = LINK_COLOURS.get(link_index.get(name), (0.92, 0.92, 0.92, 1.0))[:3]  # URDF: panda_white
            out.append(LinkMesh(name, mesh, tuple(colour)))
    return tuple(out)


@cache
def _link_mesh(filename: str, scale: str) -> trimesh.Trimesh:
    """A link's mesh file, scaled, read once per process (an arm drawn at every step reads the same files)."""
    mesh = trimesh.load(filename, force="mesh", process=False)
    mesh.apply_scale([float(v) for v in scale.split()])
    return mesh
