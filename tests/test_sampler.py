import pytest

from workbench_gym.scenes import MAX_TOOLS, TOOLS, sample_clutter


@pytest.mark.parametrize("n", [1, 12, MAX_TOOLS])
def test_same_seed_same_spec(n):
    a, b = sample_clutter(7, n), sample_clutter(7, n)
    assert a.to_json() == b.to_json()
    assert len(a.tools) == n


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
