"""The native (default, offline) VLM backend: RGB-D proposals + a small CLIP-style crop encoder aligned with MiniLM.

`NativeBackend` is imported lazily so that the package imports without torch. The proposals it encodes are
`policies.perception`'s (numpy and scipy only).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from workbench_gym.policies.native.backend import NativeBackend


def __getattr__(name: str):
    if name == "NativeBackend":
        from workbench_gym.policies.native.backend import NativeBackend

        return NativeBackend
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = ["NativeBackend"]
