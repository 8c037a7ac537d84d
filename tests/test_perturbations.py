"""Perturbation factors and the target swap: each changes what it names and nothing else, reproducibly."""

import hashlib

import gymnasium as gym
import numpy as np
import pytest

from workbench_gym.policies import OraclePlanner
from workbench_gym.scenes.perturb import FACTORS, perturb_scene
from workbench_gym.scenes.sampler import sample_clutter
from workbench_gym.scenes.spec import SceneSpec

SMALL = {"control_mode": "primitive", "obs_mode": "rgbd", "cameras": ("front",), "image_size": (64, 64)}
#: Scene JSON and goal of dev seeds as the code made them before perturbation options existed (main at e7f1d92):
#: every factor off must leave every episode as it was.
BEFORE = {
    ("PickTool", 5001): ("510cd8cc453cd037", {"category": "flathead_screwdriver", "colour": "black", "object": "tool_02", "size": "medium"}),
    ("SortTools", 5002): ("8ddf996605c93e21", None),
    ("CountTools", 5003): ("61af2c7a2acf85cc", {"answer": True, "question": "exists", "subject": "nut"}),
    ("FetchTool", 5004): ("9a1ff32c5f5bac0f", {"objects": [{"category": "needle_nose_pliers", "colour": "red", "object": "tool_09",
                                                              "size": "small", "zone": "hand-over area"}]}),
}


def make(task, **options):
    return gym.make(f"workbench_gym/{task}-v0", **{**SMALL, **options})


def _digest(obs) -> str:
    h = hashlib.sha256()
    for _, view in sorted(obs["cameras"].items()):
        for key in sorted(view):
            h.update(np.ascontiguousarray(view[key]).tobytes())
    h.update(obs["instruction"].encode() + np.ascontiguousarray(obs["proprio"]).tobytes())
    return h.hexdigest()


@pytest.mark.parametrize("task,seed", sorted(BEFORE))
def test_factors_off_keep_every_episode(task, seed):
    spec_hash, goal = BEFORE[(task, seed)]
    digests = []
    for options in ({}, {"perturb": ()}):
        env = make(task, **options)
        try:
            obs, info = env.reset(seed=seed)
            assert hashlib.sha256(env.unwrapped.world.spec.to_json().encode()).hexdigest()[:16] == spec_hash
            if goal is not None:
                assert {k: v for k, v in info["goal"].items() if k != "display_name"} == goal
            digests.append(_digest(obs))
        finally:
            env.close()
    assert digests[0] == digests[1]


def _diff(a: SceneSpec, b: SceneSpec) -> set[str]:
    """Paths of the spec fields that differ (tools compared by name; an added tool is 'tools+')."""
    da, db = a.to_dict(), b.to_dict()
    out = set()
    for key in ("bench", "containers", "lights", "cameras", "seed"):
        if da[key] != db[key]:
            out |= {f"{key}.{k}" for k in set(da[key]) | set(db[key]) if da[key].get(k) != db[key].get(k)} if isinstance(da[key], dict) else {key}
    before = {t["name"]: t for t in da["tools"]}
    for tool in db["tools"]:
        if tool["name"] not in before:
            out.add("tools+")
            continue
        out |= {f"tools.{k}" for k in set(tool) | set(before[tool["name"]]) if tool.get(k) != before[tool["name"]].get(k)}
    return out


EXPECTED = {
    "lighting": {"lights"}, "bench": {"bench.colour", "bench.texture"}, "camera": {"cameras"}, "clutter": {"tools+"},
    "tool_colour": {"tools.tint"}, "physics": {"tools.mass", "tools.friction"},
}


@pytest.mark.parametrize("factor", FACTORS)
def test_each_factor_changes_only_its_fields(factor):
    spec = sample_clutter(21, 12)
    perturbed = perturb_scene(spec, [factor])
    assert _diff(spec, perturbed) == EXPECTED[factor]
    assert perturb_scene(spec, [factor]).to_json() == perturbed.to_json(), "drawn from the scene's seed"
    combined = perturb_scene(spec, FACTORS)
    for path in EXPECTED[factor] - {"tools+"}:  # a factor draws the same values alone as combined
        section, _, field = path.partition(".")
        alone = perturbed.to_dict()[section]
        together = combined.to_dict()[section]
        if section == "tools":
            assert [t.get(field) for t in alone] == [t.get(field) for t in together[:len(alone)]]
        else:
            assert alone == together if not field else alone[field] == together[field]
    assert SceneSpec.from_json(perturbed.to_json()) == perturbed


