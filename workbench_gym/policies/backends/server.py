"""`workbench-gym serve`: one backend behind an OpenAI-compatible HTTP API, so remote robots share one model.

It answers GET /v1/models and POST /v1/chat/completions. A request's last user message carries the image (a base64
data URL) and one of our prompts (`prompts.py`); the reply's content is the JSON or text `OpenAICompatBackend`
parses. Depth and calibration come in the optional `workbench_view` field. Backend calls run one at a time (models
are not thread-safe and the CPU is the bottleneck anyway); connections are served on threads.
"""

from __future__ import annotations

import hmac
import json
import logging
import os
import signal
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from workbench_gym.policies.backend import Backend
from workbench_gym.policies.backends.prompts import parse_prompt
from workbench_gym.policies.backends.replies import regions_to_json, task_to_json
from workbench_gym.policies.backends.wire import decode_image, view_from_payload

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 64 * 1024 * 1024


class BadRequest(ValueError):
    """A request this server cannot answer; the message says what was expected."""


def _last_user_message(body: dict) -> tuple[str, str]:
    """(text, image data URL) of the request's last user message."""
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise BadRequest("'messages' must be a non-empty list")
    user = next((m for m in reversed(messages) if isinstance(m, dict) and m.get("role") == "user"), None)
    if user is None:
        raise BadRequest("no message with role 'user'")
    content = user.get("content")
    parts = [{"type": "text", "text": content}] if isinstance(content, str) else content
    if not isinstance(parts, list):
        raise BadRequest("user content must be a string or a list of parts")
    text = " ".join(p.get("text", "") for p in parts if isinstance(p, dict) and p.get("type") == "text")
    images = [p.get("image_url") for p in parts if isinstance(p, dict) and p.get("type") == "image_url"]
    if not images:
        raise BadRequest("the user message has no image_url part: every request needs the camera image")
    image = images[0]
    url = image.get("url") if isinstance(image, dict) else image
    if not isinstance(url, str):
        raise BadRequest("image_url must hold a 'url' string")
    return text, url


def complete(backend: Backend, body: dict) -> str:
    """The reply content for one chat-completions request body."""
    if body.get("stream"):
        raise BadRequest("streaming is not supported: send stream=false")
    text, url = _last_user_message(body)
    try:
        prompt = parse_prompt(text)
        view = view_from_payload(decode_image(url), body.get("workbench_view"))
    except ValueError as err:
        raise BadRequest(str(err)) from None
    if prompt.task == "ground":
        return regions_to_json(backend.ground(view, prompt.argument))
    if prompt.task == "answer":
        return backend.answer(view, prompt.argument)
    return task_to_json(backend.plan(view, prompt.argument))


class BackendServer(ThreadingHTTPServer):
    """The HTTP server: a backend, the model name it announces, and the API key it requires (if any)."""

    daemon_threads = True

    def __init__(self, address: tuple[str, int], backend: Backend, model_name: str, api_key: str = ""):
        super().__init__(address, _Handler)
        self.backend, self.model_name, self.api_key = backend, model_name, api_key
        self.lock = threading.Lock()
        self.created = int(time.time())

    @property
    def url(self) -> str:
        """The base URL clients use, ending in /v1."""
        host, port = self.server_address[:2]
        return f"http://{host}:{port}/v1"


