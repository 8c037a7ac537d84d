"""The planner's steps of a structured task, and the words it grounds and asks with.

`plan_steps` turns a `StructuredTask` (from the instruction reader or a backend's `plan`) into steps: pick, move to a
container or the hand-over area, answer, ask. A question about a slot the words left open comes first, and names it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from workbench_gym.language.expressions import describe, question_text
from workbench_gym.language.task import HANDOVER, UNLISTED, StructuredTask, ToolReference
from workbench_gym.language.vocabulary import category_noun, family_category

#: Bins of a sort whose instruction only asks for each family in a bin of its own, in the order the families are moved:
#: pliers first, as a sort that names its bins does (its groups come sorted). On the same 60 dev scenes a goal-level
#: sort moving wrenches first succeeded 47 times, pliers first 54.
SORT_BINS = {"pliers": "right bin", "screwdriver": "middle bin", "wrench": "left bin"}
#: What the planner asks when the instruction leaves a slot open, by slot.
SLOT_QUESTIONS = {"category": "Which tool do you mean (category)? Please name its kind.",
                  "container": "Where should I put it (container)? Please name a bin or the parts tray."}


@dataclass(frozen=True)
class Step:
    """One step of the planner's plan.

    `verb` is "pick" (lift and hold), "move" (pick, then place at `destination`: a container or the hand-over area),
    "answer" (a question, in `text`) or "ask". With `every`, the step covers every tool that fits `target`.
    """

    verb: str
    target: ToolReference | None = None
    destination: str = ""
    every: bool = False
    text: str = ""


@dataclass(frozen=True)
class Plan:
    """The steps of a structured task, and the task they came from (for logs)."""

    task: StructuredTask
    steps: tuple[Step, ...] = field(default_factory=tuple)

    @property
    def kind(self) -> str:
        return self.task.intent


def plan_steps(task: StructuredTask, instruction: str = "") -> Plan:
    """The planner's steps for a structured task; a question about a missing slot comes first."""
    ref = task.reference
    if task.intent == "unclear":
        return Plan(task, (Step("ask", text=f"Sorry, I did not understand {instruction!r}. What should I do, and with which tool (category)?"),))
    asks = tuple(Step("ask", text=SLOT_QUESTIONS[slot]) for slot in task.missing if slot in SLOT_QUESTIONS)[:1]
    if task.intent in ("count", "colour_question", "existence_question", "spatial_question"):
        text = question_text(task) if task.intent != "spatial_question" and ref and ref.category not in ("", UNLISTED) else instruction
        return Plan(task, asks + (Step("answer", text=text),))
    if task.intent == "sort":
        groups = task.groups or tuple(SORT_BINS.items())
        return Plan(task, tuple(Step("move", ToolReference(family_category(f), every=True), b, every=True) for f, b in groups))
    if task.intent == "pick":
        return Plan(task, asks + (Step("pick", ref),))
    destination = HANDOVER if task.intent == "fetch" else task.container
    return Plan(task, asks + (Step("move", ref, destination, every=task.intent == "collect"),))


def known(ref: ToolReference) -> bool:
    """Whether the reference names a catalog category or family (not UNLISTED, not left open)."""
    return ref.category not in ("", UNLISTED)


def grounding_phrase(ref: ToolReference) -> str:
    """The phrase to ground: colour and noun. Size, order and place words are resolved in 3D by the planner, which
    measures lengths and positions better than a backend guesses them from pixels."""
    return " ".join(w for w in (ref.colour, category_noun(ref.category).lower() or "tool") if w)


def superlative(ref: ToolReference) -> str:
    """The size comparison the planner measures ("largest", "smallest"), or ""."""
    return ref.order if ref.order in ("largest", "smallest") else ""


def spatial(ref: ToolReference) -> str:
    """The place word the planner measures ("leftmost", "rightmost", "nearest_tray"), or ""."""
    return ref.order if ref.order in ("leftmost", "rightmost") else ref.relation


def measured(ref: ToolReference) -> bool:
    """Whether the reference chooses by measuring (a size, order or place word), not by the backend's score."""
    return bool(ref.size or superlative(ref) or spatial(ref))


def describe_step(step: Step) -> str:
    """A step in words, for the planner's log: "move every screw to the parts tray", "answer 'how many ...?'"."""
    if step.verb in ("answer", "ask"):
        return f"{step.verb} {step.text!r}"
    what = f"every {describe(replace(step.target, every=False))}" if step.every else f"the {describe(step.target)}"
    return f"{step.verb} {what}" + (f" to the {step.destination}" if step.destination else "")
