"""The hf backend on tiny random CLIP, OWLv2, Grounding-DINO and SmolVLM (Idefics3) models saved to a temp dir and
loaded back offline. Random weights give random answers, so these check loading, pre/post-processing, coordinates
and parsing."""

import numpy as np
import pytest

pytest.importorskip("transformers")
torch = pytest.importorskip("torch")

from tiny_hf_models import tiny_clip, tiny_grounding_dino, tiny_owlv2, tiny_smolvlm, top_down_view  # noqa: E402

from workbench_gym.language.task import StructuredTask, ToolReference  # noqa: E402
from workbench_gym.policies.backend import Backend, Region  # noqa: E402
from workbench_gym.policies.backends import make_backend  # noqa: E402
from workbench_gym.policies.backends.hf import HFBackend, suppress_overlaps  # noqa: E402
from workbench_gym.policies.perception import propose  # noqa: E402
from workbench_gym.scenes.catalog import CATALOG  # noqa: E402

pytestmark = pytest.mark.usefixtures("torch_one_thread")


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    root = tmp_path_factory.mktemp("hf")
    return {
        "clip": tiny_clip(root / "clip"), "owlv2": tiny_owlv2(root / "owlv2"), "smolvlm": tiny_smolvlm(root / "smolvlm"),
        "grounding_dino": tiny_grounding_dino(root / "grounding_dino"),
    }


def test_clip_scores_the_rgbd_proposals(models):
    backend = make_backend("hf", model=str(models["clip"]))
    assert isinstance(backend, Backend) and backend.scorer and not backend.chat
    view = top_down_view()
    regions = backend.ground(view, "the red hammer")
    proposals = propose(view.rgb, view.depth, view.intrinsics, view.extrinsics)
    assert sorted(r.box for r in regions) == sorted(p.box for p in proposals) and len(regions) == 2
    assert sum(r.score for r in regions) == pytest.approx(1.0, abs=1e-5)  # a softmax over the candidates
    assert regions[0].score >= regions[1].score
    assert all(r.label in CATALOG and r.mask is not None and r.mask[r.point[1], r.point[0]] for r in regions)
    assert [r.box for r in backend.ground(view, "the red hammer")] == [r.box for r in regions]  # repeatable
    with pytest.raises(ValueError, match="without a chat model"):
        backend.answer(view, "How many hammers?")
    assert backend.plan(view, "pick up the hammer") is None  # the planner reads the instruction itself


def test_owlv2_boxes_come_back_in_image_pixels(models):
    backend = HFBackend(detector=str(models["owlv2"]), detection_threshold=0.0, max_regions=100)
    view = top_down_view(width=80, height=48)
    regions = backend.ground(view, "the hammer")
    # With a zeroed box head each patch predicts its prior box, in fractions of the padded 80x80 square.
    cx, cy, w, h = torch.sigmoid(backend.detector.model.box_bias).numpy().T * 80
    expected = set()
    for x0, y0, x1, y1 in zip(cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2):
        box = (round(max(x0, 0)), round(max(y0, 0)), round(min(x1, 80)), round(min(y1, 48)))
        if box[2] > box[0] and box[3] > box[1]:
            expected.add(box)
    assert {r.box for r in regions} == expected and len(expected) == 8  # the rows below the image are padding
    assert all(0 <= r.score <= 1 for r in regions) and [r.score for r in regions] == sorted((r.score for r in regions), reverse=True)
    assert all(r.box[0] <= r.point[0] < r.box[2] and r.box[1] <= r.point[1] < r.box[3] for r in regions)


def _spy_forward(model) -> dict:
    """The keyword inputs and the outputs of the model's next forward pass, filled in when it runs."""
    seen = {}
    model.register_forward_hook(lambda module, args, kwargs, output: seen.update(kwargs, outputs=output), with_kwargs=True)
    return seen


