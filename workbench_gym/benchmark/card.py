"""The results card of a suite run: JSON, a markdown table and a plot, every rate with its 95% interval.

`build_card` aggregates the row files (`benchmark.runner`): per row, per level (pooled over tasks; L4 also per label),
per factor (the change in success against the unperturbed rows on the same tasks and seeds), per language control
(the share of right actions and what the first actions were; the target swap as a change), chains (success at each
step, CALVIN's average length), failure attribution (each failed L1 episode charged to language, grounding or
execution by the suite's rule) and wall time. Skipped episodes and rows are counted, never scored.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from workbench_gym.benchmark.stats import Estimate, difference, mean_interval, rate
from workbench_gym.benchmark.suite import Suite

CHARGES = ("execution", "grounding", "language", "language_or_grounding", "language_and_grounding")


def _scored(result: dict) -> list[dict]:
    return [e for e in result["episodes"] if not e.get("skipped")]


def _pairs(results: list[dict]) -> dict[tuple[str, int], bool]:
    """(task, seed) -> success of the scored episodes of some rows."""
    return {(r["row"]["task"], e["seed"]): bool(e["success"]) for r in results for e in _scored(r)}


def _change(after: list[dict], baseline: dict[str, dict]) -> tuple[Estimate, Estimate]:
    """Pooled success of `after` rows and the change from their baseline rows on the same (task, seed) pairs (a seed
    with several sentences, as in an instruction set, counts its baseline episode once per sentence)."""
    done = [(r["row"]["task"], e["seed"], bool(e["success"])) for r in after for e in _scored(r)]
    before = _pairs([baseline[r["row"]["baseline"]] for r in after if r["row"]["baseline"] in baseline])
    shared = [(task, seed, ok) for task, seed, ok in done if (task, seed) in before]
    return rate([ok for _, _, ok in done]), difference(rate([ok for _, _, ok in shared]), rate([before[t, s] for t, s, _ in shared]))


def charge(plan_and_grounding: bool, grounding_only: bool, plan_only: bool) -> str:
    """The suite's rule for one failed episode, from its outcomes with the oracle's plan and grounding together,
    the oracle's grounding alone (planner's plan) and the oracle's plan alone (planner's grounding)."""
    if not plan_and_grounding:
        return "execution"
    if grounding_only and not plan_only:
        return "grounding"
    if plan_only and not grounding_only:
        return "language"
    return "language_or_grounding" if plan_only else "language_and_grounding"


def build_card(suite: Suite, planner: str, results: list[dict], subset: dict, sources: dict, elapsed: float) -> dict:
    """The card's data from the row results (one dict per row file)."""
    by_id = {r["row"]["id"]: r for r in results}
    rows = []
    for r in results:
        scored = _scored(r)
        row = {"id": r["row"]["id"], "section": r["row"]["section"], "group": r["row"]["group"], "task": r["row"]["task"],
               "episodes": len(scored), "skipped_episodes": len(r["episodes"]) - len(scored), "skipped": r["skipped"],
               "success": rate([e["success"] for e in scored]).to_dict(), "wall_seconds": r["wall_seconds"]}
        if r["row"]["scoring"] == "right_action":
            row["right"] = rate([e["right"] for e in scored]).to_dict()
        rows.append(row)
    section = {s: [r for r in results if r["row"]["section"] == s] for s in ("levels", "factors", "language", "chains", "attribution")}

    levels = {}
    for level in suite.levels:
        group = [r for r in section["levels"] if r["row"]["group"] == level.id]
        entry = {"name": level.name, "success": rate([e["success"] for r in group for e in _scored(r)]).to_dict(),
                 "by_task": {r["row"]["task"]: rate([e["success"] for e in _scored(r)]).to_dict() for r in group},
                 "skipped": sorted({r["skipped"] for r in group if r["skipped"]})}
        labels = sorted({e["label"] for r in group for e in _scored(r) if "label" in e})
        if labels:
            entry["by_label"] = {lb: rate([e["success"] for r in group for e in _scored(r) if e.get("label") == lb]).to_dict() for lb in labels}
        if level.compare_with:
            entry["compare_with"], entry["change"] = level.compare_with, _change(group, by_id)[1].to_dict()
        levels[level.id] = entry

    factors = {}
    for group in [*suite.factors.names, *(["all"] if suite.factors.combined else [])]:
        success, change = _change([r for r in section["factors"] if r["row"]["group"] == group], by_id)
        factors[group] = {"success": success.to_dict(), "change": change.to_dict()}

    language = {}
    for control in suite.language.controls:
        episodes = [e for r in section["language"] if r["row"]["group"] == control.id for e in _scored(r)]
        language[control.id] = {"right": rate([e["right"] for e in episodes]).to_dict(), "success": rate([e["success"] for e in episodes]).to_dict(),
                                "outcomes": dict(Counter(e["outcome"] for e in episodes)), "right_actions": list(control.right)}
    success, change = _change([r for r in section["language"] if r["row"]["group"] == "target_swap"], by_id)
    language["target_swap"] = {"success": success.to_dict(), "change": change.to_dict()}

    completed = [e["completed"] for r in section["chains"] for e in _scored(r)]
    chains = {"length": suite.chains.length, "episodes": len(completed),
              "success_at": [rate([c >= k for c in completed]).to_dict() for k in range(1, suite.chains.length + 1)],
              "average_length": mean_interval(completed).to_dict()}

    card = {
        "suite": {"name": suite.name, "version": suite.version, "sha256": suite.sha256}, "planner": planner, **subset, "sources": sources,
        "rows": rows, "levels": levels, "factors": factors, "language": language, "chains": chains,
        "attribution": _attribution(suite, section["attribution"], by_id),
        "wall_seconds": {"episodes": round(sum(r["wall_seconds"] for r in results), 1), "this_run": round(elapsed, 1),
                         "by_section": {s: round(sum(r["wall_seconds"] for r in rs), 1) for s, rs in section.items()}},
        "cpu_seconds": {"episodes": round(sum(r.get("cpu_seconds", 0.0) for r in results), 1),
                        "by_section": {s: round(sum(r.get("cpu_seconds", 0.0) for r in rs), 1) for s, rs in section.items()}},
    }
    return card


