"""Train the native grounding model on a synthetic dataset and write its safetensors weights.

    workbench-gym generate --scenes 400 --out data/synth400
    python scripts/train_grounding.py --data data/synth400 [--out workbench_gym/policies/native/weights/grounding.safetensors]

The benchmark's level L3 needs a second set of weights trained without some tool categories (zero-shot at test time):

    python scripts/train_grounding.py --data data/synth400 --hold-out claw_hammer,needle_nose_pliers \
        --out workbench_gym/policies/native/weights/grounding_holdout_v1.safetensors

Seeded: the same dataset and seed give the same weights (on the same torch build and thread count).
Prints the loss per epoch and the held-out grounding accuracy; `--report FILE` also writes them as JSON.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import torch

from workbench_gym.policies.native.backend import NativeBackend
from workbench_gym.policies.native.model import DEFAULT_WEIGHTS
from workbench_gym.policies.native.training import examples_from_records, grounding_accuracy, new_model, train, without_categories
from workbench_gym.policies.native.vocabulary import BANK
from workbench_gym.synth_data.reader import open_dataset


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", required=True, help="dataset directory written by `workbench-gym generate`")
    parser.add_argument("--out", default=str(DEFAULT_WEIGHTS), help="where to write the weights (.safetensors)")
    parser.add_argument("--epochs", type=int, default=12)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2, help="torch CPU threads (fixed, so runs repeat exactly)")
    parser.add_argument("--eval-images", type=int, default=None, help="held-out images to evaluate on (default all)")
    parser.add_argument("--report", default=None, help="also write losses and accuracy to this JSON file")
    parser.add_argument("--hold-out", default="", metavar="CATEGORY,...",
                        help="tool categories kept out of training: their crops and the phrases naming only them (suite level L3)")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    dataset = open_dataset(args.data)
    examples = examples_from_records(dataset.split("train"))
    held_out = tuple(c for c in args.hold_out.split(",") if c)
    bank = BANK
    if held_out:
        examples, bank = without_categories(examples, held_out)
        print(f"held out {list(held_out)}: {len(BANK) - len(bank)} phrases left out of the bank", file=sys.stderr)
    print(f"{len(examples)} proposals, {int((examples.category >= 0).sum())} matched to objects", file=sys.stderr)
    model = new_model(seed=args.seed, bank=bank)
    losses = train(model, examples, epochs=args.epochs, seed=args.seed)
    model.save(args.out)
    print(f"wrote {args.out}; loss per epoch {[round(x, 4) for x in losses]}", file=sys.stderr)
    backend = NativeBackend(model=model, spatial_frame=dataset.config.spatial_frame)
    accuracy = grounding_accuracy(backend, dataset.split("test"), limit=args.eval_images)
    print(json.dumps(accuracy, indent=1))
    if args.report:
        Path(args.report).write_text(json.dumps({"data": args.data, "seed": args.seed, "epochs": args.epochs, "losses": losses,
                                                 "held_out": accuracy, "held_out_categories": list(held_out)}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
