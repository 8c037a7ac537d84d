"""Train the native backend's screwdriver tip reader (`workbench_gym.policies.native.tips`) and write its weights.

    python scripts/train_tips.py [--scenes 2400] [--first-seed 5000] [--epochs 30] [--channels 32,64,64] [--out workbench_gym/policies/native/weights/tips.safetensors]

It renders PickTool benches (12 tools, front, overhead and wrist cameras at 384x384, seeds `--first-seed` and up: dev
seeds, never the test range), cuts the native backend's own proposals, and keeps those whose pixels are mostly one
screwdriver (instance segmentation, used here only as the label). Each end of such a proposal is labelled by where it
lies on the tool (privileged pose): the tip end as the tool's kind, the other as "handle". Scenes with seed % 5 == 0
are held out; the report gives, on their tips, how often Phillips and flathead are told apart by the grounding model
alone, by the tip reader alone and by both (`TipReader.refine`), per camera. Seeded: same scenes and seed, same weights.
"""

from __future__ import annotations

import argparse
import json
import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import torch
from torch.nn import functional as F

from workbench_gym.policies.native.tips import DEFAULT_TIP_WEIGHTS, KINDS, TipModel, TipReader, combine, end_crops

CAMERAS = ("front", "overhead", "wrist")


def render_examples(seeds: range) -> dict[str, np.ndarray]:
    """Per screwdriver proposal in the scenes of `seeds`: its two end crops and their labels (0 handle, else the kind
    + 1), its kind, and the grounding model's two kind probabilities (what `refine` starts from)."""
    import gymnasium as gym
    from scipy.spatial.transform import Rotation

    import workbench_gym  # noqa: F401  (registers the envs)
    from workbench_gym.policies.backend import View
    from workbench_gym.policies.native.backend import NativeBackend
    from workbench_gym.policies.native.vocabulary import CATEGORIES
    from workbench_gym.sim.world import FIRST_OBJECT_ID

    torch.set_num_threads(1)
    backend = NativeBackend(tips=False)  # the grounding model's own kind probabilities: what `refine` starts from
    columns = [CATEGORIES.index(k) for k in KINDS]
    env = gym.make("workbench_gym/PickTool-v0", control_mode="primitive", obs_mode="rgbd_seg", cameras=CAMERAS, image_size=(384, 384), n_tools=12)
    rows: dict[str, list] = {"crops": [], "ends": [], "kind": [], "seed": [], "camera": [], "grounding": []}
    for seed in seeds:
        obs, _ = env.reset(seed=seed)
        world = env.unwrapped.world
        objects = {FIRST_OBJECT_ID + i: o for i, o in enumerate(world.spec.objects)}
        for camera, v in obs["cameras"].items():
            frame = backend.frame(View(v["rgb"], v["depth"], v["intrinsics"], v["extrinsics"], camera))
            for k, proposal in enumerate(frame.proposals):
                ids, counts = np.unique(v["segmentation"][proposal.mask], return_counts=True)
                obj = objects.get(int(ids[counts.argmax()]))
                crops = end_crops(v["rgb"], proposal.mask)
                if obj is None or getattr(obj, "category", "") not in KINDS or crops is None or counts.max() < 0.8 * counts.sum():
                    continue
                position, quaternion = world.object_pose(obj.name)
                to_body = Rotation.from_quat(quaternion).as_matrix().T
                rows_, cols_ = np.nonzero(proposal.mask)
                kind = 1 + KINDS.index(obj.category)
                ends = [kind if (to_body @ (frame.analysis.points[r, c].astype(np.float64) - position))[0] > 0 else 0  # the tip lies at +x
                        for r, c in _axis_ends(rows_, cols_)]
                for key, value in (("crops", crops), ("ends", ends), ("kind", kind), ("seed", seed), ("camera", camera),
                                   ("grounding", frame.category_probs[k, columns])):
                    rows[key].append(value)
    env.close()
    return {k: np.asarray(v) for k, v in rows.items()}


def _axis_ends(rows: np.ndarray, cols: np.ndarray) -> list[tuple[int, int]]:
    """(row, column) of the mask pixels at both ends of its principal axis, in `end_crops`' order."""
    pixels = np.stack([cols, rows], 1).astype(np.float64)
    axis = np.linalg.svd(pixels - pixels.mean(0), full_matrices=False)[2][0]
    along = (pixels - pixels.mean(0)) @ axis
    return [(int(rows[i]), int(cols[i])) for i in (along.argmax(), along.argmin())]


