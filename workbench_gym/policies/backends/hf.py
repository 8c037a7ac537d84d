"""Hugging Face `transformers` models as a backend, loaded offline from a local path or the user's HF cache.

Three kinds of model, each optional:
- a scorer (CLIP, SigLIP): ranks class-agnostic RGB-D proposals (`policies.perception.propose`) by how well
  their crops match the phrase, and labels each crop with the closest catalog category;
- a detector (OWLv2, OWL-ViT, Grounding-DINO): open-vocabulary boxes for the phrase, straight from the image;
- a chat VLM (SmolVLM/Idefics3, Qwen2.5-VL, anything `AutoModelForImageTextToText` loads with a chat template):
  answers questions, and grounds and plans with the same JSON prompts as the OpenAI-compatible backend.
Grounding uses the detector if given, else the scorer, else the chat model. Nothing is ever downloaded.
"""

from __future__ import annotations

import hashlib
import logging
from collections import OrderedDict
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from workbench_gym.language.task import StructuredTask
from workbench_gym.policies.backend import Backend, Region, View
from workbench_gym.policies.backends.prompts import SYSTEM_PROMPT, answer_prompt, ground_prompt, plan_prompt
from workbench_gym.policies.backends.replies import COORDINATES, MalformedReply, parse_regions, parse_task
from workbench_gym.scenes.catalog import CATALOG

log = logging.getLogger(__name__)

SCORER_TYPES = ("clip", "siglip", "siglip2")
DETECTOR_TYPES = ("owlv2", "owlvit", "grounding-dino")
#: Texts the scorer compares crops with to name their category.
CATEGORY_PROMPTS = {name: f"a photo of a {category.display}" for name, category in CATALOG.items()}


def _require_transformers():
    try:
        import torch
        import transformers
    except ImportError:
        raise ImportError("the hf backend needs torch and transformers: pip install torch==2.13.0 'workbench-gym[vlm]'") from None
    return torch, transformers


def model_type(path: str) -> str:
    """The `model_type` in a local or cached model's config.json (ValueError when it is not there offline)."""
    _, transformers = _require_transformers()
    try:
        return transformers.AutoConfig.from_pretrained(path, local_files_only=True).model_type
    except OSError:
        if Path(path).expanduser().is_absolute() or path.startswith(".") or Path(path).exists():
            raise ValueError(f"hf backend: cannot load {path!r} offline: no model directory with a config.json there") from None
        raise ValueError(
            f"hf backend: cannot load {path!r} offline: it is not in the Hugging Face cache. Download it on a machine "
            f"with network access first (`hf download {path}`) or pass a local directory."
        ) from None


def load(path: str, auto_model: str, device: str) -> tuple[Any, Any]:
    """(model in eval mode on `device`, processor) from a local path or the cache; never downloads."""
    _, transformers = _require_transformers()
    model_type(path)  # the clear error for missing models
    model = getattr(transformers, auto_model).from_pretrained(path, local_files_only=True).to(device).eval()
    processor = transformers.AutoProcessor.from_pretrained(path, local_files_only=True)
    return model, processor


def _pil(rgb: np.ndarray):
    from PIL import Image

    return Image.fromarray(np.ascontiguousarray(rgb))


