"""The dataset card: README.md in the dataset directory, with HF `datasets` front matter."""

from __future__ import annotations

import json
from pathlib import Path

from workbench_gym.synth_data.randomize import SynthConfig
from workbench_gym.synth_data.storage import write_atomic

_TEMPLATE = """---
configs:
- config_name: default
  data_files:
  - split: train
    path: data/train-*.parquet
  - split: test
    path: data/test-*.parquet
task_categories:
- object-detection
- image-segmentation
- visual-question-answering
license: mit
---
# workbench-gym synthetic workbench scenes ({renderer})

Cluttered workbenches of hand tools in front of a Franka Panda, rendered by the **{renderer}** renderer from
seeded `SceneSpec`s with domain randomisation (camera jitter, light, bench colour, clutter, containers).
Each image comes with RGB, metric depth, an instance map, COCO masks and boxes, attributes, referring
expressions that pick out exactly one object, question-answer pairs and a caption.

Made with:

```bash
{command}
```

## Counts

| | |
| --- | --- |
| scenes | {scenes} |
| images (train / test) | {train} / {test} |
| object annotations | {objects} |
| referring expressions | {expressions} |
| VQA pairs | {vqa} |

{holdout_text}
Left and right are said in the **{frame}** frame{frame_note}.

Objects per category: {categories}

## Use

```python
from workbench_gym.synth_data import open_dataset
ds = open_dataset("{out}")
rec = ds.split("test")[0]     # ImageRecord: rgb, depth (m), segmentation, intrinsics, extrinsics, objects, ...
from datasets import load_dataset
hf = load_dataset("parquet", data_files={{"train": "{out}/data/train-*.parquet", "test": "{out}/data/test-*.parquet"}})
from pycocotools.coco import COCO
coco = COCO("{out}/annotations/coco_train.json")
```

Format: docs/synthetic-data.md in workbench-gym.

## Config

```json
{config}
```
"""


def write_card(root: Path, config: SynthConfig, counts: dict, command: str, out: str) -> None:
    """Write README.md; `out` is the directory as the command named it."""
    if config.spatial_frame == "robot":
        frame_note = " (as the robot sees the bench, like the envs' instructions)"
    else:
        frame_note = " (of each camera image)"
    n = config.holdout_every
    holdout = (f"The test split holds whole scenes, those whose index i has i % {n} == {n - 1}, so no test scene is seen in training."
               if n else "Every scene is in the train split.")
    text = _TEMPLATE.format(
        renderer=config.renderer, command=command, scenes=counts["scenes"], train=counts["images"].get("train", 0),
        test=counts["images"].get("test", 0), objects=counts["objects"], expressions=counts["expressions"], vqa=counts["vqa"],
        holdout_text=holdout, frame=config.spatial_frame, frame_note=frame_note,
        categories=", ".join(f"{k} {v}" for k, v in counts["categories"].items()) or "none",
        out=out, config=json.dumps(config.to_dict(), indent=1, sort_keys=True),
    )
    write_atomic(root / "README.md", text.encode())
