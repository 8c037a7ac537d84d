"""The OpenAI-compatible client and `serve`, against real HTTP servers on loopback: round trips, timeouts, garbage
replies, dead ports, fallbacks, and an API key that travels in the header and nowhere else."""

import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest

from workbench_gym.language.task import StructuredTask, ToolReference
from workbench_gym.policies.backend import Backend, Region, View
from workbench_gym.policies.backends import make_backend, parse_options
from workbench_gym.policies.backends.openai_compat import OpenAICompatBackend, RemoteError
from workbench_gym.policies.backends.prompts import answer_prompt, ground_prompt, parse_prompt, plan_prompt
from workbench_gym.policies.backends.replies import (
    MalformedReply,
    decode_mask,
    encode_mask,
    extract_json,
    parse_regions,
    parse_task,
    task_to_json,
)
from workbench_gym.policies.backends.server import make_server

KEY = "sk-test-5up3r-s3cr3t"


def make_view(seed=0, width=64, height=48):
    rng = np.random.default_rng(seed)
    rgb = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
    depth = (0.6 + 0.3 * rng.random((height, width))).astype(np.float32)
    intrinsics = np.array([[70.0, 0, width / 2], [0, 70.0, height / 2], [0, 0, 1]])
    extrinsics = np.eye(4)
    extrinsics[:3, 3] = (0.1, -0.2, 0.9)
    return View(rgb, depth, intrinsics, extrinsics, "front")


class ScriptedBackend:
    """A deterministic backend that remembers what it saw; it waits on `release` when `slow`."""

    def __init__(self, name="scripted", slow=False):
        self.name, self.slow = name, slow
        self.release = threading.Event()
        self.seen: list[tuple[View, str]] = []

    def _wait(self):
        if self.slow:
            self.release.wait(30)

    def ground(self, view, phrase):
        self._wait()
        self.seen.append((view, phrase))
        mask = np.zeros(view.rgb.shape[:2], bool)
        mask[10:20, 5:25] = True
        return [Region((5, 10, 25, 20), 0.8, mask, "hammer", (15, 14)), Region((30, 5, 40, 9), 0.3, None, "", None)]

    def answer(self, view, question):
        self._wait()
        self.seen.append((view, question))
        return f"{self.name}: 3"

    def plan(self, view, instruction):
        self._wait()
        self.seen.append((view, instruction))
        return StructuredTask("place", ToolReference("claw_hammer", colour="red"), "middle bin")


@pytest.fixture
def serving():
    """Start `make_server` for a backend on a free loopback port; stops them all afterwards."""
    servers = []

    def start(backend, api_key=""):
        server = make_server(backend, "127.0.0.1", 0, api_key=api_key)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append((server, backend))
        return server

    yield start
    for server, backend in servers:
        getattr(backend, "release", threading.Event()).set()
        server.shutdown()
        server.server_close()


class CannedHandler(BaseHTTPRequestHandler):
    """Replies from the server's `replies` list in turn (status, body bytes), recording each request's headers."""

    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.server.headers.append(dict(self.headers))
        status, body = self.server.replies[min(len(self.server.headers), len(self.server.replies)) - 1]
        body = body.replace(b"{AUTH}", self.headers.get("Authorization", "").encode())
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.fixture
def canned():
    """A loopback server answering from a list of canned replies."""
    servers = []

    def start(*replies, handler=CannedHandler):
        server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        server.daemon_threads = True
        server.replies, server.headers = list(replies), []
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return server, f"http://127.0.0.1:{server.server_address[1]}/v1"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def chat(content: str) -> bytes:
    return json.dumps({"choices": [{"index": 0, "message": {"role": "assistant", "content": content}}]}).encode()


def client(url, fallback=None, **options):
    """A client with short bounds; without a fallback backend, failures raise."""
    options = {"model": "workbench-scripted", "timeout_s": 2.0, "total_timeout_s": 4.0, "backoff_s": 0.05, "api_key_env": None, **options}
    if fallback is None:
        options["fallback"] = None
    return OpenAICompatBackend(fallback_backend=fallback, base_url=url, **options)


