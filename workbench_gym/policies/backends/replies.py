"""Turn a chat model's reply into `Region`s and a `StructuredTask`, repairing the usual JSON slips, and back again.

Models wrap JSON in code fences and prose, use single quotes or Python literals, leave trailing commas, or stop
mid-object when they run out of tokens. `extract_json` repairs those with `json-repair`; what still does not fit the
schema raises `MalformedReply`, so a caller can fall back instead of acting on garbage. Regions with non-finite
numbers are dropped, and a reply is cut to its best `MAX_REGIONS` regions before any mask is decoded.
"""

from __future__ import annotations

import json
import math
import re
from typing import Any

import json_repair
import numpy as np
from pycocotools import mask as mask_utils

from workbench_gym.language.task import StructuredTask
from workbench_gym.language.vocabulary import canonical_task
from workbench_gym.policies.backend import Region

#: Coordinate conventions a model may answer in: pixels of the image sent, 0..1000 (Qwen2-VL), or 0..1.
COORDINATES = {"pixels": None, "norm1000": 1000.0, "norm1": 1.0}
#: Half size in pixels of the box made around a point when a model gives a point but no box.
POINT_BOX_HALF = 8
#: Regions kept of one grounding reply, best first: more than a scene holds (40 tools, 8 containers). A reply of
#: 20,000 regions cost the planner 33 s a decision before this cap.
MAX_REGIONS = 64
#: Longest reply body `json-repair` is asked to mend (pure Python: about 0.5 s per 300 kB); longer ones must parse.
MAX_REPAIR_CHARS = 100_000

_FENCE = re.compile(r"```(?:json|JSON)?\s*(.*?)```", re.DOTALL)


class MalformedReply(ValueError):
    """A model reply that is not the JSON asked for, even after repair."""


def extract_json(text: str) -> Any:
    """The first JSON object or array in `text`, repaired if needed; MalformedReply when there is none."""
    fenced = _FENCE.search(text)
    body = fenced.group(1) if fenced else text
    starts = [i for i in (body.find("{"), body.find("[")) if i >= 0]
    if not starts:
        raise MalformedReply(f"no JSON object or array in reply {text[:120]!r}")
    body = body[min(starts):]
    try:
        return json.JSONDecoder().raw_decode(body)[0]  # raw_decode ignores prose after the JSON
    except (json.JSONDecodeError, RecursionError):
        pass
    if len(body) > MAX_REPAIR_CHARS:
        raise MalformedReply(f"invalid JSON of {len(body)} characters in reply {text[:120]!r}: too long to repair")
    try:
        data = json_repair.loads(body)
    except (ValueError, RecursionError) as err:
        raise MalformedReply(f"unrepairable JSON in reply {text[:120]!r}: {err}") from None
    if not isinstance(data, (dict, list)):
        raise MalformedReply(f"unrepairable JSON in reply {text[:120]!r}")
    return data


def _numbers(value: Any, count: int) -> list[float] | None:
    """`count` finite numbers, or None."""
    if not isinstance(value, (list, tuple)) or len(value) != count:
        return None
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v) for v in value):
        return None
    return [float(v) for v in value]


def _score(item: dict) -> float | None:
    """The item's score clipped to [0, 1]; 1.0 when it gives no number (the model asserted it); None for NaN or inf."""
    score = item.get("score", item.get("confidence"))
    if isinstance(score, bool) or not isinstance(score, (int, float)):
        return 1.0
    return min(max(float(score), 0.0), 1.0) if math.isfinite(score) else None


def _region_items(data: Any) -> list[Any]:
    if isinstance(data, dict):
        for key in ("regions", "objects", "detections", "boxes"):
            if isinstance(data.get(key), list):
                return data[key]
        return [data]  # a single region given bare
    if isinstance(data, list):
        return data
    raise MalformedReply(f"expected an object with a 'regions' list, got {type(data).__name__}")


def parse_regions(text: str, width: int, height: int, coordinates: str = "pixels") -> list[Region]:
    """Regions from a grounding reply, clipped to the image, sorted best first, at most `MAX_REGIONS` of them.

    Accepts {"regions": [...]}, a bare list, and the keys box/bbox/bbox_2d and point/point_2d (Qwen2.5-VL's names).
    A region without a score gets 1.0 (the model asserted it); with only a point it gets a small box around it.
    Regions with NaN or infinite numbers are dropped. An empty list is a valid "not there"; a reply with entries
    but none usable raises MalformedReply.
    """
    if coordinates not in COORDINATES:
        raise ValueError(f"unknown coordinates {coordinates!r}: expected one of {sorted(COORDINATES)}")
    items = _region_items(extract_json(text))
    scored = [(score, i, item) for i, item in enumerate(items) if isinstance(item, dict) and (score := _score(item)) is not None]
    scored.sort(key=lambda entry: (-entry[0], entry[1]))  # best first; stable for equal scores
    regions = []
    for score, _, item in scored:
        region = _region(item, score, width, height, COORDINATES[coordinates])
        if region is not None:
            regions.append(region)
            if len(regions) == MAX_REGIONS:
                break
    if items and not regions:
        raise MalformedReply(f"no usable region (box of 4 finite numbers inside the image) in reply {text[:120]!r}")
    return regions


