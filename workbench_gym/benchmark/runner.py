"""Running a suite: every row's episodes for one planner, resume-safe, optionally fanned out over Ray.

Episodes run through `rollout.play_episode`, the package's one episode loop. A row's episodes are appended to
`rows/<row>.partial.jsonl` as they finish and the row is written whole to `rows/<row>.json` (atomically) when its
last episode is in; a run that is killed continues where it stopped: finished rows are kept, and so are the finished
episodes of a row in progress. `run.json` records the suite (sha256) and planner, and a run refuses a folder that
holds another suite's or planner's results. The card (`benchmark.card`) is built from the row files at the end.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass
from importlib import resources
from pathlib import Path

import gymnasium as gym

from workbench_gym.benchmark import language_controls
from workbench_gym.benchmark.card import write_card
from workbench_gym.benchmark.instruction_sets import SETS_DIR, Item, packaged_set, read_instruction_set, set_sha256, targets_match
from workbench_gym.benchmark.planners import PlannerFactory
from workbench_gym.benchmark.suite import Row, Suite
from workbench_gym.registration import env_id
from workbench_gym.rollout import play_episode

CHUNK = 5  # episodes per Ray task: small enough to keep every worker busy to the end


@dataclass(frozen=True)
class Resources:
    """What some rows need beyond the code: the L4 instruction set, an independently written control set."""

    instruction_set: Path | None = None
    control_set: Path | None = None


def run_suite(suite: Suite, planner_factory: PlannerFactory, out_dir: str | Path, ray_address: str | None = None, quick: bool = False,
              instruction_set: str | Path | None = None, control_set: str | Path | None = None, workers: int = 2,
              progress: bool = True, dev: bool = False, select: tuple[str, ...] = ()) -> dict:
    """Run every row of `suite` for the planner and write the results card (card.json, card.md, card.png) in `out_dir`.

    `ray_address` fans episodes out as Ray tasks ("local" starts Ray here with `workers` CPUs); `quick` runs the CI
    subset; `dev` runs the same rows on development seeds (`Suite.rows`), for tuning; `select` keeps only the rows whose
    ids start with one of these prefixes ("L1/", "chains"): a partial card, marked as such. Returns the card.
    """
    out = Path(out_dir)
    resources_ = _resources(suite, instruction_set, control_set)
    _check_resources(suite, resources_)
    _claim(out, {"suite": suite.name, "version": suite.version, "sha256": suite.sha256, "planner": planner_factory.label, "quick": quick,
                 "dev_seeds": dev, "selected": list(select),
                 "instruction_set": _shown(resources_.instruction_set) if resources_.instruction_set else None,
                 "control_set": _shown(resources_.control_set) if resources_.control_set else None})
    rows = [r for r in suite.rows(quick, dev) if not select or r.id.startswith(tuple(select))]
    pending = {row.id: row for row in rows if not (out / "rows" / f"{_slug(row.id)}.json").exists()}
    todo: list[tuple[Row, PlannerFactory | None, str | None, list[int]]] = []
    for row in pending.values():
        planner, skipped = row_planner(suite, row, planner_factory)
        if row.requires == "instruction_set" and resources_.instruction_set is None:
            planner, skipped = None, f"needs instruction set {suite.level(row.group).instruction_set.name!r} (--instruction-set DIR)"
        todo.append((row, planner, skipped, seeds_left(out, row)))
    bar = _bar(sum(len(seeds) for _, planner, _, seeds in todo if planner is not None), progress)
    start = time.perf_counter()
    try:
        if ray_address:
            _run_ray(suite, todo, resources_, out, ray_address, workers, bar)
        else:
            for row, planner, skipped, seeds in todo:
                if planner is not None and seeds:  # one env per row; each episode is written as soon as it ends
                    run_chunk(suite, row, planner, seeds, resources_, on_episode=lambda e, row=row: _written(out, row, e, bar))
                _finish(out, row, planner, skipped)
    finally:
        if bar:
            bar.close()
    results = [_row_result(out, row) for row in rows]
    subset = {"quick": quick, "dev_seeds": dev, "selected": list(select)}
    return write_card(out, suite, planner_factory.label, results, subset, _sources(suite, resources_), time.perf_counter() - start)


def row_planner(suite: Suite, row: Row, planner: PlannerFactory) -> tuple[PlannerFactory | None, str | None]:
    """The planner a row runs (a level's own options, an attribution variant), or None and why the row is skipped."""
    if row.planner_variant:
        variant = next(v for v in suite.attribution.variants if v.id == row.planner_variant)
        planner = planner.substituted(variant.oracle_plan, variant.oracle_grounding)
        if planner is None:
            return None, "the planner has no plan or grounding to swap for the oracle's"
    if row.section == "levels":
        options = suite.level(row.group).planner_options.get(planner.kind, {})
        if "weights" in options:
            path = Path(str(resources.files("workbench_gym.policies.native") / "weights" / options["weights"]))
            if not path.is_file():
                return None, f"needs the native model's held-out weights {path.name} (trained without {list(suite.level(row.group).held_out_categories)})"
            planner = planner.with_options(**{**options, "weights": str(path)})
        elif options:
            planner = planner.with_options(**options)
    return planner, None


def run_chunk(suite: Suite, row: Row, planner: PlannerFactory, seeds: list[int], resources_: Resources, on_episode=None,
              wrap=None) -> list[dict]:
    """The row's episodes on these seeds (for a set row: the set's sentences for these seeds), as JSON-ready dicts.

    `on_episode(episode)` is called once a seed's episodes are all done (a seed's sentences resume together);
    `wrap(env)` wraps the row's env (photoreal frames).
    """
    observation = suite.observation["privileged" if planner.privileged else "planner"]
    env = gym.make(env_id(row.task), **{**suite.env, **observation, **row.env})
    env = wrap(env) if wrap else env
    try:
        out = []
        for seed in seeds:
            done = []
            for item, text, skipped in _instructions(suite, row, env, seed, resources_):
                done.append({"seed": seed, "skipped": skipped, **_item_fields(item)} if skipped else _episode(row, planner, env, seed, text, item))
            for episode in done:
                if on_episode:
                    on_episode(episode)
            out += done
        return out
    finally:
        env.close()


def _written(out: Path, row: Row, episode: dict, bar) -> None:
    _append(out, row, episode)
    if bar:
        bar.update()


def _instructions(suite: Suite, row: Row, env, seed: int, resources_: Resources):
    """(item, instruction text or None for the env's own, why skipped or None) for each episode of a row at a seed."""
    if row.instructions == "env":
        yield None, None, None
        return
    written = resources_.control_set is not None and any(i.label == row.instructions and i.seed == seed for i in _read_set(resources_.control_set, True))
    if row.instructions == "set" or written:  # a control kind the written set lacks (corrupted, empty) is generated
        directory, control = (resources_.instruction_set, False) if row.instructions == "set" else (resources_.control_set, True)
        items = [i for i in _read_set(directory, control) if i.task == row.task and i.seed == seed and (row.instructions == "set" or i.label == row.group)]
        for item in items:
            _, info = env.reset(seed=seed)
            yield item, item.text, None if targets_match(item.targets, info["goal"]) else "the env's goal does not match the sentence's targets"
        return
    obs, info = env.reset(seed=seed)
    rng = language_controls.control_rng(seed, row.instructions)
    text = language_controls.generate(row.instructions, row.task, obs["instruction"], info["goal"], env.unwrapped.world.spec, rng)
    yield None, text, None if text else f"no {row.instructions} sentence for {row.task}"


def _episode(row: Row, planner: PlannerFactory, env, seed: int, text: str | None, item: Item | None) -> dict:
    reset_info = {}
    options = item.reset_options() if item is not None else {"instruction": text} if text else None
    result = play_episode(env, planner.make(env, seed), seed, options,
                          on_reset=lambda obs, info: reset_info.update(info))
    episode = {"seed": seed, "instruction": result.instruction, "success": result.success, "progress": result.progress,
               "steps": result.steps, "wall_seconds": result.wall_seconds, "cpu_seconds": result.cpu_seconds, **_item_fields(item)}
    if row.scoring == "right_action":
        right = item.expected if item is not None and item.expected else row.right
        episode["outcome"], episode["right"] = language_controls.judge(tuple(right), result.actions, result.success)
        episode["first_action"] = result.actions[0] if result.actions else None
    if row.scoring == "chain":
        chain = (result.task_info or {}).get("chain", {})
        episode["completed"] = chain.get("completed", 0)
        episode["chain"] = [{k: s[k] for k in ("task", "instruction", "success", "primitives")} for s in chain.get("steps", [])]
    if "target_swap" in reset_info:
        episode["target_swap"] = reset_info["target_swap"]
        if reset_info["target_swap"] is None:
            episode["skipped"] = "no tool could trade places with the target"
    if result.planner_log:
        episode["latency_ms"] = result.planner_log["latency_ms"]
        episode["asked"] = result.planner_log["asked"]
    return episode


def _item_fields(item: Item | None) -> dict:
    return {"item": item.id, "label": item.label} if item is not None else {}


_SETS: dict[tuple[str, bool], list[Item]] = {}


def _read_set(directory: Path, control: bool) -> list[Item]:
    key = (str(directory), control)
    if key not in _SETS:
        _SETS[key] = read_instruction_set(directory, control)
    return _SETS[key]


# --- resources, folders and files -----------------------------------------------------------------------------
def _resources(suite: Suite, instruction_set: str | Path | None, control_set: str | Path | None) -> Resources:
    """The sets given, else the ones the package ships under the names the suite gives them."""
    if instruction_set is None:
        named = [lv.instruction_set.name for lv in suite.levels if lv.instruction_set is not None]
        instruction_set = packaged_set(named[0]) if named else None
    if control_set is None and suite.language.control_set is not None:
        control_set = packaged_set(suite.language.control_set.name)
    return Resources(Path(instruction_set) if instruction_set else None, Path(control_set) if control_set else None)


def _check_resources(suite: Suite, resources_: Resources) -> None:
    for level in suite.levels:
        ref = level.instruction_set
        if ref and resources_.instruction_set and ref.sha256 and set_sha256(resources_.instruction_set) != ref.sha256:
            raise ValueError(f"{resources_.instruction_set} is not instruction set {ref.name!r} of suite {suite.version} (sha256 differs)")
    ref = suite.language.control_set
    if ref and resources_.control_set and ref.sha256 and set_sha256(resources_.control_set) != ref.sha256:
        raise ValueError(f"{resources_.control_set} is not control set {ref.name!r} of suite {suite.version} (sha256 differs)")
    for path in (resources_.instruction_set, resources_.control_set):
        if path is not None:
            read_instruction_set(path, control=path == resources_.control_set)  # a clear error now, not mid-run


def _shown(path: Path) -> str:
    """A set's folder as cards show it: the packaged set's name, else the path given."""
    return f"{path.name} (packaged)" if path.resolve().parent == SETS_DIR.resolve() else str(path)


def _sources(suite: Suite, resources_: Resources) -> dict:
    return {
        "instruction_set": {"path": _shown(resources_.instruction_set), "sha256": set_sha256(resources_.instruction_set)} if resources_.instruction_set else None,
        "language_controls": ({"control_set": _shown(resources_.control_set), "sha256": set_sha256(resources_.control_set)} if resources_.control_set
                              else {"generator": suite.language.generator, "note": "built-in seeded generator (fallback), not independently written"}),
    }


def _claim(out: Path, claim: dict) -> None:
    """Make `out` this run's folder, or check that it already is (`claim`: the suite, planner, subset, seeds and sets)."""
    path = out / "run.json"
    if path.exists():
        held = json.loads(path.read_text())
        if held != claim:
            diff = {k: (held.get(k), v) for k, v in claim.items() if held.get(k) != v}
            raise ValueError(f"{out} holds results of another run {diff} (held, asked); choose another --out")
        return
    (out / "rows").mkdir(parents=True, exist_ok=True)
    _write_atomic(path, json.dumps(claim, indent=1))


def _row_result(out: Path, row: Row) -> dict:
    data = json.loads((out / "rows" / f"{_slug(row.id)}.json").read_text())
    if data["fingerprint"] != row.fingerprint():
        raise ValueError(f"{out}: row {row.id} was run with another definition; choose another --out")
    return data


def _slug(row_id: str) -> str:
    return row_id.replace("/", "__")


def seeds_left(out: Path, row: Row) -> list[int]:
    """The row's seeds without episodes in its partial file (which is rewritten without a line a kill cut short, so
    new lines start on a line of their own)."""
    kept = _partial(out, row)
    if kept:
        _write_atomic(out / "rows" / f"{_slug(row.id)}.partial.jsonl", "".join(json.dumps(e) + "\n" for e in kept))
    done = {e["seed"] for e in kept}
    return [s for s in row.seeds if s not in done]


def _partial(out: Path, row: Row) -> list[dict]:
    """Episodes of an unfinished row written so far (a line cut short by a kill is dropped)."""
    path = out / "rows" / f"{_slug(row.id)}.partial.jsonl"
    if not path.exists():
        return []
    episodes = []
    for line in path.read_text().splitlines():
        try:
            episodes.append(json.loads(line))
        except json.JSONDecodeError:
            break
    return episodes


def _append(out: Path, row: Row, episode: dict) -> None:
    path = out / "rows" / f"{_slug(row.id)}.partial.jsonl"
    with open(path, "a") as f:
        f.write(json.dumps(episode) + "\n")
        f.flush()
        os.fsync(f.fileno())


def _finish(out: Path, row: Row, planner: PlannerFactory | None, skipped: str | None) -> None:
    """Write the row's file from its partial episodes (in seed order), then drop the partial file."""
    episodes = sorted(_partial(out, row), key=lambda e: (row.seeds.index(e["seed"]), e.get("item", "")))
    data = {"row": asdict(row), "fingerprint": row.fingerprint(), "planner": planner.label if planner else None, "skipped": skipped,
            "episodes": episodes, "wall_seconds": round(sum(e.get("wall_seconds", 0.0) for e in episodes), 3),
            "cpu_seconds": round(sum(e.get("cpu_seconds", 0.0) for e in episodes), 3)}
    _write_atomic(out / "rows" / f"{_slug(row.id)}.json", json.dumps(data, indent=1))
    (out / "rows" / f"{_slug(row.id)}.partial.jsonl").unlink(missing_ok=True)


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def _bar(total: int, enabled: bool):
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm(total=total, unit="episode", disable=not enabled)


def _run_ray(suite: Suite, todo, resources_: Resources, out: Path, address: str, workers: int, bar) -> None:
    """The rows' episodes as Ray tasks of `CHUNK` seeds; each row is written once its last chunk is back."""
    try:
        import ray
    except ImportError:
        raise SystemExit("--ray-address needs ray: pip install 'workbench-gym[ray]'") from None
    if not ray.is_initialized():
        ray.init(address=None if address == "local" else address, num_cpus=workers if address == "local" else None,
                 include_dashboard=False, log_to_driver=False)
    remote = ray.remote(num_cpus=1)(run_chunk)
    left, futures = {}, {}
    for row, planner, skipped, seeds in todo:
        chunks = [seeds[i:i + CHUNK] for i in range(0, len(seeds), CHUNK)] if planner is not None else []
        left[row.id] = (row, planner, skipped, len(chunks))
        for chunk in chunks:
            futures[remote.remote(suite, row, planner, chunk, resources_)] = (row.id, len(chunk))
        if not chunks:
            _finish(out, row, planner, skipped)
    while futures:
        ready, _ = ray.wait(list(futures), num_returns=1)
        row_id, size = futures.pop(ready[0])
        row, planner, skipped, count = left[row_id]
        for episode in ray.get(ready[0]):
            _append(out, row, episode)
        left[row_id] = (row, planner, skipped, count - 1)
        if bar:
            bar.update(size)
        if count == 1:
            _finish(out, row, planner, skipped)


