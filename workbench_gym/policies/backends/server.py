"""`workbench-gym serve`: one backend behind an OpenAI-compatible HTTP API, so remote robots share one model.

FastAPI routes with pydantic models of OpenAI's schema (`openai_schema`), served by uvicorn: GET /v1/models,
GET /v1/models/{id}, POST /v1/chat/completions, GET /health. A request's last user message carries the image (a
base64 data URL) and one of our prompts (`prompts.py`); the reply's content is the JSON or text
`OpenAICompatBackend` parses. Depth and calibration come in the optional `workbench_view` field.

Every client error is a 4xx in OpenAI's error format naming what is wrong or missing; only a backend that fails on
a valid request is a 500. Against load and abuse: a listen backlog of `BACKLOG`, a deadline for each request to
arrive whole (uvicorn itself only times out idle keep-alive connections), bodies capped before they are read,
depth inflated only up to the image's size, phrases capped so no request holds the backend for long. Backend calls
run one at a time (models are not thread-safe and the CPU is the bottleneck anyway).
"""

from __future__ import annotations

import contextlib
import hmac
import logging
import os
import signal
import socket
import threading
import time
import uuid

from workbench_gym.policies.backend import Backend
from workbench_gym.policies.backends.openai_schema import (
    ChatCompletion,
    ChatCompletionRequest,
    Choice,
    ErrorDetail,
    ErrorResponse,
    Model,
    ModelList,
    ResponseMessage,
)
from workbench_gym.policies.backends.prompts import parse_prompt
from workbench_gym.policies.backends.replies import regions_to_json, task_to_json
from workbench_gym.policies.backends.wire import decode_image, view_from_payload

log = logging.getLogger(__name__)

MAX_BODY_BYTES = 64 * 1024 * 1024
#: Longest phrase, question or instruction a prompt may carry: grounding cost grows with it, under the backend lock.
MAX_ARGUMENT_CHARS = 512
BACKLOG = 1024  # pending connections the kernel queues (a burst of robots connecting at once)
REQUEST_TIMEOUT_S = 10.0  # a request must arrive whole within this, from connecting or from the last reply
KEEP_ALIVE_S = 5  # an idle keep-alive connection is closed after this


def _require_web():
    try:
        import fastapi
        import uvicorn
    except ImportError:
        raise ImportError("serve needs FastAPI and uvicorn: pip install 'workbench-gym[serve]'") from None
    return fastapi, uvicorn


class ClientError(Exception):
    """A request this server cannot answer; a 4xx whose message says what was expected."""

    def __init__(self, message: str, status: int = 400, kind: str = "invalid_request_error", param: str | None = None):
        super().__init__(message)
        self.status, self.kind, self.param = status, kind, param


def _last_user_message(request: ChatCompletionRequest) -> tuple[str, str]:
    """(text, image data URL) of the request's last user message."""
    user = next((m for m in reversed(request.messages) if m.role == "user"), None)
    if user is None:
        raise ClientError("no message with role 'user'", param="messages")
    if user.content is None or isinstance(user.content, str):
        raise ClientError("the user message has no image_url part: every request needs the camera image", param="messages")
    text = " ".join(part.text for part in user.content if part.type == "text")
    images = [part.image_url for part in user.content if part.type == "image_url"]
    if not images:
        raise ClientError("the user message has no image_url part: every request needs the camera image", param="messages")
    return text, images[0] if isinstance(images[0], str) else images[0].url


def complete(backend: Backend, request: ChatCompletionRequest, lock: threading.Lock) -> str:
    """The reply content for one request; ClientError for what the client must change."""
    if request.stream:
        raise ClientError("streaming is not supported: send stream=false", param="stream")
    text, url = _last_user_message(request)
    try:
        prompt = parse_prompt(text)
        if len(prompt.argument) > MAX_ARGUMENT_CHARS:
            raise ValueError(f"the {prompt.task} prompt's text is {len(prompt.argument)} characters long; at most {MAX_ARGUMENT_CHARS} are served")
        view = view_from_payload(decode_image(url), request.workbench_view)
    except ValueError as err:
        raise ClientError(str(err), param="messages") from None
    try:
        with lock:
            if prompt.task == "ground":
                return regions_to_json(backend.ground(view, prompt.argument))
            if prompt.task == "answer":
                return backend.answer(view, prompt.argument)
            return task_to_json(backend.plan(view, prompt.argument))
    except ValueError as err:  # the backend cannot use this input (an image without the depth it needs, say)
        hint = "; send depth and calibration in workbench_view (wire.view_payload)" if view.depth is None and "depth" in str(err) else ""
        raise ClientError(f"the {backend.name} backend cannot answer this request: {err}{hint}", param="workbench_view") from None


