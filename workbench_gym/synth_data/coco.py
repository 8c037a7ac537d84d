"""COCO instance-segmentation JSON, one file per split, built from a dataset's finished shards.

Images point at `images/{image_id}.png`; masks are compressed RLE; category ids start at 1 (0 is
background). Each annotation also carries the object's attributes (`size`, `colour`, ...) and each image
its camera, K and world->camera pose, extras that `pycocotools.COCO` ignores.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pyarrow.parquet as pq

from workbench_gym.scenes.catalog import CATALOG
from workbench_gym.synth_data.records import CATEGORY_IDS
from workbench_gym.synth_data.storage import SPLITS, Manifest, image_file, write_atomic

CATEGORY_NAMES = {i: name for name, i in CATEGORY_IDS.items()}
_COLUMNS = ["image_id", "scene_index", "camera", "width", "height", "intrinsics", "extrinsics", "objects", "expressions", "vqa"]


def categories() -> list[dict]:
    return [{"id": i, "name": name, "supercategory": CATALOG[name].family} for name, i in CATEGORY_IDS.items()]


def coco_split(rows: list[dict]) -> dict:
    """The COCO dict of some shard rows (sorted by image id here, so shard order does not matter)."""
    images, annotations = [], []
    for row in sorted(rows, key=lambda r: r["image_id"]):
        images.append({
            "id": row["image_id"], "file_name": image_file(row["image_id"]), "width": row["width"], "height": row["height"],
            "scene_index": row["scene_index"], "camera": row["camera"], "intrinsics": row["intrinsics"], "extrinsics": row["extrinsics"],
        })
        for o in row["objects"]:
            annotations.append({
                "id": len(annotations) + 1, "image_id": row["image_id"], "category_id": o["category_id"], "bbox": o["bbox"],
                "area": o["area"], "iscrowd": 0, "segmentation": {"size": [row["height"], row["width"]], "counts": o["rle_counts"]},
                "instance_id": o["instance_id"], "name": o["name"], "size": o["size"], "colour": o["colour"],
                "display_name": o["display_name"], "is_container": o["is_container"],
            })
    return {"info": {"description": "workbench-gym synthetic workbench scenes"}, "images": images, "annotations": annotations, "categories": categories()}


def write_coco(root: Path, manifest: Manifest) -> dict:
    """Write `annotations/coco_{split}.json` for each split; return dataset counts for the card and manifest."""
    counts: dict = {"scenes": 0, "images": {}, "objects": 0, "expressions": 0, "vqa": 0, "categories": Counter()}
    for split in SPLITS:
        files = [rel for rel in manifest.data_files() if rel.startswith(f"data/{split}-")]
        rows = [row for rel in files for row in pq.read_table(root / rel, columns=_COLUMNS).to_pylist()]
        coco = coco_split(rows)
        write_atomic(root / "annotations" / f"coco_{split}.json", json.dumps(coco, separators=(",", ":")).encode())
        counts["images"][split] = len(rows)
        counts["scenes"] += len({r["scene_index"] for r in rows})
        counts["objects"] += len(coco["annotations"])
        counts["expressions"] += sum(len(r["expressions"]) for r in rows)
        counts["vqa"] += sum(len(r["vqa"]) for r in rows)
        counts["categories"].update(CATEGORY_NAMES[a["category_id"]] for a in coco["annotations"])
    counts["categories"] = dict(sorted(counts["categories"].items()))
    return counts
