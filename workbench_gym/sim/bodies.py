"""PyBullet bodies built from scene-spec objects: one multibody per tool or container.

Collision: every part in one compound shape on the base. Visuals: parts grouped by colour, the
first group on the base and each further group on a massless fixed link (PyBullet colours a whole
visual shape array at once). The base frame sits at the centre of mass, as PyBullet requires, so
poses are converted between the spec's body frame and PyBullet's with `BodyFrame`.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pybullet
import trimesh

from workbench_gym.scenes.catalog import COLOURS, MATERIAL_COLOURS
from workbench_gym.scenes.geometry import BodyGeometry
from workbench_gym.scenes.parts import Part, quat_from_euler, quat_to_matrix
from workbench_gym.scenes.spec import ObjectSpec

_SHAPE_TYPES = {"box": pybullet.GEOM_BOX, "cylinder": pybullet.GEOM_CYLINDER, "capsule": pybullet.GEOM_CAPSULE, "mesh": pybullet.GEOM_MESH}
#: Per-material contact properties: lateral friction and rolling friction (round handles roll).
FRICTION = {"steel": 0.6, "plastic": 0.7, "rubber": 1.0, "wood": 0.7, "brass": 0.6}


def _mesh_file(part: Part) -> str:
    """OBJ file of a convex part, cached by content in the temp dir (PyBullet loads meshes from files)."""
    data = np.asarray(part.vertices, dtype=np.float64)
    name = hashlib.sha1(data.tobytes()).hexdigest()[:16]
    folder = Path(tempfile.gettempdir()) / f"workbench_gym_meshes_{os.getuid()}"
    path = folder / f"{name}.obj"
    if not path.exists():
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / f"{name}.{os.getpid()}.tmp"
        tmp.write_text(trimesh.convex.convex_hull(data).export(file_type="obj"))
        os.replace(tmp, path)
    return str(path)


def _shape_args(parts: list[Part], com: np.ndarray, frame_key: str) -> dict:
    """Keyword arguments of create{Collision,Visual}ShapeArray for parts, relative to the COM."""
    return {
        "shapeTypes": [_SHAPE_TYPES[p.shape] for p in parts],
        "halfExtents": [list(p.size) if p.shape == "box" else [0, 0, 0] for p in parts],
        "radii": [p.size[0] if p.shape in ("cylinder", "capsule") else 0 for p in parts],
        "lengths": [p.size[1] if p.shape in ("cylinder", "capsule") else 0 for p in parts],
        "fileNames": [_mesh_file(p) if p.shape == "mesh" else "" for p in parts],
        "meshScales": [[1, 1, 1] for _ in parts],
        f"{frame_key}FramePositions": [list(np.asarray(p.position) - com) for p in parts],
        f"{frame_key}FrameOrientations": [list(p.orientation) for p in parts],
    }


def part_colour(geometry: BodyGeometry, part: Part, colour: str) -> tuple[float, float, float, float]:
    rgb = COLOURS[colour] if part.role in geometry.coloured_roles else MATERIAL_COLOURS[part.material]
    return (*rgb, 1.0)


@dataclass(frozen=True)
class BodyFrame:
    """Offset between a spec body frame (origin on the resting plane) and PyBullet's COM frame."""

    com: np.ndarray

    def to_bullet(self, position, quaternion) -> tuple[list[float], list[float]]:
        return list(np.asarray(position) + quat_to_matrix(quaternion) @ self.com), list(quaternion)

    def from_bullet(self, position, quaternion) -> tuple[np.ndarray, np.ndarray]:
        return np.asarray(position) - quat_to_matrix(quaternion) @ self.com, np.asarray(quaternion)


def build_body(client, obj: ObjectSpec, static: bool) -> tuple[int, BodyFrame]:
    """Create the multibody of one spec object; returns its unique id and frame offset."""
    geometry = obj.geometry
    com = geometry.center_of_mass
    parts = list(geometry.parts)
    collision = client.createCollisionShapeArray(**_shape_args(parts, com, "collision"))
    groups: dict[tuple, list[Part]] = {}
    for part in parts:
        groups.setdefault(part_colour(geometry, part, obj.colour), []).append(part)
    visuals = [(rgba, client.createVisualShapeArray(**_shape_args(group, com, "visual"))) for rgba, group in groups.items()]
    frame = BodyFrame(com)
    position, orientation = frame.to_bullet(obj.pose.position, quat_from_euler(*obj.pose.rpy))
    extra = visuals[1:]
    body = client.createMultiBody(
        baseMass=0.0 if static else geometry.mass,
        baseCollisionShapeIndex=collision,
        baseVisualShapeIndex=visuals[0][1],
        basePosition=position,
        baseOrientation=orientation,
        linkMasses=[0.0] * len(extra),
        linkCollisionShapeIndices=[-1] * len(extra),
        linkVisualShapeIndices=[v for _, v in extra],
        linkPositions=[[0, 0, 0]] * len(extra),
        linkOrientations=[[0, 0, 0, 1]] * len(extra),
        linkInertialFramePositions=[[0, 0, 0]] * len(extra),
        linkInertialFrameOrientations=[[0, 0, 0, 1]] * len(extra),
        linkParentIndices=[0] * len(extra),
        linkJointTypes=[pybullet.JOINT_FIXED] * len(extra),
        linkJointAxis=[[0, 0, 1]] * len(extra),
    )
    for link, (rgba, _) in enumerate(visuals, start=-1):
        client.changeVisualShape(body, link, rgbaColor=rgba)
    main_material = max(parts, key=lambda p: p.mass).material
    client.changeDynamics(
        body, -1, lateralFriction=FRICTION[main_material], rollingFriction=1e-4, spinningFriction=1e-3,
        activationState=pybullet.ACTIVATION_STATE_ENABLE_SLEEPING,
    )
    return body, frame
