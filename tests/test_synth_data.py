"""Synthetic datasets: COCO masks, referring expressions, VQA, reader, HF loading, determinism, bad input."""

import fcntl
import json
import re
import shutil

import numpy as np
import pytest
from synth_helpers import CONFIG, tree_bytes

from workbench_gym.cli import main
from workbench_gym.language.grammar import nouns, resolve, robot_leftness, things_of
from workbench_gym.scenes.catalog import CATALOG
from workbench_gym.scenes.spec import SceneSpec
from workbench_gym.synth_data import open_dataset
from workbench_gym.synth_data.annotate import annotate_scene
from workbench_gym.synth_data.generate import generate
from workbench_gym.synth_data.randomize import SynthConfig, settled_scene
from workbench_gym.synth_data.renderer import PyBulletRenderer, Renderer, make_renderer
from workbench_gym.synth_data.storage import DatasetError, image_file, image_id


@pytest.fixture(scope="module")
def dataset_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("synth") / "ds"
    generate(CONFIG, out, progress=False)
    return out


@pytest.fixture(scope="module")
def records(dataset_dir):
    return list(open_dataset(dataset_dir))


def test_reader_splits_by_scene(dataset_dir, records):
    ds = open_dataset(dataset_dir)
    assert len(ds) == len(records) == CONFIG.scenes * (2 + CONFIG.orbit_views + CONFIG.wrist_views)
    test = list(ds.split("test"))
    assert {r.scene_index for r in test} == {9}  # holdout_every=10 keeps scene 9 out of training
    assert {r.scene_index for r in ds.split("train")} == set(range(9))
    r = records[0]
    assert r.rgb.shape == (64, 64, 3) and r.depth.shape == (64, 64) and r.segmentation.shape == (64, 64)
    bench = r.segmentation == 1
    assert 0.3 < float(np.median(r.depth[bench])) < 3.0  # metres from the camera to the bench top
    assert r.intrinsics.shape == (3, 3) and r.extrinsics.shape == (4, 4) and r.caption.startswith("A ")
    with pytest.raises(ValueError, match="unknown split 'val'"):
        ds.split("val")


def test_coco_loads_and_masks_match_instance_maps(dataset_dir, records):
    from pycocotools.coco import COCO

    by_id = {r.image_id: r for r in records}
    for split in ("train", "test"):
        coco = COCO(str(dataset_dir / "annotations" / f"coco_{split}.json"))
        assert min(coco.getCatIds()) == 1 and len(coco.getCatIds()) == len(CATALOG)
        for coco_id in coco.getImgIds():
            record = by_id[coco_id]
            anns = coco.loadAnns(coco.getAnnIds(imgIds=coco_id))
            assert {a["instance_id"] for a in anns} == {int(i) for i in np.unique(record.segmentation) if i >= 3}
            for ann in anns:
                mask = coco.annToMask(ann).astype(bool)
                np.testing.assert_array_equal(mask, record.segmentation == ann["instance_id"])
                x, y, w, h = ann["bbox"]
                assert ann["area"] == mask.sum() > 0 and w > 0 and h > 0
                rows, cols = np.nonzero(mask)
                assert (x, y, x + w - 1, y + h - 1) == (cols.min(), rows.min(), cols.max(), rows.max())
                assert coco.loadCats(ann["category_id"])[0]["name"] == record.object(ann["instance_id"]).category


def test_settled_spec_rerenders_to_the_stored_instance_map(records):
    """The spec written back after settling is the scene: rendering it again gives the stored map."""
    record = records[1]
    renderer = PyBulletRenderer()
    try:
        frames = renderer.render(record.spec)
    finally:
        renderer.close()
    same = frames[record.camera].segmentation == record.segmentation
    assert same.mean() > 0.995  # poses went through Euler angles and back: a few edge pixels may flip


NOUNS: dict[str, set[str]] = {}
for _category in CATALOG:
    for _noun in nouns(_category):
        NOUNS.setdefault(_noun, set()).add(_category)


def _attribute_matches(text: str, spec: SceneSpec) -> list[str] | None:
    """Independent reading of "the [size] [colour] <noun>" (None for other forms); a longer noun wins ("wood screw")."""
    names = "|".join(sorted(map(re.escape, NOUNS), key=len, reverse=True))
    m = re.fullmatch(rf"the (?:(small|medium|large) )?()({names})", text) or re.fullmatch(rf"the (?:(small|medium|large) )?(?:(\w+) )?({names})", text)
    if m is None or (m[2] and m[2] not in ("red", "blue", "yellow", "green", "orange", "black", "grey", "silver", "brass", "wood")):
        return None
    return [o.name for o in spec.objects if o.category in NOUNS[m[3]] and m[1] in (None, o.size) and (m[2] or None) in (None, o.colour)]