# -- prompts and replies -------------------------------------------------------------------------------------------


def test_prompts_round_trip_with_quotes():
    phrase = 'the "big" spanner, left of the drill'
    assert parse_prompt(ground_prompt(phrase, 640, 480)).task == "ground"
    assert parse_prompt(ground_prompt(phrase, 640, 480)).argument == phrase
    assert parse_prompt(answer_prompt("How many hammers?")) == type(parse_prompt(answer_prompt("x")))("answer", "How many hammers?")
    assert parse_prompt(plan_prompt("put the 'hex key' away")).argument == "put the 'hex key' away"
    with pytest.raises(ValueError, match="unrecognised prompt"):
        parse_prompt("describe the image")


@pytest.mark.parametrize("text", [
    'Sure! ```json\n{"regions": [{"box": [10, 20, 30, 40], "score": 0.7}]}\n``` Hope that helps.',
    "{'regions': [{'box': [10, 20, 30, 40], 'score': 0.7, 'visible': True},]}",
    '{"regions": [{"box": [10, 20, 30, 40], "score": 0.7}, {"box": [1, 2,',  # cut off by max_tokens
    'The hammer is here: [{"bbox_2d": [10, 20, 30, 40], "score": 0.7, "label": "hammer"}] and nothing else.',
])
def test_replies_are_repaired(text):
    regions = parse_regions(text, 64, 48)
    assert regions[0].box == (10, 20, 30, 40) and regions[0].score == pytest.approx(0.7)


def test_regions_are_clipped_scaled_and_sorted():
    items = [{"box": [0, 0, 500, 500], "score": 0.2}, {"point_2d": [500, 500], "score": 0.9}, {"box": [900, 900, 950, 990]}]
    text = json.dumps({"regions": items})
    regions = parse_regions(text, 200, 100, coordinates="norm1000")
    assert [r.score for r in regions] == [1.0, 0.9, 0.2]  # no score means the model asserted it
    assert regions[0].box == (180, 90, 190, 99)
    assert regions[1].point == (100, 50) and regions[1].box == (92, 42, 108, 58)
    assert regions[2].box == (0, 0, 100, 50)
    assert parse_regions('{"regions": []}', 10, 10) == []


@pytest.mark.parametrize("text", [
    "I cannot see a hammer.", '{"regions": [{"box": [1, 2]}]}', '{"regions": [{"box": [50, 50, 60, 60]}]}', "[1, 2, 3]",
])
def test_garbage_replies_raise(text):
    with pytest.raises(MalformedReply):
        parse_regions(text, 40, 40)


def test_structured_task_replies_parse_into_catalog_names_and_reject_misfits():
    task = StructuredTask("place", ToolReference("claw_hammer", colour="red", order="largest"), "left bin")
    assert parse_task(task_to_json(task)) == task and parse_task(task_to_json(None)) is None
    said = '```json\n{"task": {"intent": "fetch", "reference": {"category": "spanner", "colour": "gray"},}}\n```'  # own words, a slip
    assert parse_task(said) == StructuredTask("fetch", ToolReference("combination_wrench", colour="grey"))
    sort = parse_task('{"intent": "sort", "groups": [["spanners", "the box on the left"], ["pliers", "right bin"]]}')
    assert sort.groups == (("pliers", "right bin"), ("wrench", "left bin"))
    for bad in ('{"intent": "dance"}', '{"intent": "pick", "reference": {"size": "huge"}}', '{"steps": []}',
                '{"intent": "pick", "missing": ["everything"]}'):
        with pytest.raises(MalformedReply, match="not a structured task"):
            parse_task(bad)
    with pytest.raises(MalformedReply):
        extract_json("no json at all")


def test_mask_run_lengths_round_trip():
    rng = np.random.default_rng(1)
    for mask in (rng.random((7, 5)) > 0.5, np.ones((3, 4), bool), np.zeros((2, 2), bool)):
        assert np.array_equal(decode_mask(encode_mask(mask)), mask)
    assert decode_mask({"size": [2, 2], "counts": [1, 1]}) is None