def _error(status: int, message: str, kind: str, param: str | None = None):
    from fastapi.responses import JSONResponse

    body = ErrorResponse(error=ErrorDetail(message=message, type=kind, param=param, code=status))
    return JSONResponse(body.model_dump(), status_code=status)


def create_app(backend: Backend, model_name: str, api_key: str = ""):
    """The FastAPI application serving `backend` as model `model_name` (requiring `api_key` when given)."""
    fastapi, _ = _require_web()
    from fastapi.exceptions import RequestValidationError
    from starlette.exceptions import HTTPException

    app = fastapi.FastAPI(title="workbench-gym serve", docs_url=None, redoc_url=None, openapi_url=None)
    lock = threading.Lock()
    created = int(time.time())
    model = Model(id=model_name, created=created)

    def authorise(authorization: str | None = fastapi.Header(default=None)) -> None:
        if not api_key:
            return
        given = (authorization or "").removeprefix("Bearer ").strip()
        if not hmac.compare_digest(given.encode(), api_key.encode()):
            raise ClientError("missing or wrong API key (send 'Authorization: Bearer <key>')", 401, "authentication_error")

    def known(name: str) -> Model:
        if name != model_name:
            raise ClientError(f"model {name!r} is not served here; this server serves {model_name!r} (GET /v1/models)", 404,
                              "model_not_found", "model")
        return model

    guarded = [fastapi.Depends(authorise)]

    @app.get("/health")
    def health() -> dict:
        return {"status": "ok"}

    @app.get("/v1/models", dependencies=guarded)
    def models() -> ModelList:
        return ModelList(data=[model])

    @app.get("/v1/models/{name:path}", dependencies=guarded)
    def one_model(name: str) -> Model:
        return known(name)

    @app.post("/v1/chat/completions", dependencies=guarded)
    def chat_completions(request: ChatCompletionRequest) -> ChatCompletion:
        known(request.model)
        content = complete(backend, request, lock)
        # Backends decode greedily, so every choice of one request is the same answer: computed once.
        choices = [Choice(index=i, message=ResponseMessage(content=content)) for i in range(request.n)]
        return ChatCompletion(id=f"chatcmpl-{uuid.uuid4().hex}", created=int(time.time()), model=model_name, choices=choices)

    @app.exception_handler(ClientError)
    def client_error(_, err: ClientError):
        return _error(err.status, str(err), err.kind, err.param)

    @app.exception_handler(RequestValidationError)
    def invalid(_, err: RequestValidationError):
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc'][1:]) or 'body'}: {e['msg']}" for e in err.errors()[:5])
        return _error(400, f"invalid request: {problems}", "invalid_request_error")

    @app.exception_handler(HTTPException)
    def http_error(request, err: HTTPException):
        if err.status_code == 404:
            return _error(404, f"no route {request.method} {request.url.path}: try GET /v1/models or POST /v1/chat/completions", "not_found")
        return _error(err.status_code, str(err.detail), "invalid_request_error")

    @app.exception_handler(Exception)
    def server_error(_, err: Exception):  # a backend failing on a valid request: the server's problem, reported, not a crash
        log.error("backend %s failed: %s: %s", backend.name, type(err).__name__, err)
        return _error(500, f"backend {backend.name} failed: {type(err).__name__}: {err}", "server_error")

    return _BodyLimit(app, MAX_BODY_BYTES)


class _BodyLimit:
    """ASGI middleware: a POST must declare its Content-Length, at most `limit` bytes, checked before it is read."""

    def __init__(self, app, limit: int):
        self.app, self.limit = app, limit

    async def __call__(self, scope, receive, send):
        if scope["type"] == "http" and scope["method"] == "POST":
            length = dict(scope["headers"]).get(b"content-length")
            problem = None
            if length is None:
                problem = (411, "send the body with a Content-Length header")
            elif not length.isdigit() or int(length) > self.limit:
                problem = (413, f"the body is {length.decode(errors='replace')} bytes; at most {self.limit} are accepted")
            if problem:
                await _error(problem[0], problem[1], "invalid_request_error")(scope, receive, send)
                return
        await self.app(scope, receive, send)


def _protocol(request_timeout_s: float):
    """uvicorn's HTTP/1.1 protocol, plus a deadline for each request to arrive whole (slow or stalled clients)."""
    from uvicorn.protocols.http.h11_impl import H11Protocol

    class RequestDeadline(H11Protocol):
        def connection_made(self, transport) -> None:
            super().connection_made(transport)
            self._deadline = None
            self._arm()

        def _arm(self) -> None:
            if self._deadline is not None:
                self._deadline.cancel()
            self._deadline = self.loop.call_later(request_timeout_s, self._expire)

        def _expire(self) -> None:
            serving = self.cycle is not None and not self.cycle.more_body and not self.cycle.response_complete
            if not serving and not self.transport.is_closing():  # no whole request has arrived in time: drop it
                self.transport.close()

        def on_response_complete(self) -> None:
            super().on_response_complete()
            self._arm()

        def connection_lost(self, exc) -> None:
            if self._deadline is not None:
                self._deadline.cancel()
            super().connection_lost(exc)

    return RequestDeadline


