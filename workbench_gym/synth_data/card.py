"""The dataset card: README.md in the dataset directory, with the front matter Hugging Face `datasets` reads.

Written with `huggingface_hub.DatasetCard`: the YAML (licence, task categories, one config whose splits are those
the dataset has files for, so `load_dataset(DIR)` works for any size) comes from `DatasetCardData`.
"""

from __future__ import annotations

import json
from importlib.metadata import PackageNotFoundError, metadata
from pathlib import Path

from workbench_gym.synth_data.randomize import SynthConfig
from workbench_gym.synth_data.storage import write_atomic

_BODY = """# workbench-gym synthetic workbench scenes ({renderer})

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
hf = load_dataset("{out}")   # splits from this card; rgb decodes to PIL images (datasets.Image)
from pycocotools.coco import COCO
coco = COCO("{out}/annotations/coco_train.json")
```

Format: docs/synthetic-data.md in workbench-gym.

## Config

```json
{config}
```
"""


TASK_CATEGORIES = ["object-detection", "image-segmentation", "visual-question-answering"]


def project_license() -> str:
    """The licence of the code that makes the data, as Hugging Face names licences ("apache-2.0"): the project's own.

    The project's expression also names GPL-3.0 for the BlenderProc program alone (`synth_data/blender`), whose
    output images it does not cover.
    """
    try:
        expression = metadata("workbench-gym").get("License-Expression") or metadata("workbench-gym").get("License")
    except PackageNotFoundError:  # a source tree that was never installed
        expression = None
    return expression.split(" AND ")[0].strip().lower() if expression else "unknown"


def _huggingface_hub():
    try:
        import huggingface_hub
    except ImportError:
        raise ImportError("the dataset card needs huggingface_hub: pip install 'workbench-gym[synth]'") from None
    return huggingface_hub


def write_card(root: Path, config: SynthConfig, counts: dict, command: str, out: str) -> None:
    """Write README.md; `out` is the directory as the command named it."""
    hub = _huggingface_hub()
    splits = [split for split in ("train", "test") if counts["images"].get(split)]
    data = hub.DatasetCardData(
        license=project_license(), task_categories=TASK_CATEGORIES, pretty_name=f"workbench-gym synthetic scenes ({config.renderer})",
        configs=[{"config_name": "default", "data_files": [{"split": s, "path": f"data/{s}-*.parquet"} for s in splits]}],
    )
    if config.spatial_frame == "robot":
        frame_note = " (as the robot sees the bench, like the envs' instructions)"
    else:
        frame_note = " (of each camera image)"
    n = config.holdout_every
    holdout = (f"The test split holds whole scenes, those whose index i has i % {n} == {n - 1}, so no test scene is seen in training."
               if n else "Every scene is in the train split.")
    body = _BODY.format(
        renderer=config.renderer, command=command, scenes=counts["scenes"], train=counts["images"].get("train", 0),
        test=counts["images"].get("test", 0), objects=counts["objects"], expressions=counts["expressions"], vqa=counts["vqa"],
        holdout_text=holdout, frame=config.spatial_frame, frame_note=frame_note,
        categories=", ".join(f"{k} {v}" for k, v in counts["categories"].items()) or "none",
        out=out, config=json.dumps(config.to_dict(), indent=1, sort_keys=True),
    )
    card = hub.DatasetCard(f"---\n{data.to_yaml()}\n---\n{body}")
    write_atomic(root / "README.md", str(card).encode())
