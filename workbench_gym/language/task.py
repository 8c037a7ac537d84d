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
        """Parse the JSON shape back; `ValueError` names what does not fit `JSON_SCHEMA` (key, type or value)."""
        validate(data)
        ref = data.get("reference")
        if ref is not None:
            ref = ToolReference(**ref)
        return cls(data["intent"], ref, data.get("container", "") or "",
                   tuple(tuple(g) for g in data.get("groups", ()) or ()), tuple(data.get("missing", ()) or ()))


def validate(data: Any) -> None:
    """Check a dict against `JSON_SCHEMA` (written out, so no jsonschema dependency); ValueError names the misfit."""
    if not isinstance(data, dict) or "intent" not in data:
        raise ValueError(f"a structured task is an object with an 'intent' key; got {data!r}")
    unknown = set(data) - set(JSON_SCHEMA["properties"])
    if unknown:
        raise ValueError(f"unknown structured-task keys {sorted(unknown)}; expected some of {sorted(JSON_SCHEMA['properties'])}")
    if data["intent"] not in INTENTS:
        raise ValueError(f"unknown intent {data['intent']!r}; expected one of {INTENTS}")
    ref = data.get("reference")
    if ref is not None:
        if not isinstance(ref, dict):
            raise ValueError(f"'reference' must be an object or null, got {ref!r}")
        fields = JSON_SCHEMA["properties"]["reference"]["properties"]
        for key, value in ref.items():
            if key not in fields:
                raise ValueError(f"unknown reference key {key!r}; expected some of {sorted(fields)}")
            rule = fields[key]
            if "enum" in rule and value not in rule["enum"]:
                raise ValueError(f"reference {key} {value!r}; expected one of {rule['enum']}")
            if rule.get("type") == "string" and not isinstance(value, str):
                raise ValueError(f"reference {key} must be a string, got {value!r}")
            if rule.get("type") == "boolean" and not isinstance(value, bool):
                raise ValueError(f"reference {key} must be true or false, got {value!r}")
    if not isinstance(data.get("container", ""), str):
        raise ValueError(f"'container' must be a string, got {data['container']!r}")
    groups = data.get("groups", [])
    if not isinstance(groups, (list, tuple)) or not all(
            isinstance(g, (list, tuple)) and len(g) == 2 and all(isinstance(v, str) for v in g) for g in groups):
        raise ValueError(f"'groups' must be a list of [family, container] pairs of strings, got {groups!r}")
    missing = data.get("missing", [])
    if not isinstance(missing, (list, tuple)) or any(m not in SLOTS for m in missing):
        raise ValueError(f"'missing' must list slots among {SLOTS}, got {missing!r}")


#: Intents whose reference must name a tool, and those that also need a container.
NEEDS_REFERENCE = ("pick", "place", "fetch", "collect", "count", "colour_question", "existence_question", "spatial_question")
NEEDS_CONTAINER = ("place", "collect")


def missing_slots(intent: str, reference: ToolReference | None, container: str = "") -> tuple[str, ...]:
    """The slots a task of this intent needs that are empty: the tool's category, or where to put it."""
    out = []
    if intent == "unclear" or (intent in NEEDS_REFERENCE and (reference is None or not reference.category)):
        out.append("category")
    if intent in NEEDS_CONTAINER and not container:
        out.append("container")
    return tuple(out)


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
