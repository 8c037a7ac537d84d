"""Rebuild a lost or damaged manifest.json from the shard files on disk that verify, so `generate --repair` keeps
every finished shard and renders only the rest.

Without the manifest's sha256s, a shard counts as finished when each of its parquet files reads back with its page
checksums verified, names in its schema metadata the very config being generated, holds exactly the image ids, split
and image size that config gives its scenes, and every image file equals the PNG its row holds. Shards written before
page checksums and config metadata existed do not verify and are rendered again.
"""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from workbench_gym.synth_data.randomize import SynthConfig
from workbench_gym.synth_data.storage import (
    SHARD_CONFIG_KEY,
    SPLITS,
    DatasetError,
    Manifest,
    image_file,
    image_id,
    sha256,
    shard_file,
)


def recover_manifest(root: Path, config: SynthConfig) -> tuple[Manifest, list[int]]:
    """A manifest of `config` listing the shards in `root` that verify, and their indices.

    `DatasetError` when shard files are there but none verify because they were made with another config: the
    rebuild would otherwise render over them.
    """
    manifest = Manifest(config.to_dict())
    kept, others = [], {}
    for shard in range(config.n_shards):
        digests = verified_shard(root, config, shard, others)
        if digests is not None:
            manifest.record(shard, config.shard_scenes(shard), digests)
            kept.append(shard)
    if not kept and others:
        made_with = next(iter(others.values()))
        diff = ", ".join(f"{k}: {made_with.get(k)!r} here, {v!r} asked" for k, v in config.to_dict().items() if made_with.get(k) != v)
        raise DatasetError(f"{root}: its shards were made with another config ({diff}); rerun with the options they were made with")
    return manifest, kept


def verified_shard(root: Path, config: SynthConfig, shard: int, others: dict | None = None) -> dict[str, str] | None:
    """The sha256 of each file of a shard whose files are whole and as `config` says, or None.

    A readable parquet file made with another config is noted in `others` (path -> that config).
    """
    scenes = config.shard_scenes(shard)
    digests = {}
    for split in SPLITS:
        ids = [image_id(scene, view) for scene in scenes if config.split(scene) == split for view in range(config.views_per_scene)]
        rel = shard_file(split, shard)
        if not ids:
            continue
        try:
            data = (root / rel).read_bytes()
            table = pq.read_table(pa.BufferReader(data), page_checksum_verification=True)  # every column: each page is checked
            made_with = json.loads((table.schema.metadata or {}).get(SHARD_CONFIG_KEY, b"null"))
        except (OSError, ValueError, pa.ArrowException):
            return None
        if made_with != config.to_dict():
            if made_with is not None and others is not None:
                others[rel] = made_with
            return None
        rows = table.select(["image_id", "split", "width", "height", "rgb"]).to_pydict()
        if rows["image_id"] != ids or set(rows["split"]) != {split} or set(rows["width"]) | set(rows["height"]) != {config.size}:
            return None
        digests[rel] = sha256(data)
        for image, rgb in zip(ids, rows["rgb"]):
            png, path = rgb["bytes"], root / image_file(image)
            if not path.is_file() or path.read_bytes() != png:
                return None
            digests[image_file(image)] = sha256(png)
    return digests