def test_factory_names_and_options():
    with pytest.raises(ValueError, match="unknown backend 'gpt'.*native, hf, openai"):
        make_backend("gpt")
    assert parse_options(["timeout-s=1.5", "model=qwen", "fallback=null"]) == {"timeout_s": 1.5, "model": "qwen", "fallback": None}
    with pytest.raises(ValueError, match="KEY=VALUE"):
        parse_options(["oops"])
    backend = make_backend("openai", base_url="http://127.0.0.1:9/v1", fallback=None)
    assert isinstance(backend, Backend) and backend.name == "openai"
    with pytest.raises(ValueError, match="base_url"):
        make_backend("openai", base_url="127.0.0.1:8000")


# -- against real servers ------------------------------------------------------------------------------------------


def test_serve_round_trip(serving):
    backend = ScriptedBackend()
    server = serving(backend)
    remote = client(server.url)
    view = make_view()
    regions = remote.ground(view, "the red hammer")
    assert [r.box for r in regions] == [(5, 10, 25, 20), (30, 5, 40, 9)]
    assert regions[0].label == "hammer" and regions[0].point == (15, 14) and regions[0].score == pytest.approx(0.8)
    assert np.array_equal(regions[0].mask, backend.ground(view, "x")[0].mask) and regions[1].mask is None
    seen, phrase = backend.seen[0]
    assert phrase == "the red hammer"
    assert np.array_equal(seen.rgb, view.rgb)  # PNG is lossless
    assert np.array_equal(seen.depth, view.depth) and seen.depth.dtype == np.float32  # depth travels exactly
    assert np.allclose(seen.intrinsics, view.intrinsics) and np.allclose(seen.extrinsics, view.extrinsics)
    assert remote.answer(view, "How many hammers?") == "scripted: 3"
    assert remote.plan(view, "put the red hammer in the middle bin") == backend.plan(view, "")
    assert remote.stats.remote == 3 and remote.stats.fallbacks == 0


def test_official_openai_client_talks_to_serve(serving):
    openai = pytest.importorskip("openai")
    server = serving(ScriptedBackend(), api_key=KEY)
    sdk = openai.OpenAI(base_url=server.url, api_key=KEY, max_retries=0, timeout=5)
    assert [m.id for m in sdk.models.list().data] == ["workbench-scripted"]
    from workbench_gym.policies.backends.wire import image_data_url

    reply = sdk.chat.completions.create(model="workbench-scripted", messages=[{"role": "user", "content": [
        {"type": "text", "text": answer_prompt("How many?")},
        {"type": "image_url", "image_url": {"url": image_data_url(make_view().rgb)}},
    ]}])
    assert reply.choices[0].message.content == "scripted: 3"
    with pytest.raises(openai.BadRequestError, match="no image_url part"):
        sdk.chat.completions.create(model="workbench-scripted", messages=[{"role": "user", "content": answer_prompt("How many?")}])
    with pytest.raises(openai.AuthenticationError):
        openai.OpenAI(base_url=server.url, api_key="wrong", max_retries=0).models.list()


def test_slow_server_times_out_and_falls_back_within_bound(serving):
    server = serving(ScriptedBackend(slow=True))  # would answer after 30 s
    remote = client(server.url, fallback=ScriptedBackend("local"), timeout_s=0.3, total_timeout_s=1.0, retries=5, backoff_s=0.1)
    start = time.monotonic()
    assert remote.answer(make_view(), "How many?") == "local: 3"
    elapsed = time.monotonic() - start
    assert elapsed < 3.0, f"fallback took {elapsed:.1f} s with total_timeout_s=1.0"
    assert remote.stats.fallbacks == 1 and "TimeoutError" in remote.stats.last_error
    start = time.monotonic()  # within the cooldown the server is not asked again
    assert remote.ground(make_view(), "the hammer")[0].label == "hammer"
    assert time.monotonic() - start < 0.3 and "marked down" in remote.stats.last_error


