"""An older workbench-gym to time beside the current one in the same benchmark run (before/after pairs).

`tree(commit)` extracts the package as it was at a git revision into a temporary directory;
`environ(src)` is the environment in which a child process imports that copy instead of this one.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def tree(commit: str) -> str:
    """A directory holding `workbench_gym` as it was at `commit` (`git archive`)."""
    out = Path(tempfile.mkdtemp(prefix=f"workbench_gym_{commit}_"))
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", commit, "workbench_gym"], capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(out)], input=archive, check=True)
    return str(out)


def environ(src: str) -> dict[str, str]:
    """os.environ with `src` first on PYTHONPATH, so `import workbench_gym` finds the copy there."""
    return {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (src, os.environ.get("PYTHONPATH", "")) if p)}
