"""Fine-tuning gain of the native grounding model on a fresh synthetic dataset, in one command.

    python benchmarks/finetune_gain.py --out benchmarks/results/finetune_gain.json

Generates (or reuses, resuming) a dataset with a seed the shipped weights never saw, then runs
`scripts/finetune.py --model native` from the shipped weights: held-out grounding top-1 before and after.
Single-threaded torch, so runs repeat exactly and do not stall on a shared machine.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", required=True)
    parser.add_argument("--data", default="out/finetune_data", help="dataset directory (made here if missing)")
    parser.add_argument("--scenes", type=int, default=40)
    parser.add_argument("--seed", type=int, default=7, help="dataset seed (the shipped weights were trained on seed 0)")
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--holdout-every", type=int, default=4, help="every Nth scene is held out")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--native-weights", help="weights to start from (default: the shipped ones)")
    args = parser.parse_args(argv)

    from workbench_gym.synth_data.generate import generate
    from workbench_gym.synth_data.randomize import SynthConfig

    config = SynthConfig(scenes=args.scenes, seed=args.seed, size=args.size, holdout_every=args.holdout_every)
    generate(config, args.data, progress=False)  # resumes, or checks an existing dataset matches the config
    spec = importlib.util.spec_from_file_location("finetune", ROOT / "scripts" / "finetune.py")
    finetune = importlib.util.module_from_spec(spec)
    sys.modules["finetune"] = finetune
    spec.loader.exec_module(finetune)
    command = ["--data", args.data, "--model", "native", "--out", args.out, "--epochs", str(args.epochs), "--threads", "1", "--quiet"]
    if args.native_weights:
        command += ["--native-weights", args.native_weights]
    finetune.main(command)
    results = json.loads(Path(args.out).read_text())
    results["dataset_config"] = config.to_dict()
    Path(args.out).write_text(json.dumps(results, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
