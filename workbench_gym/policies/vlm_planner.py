"""The VLM planner: camera frames + instruction -> `Pick`/`Place`/`Answer`/`Ask`/`Done`, through a `Backend`.

Three parts: a `SceneReader` (what the cameras show: grounding, candidates fitted in 3D, the one a reference means,
zones, the second look with the wrist camera), a `DecisionLog` (each decision's reason, inputs and timing; the
report), and here the step machine. The instruction becomes a `StructuredTask` (the backend's `plan`, else
`language.reader.read_instruction`) and that becomes steps (`plan_steps`). Each `act` re-observes: it checks what the
last primitive did (the gripper's opening says whether a pick holds something; re-grounding says whether the aimed-at
tool is still where it was), then takes the current step's next action. A slot the task needs that the words left
open, a tool the catalog lacks, or a choice the reader cannot settle makes it `Ask` once; the supervisor's reply is
read as a refinement of the same reference (`read_reply`). It never sees privileged state (`observation_view`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, fields, replace
from typing import Any

import numpy as np
from gymnasium import spaces

from workbench_gym.envs.high_level import Answer, Ask, Done, HighLevelAction, Pick, Place, encode, fit_text
from workbench_gym.language.expressions import describe
from workbench_gym.language.reader import read_instruction, read_reply
from workbench_gym.language.task import StructuredTask, ToolReference
from workbench_gym.language.vocabulary import categories_of, plural, read_container, vocabulary
from workbench_gym.policies.ambiguity import as_named_kind, original_of
from workbench_gym.policies.backend import Backend
from workbench_gym.policies.counting import recount
from workbench_gym.policies.decision_log import Decision, DecisionLog, log
from workbench_gym.policies.grasp_poses import pick_at, place_in, retry_kind, yaw_of
from workbench_gym.policies.kind_votes import KindVotes
from workbench_gym.policies.perception import ToolEstimate
from workbench_gym.policies.scene_reader import (
    ENV_OPTIONS,
    Candidate,
    PlannerConfig,
    SceneReader,
    check_observation_space,
    observation_view,
    tie_question,
)
from workbench_gym.policies.steps import Plan, Step, describe_step, grounding_phrase, measured, plan_steps, spatial, superlative
from workbench_gym.scenes.catalog import get_category
from workbench_gym.scenes.zones import Zone, handover_zone
from workbench_gym.sim.robot import MAX_FINGER_WIDTH, PROPRIO_SLICES

__all__ = ["ENV_OPTIONS", "Decision", "PlannerConfig", "VLMPlanner", "check_observation_space", "make_vlm_planner", "observation_view", "split_options"]

FINGER_SLACK = 0.005  # metres the fingers may sit inside their commanded opening without holding anything
PROPRIO_ORIENTATION, PROPRIO_WIDTH = PROPRIO_SLICES["ee_orientation"], PROPRIO_SLICES["gripper_width"].start


@dataclass
class _Target:
    """The tool a step is working on: where it was seen and how often it was grasped for."""

    estimate: ToolEstimate
    attempts: int = 0
    remembered: bool = False  # chosen from what the step saw earlier, not from this decision's views


class VLMPlanner:
    """A `Planner` that reads the bench through a `SceneReader` and drives the primitives step by step."""

    def __init__(self, backend: Backend, config: PlannerConfig = PlannerConfig()):
        self.backend, self.config = backend, config
        self.scene = SceneReader(backend, config)
        self.reset("")

    # --- Planner protocol -----------------------------------------------------------------------------
    def reset(self, instruction: str) -> None:
        self.instruction = instruction
        self.log = DecisionLog(instruction)
        self.scene.reset()
        self.plan: Plan | None = None
        self.step_index, self.asked, self.dialog_used = 0, False, ""
        self.reference: ToolReference | None = None  # the current step's target, refined by a reply
        self.target: _Target | None = None
        self.asked_about: list[ToolEstimate] = []  # the tools a question asked to choose between
        self.holding: ToolEstimate | None = None
        self.last: HighLevelAction | None = None
        self._noted = True  # whether the last action's outcome has been looked at
        self.done_targets: list[np.ndarray] = []  # where tools of an "every" step ended up or were given up on
        self.to_move: list[tuple[ToolEstimate, int]] = []  # tools an "every" step saw (and how often), not yet moved or given up on
        self.placed: dict[str, int] = {}  # tools put into each zone, for the next slot
        self.kinds = KindVotes()  # what each camera read every tool as, decision after decision (a sort's steps)
        self._gripper_yaw, self._place_failures = 0.0, 0
        self._carry = (np.zeros(2), 0.0)  # held tool's middle relative to the grasp point, and the hand's yaw then

    @property
    def decisions(self) -> list[Decision]:
        return self.log.decisions

    def act(self, observation: dict[str, Any]) -> dict[str, Any]:
        start = time.perf_counter()
        view = self.scene.look(observation)
        if not self.instruction:
            self.instruction = self.log.instruction = str(observation["instruction"])
        proprio = np.asarray(observation["proprio"], np.float64)
        self._gripper_yaw = yaw_of(proprio[PROPRIO_ORIENTATION])
        holding = self._holds(proprio)
        dialog = str(observation.get("dialog", ""))
        self.scene.inputs = {"instruction": self.instruction, "dialog": dialog, "gripper_width": round(float(proprio[PROPRIO_WIDTH]), 4),
                             "camera": view.camera, "image": list(view.rgb.shape[:2]), "holding": holding}
        if self.plan is None:
            self.plan = self._make_plan()
            self.scene.inputs["task"] = self.plan.task.to_dict()
            self.log.events.append(f"Read the instruction as {self.plan.kind}: " + "; ".join(describe_step(s) for s in self.plan.steps))
            for step in self.plan.steps:  # containers are found while the arm is at home, hiding none of them
                if step.destination:
                    self.scene.zone(step.destination)
        action, reason = self._decide(holding, dialog)
        self.last, self._noted = action, False
        self.log.record(action, reason, self.scene.inputs, time.perf_counter() - start, self.scene.backend_s)
        return encode(action)

    def finish(self, observation: dict[str, Any]) -> str:
        """A one-paragraph report of the final bench state, from a last look at it; also kept in `report`."""
        self.scene.look(observation)
        self.scene.inputs = {}  # a fresh inputs record: the last decision's is logged already
        holding = self._holds(np.asarray(observation["proprio"], np.float64))
        self._observe_outcome(holding)  # the episode may have ended on the last primitive
        return self.log.write_report(self.scene.tally(), self.placed, holding)

    @property
    def report(self) -> str:
        return self.log.report

    def summary(self) -> dict:
        """The decisions log, latency figures and the final report, as JSON-ready data."""
        return self.log.summary(getattr(self.backend, "name", type(self.backend).__name__))

    # --- the step machine -----------------------------------------------------------------------------
    def _make_plan(self) -> Plan:
        """The backend's structured task for the instruction, else the instruction reader's."""
        task = self.scene.timed(self.backend.plan, self.scene.view, self.instruction)
        if task is not None and not isinstance(task, StructuredTask):
            log.warning("ignoring the backend's plan: expected a StructuredTask, got %s", type(task).__name__)
            task = None
        return plan_steps(task if task is not None else self.scene.timed(read_instruction, self.instruction), self.instruction)

    def _holds(self, proprio: np.ndarray) -> bool:
        """Whether the gripper holds something: its fingers stopped short of the opening last commanded (the last
        pick's width, else fully open). Where the hand is does not matter: a pick stopped while lifting still holds."""
        opened = self.last.width if isinstance(self.last, Pick) else MAX_FINGER_WIDTH
        return bool(proprio[PROPRIO_WIDTH] < opened - FINGER_SLACK)

    def _observe_outcome(self, holding: bool) -> None:
        """Take note of what the last primitive did, as the new frame and the gripper show it (once per primitive)."""
        if self._noted:
            return
        self._noted = True
        if isinstance(self.last, Pick) and self.target is not None:
            self.log.events.append(self._after_pick(holding))
        elif isinstance(self.last, Place):
            self._after_place(holding)

    def _decide(self, holding: bool, dialog: str) -> tuple[HighLevelAction, str]:
        self._observe_outcome(holding)
        if holding and self.holding is None:  # something came up that no step wanted: set it aside
            return self._set_aside(), "holding a tool the plan did not ask for"
        while self.plan is not None and self.step_index < len(self.plan.steps):
            decided = self._step_action(self.plan.steps[self.step_index], dialog)
            if decided is not None:
                return decided
            self.step_index += 1
            self.reference, self.target, self.asked_about, self.to_move = None, None, [], []
        return Done(), "every step of the plan is done"

    def _step_action(self, step: Step, dialog: str) -> tuple[HighLevelAction, str] | None:
        """The next action of a step, or None when the step is finished."""
        if step.verb == "answer":
            if isinstance(self.last, Answer):
                return None
            text = self.scene.timed(self.backend.answer, self.scene.view, step.text).strip() or "I don't know"
            text = recount(self.scene, self.plan.task, text)  # the grounding it adds is timed as the backend's
            self.scene.inputs["question"] = step.text
            self.log.events.append(f"Answered {step.text!r} with {text!r}")
            return Answer(fit_text(text)), "a question: the backend answers from the frame"
        if step.verb == "ask":
            if self.asked:
                return None
            self.asked = True
            return Ask(fit_text(step.text)), "nothing to act on without an answer"
        if self.holding is not None:
            return None if step.verb == "pick" else self._place(step)
        if dialog and dialog != self.dialog_used:  # the supervisor answered: their words refine the reference
            self.dialog_used = dialog
            self.reference = self.scene.timed(read_reply, dialog, self.reference or step.target)
            self.target, self.to_move = None, []
            self.log.events.append(f"The supervisor said {dialog!r}")
        self.reference = self.reference or step.target
        return self._next_of_every(step) if step.every else self._next_pick()

    def _next_pick(self) -> tuple[HighLevelAction, str] | None:
        ref, target = self.reference, self.target
        if target is not None and target.attempts >= self.config.attempts:
            self.log.events.append(f"Gave up on the {describe(ref)} after {target.attempts} grasps")
            return None
        if target is not None and target.attempts:  # a retry: the same tool, if a grasp nudged it; else as last seen
            around = self.scene.candidates(ref, near=(target.estimate.xy, self.config.nudge))
            near = [c[0] for c in around if c[0].category == target.estimate.category and _distance(c[0], target.estimate) < self.config.nudge]
            if near:
                target.estimate = min(near, key=lambda e: _distance(e, target.estimate))
            target.attempts += 1
            return pick_at(target.estimate, target.attempts - 1), f"retry {target.attempts - 1} of the {describe(ref)}, {retry_kind(target.estimate, target.attempts - 1)}"
        candidates = self.scene.candidates(ref, second_look=True)
        if self.config.overhead_check and measured(ref):
            candidates = self.scene.measured_from_above(ref, candidates)
        among: list = []
        if self.asked_about and self.dialog_used and not (superlative(ref) or spatial(ref)):
            # A size word answers which of the tools asked about: choose among them. An order or place word ("the
            # leftmost nut") compares every tool its words fit, seen or not when the question was asked.
            among = [c for c in candidates if any(_distance(c[0], e) < self.config.nudge for e in self.asked_about)]
            candidates = among if len(among) >= 2 else candidates
        relaxed = not candidates and bool(ref.colour)
        if relaxed:  # the backend may misjudge a colour: look by kind alone, and ask if that is not enough
            candidates = self.scene.candidates(replace(ref, colour=""), second_look=True)
            self.scene.inputs["relaxed"] = f"nothing {ref.colour} scored; grounded {grounding_phrase(replace(ref, colour=''))!r} alone"
        elif self.dialog_used and len(among) < 2:
            candidates = self._reply_size_by_kind(ref, candidates)
        if len(among) >= 2:  # the question found each of them fitting the words: the reply's words compare them as one kind
            relabelled = as_named_kind(ref, among)
            chosen, why = self.scene.resolve(ref, relabelled)
            chosen = original_of(chosen, relabelled, among) if chosen is not None else None
        else:
            chosen, why = self.scene.resolve(ref, candidates)
        if chosen is not None and self.config.overhead_check and not self.asked and not measured(ref):
            checked = self._check_from_above(ref, chosen, relaxed)
            if isinstance(checked, Ask):
                return checked, "asking: " + checked.text
            chosen, why = checked or (chosen, why)
        if chosen is None:
            if not self.asked:
                self.asked, self.asked_about = True, self.scene.tied
                return Ask(fit_text(why)), "asking: " + why
            if not candidates:
                self.log.events.append(f"Found no {describe(ref)}")
                return None
            chosen, why = candidates[0], "the supervisor did not settle it: taking the best candidate"
        self.target = _Target(chosen[0], attempts=1)
        return pick_at(chosen[0]), why

    def _check_from_above(self, ref: ToolReference, chosen: Candidate, relaxed: bool) -> Ask | tuple[Candidate, str] | None:
        """Check a choice made by score against the overhead view before grasping: another tool there that the words
        fit as well makes it a question; a choice made by kind alone (no tool of the colour seen in front) gives way to
        the one tool of that colour seen from above. None when the choice stands."""
        above = self.scene.seen_from_above(ref)
        elsewhere = [c for c in above if float(np.linalg.norm(c[0].centre - chosen[0].centre)) >= self.config.nudge + c[0].centre_slack]
        if relaxed and len(above) == 1:
            return above[0], f"the one {describe(ref)} the overhead view sees (score {above[0][1]:.2f})"
        if not elsewhere:
            return None
        tied = [c[0] for c in above] if relaxed else [chosen[0], *(c[0] for c in elsewhere)]
        self.asked, self.asked_about = True, tied
        return Ask(fit_text(tie_question(describe(ref), tied, "size or place")))

    def _reply_size_by_kind(self, ref: ToolReference, candidates: list) -> list:
        """Candidates for a reply's size word that no tool seen in the reply's colour is fitted to: add the tools of the
        kind named in that size found by kind alone (an unseen variant's colour is the backend's likeliest misreading)."""
        kinds = categories_of(ref.category)
        if not (ref.size and ref.colour) or any(c[0].size == ref.size and c[0].category in kinds for c in candidates):
            return candidates
        more = [c for c in self.scene.candidates(replace(ref, colour=""), second_look=True)
                if c[0].size == ref.size and c[0].category in kinds and all(_distance(c[0], k[0]) >= self.config.nudge for k in candidates)]
        if more:
            self.scene.inputs["relaxed"] = f"no {ref.colour} one fits {ref.size!r}; added {len(more)} {ref.size} by kind alone"
        return candidates + more

    def _next_of_every(self, step: Step) -> tuple[HighLevelAction, str] | None:
        destination = self._destination(step)
        zone = self.scene.zone(destination) if destination else None
        one = describe(replace(self.reference, every=False))
        left = self._still_out(self._of_family(self.scene.candidates(self.reference)), zone)
        if self.config.remember:
            self._remember(left)
        if not left and self.config.final_look:  # about to call the step done: look over the whole bench from above first
            left = self._still_out(self._of_family(self.scene.bench_check(self.reference), above=True), zone)
        remembered = not left and self.config.remember
        if remembered:  # nor seen from above: a tool seen earlier that the views still show lying there (hidden by the arm, or read as another kind)
            left = [(e, 0.0) for e, seen in self.to_move if self._still_out([(e, 0.0)], zone) and self.scene.still_lies(self.reference, e, seen)]
        target = self.target
        if target is not None and target.attempts:
            near = [c for c in left if _distance(c[0], target.estimate) < self.config.nudge]
            if near and target.attempts < self.config.attempts:
                target.estimate, target.attempts = near[0][0], target.attempts + 1
                return pick_at(target.estimate, target.attempts - 1), f"retry {target.attempts - 1} on a {one}, {retry_kind(target.estimate, target.attempts - 1)}"
            if near:
                self.done_targets.append(target.estimate.xy)
                self._forget(target.estimate)
                self.log.events.append(f"Gave up on a {one} at {np.round(target.estimate.xy, 2).tolist()}")
                left = [c for c in left if c is not near[0]]
        if not left:
            return None
        best = max(left, key=lambda c: c[1])[0]
        self.target = _Target(best, attempts=1, remembered=remembered)
        if remembered:
            return pick_at(best), f"a {one} seen earlier still lies at {np.round(best.xy, 2).tolist()}, unseen now"
        family = get_category(best.category).family
        word = vocabulary().family_words.get(family, "tool")
        return pick_at(best), f"{len(left)} {word if len(left) == 1 else plural(word)} left to move to the {destination or 'container'}"

    def _of_family(self, candidates: list[Candidate], above: bool = False) -> list[Candidate]:
        """The candidates of a sort's step less those more cameras read as another family (`KindVotes`), after keeping
        this decision's reading of the front view (or the overhead one, with `above`; the first decision keeps both, so
        that a second camera reads the tools from the start). Only where several steps move several families: there a
        tool left out has its own step, while a collect would leave it on the bench."""
        kinds = categories_of(self.reference.category)
        if not self.config.kind_votes or sum(s.every for s in self.plan.steps) < 2 or not kinds:
            return candidates  # (a backend's plan may name a family the catalog lacks: nothing to vote on)
        phrase = grounding_phrase(self.reference)
        views = [self.scene.overhead_view()] if above else [self.scene.view, *([self.scene.overhead_view()] if not self.kinds.maps else [])]
        for view in (v for v in views if v is not None):
            self.kinds.add(view, self.scene.ground(phrase, view))
        family = get_category(kinds[0]).family
        kept = [c for c in candidates if not self.kinds.read_as_other(c[0], family, self.scene.bench_z)]
        if len(kept) < len(candidates):
            self.scene.inputs["kind_votes"] = f"left out {len(candidates) - len(kept)} read as another family more often"
        return kept

    def _remember(self, candidates: list[Candidate]) -> None:
        """Add what an every-step sees to what it has to move: a tool seen again replaces its earlier estimate."""
        for estimate, _ in candidates:
            seen = 1 + sum(n for e, n in self.to_move if self._same_tool(e, estimate))
            self._forget(estimate)
            self.to_move.append((estimate, seen))

    def _forget(self, estimate: ToolEstimate) -> None:
        self.to_move = [(e, n) for e, n in self.to_move if not self._same_tool(e, estimate)]

    def _same_tool(self, a: ToolEstimate, b: ToolEstimate) -> bool:
        """Whether two sightings are one tool: their middles (steadier than the fitted origin when the arm hides part
        of it) within half its length, at least `same_place` (screws lie closer together) and at most `nudge`."""
        within = min(self.config.nudge, max(self.config.same_place, b.length / 2))
        return float(np.linalg.norm(a.centre - b.centre)) < within

    def _still_out(self, candidates: list[Candidate], zone: Zone | None) -> list[Candidate]:
        """The candidates an every-step has still to move: not in its zone, not where a tool was put or given up on."""
        return [c for c in candidates if not (zone is not None and zone.contains((*c[0].xy, zone.floor_z)))
                and not any(np.linalg.norm(c[0].xy - p) < self.config.same_place for p in self.done_targets)]

    def _after_pick(self, holding: bool) -> str:
        """Check a pick: is something held, and is it the aimed-at tool (which then no longer lies where it was)?"""
        aimed = self.target.estimate
        name = f"{aimed.size} {get_category(aimed.category).display}"
        if not holding:
            if self.target.remembered:  # one try at a tool the views no longer show; a view that finds it again brings it back
                self._forget(aimed)
            return f"The grasp of the {name} came up empty (attempt {self.target.attempts})"
        around = self.scene.candidates(ToolReference(aimed.category), all_candidates=True, near=(aimed.xy, self.config.same_place))
        if any(e.category == aimed.category and _distance(e, aimed) < self.config.same_place for e, _ in around):
            self.holding = None  # a neighbour came up instead
            return f"The {name} still lies where it was: a neighbour came up instead"
        self.holding = aimed
        self._forget(aimed)
        # The tool hangs from the hand as it lay: remember where its middle is relative to the grasp point.
        self._carry = (aimed.centre - np.asarray(self.last.pose[:2]), self._gripper_yaw)
        return f"Picked the {name}"

    def _place(self, step: Step) -> tuple[HighLevelAction, str]:
        destination = self._destination(step)
        zone = self.scene.zone(destination) if destination else None
        if zone is None:
            return self._set_aside(), f"cannot find the {destination or 'container'}: setting the tool down"
        failed, slot = self._place_failures, self.placed.get(zone.name, 0)
        self.scene.inputs["zone"] = {"name": zone.name, "center": [round(v, 3) for v in zone.center], "yaw": round(zone.yaw, 3)}
        self._place_failures += 1  # reset once the place is seen to have let go
        place = place_in(zone, slot + failed // 2, self.holding, self._carry, self.config.place_clearance, failed)
        return place, f"the {destination}, slot {slot}" + (f", try {failed + 1}" if failed else "")

    def _destination(self, step: Step) -> str:
        """Where a move goes: as the instruction said, else as the supervisor's reply to the question about it said."""
        return step.destination or (read_container(self.dialog_used) if self.dialog_used else "")

    def _after_place(self, holding: bool) -> None:
        if holding:
            self.log.events.append("A place did not let go of the tool")
            return
        self._place_failures = 0
        step = self.plan.steps[self.step_index] if self.plan and self.step_index < len(self.plan.steps) else None
        placed, self.holding = self.holding, None
        if placed is None or step is None or step.verb != "move":
            return
        zone = self.scene.zone(self._destination(step))
        self.placed[zone.name] = self.placed.get(zone.name, 0) + 1
        self.log.events.append(f"Put the {placed.size} {get_category(placed.category).display} in the {self._destination(step)}")
        self.done_targets.append(np.asarray(self.last.pose[:2]))
        self.target = None
        if not step.every:
            self.step_index += 1  # one tool, placed: the step is done
            self.reference = None

    def _set_aside(self) -> Place:
        """Put an unwanted tool down at a free spot: the hand-over area's far corner."""
        zone = handover_zone(self.scene.bench_z)
        self.holding = None
        spot = zone.slot(2)
        return Place((float(spot[0]), float(spot[1]), zone.floor_z + 0.03, self._gripper_yaw))


def _distance(a: ToolEstimate, b: ToolEstimate) -> float:
    return float(np.linalg.norm(a.xy - b.xy))


def split_options(options: dict[str, Any]) -> tuple[dict[str, Any], dict[str, Any]]:
    """Options named like a `PlannerConfig` field (for the planner), and the rest (for the backend)."""
    planner_fields = {f.name for f in fields(PlannerConfig)}
    return {k: v for k, v in options.items() if k in planner_fields}, {k: v for k, v in options.items() if k not in planner_fields}


def make_vlm_planner(observation_space: spaces.Space, backend: str | Backend = "native", config: PlannerConfig = PlannerConfig(),
                     **options: Any) -> VLMPlanner:
    """A VLM planner for envs with this observation space; it never sees the env itself.

    `backend` is a `Backend` or a name for `policies.backends.make_backend` ("native", "hf", "openai"). Options named
    like a `PlannerConfig` field (`second_look=False`) set it; the rest go to the backend.
    """
    overrides, backend_options = split_options(options)
    config = replace(config, **overrides)
    check_observation_space(observation_space, config.camera)
    if isinstance(backend, str):
        from workbench_gym.policies.backends import make_backend

        backend = make_backend(backend, **backend_options)
    elif not isinstance(backend, Backend):
        raise ValueError(f"backend must be a Backend or a backend name, got {type(backend).__name__}")
    return VLMPlanner(backend, config)
