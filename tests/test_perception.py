"""The perception package on hand-built RGB-D frames (known geometry, K and extrinsics; no simulator): back-projection,
the bench plane, a zone fit, and fusing a front view with a second look. Also: it imports nothing from `envs/`."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
from depth_frames import BENCH_Z, FRONT, Box, bar, bin_boxes, catalog_tool, render
from import_names import imported_names

from workbench_gym.policies import perception
from workbench_gym.policies.backend import Region
from workbench_gym.policies.perception import (
    analyse,
    backproject,
    bench_height,
    fit_points,
    fit_zone,
    fuse,
    lift_mask,
    pixel_size,
    project,
    view_bench_height,
    view_points,
)

PERCEPTION_DIR = Path(perception.__file__).parent


def wrist_over(x: float, y: float, height: float = 0.3, size: int = 256):
    """Camera arguments of a wrist camera looking straight down from `height` above (x, y)."""
    return dict(eye=(x, y, BENCH_Z + height), target=(x, y, BENCH_Z), up=(1.0, 0.0, 0.0), fov=70.0, size=size, camera="wrist")


def lifted(view, analysis):
    """Every proposal of a frame as a region lifted above the bench."""
    return [lift_mask(view, p.mask, analysis.bench_z, analysis.points) for p in analysis.proposals]


def analyse_pair(boxes, front_size: int, wrist: dict):
    front, front_owner = render(boxes, size=front_size, camera="front", **FRONT)
    second, second_owner = render(boxes, **wrist)
    fa = analyse(front.rgb, front.depth, front.intrinsics, front.extrinsics)
    sa = analyse(second.rgb, second.depth, second.intrinsics, second.extrinsics, bench_z=fa.bench_z)
    return (front, front_owner, fa), (second, second_owner, sa)


def owners(region, owner_image) -> set[int]:
    return set(np.unique(owner_image[region.rows, region.cols]).tolist())


# --- camera geometry --------------------------------------------------------------------------------------
def test_backprojection_round_trip_and_whole_frame_agree():
    view, owner = render([bar(0, (0.45, 0.05), 0.3, 0.2)], size=128, **FRONT)
    rng = np.random.default_rng(0)
    rows, cols = rng.integers(0, 128, 300), rng.integers(0, 128, 300)
    points = view_points(view, rows, cols)
    assert np.allclose(project(view, points), np.stack([cols, rows], 1), atol=1e-4)  # float32 calibration
    whole = backproject(view.depth, view.intrinsics, view.extrinsics, dtype=np.float32)
    assert whole.shape == (128, 128, 3) and whole.dtype == np.float32
    assert np.allclose(whole[rows, cols], points, atol=1e-4)
    # Bench pixels land on the bench plane, bar pixels on the bar's top or sides, to the micrometre.
    bench = owner[rows, cols] == -1
    assert np.abs(points[bench, 2] - BENCH_Z).max() < 1e-5
    assert np.all((points[~bench, 2] > BENCH_Z - 1e-5) & (points[~bench, 2] < BENCH_Z + 0.01 + 1e-5))


def test_sight_tells_hidden_from_seen_and_seen_past():
    """Behind a tall box (from the front camera) a point is hidden; on the open bench it is seen; a point floating
    over the open bench is seen past; one behind the camera is out of frame."""
    view, _ = render([Box((0.6, 0.0), 0.0, (0.02, 0.1), BENCH_Z, BENCH_Z + 0.1, (30, 160, 40), 0)], size=256, **FRONT)
    points = np.array([[0.5, 0.0, BENCH_Z], [0.45, 0.3, BENCH_Z], [0.45, 0.3, BENCH_Z + 0.02], [3.0, 0.0, BENCH_Z]])
    seen = perception.sight(view, points, gap=0.005)
    assert seen.in_frame.tolist() == [True, True, True, False]
    assert seen.hidden.tolist() == [True, False, False, False] and seen.through.tolist() == [False, False, True, False]
    assert seen.rows[3] == seen.cols[3] == -1


def test_standing_at_tells_a_tool_from_the_bare_bench_and_from_a_hidden_spot():
    """On a bar lying on the bench the front view sees something lying; beside it, the bare bench; behind a tall box
    (something in the line of sight, away from the point), behind the camera, or under a hand hovering above the bench
    (from overhead), it cannot tell."""
    boxes = [bar(1, (0.45, 0.2), 0.0, 0.2), Box((0.6, 0.0), 0.0, (0.02, 0.1), BENCH_Z, BENCH_Z + 0.1, (30, 160, 40), 0)]
    view, _ = render(boxes, size=256, **FRONT)
    points = np.array([[0.45, 0.2, BENCH_Z], [0.50, 0.2, BENCH_Z], [0.45, -0.25, BENCH_Z], [0.5, 0.0, BENCH_Z], [3.0, 0.0, BENCH_Z]])
    assert perception.standing_at(view, points, BENCH_Z).tolist() == [1, 1, 0, -1, -1]
    hovering = Box((0.45, -0.25), 0.0, (0.03, 0.03), BENCH_Z + 0.08, BENCH_Z + 0.12, (250, 250, 250), 2)  # a hand above the bench
    view, _ = render([hovering], size=256, eye=(0.45, 0.0, 1.6), target=(0.45, 0.0, 0.75), up=(1.0, 0.0, 0.0), camera="overhead")
    assert perception.standing_at(view, points[2:3], BENCH_Z).tolist() == [-1]  # not something lying there


def test_a_decimated_view_lifts_its_pixels_to_the_same_points():
    view, _ = render([bar(0, (0.45, 0.05), 0.3, 0.2)], **wrist_over(0.45, 0.0, size=128))
    half = perception.decimate(view, 2)
    assert half.depth.shape == (64, 64) and half.rgb.shape == (64, 64, 3)
    rows, cols = np.mgrid[0:64:7, 0:64:5]
    assert np.allclose(view_points(half, rows.ravel(), cols.ravel()), view_points(view, 2 * rows.ravel(), 2 * cols.ravel()), atol=1e-6)
    with pytest.raises(ValueError, match="decimation factor 0"):
        perception.decimate(view, 0)


def test_a_view_without_depth_is_refused_by_name():
    view, _ = render([], size=32, **FRONT)
    with pytest.raises(ValueError, match="'front' has no depth"):
        view_points(type(view)(view.rgb, None, view.intrinsics, view.extrinsics, "front"), np.array([0]), np.array([0]))


def test_pixel_area_on_the_bench_adds_up_to_the_footprint():
    """A bar's top, seen from the front and from above at two resolutions, covers its footprint in m²."""
    boxes = [bar(0, (0.45, 0.0), 0.2, 0.2, width=0.04)]
    for kwargs in (dict(size=192, **FRONT), dict(size=384, **FRONT), wrist_over(0.45, 0.0, size=128), wrist_over(0.45, 0.0, size=256)):
        view, owner = render(boxes, **kwargs)
        top = (owner == 0) & (np.abs(backproject(view.depth, view.intrinsics, view.extrinsics)[..., 2] - BENCH_Z - 0.01) < 1e-6)
        area = perception.bench_area(view.depth, view.intrinsics, view.extrinsics)[top].sum()
        assert area == pytest.approx(0.2 * 0.04, rel=0.08), kwargs