def _region(item: dict, score: float, width: int, height: int, scale: float | None) -> Region | None:
    """One reply item as a Region, or None when it has no usable box or point."""
    box = next((_numbers(item.get(k), 4) for k in ("box", "bbox", "bbox_2d") if k in item), None)
    point = next((_numbers(item.get(k), 2) for k in ("point", "point_2d") if k in item), None)
    if scale:
        box = box and [v / scale * (width if i % 2 == 0 else height) for i, v in enumerate(box)]
        point = point and [point[0] / scale * width, point[1] / scale * height]
    if box is None and point is not None:
        box = [point[0] - POINT_BOX_HALF, point[1] - POINT_BOX_HALF, point[0] + POINT_BOX_HALF, point[1] + POINT_BOX_HALF]
    if box is None:
        return None
    x0, x1 = sorted(int(round(min(max(v, 0), width))) for v in (box[0], box[2]))
    y0, y1 = sorted(int(round(min(max(v, 0), height))) for v in (box[1], box[3]))
    if x1 <= x0 or y1 <= y0:
        return None
    if point is not None:
        point = (int(min(max(round(point[0]), 0), width - 1)), int(min(max(round(point[1]), 0), height - 1)))
    mask = decode_mask(item["mask"], (height, width)) if isinstance(item.get("mask"), dict) else None
    return Region((x0, y0, x1, y1), score, mask, str(item.get("label", ""))[:100], point)


def parse_task(text: str) -> StructuredTask | None:
    """The structured task of a plan reply (`StructuredTask.to_dict()`'s shape, bare or under "task"), its words put
    into catalog names; None for an empty object (the model leaves reading the instruction to the planner).

    A reply that does not fit the schema raises MalformedReply naming what is wrong.
    """
    data = extract_json(text)
    if isinstance(data, dict) and set(data) == {"task"}:
        data = data["task"]
    if data == {}:
        return None
    try:
        return canonical_task(StructuredTask.from_dict(data))
    except (TypeError, ValueError) as err:
        raise MalformedReply(f"not a structured task ({err}) in reply {text[:120]!r}") from None


def encode_mask(mask: np.ndarray) -> dict:
    """A boolean mask as COCO compressed RLE with the counts as text (JSON-ready)."""
    rle = mask_utils.encode(np.asfortranarray(np.asarray(mask, dtype=np.uint8)))
    return {"size": [int(v) for v in rle["size"]], "counts": rle["counts"].decode("ascii")}


def decode_mask(rle: dict, shape: tuple[int, int] | None = None) -> np.ndarray | None:
    """The (H, W) bool mask of a COCO RLE, compressed (text counts) or uncompressed (a list of run lengths); None when
    it is not a well-formed RLE of `shape` (checked before anything is decoded, so a forged size allocates nothing)."""
    try:
        size = [int(v) for v in rle["size"]]
        counts = rle["counts"]
    except (KeyError, TypeError, ValueError):
        return None
    if len(size) != 2 or min(size) < 1 or (shape is not None and tuple(size) != tuple(shape)):
        return None
    if isinstance(counts, list):  # uncompressed: the run lengths must fill the image exactly
        if not all(isinstance(c, int) and not isinstance(c, bool) and c >= 0 for c in counts) or sum(counts) != size[0] * size[1]:
            return None
        return mask_utils.decode(mask_utils.frPyObjects({"size": size, "counts": counts}, *size)).astype(bool)
    if not isinstance(counts, str):
        return None
    compressed = {"size": size, "counts": counts.encode("ascii", "replace")}
    try:
        mask = mask_utils.decode(compressed)
    except ValueError:  # pycocotools refuses runs that overflow the image
        return None
    # Runs that fall short of the image leave the rest undefined: only an RLE that re-encodes to itself is whole.
    if mask_utils.encode(mask)["counts"] != compressed["counts"]:
        return None
    return mask.astype(bool)


def regions_to_json(regions: list[Region]) -> str:
    """The grounding reply `parse_regions` reads, masks included as run lengths."""
    items = []
    for region in regions:
        item: dict[str, Any] = {"box": [int(v) for v in region.box], "score": round(float(region.score), 6), "label": region.label}
        if region.point is not None:
            item["point"] = [int(v) for v in region.point]
        if region.mask is not None:
            item["mask"] = encode_mask(region.mask)
        items.append(item)
    return json.dumps({"regions": items})


def task_to_json(task: StructuredTask | None) -> str:
    """The plan reply `parse_task` reads; None (leave reading to the planner) becomes an empty object."""
    return task.to_json() if task is not None else "{}"
