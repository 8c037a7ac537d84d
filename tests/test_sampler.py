import pytest

from workbench_gym.scenes import MAX_TOOLS, TOOLS, BenchSpec, SceneSpecError, sample_clutter
from workbench_gym.scenes.spec import validate


@pytest.mark.parametrize("n", [1, 12, MAX_TOOLS])
def test_same_seed_same_spec(n):
    a, b = sample_clutter(7, n), sample_clutter(7, n)
    assert a.to_json() == b.to_json()
    assert len(a.tools) == n


@pytest.mark.parametrize("options", [{"n_tools": 20}, {"n_tools": MAX_TOOLS, "density": 1.0}, {"n_tools": 12, "with_containers": False},
                                     {"n_tools": 10, "keep_clear": [((0.3, -0.1), (0.5, 0.1))], "density": 0.8},
                                     {"n_tools": 16, "category_mix": ["screw", "nut", "allen_key", "slip_joint_pliers"], "density": 0.9},
                                     {"n_tools": 8, "bench": BenchSpec(size=(1.0, 1.6, 0.05), height=0.7), "seen_variants_only": True}])
def test_sampled_scenes_pass_validation(options):
    """The sampler skips `validate` (its scenes are valid by construction): check that they are."""
    for seed in range(25):
        validate(sample_clutter(seed, **options))


def test_a_bad_bench_is_named():
    with pytest.raises(SceneSpecError, match="bench.size"):
        sample_clutter(0, 4, bench=BenchSpec(size=(0.9, -1.0, 0.05)))
    with pytest.raises(SceneSpecError, match="off the bench"):  # too small for the bins
        sample_clutter(0, 4, bench=BenchSpec(size=(0.9, 1.0, 0.05)))


def test_different_seeds_differ():
    assert sample_clutter(1, 12).to_json() != sample_clutter(2, 12).to_json()


def test_category_mix_is_respected():
    spec = sample_clutter(0, 15, category_mix=["screw", "nut"])
    assert {t.category for t in spec.tools} <= {"screw", "nut"}
    spec = sample_clutter(0, 30, category_mix={"claw_hammer": 0.0, "allen_key": 1.0})
    assert {t.category for t in spec.tools} == {"allen_key"}


def test_density_packs_tools_closer():
    def spread(spec):
        xs = [t.pose.position[1] for t in spec.tools]
        return max(xs) - min(xs)

    sparse = sum(spread(sample_clutter(s, 10, density=0.1)) for s in range(5))
    dense = sum(spread(sample_clutter(s, 10, density=0.8)) for s in range(5))
    assert dense < sparse


def test_every_category_appears_over_seeds():
    seen = {t.category for s in range(10) for t in sample_clutter(s, 20).tools}
    assert seen == set(TOOLS)


@pytest.mark.parametrize(
    "kwargs,message",
    [
        ({"n_tools": 0}, "n_tools"),
        ({"n_tools": 41}, "n_tools"),
        ({"density": 0.0}, "density"),
        ({"density": 1.5}, "density"),
        ({"category_mix": ["spanner"]}, "unknown tool categories"),
        ({"category_mix": {"nut": -1.0}}, "non-negative"),
        ({"category_mix": "nut"}, "category_mix must be"),
    ],
)
def test_bad_arguments(kwargs, message):
    with pytest.raises((ValueError, TypeError), match=message):
        sample_clutter(0, **{"n_tools": 5, **kwargs})