def _attribution(suite: Suite, results: list[dict], by_id: dict) -> dict:
    variants = {v.id: (v.oracle_plan, v.oracle_grounding) for v in suite.attribution.variants}
    outcome = {flags: _pairs([r for r in results if variants[r["row"]["group"]] == flags]) for flags in variants.values()}
    base = _pairs([by_id[f"{suite.attribution.seeds_from}/{t}"] for t in suite.attribution.tasks if f"{suite.attribution.seeds_from}/{t}" in by_id])
    charged = Counter()
    for key, success in base.items():
        if success or any(key not in outcome.get(flags, {}) for flags in ((True, True), (False, True), (True, False))):
            continue
        charged[charge(outcome[(True, True)][key], outcome[(False, True)][key], outcome[(True, False)][key])] += 1
    failed = sum(charged.values())
    shares = {c: rate([True] * charged[c] + [False] * (failed - charged[c])).to_dict() for c in CHARGES}
    split = charged["language_or_grounding"] + charged["language_and_grounding"]
    totals = {"language": charged["language"] + split / 2, "grounding": charged["grounding"] + split / 2, "execution": charged["execution"]}
    return {"skipped": sorted({r["skipped"] for r in results if r["skipped"]}),
            "variants": {vid: rate(list(outcome[flags].values())).to_dict() for vid, flags in variants.items()},
            "failures_charged": failed, "counts": {c: charged[c] for c in CHARGES}, "shares": shares,
            "charged": {k: round(v / failed, 3) if failed else None for k, v in totals.items()}, "rule": list(suite.attribution.rule)}