def _bind(host: str, port: int) -> socket.socket:
    """A listening TCP socket; ValueError naming the host or port that cannot be bound."""
    try:
        family = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)[0][0]
        return socket.create_server((host, port), family=family, backlog=BACKLOG)
    except OSError as err:
        raise ValueError(f"cannot listen on {host}:{port}: {err.strerror or err}") from None


class BackendServer:
    """A bound uvicorn server for one backend: `serve_forever` in a thread or the main thread, `shutdown` to stop."""

    def __init__(self, address: tuple[str, int], backend: Backend, model_name: str, api_key: str = "",
                 request_timeout_s: float = REQUEST_TIMEOUT_S):
        _, uvicorn = _require_web()
        self.backend, self.model_name = backend, model_name
        self.socket = _bind(*address)
        self.server_address = self.socket.getsockname()
        config = uvicorn.Config(create_app(backend, model_name, api_key), http=_protocol(request_timeout_s), lifespan="off",
                                log_config=None, access_log=True, backlog=BACKLOG, timeout_keep_alive=KEEP_ALIVE_S)

        class Server(uvicorn.Server):
            def capture_signals(self):  # the caller owns the signal handlers (uvicorn would re-raise them after stopping)
                return contextlib.nullcontext()

        self._server = Server(config)
        self._stopped = threading.Event()

    @property
    def url(self) -> str:
        """The base URL clients use, ending in /v1."""
        host, port = self.server_address[:2]
        return f"http://{f'[{host}]' if ':' in host else host}:{port}/v1"

    def serve_forever(self) -> None:
        try:
            self._server.run(sockets=[self.socket])
        finally:
            self._stopped.set()

    def stop(self) -> None:
        """Ask the server to stop after the requests in flight (safe from a signal handler)."""
        self._server.should_exit = True

    def shutdown(self, timeout: float = 10.0) -> None:
        """Stop and wait until `serve_forever` has returned."""
        self.stop()
        self._stopped.wait(timeout)

    def server_close(self) -> None:
        self.socket.close()


def make_server(backend: Backend, host: str = "127.0.0.1", port: int = 8000, model_name: str | None = None,
                api_key: str = "", request_timeout_s: float = REQUEST_TIMEOUT_S) -> BackendServer:
    """A bound, not yet serving, server for `backend` (port 0 picks a free one; see `.url`)."""
    return BackendServer((host, port), backend, model_name or f"workbench-{backend.name}", api_key, request_timeout_s)


def run_serve(args) -> int:
    """The `serve` command: build the backend, bind, install the stop handlers, print the URL, serve until stopped."""
    from workbench_gym.policies.backends import check_backend, make_backend, parse_options

    _require_web()
    api_key = ""
    if args.api_key_env:
        api_key = os.environ.get(args.api_key_env, "")
        if not api_key:
            raise ValueError(f"--api-key-env {args.api_key_env}: that environment variable is empty or unset")
    options = parse_options(args.option)
    check_backend(args.backend, options)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    try:
        backend = make_backend(args.backend, **options)
    except FileNotFoundError as err:  # missing weights: say so without a traceback
        raise ValueError(f"cannot build the {args.backend} backend: {err}") from None
    server = make_server(backend, args.host, args.port, args.model_name, api_key)
    # Stop on Ctrl-C and on a process manager's SIGTERM, even when started from a shell that ignores SIGINT in
    # background jobs. Installed before the URL is printed: whoever reads the URL may signal at once.
    def stop(signum, frame) -> None:
        server.stop()

    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, stop)
    print(f"serving the {backend.name} backend as model {server.model_name!r} at {server.url}", flush=True)
    try:
        server.serve_forever()
    finally:
        server.server_close()
    return 0


def add_serve_arguments(parser) -> None:
    """The `serve` command's options."""
    from workbench_gym.arguments import port
    from workbench_gym.policies.backends import BACKENDS

    parser.add_argument("--backend", default="native", help=f"backend to serve, one of {', '.join(BACKENDS)} (default native)")
    parser.add_argument("--option", action="append", default=[], metavar="KEY=VALUE",
                        help="backend option, repeatable (e.g. --option weights=/path/grounding.safetensors)")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default loopback only)")
    parser.add_argument("--port", type=port, default=8000, help="port (0 picks a free one)")
    parser.add_argument("--model-name", help="model id announced at /v1/models (default workbench-<backend>)")
    parser.add_argument("--api-key-env", help="require 'Authorization: Bearer' with the key held in this environment variable")
    parser.set_defaults(run=run_serve)
