"""An older workbench-gym to time beside the current one in the same benchmark run (before/after pairs).

`tree(commit)` extracts the package as it was at a git revision into a temporary directory;
`environ(src)` is the environment in which a child process imports that copy instead of this one; `Child` runs a
benchmark script there and asks it for measurements one line at a time.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
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


class Child:
    """A benchmark script run in a child process that imports `workbench_gym` from `src`: each line written to it is
    answered with one line of JSON."""

    def __init__(self, src: str, script: str, args: list[str]):
        self.proc = subprocess.Popen([sys.executable, script, *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     text=True, env=environ(src), cwd=str(Path(script).parent))

    def ask(self, line: str) -> dict:
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()
        for out in self.proc.stdout:
            if out.startswith("{"):  # PyBullet's C code prints to stdout too ("argv[0]=")
                return json.loads(out)
        raise RuntimeError(f"the baseline child process ended (exit code {self.proc.wait()})")

    def close(self) -> None:
        self.proc.stdin.close()
        self.proc.wait()