# --- the bench plane --------------------------------------------------------------------------------------
@pytest.mark.parametrize("camera", ["front", "overhead"])
def test_bench_plane_is_found_under_clutter(camera):
    rng = np.random.default_rng(1)
    clutter = [bar(i, (rng.uniform(0.3, 0.6), rng.uniform(-0.3, 0.3)), rng.uniform(0, math.pi), rng.uniform(0.1, 0.3),
                   width=0.05, height=rng.uniform(0.005, 0.05)) for i in range(12)]
    clutter += bin_boxes(20, (0.6, 0.3), 0.2, (0.3, 0.2), 0.084)
    kwargs = FRONT if camera == "front" else dict(eye=(0.5, 0.0, 1.85), target=(0.5, 0.0, BENCH_Z), up=(1.0, 0.0, 0.0), fov=60.0)
    view, owner = render(clutter, size=192, **kwargs)
    assert (owner >= 0).mean() > 0.1  # a fair share of the frame is not bench
    assert view_bench_height(view) == pytest.approx(BENCH_Z, abs=5e-4)
    whole = backproject(view.depth, view.intrinsics, view.extrinsics, dtype=np.float32)
    assert bench_height(whole[..., 2]) == pytest.approx(BENCH_Z, abs=5e-4)


def test_bench_plane_needs_finite_heights():
    with pytest.raises(ValueError, match="no finite heights"):
        bench_height(np.full((8, 8), np.nan))


