"""`workbench-gym serve` as a client sees it: OpenAI's schema and errors, and the server under load and abuse."""

import base64
import http.client
import io
import json
import signal
import socket
import threading
import time
import tracemalloc
import zlib
from contextlib import redirect_stdout
from types import SimpleNamespace

import numpy as np
import pytest

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")

from test_backends_http import ScriptedBackend, make_view  # noqa: E402

from workbench_gym.policies.backends import server as serve_module  # noqa: E402
from workbench_gym.policies.backends.prompts import answer_prompt, ground_prompt  # noqa: E402
from workbench_gym.policies.backends.server import BACKLOG, MAX_ARGUMENT_CHARS, make_server  # noqa: E402
from workbench_gym.policies.backends.wire import image_data_url, view_from_payload, view_payload  # noqa: E402

MODEL = "workbench-scripted"


@pytest.fixture
def serving():
    """Start servers on free loopback ports; stop them all afterwards."""
    servers = []

    def start(backend=None, **options):
        server = make_server(backend or ScriptedBackend(), "127.0.0.1", 0, **options)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def request(server, method, path, body=None, headers=None, timeout=10):
    """(status, parsed JSON) of one request on a new connection."""
    connection = http.client.HTTPConnection("127.0.0.1", server.server_address[1], timeout=timeout)
    data = body if isinstance(body, bytes | None) else json.dumps(body).encode()
    connection.request(method, path, body=data, headers={"Content-Type": "application/json", **(headers or {})})
    response = connection.getresponse()
    status, payload = response.status, json.loads(response.read() or b"null")
    connection.close()
    return status, payload


def chat(text, image=None, **extra):
    image = image if image is not None else make_view().rgb
    parts = [{"type": "text", "text": text}, {"type": "image_url", "image_url": {"url": image_data_url(image)}}]
    return {"model": MODEL, "messages": [{"role": "user", "content": parts}], **extra}


def test_an_image_without_depth_is_a_400_that_names_it_and_is_not_retried(serving, torch_one_thread):
    """The native backend needs depth: a plain OpenAI request (image, no workbench_view) is the client's to fix."""
    openai = pytest.importorskip("openai")
    from workbench_gym.policies.backends import make_backend

    server = serving(make_backend("native"))
    sdk = openai.OpenAI(base_url=server.url, api_key="unused", timeout=30)  # default retries: 2, on 5xx only
    calls = []
    original = server.backend.ground
    server.backend.ground = lambda view, phrase: calls.append(phrase) or original(view, phrase)
    view = make_view()
    with pytest.raises(openai.BadRequestError, match="depth") as caught:
        sdk.chat.completions.create(model="workbench-native", messages=[{"role": "user", "content": [
            {"type": "text", "text": ground_prompt("the red hammer", view.rgb.shape[1], view.rgb.shape[0])},
            {"type": "image_url", "image_url": {"url": image_data_url(view.rgb)}},
        ]}])
    assert caught.value.status_code == 400 and "workbench_view" in str(caught.value)
    assert len(calls) == 1, "a 4xx is not retried by the official client"


def test_models_by_id_unknown_models_and_n_choices(serving):
    openai = pytest.importorskip("openai")
    server = serving()
    sdk = openai.OpenAI(base_url=server.url, api_key="unused", max_retries=0, timeout=5)
    assert sdk.models.retrieve(MODEL).id == MODEL
    with pytest.raises(openai.NotFoundError):
        sdk.models.retrieve("gpt-4o")
    body = chat(answer_prompt("How many?"))
    with pytest.raises(openai.NotFoundError, match="not served here"):
        sdk.chat.completions.create(**{**body, "model": "gpt-4o"})
    reply = sdk.chat.completions.create(**body, n=2)
    assert [c.index for c in reply.choices] == [0, 1] and {c.message.content for c in reply.choices} == {"scripted: 3"}
    with pytest.raises(openai.BadRequestError, match="n"):
        sdk.chat.completions.create(**body, n=100)


def test_client_errors_are_4xx_in_openai_format(serving):
    server = serving()
    status, payload = request(server, "POST", "/v1/chat/completions", b"{not json")
    assert status == 400 and payload["error"]["type"] == "invalid_request_error"
    status, payload = request(server, "POST", "/v1/chat/completions", {"model": MODEL, "messages": [{"role": "user"}]})
    assert status == 400 and "image_url" in payload["error"]["message"]
    status, payload = request(server, "POST", "/v1/chat/completions", {"model": MODEL, "messages": "hello"})
    assert status == 400 and "messages" in payload["error"]["message"]
    status, payload = request(server, "GET", "/v1/nothing")
    assert status == 404 and "/v1/chat/completions" in payload["error"]["message"]
    status, payload = request(server, "POST", "/v1/chat/completions", b"{}", headers={"Content-Length": str(10**9)})
    assert status == 413


