"""`workbench-gym generate` and `workbench-gym dataset preview`: argument parsing and entry points."""

from __future__ import annotations

import sys

from workbench_gym.arguments import nonnegative_int, positive_int, writable_file
from workbench_gym.synth_data.randomize import SynthConfig
from workbench_gym.synth_data.renderer import RENDERERS
from workbench_gym.synth_data.storage import DatasetError

_DEFAULTS = SynthConfig()


def _missing_extra(command: str) -> SystemExit:
    return SystemExit(f"workbench-gym {command} needs the synth extra: pip install 'workbench-gym[synth]'")


def _generate(args) -> int:
    try:
        from workbench_gym.synth_data.generate import generate
    except ImportError:
        raise _missing_extra("generate") from None

    config = SynthConfig(scenes=args.scenes, seed=args.seed, size=args.size, renderer=args.renderer, scenes_per_shard=args.scenes_per_shard)
    try:
        manifest = generate(config, args.out, workers=args.workers, ray_address=args.ray_address, progress=not args.quiet, repair=args.repair)
    except DatasetError as err:
        print(f"workbench-gym generate: error: {err}", file=sys.stderr)
        return 2
    counts = manifest.counts
    print(f"{args.out}: {counts['scenes']} scenes, {sum(counts['images'].values())} images {counts['images']}, "
          f"{counts['objects']} objects, {counts['expressions']} expressions, {counts['vqa']} VQA pairs")
    return 0


def _preview(args) -> int:
    try:
        from workbench_gym.synth_data.preview import preview
    except ImportError:
        raise _missing_extra("dataset preview") from None

    writable_file(args.out, "--out")
    try:
        path = preview(args.dir, args.out, count=args.count, columns=args.columns, split=args.split)
    except DatasetError as err:
        print(f"workbench-gym dataset preview: error: {err}", file=sys.stderr)
        return 2
    print(f"{path}: {args.count} images of {args.dir}")
    return 0


def add_parsers(sub) -> None:
    """Register `generate` and `dataset` on the main parser's subparsers."""
    p = sub.add_parser("generate", help="render an annotated synthetic dataset (COCO, parquet shards, expressions, VQA)")
    p.add_argument("--renderer", default="pybullet", help=f"renderer, one of: {', '.join(RENDERERS)}")
    p.add_argument("--scenes", type=positive_int, required=True, help="number of scenes (each gives one image per camera)")
    p.add_argument("--out", required=True, help="dataset directory (created; rerun the same command to resume)")
    p.add_argument("--workers", type=positive_int, default=1, help="local worker processes")
    p.add_argument("--ray-address", help="fan shards out as Ray tasks on this cluster ('auto', 'ray://host:10001', or 'local')")
    p.add_argument("--size", type=positive_int, default=_DEFAULTS.size, help="image width and height in pixels")
    p.add_argument("--seed", type=nonnegative_int, default=_DEFAULTS.seed)
    p.add_argument("--scenes-per-shard", type=positive_int, default=_DEFAULTS.scenes_per_shard)
    p.add_argument("--repair", action="store_true",
                   help="re-render finished shards whose files are missing or changed; rebuild a damaged manifest.json from the shards that verify")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(run=_generate)

    p = sub.add_parser("dataset", help="inspect a generated dataset")
    dsub = p.add_subparsers(dest="dataset_command", required=True)
    q = dsub.add_parser("preview", help="draw a grid of images with masks and referring expressions")
    q.add_argument("dir", help="dataset directory")
    q.add_argument("--out", required=True, help="PNG path")
    q.add_argument("--count", type=positive_int, default=8, help="images in the grid")
    q.add_argument("--columns", type=positive_int, default=4, help="images per row")
    q.add_argument("--split", choices=["train", "test"])
    q.set_defaults(run=_preview)

