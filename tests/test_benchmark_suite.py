"""The suite definition (frozen), its statistics and the results card, on hand-made numbers: no simulation here."""

import json

import numpy as np
import pytest

from workbench_gym.benchmark import stats
from workbench_gym.benchmark.card import build_card, charge, markdown
from workbench_gym.benchmark.instruction_sets import InstructionSetError, read_instruction_set, targets_match
from workbench_gym.benchmark.photoreal import agreement
from workbench_gym.benchmark.suite import DEV_SHIFT, TEST_SEEDS, SuiteError, canonical_json, load_suite, parse_suite
from workbench_gym.envs.task import TASKS
from workbench_gym.scenes.perturb import FACTORS, RANGES

#: sha256 of suite v1's canonical JSON. A change here is a new suite version (suite_v2.json), never an edit of v1.
V1_SHA256 = "3494fad31606350cf95163d44f2e8febaab13b0154e2a2f0bb051599016fce83"


def v1_data() -> dict:
    from importlib import resources

    return json.loads(resources.files("workbench_gym.benchmark").joinpath("suite_v1.json").read_text())


def test_v1_is_frozen():
    suite = load_suite("v1")
    assert suite.sha256 == V1_SHA256, "suite v1 changed: publish a new version instead"
    assert suite.sha256 == __import__("hashlib").sha256(canonical_json(v1_data()).encode()).hexdigest()


def test_v1_structure():
    suite = load_suite("v1")
    assert (suite.name, suite.version) == ("workbench-gym", "v1")
    assert set(suite.tasks) == set(TASKS) - {"ReachTool", "ChainTools"}
    assert [lv.id for lv in suite.levels] == ["L1", "L2", "L3", "L4"]
    assert suite.level("L2").env == {"variant_split": "unseen"}
    assert set(suite.level("L3").env["goal_categories"]) == set(suite.level("L3").held_out_categories)
    assert set(suite.factors.names) == set(FACTORS) and suite.factors.ranges == RANGES.to_dict()
    assert suite.chains.task == "ChainTools" and suite.chains.length == 5
    rows = suite.rows()
    assert len({r.id for r in rows}) == len(rows)
    assert all(s >= TEST_SEEDS for r in rows for s in r.seeds), "every seed of the protocol lies in the test range"
    by_id = {r.id: r for r in rows}
    for row in rows:  # a change is measured on the baseline's own seeds
        if row.baseline and row.instructions != "set":
            assert set(row.seeds) <= set(by_id[row.baseline].seeds), row.id
    sections = {r.section for r in rows}
    assert sections == {"levels", "factors", "language", "chains", "attribution"}
    assert len([r for r in rows if r.section == "factors"]) == (len(FACTORS) + 1) * len(suite.tasks)


def test_quick_and_dev_rows():
    suite = load_suite("v1")
    full, quick = suite.rows(), suite.rows(quick=True)
    assert [r.id for r in full] == [r.id for r in quick]
    assert all(set(q.seeds) <= set(f.seeds) and len(q.seeds) <= 2 for f, q in zip(full, quick))
    dev = suite.rows(quick=True, dev=True)
    assert all(s < 10_000 for r in dev for s in r.seeds), "development seeds stay below 10,000"
    assert {r.id for r in dev} == {r.id for r in quick if r.instructions != "set"}
    assert dev[0].seeds[0] == quick[0].seeds[0] - DEV_SHIFT


def test_bad_suites_are_named():
    data = v1_data()
    with pytest.raises(SuiteError, match="test range"):
        parse_suite({**data, "chains": {**data["chains"], "seeds": {"first": 5, "count": 3}}})
    with pytest.raises(SuiteError, match="perturbation ranges"):
        parse_suite({**data, "factors": {**data["factors"], "ranges": {**data["factors"]["ranges"], "distractors": [1, 2]}}})
    with pytest.raises(SuiteError, match="unknown"):
        parse_suite({**data, "tasks": ["PickTool", "JuggleTools"]})
    with pytest.raises(SuiteError, match="missing 'levels'"):
        parse_suite({k: v for k, v in data.items() if k != "levels"})
    with pytest.raises(SuiteError, match="no suite"):
        load_suite("v0")


# --- statistics ---------------------------------------------------------------------------------------------
def test_wilson_interval_known_values():
    e = stats.wilson(8, 10)
    assert e.value == 0.8 and e.low == pytest.approx(0.4902, abs=1e-4) and e.high == pytest.approx(0.9433, abs=1e-4)
    perfect = stats.wilson(20, 20)
    assert perfect.high == 1.0 and perfect.low == pytest.approx(0.8389, abs=1e-4), "an all-success row still has a lower bound"
    assert stats.wilson(0, 0) == stats.EMPTY
    with pytest.raises(ValueError):
        stats.wilson(3, 2)


