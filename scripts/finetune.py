"""Fine-tune a grounding model on a synthetic dataset and report held-out grounding accuracy before and after (JSON).

    python scripts/finetune.py --data DATA --model clip --clip-path PATH --out results.json [--save DIR]
    python scripts/finetune.py --data DATA --model native --out results.json [--save FILE.safetensors]

DATA is a dataset made by `workbench-gym generate`; training uses its "train" split, accuracy its "test" split
(held-out scenes). Both models are scored the same way, end to end, by the native model's `grounding_accuracy`:
for each referring expression, does the top region's grasp point lie on the named object? Both rank the same
class-agnostic RGB-D proposals, so the numbers compare.

- clip: any CLIP/SigLIP checkpoint from a local path (nothing is downloaded), scoring proposal crops as the hf
  backend does. It trains on the annotated objects' crops with cross-entropy of each expression over the crops of
  its image; `among_objects` (with its `chance`) reports that choice on the held-out images too.
- native: our grounding model (policies/native), from its shipped weights or --native-weights, trained further with
  its own `train` on proposals cut from the training images.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np


@dataclass
class GroundingImage:
    """One image's candidates (annotated objects' boxes) and its expressions (text, index of the named object)."""

    rgb: np.ndarray
    boxes: list[tuple[int, int, int, int]]
    expressions: list[tuple[str, int]]


def grounding_images(records) -> list[GroundingImage]:
    """Images with at least two candidates and one expression, boxes as (x0, y0, x1, y1) pixels."""
    images = []
    for record in records:
        keep = [o for o in record.objects if o.bbox[2] >= 2 and o.bbox[3] >= 2]
        index = {o.instance_id: i for i, o in enumerate(keep)}
        boxes = [(math.floor(x), math.floor(y), math.ceil(x + w), math.ceil(y + h)) for x, y, w, h in (o.bbox for o in keep)]
        expressions = [(e.text, index[e.instance_id]) for e in record.expressions if e.instance_id in index]
        if len(boxes) >= 2 and expressions:
            images.append(GroundingImage(record.rgb, boxes, expressions))
    return images


def chance(images: list[GroundingImage]) -> float:
    """Expected top-1 accuracy of a uniform random pick."""
    picks = [1 / len(image.boxes) for image in images for _ in image.expressions]
    return float(np.mean(picks)) if picks else 0.0


def clip_logits(scorer, image: GroundingImage, texts: list[str]):
    """(texts, candidates) logits of a `ClipScorer` on one image; gradients flow."""
    crops = scorer.embed_crops([scorer.crop(image.rgb, box) for box in image.boxes])
    return scorer.logits(crops, scorer.embed_texts(texts))


def clip_accuracy(scorer, images: list[GroundingImage]) -> float:
    """Top-1 grounding accuracy over all expressions of `images`."""
    import torch

    hits = total = 0
    scorer.model.eval()
    with torch.no_grad():
        for image in images:
            logits = clip_logits(scorer, image, [text for text, _ in image.expressions])
            targets = torch.tensor([target for _, target in image.expressions])
            hits += int((logits.argmax(dim=1).cpu() == targets).sum())
            total += len(image.expressions)
    return hits / total if total else 0.0


def finetune_clip(scorer, images: list[GroundingImage], epochs: int, lr: float, seed: int, max_expressions: int = 32,
                  progress: bool = True) -> list[float]:
    """Train both towers with AdamW, one image per step; returns the mean loss of each epoch."""
    import torch
    from tqdm import tqdm

    rng = np.random.default_rng(seed)
    optimiser = torch.optim.AdamW([p for p in scorer.model.parameters() if p.requires_grad], lr=lr, weight_decay=0.01)
    losses = []
    for epoch in range(epochs):
        scorer.model.train()
        total = 0.0
        for i in tqdm(rng.permutation(len(images)), desc=f"clip epoch {epoch + 1}/{epochs}", disable=not progress, leave=False):
            image = images[i]
            chosen = rng.permutation(len(image.expressions))[:max_expressions]
            logits = clip_logits(scorer, image, [image.expressions[j][0] for j in chosen])
            targets = torch.tensor([image.expressions[j][1] for j in chosen], device=logits.device)
            loss = torch.nn.functional.cross_entropy(logits, targets)
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            total += loss.item()
        losses.append(total / max(len(images), 1))
    scorer.model.eval()
    scorer.forget_frames()  # its cached embeddings came from the old weights
    return losses


def run_clip(args, dataset, train, test) -> dict:
    """Fine-tune a CLIP-family checkpoint; accuracy before and after on the held-out records."""
    import torch

    from workbench_gym.policies.backends.hf import ClipScorer
    from workbench_gym.policies.native.training import grounding_accuracy

    if not args.clip_path:
        raise ValueError("--model clip needs --clip-path (a local CLIP or SigLIP checkpoint directory)")
    torch.manual_seed(args.seed)
    scorer = ClipScorer(args.clip_path, args.device)
    train_images, test_images = grounding_images(train), grounding_images(test)
    if not train_images:
        raise ValueError(f"{args.data}: no training image has two annotated objects and an expression")
    before, among_before = grounding_accuracy(scorer, test), clip_accuracy(scorer, test_images)
    start = time.perf_counter()
    losses = finetune_clip(scorer, train_images, args.epochs, args.lr, args.seed, progress=not args.quiet)
    seconds = time.perf_counter() - start
    after, among_after = grounding_accuracy(scorer, test), clip_accuracy(scorer, test_images)
    if args.save:
        scorer.model.save_pretrained(args.save)  # safetensors
        scorer.processor.save_pretrained(args.save)
    return {
        "start": str(args.clip_path), "before": before, "after": after, "train_losses": losses, "train_seconds": seconds,
        "among_objects": {"before": among_before, "after": among_after, "chance": chance(test_images)},
    }


def run_native(args, dataset, train, test) -> dict:
    """Fine-tune our native grounding model with its own training and evaluation functions."""
    from workbench_gym.policies.native.backend import NativeBackend
    from workbench_gym.policies.native.model import DEFAULT_WEIGHTS, GroundingModel
    from workbench_gym.policies.native.training import examples_from_records, grounding_accuracy
    from workbench_gym.policies.native.training import train as train_native

    weights = Path(args.native_weights or DEFAULT_WEIGHTS)
    model = GroundingModel.load(weights)

    def accuracy() -> dict:  # a fresh backend each time: it caches frame embeddings
        return grounding_accuracy(NativeBackend(model=model, spatial_frame=dataset.config.spatial_frame), test)

    before = accuracy()
    examples = examples_from_records(train, progress=not args.quiet)
    start = time.perf_counter()
    losses = train_native(model, examples, epochs=args.epochs, lr=args.lr, seed=args.seed, progress=not args.quiet)
    seconds = time.perf_counter() - start
    after = accuracy()
    if args.save:
        model.save(args.save)
    return {
        "start": str(weights), "before": before, "after": after, "train_losses": losses, "train_seconds": seconds,
        "train_proposals": len(examples),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", required=True, help="dataset directory from `workbench-gym generate`")
    parser.add_argument("--model", choices=["native", "clip"], required=True)
    parser.add_argument("--clip-path", help="local CLIP/SigLIP checkpoint (for --model clip)")
    parser.add_argument("--native-weights", help="native weights to start from (default: the shipped ones)")
    parser.add_argument("--out", required=True, help="JSON results path")
    parser.add_argument("--save", help="where to write the fine-tuned weights (clip: a directory; native: a .safetensors file)")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--lr", type=float, help="AdamW learning rate (default 1e-5 for clip, 5e-4 for native)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--max-images", type=int, help="use at most this many images per split (quick runs)")
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads (fixed, so runs repeat exactly)")
    parser.add_argument("--device", default="cpu", help="for clip: cpu or cuda")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    args = parser.parse_args(argv)
    args.lr = args.lr or (1e-5 if args.model == "clip" else 5e-4)

    import torch

    from workbench_gym.synth_data.reader import open_dataset

    torch.set_num_threads(args.threads)
    dataset = open_dataset(args.data)
    train, test = (list(itertools.islice(dataset.split(name), args.max_images)) for name in ("train", "test"))
    if not train or not test:
        parser.error(f"{args.data}: needs images in both splits, got {len(train)} train and {len(test)} test")
    results = {
        "model": args.model, "data": str(args.data), "train_images": len(train), "test_images": len(test),
        "test_expressions": sum(len(r.expressions) for r in test), "epochs": args.epochs, "lr": args.lr, "seed": args.seed,
    }
    results.update((run_clip if args.model == "clip" else run_native)(args, dataset, train, test))
    results["gain"] = results["after"]["top1"] - results["before"]["top1"]
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=2) + "\n")
    print(f"{args.model}: held-out top-1 {results['before']['top1']:.3f} -> {results['after']['top1']:.3f} "
          f"on {results['test_expressions']} expressions; wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
