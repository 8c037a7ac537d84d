"""PickTool-v0: "pick up the {display name}"; success when that tool is 10 cm above the bench."""

from __future__ import annotations

import numpy as np

from workbench_gym.envs.grasping import fingers_touching, grasp_point
from workbench_gym.envs.task import Task, register_task
from workbench_gym.scenes.sampler import sample_clutter
from workbench_gym.scenes.spec import ObjectSpec, SceneSpec
from workbench_gym.sim.world import ROBOT_BASE, World

LIFT_HEIGHT = 0.10  # metres above the bench top, bottom of the tool
REACH = 0.72  # metres from the arm's base within which targets are chosen


@register_task
class PickTool(Task):
    name = "PickTool"
    max_episode_steps = 200
    goal_size = 8

    def sample_scene(self, rng: np.random.Generator) -> SceneSpec:
        while True:  # a few scenes at most: most have a reachable tool with a unique name
            spec = sample_clutter(int(rng.integers(2**31)), self.config.n_tools, density=self.config.density)
            if self._candidates(spec):
                return spec

    @staticmethod
    def _candidates(spec: SceneSpec) -> list[ObjectSpec]:
        names = [t.display_name for t in spec.tools]
        return [
            t for t in spec.tools
            if names.count(t.display_name) == 1 and np.hypot(*(np.asarray(t.pose.position[:2]) - ROBOT_BASE)) <= REACH
        ]

    def reset(self, world: World, rng: np.random.Generator) -> str:
        candidates = self._candidates(world.spec)
        self.target = candidates[int(rng.integers(len(candidates)))]
        return f"pick up the {self.target.display_name}"

    def _lift(self, world: World) -> float:
        bottom = world.client.getAABB(world.bodies[self.target.name])[0][2]
        return bottom - world.spec.bench.height

    def goal_vector(self, world: World) -> np.ndarray:
        _, quaternion = world.object_pose(self.target.name)
        return np.concatenate([grasp_point(world, self.target), quaternion, [world.spec.bench.height + LIFT_HEIGHT]]).astype(np.float32)

    def reward(self, world: World) -> float:
        """Reach (0..1) + grasp (0 or 1) + lift progress (0..2), shaped for RL."""
        distance = np.linalg.norm(world.robot.ee_pose()[0] - grasp_point(world, self.target))
        grasped = fingers_touching(world, self.target)
        lift = np.clip(self._lift(world) / LIFT_HEIGHT, 0.0, 1.0)
        return float(1.0 - np.tanh(5.0 * distance) + grasped + 2.0 * lift * grasped)

    def is_success(self, world: World) -> bool:
        return self._lift(world) >= LIFT_HEIGHT

    def goal_info(self, world: World) -> dict:
        t = self.target
        return {"object": t.name, "category": t.category, "size": t.size, "colour": t.colour, "display_name": t.display_name}
