"""Bad input never kills or hangs the process, and every error names the field and what was expected (issue 16,
items 11 and 16): absurd poses, huge cameras and images, malformed high-level actions, a closed env, bad reset
options and config values, and scene specs with fields of the wrong type or shape."""

import copy
import json
import re
import time

import gymnasium as gym
import numpy as np
import pytest

from workbench_gym.envs.config import EnvConfig
from workbench_gym.envs.high_level import Answer, Ask, Pick, Place, decode, encode, fit_text
from workbench_gym.envs.observations import INSTRUCTION_CHARSET, MAX_INSTRUCTION_LENGTH
from workbench_gym.scenes.spec import MAX_IMAGE_SIDE, SceneSpec, SceneSpecError

SMALL = {"n_tools": 4, "image_size": (32, 32)}


@pytest.fixture(scope="module")
def primitive_env():
    env = gym.make("workbench_gym/PickTool-v0", control_mode="primitive", **SMALL)
    env.reset(seed=3)
    yield env
    env.close()


# -- item 11: crashes and hangs -------------------------------------------------------------------------------------

@pytest.mark.parametrize("value", [1e308, -1e308, np.finfo(np.float64).max])
def test_absurd_pose_is_unreachable_at_once(primitive_env, value):
    """1e308 used to spin PyBullet's IK for minutes; a target beyond any reach now fails without IK."""
    for action in ({"verb": "pick", "pose": np.array([value, 0.0, 0.8, 0.0]), "width": 0.05}, Pick((0.4, 0.0, value, 0.0))):
        start = time.monotonic()
        _, _, terminated, _, info = primitive_env.step(action)
        assert time.monotonic() - start < 2.0
        assert info["primitive"]["reason"] == "unreachable" and not terminated, info


def test_absurd_place_is_unreachable_at_once_and_keeps_the_tool():
    env = gym.make("workbench_gym/PickTool-v0", control_mode="primitive", **SMALL)
    try:
        env.reset(seed=3)
        task = env.unwrapped.task
        _, _, _, _, info = env.step(task.oracle(env.unwrapped.world, None))
        assert info["primitive"]["success"], info
        start = time.monotonic()
        _, _, _, _, info = env.step(Place((0.4, 1e308, 0.8, 0.0)))
        assert time.monotonic() - start < 2.0
        assert info["primitive"]["reason"] == "unreachable" and info["primitive"]["held"] == env.unwrapped.held is not None
    finally:
        env.close()


def test_typed_pose_beyond_float32_is_unreachable_not_malformed(primitive_env):
    _, _, _, _, info = primitive_env.step(Pick((1e100, 0.0, 0.8, 0.0)))
    assert info["primitive"]["reason"] == "unreachable" and "beyond the arm's reach" in info["primitive"]["detail"]


@pytest.mark.parametrize("width, height", [(10**9, 128), (128, MAX_IMAGE_SIDE + 1), (4096, 4096), (True, 64)])
def test_huge_camera_is_rejected_by_validation(width, height):
    data = SceneSpec().to_dict()
    data["cameras"][0].update(width=width, height=height)
    with pytest.raises(SceneSpecError, match=r"^cameras\[0\]\.(width|height): ") as err:
        SceneSpec.from_dict(data)
    assert err.value.field in ("cameras[0].width", "cameras[0].height")
    with pytest.raises(SceneSpecError):  # field checks hold with check=False too: settled specs are rendered
        SceneSpec.from_dict(data, check=False)


@pytest.mark.parametrize("name", ["image_size", "render_size"])
@pytest.mark.parametrize("size, problem", [
    ((10**9, 1), "each side must be in [1, 4096]"), ((4096, 4096), "at most 8388608"), ((0, 10), "each side"),
    ((64.0, 64), "two integers"), ((True, 64), "two integers"), (64, "two integers"),
])
def test_image_sizes_are_bounded(name, size, problem):
    with pytest.raises(ValueError, match=rf"{name}=.*{re.escape(problem)}"):
        EnvConfig(**{name: size})
    assert EnvConfig(**{name: (4096, 2048)}).__getattribute__(name) == (4096, 2048)


