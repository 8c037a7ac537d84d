"""A backend that asks any OpenAI-compatible chat-completions server with image input (vLLM, Ollama, SGLang,
`workbench-gym serve`), and falls back to a local backend when the server is down, slow or talks nonsense.

The HTTP call is stdlib `http.client` (see `transport`) rather than the `openai` package: the robot needs one hard
bound on the whole call (all retries, a server that trickles bytes, the fallback's answer), and no implicit settings
read from OPENAI_* variables.
"""

from __future__ import annotations

import http.client
import json
import logging
import os
import time
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from workbench_gym.language.task import StructuredTask
from workbench_gym.policies.backend import Backend, Region, View
from workbench_gym.policies.backends.prompts import SYSTEM_PROMPT, answer_prompt, ground_prompt, plan_prompt
from workbench_gym.policies.backends.replies import COORDINATES, MalformedReply, parse_regions, parse_task
from workbench_gym.policies.backends.transport import DeadlineExceeded, post
from workbench_gym.policies.backends.wire import image_data_url, view_payload

log = logging.getLogger(__name__)

#: Statuses worth another try: the server is busy or briefly broken, not refusing the request itself.
RETRY_STATUSES = {408, 425, 429, 500, 502, 503, 504}
#: Largest reply body read: a chat completion with 100 regions and their masks is well under 1 MB.
MAX_REPLY_BYTES = 16 * 2**20


class RemoteError(RuntimeError):
    """The server could not give a usable reply within the bounds (its message never holds the API key)."""


