"""The VLM planner: camera frames + instruction -> `Pick`/`Place`/`Answer`/`Ask`/`Done`, through a `Backend`.

It sees what a real robot has: one camera's RGB, metric depth, intrinsics and extrinsics, proprioception,
the instruction and the supervisor's replies. Segmentation, ids and poses never reach it: `observation_view`
keeps only the camera keys a robot has and refuses state observations.

The instruction becomes a `StructuredTask` (the backend's `plan`, else `language.reader.read_instruction`) and
that becomes steps (`plan_steps`). Each `act` re-observes: it checks what the last primitive did (the gripper's
opening says whether a pick holds something; re-grounding says whether the aimed-at tool is still where it was),
then decides the next action. Targets are grounded by the backend, lifted to 3D with depth and calibration
(`perception`), and resolved among candidates in 3D ("largest", "leftmost", "nearest the tray", sizes). A slot the
task needs that the words left open, a tool the catalog lacks, two candidates that tie or a best candidate below
the confidence bar make it `Ask` once, naming the slot; the reply is read as a refinement (`read_reply`). Every decision is
logged (python logging and `decisions`) with a summary of its inputs and its timing; `finish` writes a
one-paragraph report of the final bench state.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import asdict, dataclass, replace
from typing import Any

import numpy as np
from gymnasium import spaces

from workbench_gym.control.grasp_regions import GRASP_SLIDES, finger_width, region_grasp
from workbench_gym.envs.high_level import Answer, Ask, Done, HighLevelAction, Pick, Place, encode, fit_text
from workbench_gym.language.expressions import describe
from workbench_gym.language.reader import read_instruction, read_reply
from workbench_gym.language.task import HANDOVER, PARTS_TRAY, UNLISTED, StructuredTask, ToolReference
from workbench_gym.language.vocabulary import categories_of, category_noun, family_category, plural, read_container, vocabulary
from workbench_gym.policies.backend import Backend, Region, View
from workbench_gym.policies.perception import ToolEstimate, fit_tool, fit_zone, project, size_misfit, view_bench_height
from workbench_gym.policies.steps import SLOT_QUESTIONS, Plan, Step, grounding_phrase, known, plan_steps, spatial, superlative
from workbench_gym.scenes.catalog import CONTAINERS, TOOLS, get_category
from workbench_gym.scenes.geometry import build_geometry
from workbench_gym.scenes.parts import quat_to_matrix
from workbench_gym.scenes.zones import Zone, handover_zone
from workbench_gym.sim.robot import MAX_FINGER_WIDTH, PROPRIO_SLICES

log = logging.getLogger(__name__)

#: Env options the planner needs: one fixed camera with depth. At 384x384 a nut spans about 9 pixels (5 at 256x256);
#: the native model, trained on 256x256 frames, reads these as they are (crops are resampled, sizes are in metres).
ENV_OPTIONS = {"obs_mode": "rgbd", "cameras": ("front",), "image_size": (384, 384)}
CAMERA_KEYS = ("rgb", "depth", "intrinsics", "extrinsics")  # all a planner may read of a camera
PRIVILEGED_KEYS = ("objects", "goal")  # state-mode observation keys: simulator poses and goals
LONG_TOOL_MARGIN = 0.04  # metres: a tool within this of a zone's length goes in diagonally
FINGER_SLACK = 0.005  # metres the fingers may sit inside their commanded opening without holding anything
#: Where the observation's proprio vector keeps the hand's quaternion and the fingers' opening.
PROPRIO_ORIENTATION, PROPRIO_WIDTH = PROPRIO_SLICES["ee_orientation"], PROPRIO_SLICES["gripper_width"].start


@dataclass(frozen=True)
class PlannerConfig:
    """Thresholds of the planner; scores are the backend's, in [0, 1]."""

    camera: str = "front"
    min_score: float = 0.25  # a region scored lower is no candidate
    confident: float = 0.45  # the best candidate must score this, else the planner asks
    min_fit: float = 0.5  # share of a region's points the fitted catalog footprint must cover to be trusted
    tie_ratio: float = 0.6  # a rival scoring this share of the best candidate's score ties with it
    attempts: int = 3  # picks of one tool before giving up on it
    held_height: float = 0.05  # lifted points this far above the bench are in the gripper, not on it
    same_place: float = 0.025  # metres: a tool seen this close to where it was has not moved
    nudge: float = 0.05  # metres a failed grasp may push a tool; one seen further off is another tool
    place_clearance: float = 0.015  # metres above the floor a placed tool is released


