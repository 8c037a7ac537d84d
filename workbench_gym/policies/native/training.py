"""Training and evaluation of the native grounding model on synthetic dataset records.

`examples_from_records` cuts proposals from each image exactly as the backend does and labels each with
the annotated object it overlaps (IoU >= 0.5) or none (a fragment, the robot): the model learns on what it
will see. `train` aligns crops with the MiniLM embeddings of the phrase bank by a sigmoid (SigLIP) loss.
`grounding_accuracy` and `vqa_accuracy` score a backend on records' referring expressions and questions.
Records follow `workbench_gym.synth_data.records.ImageRecord` (rgb, depth, intrinsics, extrinsics,
objects with masks, expressions, vqa); any object with those attributes works.
"""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import torch
from torch.nn import functional as F

from workbench_gym.language.grammar import parse_phrase
from workbench_gym.language.vocabulary import category_texts
from workbench_gym.policies.backend import View
from workbench_gym.policies.native.features import features
from workbench_gym.policies.native.model import GroundingModel, ModelConfig
from workbench_gym.policies.native.text import TextEncoder, shared_encoder
from workbench_gym.policies.native.vocabulary import BANK, CATEGORIES, COLOUR_WORDS, positives
from workbench_gym.policies.perception.proposals import ProposalConfig, analyse
from workbench_gym.scenes.catalog import CATALOG

MATCH_IOU = 0.5
EXPRESSION_KINDS = ("name", "attribute", "superlative", "spatial", "trade_synonym")
_ALIASES = {a.lower() for c in CATALOG.values() for a in c.aliases}


@dataclass
class Examples:
    """Proposal crops with labels: category and colour indices, -1 where the proposal matches no object."""

    crops: torch.Tensor  # (N, C, CROP, CROP) float16
    geometry: torch.Tensor  # (N, GEOMETRY_FEATURES)
    category: torch.Tensor  # (N,) int64 index into CATEGORIES
    colour: torch.Tensor  # (N,) int64 index into COLOUR_WORDS

    def __len__(self) -> int:
        return len(self.category)

    def targets(self, bank: tuple[str, ...]) -> torch.Tensor:
        """(N, len(bank)) 1 where the bank phrase describes the proposal's object."""
        table = torch.zeros(len(CATEGORIES), len(COLOUR_WORDS), len(bank))
        for ci, cat in enumerate(CATEGORIES):
            for ki, colour in enumerate(COLOUR_WORDS):
                pos = positives(cat, colour)
                table[ci, ki] = torch.tensor([t in pos for t in bank], dtype=torch.float32)
        out = torch.zeros(len(self), len(bank))
        known = self.category >= 0
        out[known] = table[self.category[known], self.colour[known]]
        return out


def view_of(record) -> View:
    """The camera view of a dataset record, as a robot would have it."""
    return View(record.rgb, record.depth, record.intrinsics, record.extrinsics, record.camera)


def examples_from_records(records: Iterable, config: ProposalConfig | None = None, progress: bool = True) -> Examples:
    """Proposals of every record, cut as the backend cuts them, labelled by overlap with the annotated masks."""
    config = config or ProposalConfig()
    from tqdm import tqdm

    crops, geos, cats, cols = [], [], [], []
    for record in tqdm(records, desc="proposals", disable=not progress, unit="img"):
        analysis = analyse(record.rgb, record.depth, record.intrinsics, record.extrinsics, config)
        if not analysis.proposals:
            continue
        c, g = features(record.rgb, analysis.height, analysis.proposals)
        masks = [(o, o.mask) for o in record.objects]
        for p in analysis.proposals:
            best, best_iou = None, MATCH_IOU
            for obj, mask in masks:
                inter = np.logical_and(p.mask, mask).sum()
                if inter:
                    iou = inter / np.logical_or(p.mask, mask).sum()
                    if iou >= best_iou:
                        best, best_iou = obj, iou
            cats.append(CATEGORIES.index(best.category) if best else -1)
            cols.append(COLOUR_WORDS.index(best.colour) if best else -1)
        crops.append(torch.from_numpy(c).half())
        geos.append(torch.from_numpy(g))
    if not crops:
        raise ValueError("no proposals in these records: are they RGB-D images of a bench with objects on it?")
    return Examples(torch.cat(crops), torch.cat(geos), torch.tensor(cats), torch.tensor(cols))