class _Handler(BaseHTTPRequestHandler):
    server: BackendServer
    protocol_version = "HTTP/1.1"

    def log_message(self, format: str, *args) -> None:  # requests go to logging, never headers
        log.info("%s %s", self.address_string(), format % args)

    def _send(self, status: int, data: dict) -> None:
        payload = json.dumps(data).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def _error(self, status: int, message: str, kind: str) -> None:
        self.close_connection = True  # the request body may be unread: this connection cannot carry another request
        self._send(status, {"error": {"message": message, "type": kind, "code": status}})

    def _authorised(self) -> bool:
        if not self.server.api_key:
            return True
        given = self.headers.get("Authorization", "").removeprefix("Bearer ").strip()
        if hmac.compare_digest(given.encode(), self.server.api_key.encode()):
            return True
        self._error(401, "missing or wrong API key (send 'Authorization: Bearer <key>')", "authentication_error")
        return False

    def do_GET(self) -> None:
        if self.path.rstrip("/") in ("/v1/models", "/models"):
            if self._authorised():
                model = {"id": self.server.model_name, "object": "model", "created": self.server.created, "owned_by": "workbench-gym"}
                self._send(200, {"object": "list", "data": [model]})
        elif self.path.rstrip("/") == "/health":
            self._send(200, {"status": "ok"})
        else:
            self._error(404, f"no route {self.path}: try /v1/models or POST /v1/chat/completions", "not_found")

    def do_POST(self) -> None:
        if self.path.rstrip("/") not in ("/v1/chat/completions", "/chat/completions"):
            self._error(404, f"no route {self.path}: POST /v1/chat/completions", "not_found")
            return
        if not self._authorised():
            return
        try:
            length = int(self.headers.get("Content-Length", "0"))
            if not 0 < length <= MAX_BODY_BYTES:
                raise BadRequest(f"Content-Length {length} outside 1..{MAX_BODY_BYTES}")
            body = json.loads(self.rfile.read(length))
            if not isinstance(body, dict):
                raise BadRequest("the request body must be a JSON object")
            with self.server.lock:
                content = complete(self.server.backend, body)
        except (BadRequest, json.JSONDecodeError, UnicodeDecodeError) as err:
            self._error(400, str(err), "invalid_request_error")
            return
        except Exception as err:  # a backend failure is the server's problem, reported to the client, not a crash
            log.exception("backend %s failed", self.server.backend.name)
            self._error(500, f"backend {self.server.backend.name} failed: {type(err).__name__}: {err}", "server_error")
            return
        self._send(200, _completion(self.server.model_name, content))


def _completion(model: str, content: str) -> dict[str, Any]:
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
    }


def make_server(backend: Backend, host: str = "127.0.0.1", port: int = 8000, model_name: str | None = None,
                api_key: str = "") -> BackendServer:
    """A bound, not yet serving, server for `backend` (port 0 picks a free one; see `.url`)."""
    return BackendServer((host, port), backend, model_name or f"workbench-{backend.name}", api_key)


def run_serve(args) -> int:
    """The `serve` command: build the backend, bind, print the URL, serve until interrupted."""
    from workbench_gym.policies.backends import make_backend, parse_options

    api_key = ""
    if args.api_key_env:
        api_key = os.environ.get(args.api_key_env, "")
        if not api_key:
            raise ValueError(f"--api-key-env {args.api_key_env}: that environment variable is empty or unset")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    try:
        backend = make_backend(args.backend, **parse_options(args.option))
    except (FileNotFoundError, ImportError) as err:  # missing weights or extras: say so without a traceback
        raise SystemExit(f"workbench-gym serve: cannot build the {args.backend} backend: {err}") from None
    server = make_server(backend, args.host, args.port, args.model_name, api_key)
    print(f"serving the {backend.name} backend as model {server.model_name!r} at {server.url}", flush=True)
    # Stop on Ctrl-C and on a process manager's SIGTERM, even when started from a shell that ignores SIGINT in
    # background jobs (Python then installs no Ctrl-C handler of its own).
    for stop in (signal.SIGINT, signal.SIGTERM):
        signal.signal(stop, _interrupt)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt(signal.Signals(signum).name)


def add_serve_arguments(parser) -> None:
    """The `serve` command's options."""
    parser.add_argument("--backend", default="native", help="backend to serve: native, hf (default native)")
    parser.add_argument("--option", action="append", default=[], metavar="KEY=VALUE",
                        help="backend option, repeatable (e.g. --option model=/path)")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default loopback only)")
    parser.add_argument("--port", type=int, default=8000, help="port (0 picks a free one)")
    parser.add_argument("--model-name", help="model id announced at /v1/models (default workbench-<backend>)")
    parser.add_argument("--api-key-env", help="require 'Authorization: Bearer' with the key held in this environment variable")
    parser.set_defaults(run=run_serve)