def train(data: dict[str, np.ndarray], epochs: int, seed: int, channels: tuple[int, int, int]) -> tuple[TipModel, list[float]]:
    """Fit a `TipModel` on the non-held-out crops (mirrored across the axis at random: a tip has no handedness)."""
    torch.manual_seed(seed)
    model = TipModel(channels)
    optimiser = torch.optim.Adam(model.parameters(), 2e-3, weight_decay=1e-4)
    x = torch.from_numpy(data["crops"].reshape(-1, *data["crops"].shape[2:]))
    y = torch.from_numpy(data["ends"].reshape(-1)).long()
    train_rows = np.flatnonzero(np.repeat(data["seed"] % 5 != 0, 2))
    rng = np.random.default_rng(seed)
    losses = []
    for _ in range(epochs):
        model.train()
        total, order = 0.0, rng.permutation(train_rows)
        for start in range(0, len(order), 128):
            batch = order[start:start + 128]
            xb = x[batch]
            mirrored = torch.from_numpy(rng.random(len(batch)) < 0.5)
            xb = torch.where(mirrored[:, None, None, None], xb.flip(2), xb)
            loss = F.cross_entropy(model(xb), y[batch])
            optimiser.zero_grad()
            loss.backward()
            optimiser.step()
            total += loss.item() * len(batch)
        losses.append(total / len(train_rows))
    return model.eval(), losses


def held_out_report(model: TipModel, data: dict[str, np.ndarray]) -> dict:
    """On held-out screwdriver proposals: the share whose kind the grounding model, the tip reader (as `TipReader`
    reads a proposal: both ends) and both together get right."""
    reader = TipReader(model)
    held = data["seed"] % 5 == 0
    report = {}
    for camera in (*CAMERAS, "all"):
        rows = np.flatnonzero(held & ((data["camera"] == camera) if camera != "all" else True))
        if not len(rows):
            continue
        truth = data["kind"][rows] == 1  # Phillips
        grounding = data["grounding"][rows]
        alone = grounding[:, 0] / np.maximum(grounding.sum(1), 1e-6)
        tips = reader.share(data["crops"][rows])
        report[camera] = {"proposals": int(len(rows)), "grounding": _right(alone, truth), "tip_reader": _right(tips, truth),
                          "both": _right(combine(alone, tips), truth)}
    return report


def _right(share: np.ndarray, truth: np.ndarray) -> float:
    return round(float(((share > 0.5) == truth).mean()), 4)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenes", type=int, default=2400)
    parser.add_argument("--first-seed", type=int, default=5000, help="first scene seed (keep below 10,000: dev seeds)")
    parser.add_argument("--epochs", type=int, default=30)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--channels", default="32,64,64", help="the CNN's three layer widths")
    parser.add_argument("--workers", type=int, default=2, help="processes rendering scenes")
    parser.add_argument("--out", default=str(DEFAULT_TIP_WEIGHTS))
    parser.add_argument("--report", default=None, help="also write losses and held-out accuracy to this JSON file")
    parser.add_argument("--examples", default=None, help="an .npz of rendered examples: read if it exists, else written after rendering")
    args = parser.parse_args(argv)
    if args.first_seed + args.scenes > 10_000:
        parser.error("scenes must come from dev seeds (below 10,000): the test range is never trained on")
    torch.set_num_threads(args.workers)
    if args.examples and Path(args.examples).is_file():
        data = dict(np.load(args.examples))
        if data["seed"].min() < args.first_seed or data["seed"].max() >= args.first_seed + args.scenes:
            parser.error(f"{args.examples} holds scenes outside --first-seed/--scenes")
    else:
        bounds = np.linspace(args.first_seed, args.first_seed + args.scenes, args.workers + 1).astype(int)
        chunks = [range(a, b) for a, b in zip(bounds[:-1], bounds[1:])]
        if args.workers == 1:
            parts = [render_examples(chunks[0])]
        else:
            with ProcessPoolExecutor(args.workers) as pool:
                parts = list(pool.map(render_examples, chunks))
        data = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
        if args.examples:
            np.savez_compressed(args.examples, **data)
    print(f"{len(data['kind'])} screwdriver proposals from {args.scenes} scenes; their ends {np.bincount(data['ends'].ravel(), minlength=3).tolist()} (handle, Phillips, flathead)", file=sys.stderr)
    channels = tuple(int(c) for c in args.channels.split(","))
    model, losses = train(data, args.epochs, args.seed, channels)
    report = {"scenes": args.scenes, "seeds": [args.first_seed, args.first_seed + args.scenes - 1], "epochs": args.epochs, "seed": args.seed, "channels": channels,
              "losses": [round(x, 4) for x in losses], "held_out_tips_told_apart": held_out_report(model, data)}
    model.save(args.out, {"trained": {k: report[k] for k in ("scenes", "seeds", "epochs", "seed", "channels")}})
    print(json.dumps(report, indent=1))
    if args.report:
        Path(args.report).write_text(json.dumps(report, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
