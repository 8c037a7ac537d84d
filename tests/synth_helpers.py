"""Helpers shared by the synthetic-data tests: one small dataset config and a byte-level directory compare."""

from pathlib import Path

from workbench_gym.synth_data.randomize import SynthConfig

#: Small enough for one core; expressible on the command line (only CLI options differ from defaults).
CONFIG = SynthConfig(scenes=10, seed=5, size=64, scenes_per_shard=2)
CLI_ARGS = ["--scenes", "10", "--seed", "5", "--size", "64", "--scenes-per-shard", "2"]


def tree_bytes(root: Path) -> dict[str, bytes]:
    """Every file under `root` by relative path; the card's command names the directory, so it is normalised."""
    out = {}
    for path in sorted(root.rglob("*")):
        if path.is_file():
            data = path.read_bytes()
            if path.name == "README.md":
                data = data.replace(str(root).encode(), b"<DIR>")
            out[str(path.relative_to(root))] = data
    return out