def test_dead_port_falls_back():
    import socket

    with socket.socket() as sock:  # a port that was free a moment ago: nothing listens there
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    remote = client(f"http://127.0.0.1:{port}/v1", fallback=ScriptedBackend("local"), retries=2)
    assert remote.plan(make_view(), "tidy up") == ScriptedBackend().plan(None, "")
    assert remote.stats.fallbacks == 1 and "ConnectionRefusedError" in remote.stats.last_error
    assert remote.stats.last_error.count("attempt") == 3  # bounded retries
    with pytest.raises(RemoteError, match="no fallback"):
        client(f"http://127.0.0.1:{port}/v1", retries=0).ground(make_view(), "the hammer")


def test_garbage_replies_are_repaired_or_fall_back(canned):
    view = make_view()
    _, url = canned((200, chat("```json\n{'regions': [{'box': [1, 2, 30, 40], 'score': 0.6},]}\n```")))
    remote = client(url, fallback=ScriptedBackend("local"))
    assert [r.box for r in remote.ground(view, "the hammer")] == [(1, 2, 30, 40)]
    assert remote.stats.remote == 1

    server, url = canned((200, b"<html>bad gateway</html>"))  # not the API at all: treated like a server down
    remote = client(url, fallback=ScriptedBackend("local"))
    assert remote.ground(view, "the hammer")[0].label == "hammer"  # the local backend's answer
    assert remote.answer(view, "How many?") == "local: 3"
    assert remote.stats.fallbacks == 2 and len(server.headers) == 1  # the second call skipped the server (cooldown)

    server, url = canned((200, chat("I see a hammer near the left edge.")))  # the API, but prose where JSON was asked
    remote = client(url, fallback=ScriptedBackend("local"))
    assert remote.ground(view, "the hammer")[0].label == "hammer" and "no JSON" in remote.stats.last_error
    assert remote.answer(view, "Where is the hammer?") == "I see a hammer near the left edge."  # fine as an answer
    assert remote.stats.fallbacks == 1 and remote.stats.remote == 1 and len(server.headers) == 2

    server, url = canned((200, chat("  ")))
    remote = client(url, fallback=ScriptedBackend("local"))
    assert remote.answer(view, "How many?") == "local: 3" and remote.plan(view, "tidy up") == ScriptedBackend("local").plan(view, "")
    assert remote.stats.fallbacks == 2 and len(server.headers) == 2


class ClosingHandler(CannedHandler):
    """An HTTP/1.0 server: it closes the connection after each reply."""

    protocol_version = "HTTP/1.0"


class TricklingHandler(CannedHandler):
    """Sends the headers at once, then the body a byte every 0.1 s."""

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.server.headers.append(dict(self.headers))
        body = chat("3 hammers")
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        for byte in body:
            self.wfile.write(bytes([byte]))
            self.wfile.flush()
            time.sleep(0.1)


def test_closing_and_trickling_servers(canned):
    _, url = canned((200, chat("3 hammers")), handler=ClosingHandler)
    assert client(url).answer(make_view(), "How many?") == "3 hammers"
    _, url = canned(handler=TricklingHandler)  # its whole reply would take about 8 s
    remote = client(url, fallback=ScriptedBackend("local"), timeout_s=0.5, total_timeout_s=1.0)
    start = time.monotonic()
    assert remote.answer(make_view(), "How many?") == "local: 3"
    assert time.monotonic() - start < 3.0 and "total time bound" in remote.stats.last_error


def test_busy_server_is_retried_with_backoff(canned):
    server, url = canned((503, b'{"error": "busy"}'), (429, b"slow down"), (200, chat("7 screws")))
    remote = client(url, retries=2, backoff_s=0.05)
    assert remote.answer(make_view(), "How many screws?") == "7 screws"
    assert len(server.headers) == 3
    server, url = canned((400, b'{"error": "bad request"}'), (200, chat("never reached")))
    with pytest.raises(RemoteError, match="HTTP 400"):
        client(url, retries=3).answer(make_view(), "How many screws?")
    assert len(server.headers) == 1  # a refused request is not retried