def test_perturbed_episodes_keep_instruction_and_goal_and_reach_the_simulation():
    base, env = make("PickTool"), make("PickTool", perturb=FACTORS)
    try:
        obs0, info0 = base.reset(seed=5011)
        obs, info = env.reset(seed=5011)
        assert obs["instruction"] == obs0["instruction"] and info["goal"] == info0["goal"]
        assert not np.array_equal(obs["cameras"]["front"]["rgb"], obs0["cameras"]["front"]["rgb"])
        world = env.unwrapped.world
        spec = world.spec
        assert any(t.distractor for t in spec.tools) and not any(t.distractor for t in base.unwrapped.world.spec.tools)
        for tool in spec.tools:
            dynamics = world.client.getDynamicsInfo(world.bodies[tool.name], -1)
            assert dynamics[0] == pytest.approx(tool.mass) and dynamics[1] == pytest.approx(tool.friction)
            rgba = world.client.getVisualShapeData(world.bodies[tool.name])[0][7]
            assert rgba[:3] == pytest.approx(tool.tint)
        textured = world.render("front")
        world.client.changeVisualShape(world.bench_body, -1, textureUniqueId=-1)  # the same bench without its texture
        world.cameras["front"].forget_background()
        plain = world.render("front")
        bench = textured.segmentation == 1
        assert spec.bench.texture and not np.array_equal(textured.rgb[bench], plain.rgb[bench]), "the bench shows its texture"
        again = make("PickTool", perturb=FACTORS)
        try:
            assert _digest(again.reset(seed=5011)[0]) == _digest(obs), "a perturbed episode reproduces from its seed"
        finally:
            again.close()
    finally:
        base.close()
        env.close()


def test_sort_and_collect_get_no_distractors_of_their_goals():
    for task, families in (("SortTools", {"wrench", "screwdriver", "pliers"}), ("CollectScrews", {"screw"})):
        env = make(task, perturb=("clutter",))
        try:
            for seed in (5021,):
                _, info = env.reset(seed=seed)
                spec = env.unwrapped.world.spec
                added = [t for t in spec.tools if t.distractor]
                assert added, "clutter adds tools"
                from workbench_gym.scenes.catalog import get_category

                assert not {get_category(t.category).family for t in added} & families
                assert all(o["object"] in {t.name for t in spec.tools if not t.distractor} for o in info["goal"]["objects"])
        finally:
            env.close()


def test_bad_factor_is_named():
    with pytest.raises(ValueError, match="perturbation factors"):
        make("PickTool", perturb=("fog",))


def test_target_swap_trades_places_and_keeps_the_instruction():
    base, env = make("PlaceTool"), make("PlaceTool", swap_target=True)
    try:
        obs0, info0 = base.reset(seed=5032)
        obs, info = env.reset(seed=5032)
        swap = info["target_swap"]
        assert obs["instruction"] == obs0["instruction"] and info["goal"] == info0["goal"]
        target, other = swap["target"], swap["with"]
        assert target == info["goal"]["objects"][0]["object"]
        before, after = base.unwrapped.world.spec, env.unwrapped.world.spec
        at = {t.name: t.pose.position[:2] for t in after.tools}
        was = {t.name: t.pose.position[:2] for t in before.tools}
        assert at[target] == pytest.approx(was[other]) and at[other] == pytest.approx(was[target])
        assert all(at[n] == was[n] for n in at if n not in (target, other))
        oracle = OraclePlanner(env)
        done = False
        while not done:
            obs, _, terminated, truncated, info = env.step(oracle.act(obs))
            done = terminated or truncated
        assert info["is_success"], "the swapped target is still the goal"
    finally:
        base.close()
        env.close()
    with pytest.raises(ValueError, match="names one tool"):
        sort = make("SortTools", swap_target=True)
        try:
            sort.reset(seed=1)
        finally:
            sort.close()