def test_difference_and_mean_intervals():
    after, before = stats.wilson(10, 20), stats.wilson(18, 20)
    d = stats.difference(after, before)
    assert d.value == pytest.approx(-0.4) and d.low < -0.4 < d.high < 0, "a clear drop excludes zero"
    same = stats.difference(stats.wilson(20, 20), stats.wilson(20, 20))
    assert same.value == 0 and same.low < 0 < same.high
    m = stats.mean_interval([5, 5, 4, 3, 5, 2, 5, 5])
    assert m.value == pytest.approx(4.25) and m.low < 4.25 < m.high and m.high <= 5
    assert stats.mean_interval([3, 3, 3]) == stats.Estimate(3.0, 3.0, 3.0, 3)


def test_agreement_on_hand_made_numbers():
    sim = {"oracle_grounding": 0.9, "native": 0.7, "native_no_second_look": 0.6, "random": 0.05}
    same_order = {"oracle_grounding": 0.8, "native": 0.5, "native_no_second_look": 0.45, "random": 0.0}
    a = agreement(sim, same_order)
    assert a["mmrv"] == 0.0 and a["pearson"] == pytest.approx(np.corrcoef(list(sim.values()), list(same_order.values()))[0, 1])
    flipped = {**same_order, "native": 0.4}  # native now ranks below native_no_second_look: one gap of 0.05, seen from both
    assert agreement(sim, flipped)["mmrv"] == pytest.approx(2 * 0.05 / 4)
    assert stats.mmrv([0.1, 0.2], [0.9, 0.3]) == pytest.approx(0.6)
    with pytest.raises(ValueError, match="same two or more"):
        agreement({"a": 0.1}, {"a": 0.2})


# --- the card ---------------------------------------------------------------------------------------------
def _row(row_id, section, group, task, seeds, success, baseline=None, scoring="success", **extra):
    episodes = [{"seed": s, "success": ok, **{k: v[i] for k, v in extra.items()}} for i, (s, ok) in enumerate(zip(seeds, success))]
    return {"row": {"id": row_id, "section": section, "group": group, "task": task, "baseline": baseline, "scoring": scoring},
            "skipped": None, "episodes": episodes, "wall_seconds": 1.0}


def test_charge_rule():
    assert charge(plan_and_grounding=False, grounding_only=True, plan_only=True) == "execution"
    assert charge(True, grounding_only=True, plan_only=False) == "grounding"
    assert charge(True, grounding_only=False, plan_only=True) == "language"
    assert charge(True, True, True) == "language_or_grounding"
    assert charge(True, False, False) == "language_and_grounding"


def test_card_from_hand_made_rows():
    suite = load_suite("v1")
    seeds = [1, 2, 3, 4]
    results = [
        _row("L1/PickTool", "levels", "L1", "PickTool", seeds, [True, True, False, False]),
        _row("factor/lighting/PickTool", "factors", "lighting", "PickTool", seeds[:2], [False, False], baseline="L1/PickTool"),
        _row("language/corrupted/PickTool", "language", "corrupted", "PickTool", seeds, [False] * 4, scoring="right_action",
             right=[True, True, False, True], outcome=["asked", "refused", "acted", "asked"]),
        _row("chains", "chains", "chains", "ChainTools", seeds, [True, False, False, False], scoring="chain", completed=[5, 2, 0, 3]),
        _row("attribution/oracle_plan/PickTool", "attribution", "oracle_plan", "PickTool", seeds, [True, True, True, False], baseline="L1/PickTool"),
        _row("attribution/oracle_grounding/PickTool", "attribution", "oracle_grounding", "PickTool", seeds, [True, True, False, False], baseline="L1/PickTool"),
        _row("attribution/oracle_plan_grounding/PickTool", "attribution", "oracle_plan_grounding", "PickTool", seeds, [True, True, True, True],
             baseline="L1/PickTool"),
    ]
    card = build_card(suite, "test", results, {"quick": False, "dev_seeds": True}, {"language_controls": {"note": "x"}}, 1.0)
    assert card["levels"]["L1"]["success"]["value"] == 0.5
    lighting = card["factors"]["lighting"]
    assert lighting["success"]["value"] == 0.0 and lighting["change"]["value"] == -1.0, "paired with L1's seeds 1 and 2, both successes"
    corrupted = card["language"]["corrupted"]
    assert corrupted["right"]["value"] == 0.75 and corrupted["outcomes"] == {"asked": 2, "refused": 1, "acted": 1}
    chains = card["chains"]
    assert [e["value"] for e in chains["success_at"]] == [0.75, 0.75, 0.5, 0.25, 0.25]
    assert chains["average_length"]["value"] == 2.5
    a = card["attribution"]
    # Seeds 3 and 4 failed in L1: seed 3 succeeds with the oracle's plan only (language); seed 4 only with both (split).
    assert a["failures_charged"] == 2 and a["counts"]["language"] == 1 and a["counts"]["language_and_grounding"] == 1
    assert a["charged"] == {"language": 0.75, "grounding": 0.25, "execution": 0.0}
    text = markdown(card)
    assert "DEVELOPMENT SEEDS" in text and "| lighting | 2 | 0% [0, 66] | -100" in text


