"""scripts/finetune.py on a tiny synthetic dataset: accuracy before/after on the held-out split, as JSON."""

import importlib.util
import json
import sys
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from tiny_hf_models import tiny_clip  # noqa: E402

from workbench_gym.synth_data.generate import generate  # noqa: E402
from workbench_gym.synth_data.randomize import SynthConfig  # noqa: E402
from workbench_gym.synth_data.reader import open_dataset  # noqa: E402

SCRIPT = Path(__file__).parents[1] / "scripts" / "finetune.py"


def load_script():
    spec = importlib.util.spec_from_file_location("finetune", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules["finetune"] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


pytestmark = pytest.mark.usefixtures("torch_one_thread")


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    """Four scenes, every other one held out: 4 train and 4 test images of 64x64."""
    root = tmp_path_factory.mktemp("finetune")
    config = SynthConfig(scenes=4, seed=0, size=64, scenes_per_shard=2, holdout_every=2, max_tools=8, orbit_views=0, wrist_views=0)
    generate(config, root / "data", progress=False)
    return root


def test_clip_finetune_reports_before_and_after(data, tmp_path):
    finetune = load_script()
    clip = tiny_clip(tmp_path / "clip")
    argv = ["--data", str(data / "data"), "--model", "clip", "--clip-path", str(clip), "--epochs", "2", "--lr", "1e-3"]
    argv += ["--threads", "1", "--quiet"]
    assert finetune.main([*argv, "--out", str(tmp_path / "a.json"), "--save", str(tmp_path / "tuned")]) == 0
    results = json.loads((tmp_path / "a.json").read_text())
    assert results["model"] == "clip" and results["train_images"] == 4 and results["test_images"] == 4
    for side in ("before", "after"):
        assert results[side]["expressions"] == results["test_expressions"] > 0 and 0 <= results[side]["top1"] <= 1
        assert 0 <= results["among_objects"][side] <= 1
    assert 0 < results["among_objects"]["chance"] < 0.5
    assert results["gain"] == pytest.approx(results["after"]["top1"] - results["before"]["top1"])
    losses = results["train_losses"]
    assert len(losses) == 2 and losses[-1] < losses[0]  # it learns the training images

    # The tuned weights are saved as safetensors, load through the hf backend, and differ from the start.
    from workbench_gym.policies.backends.hf import ClipScorer

    assert (tmp_path / "tuned" / "model.safetensors").exists()
    tuned, start = ClipScorer(str(tmp_path / "tuned")), ClipScorer(str(clip))
    assert not torch.allclose(tuned.model.text_projection.weight, start.model.text_projection.weight)
    test = finetune.grounding_images(open_dataset(data / "data").split("test"))
    assert finetune.clip_accuracy(tuned, test) == pytest.approx(results["among_objects"]["after"])

    # Same seed, same result.
    assert finetune.main([*argv, "--out", str(tmp_path / "b.json")]) == 0
    again = json.loads((tmp_path / "b.json").read_text())
    assert np.allclose(again["train_losses"], losses) and again["after"]["top1"] == results["after"]["top1"]


def test_native_finetune_starts_from_given_weights(data, tmp_path):
    from workbench_gym.policies.native.model import GroundingModel
    from workbench_gym.policies.native.text import TextEncoder
    from workbench_gym.policies.native.training import new_model
    from workbench_gym.policies.native.vocabulary import BANK

    # An untrained start whose phrase bank has random unit embeddings: no text model to load.
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(len(BANK), 384)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    new_model(TextEncoder(dict(zip(BANK, vectors)))).save(tmp_path / "start.safetensors")
    argv = ["--data", str(data / "data"), "--model", "native", "--native-weights", str(tmp_path / "start.safetensors")]
    argv += ["--epochs", "3", "--threads", "1", "--quiet"]
    assert load_script().main([*argv, "--out", str(tmp_path / "n.json"), "--save", str(tmp_path / "tuned.safetensors")]) == 0
    results = json.loads((tmp_path / "n.json").read_text())
    assert results["start"].endswith("start.safetensors") and results["lr"] == 5e-4 and results["train_proposals"] > 0
    assert results["before"]["expressions"] == results["after"]["expressions"] == results["test_expressions"]
    assert results["train_losses"][-1] < results["train_losses"][0]
    tuned, start = GroundingModel.load(tmp_path / "tuned.safetensors"), GroundingModel.load(tmp_path / "start.safetensors")
    assert any(not torch.equal(a, b) for a, b in zip(tuned.state_dict().values(), start.state_dict().values()))


def test_grounding_images_pair_expressions_with_their_object(data):
    finetune = load_script()
    dataset = open_dataset(data / "data").split("train")
    images = finetune.grounding_images(dataset)
    record = next(iter(dataset))
    image = images[0]
    # The expression's target box is the annotated object's box.
    text, target = image.expressions[0]
    expression = next(e for e in record.expressions if e.text == text)
    x, y, w, h = record.object(expression.instance_id).bbox
    assert image.boxes[target][0] == int(np.floor(x)) and image.boxes[target][3] == int(np.ceil(y + h))


def test_clip_needs_a_path(data, tmp_path):
    with pytest.raises(ValueError, match="--clip-path"):
        load_script().main(["--data", str(data / "data"), "--model", "clip", "--out", str(tmp_path / "x.json"), "--quiet"])
