"""Running the suite's photoreal section: each of its planners on the same episodes, once with PyBullet's frames and
once with the renderer's (Cycles) frames of the same simulated state (`photoreal.PhotorealFrames`), resume-safe like
`run_suite` (the same row files), then its card (`photoreal_card`).

A planner that reads no camera (random, which takes the state observation) sees no frames, so its Cycles rate is its
PyBullet rate by construction: it runs once and the card says so. Episodes run in this process, one after another:
the renderer is one child process (BlenderProc) reused across episodes, and Cycles already uses every core. An
episode's last observation, which no decision reads, keeps PyBullet's frames (`PhotorealFrames(draw_last=False)`).
"""

from __future__ import annotations

import time
from pathlib import Path

from workbench_gym.benchmark.photoreal import PhotorealFrames, StateRenderer
from workbench_gym.benchmark.photoreal_card import write_photoreal_card
from workbench_gym.benchmark.planners import PlannerChoice
from workbench_gym.benchmark.runner import Resources, _bar, _claim, _finish, _row_result, _slug, _written, run_chunk, seeds_left
from workbench_gym.benchmark.suite import DEV_SHIFT, Row, Suite, SuiteError

#: The two sides of every comparison: the simulator's own frames, and the suite's renderer drawing the same state.
RENDERERS = ("pybullet", "cycles")


def photoreal_rows(suite: Suite, episodes_per_task: int | None = None, tasks: tuple[str, ...] = (), dev: bool = False) -> list[Row]:
    """The section's rows, "photoreal/<renderer>/<planner>/<task>": every planner and task on the first
    `episodes_per_task` seeds of the section's block (all by default), on development seeds with `dev`."""
    section = suite.photoreal
    unknown = [t for t in tasks if t not in section.tasks]
    if unknown:
        raise SuiteError(f"photoreal tasks: {unknown} are not in the section; expected some of {list(section.tasks)}")
    seeds = section.seeds.seeds(episodes_per_task)
    seeds = tuple(s - DEV_SHIFT for s in seeds) if dev else seeds
    rows = []
    for planner in section.planners:
        renderers = RENDERERS if sees_frames(planner) else RENDERERS[:1]
        rows += [Row(f"photoreal/{renderer}/{planner}/{task}", "photoreal", planner, task, {}, seeds)
                 for renderer in renderers for task in tasks or section.tasks]
    return rows


def sees_frames(planner: str) -> bool:
    """Whether a planner the suite names reads camera frames (a privileged one takes the state observation)."""
    return not PlannerChoice.named(planner).privileged


def row_renderer(row_id: str) -> str:
    """"cycles" for "photoreal/cycles/vlm/native/PickTool"."""
    return row_id.split("/")[1]


class TimedRenderer:
    """A renderer made at its first frame (a Blender child starts only if a Cycles episode runs), counting the seconds
    and frames it has drawn since `take` was last called."""

    def __init__(self, make):
        self.make, self.renderer, self.seconds, self.frames = make, None, 0.0, 0

    def render(self, spec, robot=None):
        self.renderer = self.renderer or self.make()
        start = time.perf_counter()
        frames = self.renderer.render(spec, robot)
        self.seconds += time.perf_counter() - start
        self.frames += len(frames)
        return frames

    def take(self) -> dict:
        out = {"render_seconds": round(self.seconds, 3), "frames_rendered": self.frames}
        self.seconds, self.frames = 0.0, 0
        return out


def run_photoreal(suite: Suite, out_dir: str | Path, episodes_per_task: int | None = None, tasks: tuple[str, ...] = (), dev: bool = False,
                  progress: bool = True, renderer: StateRenderer | None = None) -> dict:
    """Run the photoreal section and write its card (card.json, card.md) in `out_dir`; returns the card.

    `episodes_per_task` runs a prefix of the section's seeds and `tasks` some of its tasks (a subset, marked as such on
    the card); `renderer` replaces the suite's (`synth_data.make_renderer(suite.photoreal.renderer, **render)`, made
    when the first Cycles episode runs). A run that is killed continues where it stopped, as `run_suite` does.
    """
    section = suite.photoreal
    out = Path(out_dir)
    rows = photoreal_rows(suite, episodes_per_task, tasks, dev)
    name = getattr(renderer, "name", type(renderer).__name__) if renderer is not None else section.renderer
    subset = {"section": "photoreal", "renderer": name, "render": section.render, "planners": list(section.planners),
              "tasks": list(tasks or section.tasks), "episodes_per_task": len(rows[0].seeds), "section_episodes_per_task": section.seeds.count,
              "dev_seeds": dev}
    subset["subset"] = subset["episodes_per_task"] < section.seeds.count or len(subset["tasks"]) < len(section.tasks)
    _claim(out, {"suite": suite.name, "version": suite.version, "sha256": suite.sha256, **subset})
    todo = [(row, seeds_left(out, row)) for row in rows if not (out / "rows" / f"{_slug(row.id)}.json").exists()]
    bar = _bar(sum(len(seeds) for _, seeds in todo), progress)
    timed = TimedRenderer(lambda: renderer if renderer is not None else _suite_renderer(suite))
    start = time.perf_counter()
    try:
        for row, seeds in todo:
            cycles = row_renderer(row.id) == "cycles"
            timed.take()  # a fresh count for the row's first episode

            def written(episode, row=row, cycles=cycles):
                _written(out, row, {**episode, **timed.take()} if cycles else episode, bar)

            planner = PlannerChoice.named(row.group)
            if seeds:
                run_chunk(suite, row, planner, seeds, Resources(), on_episode=written,
                          wrap=(lambda env: PhotorealFrames(env, timed, draw_last=False)) if cycles else None)
            _finish(out, row, planner, None)
    finally:
        if bar:
            bar.close()
        if renderer is None and hasattr(timed.renderer, "close"):
            timed.renderer.close()  # the BlenderProc child this run started
    results = [_row_result(out, row) for row in rows]
    return write_photoreal_card(out, suite, results, subset, time.perf_counter() - start)


def _suite_renderer(suite: Suite) -> StateRenderer:
    """The suite's renderer with its render settings (lists, as JSON holds them, become tuples: a resolution)."""
    from workbench_gym.synth_data.renderer import make_renderer

    options = {k: tuple(v) if isinstance(v, list) else v for k, v in suite.photoreal.render.items()}
    return make_renderer(suite.photoreal.renderer, **options)


__all__ = ["RENDERERS", "TimedRenderer", "photoreal_rows", "row_renderer", "run_photoreal", "sees_frames"]
