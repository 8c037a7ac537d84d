"""Demonstrations: oracle episodes recorded as joint-target trajectories, written as LeRobot and HDF5, read back, replayed."""

import dataclasses
import json

import numpy as np
import pytest

from workbench_gym.cli import main
from workbench_gym.demonstrations import ACTION_NAMES, load_episodes, record_episodes, replay, write_episodes

pytest.importorskip("pyarrow")
h5py = pytest.importorskip("h5py")

ARRAYS = ("actions", "proprio", "objects", "goal", "rewards", "successes", "dones", "final_objects")


@pytest.fixture(scope="module")
def episodes():
    """Two place episodes: each picks a tool and carries it into a bin."""
    return record_episodes("PlaceTool", 2, seed=0, n_tools=3)


def assert_same(a, b):
    for key in ARRAYS:
        np.testing.assert_array_equal(getattr(a, key), getattr(b, key), err_msg=key)
    assert (a.task, a.seed, a.instruction, a.fps, a.env_options) == (b.task, b.seed, b.instruction, b.fps, b.env_options)


def test_recorded_trajectories_are_joint_targets_per_physics_step(episodes):
    for ep in episodes:
        n = len(ep)
        assert ep.success and ep.fps == 150.0
        assert ep.actions.shape == (n, len(ACTION_NAMES)) and ep.proprio.shape == (n, 26) and ep.objects.shape == (n, 3, 8)
        assert ep.dones.sum() == 1 and ep.dones[-1] and ep.rewards[-1] == 0.0 and np.all(ep.rewards <= 0)
        # The last move ends once the joints have settled on their targets.
        assert np.abs(ep.actions[-1, :7] - ep.proprio[-1, :7]).max() < 0.02
    place = episodes[0]
    assist = place.actions[:, 8]
    grasped, released = np.flatnonzero(np.diff(assist) > 0)[0], np.flatnonzero(np.diff(assist) < 0)[0]
    assert grasped < released and place.actions[grasped + 1, 7] < 0.01, "the fingers are closed when the grasp assist starts"
    assert place.actions[released + 1:, 7].max() == pytest.approx(0.08), "the fingers open on release"


@pytest.mark.parametrize("fmt", ["lerobot", "hdf5"])
def test_write_read_replay_reaches_the_same_end_state(episodes, tmp_path, fmt):
    path = write_episodes(episodes, tmp_path / fmt, fmt)
    loaded = load_episodes(path)
    assert len(loaded) == 2
    for original, back in zip(episodes, loaded):
        assert_same(original, back)
    assert_same(load_episodes(path, [1])[0], episodes[1])
    for episode in loaded:
        result = replay(episode)
        assert result.success
        np.testing.assert_allclose(result.final_objects, episode.final_objects, atol=1e-4)
        assert result.episode_return == pytest.approx(float(episode.rewards.sum()), abs=1e-3)


