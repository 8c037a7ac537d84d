"""Turn a chat model's reply into `Region`s and a `StructuredTask`, repairing the usual JSON slips, and back again.

Models wrap JSON in code fences and prose, use single quotes or Python literals, leave trailing commas, or stop
mid-object when they run out of tokens. `extract_json` repairs those; what still does not fit the schema raises
`MalformedReply`, so a caller can fall back instead of acting on garbage.
"""

from __future__ import annotations

import json
import re
from typing import Any

import numpy as np

from workbench_gym.language.task import StructuredTask
from workbench_gym.language.vocabulary import canonical_task
from workbench_gym.policies.backend import Region

#: Coordinate conventions a model may answer in: pixels of the image sent, 0..1000 (Qwen2-VL), or 0..1.
COORDINATES = {"pixels": None, "norm1000": 1000.0, "norm1": 1.0}
#: Half size in pixels of the box made around a point when a model gives a point but no box.
POINT_BOX_HALF = 8

_FENCE = re.compile(r"```(?:json|JSON)?\s*(.*?)```", re.DOTALL)
_TRAILING_COMMA = re.compile(r",\s*([}\]])")
_PY_LITERALS = {"True": "true", "False": "false", "None": "null"}


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
    decoder = json.JSONDecoder()
    try:
        return decoder.raw_decode(body)[0]  # raw_decode ignores prose after the JSON
    except json.JSONDecodeError:
        pass
    repaired = _repair(body)
    try:
        return decoder.raw_decode(repaired)[0]
    except json.JSONDecodeError as err:
        raise MalformedReply(f"unrepairable JSON in reply {text[:120]!r}: {err.msg}") from None


def _repair(body: str) -> str:
    """Fix single quotes, Python literals, trailing commas and unclosed brackets (a reply cut off by max_tokens)."""
    if '"' not in body:
        body = body.replace("'", '"')
    body = re.sub(r"\b(True|False|None)\b", lambda m: _PY_LITERALS[m.group(1)], body)
    stack: list[str] = []
    in_string = escaped = False
    end = len(body)
    for i, char in enumerate(body):
        if in_string:
            escaped = char == "\\" and not escaped
            in_string = escaped or char != '"'
            continue
        if char == '"':
            in_string = True
        elif char in "{[":
            stack.append("}" if char == "{" else "]")
        elif char in "}]":
            if not stack:
                end = i
                break
            stack.pop()
            if not stack:
                end = i + 1
                break
    body = body[:end] + ('"' if in_string else "")
    body = re.sub(r"[,:]\s*$", "", body.rstrip()) + "".join(reversed(stack))
    return _TRAILING_COMMA.sub(r"\1", body)


def _numbers(value: Any, count: int) -> list[float] | None:
    if not isinstance(value, (list, tuple)) or len(value) != count:
        return None
    if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value):
        return None
    return [float(v) for v in value]


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
    """Regions from a grounding reply, clipped to the image and sorted best first.

    Accepts {"regions": [...]}, a bare list, and the keys box/bbox/bbox_2d and point/point_2d (Qwen2.5-VL's names).
    A region without a score gets 1.0 (the model asserted it); with only a point it gets a small box around it.
    An empty list is a valid "not there"; a reply with entries but none usable raises MalformedReply.
    """
    if coordinates not in COORDINATES:
        raise ValueError(f"unknown coordinates {coordinates!r}: expected one of {sorted(COORDINATES)}")
    scale = COORDINATES[coordinates]
    items = _region_items(extract_json(text))
    regions = []
    for item in items:
        if not isinstance(item, dict):
            continue
        box = next((_numbers(item.get(k), 4) for k in ("box", "bbox", "bbox_2d") if k in item), None)
        point = next((_numbers(item.get(k), 2) for k in ("point", "point_2d") if k in item), None)
        if scale:
            box = box and [v / scale * (width if i % 2 == 0 else height) for i, v in enumerate(box)]
            point = point and [point[0] / scale * width, point[1] / scale * height]
        if box is None and point is not None:
            box = [point[0] - POINT_BOX_HALF, point[1] - POINT_BOX_HALF, point[0] + POINT_BOX_HALF, point[1] + POINT_BOX_HALF]
        if box is None:
            continue
        x0, x1 = sorted(int(round(min(max(v, 0), width))) for v in (box[0], box[2]))
        y0, y1 = sorted(int(round(min(max(v, 0), height))) for v in (box[1], box[3]))
        if x1 <= x0 or y1 <= y0:
            continue
        if point is not None:
            point = (int(min(max(round(point[0]), 0), width - 1)), int(min(max(round(point[1]), 0), height - 1)))
        score = item.get("score", item.get("confidence", 1.0))
        score = float(min(max(score, 0.0), 1.0)) if isinstance(score, (int, float)) else 1.0
        mask = decode_mask(item["mask"]) if isinstance(item.get("mask"), dict) else None
        if mask is not None and mask.shape != (height, width):
            mask = None  # a mask for another image size cannot be trusted
        regions.append(Region((x0, y0, x1, y1), score, mask, str(item.get("label", "")), point))
    if items and not regions:
        raise MalformedReply(f"no usable region (box of 4 numbers inside the image) in reply {text[:120]!r}")
    return sorted(regions, key=lambda r: -r.score)


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
    """A boolean mask as uncompressed COCO-style run lengths (column-major, starting with a run of zeros)."""
    flat = np.asarray(mask, dtype=bool).ravel(order="F")
    changes = np.flatnonzero(np.diff(flat.astype(np.int8))) + 1
    bounds = np.concatenate([[0], changes, [flat.size]])
    counts = np.diff(bounds).tolist()
    if flat.size and flat[0]:
        counts = [0, *counts]
    return {"size": [int(mask.shape[0]), int(mask.shape[1])], "counts": counts}


def decode_mask(rle: dict) -> np.ndarray | None:
    """The mask `encode_mask` wrote, or None when the run lengths do not fit the size."""
    try:
        height, width = (int(v) for v in rle["size"])
        counts = [int(c) for c in rle["counts"]]
    except (KeyError, TypeError, ValueError):
        return None
    if sum(counts) != height * width or any(c < 0 for c in counts):
        return None
    values = np.zeros(len(counts), dtype=bool)
    values[1::2] = True
    return np.repeat(values, counts).reshape((height, width), order="F")


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
