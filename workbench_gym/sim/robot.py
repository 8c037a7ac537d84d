"""The Franka Panda from pybullet_data, with its two-finger gripper.

The stock URDF draws ~300k triangles of visual meshes, which dominates TinyRenderer time (54 fps
at 128x128 measured here against 476 fps with the collision meshes). We render the collision
meshes instead: the arm's silhouette is the same at the resolutions robot learning uses.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import pybullet
import pybullet_data

from workbench_gym.sim.scratch import user_temp_folder

ARM_JOINTS = (0, 1, 2, 3, 4, 5, 6)
FINGER_JOINTS = (9, 10)
HAND_LINK = 8
EE_LINK = 11  # panda_grasptarget: between the finger pads
#: Joint angles with the gripper 0.35 m above the bench, pointing down.
HOME = (0.0, -0.35, 0.0, -2.4, 0.0, 2.05, 0.785)
MAX_FINGER_WIDTH = 0.08  # metres between the pads when fully open
FINGER_FORCE = 40.0  # newtons per finger
#: Link index -> RGBA of the links that are not white; every renderer draws the arm with these.
LINK_COLOURS = {HAND_LINK: (0.25, 0.25, 0.27, 1.0), 9: (0.2, 0.2, 0.22, 1.0), 10: (0.2, 0.2, 0.22, 1.0)}
#: The box the arm stands on, from the floor to the bench top: its width and RGBA.
PEDESTAL_WIDTH, PEDESTAL_RGBA = 0.2, (0.2, 0.2, 0.22, 1.0)


def hull_obj(text: str) -> str:
    """An OBJ mesh reduced to what a convex-hull collision shape reads: its vertices, objects and faces' vertex indices.

    PyBullet parses a URDF's collision meshes again on every load, and normals and texture
    coordinates are most of the text; the hull is built from the same points, so shapes and
    trajectories stay bit for bit the same (tested) while the Panda loads ~3 ms faster.
    """
    out = []
    for line in text.splitlines():
        words = line.split()
        if words and words[0] in ("v", "o", "g"):
            out.append(line)
        elif words and words[0] == "f":
            out.append(" ".join(["f", *(w.split("/")[0] for w in words[1:])]))
    return "\n".join(out) + "\n"


@lru_cache(maxsize=1)
def lowpoly_panda_urdf() -> str:
    """Path of a Panda URDF that draws its collision meshes and collides with `hull_obj` copies of them.

    Written once per machine and content into a folder of the temp dir, renamed into place whole,
    so parallel workers never read half of it.
    """
    root = Path(pybullet_data.getDataPath()) / "franka_panda"
    text = (root / "panda.urdf").read_text()
    text = text.replace("package://meshes/visual/", "package://meshes/collision/")
    text = text.replace("package://meshes/", f"{root.as_posix()}/meshes/")
    meshes = sorted(set(re.findall(r'<collision>\s*<geometry>\s*<mesh filename="([^"]+)"', text)))
    hulls = {Path(mesh).name: hull_obj(Path(mesh).read_text()) for mesh in meshes}
    digest = hashlib.sha1("".join([text, *hulls.values()]).encode()).hexdigest()[:12]
    folder = user_temp_folder("panda", digest)

    def collision(match: re.Match) -> str:
        return match.group(0).replace(match.group(1), (folder / Path(match.group(1)).name).as_posix())

    text = re.sub(r'<collision>\s*<geometry>\s*<mesh filename="([^"]+)"', collision, text)
    files = {"panda.urdf": text, **hulls}

    def written() -> bool:
        return all((folder / name).is_file() and (folder / name).read_text() == body for name, body in files.items())

    if not written():
        tmp = Path(tempfile.mkdtemp(prefix=f"{folder.name}.", dir=folder.parent))
        for name, body in files.items():
            (tmp / name).write_text(body)
        try:
            os.rename(tmp, folder)  # atomic; it fails where another worker's identical folder won the race
        except OSError:
            shutil.rmtree(tmp, ignore_errors=True)
            if not written():
                raise RuntimeError(f"{folder} holds other files than workbench-gym writes there; delete it") from None
    return str(folder / "panda.urdf")


@dataclass
class Proprio:
    """What the robot senses about itself."""

    joint_positions: np.ndarray  # 9: arm then fingers
    joint_velocities: np.ndarray  # 9
    ee_position: np.ndarray  # 3, world frame
    ee_orientation: np.ndarray  # 4, quaternion x y z w
    gripper_width: float

    def vector(self) -> np.ndarray:
        """The fields in one float32 vector, laid out as `PROPRIO_SLICES` says."""
        return np.concatenate([self.joint_positions, self.joint_velocities, self.ee_position, self.ee_orientation, [self.gripper_width]]).astype(np.float32)


def _layout(sizes: dict[str, int]) -> dict[str, slice]:
    """Consecutive slices for fields of these sizes, in order."""
    starts = np.cumsum([0, *sizes.values()])
    return {name: slice(int(a), int(b)) for name, a, b in zip(sizes, starts[:-1], starts[1:])}


#: Where `Proprio.vector()` (the observation's "proprio") keeps each field, by name: read
#: `proprio[PROPRIO_SLICES["gripper_width"]]` rather than counting indices.
PROPRIO_SLICES: dict[str, slice] = _layout({"joint_positions": 9, "joint_velocities": 9, "ee_position": 3, "ee_orientation": 4, "gripper_width": 1})
PROPRIO_SIZE = PROPRIO_SLICES["gripper_width"].stop


class Panda:
    """A Panda arm in one PyBullet client: joint targets in, proprioception out."""

    def __init__(self, client, base_position):
        self.client = client
        self.body = client.loadURDF(
            lowpoly_panda_urdf(), basePosition=base_position, useFixedBase=True,
            flags=pybullet.URDF_ENABLE_CACHED_GRAPHICS_SHAPES,
        )
        info = [client.getJointInfo(self.body, j) for j in ARM_JOINTS + FINGER_JOINTS]
        self.lower = np.array([i[8] for i in info])
        self.upper = np.array([i[9] for i in info])
        self.max_force = np.array([i[10] for i in info[:7]] + [FINGER_FORCE] * 2)
        self._forces = self.max_force.tolist()
        for link, rgba in LINK_COLOURS.items():
            client.changeVisualShape(self.body, link, rgbaColor=rgba)
        for link in FINGER_JOINTS:
            client.changeDynamics(self.body, link, lateralFriction=1.5, spinningFriction=0.01, frictionAnchor=True)
        self.reset(HOME)

    def reset(self, arm_q, width: float = MAX_FINGER_WIDTH) -> None:
        """Teleport to joint angles and hold them."""
        q = np.concatenate([arm_q, [width / 2, width / 2]])
        for j, v in zip(ARM_JOINTS + FINGER_JOINTS, q):
            self.client.resetJointState(self.body, j, float(v))
        self.command(np.asarray(arm_q), width)

    def command(self, arm_q: np.ndarray, width: float) -> None:
        """Position targets for the arm joints and the finger opening (metres between pads)."""
        # min/max rather than np.clip: this runs every control step, and np.clip costs ~3 us on small inputs.
        half = min(max(float(width), 0.0), MAX_FINGER_WIDTH) / 2
        targets = np.minimum(np.maximum(np.concatenate([arm_q, (half, half)]), self.lower), self.upper)
        self.targets = targets  # what the motors hold now: demonstrations record it
        self.client.setJointMotorControlArray(
            self.body, ARM_JOINTS + FINGER_JOINTS, pybullet.POSITION_CONTROL,
            targetPositions=targets.tolist(), forces=self._forces,
        )

    def joint_state(self) -> tuple[np.ndarray, np.ndarray]:
        states = self.client.getJointStates(self.body, ARM_JOINTS + FINGER_JOINTS)
        return np.array([s[0] for s in states]), np.array([s[1] for s in states])

    def link_pose(self, link: int, centre_of_mass: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """World position and quaternion of a link's URDF frame, or of its centre-of-mass frame (constraints use it)."""
        state = self.client.getLinkState(self.body, link, computeForwardKinematics=True)
        return (np.array(state[0]), np.array(state[1])) if centre_of_mass else (np.array(state[4]), np.array(state[5]))

    def ee_pose(self) -> tuple[np.ndarray, np.ndarray]:
        """Position and quaternion of the point between the finger pads."""
        return self.link_pose(EE_LINK)

    def proprio(self) -> Proprio:
        q, dq = self.joint_state()
        pos, orn = self.ee_pose()
        return Proprio(q, dq, pos, orn, float(q[7] + q[8]))
