"""Read a generated dataset: `open_dataset(dir)` -> `SynthDataset` of `ImageRecord`s, by split.

Training code uses this; it reads only the finished shards the manifest lists, in image-id order. Each parquet file
is checked against the sha256 the manifest holds for it lazily, when the reader loads it, before any row is used:
the reader loads a file whole anyway, so the check costs one hash of bytes already in memory, and opening a large
dataset stays instant. `open_dataset(dir, verify=False)` skips the check.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from workbench_gym.synth_data.randomize import SynthConfig
from workbench_gym.synth_data.records import ImageRecord
from workbench_gym.synth_data.storage import SPLITS, DatasetError, Manifest, sha256


class SynthDataset:
    """Images of one dataset directory (all splits, or one). Rows load shard by shard, on demand."""

    def __init__(self, root: Path, manifest: Manifest, splits: tuple[str, ...] = SPLITS, verify: bool = True):
        self.root, self.manifest, self.splits, self.verify = root, manifest, splits, verify
        self.config = SynthConfig(**manifest.config)
        self._digests = {rel: digest for entry in manifest.shards.values() for rel, digest in entry["files"].items()}
        self._files = sorted(
            (rel for rel in self._digests if rel.split("/")[1].split("-")[0] in splits),
            key=lambda rel: (rel.rsplit("-", 1)[1], rel),  # shard order, so ids ascend within a split
        )
        # Row counts follow from the manifest, so nothing unverified is read before its shard is checked.
        self._lengths = [self._expected_rows(rel) for rel in self._files]
        self._cache: tuple[int, list[dict]] | None = None

    def _expected_rows(self, rel: str) -> int:
        split, shard = rel.split("/")[1].removesuffix(".parquet").split("-")
        start, stop = self.manifest.shards[shard]["scenes"]
        views = self.manifest.shards[shard]["images"] // max(stop - start, 1)
        return views * sum(self.config.split(scene) == split for scene in range(start, stop))

    def __len__(self) -> int:
        return sum(self._lengths)

    def _rows(self, index: int) -> list[dict]:
        if self._cache is None or self._cache[0] != index:
            self._cache = (index, self._load(index))
        return self._cache[1]

    def _load(self, index: int) -> list[dict]:
        """The rows of one parquet file, after checking its bytes against the manifest."""
        rel, path = self._files[index], self.root / self._files[index]
        try:
            data = path.read_bytes()
        except OSError as err:
            raise DatasetError(f"{path}: cannot read shard file {rel} ({err.strerror or err}); "
                               "`workbench-gym generate ... --repair` renders it again") from None
        if self.verify and sha256(data) != self._digests[rel]:
            raise DatasetError(
                f"{path}: shard file {rel} does not match its sha256 in manifest.json (changed after it was written); "
                "`workbench-gym generate ... --repair` renders it again, open_dataset(..., verify=False) reads it as it is"
            )
        try:
            rows = pq.read_table(io.BytesIO(data)).to_pylist()
        except (pa.ArrowException, OSError, ValueError) as err:
            raise DatasetError(f"{path}: shard file {rel} is not readable parquet ({err})") from None
        if len(rows) != self._lengths[index]:
            raise DatasetError(f"{path}: shard file {rel} holds {len(rows)} rows; its manifest entry says {self._lengths[index]}")
        return rows

    def __iter__(self) -> Iterator[ImageRecord]:
        for i in range(len(self._files)):
            for row in self._rows(i):
                yield ImageRecord.from_row(row)

    def __getitem__(self, index: int) -> ImageRecord:
        if not -len(self) <= index < len(self):
            raise IndexError(f"image index {index} out of range for {len(self)} images")
        index %= len(self)
        for i, n in enumerate(self._lengths):
            if index < n:
                return ImageRecord.from_row(self._rows(i)[index])
            index -= n
        raise AssertionError("unreachable")

    def split(self, name: str) -> SynthDataset:
        """The images of one split: "train" or "test" (held-out scenes)."""
        if name not in SPLITS:
            raise ValueError(f"unknown split {name!r}; expected one of {list(SPLITS)}")
        return SynthDataset(self.root, self.manifest, (name,), self.verify)


def open_dataset(path: str | Path, verify: bool = True) -> SynthDataset:
    """Open a dataset directory written by `workbench-gym generate`.

    With `verify` (the default) each shard file is checked against the manifest's sha256 whenever it is loaded, and a
    mismatch raises `DatasetError` naming the file; `verify=False` skips that hash.
    """
    root = Path(path)
    manifest = Manifest.load(root) if root.is_dir() else None
    if manifest is None:
        raise DatasetError(f"{root}: no dataset here (expected a directory with manifest.json written by `workbench-gym generate`)")
    return SynthDataset(root, manifest, verify=verify)
