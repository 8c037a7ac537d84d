"""Train the instruction reader on a generated corpus and write its weights (safetensors) into the package.

    python scripts/train_reader.py                       # 30,000 examples, 10 epochs, seed 0 -> the shipped weights
    python scripts/train_reader.py --examples 4000 --epochs 3 --out /tmp/reader.safetensors   # a quick run

Reproducible: the corpus is generated from `--seed`, torch runs on `--threads` fixed CPU threads. The corpus is
`language.corpus` only; no instruction set (dev or test) is read here. Prints and optionally writes the accuracy on
generated examples held back from training.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import time
from pathlib import Path

import numpy as np

from workbench_gym.language.corpus import generate_corpus
from workbench_gym.language.reader import DEFAULT_WEIGHTS, ReaderConfig, save_network
from workbench_gym.language.training import accuracy, encode_examples, train_network


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--examples", type=int, default=30_000, help="generated training examples")
    parser.add_argument("--held-back", type=int, default=2_000, help="generated examples kept for the accuracy check")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1, help="torch CPU threads (fixed, so runs repeat exactly)")
    parser.add_argument("--out", default=str(DEFAULT_WEIGHTS), help="where to write the weights (.safetensors)")
    parser.add_argument("--cache", help="an .npz to keep the corpus's MiniLM vectors in (reused when it matches)")
    parser.add_argument("--report", help="also write losses and accuracy to this JSON file")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    args = parser.parse_args(argv)
    if args.examples < 1 or args.held_back < 0 or args.epochs < 1:
        parser.error("--examples and --epochs must be positive, --held-back not negative")

    import torch

    torch.set_num_threads(args.threads)
    start = time.perf_counter()
    corpus = generate_corpus(args.examples + args.held_back, seed=args.seed)
    vectors = _vectors(corpus, args.cache, progress=not args.quiet)
    train, held = corpus[: args.examples], corpus[args.examples:]
    net, history = train_network(train, vectors[: args.examples], ReaderConfig(), epochs=args.epochs, seed=args.seed,
                                 progress=not args.quiet)
    scores = accuracy(net, held, vectors[args.examples:]) if held else {}
    save_network(net, args.out, {"examples": args.examples, "epochs": args.epochs, "seed": args.seed})
    report = {"command": "python scripts/train_reader.py " + " ".join(argv or []), "examples": args.examples,
              "held_back": args.held_back, "epochs": args.epochs, "seed": args.seed, "losses": history,
              "held_back_accuracy": scores, "weights": args.out, "seconds": round(time.perf_counter() - start, 1)}
    print(json.dumps(report, indent=2))
    if args.report:
        Path(args.report).parent.mkdir(parents=True, exist_ok=True)
        Path(args.report).write_text(json.dumps(report, indent=2) + "\n")


def _vectors(corpus, cache: str | None, progress: bool) -> list[np.ndarray]:
    """The corpus's word vectors, from the cache when it holds this very corpus."""
    key = hashlib.blake2b("\n".join(" ".join(e.words) for e in corpus).encode(), digest_size=16).hexdigest()
    if cache and Path(cache).exists():
        stored = np.load(cache, allow_pickle=False)
        if str(stored["key"]) == key:
            flat, offsets = stored["flat"], stored["offsets"]
            return [flat[offsets[i]: offsets[i + 1]] for i in range(len(corpus))]
    vectors = encode_examples(corpus, progress=progress)
    if cache:
        offsets = np.cumsum([0] + [len(v) for v in vectors])
        np.savez(cache, key=key, flat=np.concatenate(vectors), offsets=offsets)
    return vectors


if __name__ == "__main__":
    main()
