import numpy as np
import pytest

from workbench_gym.scenes import CONTAINERS, TOOLS, build_geometry, get_category

REQUIRED = {
    "adjustable_wrench", "combination_wrench", "phillips_screwdriver", "flathead_screwdriver", "needle_nose_pliers",
    "slip_joint_pliers", "claw_hammer", "tape_measure", "allen_key", "screw", "nut",
}
VARIANTS = [(c, s) for c, cat in {**TOOLS, **CONTAINERS}.items() for s in cat.sizes]


def test_catalog_has_the_workshop_categories_and_containers():
    assert REQUIRED <= set(TOOLS)
    assert {"bin", "parts_tray"} <= set(CONTAINERS)
    for cat in TOOLS.values():
        assert len(cat.sizes) >= 3 and len(cat.colours) >= 2
        lengths = list(cat.sizes.values())
        assert lengths == sorted(lengths) and len(set(lengths)) == len(lengths), cat.name


def test_adjustable_wrench_sizes_are_retail_lengths():
    assert list(TOOLS["adjustable_wrench"].sizes.values()) == [0.15, 0.20, 0.25]


def test_display_name_from_attributes():
    assert get_category("adjustable_wrench").display_name("large", "red") == "large red adjustable wrench"
    with pytest.raises(KeyError, match="unknown category 'spanner'"):
        get_category("spanner")


@pytest.mark.parametrize("category,size", VARIANTS)
def test_geometry_has_real_dimensions_and_plausible_mass(category, size):
    geom = build_geometry(category, size)
    extent = np.ptp(geom.bounds, axis=0)
    nominal = get_category(category).sizes[size]
    # The longest horizontal side is the nominal size, within 25 %.
    assert abs(extent[:2].max() - nominal) / nominal < 0.25, (extent, nominal)
    assert geom.bounds[0, 2] == pytest.approx(0.0, abs=1e-9), "body frame rests on z = 0"
    assert 0.001 < geom.mass < 1.5
    assert all(p.volume > 0 for p in geom.parts)
    if category in TOOLS:
        grasp = geom.grasp
        assert np.all(np.asarray(grasp.center) >= geom.bounds[0] - 1e-9)
        assert np.all(np.asarray(grasp.center) <= geom.bounds[1] + 1e-9)
        assert 0 < grasp.width <= 0.07, "must fit the Panda's 8 cm gripper with room to spare"


def test_tools_are_built_from_recognisable_parts():
    roles = {c: {p.role for p in build_geometry(c, "medium").parts} for c in TOOLS}
    assert {"head", "jaw", "grip"} <= roles["adjustable_wrench"]
    assert {"grip", "pivot", "jaw"} <= roles["needle_nose_pliers"]
    assert sum(p.role == "grip" for p in build_geometry("slip_joint_pliers", "medium").parts) == 2
    assert {"grip", "head", "claw"} <= roles["claw_hammer"]
    assert {"grip", "shaft", "tip"} <= roles["phillips_screwdriver"]
    shapes = {p.shape for c in TOOLS for p in build_geometry(c, "medium").parts}
    assert shapes == {"box", "cylinder", "capsule", "mesh"}


def test_bigger_size_means_heavier_tool():
    for name, cat in TOOLS.items():
        masses = [build_geometry(name, s).mass for s in cat.sizes]
        assert masses == sorted(masses), name


def test_unknown_size_is_rejected():
    with pytest.raises(KeyError, match="unknown size 'huge'"):
        build_geometry("nut", "huge")


#: Retail weights of the sizes we model, in kg (smallest to largest variant), with slack.
REAL_MASS = {
    "adjustable_wrench": (0.08, 0.5), "combination_wrench": (0.04, 0.3), "phillips_screwdriver": (0.03, 0.2),
    "flathead_screwdriver": (0.03, 0.2), "needle_nose_pliers": (0.07, 0.3), "slip_joint_pliers": (0.1, 0.45),
    "claw_hammer": (0.4, 1.0), "tape_measure": (0.08, 0.4), "allen_key": (0.005, 0.09), "screw": (0.001, 0.02),
    "nut": (0.001, 0.02),
}


@pytest.mark.parametrize("category", sorted(REAL_MASS))
def test_masses_are_those_of_real_tools(category):
    lo, hi = REAL_MASS[category]
    for size in TOOLS[category].sizes:
        assert lo <= build_geometry(category, size).mass <= hi, (category, size)