def test_api_key_in_header_never_in_logs_or_errors(canned, monkeypatch, caplog):
    monkeypatch.setenv("WORKBENCH_TEST_KEY", KEY)
    server, url = canned((500, b"internal error, your header was {AUTH}"))  # a server that echoes the header
    remote = client(url, api_key_env="WORKBENCH_TEST_KEY", retries=1, fallback=ScriptedBackend("local"))
    with caplog.at_level(logging.DEBUG):
        assert remote.answer(make_view(), "How many?") == "local: 3"
    assert [h["Authorization"] for h in server.headers] == [f"Bearer {KEY}"] * 2
    assert "HTTP 500" in remote.stats.last_error and "Bearer ***" in remote.stats.last_error
    assert KEY not in caplog.text and KEY not in remote.stats.last_error and KEY not in repr(remote)
    with pytest.raises(RemoteError) as info:
        client(url, api_key_env="WORKBENCH_TEST_KEY", retries=0).answer(make_view(), "How many?")
    assert KEY not in str(info.value) and "***" in str(info.value)


def test_serve_requires_its_key(serving, monkeypatch):
    server = serving(ScriptedBackend(), api_key=KEY)
    monkeypatch.setenv("WORKBENCH_TEST_KEY", "wrong-key")
    remote = client(server.url, api_key_env="WORKBENCH_TEST_KEY", fallback=ScriptedBackend("local"))
    assert remote.answer(make_view(), "How many?") == "local: 3" and "HTTP 401" in remote.stats.last_error
    monkeypatch.setenv("WORKBENCH_TEST_KEY", KEY)
    remote = client(server.url, api_key_env="WORKBENCH_TEST_KEY", fallback=ScriptedBackend("local"))
    assert remote.answer(make_view(), "How many?") == "scripted: 3"


def test_serve_rejects_bad_requests_clearly(serving):
    import http.client

    from workbench_gym.policies.backends.wire import image_data_url

    class Broken(ScriptedBackend):
        def answer(self, view, question):
            raise RuntimeError("model exploded")

    server = serving(Broken())
    image = {"type": "image_url", "image_url": {"url": image_data_url(make_view().rgb)}}

    def post(body, path="/v1/chat/completions"):
        connection = http.client.HTTPConnection("127.0.0.1", server.server_address[1], timeout=5)
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        connection.request("POST", path, body=data, headers={"Content-Type": "application/json"})
        response = connection.getresponse()
        status, payload = response.status, json.loads(response.read())
        connection.close()
        return status, payload["error"]["message"] if "error" in payload else payload

    def user(*parts, **extra):
        return {"model": "workbench-scripted", "messages": [{"role": "user", "content": list(parts)}], **extra}

    assert post(b"{not json")[0] == 400
    status, message = post(user(image, {"type": "text", "text": "describe the bench"}))
    assert status == 400 and "unrecognised prompt" in message
    status, message = post(user(image, {"type": "text", "text": answer_prompt("How many?")}, stream=True))
    assert status == 400 and "streaming" in message
    remote_image = {"type": "image_url", "image_url": {"url": "http://example.com/a.png"}}
    status, message = post(user(remote_image, {"type": "text", "text": answer_prompt("?")}))
    assert status == 400 and "fetches nothing" in message
    status, message = post(user(image, {"type": "text", "text": answer_prompt("How many?")}))
    assert status == 500 and "model exploded" in message
    status, message = post({"x": 1}, path="/v1/completions")
    assert status == 404 and "/v1/chat/completions" in message
    status, reply = post(user(image, {"type": "text", "text": plan_prompt("tidy up")}))  # still serving after errors
    assert status == 200 and parse_task(reply["choices"][0]["message"]["content"]) == Broken().plan(None, "")