# --- writing --------------------------------------------------------------------------------------------------
def percent(e: dict) -> str:
    """"85% [72, 93]" (rate and 95% interval), or "–" without episodes."""
    if not e or e.get("value") is None:
        return "–"
    return f"{100 * e['value']:.0f}% [{100 * e['low']:.0f}, {100 * e['high']:.0f}]"


def points(e: dict) -> str:
    """"-12 [-25, +2] pts" (a change in percentage points and its 95% interval)."""
    if not e or e.get("value") is None:
        return "–"
    return f"{100 * e['value']:+.0f} [{100 * e['low']:+.0f}, {100 * e['high']:+.0f}] pts"


def markdown(card: dict) -> str:
    """The card as markdown tables."""
    s = card["suite"]
    intro = (f"Suite sha256 `{s['sha256'][:16]}`. Rates with 95% Wilson intervals; changes with Newcombe intervals; "
             f"average chain length with a bootstrap interval. Wall time {card['wall_seconds']['episodes']:.0f} s of episodes.")
    lines = [f"# {s['name']} suite {s['version']}: {card['planner']}" + _subset(card), "", intro, ""]
    lang_source = card["sources"]["language_controls"]
    lines += [f"Language controls: {lang_source.get('note') or lang_source.get('control_set')}.", ""]
    lines += ["## Levels", "", "| level | task | episodes | success |", "| --- | --- | --- | --- |"]
    for level_id, level in card["levels"].items():
        for row in (r for r in card["rows"] if r["section"] == "levels" and r["group"] == level_id):
            lines.append(f"| {level_id} | {row['task']} | {row['episodes']} | {percent(row['success']) if not row['skipped'] else 'skipped: ' + row['skipped']} |")
        extra = f" (change vs {level['compare_with']}: {points(level['change'])})" if "change" in level else ""
        lines.append(f"| **{level_id}** | **all: {level['name']}** | {level['success']['n']} | **{percent(level['success'])}**{extra} |")
        for label, e in level.get("by_label", {}).items():
            lines.append(f"| {level_id} | label {label} | {e['n']} | {percent(e)} |")
    lines += ["", "## Perturbation factors", "", "Change in success against the unperturbed rows on the same tasks and seeds.", "",
              "| factor | episodes | success | change |", "| --- | --- | --- | --- |"]
    lines += [f"| {name} | {f['success']['n']} | {percent(f['success'])} | {points(f['change'])} |" for name, f in card["factors"].items()]
    lines += ["", "## Language controls", "", "| control | episodes | right action | right means | first actions |", "| --- | --- | --- | --- | --- |"]
    for name, c in card["language"].items():
        if name == "target_swap":
            continue
        outcomes = ", ".join(f"{k} {v}" for k, v in sorted(c["outcomes"].items()))
        lines.append(f"| {name} | {c['right']['n']} | {percent(c['right'])} | {' / '.join(c['right_actions'])} | {outcomes} |")
    swap = card["language"]["target_swap"]
    lines += ["", f"Target-swapped scenes: success {percent(swap['success'])}, change {points(swap['change'])}.", ""]
    ch = card["chains"]
    lines += ["## Chains", "", "| " + " | ".join(f"step {k}" for k in range(1, ch["length"] + 1)) + " | average length |",
              "|" + " --- |" * (ch["length"] + 1),
              "| " + " | ".join(percent(e) for e in ch["success_at"]) + f" | {_mean(ch['average_length'])} |", ""]
    a = card["attribution"]
    lines += ["## Failure attribution", ""] + [f"Not run: {why}." for why in a["skipped"]]
    lines += ["", "| variant | success |", "| --- | --- |"]
    lines += [f"| {vid} | {percent(e)} |" for vid, e in a["variants"].items()]
    lines += ["", f"{a['failures_charged']} failed L1 episodes charged: " + ", ".join(f"{k} {v}" for k, v in a["counts"].items()) + ".",
              "Shares (split charges half to each): " + ", ".join(f"{k} {'–' if v is None else f'{100 * v:.0f}%'}" for k, v in a["charged"].items()) + ".", ""]
    lines += ["## Wall time", "", "Seconds of episodes (wall clock, and this process's CPU time: the cost on a machine shared with other work).", "",
              "| section | wall s | CPU s |", "| --- | --- | --- |"]
    lines += [f"| {k} | {v:.0f} | {card['cpu_seconds']['by_section'][k]:.0f} |" for k, v in card["wall_seconds"]["by_section"].items()]
    lines += [f"| all episodes | {card['wall_seconds']['episodes']:.0f} | {card['cpu_seconds']['episodes']:.0f} |",
              f"| this run (elapsed) | {card['wall_seconds']['this_run']:.0f} | |", ""]
    return "\n".join(lines)


