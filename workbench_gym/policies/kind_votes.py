"""What family each tool on the bench was read as, decision after decision: a move-every step's memory of kinds.

A tool the arm half hides, or that lies against another, can be read as another family in one frame (an adjustable
wrench as pliers) when earlier frames read it right. The front and overhead cameras do not move, so each decision's
reading is kept as a map of family labels per pixel; a tool is looked up in every map at the pixels along its axis,
each camera votes for the family most of its maps read, and a step moving one family leaves out a tool that more
cameras read as another family.
"""

from __future__ import annotations

from collections import Counter

import numpy as np

from workbench_gym.policies.backend import Region, View
from workbench_gym.policies.perception import ToolEstimate, project
from workbench_gym.scenes.catalog import TOOLS, get_category

FAMILIES = tuple(dict.fromkeys(c.family for c in TOOLS.values()))
ALONG = np.linspace(-0.6, 0.6, 5)  # points along a tool's axis, in half-lengths, where its label is read


class KindVotes:
    """Per camera, one label map per decision that read the view: 0 where no tool region is, else 1 + family index."""

    def __init__(self) -> None:
        self.cameras: dict[str, View] = {}  # the first view of each camera: its calibration, to project tools into
        self.maps: dict[str, list[np.ndarray]] = {}

    def add(self, view: View, regions: list[Region]) -> None:
        """Keep a view's reading: every region the backend labels a catalog tool, with a mask (smaller ones on top)."""
        labels = np.zeros(view.rgb.shape[:2], np.uint8)
        tools = [r for r in regions if r.label in TOOLS and r.mask is not None]
        for region in sorted(tools, key=lambda r: -int(np.count_nonzero(r.mask))):
            labels[np.asarray(region.mask, bool)] = 1 + FAMILIES.index(get_category(region.label).family)
        self.cameras.setdefault(view.camera, view)
        self.maps.setdefault(view.camera, []).append(labels)

    def votes(self, estimate: ToolEstimate, bench_z: float) -> Counter:
        """One vote per camera for the family most of its kept maps read the tool as (none on a tie): a fixed camera's
        readings of one tool share its viewpoint, and so its mistakes. A map reads the family most of the tool's axis
        points lie in."""
        axis = estimate.rotation[:2, 0] * estimate.length / 2
        points = np.array([[*(estimate.centre + t * axis), bench_z] for t in ALONG])
        out: Counter = Counter()
        for camera, maps in self.maps.items():
            pixels = project(self.cameras[camera], points)  # the camera does not move: one projection serves all its maps
            height, width = maps[0].shape
            inside = [(int(r), int(c)) for c, r in pixels if 0 <= r < height and 0 <= c < width]
            seen: Counter = Counter()
            for labels in maps:
                found = Counter(int(labels[r, c]) for r, c in inside if labels[r, c])
                if found:
                    seen[FAMILIES[found.most_common(1)[0][0] - 1]] += 1
            ranked = seen.most_common(2)
            if ranked and (len(ranked) == 1 or ranked[0][1] > ranked[1][1]):
                out[ranked[0][0]] += 1
        return out

    def read_as_other(self, estimate: ToolEstimate, family: str, bench_z: float) -> bool:
        """Whether more cameras read the tool as some other family than as `family`."""
        votes = self.votes(estimate, bench_z)
        return max((n for f, n in votes.items() if f != family), default=0) > votes[family]
