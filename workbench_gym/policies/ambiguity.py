"""When an instruction fits more than one tool, and how a supervisor's reply chooses among the tools asked about.

Two gaps of score-based resolving that ClarifyTool's decision logs showed: a bare family word ("the wrench") fits an
adjustable and a combination wrench alike however differently the backend scores the two kinds, so a confident rival
of another kind in the family makes the choice a question; and a reply that answers a question about a pair chooses
within that pair by its words alone, even when the backend labelled one of the pair a sibling kind (a Phillips
screwdriver read as a flathead one), so the pair's lengths are compared as one kind's.
"""

from __future__ import annotations

from dataclasses import replace

from workbench_gym.language.task import ToolReference
from workbench_gym.language.vocabulary import categories_of
from workbench_gym.policies.perception import ToolEstimate
from workbench_gym.scenes.catalog import get_category

Candidate = tuple[ToolEstimate, float]  # a fitted tool and the backend's score for the phrase (as in scene_reader)


def family_rivals(ref: ToolReference, candidates: list[Candidate], confident: float, min_fit: float) -> list[Candidate]:
    """Candidates after the first (the best) that a bare family word fits as well: of another kind of the family the
    reference names, scored at least `confident` and fitted well. Empty unless the reference is a family of several
    kinds with no size, order or place word (those choose by measuring)."""
    kinds = categories_of(ref.category)
    if len(kinds) < 2 or ref.size or ref.order or ref.relation or len(candidates) < 2:
        return []
    best = candidates[0][0]
    return [c for c in candidates[1:]
            if c[0].category in kinds and c[0].category != best.category and c[1] >= confident and c[0].fit >= min_fit]


def as_named_kind(ref: ToolReference, among: list[Candidate]) -> list[Candidate]:
    """The tools a question asked about, each relabelled as the one kind the reference names (a sibling the backend
    recognised instead keeps its fitted size and pose): the reply's size or order word then compares them as one kind.
    Unchanged when the reference names no single kind."""
    kinds = categories_of(ref.category)
    if len(kinds) != 1:
        return among
    named = kinds[0]
    return [(replace(e, category=named), s) if e.category != named and _same_sizes(e.category, named) else (e, s) for e, s in among]


def original_of(chosen: Candidate, relabelled: list[Candidate], among: list[Candidate]) -> Candidate:
    """The candidate of `among` that `chosen` (one of `relabelled`, in the same order) stands for."""
    return among[next(i for i, c in enumerate(relabelled) if c is chosen)]


def _same_sizes(a: str, b: str) -> bool:
    """Whether two kinds come in the same sizes, so a length read as one reads the same as the other."""
    return get_category(a).sizes == get_category(b).sizes
