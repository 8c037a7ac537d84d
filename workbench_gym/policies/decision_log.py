"""The planner's record of an episode: each decision with why, its inputs and its timing; events; the final report.

`summary` is the JSON the rollout and the benchmarks read (decisions, latency mean and p95, whether it asked,
the report); `report` is the one paragraph `finish` writes from a last look at the bench.
"""

from __future__ import annotations

import logging
import math
from dataclasses import asdict, dataclass, field

import numpy as np

from workbench_gym.envs.high_level import Answer, Ask, HighLevelAction, Pick, Place

log = logging.getLogger("workbench_gym.policies.vlm_planner")  # the name users configure the planner's logging by


@dataclass
class Decision:
    """One decision: the action, why, a summary of its inputs, and how long it took (ms)."""

    index: int
    action: str
    reason: str
    inputs: dict
    backend_ms: float
    planner_ms: float
    total_ms: float


@dataclass
class DecisionLog:
    """Decisions, notable events and the final report of one episode."""

    instruction: str = ""
    decisions: list[Decision] = field(default_factory=list)
    events: list[str] = field(default_factory=list)
    report: str = ""

    def record(self, action: HighLevelAction, reason: str, inputs: dict, total_s: float, backend_s: float) -> Decision:
        """Log one decision (python logging and `decisions`) with its time, split into the backend's and the rest."""
        decision = Decision(len(self.decisions), describe_action(action), reason, inputs, round(1e3 * backend_s, 2),
                            round(1e3 * (total_s - backend_s), 2), round(1e3 * total_s, 2))
        self.decisions.append(decision)
        log.info("decision %d: %s (%s) in %.1f ms [backend %.1f ms] inputs=%s", decision.index, decision.action, reason,
                 decision.total_ms, decision.backend_ms, decision.inputs)
        return decision

    def write_report(self, seen: list[str], placed: dict[str, int], holding: bool) -> str:
        """The one-paragraph report: the instruction, the decisions, the events, and the bench as last seen."""
        zones = ", ".join(f"{n} in the {z}" for z, n in placed.items()) or "nothing"
        primitives = sum(1 for d in self.decisions if d.action.split()[0] in ("pick", "place"))
        self.report = (
            f"Instruction: {self.instruction!r}. I took {len(self.decisions)} decisions ({primitives} picks and places). "
            + " ".join(f"{e}." for e in self.events)
            + f" Tools put away: {zones}. The gripper is {'holding a tool' if holding else 'empty'}."
            + f" On the bench I now see {', '.join(seen) if seen else 'no tools'}."
        )
        return self.report

    def summary(self, backend: str) -> dict:
        """The decisions log, latency figures and the final report, as JSON-ready data."""
        times = [d.total_ms for d in self.decisions]
        return {
            "instruction": self.instruction,
            "backend": backend,
            "decisions": [asdict(d) for d in self.decisions],
            "latency_ms": {"mean": float(np.mean(times)) if times else None, "p95": float(np.percentile(times, 95)) if times else None},
            "asked": any(d.action.startswith("ask") for d in self.decisions),
            "report": self.report,
        }


def describe_action(action: HighLevelAction) -> str:
    """A short caption of an action for the log: "pick at (x, y, z) yaw d", "ask: text", "done"."""
    if isinstance(action, (Pick, Place)):
        x, y, z, yaw = action.pose
        return f"{type(action).__name__.lower()} at ({x:.3f}, {y:.3f}, {z:.3f}) yaw {math.degrees(yaw):.0f}"
    if isinstance(action, (Answer, Ask)):
        return f"{type(action).__name__.lower()}: {action.text}"
    return "done"