def test_lerobot_v30_layout_is_what_lerobot_reads(episodes, tmp_path):
    """The default is LeRobot's current format, v3.0: fps an integer, float32 actions, meta in parquet."""
    import pandas as pd
    import pyarrow.parquet as pq

    root = write_episodes(episodes, tmp_path / "ds", "lerobot")
    info = json.loads((root / "meta/info.json").read_text())
    assert info["codebase_version"] == "v3.0" and info["fps"] == 150 and isinstance(info["fps"], int)
    assert info["total_episodes"] == 2 and info["total_frames"] == sum(len(e) for e in episodes)
    assert info["features"]["action"] == {"dtype": "float32", "shape": [len(ACTION_NAMES)], "names": list(ACTION_NAMES)}
    assert info["data_path"] == "data/chunk-{chunk_index:03d}/file-{file_index:03d}.parquet"
    tasks = pd.read_parquet(root / "meta/tasks.parquet")
    assert list(tasks.index) == [e.instruction for e in episodes] and tasks.loc[episodes[1].instruction].task_index == 1
    rows = pd.read_parquet(root / "meta/episodes/chunk-000/file-000.parquet")
    assert list(rows["length"]) == [len(e) for e in episodes]
    assert list(rows["dataset_from_index"]) == [0, len(episodes[0])] and rows["dataset_to_index"].iloc[-1] == info["total_frames"]
    assert rows["stats/action/count"].iloc[1][0] == len(episodes[1])
    stats = json.loads((root / "meta/stats.json").read_text())
    assert stats["action"]["count"] == [info["total_frames"]]
    all_actions = np.concatenate([e.actions for e in episodes])
    np.testing.assert_allclose(stats["action"]["mean"], all_actions.mean(0), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(stats["action"]["std"], all_actions.std(0), rtol=1e-4, atol=1e-6)
    table = pq.read_table(root / info["data_path"].format(chunk_index=0, file_index=0))
    assert set(table.column_names) == set(info["features"])
    action = table.schema.field("action").type
    assert action.list_size == len(ACTION_NAMES) and str(action.value_type) == "float"
    assert table.column("index").to_pylist() == list(range(info["total_frames"]))
    assert table.column("episode_index").to_pylist() == [0] * len(episodes[0]) + [1] * len(episodes[1])
    datasets = pytest.importorskip("datasets")
    ds = datasets.load_dataset("parquet", data_files=str(root / "data/chunk-000/*.parquet"), split="train", cache_dir=str(tmp_path / "hf"))
    assert len(ds) == info["total_frames"] and len(ds[0]["action"]) == len(ACTION_NAMES)


def test_lerobot_v21_on_request(episodes, tmp_path):
    root = write_episodes(episodes, tmp_path / "ds", "lerobot", version="v2.1")
    info = json.loads((root / "meta/info.json").read_text())
    assert info["codebase_version"] == "v2.1" and info["fps"] == 150 and isinstance(info["fps"], int)
    assert info["features"]["action"]["dtype"] == "float32"
    tasks = [json.loads(line) for line in (root / "meta/tasks.jsonl").read_text().splitlines()]
    assert [t["task"] for t in tasks] == [e.instruction for e in episodes]
    stats = [json.loads(line) for line in (root / "meta/episodes_stats.jsonl").read_text().splitlines()]
    assert stats[1]["stats"]["action"]["count"] == [len(episodes[1])]
    import pyarrow.parquet as pq

    table = pq.read_table(root / info["data_path"].format(episode_chunk=0, episode_index=1))
    assert table.column("index").to_pylist()[0] == len(episodes[0]), "the global frame index runs on across episodes"
    for original, back in zip(episodes, load_episodes(root)):
        assert_same(original, back)
    with pytest.raises(ValueError, match="v1.6"):
        write_episodes(episodes, tmp_path / "old", "lerobot", version="v1.6")


def test_hdf5_layout_is_robomimic_style(episodes, tmp_path):
    path = write_episodes(episodes, tmp_path / "h", "hdf5")
    with h5py.File(path) as f:
        env_args = json.loads(f["data"].attrs["env_args"])
        assert env_args["env_name"] == "workbench_gym/PlaceTool-v0" and env_args["env_kwargs"]["control_mode"] == "joint_target"
        demo = f["data/demo_1"]
        assert demo.attrs["num_samples"] == len(episodes[1]) == len(demo["actions"]) == len(demo["obs/proprio"])
        assert set(demo) >= {"obs", "actions", "rewards", "dones"} and set(demo["obs"]) == {"proprio", "objects", "goal"}


def test_hdf5_has_next_obs_and_robomimic_filter_keys(episodes, tmp_path):
    path = write_episodes(episodes, tmp_path / "h", "hdf5")
    with h5py.File(path) as f:
        for i, episode in enumerate(episodes):
            demo = f[f"data/demo_{i}"]
            assert set(demo["next_obs"]) == set(demo["obs"])
            np.testing.assert_array_equal(demo["next_obs/proprio"][:-1], demo["obs/proprio"][1:])
            np.testing.assert_array_equal(demo["next_obs/objects"][-1], episode.final_objects)
            assert not np.array_equal(demo["next_obs/proprio"][-1], demo["obs/proprio"][-1]), "the last next_obs is the end state"
        assert [n.decode() for n in f["mask/train"]] == ["demo_0", "demo_1"] and len(f["mask/valid"]) == 0


def test_robomimic_sequence_dataset_reads_our_hdf5(episodes, tmp_path):
    """robomimic's own loader with its defaults (load_next_obs=True) and its train filter key."""
    try:
        import robomimic.utils.obs_utils as obs_utils
        from robomimic.utils.dataset import SequenceDataset
    except Exception as err:  # robomimic 0.3.0 pins torchvision; install it with --no-deps (see Makefile)
        pytest.skip(f"robomimic does not import here ({type(err).__name__}: {err})")
    path = write_episodes(episodes, tmp_path / "h", "hdf5")
    obs_utils.initialize_obs_utils_with_obs_specs({"obs": {"low_dim": ["proprio", "objects", "goal"], "rgb": []}})
    dataset = SequenceDataset(str(path), obs_keys=("proprio", "objects", "goal"), dataset_keys=("actions", "rewards", "dones"),
                              seq_length=10, pad_seq_length=True, hdf5_cache_mode=None, filter_by_attribute="train")
    try:
        assert len(dataset) == sum(len(e) for e in episodes)
        item = dataset[5]
        assert item["obs"]["proprio"].shape == (10, 26) and item["actions"].shape == (10, len(ACTION_NAMES))
        np.testing.assert_array_equal(item["next_obs"]["proprio"][0], episodes[0].proprio[6])
    finally:
        dataset.close_and_delete_hdf5_handle()


def test_lerobot_dataset_reads_our_v30(episodes, tmp_path):
    """LeRobot's own `LeRobotDataset` on our default output (lerobot 0.4.4 is the newest for Python 3.11)."""
    try:
        from lerobot.datasets.lerobot_dataset import LeRobotDataset
    except Exception as err:  # lerobot pins torch<2.11 and a torchvision whose ops fail to load beside torch 2.13
        pytest.skip(f"lerobot does not import here ({type(err).__name__}: {err})")
    root = write_episodes(episodes, tmp_path / "ds", "lerobot")
    dataset = LeRobotDataset("local/workbench", root=root, delta_timestamps={"action": [0.0, 1 / 150]})
    assert len(dataset) == sum(len(e) for e in episodes) and dataset.num_episodes == 2 and dataset.fps == 150
    item = dataset[len(episodes[0]) + 3]
    assert item["task"] == episodes[1].instruction and int(item["episode_index"]) == 1
    np.testing.assert_allclose(item["action"][0].numpy(), episodes[1].actions[3].astype(np.float32))


@pytest.mark.parametrize("fmt", ["lerobot", "hdf5"])
def test_a_dataset_holds_one_task(episodes, tmp_path, fmt):
    other = record_episodes("PickTool", 1, seed=0, n_tools=3)
    with pytest.raises(ValueError, match="one task"):
        write_episodes([episodes[0], *other], tmp_path / fmt, fmt)
    assert not (tmp_path / fmt).exists(), "nothing is written"


def test_camera_frames_as_lerobot_video_and_hdf5_images(tmp_path):
    episode = record_episodes("PickTool", 1, seed=2, n_tools=2, camera="front", image_size=(32, 32))[0]
    assert episode.images.shape == (len(episode), 32, 32, 3) and episode.images.dtype == np.uint8
    assert np.abs(episode.images[-1].astype(int) - episode.images[0]).mean() > 1, "the arm moved in view"
    root = write_episodes([episode], tmp_path / "ds", "lerobot")
    info = json.loads((root / "meta/info.json").read_text())
    feature = info["features"]["observation.images.front"]
    assert feature["dtype"] == "video" and feature["shape"] == [32, 32, 3] and feature["info"]["video.fps"] == 150
    assert (root / "videos/observation.images.front/chunk-000/file-000.mp4").exists()
    video = load_episodes(root)[0].images
    assert video.shape == episode.images.shape
    assert np.abs(video.astype(int) - episode.images).mean() < 12, "H.264 (with 4:2:0 chroma) is lossy, but close"
    exact = load_episodes(write_episodes([episode], tmp_path / "h", "hdf5"))[0]
    np.testing.assert_array_equal(exact.images, episode.images)
    assert exact.camera == "front"


def test_replay_refuses_an_episode_that_starts_elsewhere(episodes):
    with pytest.raises(ValueError, match="starts .* away"):
        replay(dataclasses.replace(episodes[0], seed=episodes[0].seed + 5))


def test_record_cli_writes_and_never_overwrites(tmp_path, capsys):
    out = tmp_path / "demos"
    argv = ["record", "--task", "PickTool-v0", "--episodes", "1", "--n-tools", "2", "--format", "hdf5", "--out", str(out), "--quiet"]
    assert main(argv) == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["episodes"] == 1 and summary["success_rate"] == 1.0 and summary["frames"] > 100
    before = (out / "demo.hdf5").read_bytes()
    assert main(argv) == 2
    assert "not an empty directory" in capsys.readouterr().err
    assert (out / "demo.hdf5").read_bytes() == before
    with pytest.raises(ValueError, match="holds no recorded episodes"):
        load_episodes(tmp_path)
