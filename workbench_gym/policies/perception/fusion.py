"""Fusing two views of the bench in the bench frame: one object per thing on the bench, measured from both.

Regions of the first view (the front camera) and of a second look (the wrist or overhead camera) are lifted
to world points; two regions of different views are linked when enough of one's points lie on the other's
surface. Linked regions form a group, and within a group the view that tells more objects apart sets the
partition: a front region that merges two touching same-colour tools is split along the two regions the
second view separates them into, and the other view's points join the nearest object. Pieces that one view
sees of one object around an occluder (a tool behind a taller one, under the arm) stay one object: the other
view's points between them lie behind that occluder. A region only one view has stays an object of its own:
small parts that the front view resolves into a few pixels or misses, which the closer second look finds.

Lengths are measured on the union of an object's points, so a tool half hidden by a bin from the front
measures whole when the second view sees it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.spatial import cKDTree  # scipy comes with trimesh, a core dependency

from workbench_gym.policies.backend import View
from workbench_gym.policies.perception.camera import sight
from workbench_gym.policies.perception.regions import OCCLUSION_GAP, LiftedRegion
from workbench_gym.policies.perception.shapes import extent_along, principal_yaw

LINK_POINTS = 400  # points of a region, evenly thinned, that decide its links and own the other view's points (a bin has thousands)


@dataclass(frozen=True)
class FusionConfig:
    """Thresholds of the fusion, in metres unless named otherwise."""

    link_radius: float = 0.006  # points of two views this close lie on one surface (about two pixel footprints)
    link_share: float = 0.3  # a region links to one of the other view when this share of its points lies that close
    link_points: int = 3  # ... and at least this many
    behind_share: float = 0.5  # share of an object's points that one view misses between its pieces and sees an occluder at
    occlusion_gap: float = OCCLUSION_GAP


@dataclass(frozen=True)
class FusedRegion:
    """One object as the views together see it: what each view saw of it, and its length in the bench plane."""

    parts: tuple[LiftedRegion, ...]  # one per view that sees it; a split region contributes its share only
    sources: dict[str, tuple[int, ...]] = field(default_factory=dict)  # camera -> indices of the input regions used

    @property
    def points(self) -> np.ndarray:
        """(N, 3) world points of every view."""
        return np.concatenate([p.points for p in self.parts])

    @property
    def views(self) -> tuple[str, ...]:
        return tuple(p.camera for p in self.parts)

    def part(self, camera: str) -> LiftedRegion | None:
        """What `camera` saw of the object, if anything."""
        return next((p for p in self.parts if p.camera == camera), None)

    @property
    def axis(self) -> float:
        """Yaw of the object's long axis, from every view's points."""
        xy = self.points[:, :2]
        return principal_yaw(xy) if len(xy) >= 3 else 0.0

    @property
    def length(self) -> float:
        """Extent along the long axis of every view's points together, metres."""
        return extent_along(self.points[:, :2], self.axis)

    @property
    def lengths(self) -> dict[str, float]:
        """Extent along the same axis as each view alone sees it (a view that sees part of the tool measures short)."""
        axis = self.axis
        return {p.camera: extent_along(p.points[:, :2], axis) for p in self.parts}


def fuse(first: View, first_regions: list[LiftedRegion], second: View, second_regions: list[LiftedRegion],
         config: FusionConfig = FusionConfig()) -> list[FusedRegion]:
    """Objects on the bench from the regions of two views, each lifted above the bench (see the module doc).

    Regions without points are left out. Objects come in the order of their first region in `first_regions`,
    then those only the second view has, in its order.
    """
    if first.camera == second.camera:
        raise ValueError(f"fusion needs two different cameras; both views are {first.camera!r}")
    views = (first, second)
    regions = (list(first_regions), list(second_regions))
    for view, listed in zip(views, regions):
        if any(r.camera != view.camera for r in listed):
            raise ValueError(f"regions of cameras {sorted({r.camera for r in listed})} given for the {view.camera!r} view")
    nodes = [(v, i) for v in (0, 1) for i, r in enumerate(regions[v]) if len(r)]
    trees = {n: cKDTree(_thinned(regions[n[0]][n[1]].points)) for n in nodes}
    links = _links(nodes, trees, config)
    out = [obj for group in _groups(nodes, links) for obj in _fuse_group(group, views, regions, trees, links, config)]

    def order(obj: FusedRegion) -> tuple[int, int]:
        own = obj.sources.get(first.camera)
        return (0, min(own)) if own else (1, min(obj.sources[second.camera]))
    return sorted(out, key=order)


