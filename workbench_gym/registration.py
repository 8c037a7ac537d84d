"""The Gymnasium ids of the tasks, from a static table, so registering them imports neither the envs nor PyBullet.

`import workbench_gym` registers `workbench_gym/<Task>-v0` for every row of `TASK_STEPS`, pointing Gymnasium at
`WorkbenchEnv` by path: the env modules load only when an env is made. Gymnasium itself is not imported for it
either: if it is not loaded yet, the ids are registered the moment it is, so `import workbench_gym.scenes`
stays light. `tests/test_registration.py` keeps the table equal to the task registry.
"""

from __future__ import annotations

import importlib.abc
import importlib.util
import sys

NAMESPACE = "workbench_gym"
ENTRY_POINT = "workbench_gym.envs.workbench_env:WorkbenchEnv"

#: Task name -> its `max_episode_steps` (low-level control steps), as each task class declares it.
TASK_STEPS = {
    "ClarifyTool": 200,
    "CollectScrews": 200,
    "CountTools": 200,
    "FetchTool": 200,
    "PickTool": 200,
    "PlaceTool": 200,
    "SortTools": 200,
    "ChainTools": 1000,  # registered once the tasks it chains are
    "ReachTool": 50,
}


def env_id(task: str) -> str:
    """The Gymnasium id of a task: "PickTool" -> "workbench_gym/PickTool-v0"."""
    return f"{NAMESPACE}/{task}-v0"


ENV_IDS = [env_id(task) for task in TASK_STEPS]


def register_envs() -> list[str]:
    """Register every id with Gymnasium (importing it); idempotent. Returns the ids."""
    import gymnasium as gym

    for task, steps in TASK_STEPS.items():
        if env_id(task) not in gym.registry:
            gym.register(id=env_id(task), entry_point=ENTRY_POINT, kwargs={"task": task}, max_episode_steps=steps)
    return list(ENV_IDS)


class _RegisterAfterGymnasium(importlib.abc.MetaPathFinder):
    """Runs `register_envs` right after `gymnasium` is first imported, by whoever imports it."""

    def find_spec(self, name, path=None, target=None):
        if name != "gymnasium":
            return None
        sys.meta_path.remove(self)  # once; the other finders locate the package
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.loader is not None:
            run = spec.loader.exec_module

            def exec_then_register(module):
                run(module)
                register_envs()

            spec.loader.exec_module = exec_then_register
        return spec


def register_when_gymnasium_loads() -> None:
    """Register the ids now if Gymnasium is loaded, else as soon as it is."""
    if "gymnasium" in sys.modules:
        register_envs()
    elif not any(isinstance(finder, _RegisterAfterGymnasium) for finder in sys.meta_path):
        sys.meta_path.insert(0, _RegisterAfterGymnasium())
