"""The prompts chat VLMs get for ground/answer/plan, and how `serve` recognises them again.

A remote model (vLLM, Ollama, SGLang) reads them as plain instructions; our own server parses them back with
`parse_prompt`, so one wire format serves both. Phrases are embedded as JSON strings so any quote in them survives.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

SYSTEM_PROMPT = "You are the vision system of a robot arm at a workbench of hand tools. Follow the reply format exactly."

GROUND = (
    "Find {phrase} in this {width}x{height} image of a workbench. Reply with JSON only, no prose: "
    '{{"regions": [{{"box": [x0, y0, x1, y1], "point": [x, y], "score": 0.9, "label": "category"}}]}} '
    "in pixel coordinates (x right, y down), best match first, point where a gripper should grasp; "
    '{{"regions": []}} if it is not there.'
)
ANSWER = "Answer this question about the workbench image in plain text, in as few words as possible: {question}"
PLAN = (
    "Plan a robot's high-level steps for the instruction {instruction}, looking at this image of the workbench. "
    'Reply with JSON only, no prose: {{"steps": [{{"verb": "pick", "target": "the red hammer"}}, '
    '{{"verb": "place", "target": "the middle bin"}}, {{"verb": "done"}}]}}. Verbs: pick and place (target: a '
    "referring expression), answer (text: the answer), ask (text: a clarifying question), done."
)

_JSON_STRING = r'"(?:[^"\\]|\\.)*"'
_PATTERNS = {
    "ground": re.compile(rf"^Find ({_JSON_STRING}) in this (\d+)x(\d+) image"),
    "answer": re.compile(rf"^Answer this question about the workbench image in plain text, in as few words as possible: ({_JSON_STRING})$"),
    "plan": re.compile(rf"^Plan a robot's high-level steps for the instruction ({_JSON_STRING}),"),
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
    """The prompt asking for a JSON plan of `instruction`."""
    return PLAN.format(instruction=json.dumps(instruction))


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
