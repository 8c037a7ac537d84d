"""Language controls: instructions a planner should not simply act on, and how an episode under one is judged.

Kinds (the suite's `language.controls`):

- "corrupted": the env's instruction with a word dropped, two neighbours swapped and about one letter in seven
  replaced; asking, refusing, or doing the original task all count as right;
- "empty": an utterance with no task in it ("um", "...");
- "contradictory": the named tool given two colours ("pick up the red hammer, the blue one"), the second one that no
  tool of that kind on the bench has, or asked for and refused in one breath ("... but not the red one");
- "impossible": a tool the bench does not have ("bring me the tape measure" with none there).

For the last three the right action is `Ask` or a refusal (`Done` before any `Pick`/`Place`, or an `Answer` saying it
cannot). Episodes are judged on the planner's first action (`outcome`). The sentences come from `generate`, the
built-in seeded generator ("builtin-v1", a fallback, labelled as such in every card), or from an independently
written control set (`benchmark.instruction_sets`, with each goal's `expected` right actions).
"""

from __future__ import annotations

import re

import numpy as np

from workbench_gym.benchmark.privileged import zone_phrase
from workbench_gym.scenes.catalog import COLOURS, TOOLS, get_category
from workbench_gym.scenes.spec import SceneSpec

CONTROLS = ("corrupted", "empty", "contradictory", "impossible", "no_task")
GENERATOR = "builtin-v1"
EMPTY_UTTERANCES = ("um", "...", "okay", "hmm, well", "right then")
#: Things said at a bench that ask for nothing (the written control set has its own).
NO_TASK_UTTERANCES = ("Thanks, that's all for now.", "Nice work this morning.", "It's getting cold in here.",
                      "What a week it has been.", "I'll be back after lunch.")
NOISE = 1 / 7  # share of letters replaced in a corrupted instruction
#: An answer that declines: "I can't see one", "there is no tape measure", "sorry, I don't know which".
REFUSAL = re.compile(r"\b(can ?not|can't|unable|don't|do not|not sure|no such|isn't|is not|there is no|there's no|none|sorry|impossible|unclear)\b", re.IGNORECASE)
#: How a task asks for its tool, with the reference in {ref} (and the container in {container}).
ASKING = {"PickTool": "pick up the {ref}", "PlaceTool": "put the {ref} in the {container}", "FetchTool": "bring me the {ref}"}
#: Outcome of an episode's first action -> the right-action word it stands for.
OUTCOMES = {"asked": "ask", "refused": "refuse", "acted": None, "answered": None, "nothing": None}


def control_rng(seed: int, control: str) -> np.random.Generator:
    """The generator of one control sentence (per seed and kind, independent of everything else)."""
    return np.random.default_rng([int(seed), CONTROLS.index(control), 14])


def corrupt(text: str, rng: np.random.Generator) -> str:
    """`text` with one word dropped (of three or more), two neighbouring words swapped and letters replaced."""
    words = text.split()
    if len(words) >= 3:
        del words[int(rng.integers(len(words)))]
    if len(words) >= 2:
        i = int(rng.integers(len(words) - 1))
        words[i], words[i + 1] = words[i + 1], words[i]
    letters = list(" ".join(words))
    for i, ch in enumerate(letters):
        if ch.isalpha() and rng.random() < NOISE:
            letters[i] = chr(ord("a") + int(rng.integers(26)))
    return "".join(letters)


def named_goal(goal: dict) -> dict | None:
    """The one tool a goal names (its `info["goal"]` entry), or None for goals about several or none."""
    if "object" in goal:
        return goal
    objects = goal.get("objects", [])
    return objects[0] if len(objects) == 1 else None


def generate(control: str, task: str, instruction: str, goal: dict, spec: SceneSpec, rng: np.random.Generator) -> str | None:
    """The built-in generator's control sentence for an episode (None when the kind does not apply to the task)."""
    if control == "corrupted":
        return corrupt(instruction, rng)
    if control == "empty":
        return EMPTY_UTTERANCES[int(rng.integers(len(EMPTY_UTTERANCES)))]
    if control == "no_task":
        return NO_TASK_UTTERANCES[int(rng.integers(len(NO_TASK_UTTERANCES)))]
    tool = named_goal(goal)
    if task not in ASKING or tool is None:
        return None
    container = zone_phrase(tool.get("zone", "bin_left"))
    if control == "contradictory":
        category = get_category(tool["category"])
        present = {t.colour for t in spec.tools if t.category == tool["category"]}
        others = [c for c in category.colours if c not in present] or [c for c in COLOURS if c not in present]
        other = others[int(rng.integers(len(others)))]
        ref = f"{tool['colour']} {category.display}"
        if rng.random() < 0.5:
            text = ASKING[task].format(ref=ref, container=container) + f", the {other} one"
        else:
            text = ASKING[task].format(ref=ref, container=container) + f" but not the {tool['colour']} one"
        return text
    if control == "impossible":
        present = {t.category for t in spec.tools}
        absent = [c for c in TOOLS if c not in present]
        if absent:
            ref = TOOLS[absent[int(rng.integers(len(absent)))]].display
        else:  # every kind is on the bench: a colour of it that is not
            pairs = [(c, k) for c in TOOLS for k in TOOLS[c].colours if not any(t.category == c and t.colour == k for t in spec.tools)]
            category, colour = pairs[int(rng.integers(len(pairs)))]
            ref = f"{colour} {TOOLS[category].display}"
        return ASKING[task].format(ref=ref, container=container)
    raise ValueError(f"unknown language control {control!r}; expected one of {CONTROLS}")


def outcome(actions: list[dict] | None) -> str:
    """What the episode's first action was: "asked", "refused" (Done, or an Answer that declines), "acted" (Pick or
    Place), "answered" (any other Answer) or "nothing" (no action)."""
    if not actions:
        return "nothing"
    first = actions[0]
    if first["verb"] == "ask":
        return "asked"
    if first["verb"] == "done" or (first["verb"] == "answer" and REFUSAL.search(first.get("text") or "")):
        return "refused"
    return "acted" if first["verb"] in ("pick", "place") else "answered"


def judge(right: tuple[str, ...], actions: list[dict] | None, success: bool) -> tuple[str, bool]:
    """(outcome, whether it was right): the first action's outcome is one of `right`, or "succeed" is and the task succeeded."""
    what = outcome(actions)
    return what, OUTCOMES[what] in right or ("succeed" in right and success)
