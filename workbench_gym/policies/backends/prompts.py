"""The prompts chat VLMs get for ground/answer/plan, and how `serve` recognises them again.

`plan` asks for the instruction's `StructuredTask` as JSON, with its schema and the catalog's names in the prompt.

A remote model (vLLM, Ollama, SGLang) reads them as plain instructions; our own server parses them back with
`parse_prompt`, so one wire format serves both. Phrases are embedded as JSON strings so any quote in them survives.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from workbench_gym.language.task import JSON_SCHEMA, StructuredTask, ToolReference
from workbench_gym.language.vocabulary import vocabulary
from workbench_gym.scenes.catalog import COLOURS, TOOLS

SYSTEM_PROMPT = "You are the vision system of a robot arm at a workbench of hand tools. Follow the reply format exactly."

GROUND = (
    "Find {phrase} in this {width}x{height} image of a workbench. Reply with JSON only, no prose: "
    '{{"regions": [{{"box": [x0, y0, x1, y1], "point": [x, y], "score": 0.9, "label": "category"}}]}} '
    "in pixel coordinates (x right, y down), best match first, point where a gripper should grasp; "
    '{{"regions": []}} if it is not there.'
)
ANSWER = "Answer this question about the workbench image in plain text, in as few words as possible: {question}"
PLAN = (
    "Read the instruction {instruction} for a robot at this workbench of hand tools as a structured task. "
    "Reply with JSON only, no prose, matching this JSON schema: {schema}. "
    "intent: what to do (pick: lift and hold; place: put one tool in a container; fetch: bring it to the person; sort: "
    "families into bins; collect: all tools of a kind into a container; count, colour_question, existence_question, "
    "spatial_question: questions; unclear: no intent can be read). reference.category: the most specific of "
    "{categories} that the words name, or the family {families} when they name a whole family, or \"unlisted\" for a "
    "tool not in that list, or \"\" when not said. colour: one of {colours}. size: an absolute size word; order: the "
    "most so among its kind; relation nearest_tray: the one nearest the parts tray; every: all that fit. container: "
    "\"left bin\", \"middle bin\", \"right bin\", \"<colour> bin\" or \"parts tray\". groups: [family, bin] "
    "pairs of a sort, [] when each family only needs a bin of its own. missing: slots the task needs that the "
    "instruction leaves open. Example: {example}"
)

_JSON_STRING = r'"(?:[^"\\]|\\.)*"'
_PATTERNS = {
    "ground": re.compile(rf"^Find ({_JSON_STRING}) in this (\d+)x(\d+) image"),
    "answer": re.compile(rf"^Answer this question about the workbench image in plain text, in as few words as possible: ({_JSON_STRING})$"),
    "plan": re.compile(rf"^Read the instruction ({_JSON_STRING}) for a robot at this workbench"),
}


@dataclass(frozen=True)
class Prompt:
    """A recognised request: the task (ground, answer or plan) and its phrase, question or instruction."""

    task: str
    argument: str


def ground_prompt(phrase: str, width: int, height: int) -> str:
    """The prompt asking for regions of `phrase` in a width x height image, as JSON."""
    return GROUND.format(phrase=json.dumps(phrase), width=width, height=height)


def answer_prompt(question: str) -> str:
    """The prompt asking for a plain-text answer to `question`."""
    return ANSWER.format(question=json.dumps(question))


def plan_prompt(instruction: str) -> str:
    """The prompt asking for `instruction`'s structured task as JSON (`language.task.JSON_SCHEMA`), catalog names listed."""
    vocab = vocabulary()
    example = StructuredTask("place", ToolReference("adjustable_wrench", colour="red", order="largest"), "left bin").to_json()
    return PLAN.format(instruction=json.dumps(instruction), schema=json.dumps(JSON_SCHEMA, separators=(",", ":")),
                       categories=", ".join(TOOLS), families=", ".join(f for f, m in vocab.families.items() if len(m) > 1),
                       colours=", ".join(COLOURS), example=example)


def parse_prompt(text: str) -> Prompt:
    """Recognise one of our prompts; ValueError naming the expected forms when `text` is none of them."""
    text = text.strip()
    for task, pattern in _PATTERNS.items():
        match = pattern.match(text)
        if match:
            return Prompt(task, json.loads(match.group(1)))
    raise ValueError(
        f"unrecognised prompt {text[:80]!r}: expected one made by ground_prompt, answer_prompt or plan_prompt "
        "(workbench_gym.policies.backends.prompts)"
    )
