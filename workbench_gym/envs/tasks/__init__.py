"""One module per task; importing this package registers them all."""

from workbench_gym.envs.tasks.pick_tool import PickTool

__all__ = ["PickTool"]
