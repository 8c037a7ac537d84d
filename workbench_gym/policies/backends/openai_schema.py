"""The part of OpenAI's chat-completions and models schema that `serve` speaks, as pydantic models.

Requests are validated against these before anything runs, so a malformed one is a 400 naming the field; unknown
fields are allowed (clients send `top_p`, `seed`, ... which a deterministic backend has no use for).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

#: Longest text part accepted: our prompts are a few hundred characters around a phrase (`MAX_ARGUMENT_CHARS`).
MAX_TEXT_CHARS = 4096
#: Most choices one request may ask for (`n`).
MAX_CHOICES = 8


class _Open(BaseModel):
    model_config = ConfigDict(extra="allow")


class ImageURL(_Open):
    url: str = Field(max_length=64 * 1024 * 1024)
    detail: str | None = None


class TextPart(_Open):
    type: Literal["text"]
    text: str = Field(max_length=MAX_TEXT_CHARS)


class ImagePart(_Open):
    type: Literal["image_url"]
    image_url: ImageURL | str


ContentPart = Annotated[TextPart | ImagePart, Field(discriminator="type")]


class Message(_Open):
    role: Literal["system", "user", "assistant", "tool", "developer"]
    content: str | list[ContentPart] | None = None


class ChatCompletionRequest(_Open):
    """POST /v1/chat/completions. `workbench_view` (ours) carries depth and calibration, see `wire.view_payload`."""

    model: str = Field(min_length=1)
    messages: list[Message] = Field(min_length=1)
    n: int = Field(default=1, ge=1, le=MAX_CHOICES)
    stream: bool = False
    max_tokens: int | None = Field(default=None, ge=1)
    temperature: float | None = Field(default=None, ge=0, le=2)
    workbench_view: dict[str, Any] | None = None


class ResponseMessage(BaseModel):
    role: Literal["assistant"] = "assistant"
    content: str


class Choice(BaseModel):
    index: int
    message: ResponseMessage
    finish_reason: Literal["stop"] = "stop"


class Usage(BaseModel):
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0


class ChatCompletion(BaseModel):
    id: str
    object: Literal["chat.completion"] = "chat.completion"
    created: int
    model: str
    choices: list[Choice]
    usage: Usage = Usage()


class Model(BaseModel):
    id: str
    object: Literal["model"] = "model"
    created: int
    owned_by: str = "workbench-gym"


class ModelList(BaseModel):
    object: Literal["list"] = "list"
    data: list[Model]


class ErrorDetail(BaseModel):
    message: str
    type: str
    param: str | None = None
    code: str | int | None = None


class ErrorResponse(BaseModel):
    error: ErrorDetail