def test_referring_expressions_pick_out_exactly_one_visible_object(records):
    kinds = {"attribute": 0, "superlative": 0, "spatial": 0, "relation": 0}
    for record in records:
        spec = record.spec
        things = things_of(spec, robot_leftness(spec))
        visible = {o.name for o in record.objects if o.area >= CONFIG.min_visible_pixels}
        for e in record.expressions:
            assert e.name in visible and record.object(e.instance_id).name == e.name
            assert [t.name for t in resolve(e.text, things, 0.03)] == [e.name], e.text
            names = _attribute_matches(e.text, spec)
            if names is not None:
                assert names == [e.name], e.text
                kinds["attribute"] += 1
            elif " left of " in e.text or " right of " in e.text:
                kinds["relation"] += 1
            elif re.match(r"the (leftmost|rightmost|middle) ", e.text):
                kinds["spatial"] += 1
            elif re.match(r"the (largest|smallest) ", e.text):
                kinds["superlative"] += 1
    assert all(n > 0 for n in kinds.values()), kinds


def test_left_of_means_the_robots_left(records):
    """"X left of the Y": X lies more than 3 cm further along +y (the robot's left) than Y."""
    checked = 0
    for record in records:
        spec = record.spec
        y = {o.name: o.pose.position[1] for o in spec.objects}
        for e in record.expressions:
            m = re.fullmatch(r"the .+ (left|right) of the (.+)", e.text)
            if m:
                anchor = [o.name for o in spec.objects if CATALOG[o.category].display == m[2]]
                assert len(anchor) == 1
                gap = y[e.name] - y[anchor[0]]
                assert (gap > 0.03) if m[1] == "left" else (gap < -0.03), e.text
                checked += 1
    assert checked > 0


def test_vqa_answers_follow_from_the_spec(records):
    from workbench_gym.language.vocabulary import plural, vocabulary

    FAMILY_NAMES = vocabulary().family_words
    PLURALS = {f: plural(w) for f, w in FAMILY_NAMES.items()}
    kinds = set()
    for record in records:
        spec = record.spec
        families = [CATALOG[t.category].family for t in spec.tools]
        for qa in record.vqa:
            kinds.add(qa.kind)
            if qa.kind == "count":
                family = next(f for f, p in PLURALS.items() if f" {p} " in f" {qa.question} ")
                assert qa.answer == str(families.count(family)), qa
            elif qa.kind == "exists":
                family = next(f for f, n in FAMILY_NAMES.items() if f" {n} " in qa.question)
                assert qa.answer == ("yes" if family in families else "no"), qa
            elif qa.kind == "colour":
                family = next(f for f, n in FAMILY_NAMES.items() if f" {n}?" in qa.question)
                assert families.count(family) == 1 and qa.answer == spec.tools[families.index(family)].colour, qa
            else:
                a, b = re.fullmatch(r"is the (.+) left of the (.+)\?", qa.question).groups()
                ya, yb = (next(o.pose.position[1] for o in spec.objects if CATALOG[o.category].display == d) for d in (a, b))
                assert qa.answer == ("yes" if ya > yb else "no"), qa
    assert kinds == {"count", "exists", "colour", "spatial"}


def test_same_seed_same_dataset_whatever_the_worker_count(dataset_dir, tmp_path):
    other = tmp_path / "ds"
    generate(CONFIG, other, workers=2, progress=False)
    assert tree_bytes(other) == tree_bytes(dataset_dir)
    again = tmp_path / "ds2"
    generate(SynthConfig(**{**CONFIG.to_dict(), "seed": 6}), again, progress=False)
    assert tree_bytes(again)["data/train-00000.parquet"] != tree_bytes(dataset_dir)["data/train-00000.parquet"]


