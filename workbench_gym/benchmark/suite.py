"""The benchmark protocol as data: a versioned suite file (`suite_v1.json`) read into typed, frozen dataclasses.

A suite names its levels, perturbation factors, language controls, chains, attribution variants and photoreal subset,
with fixed seed blocks in the test range (100,000 and up). `Suite.rows` expands it into the rows a run evaluates; the
suite's identity is the sha256 of its canonical JSON (`Suite.sha256`), which every results card carries and which
the tests pin, so v1 cannot change unnoticed.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import dataclass, field, fields
from importlib import resources
from pathlib import Path
from typing import Any

from workbench_gym.envs.task import TASKS
from workbench_gym.scenes.perturb import FACTORS, RANGES

TEST_SEEDS = 100_000  # seeds from here up are the test range
#: `rows(dev=True)` moves every seed this far down, into the development range (below 10,000): a planner is tuned on
#: the protocol's exact rows there, never on the test seeds.
DEV_SHIFT = 95_000
SUITES = ("v1", "v1.1")  # v1.1: v1 with erratum 1 (its L4 set, language-v1.1)
#: What a language-control episode should do; "succeed" counts only for corrupted instructions whose meaning survives.
RIGHT_ACTIONS = ("ask", "refuse", "succeed")


class SuiteError(ValueError):
    """A suite file that does not describe a protocol; the message names the offending key."""


@dataclass(frozen=True)
class SeedBlock:
    """Consecutive seeds `first`, `first + 1`, ... (`count` of them)."""

    first: int
    count: int

    def seeds(self, n: int | None = None) -> tuple[int, ...]:
        """The first `n` seeds of the block (all by default); `SuiteError` if the block holds fewer."""
        n = self.count if n is None else n
        if n > self.count:
            raise SuiteError(f"seed block {self.first}+{self.count} has fewer than {n} seeds")
        return tuple(range(self.first, self.first + n))


@dataclass(frozen=True)
class InstructionSetRef:
    """An instruction set read from a directory at run time (`benchmark.instruction_sets`); `sha256` pins its files."""

    name: str
    seeds: SeedBlock
    sha256: str | None = None


@dataclass(frozen=True)
class ControlSetRef:
    """An independently written language-control set (`benchmark.instruction_sets`, its goals on `seeds_from`'s
    seeds); `sha256` pins its files."""

    name: str
    sha256: str | None = None


@dataclass(frozen=True)
class Level:
    id: str
    name: str
    tasks: tuple[str, ...]
    env: dict
    seeds: SeedBlock | None = None
    held_out_categories: tuple[str, ...] = ()
    planner_options: dict = field(default_factory=dict)  # planner label -> options (a level's own weights)
    instruction_set: InstructionSetRef | None = None
    compare_with: str | None = None


@dataclass(frozen=True)
class Factors:
    names: tuple[str, ...]
    combined: bool
    tasks: tuple[str, ...]
    seeds_from: str
    episodes: int
    ranges: dict


@dataclass(frozen=True)
class Control:
    id: str
    tasks: tuple[str, ...]
    right: tuple[str, ...]


@dataclass(frozen=True)
class TargetSwap:
    tasks: tuple[str, ...]
    compare_with: str


@dataclass(frozen=True)
class Language:
    seeds_from: str
    episodes: int
    generator: str
    control_set: ControlSetRef | None
    controls: tuple[Control, ...]
    target_swap: TargetSwap


@dataclass(frozen=True)
class Chains:
    task: str
    length: int
    seeds: SeedBlock


@dataclass(frozen=True)
class AttributionVariant:
    id: str
    oracle_plan: bool
    oracle_grounding: bool


@dataclass(frozen=True)
class Attribution:
    tasks: tuple[str, ...]
    seeds_from: str
    episodes: int
    variants: tuple[AttributionVariant, ...]
    rule: tuple[str, ...]


@dataclass(frozen=True)
class Photoreal:
    renderer: str
    tasks: tuple[str, ...]
    seeds: SeedBlock
    planners: tuple[str, ...]
    render: dict
    statistics: tuple[str, ...]


@dataclass(frozen=True)
class Quick:
    episodes_per_row: int
    chain_episodes: int
    instruction_set_items_per_task: int


@dataclass(frozen=True)
class Row:
    """One row of a results card: a task under one setting, a seed list and how episodes are given and scored.

    `instructions` is "env" (the env's own), a language control ("corrupted", ...) or "set" (an instruction set);
    `planner_variant` names an attribution variant ("" for the planner as it is); `baseline` is the row a change is
    measured against (same seeds); `requires` names what the row needs beyond the code ("instruction_set", ...).
    """

    id: str
    section: str
    group: str
    task: str
    env: dict
    seeds: tuple[int, ...]
    instructions: str = "env"
    scoring: str = "success"
    right: tuple[str, ...] = ()
    planner_variant: str = ""
    baseline: str | None = None
    requires: str | None = None

    def fingerprint(self) -> str:
        """sha256 of the row's definition: a resumed run must find the same rows it started."""
        data = json.dumps(_plain(self), sort_keys=True, default=str)
        return hashlib.sha256(data.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class Suite:
    name: str
    version: str
    description: str
    tasks: tuple[str, ...]
    env: dict
    observation: dict
    quick: Quick
    levels: tuple[Level, ...]
    factors: Factors
    language: Language
    chains: Chains
    attribution: Attribution
    photoreal: Photoreal
    sha256: str = ""

    def level(self, level_id: str) -> Level:
        for level in self.levels:
            if level.id == level_id:
                return level
        raise SuiteError(f"no level {level_id!r}; the suite has {[lv.id for lv in self.levels]}")

    def rows(self, quick: bool = False, dev: bool = False) -> list[Row]:
        """Every row a run evaluates, in order: levels, factors, language controls, chains, attribution.

        `quick` keeps the first seeds of each row (the CI subset); `dev` moves every seed down by `DEV_SHIFT` and
        leaves out the rows of instruction sets, whose sentences belong to their test seeds.
        """
        rows = self._rows(quick)
        if not dev:
            return rows
        return [dataclasses.replace(r, seeds=tuple(s - DEV_SHIFT for s in r.seeds)) for r in rows if r.instructions != "set"]

    def _rows(self, quick: bool) -> list[Row]:
        def episodes(count: int | None) -> int | None:
            """Seeds a row takes from its block: `count` (None: the whole block), or the quick subset's."""
            return self.quick.episodes_per_row if quick else count

        rows: list[Row] = []
        for level in self.levels:
            if level.instruction_set is not None:
                count = self.quick.instruction_set_items_per_task if quick else None
                seeds = level.instruction_set.seeds.seeds()
                rows += [Row(f"{level.id}/{t}", "levels", level.id, t, dict(level.env), seeds[:count] if count else seeds, instructions="set",
                             baseline=f"{level.compare_with}/{t}" if level.compare_with else None, requires="instruction_set")
                         for t in level.tasks]
            else:
                requires = "held_out_weights" if level.planner_options else None
                rows += [Row(f"{level.id}/{t}", "levels", level.id, t, dict(level.env), level.seeds.seeds(episodes(None)), requires=requires)
                         for t in level.tasks]
        f = self.factors
        base = self.level(f.seeds_from).seeds
        settings = [(name, (name,)) for name in f.names] + ([("all", f.names)] if f.combined else [])
        for group, names in settings:
            rows += [Row(f"factor/{group}/{t}", "factors", group, t, {"perturb": list(names)}, base.seeds(episodes(f.episodes)),
                         baseline=f"{f.seeds_from}/{t}") for t in f.tasks]
        lang = self.language
        base = self.level(lang.seeds_from).seeds
        for control in lang.controls:
            rows += [Row(f"language/{control.id}/{t}", "language", control.id, t, {}, base.seeds(episodes(lang.episodes)),
                         instructions=control.id, scoring="right_action", right=control.right) for t in control.tasks]
        swap = lang.target_swap
        rows += [Row(f"language/target_swap/{t}", "language", "target_swap", t, {"swap_target": True}, base.seeds(episodes(lang.episodes)),
                     baseline=f"{swap.compare_with}/{t}") for t in swap.tasks]
        c = self.chains
        rows.append(Row("chains", "chains", "chains", c.task, {}, c.seeds.seeds(self.quick.chain_episodes if quick else None), scoring="chain"))
        a = self.attribution
        base = self.level(a.seeds_from).seeds
        for variant in a.variants:
            rows += [Row(f"attribution/{variant.id}/{t}", "attribution", variant.id, t, {}, base.seeds(episodes(a.episodes)), planner_variant=variant.id,
                         baseline=f"{a.seeds_from}/{t}") for t in a.tasks]
        return rows


# --- reading ------------------------------------------------------------------------------------------------
def canonical_json(data: dict) -> str:
    """The suite's data as canonical JSON: sorted keys, no spaces (what `sha256` hashes)."""
    return json.dumps(data, sort_keys=True, separators=(",", ":"))


def load_suite(name_or_path: str | Path = "v1") -> Suite:
    """A suite by version name ("v1", shipped in the package) or from a JSON file; `SuiteError` names what is wrong."""
    if str(name_or_path) in SUITES:
        text = resources.files("workbench_gym.benchmark").joinpath(f"suite_{name_or_path}.json").read_text()
        where = f"suite {name_or_path}"
    else:
        path = Path(name_or_path)
        if not path.is_file():
            raise SuiteError(f"no suite {str(name_or_path)!r}: expected one of {SUITES} or a suite JSON file")
        text, where = path.read_text(), str(path)
    try:
        data = json.loads(text)
    except json.JSONDecodeError as err:
        raise SuiteError(f"{where}: not valid JSON ({err})") from None
    return parse_suite(data)


def parse_suite(data: dict) -> Suite:
    """A `Suite` from its JSON data, checked: known tasks and factors, the code's perturbation ranges, test seeds."""
    if not isinstance(data, dict):
        raise SuiteError(f"a suite is a JSON object, got {type(data).__name__}")
    tasks = tuple(_get(data, "tasks", list, "suite"))
    unknown = [t for t in tasks if t not in TASKS]
    if unknown:
        raise SuiteError(f"tasks: unknown {unknown}; expected some of {sorted(TASKS)}")

    def task_list(value, where) -> tuple[str, ...]:
        if value == "all":
            return tasks
        if not isinstance(value, list) or any(t not in tasks for t in value):
            raise SuiteError(f"{where}.tasks: expected 'all' or a list of the suite's tasks {list(tasks)}, got {value!r}")
        return tuple(value)

    levels = []
    for i, lv in enumerate(_get(data, "levels", list, "suite")):
        where = f"levels[{i}]"
        iset = lv.get("instruction_set")
        levels.append(Level(
            id=_get(lv, "id", str, where), name=_get(lv, "name", str, where), tasks=task_list(lv.get("tasks"), where),
            env=_get(lv, "env", dict, where), seeds=_seeds(lv["seeds"], f"{where}.seeds") if "seeds" in lv else None,
            held_out_categories=tuple(lv.get("held_out_categories", ())), planner_options=dict(lv.get("planner_options", {})),
            instruction_set=InstructionSetRef(_get(iset, "name", str, f"{where}.instruction_set"), _seeds(iset["seeds"], f"{where}.instruction_set.seeds"),
                                              iset.get("sha256")) if iset else None,
            compare_with=lv.get("compare_with"),
        ))
        if levels[-1].seeds is None and levels[-1].instruction_set is None:
            raise SuiteError(f"{where}: a level needs 'seeds' or an 'instruction_set'")
    ids = [lv.id for lv in levels]
    if len(set(ids)) != len(ids):
        raise SuiteError(f"levels: ids must be distinct, got {ids}")

    def level_ref(value, where) -> str:
        if value not in ids:
            raise SuiteError(f"{where}: {value!r} is not a level; expected one of {ids}")
        return value

    fd = _get(data, "factors", dict, "suite")
    factors = Factors(tuple(_get(fd, "names", list, "factors")), bool(fd.get("combined", False)), task_list(fd.get("tasks"), "factors"),
                      level_ref(fd.get("seeds_from"), "factors.seeds_from"), _get(fd, "episodes", int, "factors"), _get(fd, "ranges", dict, "factors"))
    if set(factors.names) != set(FACTORS) or len(factors.names) != len(FACTORS):
        raise SuiteError(f"factors.names: expected each of {list(FACTORS)} once, got {list(factors.names)}")
    if factors.ranges != RANGES.to_dict():
        raise SuiteError("factors.ranges differ from the code's perturbation ranges (scenes.perturb.RANGES): "
                         "the suite would not measure what it says; a new range is a new suite version")

    ld = _get(data, "language", dict, "suite")
    controls = []
    for i, c in enumerate(_get(ld, "controls", list, "language")):
        right = tuple(_get(c, "right", list, f"language.controls[{i}]"))
        if not right or any(r not in RIGHT_ACTIONS for r in right):
            raise SuiteError(f"language.controls[{i}].right: expected some of {RIGHT_ACTIONS}, got {list(right)}")
        controls.append(Control(_get(c, "id", str, f"language.controls[{i}]"), task_list(c.get("tasks"), f"language.controls[{i}]"), right))
    sd = _get(ld, "target_swap", dict, "language")
    language = Language(level_ref(ld.get("seeds_from"), "language.seeds_from"), _get(ld, "episodes", int, "language"),
                        _get(ld, "generator", str, "language"), _control_set(ld.get("control_set")), tuple(controls),
                        TargetSwap(task_list(sd.get("tasks"), "language.target_swap"), level_ref(sd.get("compare_with"), "language.target_swap.compare_with")))

    cd = _get(data, "chains", dict, "suite")
    if cd.get("task") not in TASKS:
        raise SuiteError(f"chains.task: unknown task {cd.get('task')!r}")
    chains = Chains(cd["task"], _get(cd, "length", int, "chains"), _seeds(cd.get("seeds"), "chains.seeds"))

    ad = _get(data, "attribution", dict, "suite")
    variants = tuple(AttributionVariant(_get(v, "id", str, f"attribution.variants[{i}]"), bool(v.get("oracle_plan")), bool(v.get("oracle_grounding")))
                     for i, v in enumerate(_get(ad, "variants", list, "attribution")))
    attribution = Attribution(task_list(ad.get("tasks"), "attribution"), level_ref(ad.get("seeds_from"), "attribution.seeds_from"),
                              _get(ad, "episodes", int, "attribution"), variants, tuple(_get(ad, "rule", list, "attribution")))

    pd = _get(data, "photoreal", dict, "suite")
    photoreal = Photoreal(_get(pd, "renderer", str, "photoreal"), task_list(pd.get("tasks"), "photoreal"), _seeds(pd.get("seeds"), "photoreal.seeds"),
                          tuple(_get(pd, "planners", list, "photoreal")), _get(pd, "render", dict, "photoreal"),
                          tuple(_get(pd, "statistics", list, "photoreal")))

    qd = _get(data, "quick", dict, "suite")
    quick = Quick(_get(qd, "episodes_per_row", int, "quick"), _get(qd, "chain_episodes", int, "quick"),
                  _get(qd, "instruction_set_items_per_task", int, "quick"))
    return Suite(
        name=_get(data, "name", str, "suite"), version=_get(data, "version", str, "suite"), description=_get(data, "description", str, "suite"),
        tasks=tasks, env=_get(data, "env", dict, "suite"), observation=_get(data, "observation", dict, "suite"), quick=quick,
        levels=tuple(levels), factors=factors,
        language=language, chains=chains, attribution=attribution, photoreal=photoreal,
        sha256=hashlib.sha256(canonical_json(data).encode()).hexdigest(),
    )


def _get(data: Any, key: str, kind: type, where: str):
    if not isinstance(data, dict) or key not in data:
        raise SuiteError(f"{where}: missing {key!r}")
    value = data[key]
    if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
        raise SuiteError(f"{where}.{key}: expected {kind.__name__}, got {value!r}")
    return value


def _control_set(data: Any) -> ControlSetRef | None:
    if data is None:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("name"), str):
        raise SuiteError(f"language.control_set: expected null or {{'name': ..., 'sha256': ...}}, got {data!r}")
    return ControlSetRef(data["name"], data.get("sha256"))


def _seeds(data: Any, where: str) -> SeedBlock:
    first, count = _get(data, "first", int, where), _get(data, "count", int, where)
    if first < TEST_SEEDS or count < 1:
        raise SuiteError(f"{where}: seeds must lie in the test range ({TEST_SEEDS} and up) and count at least 1, got first={first}, count={count}")
    return SeedBlock(first, count)


def _plain(value):
    """Dataclasses as dicts (for fingerprints)."""
    if hasattr(value, "__dataclass_fields__"):
        return {f.name: _plain(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value
