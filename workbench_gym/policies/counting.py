"""Counts and yes/no answers read from the front, wrist and overhead views, not from the front view alone.

The backend answers from the front view, where small parts span a few pixels and touching same-colour tools merge.
When the wrist camera sees the bench, the noun's regions of both views are fused in the bench frame (`perception.fuse`):
one fused object per tool, so a part only the closer view resolves, or a front region the wrist view splits in two,
is counted. With the overhead check on, the whole tools the overhead camera sees are counted too. The answer is never
lowered: a view that misses a tool must not take it off the count.
"""

from __future__ import annotations

from workbench_gym.language.task import StructuredTask
from workbench_gym.policies.perception import fuse, lift_region
from workbench_gym.policies.steps import grounding_phrase

COUNT_SCORE = 0.5  # a region is the noun's at this score (the native backend's own count threshold)


def views_count(reader, phrase: str) -> int | None:
    """Tools the phrase names in the front and wrist views fused; None without a wrist view or when it sees none."""
    if reader.second is None:
        return None
    wrist = [r for r in reader.ground(phrase, reader.second) if r.score >= COUNT_SCORE]
    if not wrist:
        return None
    front = [r for r in reader.ground(phrase) if r.score >= COUNT_SCORE]
    objects = fuse(reader.view, [lift_region(reader.view, r, reader.bench_z) for r in front],
                   reader.second, [lift_region(reader.second, r, reader.bench_z) for r in wrist])
    return len(objects)


def overhead_count(reader, reference) -> int:
    """Whole tools the phrase names that the overhead view sees (pieces of tools left out)."""
    return len([c for c in reader.bench_check(reference, all_candidates=True, record="overhead_check") if c[1] >= COUNT_SCORE and not c[0].fragment])


def recount(reader, task: StructuredTask, answer: str) -> str:
    """The backend's answer to a count or existence question, raised to what both views see together; other answers,
    and answers that are not a bare number or yes/no, unchanged."""
    text = answer.strip().lower()
    counting = task.intent == "count" and text.isdigit()
    existing = task.intent == "existence_question" and text == "no"
    if not (counting or existing) or task.reference is None:
        return answer
    views = views_count(reader, grounding_phrase(task.reference))
    above = overhead_count(reader, task.reference) if reader.config.overhead_check else 0
    reader.inputs["views_count"], reader.inputs["overhead_count"] = views, above
    seen = max(views or 0, above)
    if not seen:
        return answer
    if counting:
        return str(max(int(text), seen))
    return "yes" if seen else answer
