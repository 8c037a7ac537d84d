"""Optional dependencies by package extra, checked before a command starts work, naming the `pip install` to run."""

from __future__ import annotations

import importlib.util


class MissingExtra(ImportError):
    """Optional dependencies that are not installed; the message names the `pip install` that adds them."""

#: Extra -> modules it installs that commands import (import names, not distribution names).
EXTRAS = {
    "video": ("imageio", "imageio_ffmpeg", "PIL"),
    "synth": ("pycocotools", "pyarrow", "PIL"),
    "usd": ("pxr",),
    "ray": ("ray",),
    "vlm": ("torch", "safetensors", "PIL"),
    "rl": ("h5py", "pyarrow"),
}


def _installed(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):  # a parent package missing, or a module stubbed out as None
        return False


def require(extra: str, what: str, modules: tuple[str, ...] | None = None) -> None:
    """Raise `MissingExtra` naming the pip command if `modules` (default: all of `extra`'s) are not installed."""
    missing = [m for m in (EXTRAS[extra] if modules is None else modules) if not _installed(m)]
    if missing:
        torch = "pip install torch==2.13.0 (the CPU wheel) first, then " if "torch" in missing else ""
        raise MissingExtra(f"{what} needs {', '.join(missing)}, which is not installed: {torch}pip install 'workbench-gym[{extra}]'")