def test_serve_round_trip_with_the_native_backend(serving):
    """client -> serve -> NativeBackend on a real camera frame: the same regions and answers as in-process."""
    torch = pytest.importorskip("torch")
    import gymnasium as gym

    from workbench_gym.policies.native.backend import NativeBackend
    from workbench_gym.policies.native.text import TextEncoder
    from workbench_gym.policies.native.training import new_model
    from workbench_gym.policies.native.vocabulary import BANK
    from workbench_gym.policies.vlm_planner import observation_view

    # An untrained model whose phrase bank has random unit embeddings: the plumbing, without the text model.
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(len(BANK), 384)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    encoder = TextEncoder(dict(zip(BANK, vectors)))
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        native = NativeBackend(model=new_model(encoder), text_encoder=encoder)
        env = gym.make("workbench_gym/PickTool-v0", obs_mode="rgbd", image_size=(128, 96))
        try:
            view = observation_view(env.reset(seed=1)[0], "front")
        finally:
            env.close()
        server = serving(native)
        remote = client(server.url, model="workbench-native", timeout_s=20, total_timeout_s=40)
        for phrase in ("the claw hammer", "the bin"):
            there, here = remote.ground(view, phrase), native.ground(view, phrase)
            assert len(here) > 0 and [(r.box, r.label, r.point) for r in there] == [(r.box, r.label, r.point) for r in here]
            assert np.allclose([r.score for r in there], [r.score for r in here], atol=1e-5)
            assert all(np.array_equal(a.mask, b.mask) for a, b in zip(there, here))
        assert remote.answer(view, "How many hammers are there?") == native.answer(view, "How many hammers are there?")
        assert remote.plan(view, "pick up the hammer") == StructuredTask("pick", ToolReference("claw_hammer"))  # our reader
        assert remote.stats.fallbacks == 0
    finally:
        torch.set_num_threads(threads)


def test_view_payload_round_trip_and_bad_payloads():
    from workbench_gym.policies.backends.wire import decode_image, image_data_url, view_from_payload, view_payload

    view = make_view(seed=3)
    payload = json.loads(json.dumps(view_payload(view)))  # what goes over the wire
    again = view_from_payload(decode_image(image_data_url(view.rgb)), payload)
    assert np.array_equal(again.rgb, view.rgb) and np.array_equal(again.depth, view.depth)
    assert np.allclose(again.intrinsics, view.intrinsics) and np.allclose(again.extrinsics, view.extrinsics) and again.camera == "front"
    bare = view_from_payload(view.rgb, None)  # another client: no depth, a default calibration
    assert bare.depth is None and bare.intrinsics[0, 2] == 32
    with pytest.raises(ValueError, match="expected the image's"):
        view_from_payload(view.rgb[:10], payload)
    with pytest.raises(ValueError, match="intrinsics"):
        view_from_payload(view.rgb, {"extrinsics": np.eye(4).tolist()})
    with pytest.raises(ValueError, match="not base64 zlib"):
        view_from_payload(view.rgb, {**payload, "depth_f32_zlib": "bm90IHpsaWI="})
    with pytest.raises(ValueError, match="uint8"):
        image_data_url(view.depth)
    with pytest.raises(ValueError, match="readable image"):
        decode_image("data:image/png;base64,bm90IGEgcG5n")


@pytest.mark.parametrize("stop", ["SIGINT", "SIGTERM"])
def test_serve_command_stops_on_ctrl_c_and_sigterm(stop, tmp_path):
    """Even started as a shell's background job, which ignores SIGINT and so leaves Python no Ctrl-C handler."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"}
    # As a shell starts a background job: SIGINT ignored, then exec (an ignored signal stays ignored across exec).
    launcher = ("import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_IGN); "
                "os.execv(sys.executable, [sys.executable, '-m', 'workbench_gym.cli', 'serve', '--port', '0'])")
    process = subprocess.Popen([sys.executable, "-c", launcher], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env)
    try:
        line = ""
        while not line.startswith("serving"):
            line = process.stdout.readline()
            assert line, "serve exited early"
        process.send_signal(getattr(signal, stop))
        assert process.wait(timeout=60) == 0
    finally:
        if process.poll() is None:
            process.kill()
