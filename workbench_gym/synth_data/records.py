"""Typed records of one annotated dataset image, and their encoding as one row of a parquet shard.

A row stores the RGB image as PNG bytes, depth as little-endian float32 metres and the instance map as
little-endian uint16 ids (both exact and raw: parquet's zstd compresses them, faster than PNG would),
masks as COCO RLE, and the settled scene as its `SceneSpec` JSON, so any image can be re-rendered.
"""

from __future__ import annotations

import io
import json
from dataclasses import dataclass, field
from functools import cached_property

import numpy as np
import pyarrow as pa
from PIL import Image
from pycocotools import mask as mask_utils

from workbench_gym.scenes.catalog import CATALOG
from workbench_gym.scenes.spec import SceneSpec

#: COCO category ids: 1.. in catalog order (tools, then containers); 0 stays background.
CATEGORY_IDS: dict[str, int] = {name: i + 1 for i, name in enumerate(CATALOG)}


@dataclass(frozen=True)
class ObjectAnnotation:
    """One visible object in one image. `bbox` is COCO (x, y, width, height) in pixels; `rle` COCO RLE."""

    instance_id: int
    name: str
    category: str
    size: str
    colour: str
    display_name: str
    is_container: bool
    bbox: tuple[float, float, float, float]
    area: int
    rle: dict

    @property
    def category_id(self) -> int:
        return CATEGORY_IDS[self.category]

    @property
    def family(self) -> str:
        return CATALOG[self.category].family

    @property
    def mask(self) -> np.ndarray:
        """(H, W) bool mask decoded from the RLE."""
        return mask_utils.decode({"size": list(self.rle["size"]), "counts": self.rle["counts"].encode()}).astype(bool)


@dataclass(frozen=True)
class Expression:
    """A referring expression and the one object (instance id and name) it picks out."""

    text: str
    instance_id: int
    name: str


@dataclass(frozen=True)
class QA:
    question: str
    answer: str
    kind: str


@dataclass
class ImageRecord:
    """One annotated image. Arrays are decoded on first use; `rgb` (H, W, 3) uint8, `depth` (H, W) metres."""

    image_id: int
    scene_index: int
    scene_seed: int
    split: str
    camera: str
    width: int
    height: int
    intrinsics: np.ndarray
    extrinsics: np.ndarray
    objects: list[ObjectAnnotation]
    expressions: list[Expression]
    vqa: list[QA]
    caption: str
    scene_spec: str
    rgb_png: bytes = field(repr=False)
    depth_bytes: bytes = field(repr=False)
    segmentation_bytes: bytes = field(repr=False)

    @cached_property
    def rgb(self) -> np.ndarray:
        return np.asarray(Image.open(io.BytesIO(self.rgb_png)).convert("RGB"))

    @cached_property
    def depth(self) -> np.ndarray:
        return np.frombuffer(self.depth_bytes, dtype="<f4").reshape(self.height, self.width)

    @cached_property
    def segmentation(self) -> np.ndarray:
        """(H, W) int32 instance ids, `sim.World` convention (0 background, 1 bench, 2 robot, 3+ objects)."""
        return np.frombuffer(self.segmentation_bytes, dtype="<u2").reshape(self.height, self.width).astype(np.int32)

    @cached_property
    def spec(self) -> SceneSpec:
        """The settled scene (privileged: poses of every object, seen or not)."""
        return SceneSpec.from_json(self.scene_spec, check=False)

    def object(self, instance_id: int) -> ObjectAnnotation:
        return next(o for o in self.objects if o.instance_id == instance_id)

    # --- parquet rows ---------------------------------------------------------------------------
    def to_row(self) -> dict:
        return {
            "image_id": self.image_id, "scene_index": self.scene_index, "scene_seed": self.scene_seed, "split": self.split,
            "camera": self.camera, "width": self.width, "height": self.height,
            "rgb": {"bytes": self.rgb_png, "path": f"images/{self.image_id:09d}.png"}, "depth": self.depth_bytes, "segmentation": self.segmentation_bytes,
            "intrinsics": self.intrinsics.astype(np.float32).ravel().tolist(), "extrinsics": self.extrinsics.astype(np.float32).ravel().tolist(),
            "objects": [
                {"instance_id": o.instance_id, "name": o.name, "category": o.category, "category_id": o.category_id, "size": o.size,
                 "colour": o.colour, "display_name": o.display_name, "is_container": o.is_container, "bbox": list(o.bbox),
                 "area": o.area, "rle_counts": o.rle["counts"]}
                for o in self.objects
            ],
            "expressions": [{"text": e.text, "instance_id": e.instance_id, "name": e.name} for e in self.expressions],
            "vqa": [{"question": q.question, "answer": q.answer, "kind": q.kind} for q in self.vqa],
            "caption": self.caption, "scene_spec": self.scene_spec,
        }

    @classmethod
    def from_row(cls, row: dict) -> ImageRecord:
        size = [row["height"], row["width"]]
        objects = [
            ObjectAnnotation(o["instance_id"], o["name"], o["category"], o["size"], o["colour"], o["display_name"], o["is_container"],
                             tuple(o["bbox"]), o["area"], {"size": size, "counts": o["rle_counts"]})
            for o in row["objects"]
        ]
        return cls(
            row["image_id"], row["scene_index"], row["scene_seed"], row["split"], row["camera"], row["width"], row["height"],
            np.asarray(row["intrinsics"], np.float32).reshape(3, 3), np.asarray(row["extrinsics"], np.float32).reshape(4, 4),
            objects, [Expression(**e) for e in row["expressions"]], [QA(**q) for q in row["vqa"]], row["caption"], row["scene_spec"],
            row["rgb"]["bytes"], row["depth"], row["segmentation"],
        )


_OBJECT = pa.struct([
    ("instance_id", pa.int32()), ("name", pa.string()), ("category", pa.string()), ("category_id", pa.int32()), ("size", pa.string()),
    ("colour", pa.string()), ("display_name", pa.string()), ("is_container", pa.bool_()), ("bbox", pa.list_(pa.float32())),
    ("area", pa.int64()), ("rle_counts", pa.string()),
])

#: Arrow schema of a shard; `datasets` and pandas read it as is. `rgb` is stored as `datasets.Image` stores images
#: (PNG bytes and a file name) and declared as one in the schema's Hugging Face metadata, so `load_dataset` decodes it.
SCHEMA = pa.schema([
    ("image_id", pa.int64()), ("scene_index", pa.int32()), ("scene_seed", pa.int64()), ("split", pa.string()), ("camera", pa.string()),
    ("width", pa.int32()), ("height", pa.int32()), ("rgb", pa.struct([("bytes", pa.binary()), ("path", pa.string())])),
    ("depth", pa.binary()), ("segmentation", pa.binary()),
    ("intrinsics", pa.list_(pa.float32())), ("extrinsics", pa.list_(pa.float32())), ("objects", pa.list_(_OBJECT)),
    ("expressions", pa.list_(pa.struct([("text", pa.string()), ("instance_id", pa.int32()), ("name", pa.string())]))),
    ("vqa", pa.list_(pa.struct([("question", pa.string()), ("answer", pa.string()), ("kind", pa.string())]))),
    ("caption", pa.string()), ("scene_spec", pa.string()),
], metadata={b"huggingface": json.dumps({"info": {"features": {"rgb": {"_type": "Image"}}}}).encode()})


def to_table(records: list[ImageRecord]) -> pa.Table:
    return pa.Table.from_pylist([r.to_row() for r in records], schema=SCHEMA)
