"""Dataset directory layout, atomic writes and the manifest of finished shards.

    DIR/manifest.json               config, finished shards (files + sha256), counts once complete
    DIR/data/{split}-{shard}.parquet one file per split a shard has scenes of (HF `datasets` reads them)
    DIR/images/{image_id}.png        the RGB images again, for COCO tools
    DIR/annotations/coco_{split}.json
    DIR/README.md                    the dataset card

Every file is written to a hidden temporary name and renamed, so a killed run leaves whole files or
none. A shard counts as finished only once the manifest lists it, and the manifest is written last.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

FORMAT = "workbench-gym-synth"
FORMAT_VERSION = 2  # 2: rgb stored as datasets.Image stores images (bytes, path)
MANIFEST = "manifest.json"
#: Parquet schema metadata key holding the config a shard was made with (JSON), so a lost manifest can be rebuilt.
SHARD_CONFIG_KEY = b"workbench_gym.synth_config"
SPLITS = ("train", "test")
IMAGES_PER_SCENE_MAX = 1000  # image_id = scene_index * this + view
_IMAGE_RE = re.compile(r"^(\d{9})\.png$")
_DATA_RE = re.compile(r"^(train|test)-(\d{5})\.parquet$")


class DatasetError(RuntimeError):
    """A dataset directory that cannot be written, resumed or read as asked."""


class CorruptManifest(DatasetError):
    """A manifest.json that is not readable JSON of the expected shape: `generate --repair` rebuilds it."""


def shard_file(split: str, shard: int) -> str:
    return f"data/{split}-{shard:05d}.parquet"


def image_file(image_id: int) -> str:
    return f"images/{image_id:09d}.png"


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def write_atomic(path: Path, data: bytes, sync: bool = False) -> None:
    """Write `data` to `path` through a temporary file and a rename; `sync` also flushes it to disk."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "wb") as fh:
        fh.write(data)
        if sync:
            fh.flush()
            os.fsync(fh.fileno())
    os.replace(tmp, path)


@dataclass
class Manifest:
    """What the directory holds: the config it was made with and the shards that are finished."""

    config: dict
    #: "00003" -> {"scenes": [start, stop], "images": n, "images_sha256": digest, "files": {parquet path: sha256}}
    shards: dict[str, dict] = field(default_factory=dict)
    complete: bool = False
    counts: dict = field(default_factory=dict)

    def to_json(self) -> str:
        data = {"format": FORMAT, "version": FORMAT_VERSION, "config": self.config, "shards": self.shards,
                "complete": self.complete, "counts": self.counts}
        return json.dumps(data, indent=1, sort_keys=True) + "\n"

    def save(self, root: Path) -> None:
        write_atomic(root / MANIFEST, self.to_json().encode(), sync=True)

    @classmethod
    def load(cls, root: Path) -> Manifest | None:
        """The manifest in `root`, or None where there is none yet."""
        path = root / MANIFEST
        if not path.exists():
            return None
        try:
            data = json.loads(path.read_bytes())
        except (OSError, ValueError, RecursionError) as err:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
            raise CorruptManifest(f"{path}: unreadable manifest ({type(err).__name__}: {str(err)[:200]}); it is written atomically, "
                                  "so something else changed it") from None
        fmt, version = (data.get("format"), data.get("version")) if isinstance(data, dict) else (None, None)
        if (isinstance(fmt, str) and fmt != FORMAT) or (fmt == FORMAT and isinstance(version, int) and version != FORMAT_VERSION):
            # Another tool's manifest or another version of ours: not for --repair to overwrite.
            raise DatasetError(f"{path}: not a {FORMAT} v{FORMAT_VERSION} manifest (format={fmt!r}, version={version!r})")
        if fmt != FORMAT or version != FORMAT_VERSION:
            raise CorruptManifest(f"{path}: damaged manifest (no {FORMAT} v{FORMAT_VERSION} format and version fields)")
        try:
            manifest = cls(dict(data["config"]), dict(data["shards"]), bool(data["complete"]), dict(data.get("counts", {})))
            for key, entry in manifest.shards.items():
                _check_entry(key, entry)
        except (KeyError, TypeError, ValueError, AttributeError) as err:
            raise CorruptManifest(f"{path}: damaged manifest ({type(err).__name__}: {str(err)[:200]})") from None
        return manifest

    def finished(self) -> set[int]:
        return {int(k) for k in self.shards}

    def record(self, shard: int, scenes: range, digests: dict[str, str]) -> None:
        """Mark a shard finished, given the sha256 of each of its files.

        Images are summed up in one digest (a manifest listing every image would be rewritten, whole,
        after each shard); their names follow from the scene range, as every scene has as many views.
        """
        images = sorted(rel for rel in digests if rel.startswith("images/"))
        entry = {"scenes": [scenes.start, scenes.stop], "images": len(images), "images_sha256": _combined(images, digests),
                 "files": {rel: d for rel, d in sorted(digests.items()) if not rel.startswith("images/")}}
        if images != image_files(entry):
            raise ValueError(f"shard {shard}: images {images[:3]}... do not follow image_id(scene, view) for scenes {scenes}")
        self.shards[f"{shard:05d}"] = entry

    def data_files(self) -> list[str]:
        """Parquet files of the finished shards."""
        return sorted(rel for entry in self.shards.values() for rel in entry["files"])


def _check_entry(key: str, entry: dict) -> None:
    """Raise KeyError, TypeError or ValueError where a manifest shard entry does not have its shape."""
    if not key.isdigit() or not isinstance(entry["files"], dict) or not isinstance(entry["images_sha256"], str):
        raise ValueError(f"shard entry {key!r} is damaged")
    image_files(entry)


def image_id(scene_index: int, view: int) -> int:
    return scene_index * IMAGES_PER_SCENE_MAX + view


def image_files(entry: dict) -> list[str]:
    """Image paths of a manifest shard entry."""
    start, stop = entry["scenes"]
    views = entry["images"] // max(stop - start, 1)
    return sorted(image_file(image_id(scene, view)) for scene in range(start, stop) for view in range(views))


def _combined(paths: list[str], digests: dict[str, str]) -> str:
    return sha256("".join(f"{rel} {digests[rel]}\n" for rel in sorted(paths)).encode())


def _digest(path: Path) -> str | None:
    return sha256(path.read_bytes()) if path.is_file() else None


def corrupt_shards(root: Path, manifest: Manifest) -> dict[str, list[str]]:
    """Finished shards with missing or changed files: shard key -> what is wrong."""
    bad = {}
    for key, entry in manifest.shards.items():
        problems = [rel for rel, d in entry["files"].items() if _digest(root / rel) != d]
        images = image_files(entry)
        if _combined(images, {rel: _digest(root / rel) for rel in images}) != entry["images_sha256"]:
            problems.append(f"images of scenes {entry['scenes'][0]}..{entry['scenes'][1] - 1}")
        if problems:
            bad[key] = problems
    return bad


def remove_unfinished(root: Path, manifest: Manifest) -> int:
    """Delete temporaries and the files of shards the manifest does not list; return how many went."""
    keep = set(manifest.data_files()) | {rel for entry in manifest.shards.values() for rel in image_files(entry)}
    removed = 0
    for folder, pattern in (("data", _DATA_RE), ("images", _IMAGE_RE)):
        directory = root / folder
        if not directory.is_dir():
            continue
        for path in directory.iterdir():
            rel = f"{folder}/{path.name}"
            ours = pattern.match(path.name) or (path.name.startswith(".") and path.name.endswith(".tmp"))
            if ours and rel not in keep:
                path.unlink()
                removed += 1
    return removed
