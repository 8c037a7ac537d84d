"""Synthetic annotated datasets of workbench scenes: renderers, annotations, shards, COCO, reader.

Not imported by the envs. `open_dataset(dir)` reads a dataset made by `workbench-gym generate`.
The reader needs the `synth` extra (pyarrow, pycocotools, Pillow); it loads on first use, so the
command line works without it.
"""

__all__ = ["ImageRecord", "ObjectAnnotation", "SynthDataset", "open_dataset"]


def __getattr__(name: str):
    if name in ("SynthDataset", "open_dataset"):
        from workbench_gym.synth_data import reader

        return getattr(reader, name)
    if name in ("ImageRecord", "ObjectAnnotation"):
        from workbench_gym.synth_data import records

        return getattr(records, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
