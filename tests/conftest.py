"""Shared fixtures: small, seeded scenes and worlds so tests stay fast on 2 cores."""

import pytest

from workbench_gym.scenes import sample_clutter
from workbench_gym.sim import World


@pytest.fixture(scope="module")
def spec12():
    return sample_clutter(seed=3, n_tools=12)


@pytest.fixture
def world12(spec12):
    world = World()
    world.build(spec12)
    yield world
    world.close()


@pytest.fixture(scope="module")
def torch_one_thread():
    """Tiny models run fastest on one thread, and two threads stall badly when the cores are shared."""
    torch = pytest.importorskip("torch")
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)
