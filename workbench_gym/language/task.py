"""The structured task: what an instruction asks for, as a small typed value with a JSON schema.

The instruction reader (`language.reader`) turns text into a `StructuredTask`; an `hf` or `openai` backend's
`plan` may return the same value as JSON, so the planner treats every source alike. Slots hold catalog names, never
free text: `category` is the most specific catalog category the words determine ("hammer" -> "claw_hammer",
"spanner" -> "combination_wrench"), or a family name when the words span several categories ("wrench", "pliers",
"screwdriver"), or `UNLISTED` when they name a tool the catalog does not have ("utility knife"). An empty slot means
the instruction did not say.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from typing import Any

#: What the instruction asks the robot to do. "unclear": no intent could be read (garbled, empty, contradictory).
INTENTS = ("pick", "place", "fetch", "sort", "collect", "count", "colour_question", "existence_question",
           "spatial_question", "unclear")
SIZES = ("small", "medium", "large")
#: Words that choose one tool among several of a kind by comparing them.
ORDERS = ("largest", "smallest", "leftmost", "rightmost")
#: Words that choose a tool by where it lies relative to something else.
RELATIONS = ("nearest_tray",)
#: Canonical container names: bins by side or by colour ("green bin"), the parts tray, the hand-over area.
BIN_SIDES = ("left bin", "middle bin", "right bin")
PARTS_TRAY = "parts tray"
HANDOVER = "hand-over area"
#: The category of a tool the catalog does not have ("rubber mallet"): the planner asks rather than guesses.
UNLISTED = "unlisted"
#: Slots the planner may ask about when they are missing or fit several tools.
SLOTS = ("category", "colour", "size", "order", "relation", "container")


@dataclass(frozen=True)
class ToolReference:
    """Which tool(s) an instruction means: catalog category (or family), colour, size, order and relation words."""

    category: str = ""  # catalog category, a family when the words span several, UNLISTED, or "" when not said
    colour: str = ""  # a catalog colour
    size: str = ""  # one of SIZES (an absolute size word: "the large red wrench")
    order: str = ""  # one of ORDERS (a comparison among the candidates: "the largest")
    relation: str = ""  # one of RELATIONS
    every: bool = False  # all tools that fit ("the screws", "all the wrenches", "how many nuts")


@dataclass(frozen=True)
class StructuredTask:
    """An instruction's meaning.

    `reference` is what to move, or the subject of a question; `container` is where to put it (canonical names
    above); `groups` maps families to containers for a sort (empty: each family in a bin of its own, any bin);
    `missing` names the slots the instruction leaves open that the task needs, so the planner can ask about them.
    """

    intent: str
    reference: ToolReference | None = None
    container: str = ""
    groups: tuple[tuple[str, str], ...] = field(default_factory=tuple)
    missing: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.intent not in INTENTS:
            raise ValueError(f"unknown intent {self.intent!r}; expected one of {INTENTS}")

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (the shape `JSON_SCHEMA` describes)."""
        out = asdict(self)
        out["groups"] = [list(g) for g in self.groups]
        out["missing"] = list(self.missing)
        return out

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), sort_keys=True)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> StructuredTask:
        """Parse the JSON shape back; `ValueError` names a missing intent or an unknown key."""
        if not isinstance(data, dict) or "intent" not in data:
            raise ValueError(f"a structured task needs an 'intent' key; got {data!r}")
        unknown = set(data) - {"intent", "reference", "container", "groups", "missing"}
        if unknown:
            raise ValueError(f"unknown structured-task keys {sorted(unknown)}")
        ref = data.get("reference")
        if ref is not None:
            bad = set(ref) - set(ToolReference.__dataclass_fields__)
            if bad:
                raise ValueError(f"unknown reference keys {sorted(bad)}")
            ref = ToolReference(**ref)
        return cls(data["intent"], ref, data.get("container", "") or "",
                   tuple(tuple(g) for g in data.get("groups", ()) or ()), tuple(data.get("missing", ()) or ()))


#: JSON schema of `StructuredTask.to_dict()`, for backends that plan (e.g. an OpenAI `response_format`).
JSON_SCHEMA: dict[str, Any] = {
    "title": "StructuredTask",
    "type": "object",
    "required": ["intent"],
    "additionalProperties": False,
    "properties": {
        "intent": {"enum": list(INTENTS)},
        "reference": {
            "type": ["object", "null"],
            "additionalProperties": False,
            "properties": {
                "category": {"type": "string"},
                "colour": {"type": "string"},
                "size": {"enum": ["", *SIZES]},
                "order": {"enum": ["", *ORDERS]},
                "relation": {"enum": ["", *RELATIONS]},
                "every": {"type": "boolean"},
            },
        },
        "container": {"type": "string"},
        "groups": {"type": "array", "items": {"type": "array", "items": {"type": "string"}, "minItems": 2, "maxItems": 2}},
        "missing": {"type": "array", "items": {"enum": list(SLOTS)}},
    },
}
