"""Every word of the workbench: vocabulary from the catalog, referring-expression grammar, generation, the reader."""

from workbench_gym.language.task import INTENTS, JSON_SCHEMA, UNLISTED, StructuredTask, ToolReference

__all__ = ["INTENTS", "JSON_SCHEMA", "UNLISTED", "StructuredTask", "ToolReference"]