@dataclass
class Decision:
    """One decision: the action, why, a summary of its inputs, and how long it took (ms)."""

    index: int
    action: str
    reason: str
    inputs: dict
    backend_ms: float
    planner_ms: float
    total_ms: float


@dataclass
class _Target:
    """The tool a step is working on: where it was seen and how often it was grasped for."""

    estimate: ToolEstimate
    attempts: int = 0


def observation_view(observation: dict[str, Any], camera: str) -> View:
    """The camera `View` of an observation, refusing privileged state and dropping everything but `CAMERA_KEYS`."""
    leaked = [k for k in PRIVILEGED_KEYS if k in observation]
    if leaked:
        raise ValueError(f"the VLM planner takes camera observations; this one carries privileged state {leaked} (make the env with obs_mode='rgbd')")
    cameras = observation.get("cameras")
    if not isinstance(cameras, dict) or camera not in cameras:
        raise ValueError(f"the VLM planner needs camera {camera!r} in obs['cameras'], got {sorted(cameras) if isinstance(cameras, dict) else None}")
    frame = cameras[camera]
    missing = [k for k in CAMERA_KEYS if k not in frame]
    if missing:
        raise ValueError(f"camera {camera!r} lacks {missing}: the VLM planner needs RGB and depth (obs_mode='rgbd')")
    return View(*(np.asarray(frame[k]) for k in CAMERA_KEYS), camera=camera)


def check_observation_space(space: spaces.Space, camera: str = "front") -> None:
    """`ValueError` unless the observation space gives the planner RGB, depth and calibration of `camera`."""
    if not isinstance(space, spaces.Dict) or any(k in space.spaces for k in PRIVILEGED_KEYS):
        raise ValueError("the VLM planner needs an env with obs_mode='rgbd' (camera frames), not privileged state")
    cameras = space.spaces.get("cameras")
    if cameras is None or camera not in cameras.spaces or any(k not in cameras[camera].spaces for k in CAMERA_KEYS):
        raise ValueError(f"the VLM planner needs camera {camera!r} with {CAMERA_KEYS}: make the env with {ENV_OPTIONS}")


