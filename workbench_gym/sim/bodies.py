"""PyBullet bodies built from scene-spec objects: one rigid body per tool or container.

Collision: every part in one compound shape. Visual: all parts in one mesh whose texture
coordinates point into a palette texture, so a body shows several colours (grip, steel) with a
single visual shape. That keeps each tool a plain rigid body (maximal coordinates): Bullet then
wakes only the tools something touches, where multibodies woke the whole bench (measured here:
one touched tool cost 1.3 ms per physics step with multibodies, 0.46 ms as rigid bodies).
The body frame in PyBullet sits at the centre of mass; `BodyFrame` converts to and from the
spec's body frame (origin on the resting plane).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pybullet
import trimesh

from workbench_gym.scenes.catalog import COLOURS, MATERIAL_COLOURS
from workbench_gym.scenes.geometry import BodyGeometry
from workbench_gym.scenes.parts import Part, quat_from_euler, quat_to_matrix
from workbench_gym.scenes.spec import ObjectSpec
from workbench_gym.scenes.textures import bench_pattern

_SHAPE_TYPES = {"box": pybullet.GEOM_BOX, "cylinder": pybullet.GEOM_CYLINDER, "capsule": pybullet.GEOM_CAPSULE, "mesh": pybullet.GEOM_MESH}

#: Palette texture: one 16x16 block per named colour, then per material colour.
_PALETTE = [*COLOURS.values(), *MATERIAL_COLOURS.values()]
_BLOCK, _GRID = 16, 5


def _cache_dir() -> Path:
    folder = Path(tempfile.gettempdir()) / f"workbench_gym_assets_{os.getuid()}"
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


@lru_cache(maxsize=1)
def palette_texture() -> str:
    """Path of the palette image, an uncompressed TGA (PyBullet's loader rejects PPM)."""
    size = _BLOCK * _GRID
    image = np.zeros((size, size, 3), np.uint8)
    for i, rgb in enumerate(_PALETTE):
        row, col = divmod(i, _GRID)
        image[row * _BLOCK:(row + 1) * _BLOCK, col * _BLOCK:(col + 1) * _BLOCK] = np.round(np.asarray(rgb) * 255)
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


def _palette_uv(rgb) -> tuple[float, float]:
    """Texture coordinate of the centre of a colour's block (v counts from the image bottom)."""
    row, col = divmod(_PALETTE.index(tuple(rgb)), _GRID)
    size = _BLOCK * _GRID
    return ((col + 0.5) * _BLOCK / size, 1.0 - (row + 0.5) * _BLOCK / size)


def visual_mesh_file(geometry: BodyGeometry, colour: str, com: np.ndarray) -> str:
    """OBJ of all parts, flat-shaded, shifted so the centre of mass is the origin, UVs into the palette."""
    lines, n_vertices, n_faces = [], 0, 0
    for uv_index, part in enumerate(geometry.parts, start=1):
        mesh = part.mesh()
        u, v = _palette_uv(geometry.part_colour(part, colour))
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


def _collision_shape(client, parts: list[Part], com: np.ndarray) -> int:
    return client.createCollisionShapeArray(
        shapeTypes=[_SHAPE_TYPES[p.shape] for p in parts],
        halfExtents=[list(p.size) if p.shape == "box" else [0, 0, 0] for p in parts],
        radii=[p.size[0] if p.shape in ("cylinder", "capsule") else 0 for p in parts],
        lengths=[p.size[1] if p.shape in ("cylinder", "capsule") else 0 for p in parts],
        fileNames=[_mesh_file(p) if p.shape == "mesh" else "" for p in parts],
        meshScales=[[1, 1, 1] for _ in parts],
        collisionFramePositions=[list(np.asarray(p.position) - com) for p in parts],
        collisionFrameOrientations=[list(p.orientation) for p in parts],
    )


@dataclass(frozen=True)
class BodyFrame:
    """Offset between a spec body frame (origin on the resting plane) and PyBullet's COM frame."""

    com: np.ndarray

    def to_bullet(self, position, quaternion) -> tuple[list[float], list[float]]:
        return list(np.asarray(position) + quat_to_matrix(quaternion) @ self.com), list(quaternion)

    def from_bullet(self, position, quaternion) -> tuple[np.ndarray, np.ndarray]:
        return np.asarray(position) - quat_to_matrix(quaternion) @ self.com, np.asarray(quaternion)


@lru_cache(maxsize=None)
def _body_assets(geometry: BodyGeometry, colour: str) -> tuple[np.ndarray, float, str]:
    """Centre of mass, mass and visual OBJ of one variant, once per process: rebuilding them took 3/4 of a scene build."""
    com = geometry.center_of_mass
    return com, geometry.mass, visual_mesh_file(geometry, colour, com)


def build_body(client, obj: ObjectSpec, static: bool, texture: int) -> tuple[int, BodyFrame]:
    """Create the rigid body of one spec object; `texture` is the loaded palette's id."""
    geometry = obj.geometry
    com, mass, visual_file = _body_assets(geometry, obj.colour)
    frame = BodyFrame(com)
    visual = client.createVisualShape(pybullet.GEOM_MESH, fileName=visual_file)
    position, orientation = frame.to_bullet(obj.pose.position, quat_from_euler(*obj.pose.rpy))
    mass = obj.mass if obj.mass is not None else mass  # the spec's perturbed values, else the catalog's
    friction = obj.friction if obj.friction is not None else geometry.friction
    body = client.createMultiBody(
        baseMass=0.0 if static else mass,
        baseCollisionShapeIndex=_collision_shape(client, list(geometry.parts), com),
        baseVisualShapeIndex=visual,
        basePosition=position,
        baseOrientation=orientation,
        useMaximalCoordinates=True,
    )
    client.changeVisualShape(body, -1, textureUniqueId=texture, rgbaColor=[*(obj.tint or (1, 1, 1)), 1])
    client.changeDynamics(body, -1, lateralFriction=friction, rollingFriction=1e-4, spinningFriction=1e-3)
    return body, frame