def _to_region(box, score: float, width: int, height: int, label: str = "", mask=None, point=None) -> Region | None:
    x0, y0, x1, y1 = (int(round(v)) for v in box)
    x0, x1 = max(0, min(x0, width)), max(0, min(x1, width))
    y0, y1 = max(0, min(y0, height)), max(0, min(y1, height))
    if x1 <= x0 or y1 <= y0:
        return None
    point = point or ((x0 + x1 - 1) // 2, (y0 + y1 - 1) // 2)
    return Region((x0, y0, x1, y1), float(min(max(score, 0.0), 1.0)), mask, label, tuple(int(v) for v in point))


def suppress_overlaps(regions: list[Region], iou: float = 0.5) -> list[Region]:
    """Best-first regions without the ones overlapping a better one by more than `iou` (non-maximum suppression)."""
    kept: list[Region] = []
    for region in sorted(regions, key=lambda r: -r.score):
        if all(_iou(region.box, other.box) <= iou for other in kept):
            kept.append(region)
    return kept


def _iou(a, b) -> float:
    w = max(0, min(a[2], b[2]) - max(a[0], b[0]))
    h = max(0, min(a[3], b[3]) - max(a[1], b[1]))
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - w * h
    return w * h / union if union else 0.0


class ClipScorer:
    """Ranks crops of class-agnostic proposals by CLIP/SigLIP similarity to the phrase."""

    def __init__(self, path: str, device: str = "cpu", crop_margin: float = 0.15, cache_frames: int = 8):
        self.torch, _ = _require_transformers()
        self.model, self.processor = load(path, "AutoModel", device)
        self.device, self.crop_margin, self.cache_frames = device, crop_margin, cache_frames
        self.kind = model_type(path)
        self._frames: OrderedDict[bytes, tuple] = OrderedDict()  # the planner grounds several phrases per frame

    @cached_property
    def _category_embeddings(self):
        with self.torch.no_grad():
            return self.embed_texts(list(CATEGORY_PROMPTS.values()))

    def embed_texts(self, texts: list[str]):
        """Unit text embeddings (N, D); gradients flow unless the caller turns them off (fine-tuning uses them)."""
        padding = "max_length" if self.kind.startswith("siglip") else True  # SigLIP was trained on padded text
        inputs = self.processor(text=texts, return_tensors="pt", padding=padding, truncation=True).to(self.device)
        return self.torch.nn.functional.normalize(_tensor(self.model.get_text_features(**inputs)), dim=-1)

    def embed_crops(self, crops: list[np.ndarray]):
        """Unit image embeddings (N, D) of RGB crops."""
        inputs = self.processor(images=[_pil(c) for c in crops], return_tensors="pt").to(self.device)
        return self.torch.nn.functional.normalize(_tensor(self.model.get_image_features(**inputs)), dim=-1)

    def logits(self, crops, texts):
        """(texts, crops) similarity logits, scaled as the model was trained."""
        scale = self.model.logit_scale.exp() if hasattr(self.model, "logit_scale") else 100.0
        return scale * texts @ crops.T

    def crop(self, rgb: np.ndarray, box) -> np.ndarray:
        """The box grown by `crop_margin` on each side (context helps CLIP), clipped to the image."""
        x0, y0, x1, y1 = box
        mx, my = int((x1 - x0) * self.crop_margin) + 1, int((y1 - y0) * self.crop_margin) + 1
        h, w = rgb.shape[:2]
        return rgb[max(0, y0 - my):min(h, y1 + my), max(0, x0 - mx):min(w, x1 + mx)]

    def _frame(self, view: View):
        """(proposals, unit crop embeddings, catalog labels) of a view, computed once per distinct frame."""
        if view.depth is None:
            raise ValueError("the hf scorer ranks RGB-D proposals and needs depth; use a detector= or chat= model for RGB only")
        parts = (view.rgb, view.depth, np.asarray(view.intrinsics, np.float64), np.asarray(view.extrinsics, np.float64))
        key = hashlib.blake2b(b"".join(np.ascontiguousarray(a).tobytes() for a in parts), digest_size=16).digest()
        if key in self._frames:
            self._frames.move_to_end(key)
            return self._frames[key]
        from workbench_gym.policies.perception import propose

        proposals = propose(view.rgb, view.depth, view.intrinsics, view.extrinsics)
        crops = labels = None
        if proposals:
            with self.torch.no_grad():
                crops = self.embed_crops([self.crop(view.rgb, p.box) for p in proposals])
                names = list(CATEGORY_PROMPTS)
                labels = [names[k] for k in (crops @ self._category_embeddings.T).argmax(dim=1).tolist()]
        self._frames[key] = (proposals, crops, labels)
        if len(self._frames) > self.cache_frames:
            self._frames.popitem(last=False)
        return self._frames[key]

    def forget_frames(self) -> None:
        """Drop cached frame and category embeddings (after the weights change)."""
        self._frames.clear()
        self.__dict__.pop("_category_embeddings", None)

    def ground(self, view: View, phrase: str) -> list[Region]:
        """Proposals scored by a softmax over their similarity to the phrase (scores sum to 1), best first."""
        proposals, crops, labels = self._frame(view)
        if not proposals:
            return []
        with self.torch.no_grad():
            scores = self.torch.softmax(self.logits(crops, self.embed_texts([phrase]))[0], dim=0).cpu().numpy()
        height, width = view.rgb.shape[:2]
        regions = [_to_region(p.box, s, width, height, k, p.mask, p.point) for p, s, k in zip(proposals, scores, labels)]
        return sorted((r for r in regions if r is not None), key=lambda r: -r.score)


def _tensor(features):
    """Newer transformers return an output object from get_*_features; older ones a tensor."""
    return features if hasattr(features, "shape") else features.pooler_output


class BoxDetector:
    """Open-vocabulary boxes for a phrase from OWLv2, OWL-ViT or Grounding-DINO."""

    def __init__(self, path: str, device: str = "cpu", threshold: float = 0.05, max_regions: int = 10):
        self.torch, _ = _require_transformers()
        self.model, self.processor = load(path, "AutoModelForZeroShotObjectDetection", device)
        self.kind = model_type(path)
        self.device, self.threshold, self.max_regions = device, threshold, max_regions

    def ground(self, view: View, phrase: str) -> list[Region]:
        """Boxes above the score threshold, overlaps suppressed, best first."""
        height, width = view.rgb.shape[:2]
        dino = self.kind == "grounding-dino"
        # Grounding-DINO was trained on lower-case phrases each closed by "."; OWL takes a list of queries per image.
        text = phrase.strip().lower().rstrip(".") + "." if dino else [[phrase]]
        inputs = self.processor(text=text, images=_pil(view.rgb), return_tensors="pt", truncation=True).to(self.device)
        with self.torch.no_grad():
            outputs = self.model(**inputs)
        # OWLv2 pads the image to a square at the bottom right, so its boxes are fractions of that square;
        # OWL-ViT's and Grounding-DINO's are fractions of the image itself.
        side = max(height, width)
        target = (side, side) if self.kind == "owlv2" else (height, width)
        # Grounding-DINO scores each token; it also labels boxes with the tokens above text_threshold, unused here.
        extra = {"input_ids": inputs["input_ids"], "text_threshold": self.threshold} if dino else {}
        post_process = self.processor.post_process_grounded_object_detection
        result = post_process(outputs, threshold=self.threshold, target_sizes=[target], **extra)[0]
        regions = [_to_region(box.tolist(), float(score), width, height) for box, score in zip(result["boxes"], result["scores"])]
        return suppress_overlaps([r for r in regions if r is not None])[: self.max_regions]


class ChatVLM:
    """A chat VLM prompted for JSON regions and plans, or plain answers."""

    def __init__(self, path: str, device: str = "cpu", max_new_tokens: int = 256):
        self.torch, _ = _require_transformers()
        self.model, self.processor = load(path, "AutoModelForImageTextToText", device)
        if not getattr(self.processor, "chat_template", None):
            raise ValueError(f"hf backend: {path!r} has no chat template; the chat model must be an instruction-tuned VLM")
        self.device, self.max_new_tokens = device, max_new_tokens

    def generate(self, rgb: np.ndarray, prompt: str) -> str:
        """The model's reply (new tokens only, special tokens dropped) to the image and prompt; greedy, so repeatable."""
        # The system prompt rides in the user turn: not every VLM's chat template has a system role.
        content = [{"type": "image", "image": _pil(rgb)}, {"type": "text", "text": f"{SYSTEM_PROMPT}\n{prompt}"}]
        inputs = self.processor.apply_chat_template(
            [{"role": "user", "content": content}], add_generation_prompt=True, tokenize=True, return_dict=True, return_tensors="pt",
        ).to(self.device)
        with self.torch.no_grad():
            output = self.model.generate(**inputs, max_new_tokens=self.max_new_tokens, do_sample=False)
        return self.processor.batch_decode(output[:, inputs["input_ids"].shape[1]:], skip_special_tokens=True)[0].strip()


@dataclass
class HFConfig:
    """Which models to load (paths or cached repo ids) and how to run them."""

    model: str | None = None  # one model, its role read from its config (CLIP/SigLIP, a detector, else chat)
    scorer: str | None = None  # CLIP or SigLIP
    detector: str | None = None  # OWLv2, OWL-ViT or Grounding-DINO
    chat: str | None = None  # a chat VLM with a chat template
    device: str = "cpu"
    max_new_tokens: int = 256
    coordinates: str = "pixels"  # how the chat model writes boxes: pixels, norm1000 (Qwen2-VL) or norm1
    detection_threshold: float = 0.05
    max_regions: int = 10
    fallback: str | None = None  # backend that answers when no chat model is loaded, e.g. "native"

    def __post_init__(self):
        if self.model:
            kind = model_type(self.model)
            role = "scorer" if kind in SCORER_TYPES else "detector" if kind in DETECTOR_TYPES else "chat"
            if getattr(self, role):
                raise ValueError(f"hf backend: model={self.model!r} is a {role} but {role}= is given too")
            setattr(self, role, self.model)
        if not (self.scorer or self.detector or self.chat):
            raise ValueError("hf backend needs at least one of model=, scorer=, detector= or chat= (a local path or cached repo id)")
        if self.coordinates not in COORDINATES:
            raise ValueError(f"coordinates {self.coordinates!r} must be one of {sorted(COORDINATES)}")


class HFBackend:
    """Grounds with a detector, a scorer over proposals or a chat VLM; answers and plans with the chat VLM."""

    name = "hf"

    def __init__(self, config: HFConfig | None = None, fallback_backend: Backend | None = None, **options):
        self.config = config or HFConfig(**options)
        c = self.config
        self.scorer = ClipScorer(c.scorer, c.device) if c.scorer else None
        self.detector = BoxDetector(c.detector, c.device, c.detection_threshold, c.max_regions) if c.detector else None
        self.chat = ChatVLM(c.chat, c.device, c.max_new_tokens) if c.chat else None
        self._fallback = fallback_backend

    def ground(self, view: View, phrase: str) -> list[Region]:
        """Regions for `phrase`, best first; [] when the chat model's reply is unusable."""
        if self.detector:
            return self.detector.ground(view, phrase)
        if self.scorer:
            return self.scorer.ground(view, phrase)
        height, width = view.rgb.shape[:2]
        reply = self.chat.generate(view.rgb, ground_prompt(phrase, width, height))
        try:
            return parse_regions(reply, width, height, self.config.coordinates)[: self.config.max_regions]
        except MalformedReply as err:
            log.warning("hf chat model gave no usable regions for %r: %s", phrase, err)
            return []

    def answer(self, view: View, question: str) -> str:
        """The chat model's plain-text answer, or the fallback backend's when no chat model is loaded."""
        if self.chat:
            return self.chat.generate(view.rgb, answer_prompt(question))
        return self._fallback_backend("answer").answer(view, question)

    def plan(self, view: View, instruction: str) -> StructuredTask | None:
        """The chat model's structured task (JSON); None (the planner reads the instruction) without one or on a bad reply."""
        if not self.chat:
            return None
        reply = self.chat.generate(view.rgb, plan_prompt(instruction))
        try:
            return parse_task(reply)
        except MalformedReply as err:
            log.warning("hf chat model gave no usable plan for %r: %s", instruction, err)
            return None

    def _fallback_backend(self, task: str) -> Backend:
        if self._fallback is None:
            if not self.config.fallback:
                raise ValueError(f"hf backend cannot {task} without a chat model: pass chat=PATH or fallback='native'")
            from workbench_gym.policies.backends import make_backend

            self._fallback = make_backend(self.config.fallback)
        return self._fallback