def _subset(card: dict) -> str:
    return ((" (quick subset)" if card["quick"] else "") + (f" (only rows {', '.join(card['selected'])})" if card.get("selected") else "")
            + (" — DEVELOPMENT SEEDS, not the test seeds" if card["dev_seeds"] else ""))


def _mean(e: dict) -> str:
    if e.get("value") is None:
        return "–"
    return f"{e['value']:.2f} [{e['low']:.2f}, {e['high']:.2f}]"


def plot(card: dict, path: str | Path) -> None:
    """Four panels: success per level, change per factor, right actions per language control, chain success per step."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    def bars(ax, names, estimates, title, ylabel, signed=False):
        values = [e["value"] if e.get("value") is not None else 0.0 for e in estimates]
        errors = [[max(0.0, v - (e["low"] if e.get("low") is not None else v)) for v, e in zip(values, estimates)],
                  [max(0.0, (e["high"] if e.get("high") is not None else v) - v) for v, e in zip(values, estimates)]]
        ax.bar(range(len(names)), [100 * v for v in values], yerr=[[100 * x for x in errors[0]], [100 * x for x in errors[1]]], capsize=3,
               color="#4c72b0")
        for i, e in enumerate(estimates):
            if e.get("value") is None:  # no episodes (a skipped level): say so rather than draw a zero
                ax.text(i, 2, "n/a", ha="center", fontsize=8, color="grey")
        ax.set_xticks(range(len(names)), names, rotation=30, ha="right", fontsize=8)
        ax.set_title(title, fontsize=10)
        ax.set_ylabel(ylabel)
        if signed:
            ax.axhline(0, color="black", linewidth=0.8)
        else:
            ax.set_ylim(0, 105)

    fig, axes = plt.subplots(2, 2, figsize=(10, 7))
    bars(axes[0, 0], list(card["levels"]), [lv["success"] for lv in card["levels"].values()], "Success per level", "%")
    bars(axes[0, 1], list(card["factors"]), [f["change"] for f in card["factors"].values()], "Change in success per factor", "points", signed=True)
    controls = [k for k in card["language"] if k != "target_swap"]
    bars(axes[1, 0], controls, [card["language"][k]["right"] for k in controls], "Right action under language controls", "%")
    ch = card["chains"]
    bars(axes[1, 1], [f"step {k}" for k in range(1, ch["length"] + 1)], ch["success_at"],
         f"Chains: success at each step (avg length {_mean(ch['average_length'])})", "%")
    fig.suptitle(f"{card['suite']['name']} {card['suite']['version']}: {card['planner']}" + _subset(card))
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def write_card(out: Path, suite: Suite, planner: str, results: list[dict], subset: dict, sources: dict, elapsed: float) -> dict:
    """Build the card and write card.json, card.md and card.png in `out`; returns the card."""
    card = build_card(suite, planner, results, subset, sources, elapsed)
    (out / "card.json").write_text(json.dumps(card, indent=1))
    (out / "card.md").write_text(markdown(card))
    plot(card, out / "card.png")
    return card


