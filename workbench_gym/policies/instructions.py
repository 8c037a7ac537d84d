"""Instruction parsing for the VLM planner: instruction text -> steps, referring expression -> `Reference`.

A rule-based reader of the workbench's instruction families (pick, place, put all, collect, fetch, sort,
questions), written against the catalog's names and the trade's aliases rather than against the task
templates, so unseen phrasings with the same words still parse. Backends that plan (`Backend.plan`) are
asked first; this is what the planner falls back on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from workbench_gym.envs.language import FAMILY_NAMES, PLURALS
from workbench_gym.policies.backend import PlanStep
from workbench_gym.scenes.catalog import COLOURS, SIZE_LABELS, TOOLS

HANDOVER = "hand-over area"
#: Default bins of the sort when an instruction only says "each in their own bin".
SORT_BINS = {"wrench": "left bin", "screwdriver": "middle bin", "pliers": "right bin"}
SUPERLATIVES = {"largest": "largest", "biggest": "largest", "longest": "largest",
                "smallest": "smallest", "shortest": "smallest", "tiniest": "smallest"}
SPATIAL = ("leftmost", "rightmost")
_NEAREST = re.compile(r"\s*(?:nearest|closest)(?: to)? the (?:small-parts |parts )?tray\b")
_CONTAINER = re.compile(r"\b((?:left|middle|right|centre|center|\w+) (?:bin|box|tub)|(?:small-parts |small parts |parts )?tray)\b")


def _noun_table() -> list[tuple[str, tuple[str, ...]]]:
    """(words, categories) for every catalog name, alias, family name and plural, longest first."""
    table: dict[str, set[str]] = {}
    for name, cat in TOOLS.items():
        for words in (cat.display, *cat.aliases):
            table.setdefault(words.lower(), set()).add(name)
    for family, noun in FAMILY_NAMES.items():
        members = {n for n, c in TOOLS.items() if c.family == family}
        for words in (noun, PLURALS[family]):
            table.setdefault(words.lower(), set()).update(members)
    for name, cat in TOOLS.items():  # plurals of the catalog's own names ("Phillips screwdrivers")
        table.setdefault(cat.display.lower() + "s", set()).add(name)
    return sorted(((k, tuple(sorted(v))) for k, v in table.items()), key=lambda kv: -len(kv[0]))


NOUNS = _noun_table()
#: Nouns that name several tools ("pliers" is left out: it names one pair as often as many).
PLURAL_NOUNS = {p.lower() for p in PLURALS.values() if p != "pliers"} | {c.display.lower() + "s" for c in TOOLS.values()}


@dataclass(frozen=True)
class Reference:
    """A parsed referring expression: what kind of tool, which attributes, which one of several."""

    text: str  # as said, without "the"
    categories: tuple[str, ...] = ()  # catalog categories the noun fits; () when it names nothing we know
    noun: str = ""
    colour: str = ""
    size: str = ""  # small / medium / large
    superlative: str = ""  # largest / smallest
    spatial: str = ""  # leftmost / rightmost / nearest_tray
    plural: bool = False
    unknown: tuple[str, ...] = ()  # words that are no attribute and no part of the noun ("torque" wrench)

    @property
    def known(self) -> bool:
        """Whether the phrase names a catalog tool and nothing beyond what the planner understands."""
        return bool(self.categories) and not self.unknown

    @property
    def query(self) -> str:
        """The phrase to ground: colour and noun. Size, order and place words are resolved in 3D by the planner,
        which measures lengths and positions better than a backend guesses them from pixels."""
        return " ".join(w for w in (self.colour, self.noun) if w) or self.text


def parse_reference(text: str) -> Reference:
    """Read a referring expression ("the largest red adjustable wrench", "crosshead screwdrivers")."""
    raw = " ".join(text.strip().strip("?.!,").split())
    low = re.sub(r"^(?:the|a|an|any|all|all the|some) ", "", raw.lower())
    spatial = ""
    if _NEAREST.search(low):
        spatial, low = "nearest_tray", _NEAREST.sub("", low)
    words = low.split()
    colour = next((w for w in words if w in COLOURS), "")
    size = next((w for w in words if w in SIZE_LABELS), "")
    superlative = next((SUPERLATIVES[w] for w in words if w in SUPERLATIVES), "")
    spatial = spatial or next((w for w in words if w in SPATIAL), "")
    rest = " ".join(w for w in words if w not in (colour, size) and w not in SUPERLATIVES and w not in SPATIAL and w != "loose")
    noun, categories = "", ()
    for words_, cats in NOUNS:
        if re.search(rf"(?<![\w-]){re.escape(words_)}(?![\w-])", rest):
            noun, categories = words_, cats
            break
    unknown = tuple(re.sub(rf"(?<![\w-]){re.escape(noun)}(?![\w-])", " ", rest).split() if noun else rest.split())
    plural = noun in PLURAL_NOUNS
    return Reference(raw.removeprefix("the ").removeprefix("The "), categories, noun, colour, size, superlative, spatial, plural, unknown)


@dataclass(frozen=True)
class Step:
    """One step of the planner's plan.

    `verb` is "pick" (lift and hold), "move" (pick, then place at `destination`: a container phrase or the
    hand-over area), "answer" (a question, in `text`) or "ask". With `every`, the step covers every tool
    that fits `target` ("the screws").
    """

    verb: str
    target: Reference | None = None
    destination: str = ""
    every: bool = False
    text: str = ""


@dataclass(frozen=True)
class Plan:
    """The parsed instruction: its steps and what kind of instruction it was (for logs)."""

    kind: str
    steps: tuple[Step, ...] = field(default_factory=tuple)


_QUESTION = re.compile(r"^(how many|count|tell me the number|what colou?r|which colou?r|is there|are there|do you see|can you see|does)\b")
_SORT = re.compile(r"\b(sort|organi[sz]e|group|each in their own|own bin)\b")
_FETCH = re.compile(r"^(?:could you |can you |please )?(?:get me|bring me|fetch|hand me|pass me|give me|i need)\b(?: the)?")
_PICK = re.compile(r"^(?:could you |can you |please )?(?:pick up|grab|lift|take hold of|raise|pick)\b(?: the)?")
_MOVE = re.compile(r"^(?:could you |can you |please )?(?:put|place|move|drop|collect|gather(?: up)?|tidy|carry)\b(?: the)?")
_TAIL = re.compile(r"(,? (?:please|can you pass it over|and raise it|and lift it)\??)+$")


def _clean(text: str) -> str:
    return _TAIL.sub("", text.strip().rstrip("?.!")).strip(" ,")


def parse_instruction(text: str) -> Plan:
    """Steps for an instruction; `ValueError` names an instruction no rule reads."""
    low = " ".join(text.lower().split())
    if _QUESTION.match(low):
        return Plan("question", (Step("answer", text=text),))
    if _SORT.search(low):
        return Plan("sort", tuple(_sort_steps(low)))
    if m := _FETCH.match(low):
        return Plan("fetch", (Step("move", parse_reference(_clean(low[m.end():])), HANDOVER),))
    if m := _PICK.match(low):
        return Plan("pick", (Step("pick", parse_reference(_clean(low[m.end():]))),))
    if m := _MOVE.match(low):
        body = _clean(low[m.end():])
        place = re.search(r" (?:them |it )?(?:in|into|to|onto|on|inside)(?: the)? (.+)$", body)
        obj = body[: place.start()] if place else body
        obj = re.sub(r" and (?:drop|put|place)(?: them| it)?$", "", obj.replace(" away", ""))
        destination = _CONTAINER.search(place.group(1)).group(1) if place and _CONTAINER.search(place.group(1)) else ""
        if not destination:
            raise ValueError(f"cannot tell where to put things in {text!r}; expected a bin, the tray or the hand-over area")
        ref = parse_reference(obj)
        return Plan("collect" if ref.plural else "place", (Step("move", ref, destination, every=ref.plural),))
    raise ValueError(f"cannot read instruction {text!r}; expected a pick, place, fetch, sort or a question")


def _sort_steps(low: str) -> list[Step]:
    """Family -> bin steps from "wrenches left, screwdrivers middle" or "... in the left bin"; default bins otherwise."""
    steps = []
    for family, default in SORT_BINS.items():
        plural = PLURALS[family]
        m = re.search(rf"\b{plural}(?: (?:in|into|to|go|go in|on))?(?: the)? (left|middle|right|centre|center)\b", low)
        side = {"centre": "middle", "center": "middle"}.get(m.group(1), m.group(1)) if m else ""
        bin_ = f"{side} bin" if side else default
        steps.append(Step("move", parse_reference(plural), bin_, every=True))
    return steps


def from_backend_plan(plan: list[PlanStep]) -> Plan:
    """A backend's plan as planner steps: a pick followed by a place becomes one move."""
    steps: list[Step] = []
    for step in plan:
        if step.verb == "pick":
            ref = parse_reference(step.target)
            steps.append(Step("pick", ref, every=ref.plural))
        elif step.verb == "place" and steps and steps[-1].verb == "pick":
            last = steps.pop()
            steps.append(Step("move", last.target, step.target, every=last.every))
        elif step.verb in ("answer", "ask"):
            steps.append(Step(step.verb, text=step.text or step.target))
    if not steps:
        raise ValueError(f"the backend's plan has no usable steps: {plan!r}")
    return Plan("backend", tuple(steps))