# -- item 16: errors that name the problem --------------------------------------------------------------------------

@pytest.mark.parametrize("action, field", [
    (Pick((0.4, 0.0, 0.8, 0.0), width=None), "pick width"),
    (Pick((0.4, 0.0, 0.8, 0.0), width=np.array([0.02, 0.03])), "pick width"),
    (Pick((0.4, 0.0, 0.8, 0.0), width="0.05"), "pick width"),
    (Pick((0.4, 0.0, 0.8, 0.0), width=float("nan")), "pick width"),
    ({"verb": 0, "pose": np.zeros(4), "width": None}, "pick width"),
    ({"verb": 0, "pose": np.zeros(4), "width": [[0.01], [0.02]]}, "pick width"),
    (Pick("0.4, 0.0, 0.8, 0.0"), "pick pose"),
    (Place("somewhere"), "place pose"),
    ({"verb": "place", "pose": "0 0 0 0"}, "place pose"),
    ({"verb": "pick", "pose": {"x": 1}}, "pick pose"),
    ({"verb": "pick", "pose": [1, 2, 3]}, "pick pose"),
    ({"verb": "pick", "pose": [1, 2, 3, [4]]}, "pick pose"),
    ({"verb": "pick", "pose": [0.4, 0, 0.8, "0"]}, "pick pose"),  # numpy would read the "0"
    ({"verb": 0, "pose": np.zeros(4), "width": np.array(["0.05"])}, "pick width"),
    ({"verb": True}, "verb"),
    ({"verb": np.bool_(True)}, "verb"),
    ({"verb": 2.0}, "verb"),
    ({"verb": "fly"}, "verb"),
    (Answer("x" * 2**20), "answer text"),
    (Ask("which one?\x00\x07"), "ask text"),
    (Answer("line one\nline two"), "answer text"),
    ({"verb": "ask", "text": b"bytes"}, "ask text"),
    ({"verb": "answer", "text": None}, "answer text"),
])
def test_malformed_actions_raise_value_error_naming_the_field(action, field):
    with pytest.raises(ValueError, match=f"^{field}") as err:
        decode(action)
    assert len(str(err.value)) < 400  # a 1 MB text is not echoed back


def test_answer_text_within_the_space_is_accepted_and_fit_text_maps_into_it():
    text = "It is the 3 red hammers, left of the bin: yes!"
    assert decode(Answer(text)) == Answer(text)
    assert decode({"verb": "answer", "text": "x" * MAX_INSTRUCTION_LENGTH}).text == "x" * MAX_INSTRUCTION_LENGTH
    fitted = fit_text('Très "bien"\n\tthere are\x003 hammers' + "!" * 1000)
    assert set(fitted) <= set(INSTRUCTION_CHARSET) and len(fitted) <= MAX_INSTRUCTION_LENGTH
    assert fitted.startswith("Tres bien there are 3 hammers!")
    assert decode(Answer(fitted)).text == fitted
    assert encode(Pick((0.4, 0.0, 0.8, 0.1), 0.05))["width"] == np.float32(0.05)


def test_closed_env_raises_a_clear_error():
    env = gym.make("workbench_gym/PickTool-v0", render_mode="rgb_array", render_size=(32, 24), **SMALL)
    env.reset(seed=0)
    env.close()
    for call in (lambda: env.step(np.zeros(5, np.float32)), lambda: env.reset(seed=1), env.render):
        with pytest.raises(RuntimeError, match=r"env is closed"):
            call()
    env.close()  # twice is fine


@pytest.mark.parametrize("options", ["x", 3, ["instruction", "pick"], ("instruction",)])
def test_reset_options_must_be_a_dict(options):
    env = gym.make("workbench_gym/PickTool-v0", **SMALL)
    try:
        with pytest.raises(TypeError, match=r"reset options must be a dict .*got " + type(options).__name__):
            env.reset(seed=0, options=options)
        env.reset(seed=0, options={"instruction": "pick up the hammer"})  # still usable
    finally:
        env.close()


