"""Read a generated dataset: `open_dataset(dir)` -> `SynthDataset` of `ImageRecord`s, by split.

Training code uses this; it reads only the finished shards the manifest lists, in image-id order.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pyarrow.parquet as pq

from workbench_gym.synth_data.randomize import SynthConfig
from workbench_gym.synth_data.records import ImageRecord
from workbench_gym.synth_data.storage import SPLITS, DatasetError, Manifest


class SynthDataset:
    """Images of one dataset directory (all splits, or one). Rows load shard by shard, on demand."""

    def __init__(self, root: Path, manifest: Manifest, splits: tuple[str, ...] = SPLITS):
        self.root, self.manifest, self.splits = root, manifest, splits
        self.config = SynthConfig(**manifest.config)
        self._files = sorted(
            (rel for rel in manifest.data_files() if rel.split("/")[1].split("-")[0] in splits),
            key=lambda rel: (rel.rsplit("-", 1)[1], rel),  # shard order, so ids ascend within a split
        )
        self._lengths = [pq.ParquetFile(root / rel).metadata.num_rows for rel in self._files]
        self._cache: tuple[int, list[dict]] | None = None

    def __len__(self) -> int:
        return sum(self._lengths)

    def _rows(self, index: int) -> list[dict]:
        if self._cache is None or self._cache[0] != index:
            self._cache = (index, pq.read_table(self.root / self._files[index]).to_pylist())
        return self._cache[1]

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
        return SynthDataset(self.root, self.manifest, (name,))


def open_dataset(path: str | Path) -> SynthDataset:
    """Open a dataset directory written by `workbench-gym generate`."""
    root = Path(path)
    manifest = Manifest.load(root) if root.is_dir() else None
    if manifest is None:
        raise DatasetError(f"{root}: no dataset here (expected a directory with manifest.json written by `workbench-gym generate`)")
    return SynthDataset(root, manifest)
