"""workbench-gym: a Franka Panda at a cluttered workbench of hand tools, behind `gymnasium.make`.

Importing the package registers the environments, e.g. ``gym.make("workbench_gym/PickTool-v0")``, from a static
id table (`workbench_gym.registration`): it imports neither PyBullet nor, until something else does, Gymnasium.
"""

from importlib.metadata import PackageNotFoundError, version

from workbench_gym.registration import ENV_IDS, register_when_gymnasium_loads

try:
    __version__ = version("workbench-gym")
except PackageNotFoundError:  # running from a source tree that was not installed
    __version__ = "0.0.0"

register_when_gymnasium_loads()

__all__ = ["ENV_IDS", "__version__"]
