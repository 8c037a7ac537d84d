import json

import imageio.v3 as iio
import numpy as np
import pytest

from workbench_gym.cli import main


def test_info_lists_envs_and_modes(capsys):
    assert main(["info", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert "workbench_gym/PickTool-v0" in data["envs"]
    assert data["obs_modes"] == ["state", "rgb", "rgbd", "rgbd_seg"]
    assert len(data["tools"]) >= 10


def test_render_writes_the_front_camera(tmp_path):
    out = tmp_path / "frame.png"
    assert main(["render", "--task", "PickTool-v0", "--seed", "0", "--out", str(out), "--width", "96", "--height", "64"]) == 0
    image = iio.imread(out)
    assert image.shape == (64, 96, 3) and image.std() > 10


def test_render_is_reproducible(tmp_path):
    a, b = tmp_path / "a.png", tmp_path / "b.png"
    for path in (a, b):
        main(["render", "--seed", "4", "--out", str(path), "--width", "64", "--height", "64"])
    np.testing.assert_array_equal(iio.imread(a), iio.imread(b))


def test_unknown_task_is_a_clear_error(tmp_path, capsys):
    assert main(["render", "--task", "Juggle-v0", "--out", str(tmp_path / "x.png")]) == 2
    assert "unknown task 'Juggle'" in capsys.readouterr().err
    assert not (tmp_path / "x.png").exists()


@pytest.mark.parametrize("suffix", [".mp4", ".gif"])
def test_rollout_writes_video_and_summary(tmp_path, suffix):
    video, summary = tmp_path / f"ep{suffix}", tmp_path / "summary.json"
    assert main(["rollout", "--episodes", "1", "--n-tools", "4", "--video", str(video), "--summary", str(summary), "--quiet"]) == 0
    data = json.loads(summary.read_text())
    assert data["episodes"][0]["steps"] == 200 and data["success_rate"] == 0.0
    frames = iio.imread(video, index=None)
    assert len(frames) == 200 and frames.shape[-1] == 3