def new_model(text_encoder: TextEncoder | None = None, config: ModelConfig = ModelConfig(), seed: int = 0,
              bank: tuple[str, ...] = BANK) -> GroundingModel:
    """An untrained model carrying the MiniLM embeddings of the phrase bank (`without_categories` gives a smaller one)."""
    torch.manual_seed(seed)
    embeddings = torch.from_numpy((text_encoder or shared_encoder()).encode(list(bank)))
    return GroundingModel(config, bank, embeddings)


def without_categories(examples: Examples, categories: Iterable[str]) -> tuple[Examples, tuple[str, ...]]:
    """Examples and a phrase bank for a model that never learns these categories (zero-shot at test time).

    The crops of their objects are dropped, and so are the bank phrases that name only them ("claw hammer", "nail
    hammer"; "pliers" stays while another pliers category is trained): the backend then embeds those words with the
    text encoder alone, as it does any phrase outside the bank.
    """
    categories = tuple(categories)
    unknown = [c for c in categories if c not in CATEGORIES]
    if unknown:
        raise ValueError(f"unknown categories {unknown}; expected some of {list(CATEGORIES)}")
    keep = ~torch.isin(examples.category, torch.tensor([CATEGORIES.index(c) for c in categories], dtype=examples.category.dtype))
    kept = Examples(examples.crops[keep], examples.geometry[keep], examples.category[keep], examples.colour[keep])
    named_by_others = {t for c in CATEGORIES if c not in categories for t in category_texts(c)}
    only_theirs = {t for c in categories for t in category_texts(c)} - named_by_others
    return kept, tuple(t for t in BANK if t not in only_theirs)


def _augment(crops: torch.Tensor, generator: torch.Generator) -> torch.Tensor:
    """Random quarter turns and flips: tools lie at any yaw."""
    k = int(torch.randint(4, (1,), generator=generator))
    crops = torch.rot90(crops, k, dims=(2, 3))
    if bool(torch.randint(2, (1,), generator=generator)):
        crops = crops.flip(3)
    return crops


