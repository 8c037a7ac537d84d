"""One registry for every plug-in, and the Gymnasium ids registered from a static table that matches it."""

import subprocess
import sys

import gymnasium as gym
import pytest

import workbench_gym
from workbench_gym.envs.controllers import CONTROLLERS
from workbench_gym.envs.task import TASKS
from workbench_gym.policies import PLANNERS
from workbench_gym.policies.backends import BACKENDS
from workbench_gym.registration import TASK_STEPS, env_id
from workbench_gym.registry import MissingExtra, Registry, UnknownName
from workbench_gym.synth_data.renderer import RENDERERS


def test_the_static_id_table_matches_the_task_registry():
    assert list(TASK_STEPS) == list(TASKS)
    for name, task in TASKS.items():
        assert TASK_STEPS[name] == task.max_episode_steps, name
        spec = gym.spec(env_id(name))
        assert spec.max_episode_steps == task.max_episode_steps and spec.kwargs == {"task": name}
    assert workbench_gym.ENV_IDS == [env_id(name) for name in TASKS]


@pytest.mark.parametrize("code", [
    "import workbench_gym, gymnasium as gym; env = gym.make('workbench_gym/ReachTool-v0', n_tools=1)",
    "import gymnasium as gym, workbench_gym; env = gym.make('workbench_gym/ReachTool-v0', n_tools=1)",
    "import gymnasium as gym; env = gym.make('workbench_gym:workbench_gym/ReachTool-v0', n_tools=1)",
    "import workbench_gym.scenes, gymnasium as gym; env = gym.make('workbench_gym/ReachTool-v0', n_tools=1)",
])
def test_ids_are_registered_whichever_is_imported_first(code):
    check = f"{code}; assert env.spec.max_episode_steps == 50; env.reset(seed=0); env.close()"
    subprocess.run([sys.executable, "-c", check], check=True, capture_output=True, timeout=120)


def test_every_plugin_kind_uses_the_one_registry():
    for registry, names in ((TASKS, {"PickTool", "SortTools"}), (CONTROLLERS, {"ee_delta", "joint", "joint_target"}),
                            (PLANNERS, {"random", "oracle", "vlm"}), (BACKENDS, {"native", "hf", "openai"}),
                            (RENDERERS, {"pybullet", "blenderproc"})):
        assert isinstance(registry, Registry) and names <= set(registry.names())


def test_registry_loads_by_path_on_first_use_and_names_what_is_missing():
    registry = Registry("gadget")
    registry.register("json", "json:dumps")
    registry.register("absent", "workbench_gym_no_such_module:Thing", extra="gadgets")

    @registry.register("local")
    class Local:
        pass

    assert registry.names() == ["json", "absent", "local"] and registry["local"] is Local
    import json

    assert registry["json"] is json.dumps
    with pytest.raises(MissingExtra, match=r"pip install 'workbench-gym\[gadgets\]'"):
        registry["absent"]
    with pytest.raises(UnknownName, match="unknown gadget 'x'; expected one of json, absent, local") as caught:
        registry["x"]
    assert isinstance(caught.value, ValueError) and isinstance(caught.value, KeyError)
    assert registry.get("x") is None
    with pytest.raises(ValueError, match="already registered"):
        registry.register("json", "json:loads")


def test_help_and_info_list_what_is_registered(monkeypatch, capsys):
    """A backend registered at run time shows in the help texts and in `info`: nothing is a hard-coded list."""
    from workbench_gym.cli import build_parser, main

    monkeypatch.setitem(BACKENDS._entries, "remotegpu", "json:dumps")
    parser = build_parser()
    for command in ("rollout", "eval", "serve"):
        help_text = parser._subparsers._group_actions[0].choices[command].format_help()
        assert "remotegpu" in help_text, command
    assert main(["info"]) == 0
    out = capsys.readouterr().out
    assert "backends: native, hf, openai, remotegpu" in out and "renderers: pybullet, blenderproc" in out


def test_every_task_class_documents_its_randomisations_and_success():
    """ManiSkill-style task docstrings: a task description, then what each reset randomises and what counts as success."""
    from workbench_gym.envs.task import TASKS

    for name, cls in TASKS.items():
        doc = cls.__doc__ or ""
        assert "**Randomizations:**" in doc and "**Success conditions:**" in doc, f"{name}'s docstring lacks its sections"
        assert doc.split("**Randomizations:**")[0].strip(), f"{name}'s docstring starts without a task description"
