"""Synthetic datasets at scale: kill -9 mid-run then resume, and a run fanned out on a local Ray."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from synth_helpers import CLI_ARGS, CONFIG, tree_bytes

from workbench_gym.synth_data.generate import generate
from workbench_gym.synth_data.storage import Manifest, corrupt_shards


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    out = tmp_path_factory.mktemp("synth") / "ref"
    generate(CONFIG, out, progress=False)
    return tree_bytes(out)


def _generate_cmd(out) -> list[str]:
    return [sys.executable, "-m", "workbench_gym.cli", "generate", *CLI_ARGS, "--out", str(out), "--quiet"]


def _finished_shards(out) -> int:
    try:
        return len(json.loads((out / "manifest.json").read_text())["shards"])
    except (FileNotFoundError, json.JSONDecodeError):
        return 0


def test_kill_9_mid_run_then_resume_gives_the_same_dataset(reference, tmp_path):
    out = tmp_path / "ds"
    child = subprocess.Popen(_generate_cmd(out), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while _finished_shards(out) < 2 and child.poll() is None and time.monotonic() < deadline:
        time.sleep(0.01)
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    manifest = Manifest.load(out)
    assert not manifest.complete and 2 <= len(manifest.shards) < CONFIG.n_shards, "the kill must land mid-run"
    assert corrupt_shards(out, manifest) == {}  # every shard the manifest calls finished is whole
    assert not (out / "annotations").exists()

    done = subprocess.run(_generate_cmd(out), capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert tree_bytes(out) == reference


def test_local_ray_run_gives_the_same_dataset(reference, tmp_path):
    ray = pytest.importorskip("ray")
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    try:
        generate(CONFIG, tmp_path / "ds", ray_address="local", progress=False)
    finally:
        ray.shutdown()
    assert tree_bytes(tmp_path / "ds") == reference
