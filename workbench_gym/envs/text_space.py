"""`InstructionText`: a Gymnasium `Text` space whose strings stay current in an async vector env's shared memory.

Gymnasium 1.x decodes `Text` observations out of shared memory once, when `AsyncVectorEnv` is built, and returns
those placeholder strings ('aaaa...') on every step after, although the workers write each new string into the
buffer. For this space the vector env reads through `SharedTexts` instead, which decodes the buffer when read,
and a plain tuple of the current strings whenever the vector env copies its observations (its default).
"""

from __future__ import annotations

from collections.abc import Sequence

from gymnasium import spaces
from gymnasium.vector.utils import read_from_shared_memory


class InstructionText(spaces.Text):
    """`spaces.Text` in every respect but how an async vector env reads it back (see the module docstring)."""


class SharedTexts(Sequence[str]):
    """The `n` strings of a `Text` space in shared memory, decoded on every read."""

    def __init__(self, space: spaces.Text, memory, n: int):
        self.space, self.memory, self.n = space, memory, n

    def _decode(self) -> tuple[str, ...]:
        return _READ_TEXT(self.space, self.memory, n=self.n)

    def __getitem__(self, index):
        return self._decode()[index]

    def __len__(self) -> int:
        return self.n

    def __eq__(self, other) -> bool:
        return tuple(self) == tuple(other) if isinstance(other, Sequence) else NotImplemented

    def __deepcopy__(self, memo) -> tuple[str, ...]:
        return self._decode()

    def __repr__(self) -> str:
        return repr(self._decode())


_READ_TEXT = read_from_shared_memory.dispatch(spaces.Text)


@read_from_shared_memory.register(InstructionText)
def _read_instruction_text(space: InstructionText, shared_memory, n: int = 1) -> SharedTexts:
    return SharedTexts(space, shared_memory, n)