def _thinned(points: np.ndarray) -> np.ndarray:
    return points[:: max(1, len(points) // LINK_POINTS)]


def _links(nodes, trees, config: FusionConfig) -> set[tuple]:
    """Pairs (first-view node, second-view node) whose points lie on one surface (see `FusionConfig.link_share`)."""
    firsts, seconds = [n for n in nodes if n[0] == 0], [n for n in nodes if n[0] == 1]
    if not firsts or not seconds:
        return set()
    lo, hi = (np.stack([getattr(trees[n], k) for n in nodes]) for k in ("mins", "maxes"))  # bounding boxes of the thinned points
    first, second = slice(0, len(firsts)), slice(len(firsts), None)
    meet = np.all((lo[first, None] <= hi[None, second] + config.link_radius) & (lo[None, second] <= hi[first, None] + config.link_radius), axis=-1)
    links = set()
    for i, j in zip(*np.nonzero(meet)):
        a, b = firsts[i], seconds[j]
        for this, that in ((a, b), (b, a)):
            near = _near(trees[this].data, trees[that], config.link_radius)
            if near >= config.link_points and near >= config.link_share * trees[this].n:
                links.add((a, b))
                break
    return links


def _near(points: np.ndarray, tree: cKDTree, radius: float) -> int:
    """How many of `points` lie within `radius` of a point of `tree`."""
    distance, _ = tree.query(points, distance_upper_bound=radius)
    return int(np.count_nonzero(np.isfinite(distance)))


def _groups(nodes: list, pairs) -> list[list]:
    """The nodes in connected groups under the pairs (union-find), each group in node order."""
    parent = {n: n for n in nodes}

    def root(n):
        while parent[n] != n:
            parent[n] = parent[parent[n]]
            n = parent[n]
        return n

    for a, b in pairs:
        parent[root(a)] = root(b)
    groups: dict = {}
    for n in nodes:
        groups.setdefault(root(n), []).append(n)
    return list(groups.values())


def _fuse_group(group, views, regions, trees, links, config: FusionConfig) -> list[FusedRegion]:
    """The objects of one linked group: the finer view's regions (fragments rejoined), the other's points shared out."""
    by_view = ([n for n in group if n[0] == 0], [n for n in group if n[0] == 1])
    if not by_view[0] or not by_view[1]:
        return [FusedRegion((regions[v][i],), {views[v].camera: (i,)}) for v, i in group]
    lead = 1 if len(by_view[1]) >= len(by_view[0]) else 0  # the second look is the closer one: it wins a tie
    other = 1 - lead
    objects = _rejoin_fragments(by_view[lead], by_view[other], views[lead], regions, trees, links, config)
    lead_parts = [LiftedRegion.join([regions[lead][i] for _, i in obj]) for obj in objects]
    # Each point of the other view goes to the nearest object in the bench plane.
    owner = np.concatenate([np.full(len(_thinned(p.points)), k) for k, p in enumerate(lead_parts)])
    nearest = cKDTree(np.concatenate([_thinned(p.points)[:, :2] for p in lead_parts]))
    shared = LiftedRegion.join([regions[other][i] for _, i in by_view[other]])
    origin = np.concatenate([np.full(len(regions[other][i]), i) for _, i in by_view[other]])
    assigned = owner[nearest.query(shared.points[:, :2])[1]]
    out = []
    for k, (obj, part) in enumerate(zip(objects, lead_parts)):
        mine = assigned == k
        sources = {views[lead].camera: tuple(i for _, i in obj)}
        parts = [part]
        if mine.any():
            parts.append(shared.subset(mine))
            sources[views[other].camera] = tuple(int(i) for i in np.unique(origin[mine]))
        out.append(FusedRegion(tuple(parts if lead == 0 else parts[::-1]), sources))
    return out


def _rejoin_fragments(lead_nodes, other_nodes, lead_view: View, regions, trees, links, config: FusionConfig) -> list[list]:
    """The lead view's regions grouped into objects: the pieces that one region of the other view links are one
    object when the lead view shows them as one seen around something (`_seen_around`)."""
    lead = lead_nodes[0][0]
    pairs = []
    for o in other_nodes:
        pieces = [n for n in lead_nodes if (n, o) in links or (o, n) in links]
        if len(pieces) >= 2 and _seen_around(lead_view, [regions[lead][i] for _, i in pieces], [trees[n] for n in pieces], trees[o].data, config):
            pairs += [(pieces[0], n) for n in pieces[1:]]
    return _groups(lead_nodes, pairs)


def _seen_around(view: View, pieces: list[LiftedRegion], trees: list[cKDTree], other: np.ndarray, config: FusionConfig) -> bool:
    """Whether a view's pieces are one object that it sees around something: of the other view's points of it
    that no piece accounts for, most of those in this view's image lie behind something that is none of the
    pieces (an occluder, the arm). Pieces all cut by the image's edge are one object too: the view sees too
    little of them to tell. Else the pieces are separate objects, touching or with bench between them."""
    if all(_at_edge(p) for p in pieces):
        return True
    left_out = np.ones(len(other), bool)
    for tree in trees:
        left_out &= ~np.isfinite(tree.query(other, distance_upper_bound=config.link_radius)[0])
    seen = sight(view, other[left_out], config.occlusion_gap)
    owned = np.zeros(pieces[0].shape, bool)
    for p in pieces:
        owned[p.rows, p.cols] = True
    behind = seen.hidden & ~owned[seen.rows, seen.cols]  # rows and cols are -1 out of frame, where hidden is False
    return bool(behind.sum() >= max(config.link_points, config.behind_share * seen.in_frame.sum()))


def _at_edge(region: LiftedRegion) -> bool:
    h, w = region.shape
    return bool(region.rows.min() == 0 or region.cols.min() == 0 or region.rows.max() == h - 1 or region.cols.max() == w - 1)
