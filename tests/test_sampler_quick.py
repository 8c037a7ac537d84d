"""The sampler's quick placement test answers as its exact test does, or declines: scenes cannot change."""

import math

import numpy as np
import pytest

from workbench_gym.scenes import sampler
from workbench_gym.scenes.sampler import _ExactTest, _QuickTest, default_containers, sample_clutter
from workbench_gym.scenes.spec import BenchSpec, ObjectSpec, Pose


def test_quick_test_agrees_with_the_exact_test_on_random_candidates():
    bench = BenchSpec()
    scene = sample_clutter(seed=12, n_tools=16, density=0.6)
    walls = [c.footprint() for c in default_containers(bench)] + [np.array([[0.3, -0.1], [0.5, -0.1], [0.5, 0.1], [0.3, 0.1]])]
    exact, quick = _ExactTest(walls), _QuickTest(walls, bench.height + 5e-4)
    for tool in scene.tools:
        exact.add(tool.outline())
        quick.add(tool)
    rng = np.random.default_rng(0)
    bounds = (0.15, -0.6, 0.65, 0.6)
    answers = {True: 0, False: 0, None: 0}
    for i in range(600):
        template = scene.tools[i % len(scene.tools)]
        x, y = rng.uniform(bounds[:2], bounds[2:])
        candidate = ObjectSpec("candidate", template.category, template.size, template.colour,
                               Pose((float(x), float(y), bench.height + 5e-4), (0.0, 0.0, float(rng.uniform(-math.pi, math.pi)))))
        answer = quick.fits(candidate, bounds, exact)
        answers[answer] += 1
        if answer is not None:
            assert answer == exact.fits(candidate.outline(), bounds), candidate
    assert answers[True] > 20 and answers[False] > 200, answers  # both verdicts were exercised


def test_quick_test_declines_a_pose_on_the_edge_of_a_decision():
    bench = BenchSpec()
    exact, quick = _ExactTest([]), _QuickTest([], bench.height + 5e-4)
    tool = ObjectSpec("t", "claw_hammer", "medium", "red", Pose((0.4, 0.0, bench.height + 5e-4)))
    x_max = float(tool.outline().whole[:, 0].max())
    assert quick.fits(tool, (0.0, -1.0, x_max, 1.0), exact) is None  # a corner exactly on the region's edge
    assert quick.fits(tool, (0.0, -1.0, x_max + 0.01, 1.0), exact) is True
    assert quick.fits(tool, (0.0, -1.0, x_max - 0.01, 1.0), exact) is False


@pytest.mark.parametrize("options", [{"n_tools": 20}, {"n_tools": 12, "density": 0.9, "keep_clear": [((0.3, -0.1), (0.5, 0.1))]},
                                     {"n_tools": 8, "category_mix": ["screw", "nut", "allen_key"], "density": 0.8}])
def test_scenes_are_the_same_when_every_pose_goes_to_the_exact_test(monkeypatch, options):
    quick = [sample_clutter(seed, **options).to_json() for seed in range(3)]
    monkeypatch.setattr(sampler._QuickTest, "fits", lambda self, obj, bounds, exact: None)
    assert [sample_clutter(seed, **options).to_json() for seed in range(3)] == quick
