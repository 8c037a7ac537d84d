"""Chat-completions servers on loopback that misbehave one way each, and the check that a client call against each
ends within its time bound and falls back (or, for a huge but valid reply, keeps its best regions).

    with FakeServer("trickle_headers") as server:   # server.url -> "http://127.0.0.1:PORT/v1"
        ...
    check_server("hang", total_timeout_s=2.0)        # -> {"kind": "hang", "seconds": 1.5, "outcome": "fallback", ...}

Kinds: hang (accepts, reads the request, never answers), trickle_headers (a header byte every 0.2 s, never ending),
trickle_body (headers at once, then an 8 kB body a byte every 0.2 s), error_500, garbage (200 with random bytes),
nan_boxes (a chat reply whose every box holds NaN), many_boxes (a valid reply of 20,000 regions), huge_body (a
200 MB body sent as fast as the socket takes it), refused (nothing listens on the port). Used by
`benchmarks/robustness.py` and, in a quick form, by `tests/test_time_bound.py`.
"""

from __future__ import annotations

import functools
import json
import socket
import socketserver
import threading
import time
from dataclasses import dataclass

import numpy as np

KINDS = ("hang", "trickle_headers", "trickle_body", "error_500", "garbage", "nan_boxes", "many_boxes", "huge_body", "refused")
TRICKLE_INTERVAL_S = 0.2  # well under any per-read timeout: only a deadline on the whole call stops these
MANY_REGIONS = 20_000


def expected_outcome(kind: str, call: str) -> str:
    """How a call should end: "fallback", except where the server sends a valid chat reply the call can use (any text
    is an answer; 20,000 valid boxes ground, cut to the best `replies.MAX_REGIONS`)."""
    if (kind, call) in (("nan_boxes", "answer"), ("many_boxes", "answer"), ("many_boxes", "ground")):
        return "remote"
    return "fallback"


def chat_reply(content: str) -> bytes:
    """A chat-completions reply body with `content` as the first choice's message."""
    return json.dumps({"choices": [{"index": 0, "message": {"role": "assistant", "content": content}}]}).encode()


def _regions_content(count: int, value=None) -> str:
    """A grounding reply of `count` regions; `value` (e.g. NaN) replaces every box coordinate and score when given."""
    rng = np.random.default_rng(0)
    regions = []
    for _ in range(count):
        x, y = (int(v) for v in rng.integers(0, 50, 2))
        box, score = [x, y, x + 10, y + 10], float(rng.random())
        if value is not None:
            box, score = [value] * 4, value
        regions.append({"box": box, "score": score, "label": "hammer"})
    return json.dumps({"regions": regions})  # json writes NaN as the bare token NaN, as a sloppy server would


@functools.lru_cache(maxsize=4)
def _reply_of_regions(count: int, value=None) -> bytes:
    """The chat reply of `_regions_content`, made once: building 20,000 regions takes longer than a short read timeout."""
    return chat_reply(_regions_content(count, value))


