"""No silent wrong data (issue 16, item 15): flipped bytes in a shard raise an error naming the shard, and a damaged
or lost manifest.json is rebuilt by `generate --repair` from the shards that verify, losing nothing already written."""

import json
import shutil

import pytest
from synth_helpers import CONFIG, tree_bytes

from workbench_gym.synth_data import open_dataset
from workbench_gym.synth_data.generate import generate
from workbench_gym.synth_data.randomize import SynthConfig
from workbench_gym.synth_data.storage import MANIFEST, DatasetError, image_file, image_id


@pytest.fixture(scope="module")
def dataset_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("integrity") / "ds"
    generate(CONFIG, out, progress=False)
    return out


def _flip(path, count=16, at=0.5):
    data = bytearray(path.read_bytes())
    start = int(len(data) * at)
    for i in range(start, start + count):
        data[i] ^= 0xFF
    path.write_bytes(bytes(data))


def test_flipped_bytes_in_a_shard_raise_naming_the_shard(dataset_dir, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(dataset_dir, copy)
    _flip(copy / "data" / "train-00002.parquet")
    dataset = open_dataset(copy)  # opening reads nothing unverified, so it stays instant
    assert len(dataset) == len(open_dataset(dataset_dir))
    assert dataset[0].image_id == image_id(0, 0)  # shards before the damaged one read as before
    with pytest.raises(DatasetError, match=r"train-00002\.parquet does not match its sha256 in manifest\.json.*--repair.*verify=False"):
        list(dataset)
    with pytest.raises(DatasetError, match=r"train-00002\.parquet"):
        dataset.split("train")[4 * CONFIG.views_per_scene]  # scene 4 is the first of shard 2
    assert len(list(open_dataset(dataset_dir))) == len(dataset)  # the original still reads whole


def test_a_shard_that_disappeared_names_itself(dataset_dir, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(dataset_dir, copy)
    (copy / "data" / "test-00004.parquet").unlink()
    with pytest.raises(DatasetError, match=r"cannot read shard file data/test-00004\.parquet"):
        list(open_dataset(copy).split("test"))


@pytest.mark.parametrize("damage", ["truncated", "not json", "empty", "wrong shape", "deleted"])
def test_damaged_manifest_is_rebuilt_from_the_shards_that_verify(dataset_dir, tmp_path, damage):
    copy = tmp_path / "copy"
    shutil.copytree(dataset_dir, copy)
    manifest = copy / MANIFEST
    text = manifest.read_text()
    if damage == "deleted":
        manifest.unlink()
    else:
        manifest.write_text({"truncated": text[: len(text) // 2], "not json": "\x00\xff garbage", "empty": "",
                             "wrong shape": json.dumps({**json.loads(text), "shards": [1, 2]})}[damage])
    (copy / image_file(image_id(7, 1))).unlink()  # scene 7: shard 3 no longer verifies
    _flip(copy / "data" / "train-00001.parquet")  # nor does shard 1
    before = tree_bytes(copy)
    with pytest.raises(DatasetError, match=r"--repair"):
        generate(CONFIG, copy, progress=False)
    assert tree_bytes(copy) == before  # the failed resume changed nothing

    kept = {rel: (copy / rel).stat().st_mtime_ns for rel in before if rel.startswith(("data/train-00000", "data/train-00002", "images/000004"))}
    assert len(kept) == 2 + CONFIG.views_per_scene
    generate(CONFIG, copy, progress=False, repair=True)
    after = tree_bytes(copy)
    set_aside = [rel for rel in after if rel.startswith(f"{MANIFEST}.damaged-")]
    assert len(set_aside) == (damage != "deleted")  # the damaged manifest is kept, not lost
    if set_aside:
        assert after.pop(set_aside[0]) == before[MANIFEST]
    assert after == tree_bytes(dataset_dir)  # byte-identical to a clean run
    assert all((copy / rel).stat().st_mtime_ns == mtime for rel, mtime in kept.items())  # verified shards were not rewritten


def test_repair_with_other_options_refuses_to_render_over_the_shards(dataset_dir, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(dataset_dir, copy)
    (copy / MANIFEST).write_text("{")
    before = tree_bytes(copy)
    other = SynthConfig(**{**CONFIG.to_dict(), "seed": 6})
    with pytest.raises(DatasetError, match=r"made with another config \(seed: 5 here, 6 asked\)"):
        generate(other, copy, progress=False, repair=True)
    assert tree_bytes(copy) == before