def test_listen_backlog_holds_a_burst_of_connections(serving):
    """50 clients connecting at once all complete their handshake, even before the server accepts any."""
    server = make_server(ScriptedBackend(), "127.0.0.1", 0)  # bound and listening, not yet serving
    assert BACKLOG >= 128
    sockets = []
    serving = threading.Thread(target=server.serve_forever, daemon=True)
    try:
        for _ in range(50):
            s = socket.socket()
            s.settimeout(2)
            s.connect(server.server_address)  # SYNs beyond a small backlog are dropped: connect would time out
            sockets.append(s)
        serving.start()
        for s in sockets:
            s.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        replies = [s.recv(1024) for s in sockets]
        assert all(r.startswith(b"HTTP/1.1 200") for r in replies)
    finally:
        for s in sockets:
            s.close()
        if serving.is_alive():
            server.shutdown()
        server.server_close()


def test_stalled_connections_are_closed(serving):
    server = serving(request_timeout_s=0.5)
    stalled = []
    for i in range(20):
        s = socket.create_connection(server.server_address, timeout=5)
        s.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n" if i % 2 else b"")  # half a header, or nothing
        stalled.append(s)
    start = time.monotonic()
    assert all(s.recv(1024) == b"" for s in stalled), "each connection is closed by the server"
    assert time.monotonic() - start < 4
    for s in stalled:
        s.close()
    assert request(server, "GET", "/health")[0] == 200


def test_depth_is_inflated_no_further_than_the_image():
    view = make_view()
    payload = view_payload(view)
    bomb = base64.b64encode(zlib.compress(bytes(64 * 1024 * 1024), 9)).decode()  # 64 MB of zeros in ~64 kB
    tracemalloc.start()
    try:
        with pytest.raises(ValueError, match="inflates to more than"):
            view_from_payload(view.rgb, {**payload, "depth_f32_zlib": bomb})
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 4 * 1024 * 1024, f"decoding held {peak / 1e6:.0f} MB"
    with pytest.raises(ValueError, match="depth_shape"):  # the declared shape is checked before any inflating
        view_from_payload(view.rgb, {**payload, "depth_shape": [100000, 100000]})


def test_long_phrases_are_refused_before_the_backend_runs(serving):
    backend = ScriptedBackend()
    server = serving(backend)
    view = make_view()
    long = "the red hammer " * 100
    status, payload = request(server, "POST", "/v1/chat/completions", chat(ground_prompt(long[:600], 64, 48), view.rgb))
    assert status == 400 and str(MAX_ARGUMENT_CHARS) in payload["error"]["message"]
    status, payload = request(server, "POST", "/v1/chat/completions", chat(ground_prompt("x" * 1_000_000, 64, 48), view.rgb))
    assert status == 400
    assert backend.seen == []


def test_serve_installs_its_signal_handlers_before_printing_its_url(monkeypatch):
    """Whoever reads the URL may signal at once: by then SIGTERM must stop the server, not kill the process."""
    seen = {}

    class Server:
        model_name, url = "workbench-scripted", "http://127.0.0.1:1/v1"

        def serve_forever(self):
            seen["after"] = True

        def server_close(self):
            pass

    import workbench_gym.policies.backends as backends

    monkeypatch.setattr(backends, "check_backend", lambda name, options: None, raising=False)
    monkeypatch.setattr(backends, "make_backend", lambda name, **options: ScriptedBackend())
    monkeypatch.setattr(serve_module, "make_server", lambda *args, **kwargs: Server())
    handlers = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    out = io.StringIO()

    class Recording(io.StringIO):
        def write(self, text):
            if text.startswith("serving"):
                seen["term"], seen["int"] = signal.getsignal(signal.SIGTERM), signal.getsignal(signal.SIGINT)
            return out.write(text)

    args = SimpleNamespace(api_key_env=None, option=[], backend="scripted", host="127.0.0.1", port=0, model_name=None)
    try:
        with redirect_stdout(Recording()):
            assert serve_module.run_serve(args) == 0
    finally:
        for s, handler in handlers.items():
            signal.signal(s, handler)
    assert out.getvalue().startswith("serving") and seen["after"]
    assert seen["term"] not in (signal.SIG_DFL, handlers[signal.SIGTERM]) and callable(seen["term"])
    assert seen["int"] is seen["term"]


def test_serve_bad_port_and_host_are_one_line_errors_exit_2(capfd, torch_one_thread):
    from workbench_gym.cli import main

    with pytest.raises(SystemExit) as stopped:
        main(["serve", "--port", "99999"])
    assert stopped.value.code == 2
    err = capfd.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "--port" in err[0] and "65535" in err[0]
    assert main(["serve", "--host", "999.1.1.1", "--port", "0"]) == 2
    err = capfd.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "999.1.1.1" in err[0] and "Traceback" not in err[0]


def test_depth_payload_round_trip_still_exact():
    view = make_view(seed=4)
    again = view_from_payload(view.rgb, json.loads(json.dumps(view_payload(view))))
    np.testing.assert_array_equal(again.depth, view.depth)
