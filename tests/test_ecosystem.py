"""What users bring works unmodified: Gymnasium's checker, Hugging Face `datasets`, and shell pipes on our JSON."""

import json
import os
import subprocess
import sys
import warnings

import gymnasium as gym
import pytest

import workbench_gym  # noqa: F401  (registers the envs)
from workbench_gym.envs.config import HeadlessWarning


def test_gymnasium_check_env_passes_headless_with_its_defaults(monkeypatch):
    """check_env tries every declared render mode, "human" included; without a display that runs headless."""
    from gymnasium.utils.env_checker import check_env

    monkeypatch.delenv("DISPLAY", raising=False)
    env = gym.make("workbench_gym/ReachTool-v0", n_tools=2)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            check_env(env.unwrapped)
        assert any(issubclass(w.category, HeadlessWarning) for w in caught)
    finally:
        env.close()
    with pytest.warns(HeadlessWarning, match="DISPLAY"):
        human = gym.make("workbench_gym/ReachTool-v0", render_mode="human", n_tools=2)
    try:
        human.reset(seed=0)
        assert human.render() is None and not human.unwrapped.world.config.gui
    finally:
        human.close()


def test_a_small_dataset_loads_with_load_dataset_and_rgb_is_an_image(tmp_path):
    """Two scenes: every image is in train, so the card must not declare a test split without files."""
    datasets = pytest.importorskip("datasets")
    pytest.importorskip("huggingface_hub")
    from workbench_gym.synth_data.card import project_license
    from workbench_gym.synth_data.generate import generate
    from workbench_gym.synth_data.randomize import SynthConfig

    out = tmp_path / "ds"
    manifest = generate(SynthConfig(scenes=2, seed=1, size=32, scenes_per_shard=2), out, progress=False)
    assert manifest.counts["images"].get("test", 0) == 0
    loaded = datasets.load_dataset(str(out), cache_dir=str(tmp_path / "hf"))  # its cache key is the folder name, not the files
    assert list(loaded) == ["train"] and len(loaded["train"]) == manifest.counts["images"]["train"]
    assert isinstance(loaded["train"].features["rgb"], datasets.Image)
    image = loaded["train"][0]["rgb"]
    assert image.size == (32, 32) and image.mode == "RGB"
    card = (out / "README.md").read_text()
    assert f"license: {project_license()}" in card and "license: mit" not in card
    assert project_license() == "apache-2.0"


def test_json_on_stdout_is_json_alone(tmp_path):
    """`workbench-gym rollout ... | python -m json.tool` works: nothing else (PyBullet's chatter) reaches stdout."""
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    run = subprocess.run([sys.executable, "-m", "workbench_gym.cli", "rollout", "--task", "ReachTool", "--n-tools", "2", "--quiet"],
                         capture_output=True, text=True, env=env, timeout=300)
    assert run.returncode == 0, run.stderr
    summary = json.loads(run.stdout)
    assert summary["task"] == "ReachTool" and summary["planner"] == "random"