class VLMPlanner:
    """A `Planner` that looks through one camera and drives the primitives through a VLM `Backend`."""

    def __init__(self, backend: Backend, config: PlannerConfig = PlannerConfig()):
        self.backend = backend
        self.config = config
        self.reset("")

    # --- Planner protocol -----------------------------------------------------------------------------
    def reset(self, instruction: str) -> None:
        self.instruction = instruction
        self.plan: Plan | None = None
        self.step_index = 0
        self.decisions: list[Decision] = []
        self.asked = False
        self.dialog_used = ""
        self.reference: ToolReference | None = None  # the current step's target, refined by a reply
        self.target: _Target | None = None
        self.holding: ToolEstimate | None = None
        self.last: HighLevelAction | None = None
        self._noted = True  # whether the last action's outcome has been looked at
        self.done_targets: list[np.ndarray] = []  # where tools of an "every" step ended up or were given up on
        self.placed: dict[str, int] = {}  # tools put into each zone, for the next slot
        self.events: list[str] = []
        self.report = ""
        self._zones: dict[str, Zone] = {}
        self._bench_z: float | None = None
        self._backend_s = 0.0
        self._gripper_yaw = 0.0
        self._place_failures = 0
        self._carry = (np.zeros(2), 0.0)  # held tool's middle relative to the grasp point, and the hand's yaw then
        self._inputs: dict = {}
        self._grounded: dict[str, list[Region]] = {}

    def act(self, observation: dict[str, Any]) -> dict[str, Any]:
        start = time.perf_counter()
        self._backend_s, self._grounded = 0.0, {}
        view = observation_view(observation, self.config.camera)
        if self._bench_z is None:  # the bench does not move: fit its plane once per episode
            self._bench_z = view_bench_height(view)
        if not self.instruction:
            self.instruction = str(observation["instruction"])
        proprio = np.asarray(observation["proprio"], np.float64)
        gripper = float(proprio[PROPRIO_WIDTH])
        self._gripper_yaw = _yaw_of(proprio[PROPRIO_ORIENTATION])
        holding = self._holds(proprio)
        dialog = str(observation.get("dialog", ""))
        self._inputs = {"instruction": self.instruction, "dialog": dialog, "gripper_width": round(gripper, 4),
                        "camera": view.camera, "image": list(view.rgb.shape[:2])}
        if self.plan is None:
            self.plan = self._make_plan(view)
            self._inputs["task"] = self.plan.task.to_dict()
            self.events.append(f"Read the instruction as {self.plan.kind}: " + "; ".join(_describe_step(s) for s in self.plan.steps))
        self._inputs["holding"] = holding
        action, reason = self._decide(view, holding, dialog)
        self.last, self._noted = action, False
        total = time.perf_counter() - start
        decision = Decision(len(self.decisions), _describe(action), reason, self._inputs, round(1e3 * self._backend_s, 2),
                            round(1e3 * (total - self._backend_s), 2), round(1e3 * total, 2))
        self.decisions.append(decision)
        log.info("decision %d: %s (%s) in %.1f ms [backend %.1f ms] inputs=%s", decision.index, decision.action, reason,
                 decision.total_ms, decision.backend_ms, decision.inputs)
        return encode(action)

    # --- planning -------------------------------------------------------------------------------------
    def _make_plan(self, view: View) -> Plan:
        """The backend's structured task for the instruction, else the instruction reader's."""
        task = self._timed(self.backend.plan, view, self.instruction)
        if task is not None and not isinstance(task, StructuredTask):
            log.warning("ignoring the backend's plan: expected a StructuredTask, got %s", type(task).__name__)
            task = None
        if task is None:
            task = self._timed(read_instruction, self.instruction)
        return plan_steps(task, self.instruction)

    def _holds(self, proprio: np.ndarray) -> bool:
        """Whether the gripper holds something: its fingers stopped short of the opening last commanded.

        That is the last pick's width (a pick that timed out on the way down leaves the fingers there, a missed one
        opens them fully), else fully open. Where the hand is does not matter: a pick stopped while lifting still holds.
        """
        opened = self.last.width if isinstance(self.last, Pick) else MAX_FINGER_WIDTH
        return bool(proprio[PROPRIO_WIDTH] < opened - FINGER_SLACK)

    def _observe_outcome(self, view: View, holding: bool) -> None:
        """Take note of what the last primitive did, as the new frame and the gripper show it (once per primitive)."""
        if self._noted:
            return
        self._noted = True
        if isinstance(self.last, Pick):
            reason = self._after_pick(view, holding)
            if reason:
                self.events.append(reason)
        elif isinstance(self.last, Place):
            self._after_place(view, holding)

    def _decide(self, view: View, holding: bool, dialog: str) -> tuple[HighLevelAction, str]:
        self._observe_outcome(view, holding)
        if holding and self.holding is None:  # something came up that no step wanted: set it aside
            return self._set_aside(), "holding a tool the plan did not ask for"
        while self.plan is not None and self.step_index < len(self.plan.steps):
            step = self.plan.steps[self.step_index]
            decided = self._step_action(step, view, dialog)
            if decided is not None:
                return decided
            self.step_index += 1
            self.reference, self.target = None, None
        return Done(), "every step of the plan is done"

    def _step_action(self, step: Step, view: View, dialog: str) -> tuple[HighLevelAction, str] | None:
        """The next action of a step, or None when the step is finished."""
        if step.verb == "answer":
            if isinstance(self.last, Answer):
                return None
            text = self._timed(self.backend.answer, view, step.text).strip() or "I don't know"
            self._inputs["question"] = step.text
            self.events.append(f"Answered {step.text!r} with {text!r}")
            return Answer(fit_text(text)), "a question: the backend answers from the frame"
        if step.verb == "ask":
            if self.asked:
                return None
            self.asked = True
            return Ask(fit_text(step.text)), "nothing to act on without an answer"
        if self.holding is not None:
            if step.verb == "pick":
                return None
            return self._place(step, view)
        return self._next_pick(step, view, dialog)

    # --- picking --------------------------------------------------------------------------------------
    def _next_pick(self, step: Step, view: View, dialog: str) -> tuple[HighLevelAction, str] | None:
        if self.reference is None:
            self.reference = step.target
        if dialog and dialog != self.dialog_used:  # the supervisor answered: their words refine the reference
            self.dialog_used = dialog
            self.reference = self._timed(read_reply, dialog, self.reference)
            self.target = None
            self.events.append(f"The supervisor said {dialog!r}")
        ref = self.reference
        if step.every:
            return self._next_of_every(step, view)
        if self.target is not None and self.target.attempts >= self.config.attempts:
            self.events.append(f"Gave up on the {describe(ref)} after {self.target.attempts} grasps")
            return None
        if self.target is not None and self.target.attempts:  # a retry: the same tool, if a grasp nudged it; else as last seen
            around = self._candidates(view, ref, near=(self.target.estimate.xy, self.config.nudge))
            near = [c for c in around if c[0].category == self.target.estimate.category
                    and np.linalg.norm(c[0].xy - self.target.estimate.xy) < self.config.nudge]
            if near:
                self.target.estimate = min(near, key=lambda c: np.linalg.norm(c[0].xy - self.target.estimate.xy))[0]
            pick = _pick(self.target.estimate, self.target.attempts)
            self.target.attempts += 1
            return pick, f"retry {self.target.attempts - 1} of the {describe(ref)}, {_retry_kind(self.target.attempts - 1)}"
        candidates = self._candidates(view, ref)
        if not candidates and ref.colour:  # the backend may misjudge a colour: look by kind alone, and ask if that is not enough
            candidates = self._candidates(view, replace(ref, colour=""))
            self._inputs["relaxed"] = f"nothing {ref.colour} scored; grounded {grounding_phrase(replace(ref, colour=''))!r} alone"
        chosen, why = self._resolve(ref, candidates, view)
        if chosen is None:
            if not self.asked:
                self.asked = True
                return Ask(fit_text(why)), "asking: " + why
            if not candidates:
                self.events.append(f"Found no {describe(ref)}")
                return None
            chosen = candidates[0]
            why = "the supervisor did not settle it: taking the best candidate"
        self.target = _Target(chosen[0], attempts=1)
        return _pick(chosen[0]), why

    def _next_of_every(self, step: Step, view: View) -> tuple[HighLevelAction, str] | None:
        destination = self._destination(step)
        zone = self._zone(destination, view) if destination else None
        left = []
        for estimate, score in self._candidates(view, self.reference):
            if zone is not None and zone.contains((*estimate.xy, zone.floor_z)):
                continue
            if any(np.linalg.norm(estimate.xy - p) < self.config.same_place for p in self.done_targets):
                continue
            left.append((estimate, score))
        if self.target is not None and self.target.attempts:
            near = [c for c in left if np.linalg.norm(c[0].xy - self.target.estimate.xy) < self.config.nudge]
            if near and self.target.attempts < self.config.attempts:
                self.target.estimate = near[0][0]
                pick = _pick(self.target.estimate, self.target.attempts)
                self.target.attempts += 1
                return pick, f"retry {self.target.attempts - 1} on a {describe(replace(self.reference, every=False))}, {_retry_kind(self.target.attempts - 1)}"
            if near:
                self.done_targets.append(self.target.estimate.xy)
                self.events.append(f"Gave up on a {describe(replace(self.reference, every=False))} at {np.round(self.target.estimate.xy, 2).tolist()}")
                left = [c for c in left if c is not near[0]]
        if not left:
            return None
        left.sort(key=lambda c: -c[1])
        self.target = _Target(left[0][0], attempts=1)
        family = get_category(left[0][0].category).family
        return _pick(left[0][0]), f"{len(left)} {plural(vocabulary().family_words.get(family, 'tool'))} left to move to the {destination or 'container'}"

    def _after_pick(self, view: View, holding: bool) -> str:
        """Check a pick: is something held, and is it the aimed-at tool (which then no longer lies where it was)?"""
        if self.target is None:
            return ""
        aimed = self.target.estimate
        name = f"{aimed.size} {get_category(aimed.category).display}"
        if not holding:
            return f"The grasp of the {name} came up empty (attempt {self.target.attempts})"
        around = self._candidates(view, self._reference_of(aimed), all_candidates=True, near=(aimed.xy, self.config.same_place))
        still = [e for e, _ in around if e.category == aimed.category and np.linalg.norm(e.xy - aimed.xy) < self.config.same_place]
        if still:
            self.holding = None  # a neighbour came up instead
            return f"The {name} still lies where it was: a neighbour came up instead"
        self.holding = aimed
        # The tool hangs from the hand as it lay: remember where its middle is relative to the grasp point.
        self._carry = (aimed.centre - np.asarray(self.last.pose[:2]), self._gripper_yaw)
        return f"Picked the {name}"

    @staticmethod
    def _reference_of(estimate: ToolEstimate) -> ToolReference:
        return ToolReference(estimate.category)

    # --- placing --------------------------------------------------------------------------------------
    def _place(self, step: Step, view: View) -> tuple[HighLevelAction, str]:
        destination = self._destination(step)
        zone = self._zone(destination, view) if destination else None
        if zone is None:
            return self._set_aside(), f"cannot find the {destination or 'container'}: setting the tool down"
        failed = self._place_failures
        slot = zone.slot(self.placed.get(zone.name, 0) + failed // 2)
        z = zone.floor_z + max(self.holding.grip_height, 0.01) + self.config.place_clearance
        offset, pick_yaw = self._carry
        # Turn the hand so the tool's long axis lies along the zone (bins), or keep it (hand-over area), and set the
        # tool's middle, not the grasp point, on the slot. The yaw stays in [-90, 90) degrees, where the primitive
        # takes it as given (outside, it may turn the hand half a turn, and the tool with it).
        along = zone.yaw
        if self.holding.model_length > 2 * zone.half[0] - LONG_TOOL_MARGIN:  # a long tool lies along the diagonal: more room
            along += math.atan2(zone.half[1], zone.half[0])
        turn = along - self.holding.yaw if zone.name != HANDOVER else 0.0
        yaw = (pick_yaw + turn + math.pi / 2) % math.pi - math.pi / 2
        c, s = math.cos(yaw - pick_yaw), math.sin(yaw - pick_yaw)
        if failed % 2 == 0:  # after a failed place, the plain slot: the middle's offset may have put the hand out of reach
            slot = slot - np.array([[c, -s], [s, c]]) @ offset
        self._inputs["zone"] = {"name": zone.name, "center": [round(v, 3) for v in zone.center], "yaw": round(zone.yaw, 3)}
        self._place_failures += 1  # reset once the place is seen to have let go
        return Place((float(slot[0]), float(slot[1]), float(z), float(yaw))), f"the {destination}, slot {self.placed.get(zone.name, 0)}" + (f", try {failed + 1}" if failed else "")

    def _destination(self, step: Step) -> str:
        """Where a move goes: as the instruction said, else as the supervisor's reply to the question about it said."""
        return step.destination or (read_container(self.dialog_used) if self.dialog_used else "")

    def _after_place(self, view: View, holding: bool) -> None:
        if holding:
            self.events.append("A place did not let go of the tool")
            return
        self._place_failures = 0
        if self.holding is None:
            return
        step = self.plan.steps[self.step_index] if self.plan and self.step_index < len(self.plan.steps) else None
        placed = self.holding
        self.holding = None
        if step is None or step.verb != "move":
            return
        destination = self._destination(step)
        zone = self._zone(destination, view)
        self.placed[zone.name] = self.placed.get(zone.name, 0) + 1
        self.events.append(f"Put the {placed.size} {get_category(placed.category).display} in the {destination}")
        self.done_targets.append(np.asarray(self.last.pose[:2]))
        self.target = None
        if not step.every:
            self.step_index += 1  # one tool, placed: the step is done
            self.reference = None

    def _set_aside(self) -> Place:
        """Put an unwanted tool down at a free spot: the hand-over area's far corner."""
        zone = handover_zone(self._bench_z)
        self.holding = None
        spot = zone.slot(2)
        return Place((float(spot[0]), float(spot[1]), zone.floor_z + 0.03, self._gripper_yaw))

    def _zone(self, destination: str, view: View) -> Zone | None:
        if destination not in self._zones:  # containers are fixed to the bench: fit each once per episode
            if destination == HANDOVER:
                self._zones[destination] = handover_zone(self._bench_z)
            else:
                regions = [r for r in self._ground(view, destination) if r.score >= self.config.min_score and (not r.label or r.label in CONTAINERS)]
                zone = fit_zone(view, regions[0], self._bench_z, destination, tray="tray" in destination) if regions else None
                if zone is None:
                    return None
                self._zones[destination] = zone
        return self._zones[destination]

    # --- grounding ------------------------------------------------------------------------------------
    def _ground(self, view: View, phrase: str) -> list[Region]:
        if phrase not in self._grounded:
            self._grounded[phrase] = self._timed(self.backend.ground, view, phrase)
        return self._grounded[phrase]

    def _candidates(self, view: View, ref: ToolReference, all_candidates: bool = False,
                    near: tuple[np.ndarray, float] | None = None) -> list[tuple[ToolEstimate, float]]:
        """Tools on the bench (not in the gripper) that fit the reference, fitted in 3D, best score first.

        `near` = (world xy, radius) fits only regions whose box reaches that disc: a check on one tool
        need not fit every other.
        """
        categories = categories_of(ref.category) or tuple(TOOLS)
        families = {get_category(c).family for c in categories}
        query = grounding_phrase(ref)
        regions = self._ground(view, query)
        window = _disc_box(view, near[0], near[1], self._bench_z) if near is not None else None
        out = []
        for region in regions:
            if region.score < self.config.min_score and not all_candidates:
                continue
            if window is not None and not _overlap(region.box, window):
                continue
            fit_as = (region.label,) if region.label in categories else categories
            if region.label and region.label not in categories and get_category(region.label).family not in families:
                continue  # another kind of thing; a sibling label (flathead for Phillips) defers to the phrase's score
            estimate = fit_tool(view, region, fit_as, self._bench_z)
            if estimate is None or estimate.top > self.config.held_height:
                continue
            out.append((estimate, float(region.score)))
        self._inputs.setdefault("grounded", {})[query] = {"regions": len(regions), "candidates": len(out),
                                                             "scores": [round(float(r.score), 3) for r in regions[:3]]}
        return sorted(out, key=lambda c: -c[1])

    def _resolve(self, ref: ToolReference, candidates: list, view: View) -> tuple[tuple[ToolEstimate, float] | None, str]:
        """The one candidate the reference means, with why; (None, question naming the slot) when the planner should ask."""
        text, noun = describe(ref), category_noun(ref.category) or "tool"
        most, place = superlative(ref), spatial(ref)
        if ref.category == UNLISTED:
            return None, "I don't know that tool: it is not in my catalog. Which tool do you mean (category)?"
        if not known(ref):
            return None, SLOT_QUESTIONS["category"]
        if not candidates:
            return None, f"I can't see a {text}. Which tool do you mean (category, colour)?"
        # A region the catalog shape hardly covers is two tools run together or a sliver: measure only the rest.
        candidates = [c for c in candidates if c[0].fit >= self.config.min_fit] or candidates
        if ref.size and not (most or place):
            # The size word is the disambiguator, and no question is needed: the words already said which. Fully seen
            # candidates first (a hidden end makes a large tool look medium), then those fitted to that size; among
            # those "large" is the longest and "small" the shortest for its kind, relative to each other as a person
            # means it, and "medium" the one nearest the catalog length.
            relative = {"large": lambda e: -e.length / e.model_length, "small": lambda e: e.length / e.model_length}.get(
                ref.size, lambda e: size_misfit(e, ref.size))
            best = min(candidates, key=lambda c: (c[0].occluded, c[0].size != ref.size, relative(c[0])))
            if best[0].size == ref.size or len(candidates) == 1 or best[1] >= self.config.confident:
                return best, f"the {ref.size} one of {len(candidates)} {noun} candidates (measured {best[0].length:.3f} m)"
        if most or place:
            key = {
                "largest": lambda c: -c[0].nominal - 0.01 * c[0].length,
                "smallest": lambda c: c[0].nominal + 0.01 * c[0].length,
                "leftmost": lambda c: -c[0].xy[1],  # the robot's left is +y
                "rightmost": lambda c: c[0].xy[1],
            }.get(most or place)
            if place == "nearest_tray":
                tray = self._zone(PARTS_TRAY, view)
                if tray is not None:
                    key = lambda c: float(np.linalg.norm(c[0].xy - np.asarray(tray.center)))  # noqa: E731
            if key is not None:
                if most == "smallest":  # a tool partly hidden only looks small
                    candidates = [c for c in candidates if not c[0].truncated] or candidates
                best = min(candidates, key=key)
                return best, f"the {(most or place).replace('_', ' ')} of {len(candidates)} {noun} candidates"
        best = candidates[0]
        if best[1] < self.config.confident:
            return None, f"I am not sure which is the {text} (best match {best[1]:.2f}). Which one do you mean (colour, size or place)?"
        rivals = [c for c in candidates[1:] if c[1] >= best[1] * self.config.tie_ratio]
        if rivals:
            tied = [best, *rivals][:3]
            seen = ", ".join(_where(c[0]) for c in tied)
            slot = "size" if len({c[0].size for c in tied}) > 1 else "place"
            return None, f"I see {1 + len(rivals)} that fit the {text}: {seen}. Which one do you mean (which {slot})?"
        return best, f"best match for the {text} (score {best[1]:.2f}, {best[0].size} {get_category(best[0].category).display})"

    def _timed(self, fn, *args):
        start = time.perf_counter()
        try:
            return fn(*args)
        finally:
            self._backend_s += time.perf_counter() - start

    # --- the end --------------------------------------------------------------------------------------
    def finish(self, observation: dict[str, Any]) -> str:
        """A one-paragraph report of the final bench state, from a last look at it; also kept in `report`."""
        view = observation_view(observation, self.config.camera)
        self._grounded, self._inputs = {}, {}  # a fresh inputs record: the last decision's is logged already
        if self._bench_z is None:
            self._bench_z = view_bench_height(view)
        holding = self._holds(np.asarray(observation["proprio"], np.float64))
        self._observe_outcome(view, holding)  # the episode may have ended on the last primitive
        seen = []
        for family, noun in vocabulary().family_words.items():
            categories = tuple(n for n, c in TOOLS.items() if c.family == family)
            count = len([c for c in self._candidates(view, ToolReference(family_category(family))) if c[0].category in categories])
            if count:
                seen.append(f"{count} {plural(noun) if count > 1 else noun}")
        zones = ", ".join(f"{n} in the {z}" for z, n in self.placed.items()) or "nothing"
        primitives = sum(1 for d in self.decisions if d.action.split()[0] in ("pick", "place"))
        self.report = (
            f"Instruction: {self.instruction!r}. I took {len(self.decisions)} decisions ({primitives} picks and places). "
            + " ".join(f"{e}." for e in self.events)
            + f" Tools put away: {zones}. The gripper is {'holding a tool' if holding else 'empty'}."
            + f" On the bench I now see {', '.join(seen) if seen else 'no tools'}."
        )
        return self.report

    def summary(self) -> dict:
        """The decisions log, latency figures and the final report, as JSON-ready data."""
        times = [d.total_ms for d in self.decisions]
        return {
            "instruction": self.instruction,
            "backend": getattr(self.backend, "name", type(self.backend).__name__),
            "decisions": [asdict(d) for d in self.decisions],
            "latency_ms": {"mean": float(np.mean(times)) if times else None, "p95": float(np.percentile(times, 95)) if times else None},
            "asked": any(d.action.startswith("ask") for d in self.decisions),
            "report": self.report,
        }


def _disc_box(view: View, xy: np.ndarray, radius: float, bench_z: float) -> tuple[float, float, float, float]:
    """Pixel box (x0, y0, x1, y1) around a disc on the bench, from its projected rim."""
    angles = np.linspace(0.0, 2 * math.pi, 8, endpoint=False)
    rim = np.stack([xy[0] + radius * np.cos(angles), xy[1] + radius * np.sin(angles), np.full(8, bench_z)], axis=1)
    pixels = project(view, rim)
    return (*pixels.min(0), *pixels.max(0))


def _overlap(box: tuple, other: tuple) -> bool:
    return box[0] <= other[2] and other[0] <= box[2] and box[1] <= other[3] and other[1] <= box[3]


def _pick(estimate: ToolEstimate, attempt: int = 0) -> Pick:
    """The Pick at a fitted tool's catalog grasp region.

    Odd retries assume the fit had the tool the wrong way round (ends are what a partial mask gets wrong);
    later ones slide along the region as the oracle's retries do.
    """
    pose = estimate.flipped() if attempt % 2 else estimate
    grasp = build_geometry(estimate.category, estimate.size).grasp
    slide = GRASP_SLIDES[(attempt // 2) % len(GRASP_SLIDES)]
    point, yaw = region_grasp(pose.position, pose.rotation, grasp, slide)
    return Pick((float(point[0]), float(point[1]), float(point[2]), float(yaw)), finger_width(grasp))


def _retry_kind(attempt: int) -> str:
    return "taking it the other way round" if attempt % 2 else "sliding along its grasp region"


def _yaw_of(quaternion: np.ndarray) -> float:
    """Yaw of the gripper's x axis from its quaternion (x, y, z, w); it points down, so x lies in the bench plane."""
    rot = quat_to_matrix(quaternion)
    return float(math.atan2(rot[1, 0], rot[0, 0]))


def _where(estimate: ToolEstimate) -> str:
    side = "left" if estimate.xy[1] > 0.05 else "right" if estimate.xy[1] < -0.05 else "middle"
    return f"a {estimate.size} one on the {side}"


def _describe_step(step: Step) -> str:
    if step.verb in ("answer", "ask"):
        return f"{step.verb} {step.text!r}"
    what = f"every {describe(replace(step.target, every=False))}" if step.every else f"the {describe(step.target)}"
    return f"{step.verb} {what}" + (f" to the {step.destination}" if step.destination else "")


def _describe(action: HighLevelAction) -> str:
    if isinstance(action, (Pick, Place)):
        x, y, z, yaw = action.pose
        return f"{type(action).__name__.lower()} at ({x:.3f}, {y:.3f}, {z:.3f}) yaw {math.degrees(yaw):.0f}"
    if isinstance(action, (Answer, Ask)):
        return f"{type(action).__name__.lower()}: {action.text}"
    return "done"


def make_vlm_planner(observation_space: spaces.Space, backend: str | Backend = "native", config: PlannerConfig = PlannerConfig(),
                     **backend_options: Any) -> VLMPlanner:
    """A VLM planner for envs with this observation space; it never sees the env itself.

    `backend` is a `Backend` or a name for `policies.backends.make_backend` ("native", "hf", "openai").
    """
    check_observation_space(observation_space, config.camera)
    if isinstance(backend, str):
        from workbench_gym.policies.backends import make_backend

        backend = make_backend(backend, **backend_options)
    elif not isinstance(backend, Backend):
        raise ValueError(f"backend must be a Backend or a backend name, got {type(backend).__name__}")
    return VLMPlanner(backend, config)