@dataclass
class OpenAICompatConfig:
    """Where the server is and how long to wait for it."""

    base_url: str = "http://127.0.0.1:8000/v1"
    model: str = "workbench-native"
    api_key_env: str | None = "OPENAI_API_KEY"  # name of the variable holding the key; the key itself never passes here
    timeout_s: float = 10.0  # one connect, send or read of a request
    total_timeout_s: float = 20.0  # one ground/answer/plan call: all retries and backoff, and the fallback's answer
    fallback_reserve_s: float = 0.5  # of total_timeout_s, kept for the fallback to answer (when one is configured)
    retries: int = 2  # further tries after the first, on connection errors, timeouts and busy statuses
    backoff_s: float = 0.25  # wait before the first retry, doubled for each next one
    max_tokens: int = 512
    temperature: float = 0.0
    send_view: bool = True  # add depth and calibration as `workbench_view` (our server uses them, others ignore them)
    coordinates: str = "pixels"  # how the model writes boxes: pixels, norm1000 (Qwen2-VL) or norm1
    fallback: str | None = "native"  # backend used when the server fails; None raises RemoteError instead
    cooldown_s: float = 30.0  # after a connection failure or timeout, go straight to the fallback for this long
    fallback_options: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self):
        parts = urlsplit(self.base_url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"base_url {self.base_url!r} must be an http(s) URL such as http://127.0.0.1:8000/v1")
        if self.coordinates not in COORDINATES:
            raise ValueError(f"coordinates {self.coordinates!r} must be one of {sorted(COORDINATES)}")
        for name in ("timeout_s", "total_timeout_s"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be > 0, got {getattr(self, name)}")
        if not 0 <= self.fallback_reserve_s < self.total_timeout_s:
            raise ValueError(f"fallback_reserve_s must be in [0, total_timeout_s={self.total_timeout_s}), got {self.fallback_reserve_s}")
        if self.retries < 0 or self.backoff_s < 0:
            raise ValueError(f"retries and backoff_s must be >= 0, got {self.retries} and {self.backoff_s}")


@dataclass
class CallStats:
    """How calls went: remote replies used, and fallbacks with the last reason."""

    remote: int = 0
    fallbacks: int = 0
    last_error: str = ""


class OpenAICompatBackend:
    """Grounds, answers and plans through a chat-completions server, with a hard time bound and a local fallback."""

    name = "openai"

    def __init__(self, config: OpenAICompatConfig | None = None, fallback_backend: Backend | None = None, **options):
        if config is not None and options:
            raise ValueError(f"pass either config or options, not both (got options {sorted(options)})")
        self.config = config or OpenAICompatConfig(**options)
        self._key = api_key(self.config.api_key_env)
        self._fallback = fallback_backend
        if self.config.fallback is not None:
            self._fallback_backend()  # built now, not on first need: loading a model takes seconds, beyond a call's bound
        self._down_until = 0.0
        self._encoded: tuple[View | None, str, dict | None] = (None, "", None)
        self.stats = CallStats()

    # -- Backend -------------------------------------------------------------------------------------------------

    def ground(self, view: View, phrase: str) -> list[Region]:
        """Regions for `phrase`, best first, from the server's JSON boxes; the fallback's when that fails."""
        height, width = view.rgb.shape[:2]
        prompt = ground_prompt(phrase, width, height)
        reply = self._ask(view, prompt, lambda text: parse_regions(text, width, height, self.config.coordinates))
        return reply if reply is not None else self._fallback_backend().ground(view, phrase)

    def answer(self, view: View, question: str) -> str:
        """The server's plain-text answer; the fallback's when the server fails or says nothing."""
        reply = self._ask(view, answer_prompt(question), _plain_text)
        return reply if reply is not None else self._fallback_backend().answer(view, question)

    def plan(self, view: View, instruction: str) -> StructuredTask | None:
        """The server's structured task (None when it leaves reading to the planner); the fallback's when it fails."""
        reply = self._ask(view, plan_prompt(instruction), lambda text: (parse_task(text),))  # a 1-tuple: None is an answer
        if reply is None:
            return self._fallback_backend().plan(view, instruction)
        return reply[0]

    # -- transport -----------------------------------------------------------------------------------------------

    def _ask(self, view: View, prompt: str, parse):
        """Parsed server reply, or None after recording why the fallback must answer."""
        if time.monotonic() < self._down_until:
            return self._failed("server marked down after a recent failure", logging.DEBUG)
        try:
            content = self._complete(self._request(view, prompt))
        except RemoteError as err:
            # Down, slow or not speaking the API: spare the next calls the wait for a while.
            self._down_until = time.monotonic() + self.config.cooldown_s
            return self._failed(str(err))
        try:
            reply = parse(content)
        except MalformedReply as err:  # the server works; this one reply was unusable
            return self._failed(str(err))
        self.stats.remote += 1
        return reply

    def _failed(self, reason: str, level: int = logging.WARNING):
        reason = self._redact(reason)
        self.stats.fallbacks += 1
        self.stats.last_error = reason
        if self.config.fallback is None and self._fallback is None:
            raise RemoteError(f"{self.config.base_url}: {reason} (no fallback backend configured)")
        log.log(level, "openai backend: %s; using the %s fallback", reason, self._fallback_name())
        return None

    def _fallback_name(self) -> str:
        return self._fallback.name if self._fallback is not None else str(self.config.fallback)

    def _fallback_backend(self) -> Backend:
        if self._fallback is None:
            from workbench_gym.policies.backends import make_backend

            self._fallback = make_backend(self.config.fallback, **self.config.fallback_options)
        return self._fallback

    def _request(self, view: View, prompt: str) -> dict:
        if self._encoded[0] is not view:  # the planner asks several things about one view: encode it once
            self._encoded = (view, image_data_url(view.rgb), view_payload(view) if self.config.send_view else None)
        _, image_url, payload = self._encoded
        body: dict[str, Any] = {
            "model": self.config.model,
            "messages": [
                {"role": "system", "content": SYSTEM_PROMPT},
                {"role": "user", "content": [
                    {"type": "image_url", "image_url": {"url": image_url}},
                    {"type": "text", "text": prompt},
                ]},
            ],
            "max_tokens": self.config.max_tokens,
            "temperature": self.config.temperature,
            "stream": False,
        }
        if payload is not None:
            body["workbench_view"] = payload
        return body

    def _complete(self, body: dict) -> str:
        """The first choice's message content, retrying transient failures with backoff until the remote bound:
        `total_timeout_s`, less `fallback_reserve_s` when a fallback will answer instead."""
        reserve = self.config.fallback_reserve_s if self.config.fallback is not None or self._fallback is not None else 0.0
        deadline = time.monotonic() + self.config.total_timeout_s - reserve
        data = json.dumps(body).encode()
        wait = self.config.backoff_s
        errors = []
        for attempt in range(self.config.retries + 1):
            if deadline - time.monotonic() <= 0:
                break
            try:
                status, payload = self._post(data, deadline)
            except (OSError, http.client.HTTPException) as err:  # TimeoutError is an OSError
                errors.append(f"attempt {attempt + 1}: {type(err).__name__}: {err}")
            else:
                if status == 200:
                    return _content(payload)
                errors.append(f"attempt {attempt + 1}: HTTP {status}: {payload[:200].decode('utf-8', 'replace')}")
                if status not in RETRY_STATUSES:
                    break
            if attempt < self.config.retries:
                if deadline - time.monotonic() <= wait:
                    break  # no time left for another try after the backoff
                time.sleep(wait)
                wait *= 2
        raise RemoteError("; ".join(errors) or f"no attempt fitted in total_timeout_s={self.config.total_timeout_s}")

    def _post(self, data: bytes, deadline: float) -> tuple[int, bytes]:
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if self._key:
            headers["Authorization"] = f"Bearer {self._key}"
        url = self.config.base_url.rstrip("/") + "/chat/completions"
        try:
            return post(url, data, headers, self.config.timeout_s, deadline, MAX_REPLY_BYTES)
        except TimeoutError as err:
            if isinstance(err, DeadlineExceeded) or time.monotonic() >= deadline - 0.01:
                raise TimeoutError(f"no complete reply within the total time bound of {self.config.total_timeout_s} s") from None
            raise TimeoutError(f"no reply within timeout_s={self.config.timeout_s:.2f} s") from None

    def _redact(self, text: str) -> str:
        return text.replace(self._key, "***") if self._key else text

    def __repr__(self) -> str:  # the key stays out of reprs, logs and tracebacks
        return f"OpenAICompatBackend(base_url={self.config.base_url!r}, model={self.config.model!r}, fallback={self._fallback_name()!r})"


def api_key(variable: str | None) -> str:
    """The API key held in the environment variable `variable` ("" when unset or not asked for), with surrounding
    whitespace stripped (an .env file with Windows line endings leaves a trailing \\r); `ValueError`, which never
    shows the key, when it still holds characters an HTTP header cannot carry."""
    key = os.environ.get(variable, "").strip() if variable else ""
    bad = sum(not "!" <= c <= "~" for c in key)  # printable ASCII, no spaces: what a bearer token is made of
    if bad:
        raise ValueError(f"the API key in ${variable} holds {bad} character(s) an HTTP header cannot carry (whitespace, "
                         "control characters or non-ASCII inside it); fix the variable (the key is not shown here)")
    return key


def _content(payload: bytes) -> str:
    """`choices[0].message.content` of a chat-completions reply; RemoteError when the body is not one."""
    try:
        content = json.loads(payload)["choices"][0]["message"]["content"]
    except (ValueError, KeyError, IndexError, TypeError):
        raise RemoteError(f"reply is not a chat completion: {payload[:200].decode('utf-8', 'replace')!r}") from None
    if isinstance(content, list):  # some servers return content parts
        content = "".join(part.get("text", "") for part in content if isinstance(part, dict))
    if not isinstance(content, str):
        raise RemoteError(f"reply content is {type(content).__name__}, expected text")
    return content


def _plain_text(text: str) -> str:
    text = text.strip()
    if not text:
        raise MalformedReply("empty answer")
    return text