class _Handler(socketserver.BaseRequestHandler):
    def handle(self):
        server: _Server = self.server
        sock: socket.socket = self.request
        sock.settimeout(5.0)
        try:
            _read_request(sock)
            server.requests += 1
            getattr(self, f"_{server.kind}")(sock, server.stop)
        except OSError:  # the client gave up: that is what these servers are for
            pass

    @staticmethod
    def _send(sock, status: str, body: bytes) -> None:
        head = f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        sock.sendall(head.encode() + body)

    def _hang(self, sock, stop):
        stop.wait(600)

    def _trickle_headers(self, sock, stop):
        sock.sendall(b"HTTP/1.1 200 OK\r\nX-Padding: ")
        while not stop.wait(TRICKLE_INTERVAL_S):
            sock.sendall(b"a")

    def _trickle_body(self, sock, stop):
        body = chat_reply("3 hammers").ljust(8192)  # JSON may end in spaces: 8 kB a byte each 0.2 s outlasts any bound
        sock.sendall(f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n".encode())
        for byte in body:
            if stop.wait(TRICKLE_INTERVAL_S):
                return
            sock.sendall(bytes([byte]))

    def _error_500(self, sock, stop):
        self._send(sock, "500 Internal Server Error", b'{"error": "internal error"}')

    def _garbage(self, sock, stop):
        self._send(sock, "200 OK", np.random.default_rng(1).integers(0, 256, 4096, dtype=np.uint8).tobytes())

    def _nan_boxes(self, sock, stop):
        self._send(sock, "200 OK", _reply_of_regions(5, float("nan")))

    def _many_boxes(self, sock, stop):
        self._send(sock, "200 OK", _reply_of_regions(MANY_REGIONS))

    def _huge_body(self, sock, stop):
        size = 200 * 2**20
        sock.sendall(f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {size}\r\n\r\n".encode())
        block = b" " * 2**16
        for _ in range(size // len(block)):
            if stop.is_set():
                return
            sock.sendall(block)


def _read_request(sock: socket.socket) -> None:
    """Read one HTTP request (headers and a Content-Length body) off the socket."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("client closed before sending a request")
        data += chunk
    head, body = data.split(b"\r\n\r\n", 1)
    length = next((int(line.split(b":", 1)[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")), 0)
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("client closed mid-request")
        body += chunk


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64

    def __init__(self, kind: str):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.kind, self.stop, self.requests = kind, threading.Event(), 0


class FakeServer:
    """A misbehaving server of one `kind` on a free loopback port, for a `with` block."""

    def __init__(self, kind: str):
        if kind not in KINDS:
            raise ValueError(f"unknown fake server {kind!r}; expected one of {KINDS}")
        self.kind = kind
        self._server: _Server | None = None
        self.url = ""

    @property
    def requests(self) -> int:
        return self._server.requests if self._server else 0

    def __enter__(self) -> FakeServer:
        if self.kind == "refused":  # a port that was free a moment ago: nothing listens there
            with socket.socket() as sock:
                sock.bind(("127.0.0.1", 0))
                port = sock.getsockname()[1]
        else:
            if self.kind == "many_boxes":
                _reply_of_regions(MANY_REGIONS)  # built before the clock starts
            self._server = _Server(self.kind)
            threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
            port = self._server.server_address[1]
        self.url = f"http://127.0.0.1:{port}/v1"
        return self

    def __exit__(self, *exc) -> None:
        if self._server is not None:
            self._server.stop.set()
            self._server.shutdown()
            self._server.server_close()


class LocalFallback:
    """A fallback backend that answers at once and counts its calls (the check measures the client, not a model)."""

    name = "local"

    def __init__(self):
        self.calls = 0

    def ground(self, view, phrase):
        from workbench_gym.policies.backend import Region

        self.calls += 1
        return [Region((1, 1, 5, 5), 0.5, None, "fallback")]

    def answer(self, view, question):
        self.calls += 1
        return "fallback"

    def plan(self, view, instruction):
        self.calls += 1
        return None


@dataclass(frozen=True)
class Outcome:
    """How one call against one fake server ended."""

    kind: str
    call: str
    seconds: float
    bound_s: float
    outcome: str  # "fallback", "remote" (the reply was used) or "error: ..." (the call raised)
    regions: int | None = None
    detail: str = ""

    @property
    def within_bound(self) -> bool:
        return self.seconds <= self.bound_s

    @property
    def as_expected(self) -> bool:
        return self.outcome == expected_outcome(self.kind, self.call)


def check_server(kind: str, call: str = "ground", total_timeout_s: float = 2.0, timeout_s: float | None = None,
                 fallback=None, view=None) -> Outcome:
    """Make one `call` (ground, answer or plan) against a fresh fake server of `kind` and say how it ended."""
    from workbench_gym.policies.backends.openai_compat import OpenAICompatBackend

    view = view if view is not None else sample_view()
    fallback = fallback if fallback is not None else LocalFallback()
    timeout_s = timeout_s if timeout_s is not None else total_timeout_s / 2
    with FakeServer(kind) as server:
        client = OpenAICompatBackend(fallback_backend=fallback, base_url=server.url, api_key_env=None,
                                     timeout_s=timeout_s, total_timeout_s=total_timeout_s, backoff_s=0.05)
        args = {"ground": "the claw hammer", "answer": "How many hammers?", "plan": "pick up the claw hammer"}[call]
        start = time.monotonic()
        try:
            reply = getattr(client, call)(view, args)
        except Exception as err:  # a crash is an outcome to report, not to hide
            return Outcome(kind, call, time.monotonic() - start, total_timeout_s, f"error: {type(err).__name__}: {err}")
        seconds = time.monotonic() - start
    outcome = "fallback" if client.stats.fallbacks else "remote"
    regions = len(reply) if call == "ground" else None
    return Outcome(kind, call, seconds, total_timeout_s, outcome, regions, client.stats.last_error[:160])


def sample_view():
    """A small random camera view to send."""
    from workbench_gym.policies.backend import View

    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 256, (48, 64, 3), dtype=np.uint8)
    depth = np.full((48, 64), 0.8, np.float32)
    return View(rgb, depth, np.array([[70.0, 0, 32], [0, 70.0, 24], [0, 0, 1]]), np.eye(4), "front")