@pytest.mark.parametrize("name, value, expected", [
    ("density", "0.5", "a number in (0, 1]"), ("density", True, "a number in (0, 1]"), ("density", float("nan"), "a number"),
    ("n_tools", True, "an integer"), ("n_tools", "3", "an integer"), ("control_freq", "25", "a number of Hz"),
    ("cameras", "front", "a tuple of distinct names"),
])
def test_config_values_of_the_wrong_type_name_the_option(name, value, expected):
    with pytest.raises(ValueError, match=rf"^{name}=.*expected {re.escape(expected)}"):
        EnvConfig(**{name: value})


def _spec_with(edit) -> dict:
    data = copy.deepcopy(SceneSpec().to_dict())
    edit(data)
    return data


@pytest.mark.parametrize("edit, field", [
    (lambda d: d["bench"].update(colour={"r": 1}), "bench.colour"),
    (lambda d: d["bench"].update(size=1.0), "bench.size"),
    (lambda d: d["bench"].update(size=[0.9, 1.5]), "bench.size"),
    (lambda d: d["bench"].update(size=["0.9", 1.5, 0.05]), "bench.size"),
    (lambda d: d["bench"].update(height=-0.75), "bench.height"),
    (lambda d: d["bench"].update(height="high"), "bench.height"),
    (lambda d: d["cameras"][0].update(width=True), "cameras[0].width"),
    (lambda d: d["cameras"][1].update(height=10**9), "cameras[1].height"),
    (lambda d: d["cameras"][0].update(fov="wide"), "cameras[0].fov"),
    (lambda d: d["cameras"][0].update(mount=["world"]), "cameras[0].mount"),
    (lambda d: d["cameras"][0].update(eye=[1, 2, True]), "cameras[0].eye"),
    (lambda d: d["lights"][0].update(ambient="bright"), "lights[0].ambient"),
    (lambda d: d["lights"][0].update(diffuse=float("nan")), "lights[0].diffuse"),
    (lambda d: d["lights"][0].update(colour={"r": 1}), "lights[0].colour"),
    (lambda d: d["lights"][0].update(shadow="yes"), "lights[0].shadow"),
    (lambda d: d.update(seed="abc"), "seed"),
    (lambda d: d.update(seed=True), "seed"),
])
def test_bad_spec_fields_are_rejected_at_validation_naming_the_path(edit, field):
    with pytest.raises(SceneSpecError) as err:
        SceneSpec.from_dict(_spec_with(edit))
    assert err.value.field == field and str(err.value).startswith(f"{field}: ")
    assert len(str(err.value)) < 400


def test_tool_fields_of_the_wrong_type_name_the_path(spec12):
    for key, value in (("colour", {"r": 1}), ("category", ["hammer"]), ("size", {"s": 1})):
        data = spec12.to_dict()
        data["tools"][2][key] = value
        with pytest.raises(SceneSpecError, match=rf"^tools\[2\]\.{key}: unknown"):
            SceneSpec.from_dict(data)


def test_deep_nesting_is_a_spec_error_not_a_recursion_error():
    deep = "[" * 100_000 + "]" * 100_000
    with pytest.raises(SceneSpecError, match=r"^<json>: nested too deeply"):
        SceneSpec.from_json('{"bench": {"size": ' + deep + "}}")
    nested = json.loads("[" * 500 + "1" + "]" * 500)
    with pytest.raises(SceneSpecError, match=r"^bench\.size: expected 3 numbers, got \(\[\[\[.*characters as repr\)$"):
        SceneSpec.from_dict(_spec_with(lambda d: d["bench"].update(size=nested)))


def test_quick_fuzz_names_every_malformed_field_and_nothing_crashes():
    """`benchmarks/fuzz_actions.py` in small: one task, every control and observation mode."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))
    from fuzz_actions import fuzz

    result = fuzz(["PickTool"], malformed=12, low_level=4, primitive=6, progress=False)
    assert result["combinations"] == 16 and result["actions"] == 16 * 12 + 12 * 4 + 4 * 6
    assert result["crashes"] == 0 and result["hangs"] == 0 and result["malformed_accepted"] == 0
    assert result["malformed_value_error_naming_field"] == result["malformed"] == 16 * 12
    assert sum(result["well_formed_outcomes"].values()) == 12 * 4 + 4 * 6