def test_hf_datasets_loads_the_shards(dataset_dir, tmp_path):
    from datasets import load_dataset

    files = {s: str(dataset_dir / "data" / f"{s}-*.parquet") for s in ("train", "test")}
    hf = load_dataset("parquet", data_files=files, cache_dir=str(tmp_path / "hf"))
    views = 2 + CONFIG.orbit_views + CONFIG.wrist_views
    assert hf["train"].num_rows == 9 * views and hf["test"].num_rows == views
    row = hf["test"][0]
    assert row["scene_index"] == 9 and row["objects"][0]["rle_counts"] and row["expressions"]


def test_manifest_and_card_describe_the_dataset(dataset_dir):
    manifest = json.loads((dataset_dir / "manifest.json").read_text())
    assert manifest["complete"] and len(manifest["shards"]) == 5 and manifest["config"] == CONFIG.to_dict()
    card = (dataset_dir / "README.md").read_text()
    views = 2 + CONFIG.orbit_views + CONFIG.wrist_views
    assert "workbench-gym generate --renderer pybullet --scenes 10" in card and f"| images (train / test) | {9 * views} / {views} |" in card


def test_preview_draws_a_grid(dataset_dir, tmp_path):
    from PIL import Image

    out = tmp_path / "grid.png"
    assert main(["dataset", "preview", str(dataset_dir), "--out", str(out), "--count", "4", "--columns", "2"]) == 0
    grid = np.asarray(Image.open(out))
    assert grid.shape[1] == 512 and grid.shape[0] > 512 and grid.std() > 20


def test_bad_input_gives_clear_errors_and_keeps_finished_shards(dataset_dir, tmp_path, capsys):
    assert main(["generate", "--renderer", "povray", "--scenes", "2", "--out", str(tmp_path / "x")]) == 2
    assert "unknown renderer 'povray'" in capsys.readouterr().err
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    assert main(["generate", "--scenes", "2", "--out", str(blocker / "ds")]) == 2
    assert "not writable" in capsys.readouterr().err
    with pytest.raises(ValueError, match="unknown renderer 'povray'"):
        make_renderer("povray")

    copy = tmp_path / "copy"
    shutil.copytree(dataset_dir, copy)
    with open(copy / ".lock", "a") as held:  # as a second `generate` on the same directory would find it
        fcntl.flock(held, fcntl.LOCK_EX)
        with pytest.raises(DatasetError, match="another `generate` is writing"):
            generate(CONFIG, copy, progress=False)
    with pytest.raises(DatasetError, match=r"another config \(seed: 5 -> 6\)"):
        generate(SynthConfig(**{**CONFIG.to_dict(), "seed": 6}), copy, progress=False)
    shard = copy / "data" / "train-00001.parquet"
    shard.write_bytes(shard.read_bytes()[:-10] + b"0123456789")
    (copy / image_file(image_id(7, 1))).unlink()  # scene 7 is in shard 3
    before = tree_bytes(copy)
    with pytest.raises(DatasetError, match=r"shards \['00001', '00003'\].*train-00001.parquet.*images of scenes 6..7.*--repair"):
        generate(CONFIG, copy, progress=False)
    assert tree_bytes(copy) == before  # nothing deleted or rewritten by the failed resume
    generate(CONFIG, copy, progress=False, repair=True)
    assert tree_bytes(copy) == tree_bytes(dataset_dir)


def test_image_frame_says_left_and_right_as_the_image_shows_them():
    config = SynthConfig(**{**CONFIG.to_dict(), "spatial_frame": "image", "size": 96})
    renderer = PyBulletRenderer()
    try:
        assert isinstance(renderer, Renderer)
        records = [r for i in range(3) for r in annotate_scene(config, i, *settled_scene(config, i, renderer.settle_and_render))]
    finally:
        renderer.close()
    checked = 0
    for record in records:
        spec = record.spec
        centres = {o.name: o.world_bounds().mean(0) for o in spec.objects}
        cam = {n: record.extrinsics[:3, :3] @ c + record.extrinsics[:3, 3] for n, c in centres.items()}
        column = {n: record.intrinsics[0, 0] * c[0] / c[2] + record.intrinsics[0, 2] for n, c in cam.items()}
        for e in record.expressions:
            m = re.fullmatch(r"the .+ (left|right) of the (.+)", e.text)
            if m:
                anchor = next(o.name for o in spec.objects if CATALOG[o.category].display == m[2])
                shift = (column[anchor] - column[e.name]) / record.width  # > 0: the target is further left in the image
                assert (shift > 0.03) if m[1] == "left" else (shift < -0.03), (record.camera, e.text)
                checked += 1
    assert checked > 0