# --- instruction sets -----------------------------------------------------------------------------------------
def test_instruction_set_reader(tmp_path):
    goals = [{"id": "g1", "task": "PickTool", "seed": 100000, "label": "paraphrase", "targets": {"category": "claw_hammer"}}]
    (tmp_path / "goals.jsonl").write_text("\n".join(json.dumps(g) for g in goals) + "\n")
    (tmp_path / "instructions.jsonl").write_text(json.dumps({"id": "g1", "text": "hand over the hammer with the claw"}) + "\n")
    items = read_instruction_set(tmp_path)
    assert [(i.id, i.task, i.seed, i.label, i.text) for i in items] == [("g1", "PickTool", 100000, "paraphrase", "hand over the hammer with the claw")]
    with pytest.raises(InstructionSetError, match="expected"):
        read_instruction_set(tmp_path, control=True)  # a control set's goals need their right actions
    (tmp_path / "instructions.jsonl").write_text(json.dumps({"id": "g2", "text": "x"}) + "\n")
    with pytest.raises(InstructionSetError, match=r"instructions.jsonl:1: id 'g2' names no goal"):
        read_instruction_set(tmp_path)
    assert targets_match({"category": "nut"}, {"category": "nut", "colour": "brass"})
    assert not targets_match({"category": "nut", "size": "large"}, {"category": "nut", "size": "small"})
    assert targets_match({"objects": [{"zone": "bin_left"}]}, {"objects": [{"zone": "bin_left", "object": "tool_01"}]})


@pytest.mark.parametrize("version", ["v1", "v1.1"])
def test_the_packaged_sets_are_the_ones_each_suite_pins_and_runs_use_them_by_default(version):
    """L4's instruction set and the written control set ship in the package; an edit of either breaks its pin."""
    from workbench_gym.benchmark.instruction_sets import read_instruction_set, set_sha256
    from workbench_gym.benchmark.runner import _resources

    suite = load_suite(version)
    resources_ = _resources(suite, None, None)
    level = suite.level("L4")
    assert set_sha256(resources_.instruction_set) == level.instruction_set.sha256
    assert set_sha256(resources_.control_set) == suite.language.control_set.sha256
    items = read_instruction_set(resources_.instruction_set)
    assert len(items) >= 400 and {i.task for i in items} == set(suite.tasks)
    assert all(i.seed in level.instruction_set.seeds.seeds() for i in items)
    assert sum(i.goal_level for i in items) == 40
    controls = read_instruction_set(resources_.control_set, control=True)
    assert {i.label for i in controls} <= {c.id for c in suite.language.controls}
    given = _resources(suite, "/elsewhere/set", None)
    assert str(given.instruction_set) == "/elsewhere/set"


def test_v1_1_is_v1_with_erratum_1_in_its_l4_set_only():
    """Suite v1.1 differs from v1 only in its L4 set, and that set from v1's only in the rows erratum 1 replaced: each
    a ClarifyTool row whose family label became `unlisted`, with v1's row kept in `erratum-1/replaced.jsonl`."""
    from importlib import resources

    from workbench_gym.benchmark.instruction_sets import SETS_DIR

    v1_1 = json.loads(resources.files("workbench_gym.benchmark").joinpath("suite_v1.1.json").read_text())
    v1 = v1_data()
    for data in (v1, v1_1):
        data.pop("version"), data.pop("description")
        data["levels"][-1].pop("instruction_set")
    assert v1 == v1_1
    assert load_suite("v1.1").level("L4").instruction_set.name == "language-v1.1"

    def rows(name: str) -> dict:
        goals = [json.loads(line) for line in (SETS_DIR / name / "goals.jsonl").read_text().splitlines()]
        texts = [json.loads(line) for line in (SETS_DIR / name / "instructions.jsonl").read_text().splitlines()]
        return {g["id"]: (g, t["text"]) for g, t in zip(goals, texts, strict=True)}

    old, new = rows("language-v1"), rows("language-v1.1")
    changed = {i for i in old if old[i] != new[i]}
    replaced = {r["id"]: r for r in map(json.loads, (SETS_DIR / "language-v1.1" / "erratum-1" / "replaced.jsonl").read_text().splitlines())}
    assert old.keys() == new.keys() and changed == replaced.keys() and len(changed) == 13
    for i in changed:
        assert new[i][0]["task"] == "ClarifyTool" and old[i][0]["label"]["reference"]["category"] == "wrench"
        assert new[i][0]["label"]["reference"]["category"] == "unlisted"
        assert (replaced[i]["label"], replaced[i]["text"]) == (old[i][0]["label"], old[i][1])
