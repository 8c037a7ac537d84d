"""PyBullet bodies of spec objects: shapes made once per catalog variant, appearance and dynamics set from the spec.

Collision: every part in one compound shape. Visual: all parts in one mesh whose texture
coordinates point into a palette texture, so a body shows several colours (grip, steel) with a
single visual shape. That keeps each tool a plain rigid body (maximal coordinates): Bullet then
wakes only the tools something touches, where multibodies woke the whole bench (measured here:
one touched tool cost 1.3 ms per physics step with multibodies, 0.46 ms as rigid bodies).
The body frame in PyBullet sits at the centre of mass; `BodyFrame` converts to and from the
spec's body frame (origin on the resting plane).

A variant's shapes depend only on (category, size); what a spec object adds on top of them (its
colour, tint, mass and friction) is applied to the body on every reset by `apply_appearance` and
`apply_dynamics`, so a reused body never keeps a value from an earlier episode. The palette has
one block for the instance colour and one per material, and each named colour gets its own
palette texture: colouring a body is choosing its texture.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pybullet
import trimesh

from workbench_gym.scenes.catalog import COLOURS, MATERIAL_COLOURS
from workbench_gym.scenes.geometry import BodyGeometry
from workbench_gym.scenes.parts import Part, quat_to_matrix
from workbench_gym.scenes.spec import ObjectSpec
from workbench_gym.scenes.textures import bench_pattern
from workbench_gym.sim.scratch import user_temp_folder

_SHAPE_TYPES = {"box": pybullet.GEOM_BOX, "cylinder": pybullet.GEOM_CYLINDER, "capsule": pybullet.GEOM_CAPSULE, "mesh": pybullet.GEOM_MESH}

#: Palette blocks: the instance colour, then one per material.
_SLOTS = ("instance", *MATERIAL_COLOURS)
_BLOCK = 16
ROLLING_FRICTION, SPINNING_FRICTION = 1e-4, 1e-3


def _cache_dir() -> Path:
    folder = user_temp_folder("assets")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _write_once(name: str, data: bytes) -> str:
    """Write content-addressed data to the cache unless present; atomic, so workers can race."""
    path = _cache_dir() / name
    if not path.exists():
        tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
        tmp.write_bytes(data)
        os.replace(tmp, path)
    return str(path)


@lru_cache(maxsize=None)
def palette_texture(colour: str) -> str:
    """Path of the palette showing `colour` in the instance block: an uncompressed TGA (PyBullet's loader rejects PPM)."""
    if colour not in COLOURS:
        raise ValueError(f"unknown colour {colour!r}; expected one of {sorted(COLOURS)}")
    image = np.zeros((_BLOCK, _BLOCK * len(_SLOTS), 3), np.uint8)
    for i, rgb in enumerate([COLOURS[colour], *MATERIAL_COLOURS.values()]):
        image[:, i * _BLOCK:(i + 1) * _BLOCK] = np.round(np.asarray(rgb) * 255)
    return _tga("palette", image)


@lru_cache(maxsize=None)
def bench_texture(pattern: str) -> str:
    """Path of a bench-top pattern (`scenes.textures`) as a TGA; PyBullet multiplies it with the bench colour."""
    shade = np.round(bench_pattern(pattern) * 255).astype(np.uint8)
    return _tga(f"bench_{pattern}", np.repeat(shade[..., None], 3, axis=2))


def _tga(prefix: str, image: np.ndarray) -> str:
    """Write an (H, W, 3) uint8 image once as an uncompressed TGA (PyBullet's loader rejects PPM); its path."""
    height, width = image.shape[:2]
    # 18-byte TGA header: uncompressed true-colour, origin top-left, 24 bits per pixel, BGR order.
    header = bytes([0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, width & 255, width >> 8, height & 255, height >> 8, 24, 0x20])
    data = header + np.ascontiguousarray(image[..., ::-1]).tobytes()
    return _write_once(f"{prefix}_{hashlib.sha1(data).hexdigest()[:12]}.tga", data)


def _slot_uv(geometry: BodyGeometry, part: Part) -> tuple[float, float]:
    """Texture coordinate of the centre of the block a part takes its colour from."""
    slot = 0 if part.role in geometry.coloured_roles else _SLOTS.index(part.material)
    return (slot + 0.5) / len(_SLOTS), 0.5


def visual_mesh_file(geometry: BodyGeometry, com: np.ndarray) -> str:
    """OBJ of all parts, flat-shaded, shifted so the centre of mass is the origin, UVs into the palette."""
    lines, n_vertices, n_faces = [], 0, 0
    for uv_index, part in enumerate(geometry.parts, start=1):
        mesh = part.mesh()
        u, v = _slot_uv(geometry, part)
        lines.append(f"vt {u:.6f} {v:.6f}")
        for face, normal in zip(mesh.faces, mesh.face_normals):
            lines += [f"v {x:.6f} {y:.6f} {z:.6f}" for x, y, z in mesh.vertices[face] - com]  # unshared: flat shading
            lines.append(f"vn {normal[0]:.6f} {normal[1]:.6f} {normal[2]:.6f}")
            n_faces += 1
            lines.append("f " + " ".join(f"{n_vertices + k}/{uv_index}/{n_faces}" for k in (1, 2, 3)))
            n_vertices += 3
    data = ("\n".join(lines) + "\n").encode()
    return _write_once(f"body_{hashlib.sha1(data).hexdigest()[:16]}.obj", data)


@lru_cache(maxsize=None)
def _mesh_file(part: Part) -> str:
    """OBJ of a convex collision part (PyBullet's shape arrays take meshes only as files)."""
    data = trimesh.convex.convex_hull(np.asarray(part.vertices, dtype=np.float64)).export(file_type="obj").encode()
    return _write_once(f"hull_{hashlib.sha1(data).hexdigest()[:16]}.obj", data)


@dataclass(frozen=True)
class BodyFrame:
    """Offset between a spec body frame (origin on the resting plane) and PyBullet's COM frame."""

    com: np.ndarray

    def to_bullet(self, position, quaternion) -> tuple[list[float], list[float]]:
        return list(np.asarray(position) + quat_to_matrix(quaternion) @ self.com), list(quaternion)

    def from_bullet(self, position, quaternion) -> tuple[np.ndarray, np.ndarray]:
        return np.asarray(position) - quat_to_matrix(quaternion) @ self.com, np.asarray(quaternion)


@dataclass(frozen=True)
class VariantShapes:
    """The collision and visual shapes of one (category, size) variant in one client, and its body frame."""

    collision: int
    visual: int
    frame: BodyFrame


@lru_cache(maxsize=None)
def _variant_assets(geometry: BodyGeometry) -> tuple[np.ndarray, str]:
    """Centre of mass and visual OBJ of one variant, once per process: rebuilding them took 3/4 of a scene build."""
    com = geometry.center_of_mass
    return com, visual_mesh_file(geometry, com)


@lru_cache(maxsize=None)
def variant_dynamics(geometry: BodyGeometry) -> tuple[float, float]:
    """Mass and friction of one variant, once per process (a mesh part's volume takes a convex hull)."""
    return geometry.mass, geometry.friction


def create_variant_shapes(client, geometry: BodyGeometry) -> VariantShapes:
    """Load one variant's shapes into a client; every body of that variant shares them."""
    com, visual_file = _variant_assets(geometry)
    parts = geometry.parts
    collision = client.createCollisionShapeArray(
        shapeTypes=[_SHAPE_TYPES[p.shape] for p in parts],
        halfExtents=[list(p.size) if p.shape == "box" else [0, 0, 0] for p in parts],
        radii=[p.size[0] if p.shape in ("cylinder", "capsule") else 0 for p in parts],
        lengths=[p.size[1] if p.shape in ("cylinder", "capsule") else 0 for p in parts],
        fileNames=[_mesh_file(p) if p.shape == "mesh" else "" for p in parts],
        meshScales=[[1, 1, 1] for _ in parts],
        collisionFramePositions=[list(np.asarray(p.position) - com) for p in parts],
        collisionFrameOrientations=[list(p.orientation) for p in parts],
    )
    return VariantShapes(collision, client.createVisualShape(pybullet.GEOM_MESH, fileName=visual_file), BodyFrame(com))


def create_body(client, shapes: VariantShapes, mass: float, position) -> int:
    """A rigid body of a variant at `position`; mass 0 makes it static (containers)."""
    return client.createMultiBody(
        baseMass=mass, baseCollisionShapeIndex=shapes.collision, baseVisualShapeIndex=shapes.visual,
        basePosition=list(position), useMaximalCoordinates=True,
    )


@dataclass(frozen=True)
class BodyDynamics:
    """Mass (0: static) and friction coefficients one body has for one episode."""

    mass: float
    lateral_friction: float
    rolling_friction: float = ROLLING_FRICTION
    spinning_friction: float = SPINNING_FRICTION


def dynamics_of(obj: ObjectSpec, static: bool) -> BodyDynamics:
    """A spec object's dynamics: containers are static; a tool has the spec's perturbed mass and friction where set,
    else its variant's mass and its heaviest material's friction."""
    mass, friction = variant_dynamics(obj.geometry)
    mass = obj.mass if obj.mass is not None else mass
    friction = obj.friction if obj.friction is not None else friction
    return BodyDynamics(0.0 if static else mass, friction)


def rgba_of(obj: ObjectSpec) -> tuple[float, float, float, float]:
    """The factor PyBullet multiplies a body's texture with: the spec's tint (a perturbation), else white; opaque."""
    return (*(obj.tint or (1.0, 1.0, 1.0)), 1.0)


def apply_dynamics(client, body: int, dynamics: BodyDynamics) -> None:
    """Give a body its episode's mass (its inertia follows from the shape) and friction."""
    client.changeDynamics(
        body, -1, mass=dynamics.mass, lateralFriction=dynamics.lateral_friction,
        rollingFriction=dynamics.rolling_friction, spinningFriction=dynamics.spinning_friction,
    )


def apply_appearance(client, body: int, texture: int, rgba: tuple[float, float, float, float]) -> None:
    """Show a body with its episode's palette texture (its colour) times `rgba` (`rgba_of`: its tint)."""
    client.changeVisualShape(body, -1, textureUniqueId=texture, rgbaColor=list(rgba))
