"""Every word of the workbench: vocabulary from the catalog, referring-expression grammar, generation, the reader.

`read_instruction(text) -> StructuredTask` reads an instruction (offline, needs the `vlm` extra for MiniLM);
`read_reply(text, previous)` reads a supervisor's reply as a refinement of a `ToolReference`. See docs/language.md.
"""

from workbench_gym.language.reader import read_instruction, read_reply
from workbench_gym.language.task import INTENTS, JSON_SCHEMA, UNLISTED, StructuredTask, ToolReference

__all__ = ["INTENTS", "JSON_SCHEMA", "UNLISTED", "StructuredTask", "ToolReference", "read_instruction", "read_reply"]