def test_grounding_dino_loads_as_a_detector(models):
    by_role = make_backend("hf", model=str(models["grounding_dino"]), max_regions=3)
    assert by_role.detector and not by_role.scorer and not by_role.chat and by_role.detector.kind == "grounding-dino"
    view = top_down_view(width=80, height=48)
    regions = by_role.ground(view, "the hammer")
    assert len(regions) == 3  # 20 queries, random scores near 1: the cap bites
    assert all(isinstance(r, Region) and 0 <= r.box[0] < r.box[2] <= 80 and 0 <= r.box[1] < r.box[3] <= 48 for r in regions)
    assert all(0 <= r.score <= 1 for r in regions) and [r.score for r in regions] == sorted((r.score for r in regions), reverse=True)
    by_path = HFBackend(detector=str(models["grounding_dino"]), max_regions=3)
    assert [(r.box, r.score) for r in by_path.ground(view, "the hammer")] == [(r.box, r.score) for r in regions]  # repeatable


def test_grounding_dino_gets_the_phrase_closed_by_one_dot(models):
    backend = HFBackend(detector=str(models["grounding_dino"]))
    seen = _spy_forward(backend.detector.model)
    tokenizer = backend.detector.processor.tokenizer
    for phrase in ("The Red Hammer", "the red hammer."):
        backend.ground(top_down_view(), phrase)
        ids = seen["input_ids"][0].tolist()
        assert tokenizer.decode(ids, skip_special_tokens=True).replace(" ", "") == "theredhammer."
        assert ids[-2:] == [tokenizer.convert_tokens_to_ids("."), tokenizer.sep_token_id] and ids.count(ids[-2]) == 1


def test_grounding_dino_boxes_come_back_in_image_pixels(models):
    backend = HFBackend(detector=str(models["grounding_dino"]), detection_threshold=0.0, max_regions=100)
    seen = _spy_forward(backend.detector.model)
    view = top_down_view(width=120, height=72)  # resized to 80x48 by the processor, and not square
    regions = backend.ground(view, "the hammer")
    assert seen["pixel_values"].shape[-2:] == (48, 80)
    # Grounding-DINO's boxes are (cx, cy, w, h) fractions of the image itself: no square padding, no resized size.
    outputs = seen["outputs"]
    scores = torch.sigmoid(outputs.logits[0]).max(dim=-1).values.tolist()
    cx, cy, w, h = outputs.pred_boxes[0].numpy().T * np.array([[120], [72], [120], [72]])
    expected = []
    for x0, y0, x1, y1, score in zip(cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2, scores):
        box = (round(max(x0, 0)), round(max(y0, 0)), round(min(x1, 120)), round(min(y1, 72)))
        if box[2] > box[0] and box[3] > box[1]:
            expected.append(Region(box, score))
    expected = suppress_overlaps(expected)
    assert [r.box for r in regions] == [r.box for r in expected] and len(regions) > 10
    assert [r.score for r in regions] == pytest.approx([r.score for r in expected])
    assert max(r.box[3] for r in regions) > 48  # boxes reach below the processor's 48 rows: scaled to the camera image
    assert all(r.box[0] <= r.point[0] < r.box[2] and r.box[1] <= r.point[1] < r.box[3] for r in regions)


def test_overlapping_boxes_are_suppressed():
    regions = [Region((0, 0, 10, 10), 0.5), Region((1, 1, 10, 10), 0.9), Region((20, 20, 30, 30), 0.1)]
    assert [r.box for r in suppress_overlaps(regions)] == [(1, 1, 10, 10), (20, 20, 30, 30)]


def test_chat_vlm_generates_and_parses(models, monkeypatch):
    backend = make_backend("hf", model=str(models["smolvlm"]), max_new_tokens=12)
    assert backend.chat and not backend.scorer and not backend.detector
    view = top_down_view()
    answer = backend.answer(view, "How many hammers?")
    assert isinstance(answer, str) and answer == backend.answer(view, "How many hammers?")  # greedy: repeatable
    assert backend.ground(view, "the hammer") == []  # random tokens are no JSON: nothing grounded, no crash
    assert backend.plan(view, "pick up the hammer") is None
    prompts = []

    def reply(rgb, prompt):  # what a trained VLM would say, to check the parsing end of the pipeline
        prompts.append(prompt)
        if prompt.startswith("Find"):
            return 'Sure: ```json\n[{"bbox_2d": [10, 20, 30, 26], "point_2d": [19, 22], "label": "claw_hammer"}]\n```'
        return '{"intent": "place", "reference": {"category": "hammer"}, "container": "the blue bin"}'

    monkeypatch.setattr(backend.chat, "generate", reply)
    regions = backend.ground(view, "the hammer")
    assert [(r.box, r.point, r.label) for r in regions] == [((10, 20, 30, 26), (19, 22), "claw_hammer")]
    task = StructuredTask("place", ToolReference("claw_hammer"), "blue bin")  # the model's words in catalog names
    assert backend.plan(view, "put the hammer in the blue bin") == task
    assert '"the hammer"' in prompts[0] and "64x64" in prompts[0]


