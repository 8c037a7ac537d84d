"""Pinhole cameras rendered with PyBullet: RGB, metric depth, instance ids, intrinsics, extrinsics.

Conventions (OpenCV): `intrinsics` K maps camera coordinates to pixel indices (column, row); `extrinsics` is the 4x4 world-to-camera transform with x right, y down and
z along the optical axis; depth is that z in metres.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pybullet

from workbench_gym.scenes.parts import quat_to_matrix
from workbench_gym.scenes.spec import CameraSpec, LightSpec
from workbench_gym.sim.layers import SceneLayers


@dataclass
class CameraFrame:
    """One rendered view. Arrays are (H, W[, 3]); absent buffers are None."""

    rgb: np.ndarray | None
    depth: np.ndarray | None
    segmentation: np.ndarray | None
    intrinsics: np.ndarray
    extrinsics: np.ndarray


def look_at(eye, target, up) -> np.ndarray:
    """World-to-camera transform (OpenCV axes) of a camera at `eye` looking at `target`."""
    eye, target, up = (np.asarray(v, dtype=float) for v in (eye, target, up))
    forward = target - eye
    forward /= np.linalg.norm(forward)
    right = np.cross(forward, up)
    right /= np.linalg.norm(right)
    down = np.cross(forward, right)
    rot = np.stack([right, down, forward])
    out = np.eye(4)
    out[:3, :3], out[:3, 3] = rot, -rot @ eye
    return out


def mounted_eye(spec: CameraSpec, mount_pose) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """World (eye, target, up) of a camera whose `eye`, `target` and `up` are given in a link's frame, with the link at
    `mount_pose` = (position, quaternion)."""
    position, quaternion = mount_pose
    rot = quat_to_matrix(quaternion)
    eye, target = (rot @ np.asarray(p) + position for p in (spec.eye, spec.target))
    return eye, target, rot @ np.asarray(spec.up)


class Camera:
    """Renders one `CameraSpec`. World cameras have fixed matrices; wrist cameras follow a link.

    `hardware` draws with the client's EGL plugin (see `sim.egl`) instead of TinyRenderer.
    """

    def __init__(self, spec: CameraSpec, light: LightSpec, hardware: bool = False):
        self.spec = spec
        self.light = light
        self.hardware = hardware
        aspect = spec.width / spec.height
        self.projection = pybullet.computeProjectionMatrixFOV(spec.fov, aspect, spec.near, spec.far)
        fy = spec.height / 2 / math.tan(math.radians(spec.fov) / 2)
        # TinyRenderer samples column i at NDC x = 2i/W - 1 and row r at NDC y = 1 - 2(r+1)/H, so the
        # principal point is (W/2, H/2 - 1) in pixel indices (checked to 3 um by back-projection).
        self.intrinsics = np.array([[fy, 0, spec.width / 2], [0, fy, spec.height / 2 - 1], [0, 0, 1]], dtype=np.float32)
        self._fixed = None if spec.mount == "wrist" else self._matrices(spec.eye, spec.target, spec.up)
        self._background, self._background_key = None, None  # a fixed camera's cached background, and what it holds

    @staticmethod
    def _matrices(eye, target, up):
        return pybullet.computeViewMatrix(list(eye), list(target), list(up)), look_at(eye, target, up).astype(np.float32)

    def view(self, mount_pose=None):
        """(OpenGL view matrix, OpenCV extrinsics) at the current mount pose."""
        if self._fixed is not None:
            return self._fixed
        return self._matrices(*mounted_eye(self.spec, mount_pose))

    def _capture(self, client, view, segmentation: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
        """Raw TinyRenderer buffers: RGB (H, W, 3) uint8, z-buffer (H, W) in [0, 1], body ids or None."""
        s, light = self.spec, self.light
        flags = 0 if segmentation else pybullet.ER_NO_SEGMENTATION_MASK
        _, _, colour, zbuf, seg = client.getCameraImage(
            s.width, s.height, view, self.projection, flags=flags,
            renderer=pybullet.ER_BULLET_HARDWARE_OPENGL if self.hardware else pybullet.ER_TINY_RENDERER,
            lightDirection=list(light.direction), lightColor=list(light.colour), lightAmbientCoeff=light.ambient,
            lightDiffuseCoeff=light.diffuse, lightSpecularCoeff=light.specular, shadow=int(light.shadow),
        )
        rgb = np.asarray(colour, dtype=np.uint8).reshape(s.height, s.width, 4)[..., :3]
        z = np.asarray(zbuf, dtype=np.float32).reshape(s.height, s.width)
        ids = np.asarray(seg, dtype=np.int64).reshape(s.height, s.width) if segmentation else None
        return rgb, z, ids

    def render(self, client, id_lut: np.ndarray, mount_pose=None, rgb=True, depth=True, segmentation=True, layers: SceneLayers | None = None) -> CameraFrame:
        """Render the requested buffers; segmentation maps PyBullet body ids through `id_lut`.

        With `layers` (see `sim.layers`) a fixed TinyRenderer camera draws its background (scenery
        and tools still where they settled) once, caches it, and afterwards draws only the arm and
        the tools that moved, composited over it by depth: TinyRenderer's cost is mostly pixel
        fill, and the bench top fills most of the frame. Other TinyRenderer cameras skip the bodies
        outside their view. A GPU fills pixels cheaply (and may blend transparent shapes), so
        hardware cameras draw whole frames.
        """
        view, extrinsics = self.view(mount_pose)
        if layers is None or self.hardware:
            colour, z, ids = self._capture(client, view, segmentation)
        elif self._fixed is None:
            s = self.spec
            with layers.hidden(layers.culled(extrinsics, self.intrinsics, (s.width, s.height), s.near, s.far)):
                colour, z, ids = self._capture(client, view, segmentation)
        else:
            still = layers.still()
            if self._background_key != (layers.episode, still):
                with layers.background(still):
                    self._background = self._capture(client, view, True)
                self._background_key = (layers.episode, still)
            with layers.foreground(still):
                colour, z, ids = self._capture(client, view, segmentation)
            back_colour, back_z, back_ids = self._background
            front = z < back_z
            colour = np.where(front[..., None], colour, back_colour)
            ids = np.where(front, ids, back_ids) if segmentation else None
            z = np.where(front, z, back_z)
        s = self.spec
        out_depth = (s.far * s.near / (s.far - (s.far - s.near) * z)).astype(np.float32) if depth else None
        out_seg = id_lut[ids + 1] if segmentation else None
        return CameraFrame(colour.copy() if rgb else None, out_depth, out_seg, self.intrinsics.copy(), extrinsics.copy())

    def forget_background(self) -> None:
        """Drop the cached background (after a static body moved)."""
        self._background, self._background_key = None, None