def train(model: GroundingModel, examples: Examples, epochs: int = 12, batch_size: int = 256, lr: float = 2e-3,
          seed: int = 0, progress: bool = True) -> list[float]:
    """Fit the model to the examples (sigmoid loss over every crop x bank phrase pair); mean loss per epoch."""
    from tqdm import tqdm

    if len(examples) == 0:
        raise ValueError("no training examples")
    torch.manual_seed(seed)
    generator = torch.Generator().manual_seed(seed)
    targets = examples.targets(model.bank)
    optimiser = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-4)
    steps = epochs * ((len(examples) + batch_size - 1) // batch_size)
    schedule = torch.optim.lr_scheduler.OneCycleLR(optimiser, max_lr=lr, total_steps=max(steps, 1))
    history = []
    model.train()
    for _ in tqdm(range(epochs), desc="train", disable=not progress, unit="epoch"):
        order = torch.randperm(len(examples), generator=generator)
        total = 0.0
        for start in range(0, len(order), batch_size):
            idx = order[start:start + batch_size]
            crops = _augment(examples.crops[idx].float(), generator)
            vectors = model.encode_crops(crops, examples.geometry[idx])
            logits = model.pair_logits(vectors, model.encode_texts(model.bank_embeddings))
            loss = F.binary_cross_entropy_with_logits(logits, targets[idx])
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            schedule.step()
            total += loss.item() * len(idx)
        history.append(total / len(examples))
    model.eval()
    return history


def expression_kind(text: str) -> str:
    """Which kind of referring expression this is, for per-kind accuracy (see EXPRESSION_KINDS)."""
    q = parse_phrase(text)
    if q.relation or q.order in ("leftmost", "rightmost", "middle"):
        return "spatial"
    if q.order in ("largest", "smallest"):
        return "superlative"
    if q.noun in _ALIASES:
        return "trade_synonym"
    if q.colour or q.size:
        return "attribute"
    return "name"


def view_kind(camera: str) -> str:
    """The kind of view a dataset camera is: "front", "overhead", "wrist" or "orbit" (numbered cameras share one)."""
    return re.sub(r"_\d+$", "", camera)


def grounding_accuracy(backend, records: Iterable, limit: int | None = None) -> dict:
    """Top-1 accuracy of `backend.ground` on the records' referring expressions, overall, per expression kind, per
    camera and per kind of view (`view_kind`).

    A hit is a top region whose point lies on the target's annotated mask (where the planner would grasp);
    `iou50` also counts the top region's mask overlapping the target's with IoU >= 0.5.
    """
    hits, iou_hits, totals = Counter(), Counter(), Counter()
    camera_hits, camera_totals = Counter(), Counter()
    times, first_times = [], []
    for n, record in enumerate(records):
        if limit is not None and n >= limit:
            break
        view = view_of(record)
        masks = {o.instance_id: o.mask for o in record.objects}
        for j, expression in enumerate(record.expressions):
            start = time.perf_counter()
            regions = backend.ground(view, expression.text)
            (first_times if j == 0 else times).append(time.perf_counter() - start)
            kind = expression_kind(expression.text)
            totals[kind] += 1
            camera_totals[record.camera] += 1
            target = masks.get(expression.instance_id)
            if not regions or target is None:
                continue
            top = regions[0]
            if top.point is not None and target[top.point[1], top.point[0]]:
                hits[kind] += 1
                camera_hits[record.camera] += 1
            if top.mask is not None and np.logical_and(top.mask, target).sum() >= MATCH_IOU * np.logical_or(top.mask, target).sum():
                iou_hits[kind] += 1
    total = sum(totals.values())
    return {
        "expressions": total,
        "top1": sum(hits.values()) / max(total, 1),
        "top1_iou50": sum(iou_hits.values()) / max(total, 1),
        "per_kind": {k: {"n": totals[k], "top1": hits[k] / totals[k]} for k in EXPRESSION_KINDS if totals[k]},
        "per_camera": {c: {"n": n, "top1": camera_hits[c] / n} for c, n in sorted(camera_totals.items())},
        "per_view": _by_view(camera_hits, camera_totals),
        "ms_per_ground_cached": 1000 * float(np.mean(times)) if times else None,
        "ms_per_ground_new_frame": 1000 * float(np.mean(first_times)) if first_times else None,
    }


def _by_view(hits: Counter, totals: Counter) -> dict:
    """Top-1 per kind of view, pooling the numbered cameras of a kind."""
    view_hits, view_totals = Counter(), Counter()
    for camera, n in totals.items():
        view_hits[view_kind(camera)] += hits[camera]
        view_totals[view_kind(camera)] += n
    return {v: {"n": n, "top1": view_hits[v] / n} for v, n in sorted(view_totals.items())}


def vqa_accuracy(backend, records: Iterable, limit: int | None = None) -> dict:
    """Share of the records' questions `backend.answer` gets right, overall and per kind (exact short answers)."""
    right, totals = Counter(), Counter()
    for n, record in enumerate(records):
        if limit is not None and n >= limit:
            break
        view = view_of(record)
        for qa in record.vqa:
            totals[qa.kind] += 1
            right[qa.kind] += backend.answer(view, qa.question).strip().lower() == qa.answer.strip().lower()
    total = sum(totals.values())
    return {"questions": total, "accuracy": sum(right.values()) / max(total, 1),
            "per_kind": {k: {"n": totals[k], "accuracy": right[k] / totals[k]} for k in sorted(totals)}}


__all__ = ["EXPRESSION_KINDS", "Examples", "examples_from_records", "expression_kind", "grounding_accuracy",
           "new_model", "train", "view_kind", "view_of", "vqa_accuracy"]