def test_chat_prompt_reaches_the_model_with_the_image(models):
    backend = HFBackend(chat=str(models["smolvlm"]), max_new_tokens=2)
    processor = backend.chat.processor
    seen = {}
    original = processor.apply_chat_template

    def spy(messages, **kwargs):
        seen["inputs"] = original(messages, **kwargs)
        return seen["inputs"]

    processor.apply_chat_template = spy
    backend.answer(top_down_view(), "How many hammers?")
    ids = seen["inputs"]["input_ids"][0].tolist()
    assert ids.count(processor.image_token_id) == 4  # the image's tokens, as the tiny config asks
    assert "How many hammers?" in processor.decode(ids) and seen["inputs"]["pixel_values"].shape[-2:] == (32, 32)


def test_missing_model_is_a_clear_error(tmp_path):
    with pytest.raises(ValueError, match="cannot load .* offline"):
        make_backend("hf", model=str(tmp_path / "nowhere"))
    with pytest.raises(ValueError, match="needs at least one of"):
        make_backend("hf")
    with pytest.raises(ValueError, match="cannot load .* offline"):
        make_backend("hf", chat="some-org/not-in-the-cache")


def test_weights_load_from_safetensors_only(models):
    for path in models.values():
        files = {p.name for p in path.iterdir()}
        assert "model.safetensors" in files and not any(f.endswith((".bin", ".pt", ".pth")) for f in files)


def test_serve_command_exposes_the_hf_backend(models, tmp_path, monkeypatch):
    """`workbench-gym serve --backend hf` in a child process, read back by the OpenAI-compatible client."""
    import os
    import signal
    import subprocess
    import sys

    from workbench_gym.policies.backends.openai_compat import OpenAICompatBackend

    key = "sk-serve-test-0123456789"
    env = {**os.environ, "WB_SERVE_KEY": key, "HF_HUB_OFFLINE": "1", "OMP_NUM_THREADS": "1"}
    command = [sys.executable, "-m", "workbench_gym.cli", "serve", "--backend", "hf", "--option", f"scorer={models['clip']}",
               "--port", "0", "--api-key-env", "WB_SERVE_KEY"]
    log = open(tmp_path / "serve.log", "w+")
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=log, text=True, env=env)
    try:
        line = ""
        while not line.startswith("serving"):  # pybullet prints its banner first
            line = process.stdout.readline()
            assert line, f"serve exited early: {(tmp_path / 'serve.log').read_text()[-2000:]}"
        url = line.rsplit(" at ", 1)[1].strip()
        assert url.startswith("http://127.0.0.1:") and url.endswith("/v1")
        monkeypatch.setenv("WB_SERVE_KEY", key)
        remote = OpenAICompatBackend(base_url=url, model="workbench-hf", api_key_env="WB_SERVE_KEY", fallback=None, timeout_s=30,
                                     total_timeout_s=60)
        view = top_down_view()
        there, here = remote.ground(view, "the tape measure"), HFBackend(scorer=str(models["clip"])).ground(view, "the tape measure")
        assert [(r.box, r.label, r.point) for r in there] == [(r.box, r.label, r.point) for r in here]
        assert np.allclose([r.score for r in there], [r.score for r in here], atol=1e-5)
        assert all(np.array_equal(a.mask, b.mask) for a, b in zip(there, here))
    finally:
        process.send_signal(signal.SIGINT)  # Ctrl-C
        try:
            code = process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            raise AssertionError(f"serve ignored Ctrl-C for 30 s: {(tmp_path / 'serve.log').read_text()[-2000:]}") from None
    assert code == 0
    log.seek(0)
    text = log.read()
    assert "POST /v1/chat/completions" in text and key not in text  # requests are logged, the key never
