"""workbench-gym: a Franka Panda at a cluttered workbench of hand tools, behind `gymnasium.make`.

Importing the package registers the environments, e.g. ``gym.make("workbench_gym/PickTool-v0")``.
"""

from importlib.metadata import PackageNotFoundError, version

from workbench_gym.envs import register_envs

try:
    __version__ = version("workbench-gym")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0"

ENV_IDS = register_envs()

__all__ = ["ENV_IDS", "__version__"]
