"""What the planner reads of the bench: grounded phrases, candidate tools fitted in 3D, the one a reference means, zones.

It sees camera views only (`observation_view` refuses privileged state). A decision starts with `look`, which takes
the front view and, when the env renders it, the wrist camera's. Candidates come from the backend's regions of the
front view fitted to catalog tools; when the choice is close (no candidate, a size or order word to measure, a rival
near the best score, a tool partly hidden) the reader takes a **second look**: it grounds the same phrase in the wrist
view at half resolution and fuses both views' regions in the bench frame (`perception.fuse`), which splits a front
region that merged two touching same-colour tools, measures a tool from the view that sees it whole, and adds small
parts only the closer view resolves. Before a move-every step is called done, the reader looks at the whole bench
from the **overhead** camera (`bench_check`): a screw beside a bigger tool or a tool behind a bin that the front view
missed is found there. The same view is the **overhead check** of a single pick: a choice made by score is checked
against the tools it sees whole before the grasp (another that the words fit makes it a question), and a choice by
length or place compares each tool as the view that sees more of it measures it (`measured_from_above`).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import Any

import numpy as np
from gymnasium import spaces

from workbench_gym.language.expressions import describe
from workbench_gym.language.task import HANDOVER, PARTS_TRAY, UNLISTED, ToolReference
from workbench_gym.language.vocabulary import categories_of, category_noun, family_category, plural, vocabulary
from workbench_gym.policies.ambiguity import family_rivals
from workbench_gym.policies.backend import Backend, Region, View
from workbench_gym.policies.perception import (
    FusedRegion,
    ToolEstimate,
    decimate,
    fit_points,
    fit_tool,
    fit_zone,
    fuse,
    lift_region,
    pixel_size,
    project,
    resting_tops,
    sight,
    size_misfit,
    standing_at,
    view_bench_height,
)
from workbench_gym.policies.perception.regions import OCCLUSION_GAP, occluded
from workbench_gym.policies.steps import SLOT_QUESTIONS, grounding_phrase, known, measured, spatial, superlative
from workbench_gym.scenes.catalog import CONTAINERS, TOOLS, get_category
from workbench_gym.scenes.zones import Zone, handover_zone

#: Env options the planner needs: the front camera with depth, and the wrist camera for the second look. At 384x384 a
#: nut spans about 9 pixels in the front view; the native model, trained on 256x256 frames, reads these as they are
#: (crops are resampled, sizes are in metres).
ENV_OPTIONS = {"obs_mode": "rgbd", "cameras": ("front", "wrist", "overhead"), "image_size": (384, 384)}
CAMERA_KEYS = ("rgb", "depth", "intrinsics", "extrinsics")  # all a planner may read of a camera
PRIVILEGED_KEYS = ("objects", "goal")  # state-mode observation keys: simulator poses and goals
SECOND_CAMERA = "wrist"
FINAL_CAMERA = "overhead"  # the look before Done: the whole bench from above, nothing hidden behind a bin or beside a tool

Candidate = tuple[ToolEstimate, float]  # a fitted tool and the backend's score for the phrase


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
    second_look: bool = True  # fuse the wrist camera's view with the front one when the choice is close
    close_ratio: float = 0.75  # a rival scoring this share of the best candidate's score makes the choice close
    second_look_scale: int = 2  # the wrist view is read at 1/scale resolution (it still resolves 2 mm at half size)
    final_look: bool = True  # before a move-every step is done, look for tools left on the bench from overhead
    overhead_check: bool = True  # check a choice against the overhead view before grasping, and measure with it
    remember: bool = True  # a move-every step is not done while a tool it saw, unmoved, may still lie where it was
    kind_votes: bool = True  # a sort's step leaves out a tool that more cameras read as another family


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


class SceneReader:
    """Grounds, fits, resolves and finds zones on the views of one decision; per-episode caches (bench, zones) kept."""

    def __init__(self, backend: Backend, config: PlannerConfig):
        self.backend = backend
        self.config = config
        self.reset()

    def reset(self) -> None:
        self.bench_z: float | None = None
        self.zones: dict[str, Zone] = {}
        self.view: View | None = None
        self.second: View | None = None
        self._observation: dict[str, Any] = {}
        self.backend_s = 0.0
        self.inputs: dict = {}
        self._grounded: dict[tuple[str, str], list[Region]] = {}
        self._pixels: dict[str, float] = {}  # camera -> pixel width on the bench, this decision
        self.tied: list[ToolEstimate] = []  # the tools the last `resolve` could not choose between (what a question asks about)

    def look(self, observation: dict[str, Any]) -> View:
        """Take a decision's views: the planner's camera, and the wrist camera when the env renders it."""
        self.view = observation_view(observation, self.config.camera)
        self._observation = observation  # the overhead view is read from it only for a look before Done
        cameras = observation.get("cameras", {})
        self.second = None
        if self.config.second_look and SECOND_CAMERA != self.config.camera and SECOND_CAMERA in cameras:
            self.second = decimate(observation_view(observation, SECOND_CAMERA), self.config.second_look_scale)
        self.backend_s, self._grounded, self._pixels = 0.0, {}, {}
        if self.bench_z is None:  # the bench does not move: fit its plane once per episode
            self.bench_z = view_bench_height(self.view)
        return self.view

    def _pixel(self, view: View) -> float:
        """A view's `pixel_size`, once per camera and decision (a median over the whole frame: each fit needs it)."""
        if view.camera not in self._pixels:
            self._pixels[view.camera] = pixel_size(view)
        return self._pixels[view.camera]

    def timed(self, fn, *args):
        """Call a backend (or reader) function, adding its time to the decision's backend time."""
        start = time.perf_counter()
        try:
            return fn(*args)
        finally:
            self.backend_s += time.perf_counter() - start

    def ground(self, phrase: str, view: View | None = None) -> list[Region]:
        view = view or self.view
        key = (view.camera, phrase)
        if key not in self._grounded:
            self._grounded[key] = self.timed(self.backend.ground, view, phrase)
        return self._grounded[key]

    # --- candidates -----------------------------------------------------------------------------------
    def candidates(self, ref: ToolReference, all_candidates: bool = False, near: tuple[np.ndarray, float] | None = None,
                   second_look: bool = False) -> list[Candidate]:
        """Tools on the bench (not in the gripper) that fit the reference, fitted in 3D, best score first.

        `near` = (world xy, radius) fits only regions whose box reaches that disc: a check on one tool need not fit
        every other. With `second_look`, a close choice (`close`) is read again with the wrist view fused in.
        """
        query = grounding_phrase(ref)
        regions = self._regions(self.view, ref, all_candidates, near)
        fitted = self._fitted(regions, ref)
        out = [c for c in fitted if c is not None]
        record = {"regions": len(self.ground(query)), "candidates": len(out), "scores": [round(float(r.score), 3) for r in self.ground(query)[:3]]}
        if second_look and self.second is not None and self.close(ref, out) and self._in_second_view(out):
            fused = self._second_look(ref, regions, fitted)
            if fused is not None:
                record["second_look"] = {"front": len(out), "fused": len(fused)}
                out = fused
        self.inputs.setdefault("grounded", {})[query] = record
        return sorted(out, key=lambda c: -c[1])

    def close(self, ref: ToolReference, candidates: list[Candidate]) -> bool:
        """Whether a choice among candidates is close enough to look again: none found, lengths or places to compare, a
        rival scoring near the best, or a best candidate partly hidden or poorly fitted."""
        if not candidates or measured(ref):  # lengths or places to compare: every tool counts
            return True
        ranked = sorted(candidates, key=lambda c: -c[1])
        best = ranked[0]
        if best[0].occluded or best[0].fit < self.config.min_fit:
            return True
        return len(ranked) > 1 and ranked[1][1] >= self.config.close_ratio * best[1]

    def _regions(self, view: View, ref: ToolReference, all_candidates: bool, near) -> list[Region]:
        """The backend's regions of a view for the reference's phrase that may be a tool it means."""
        categories = categories_of(ref.category) or tuple(TOOLS)
        families = _families(categories)
        window = _disc_box(view, near[0], near[1], self.bench_z) if near is not None else None
        out = []
        for region in self.ground(grounding_phrase(ref), view):
            if region.score < self.config.min_score and not all_candidates:
                continue
            if window is not None and not _overlap(region.box, window):
                continue
            if region.label and region.label not in categories and get_category(region.label).family not in families:
                continue  # another kind of thing; a sibling label (flathead for Phillips) defers to the phrase's score
            out.append(region)
        return out

    def _fit_as(self, ref: ToolReference, label: str) -> tuple[str, ...]:
        """The kinds to fit a region as: what the backend recognised (a sibling of the named kind stays itself, so
        measuring compares tools of the kind named), else every kind the reference allows."""
        return (label,) if label in TOOLS else categories_of(ref.category) or tuple(TOOLS)

    def _fitted(self, regions: list[Region], ref: ToolReference) -> list[Candidate | None]:
        """Each region fitted to a catalog tool on the bench, in order; None for one too small or in the gripper."""
        out = []
        for region in regions:
            estimate = fit_tool(self.view, region, self._fit_as(ref, region.label), self.bench_z, self._pixel(self.view))
            out.append((estimate, float(region.score)) if estimate is not None and estimate.top <= self.config.held_height else None)
        return out

    def _in_second_view(self, candidates: list[Candidate]) -> bool:
        """Whether the wrist view can add anything: it sees one of the candidates (or there is none to see yet)."""
        if not candidates:
            return True
        centres = np.array([[*c[0].centre, self.bench_z] for c in candidates])
        return bool(sight(self.second, centres, OCCLUSION_GAP).in_frame.any())

    def _second_look(self, ref: ToolReference, front_regions: list[Region], fitted: list[Candidate | None]) -> list[Candidate] | None:
        """Candidates of the front and wrist views fused in the bench frame; None when the wrist sees none of them.
        An object only the front view has, from one region, keeps its front fit (`fitted`, in region order)."""
        second_regions = self._regions(self.second, ref, False, None)
        if not second_regions:
            return None
        lifted = [lift_region(self.view, r, self.bench_z) for r in front_regions]
        lifted_second = [lift_region(self.second, r, self.bench_z) for r in second_regions]
        objects = fuse(self.view, lifted, self.second, lifted_second)
        if not any(SECOND_CAMERA in obj.sources for obj in objects):
            return None
        pixel = {self.view.camera: self._pixel(self.view), SECOND_CAMERA: self._pixel(self.second)}
        views = ((self.view.camera, front_regions), (SECOND_CAMERA, second_regions))
        out = []
        for obj in objects:
            only = obj.sources.get(self.view.camera, ())
            if SECOND_CAMERA not in obj.sources and len(only) == 1:
                if fitted[only[0]] is not None:
                    out.append(fitted[only[0]])
                continue
            seen_by = [own for own in ([listed[i] for i in obj.sources.get(cam, ())] for cam, listed in views) if own]
            label = max((r for own in seen_by for r in own), key=lambda r: r.score).label
            score = float(np.mean([max(float(r.score) for r in own) for own in seen_by]))  # each view that sees it is one piece of evidence
            measured_by = max(obj.views, key=lambda v: obj.lengths.get(v, 0.0))  # the view that sees more of it sets the pixel grid
            estimate = fit_points(obj.points, self._fit_as(ref, label), self.bench_z, pixel[measured_by], self._hidden(obj, front_regions))
            if estimate is not None and estimate.top <= self.config.held_height:
                out.append((estimate, score))
        return out

    def _hidden(self, obj: FusedRegion, front_regions: list[Region]) -> bool:
        """Whether part of the object may be out of both views' sight: the front view sees it bordered by something
        nearer, and the wrist view either misses it or sees it cut by its image edge."""
        front = obj.sources.get(self.view.camera, ())
        hidden_front = any(front_regions[i].mask is not None and occluded(self.view, np.asarray(front_regions[i].mask, bool), self.bench_z) for i in front)
        if not hidden_front:
            return False
        wrist = obj.part(SECOND_CAMERA)
        if wrist is None:
            return True
        seen = sight(self.second, obj.points, OCCLUSION_GAP)
        return not seen.in_frame.all()

    def bench_check(self, ref: ToolReference, all_candidates: bool = False, record: str = "final_look") -> list[Candidate]:
        """Tools on the bench that fit the reference as the overhead camera sees them, fitted from that view alone, best
        score first: the look before a move-every step is called done, and the overhead check (logged under `record`).
        [] when the env does not render that camera."""
        view = self.overhead_view()  # full resolution: a screw spans ~10 pixels from above
        if view is None:
            return []
        out = []
        for region in self._regions(view, ref, all_candidates, None):
            estimate = fit_tool(view, region, self._fit_as(ref, region.label), self.bench_z, self._pixel(view))
            if estimate is not None and estimate.top <= self.config.held_height:
                out.append((estimate, float(region.score)))
        self.inputs.setdefault(record, {})[grounding_phrase(ref)] = {"camera": FINAL_CAMERA, "candidates": len(out)}
        return sorted(out, key=lambda c: -c[1])

    def seen_from_above(self, ref: ToolReference) -> list[Candidate]:
        """Tools of the kind named that the overhead view sees whole and the phrase fits confidently: what a choice
        made from the front view is checked against before a grasp commits to it."""
        kinds = categories_of(ref.category)
        return [c for c in self.bench_check(ref, record="overhead_check")
                if c[0].category in kinds and c[1] >= self.config.confident and c[0].fit >= self.config.min_fit and not c[0].fragment]

    def measured_from_above(self, ref: ToolReference, candidates: list[Candidate]) -> list[Candidate]:
        """Candidates to compare by length or place, each as the overhead view measures it where that view sees more
        of the tool, and the tools only that view finds added."""
        above = [c for c in self.bench_check(ref, record="overhead_check") if c[0].fit >= self.config.min_fit and not c[0].fragment]
        out, used = [], set()
        for c in candidates:
            gaps = {i: float(np.linalg.norm(a[0].centre - c[0].centre)) for i, a in enumerate(above) if i not in used}
            i = min(gaps, key=gaps.get, default=None)
            seen = above[i][0] if i is not None and gaps[i] < self.config.nudge else None
            if seen is not None:
                used.add(i)
            # Views only shorten a tool by hiding part of it: the longer of two measures of one kind is the truer.
            longer = seen is not None and seen.category == c[0].category and seen.length > c[0].length
            out.append((seen, max(c[1], above[i][1])) if longer else c)
        return out + [a for i, a in enumerate(above) if i not in used]

    def tally(self) -> list[str]:
        """What tools the view shows, by family: ["2 wrenches", "1 screwdriver"] (for the report)."""
        seen = []
        for family, noun in vocabulary().family_words.items():
            kinds = tuple(n for n, c in TOOLS.items() if c.family == family)
            count = len([c for c in self.candidates(ToolReference(family_category(family))) if c[0].category in kinds])
            if count:
                seen.append(f"{count} {plural(noun) if count > 1 else noun}")
        return seen

    # --- resolving --------------------------------------------------------------------------------------
    def resolve(self, ref: ToolReference, candidates: list[Candidate]) -> tuple[Candidate | None, str]:
        """The one candidate the reference means, with why; (None, question naming the slot) when the planner should ask."""
        text, noun = describe(ref), category_noun(ref.category) or "tool"
        most, place = superlative(ref), spatial(ref)
        self.tied = []
        if ref.category == UNLISTED:
            return None, "I don't know that tool: it is not in my catalog. Which tool do you mean (category)?"
        if not known(ref):
            return None, SLOT_QUESTIONS["category"]
        if not candidates:
            return None, f"I can't see a {text}. Which tool do you mean (category, colour)?"
        # A region the catalog shape hardly covers is two tools run together or a sliver: measure only the rest.
        candidates = [c for c in candidates if c[0].fit >= self.config.min_fit] or candidates
        if ref.size or most or place:  # chosen by measuring, not by score: measure the kind named (a sibling only scored)
            kinds = categories_of(ref.category)
            candidates = [c for c in candidates if c[0].category in kinds] or candidates
            candidates = [c for c in candidates if not c[0].fragment] or candidates  # a piece of a tool has no length or place of its own
        # Tools of one kind compare by the length measured (where only the length fits the size, a near-miss in it flips
        # the order; below, kinds also sized by their top's height go by the fitted size first); tools of several kinds
        # by the catalog size each was fitted to.
        one_kind = len({c[0].category for c in candidates}) == 1
        if ref.size and not (most or place):
            # The size word is the disambiguator, and no question is needed: the words already said which. Among tools
            # of one kind, those fitted to that size first (length and, for most kinds, the height of the top say it);
            # then "large" is the longest, "small" the shortest of those not partly hidden (a hidden end only makes a
            # tool look short), "medium" the one whose length speaks least against the catalog's (seen longer is strong
            # evidence, seen shorter weak); across kinds, relative to each kind's catalog length.
            relative = {"large": lambda e: (one_kind and e.size != ref.size, -e.length / (1.0 if one_kind else e.model_length)),
                        "small": lambda e: (one_kind and e.size != ref.size, e.truncated, e.length / (1.0 if one_kind else e.model_length))}.get(
                ref.size, lambda e: (e.size != ref.size, size_misfit(e, ref.size)) if one_kind else (e.occluded, e.size != ref.size, size_misfit(e, ref.size)))
            best = min(candidates, key=lambda c: relative(c[0]))
            if best[0].size == ref.size or len(candidates) == 1 or one_kind or best[1] >= self.config.confident:
                return best, f"the {ref.size} one of {len(candidates)} {noun} candidates (measured {best[0].length:.3f} m)"
        if most or place:
            # Where the height of a tool's top sizes its kind too (`tool_fit.resting_tops`), the fitted size is no longer a
            # guess from the length alone: tools of that kind compare by it first, then by the length measured.
            sized = one_kind and resting_tops(candidates[0][0].category) is not None
            key = {
                "largest": lambda c: (-c[0].nominal if sized else 0.0, -c[0].length) if one_kind else -c[0].nominal - 0.01 * c[0].length,
                "smallest": lambda c: (c[0].nominal if sized else 0.0, c[0].length) if one_kind else c[0].nominal + 0.01 * c[0].length,
                "leftmost": lambda c: -c[0].xy[1],  # the robot's left is +y
                "rightmost": lambda c: c[0].xy[1],
            }.get(most or place)
            if place == "nearest_tray":
                tray = self.zone(PARTS_TRAY)
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
        rivals = [c for c in candidates[1:] if c[1] >= best[1] * self.config.tie_ratio] or \
            family_rivals(ref, candidates, self.config.confident, self.config.min_fit)
        if not rivals and best[0].fit < self.config.min_fit:  # every region fits poorly: the best may be two tools run together
            self.tied = [best[0]]
            return None, f"The {text} I see may be two run together. Which one do you mean (size or place)?"
        if rivals:
            self.tied = [c[0] for c in (best, *rivals)]
            slot = "size" if len({e.size for e in self.tied[:3]}) > 1 else "place"
            return None, tie_question(text, self.tied, slot)
        return best, f"best match for the {text} (score {best[1]:.2f}, {best[0].size} {get_category(best[0].category).display})"

    # --- zones ------------------------------------------------------------------------------------------
    def zone(self, destination: str) -> Zone | None:
        """The container or area a destination names, fitted once per episode (containers are fixed to the bench)."""
        if destination not in self.zones:
            if destination == HANDOVER:
                self.zones[destination] = handover_zone(self.bench_z)
            else:
                regions = [r for r in self.ground(destination) if r.score >= self.config.min_score and (not r.label or r.label in CONTAINERS)]
                # Best scored first; a container another destination was fitted to is not this one (the arm may hide
                # the one meant, so that "the middle bin" scores best on a neighbour).
                fitted = (fit_zone(self.view, r, self.bench_z, destination, tray="tray" in destination) for r in regions)
                zone = next((z for z in fitted if z is not None and not any(_same_place(z, o) for o in self.zones.values())), None)
                if zone is None:
                    return None
                self.zones[destination] = zone
        return self.zones[destination]

    def still_lies(self, ref: ToolReference, estimate: ToolEstimate, seen: int) -> bool:
        """Whether a tool the reference fitted in `seen` earlier decisions may still lie where it was.

        Not when as many views read what lies there now as another kind of tool as decisions read it as this one (a
        tool seen as this kind three times or more is not ruled out this way). Else yes when the front or overhead view
        sees something lying along its long axis (a screw covers one or two of the points), or when neither sees bare
        bench at most of them (the arm may hide the spot from both).
        """
        axis = estimate.rotation[:2, 0] * estimate.length / 2
        points = np.array([[*(estimate.centre + t * axis), self.bench_z] for t in np.linspace(-0.8, 0.8, 5)])
        views = list({v.camera: v for v in (self.view, self.overhead_view()) if v is not None}.values())
        if sum(self._other_kind(view, ref, estimate) for view in views) >= seen:
            return False
        sights = [standing_at(view, points, self.bench_z, height=self.config.held_height) for view in views]
        return any((s == 1).any() for s in sights) or not any((s == 0).sum() > len(points) // 2 for s in sights)

    def overhead_view(self) -> View | None:
        """The overhead camera's view of this decision, or None when the env does not render it."""
        return observation_view(self._observation, FINAL_CAMERA) if FINAL_CAMERA in self._observation.get("cameras", {}) else None

    def _other_kind(self, view: View, ref: ToolReference, estimate: ToolEstimate) -> bool:
        """Whether the tightest region of the reference's grounding around the tool's centre is labelled a tool of
        another family than the reference allows."""
        col, row = project(view, np.array([[*estimate.centre, self.bench_z]]))[0]
        boxes = [r for r in self.ground(grounding_phrase(ref), view) if r.box[0] <= col <= r.box[2] and r.box[1] <= row <= r.box[3]]
        label = min(boxes, key=lambda r: (r.box[2] - r.box[0]) * (r.box[3] - r.box[1])).label if boxes else ""
        return label in TOOLS and get_category(label).family not in _families(categories_of(ref.category) or tuple(TOOLS))


def _families(categories) -> set[str]:
    return {get_category(c).family for c in categories}


def _same_place(zone: Zone, other: Zone) -> bool:
    """Whether two fitted zones are one container: either's centre lies in the other."""
    return zone.contains((*other.center, zone.floor_z)) or other.contains((*zone.center, other.floor_z))


def tie_question(text: str, tied: list[ToolEstimate], slot: str) -> str:
    """The question that asks which of several tools the words mean, naming up to three and the slot that would tell."""
    seen = ", ".join(where(e) for e in tied[:3])
    return f"I see {len(tied)} that fit the {text}: {seen}. Which one do you mean (which {slot})?"


def where(estimate: ToolEstimate) -> str:
    """Where a tool lies, as a person would say it to tell two apart."""
    side = "left" if estimate.xy[1] > 0.05 else "right" if estimate.xy[1] < -0.05 else "middle"
    return f"a {estimate.size} one on the {side}"


def _disc_box(view: View, xy: np.ndarray, radius: float, bench_z: float) -> tuple[float, float, float, float]:
    """Pixel box (x0, y0, x1, y1) around a disc on the bench, from its projected rim."""
    angles = np.linspace(0.0, 2 * math.pi, 8, endpoint=False)
    rim = np.stack([xy[0] + radius * np.cos(angles), xy[1] + radius * np.sin(angles), np.full(8, bench_z)], axis=1)
    pixels = project(view, rim)
    return (*pixels.min(0), *pixels.max(0))


def _overlap(box: tuple, other: tuple) -> bool:
    return box[0] <= other[2] and other[0] <= box[2] and box[1] <= other[3] and other[1] <= box[3]
