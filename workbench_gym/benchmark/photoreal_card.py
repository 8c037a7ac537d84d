"""The photoreal section's card: each planner's success with PyBullet's frames and with Cycles frames of the same
simulated state (95% Wilson intervals, pooled and per task, and the change with a Newcombe interval), and the two
renderers' agreement across planners (Pearson's r, MMRV), all computed from the row files; JSON and markdown.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from workbench_gym.benchmark.card import percent, points
from workbench_gym.benchmark.photoreal import agreement
from workbench_gym.benchmark.stats import difference, rate
from workbench_gym.benchmark.suite import Suite


def build_photoreal_card(suite: Suite, results: list[dict], subset: dict, elapsed: float) -> dict:
    """The card's data from the section's row results (one dict per row file, ids "photoreal/<renderer>/<planner>/<task>")."""
    from workbench_gym.benchmark.photoreal_runner import row_renderer, sees_frames

    def flags(rows: list[dict]) -> list[bool]:
        return [bool(e["success"]) for r in rows for e in r["episodes"] if not e.get("skipped")]

    planners = {}
    for name in subset["planners"]:
        mine = [r for r in results if r["row"]["group"] == name]
        frames = sees_frames(name)
        # A planner that reads no camera has one set of episodes: the same outcomes under either renderer.
        side = {"pybullet": [r for r in mine if row_renderer(r["row"]["id"]) == "pybullet"],
                "cycles": [r for r in mine if row_renderer(r["row"]["id"]) == ("cycles" if frames else "pybullet")]}
        entry = {"frames": "camera" if frames else "none (state observation): the Cycles rate is the PyBullet rate of the same episodes",
                 **{k: rate(flags(rows)).to_dict() for k, rows in side.items()}}
        entry["change"] = difference(rate(flags(side["cycles"])), rate(flags(side["pybullet"]))).to_dict()
        entry["by_task"] = {task: {k: rate(flags([r for r in rows if r["row"]["task"] == task])).to_dict() for k, rows in side.items()}
                            for task in subset["tasks"]}
        planners[name] = entry
    pybullet, cycles = ({n: p[k]["value"] for n, p in planners.items()} for k in ("pybullet", "cycles"))
    if any(v is None for v in [*pybullet.values(), *cycles.values()]):
        agree = {"planners": sorted(planners), "pearson": None, "mmrv": None, "note": "a planner has no scored episodes"}
    else:
        agree = agreement(pybullet, cycles)
    by_renderer = {k: [r for r in results if row_renderer(r["row"]["id"]) == k] for k in ("pybullet", "cycles")}
    renders = [e for r in by_renderer["cycles"] for e in r["episodes"]]
    return {
        "suite": {"name": suite.name, "version": suite.version, "sha256": suite.sha256}, **subset, "code": code_version(),
        "seeds": {"first": results[0]["row"]["seeds"][0], "count": len(results[0]["row"]["seeds"])} if results else None,
        "success": planners, "agreement": agree,
        "episodes": {k: sum(len(r["episodes"]) for r in rows) for k, rows in by_renderer.items()},
        "wall_seconds": {"this_run": round(elapsed, 1), **{k: round(sum(r["wall_seconds"] for r in rows), 1) for k, rows in by_renderer.items()},
                         "rendering": round(sum(e.get("render_seconds", 0.0) for e in renders), 1)},
        "cpu_seconds": {k: round(sum(r.get("cpu_seconds", 0.0) for r in rows), 1) for k, rows in by_renderer.items()},
        "frames_rendered": sum(e.get("frames_rendered", 0) for e in renders),
    }


def code_version() -> dict:
    """The git commit of the package's checkout and whether the package's tracked files differ from it (None outside
    a checkout)."""
    here = Path(__file__).parents[1]

    def git(*args) -> subprocess.CompletedProcess:
        return subprocess.run(["git", *args], cwd=here, capture_output=True, text=True)

    try:
        head = git("rev-parse", "HEAD")
    except OSError:
        return {"commit": None, "dirty": None}
    if head.returncode != 0:
        return {"commit": None, "dirty": None}
    return {"commit": head.stdout.strip(), "dirty": git("diff", "--quiet", "HEAD", "--", ".").returncode != 0}


def markdown(card: dict) -> str:
    """The card as markdown tables."""
    s, code, agree = card["suite"], card["code"], card["agreement"]
    extent = f"{card['episodes_per_task']} of the section's {card['section_episodes_per_task']} episodes per task, tasks {', '.join(card['tasks'])}"
    title = f"# {s['name']} suite {s['version']}: photoreal section" + (" (SUBSET)" if card["subset"] else "")
    title += " — DEVELOPMENT SEEDS, not the test seeds" if card["dev_seeds"] else ""
    seeds = card["seeds"]
    commit = f"`{code['commit'][:12]}`{' (with uncommitted changes)' if code['dirty'] else ''}" if code["commit"] else "unknown"
    lines = [title, "", f"Suite sha256 `{s['sha256'][:16]}`; code {commit}. {extent}; seeds {seeds['first']}-{seeds['first'] + seeds['count'] - 1}. "
             f"Renderer {card['renderer']} ({', '.join(f'{k} {v}' for k, v in card['render'].items())}) drawing every camera the planner sees "
             "(the wrist camera at the hand's simulated pose). Rates with 95% Wilson intervals; changes with Newcombe intervals.", "",
             "| planner | frames | PyBullet | Cycles | change |", "| --- | --- | --- | --- | --- |"]
    for name, p in card["success"].items():
        frames = "camera" if p["frames"] == "camera" else "none (same episodes)"
        lines.append(f"| {name} | {frames} | {percent(p['pybullet'])} | {percent(p['cycles'])} | {points(p['change'])} |")

    def number(v):
        return "–" if v is None else f"{v:.3f}"

    lines += ["", f"Agreement across the {len(agree['planners'])} planners: Pearson r {number(agree['pearson'])}, MMRV {number(agree['mmrv'])}"
              + (f" ({agree['note']})" if agree.get("note") else "") + ".", "", "## By task", "",
              "| planner | task | PyBullet | Cycles |", "| --- | --- | --- | --- |"]
    for name, p in card["success"].items():
        lines += [f"| {name} | {task} | {percent(t['pybullet'])} | {percent(t['cycles'])} |" for task, t in p["by_task"].items()]
    w = card["wall_seconds"]
    lines += ["", "## Wall time", "", f"Episodes: {card['episodes']['pybullet']} with PyBullet frames ({w['pybullet']:.0f} s wall), "
              f"{card['episodes']['cycles']} with Cycles frames ({w['cycles']:.0f} s wall, of which {w['rendering']:.0f} s drawing "
              f"{card['frames_rendered']} frames in the renderer's child process); this run {w['this_run']:.0f} s.", ""]
    return "\n".join(lines)


def write_photoreal_card(out: Path, suite: Suite, results: list[dict], subset: dict, elapsed: float) -> dict:
    """Build the card and write card.json and card.md in `out`; returns the card."""
    card = build_photoreal_card(suite, results, subset, elapsed)
    (out / "card.json").write_text(json.dumps(card, indent=1))
    (out / "card.md").write_text(markdown(card))
    return card