# --- fitting a zone ---------------------------------------------------------------------------------------
def test_a_bin_is_fitted_as_its_inner_floor():
    outer, yaw, centre = (0.30, 0.20), 0.4, (0.55, 0.25)
    view, owner = render(bin_boxes(0, centre, yaw, outer, 0.084), size=256, **FRONT)
    zone = fit_zone(view, Region((0, 0, 1, 1), 1.0, owner == 0), view_bench_height(view), "left bin")
    assert np.allclose(zone.center, centre, atol=0.005)
    assert abs((zone.yaw - yaw + math.pi / 2) % math.pi - math.pi / 2) < math.radians(3)
    assert np.allclose(zone.half, np.array(outer) / 2 - 0.006, atol=0.006)
    assert zone.rim_z == pytest.approx(BENCH_Z + 0.084, abs=0.002) and zone.contains((*centre, BENCH_Z + 0.01))
    assert not zone.contains((centre[0] + 0.2, centre[1], BENCH_Z + 0.01))


# --- fusing two views -------------------------------------------------------------------------------------
def test_two_touching_tools_of_one_colour_are_split_by_the_second_view():
    """5 mm apart across the front camera's line of sight: the front sees one region, the wrist camera two."""
    tools = [bar(0, (0.465, 0.0), math.pi / 2, 0.2), bar(1, (0.435, 0.0), math.pi / 2, 0.2)]  # one red
    (front, front_owner, fa), (wrist, wrist_owner, wa) = analyse_pair(tools, 384, wrist_over(0.45, 0.0, size=384))
    front_regions, wrist_regions = lifted(front, fa), lifted(wrist, wa)
    assert [owners(r, front_owner) for r in front_regions] == [{0, 1}]  # merged: the failure fusion mends
    assert sorted(owners(r, wrist_owner) for r in wrist_regions) == [{0}, {1}]
    fused = fuse(front, front_regions, wrist, wrist_regions)
    assert len(fused) == 2
    for tool, obj in zip((0, 1), sorted(fused, key=lambda f: -f.points[:, 0].mean())):
        assert owners(obj.part("front"), front_owner) == {tool} == owners(obj.part("wrist"), wrist_owner)
        assert set(np.unique(front_owner[obj.part("front").mask()])) == {tool}  # the front pixels the tool gets: a mask to ground on
        assert obj.sources == {"front": (0,), "wrist": tuple(i for i, r in enumerate(wrist_regions) if owners(r, wrist_owner) == {tool})}
        assert obj.length == pytest.approx(0.2, abs=0.006) and obj.lengths["front"] == pytest.approx(0.2, abs=0.01)
        assert np.allclose(obj.points[:, :2].mean(0), tools[tool].xy, atol=0.004)


def test_a_tool_half_behind_a_bin_is_measured_whole_from_the_second_view():
    category, size = "phillips_screwdriver", "large"  # 25 cm; the medium is 20 cm, the small 15 cm
    tool = catalog_tool(1, category, size, (0.42, -0.02), math.pi / 2 + 0.1)
    scene = tool + bin_boxes(0, (0.56, -0.14), 0.0, (0.18, 0.2), 0.084)
    (front, front_owner, fa), (wrist, wrist_owner, wa) = analyse_pair(scene, 384, wrist_over(0.42, 0.0, height=0.35, size=256))
    front_regions, wrist_regions = lifted(front, fa), lifted(wrist, wa)
    seen = next(i for i, r in enumerate(front_regions) if owners(r, front_owner) == {1})
    front_estimate = fit_points(front_regions[seen].points, (category,), fa.bench_z, pixel_size(front))
    assert front_estimate.length < 0.7 * 0.25 and front_estimate.size != size  # the front alone measures it short
    obj = next(f for f in fuse(front, front_regions, wrist, wrist_regions) if f.sources.get("front") == (seen,))
    assert owners(obj.part("wrist"), wrist_owner) == {1}
    assert obj.lengths["front"] < 0.7 * 0.25 and obj.length == pytest.approx(0.25, abs=0.01)
    estimate = fit_points(obj.points, (category,), fa.bench_z, pixel_size(wrist))
    assert estimate.size == size and np.allclose(estimate.xy, (0.42, -0.02), atol=0.01) and estimate.fit > 0.9


