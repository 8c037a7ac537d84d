"""Rigid primitive parts that tools and containers are built from.

A part is a box, cylinder, capsule or convex mesh at a pose in its owner's frame, made of a named
material. The same parts give the collision shapes, the visual shapes and the mass, so what the
robot touches is what the camera sees. Cylinders and capsules run along the part's local z axis,
as in PyBullet and USD.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import trimesh

Vec3 = tuple[float, float, float]
Quat = tuple[float, float, float, float]  # x, y, z, w

IDENTITY: Quat = (0.0, 0.0, 0.0, 1.0)

#: Densities in kg/m^3 of the materials parts are made of.
DENSITY = {"steel": 7850.0, "plastic": 1150.0, "rubber": 1250.0, "wood": 700.0, "brass": 8500.0}

SHAPES = ("box", "cylinder", "capsule", "mesh")
ROUND_SECTIONS = 12  # facets around a cylinder or capsule in triangle meshes


@dataclass(frozen=True)
class Part:
    """One rigid primitive of a body, posed in the body frame.

    `size` is (hx, hy, hz) half extents for a box, (radius, length) for a cylinder or capsule
    (length excludes a capsule's caps) and unused for a mesh, whose convex `vertices` are given.
    `role` names what the part is ("handle", "head", "jaw") and chooses its colour: parts whose
    role is listed in the owner's coloured roles take the instance colour, others their material's.
    """

    role: str
    shape: str
    size: tuple[float, ...]
    material: str
    position: Vec3 = (0.0, 0.0, 0.0)
    orientation: Quat = IDENTITY
    vertices: tuple[Vec3, ...] = field(default=(), repr=False)

    def local_vertices(self) -> np.ndarray:
        """Corner points bounding the part, in the part's own frame (exact for box and mesh)."""
        if self.shape == "box":
            hx, hy, hz = self.size
            return np.array([[sx * hx, sy * hy, sz * hz] for sx in (-1, 1) for sy in (-1, 1) for sz in (-1, 1)])
        if self.shape == "mesh":
            return np.asarray(self.vertices, dtype=float)
        radius, length = self.size
        half = length / 2 + (radius if self.shape == "capsule" else 0.0)
        ring = np.array([[radius * math.cos(a), radius * math.sin(a)] for a in np.linspace(0, 2 * math.pi, 16, endpoint=False)])
        return np.concatenate([np.c_[ring, np.full(16, z)] for z in (-half, half)])

    def body_vertices(self) -> np.ndarray:
        """Bounding points of the part in the owner's frame."""
        return self.local_vertices() @ quat_to_matrix(self.orientation).T + np.asarray(self.position)

    def mesh(self) -> trimesh.Trimesh:
        """Triangle mesh of the part in its owner's frame (what renderers and USD draw)."""
        if self.shape == "box":
            mesh = trimesh.creation.box(extents=2 * np.asarray(self.size))
        elif self.shape == "cylinder":
            mesh = trimesh.creation.cylinder(radius=self.size[0], height=self.size[1], sections=ROUND_SECTIONS)
        elif self.shape == "capsule":
            # trimesh's count is (latitude, longitude): ROUND_SECTIONS facets around the axis.
            mesh = trimesh.creation.capsule(height=self.size[1], radius=self.size[0], count=[6, ROUND_SECTIONS])
        else:
            mesh = trimesh.convex.convex_hull(np.asarray(self.vertices))
        transform = np.eye(4)
        transform[:3, :3], transform[:3, 3] = quat_to_matrix(self.orientation), self.position
        return mesh.apply_transform(transform)

    @property
    def volume(self) -> float:
        """Volume in cubic metres."""
        if self.shape == "box":
            return 8.0 * self.size[0] * self.size[1] * self.size[2]
        if self.shape == "cylinder":
            return math.pi * self.size[0] ** 2 * self.size[1]
        if self.shape == "capsule":
            r, length = self.size
            return math.pi * r**2 * length + 4.0 / 3.0 * math.pi * r**3
        return float(trimesh.convex.convex_hull(self.local_vertices()).volume)

    @property
    def mass(self) -> float:
        """Mass in kilograms from volume and material density."""
        return self.volume * DENSITY[self.material]


# Hand-written rather than scipy's Rotation: 4.7 us a call against its 22 us, on every camera frame, body pose and
# footprint (benchmarks/rotation_cost.py).
def quat_to_matrix(q: Quat) -> np.ndarray:
    """3x3 rotation matrix of a unit quaternion (x, y, z, w)."""
    x, y, z, w = q
    return np.array(
        [
            [1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)],
            [2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)],
            [2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)],
        ]
    )


# Hand-written rather than scipy's Rotation: 1.1 us a call against its 35 us, for every part built and every footprint
# the clutter sampler tests (benchmarks/rotation_cost.py).
def quat_from_euler(roll: float, pitch: float, yaw: float) -> Quat:
    """Quaternion (x, y, z, w) of extrinsic x-y-z Euler angles, PyBullet's convention."""
    cr, sr = math.cos(roll / 2), math.sin(roll / 2)
    cp, sp = math.cos(pitch / 2), math.sin(pitch / 2)
    cy, sy = math.cos(yaw / 2), math.sin(yaw / 2)
    return (
        sr * cp * cy - cr * sp * sy,
        cr * sp * cy + sr * cp * sy,
        cr * cp * sy - sr * sp * cy,
        cr * cp * cy + sr * sp * sy,
    )


# Shorthands used by the geometry builders. Lengths are full extents, positions part centres.
_ALONG_X = quat_from_euler(0.0, math.pi / 2, 0.0)
_ALONG_Y = quat_from_euler(math.pi / 2, 0.0, 0.0)


def box(role: str, extents: Vec3, at: Vec3, material: str, yaw: float = 0.0) -> Part:
    """Box of full `extents` centred at `at`, turned by `yaw` about z."""
    half = tuple(e / 2 for e in extents)
    return Part(role, "box", half, material, at, quat_from_euler(0.0, 0.0, yaw))


def rod(role: str, radius: float, length: float, at: Vec3, material: str, axis: str = "x", capsule: bool = False) -> Part:
    """Cylinder (or capsule) of full `length` lying along the body's `axis` ("x", "y" or "z")."""
    orientation = {"x": _ALONG_X, "y": _ALONG_Y, "z": IDENTITY}[axis]
    body_length = length - 2 * radius if capsule else length
    return Part(role, "capsule" if capsule else "cylinder", (radius, body_length), material, at, orientation)


def prism(role: str, outline: list[tuple[float, float]], thickness: float, at: Vec3, material: str) -> Part:
    """Convex prism: the convex hull of a 2D outline (in the xy plane) extruded by `thickness` about z."""
    hull = trimesh.convex.convex_hull(
        np.array([[x, y, z] for x, y in outline for z in (-thickness / 2, thickness / 2)])
    )
    return Part(role, "mesh", (), material, at, IDENTITY, tuple(map(tuple, hull.vertices.tolist())))


def polygon(sides: int, radius: float, phase: float = 0.0) -> list[tuple[float, float]]:
    """Regular polygon outline with `sides` corners at `radius` (a hex nut or key cross-section)."""
    return [(radius * math.cos(phase + 2 * math.pi * k / sides), radius * math.sin(phase + 2 * math.pi * k / sides)) for k in range(sides)]
