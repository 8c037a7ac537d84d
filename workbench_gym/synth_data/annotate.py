"""Annotate rendered frames of a settled scene: masks, boxes, attributes, expressions, VQA, caption.

Everything is derived from the spec and the renderer's instance map, in numpy. Objects whose mask is
empty in a view (fully occluded or out of frame) are left out of that image's annotations; objects
with fewer than `min_visible_pixels` pixels are annotated but never asked or talked about.
"""

from __future__ import annotations

import io

import numpy as np
from PIL import Image
from pycocotools import mask as mask_utils

from workbench_gym.language.expressions import unique_expressions
from workbench_gym.language.grammar import anchor_of, image_leftness, resolve, robot_leftness, things_of
from workbench_gym.language.questions import caption, questions
from workbench_gym.scenes.catalog import CATALOG
from workbench_gym.scenes.spec import SceneSpec
from workbench_gym.sim.camera import CameraFrame
from workbench_gym.sim.world import FIRST_OBJECT_ID, ROBOT_ID
from workbench_gym.synth_data.randomize import SynthConfig
from workbench_gym.synth_data.records import QA, Expression, ImageRecord, ObjectAnnotation
from workbench_gym.synth_data.storage import image_id

#: How far apart two objects must be for "left of" (robot frame: metres; image frame: image widths).
SPATIAL_MARGIN = {"robot": 0.03, "image": 0.03}
_IMAGES_PER_SCENE_MAX = 1000  # image_id = scene_index * this + view index


def png(image: np.ndarray) -> bytes:
    """PNG bytes of an (H, W, 3) uint8 image; fast compression, deterministic."""
    buf = io.BytesIO()
    Image.fromarray(image).save(buf, format="PNG", compress_level=1)
    return buf.getvalue()


def object_annotations(spec: SceneSpec, segmentation: np.ndarray) -> list[ObjectAnnotation]:
    """Annotations of the objects with a non-empty mask, in spec order."""
    h, w = segmentation.shape
    areas = np.bincount(segmentation.ravel(), minlength=FIRST_OBJECT_ID + len(spec.objects))
    out = []
    for i, obj in enumerate(spec.objects):
        iid = FIRST_OBJECT_ID + i
        if areas[iid] == 0:
            continue
        mask = segmentation == iid
        rows, cols = np.flatnonzero(mask.any(1)), np.flatnonzero(mask.any(0))
        bbox = (float(cols[0]), float(rows[0]), float(cols[-1] - cols[0] + 1), float(rows[-1] - rows[0] + 1))
        rle = mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))
        cat = CATALOG[obj.category]
        out.append(ObjectAnnotation(iid, obj.name, obj.category, obj.size, obj.colour, obj.display_name, cat.is_container,
                                    bbox, int(areas[iid]), {"size": [h, w], "counts": rle["counts"].decode()}))
    return out


class SceneAnnotator:
    """Annotates every view of one settled scene; expressions in the robot frame are found once per scene."""

    def __init__(self, config: SynthConfig, scene_index: int, spec: SceneSpec):
        self.config, self.scene_index, self.spec = config, scene_index, spec
        self.margin = SPATIAL_MARGIN[config.spatial_frame]
        self.ids = {o.name: FIRST_OBJECT_ID + i for i, o in enumerate(spec.objects)}
        self._robot_things = things_of(spec, robot_leftness(spec)) if config.spatial_frame == "robot" else None
        self._robot_expressions: dict[str, list[str]] = {}
        self._spec_json = spec.to_json(indent=None)

    def _expressions(self, name: str, things) -> list[str]:
        if things is self._robot_things:
            if name not in self._robot_expressions:
                self._robot_expressions[name] = unique_expressions(name, self.spec, things, self.margin)
            return self._robot_expressions[name]
        return unique_expressions(name, self.spec, things, self.margin)

    def _anchor_visible(self, text: str, things, visible: set[str]) -> bool:
        anchor = anchor_of(text)
        return anchor is None or resolve(anchor, things, self.margin)[0].name in visible

    def annotate(self, view: int, camera: str, frame: CameraFrame) -> ImageRecord:
        spec, config = self.spec, self.config
        objects = object_annotations(spec, frame.segmentation)
        visible = {o.name for o in objects if o.area >= config.min_visible_pixels}
        if self._robot_things is not None:
            things = self._robot_things
        else:
            things = things_of(spec, image_leftness(spec, frame.intrinsics, frame.extrinsics, frame.segmentation.shape[1]))
        expressions = []
        for o in objects:
            if o.name not in visible:
                continue
            texts = [t for t in self._expressions(o.name, things) if self._anchor_visible(t, things, visible)]
            keep = np.random.default_rng([config.seed, self.scene_index, view, o.instance_id]).permutation(len(texts))
            expressions += [Expression(texts[i], o.instance_id, o.name) for i in sorted(keep[:config.expressions_per_object])]
        rng = np.random.default_rng([config.seed, self.scene_index, view])
        vqa = [QA(q.question, q.answer, q.kind) for q in questions(things, visible, self.margin, rng)]
        robot_visible = bool(np.any(frame.segmentation == ROBOT_ID))
        h, w = frame.segmentation.shape
        return ImageRecord(
            image_id=image_id(self.scene_index, view), scene_index=self.scene_index, scene_seed=int(spec.seed),
            split=config.split(self.scene_index), camera=camera, width=w, height=h,
            intrinsics=frame.intrinsics, extrinsics=frame.extrinsics, objects=objects, expressions=expressions, vqa=vqa,
            caption=caption(things, visible, spec.bench.colour, robot_visible), scene_spec=self._spec_json,
            rgb_png=png(frame.rgb), depth_bytes=frame.depth.astype("<f4").tobytes(),
            segmentation_bytes=frame.segmentation.astype("<u2").tobytes(),
        )


def annotate_scene(config: SynthConfig, scene_index: int, spec: SceneSpec, frames: dict[str, CameraFrame]) -> list[ImageRecord]:
    """One record per rendered camera, in the spec's camera order."""
    annotator = SceneAnnotator(config, scene_index, spec)
    names = [c.name for c in spec.cameras if c.name in frames]
    return [annotator.annotate(view, name, frames[name]) for view, name in enumerate(names)]