def test_pieces_of_a_tool_the_front_sees_around_an_obstacle_join_again():
    """A tall box in front of a bar's middle cuts it in two for the front camera; from above it is one bar."""
    scene = [bar(0, (0.45, 0.0), math.pi / 2, 0.24), Box((0.50, 0.0), 0.0, (0.01, 0.025), BENCH_Z, BENCH_Z + 0.08, (30, 160, 40), 1)]
    (front, front_owner, fa), (wrist, wrist_owner, wa) = analyse_pair(scene, 384, wrist_over(0.45, 0.0, height=0.35, size=384))
    front_regions, wrist_regions = lifted(front, fa), lifted(wrist, wa)
    pieces = [i for i, r in enumerate(front_regions) if owners(r, front_owner) == {0}]
    assert len(pieces) == 2
    bars = [f for f in fuse(front, front_regions, wrist, wrist_regions) if owners(f.parts[0], front_owner if f.parts[0].camera == "front" else wrist_owner) == {0}]
    assert len(bars) == 1 and bars[0].sources["front"] == tuple(pieces) and bars[0].length == pytest.approx(0.24, abs=0.006)
    # Where the front camera sees the bench between two pieces instead, they stay two objects.
    scene = [bar(0, (0.45, 0.06), math.pi / 2, 0.1), bar(2, (0.45, -0.06), math.pi / 2, 0.1)]
    (front, front_owner, fa), (wrist, wrist_owner, wa) = analyse_pair(scene, 384, wrist_over(0.45, 0.0, height=0.35, size=384))
    assert len(fuse(front, lifted(front, fa), wrist, lifted(wrist, wa))) == 2


def test_a_small_part_the_front_view_misses_is_found_by_the_second_view():
    """A 12 mm nut covers 2 pixels of a 128x128 front frame (no proposal) and dozens from the wrist camera."""
    scene = [Box((0.40, 0.05), 0.3, (0.006, 0.006), BENCH_Z, BENCH_Z + 0.005, (120, 120, 130), 0), bar(1, (0.45, -0.1), 0.4, 0.15)]
    (front, front_owner, fa), (wrist, wrist_owner, wa) = analyse_pair(scene, 128, wrist_over(0.42, 0.0, height=0.35, size=256))
    front_regions = lifted(front, fa)
    assert (front_owner == 0).sum() <= 3 and all(0 not in owners(r, front_owner) for r in front_regions)
    fused = fuse(front, front_regions, wrist, lifted(wrist, wa))
    nut = [f for f in fused if f.views == ("wrist",)]
    assert len(nut) == 1 and owners(nut[0].parts[0], wrist_owner) == {0}
    assert np.allclose(nut[0].points[:, :2].mean(0), (0.40, 0.05), atol=0.002) and nut[0].length < 0.02
    assert fused[0].views == ("front", "wrist")  # objects the front has come first


def test_fusion_refuses_mixed_up_views():
    view, _ = render([], size=32, **FRONT)
    with pytest.raises(ValueError, match="two different cameras"):
        fuse(view, [], view, [])


# --- layers -----------------------------------------------------------------------------------------------
def test_perception_imports_nothing_from_envs_nor_the_simulator():
    """What a robot measures from its cameras needs no task, no env and no simulator: a View is all it gets."""
    forbidden = ("workbench_gym.envs", "workbench_gym.sim", "pybullet")
    files = sorted(PERCEPTION_DIR.glob("*.py"))
    assert len(files) >= 8
    for path in files:
        names = imported_names(path)
        assert names and not [n for n in names if n.startswith(forbidden)], f"{path.name} imports {names}"
        assert "segmentation" not in path.read_text(), f"{path.name} mentions segmentation"
