"""The native backend's tip reader: end crops along a mask's axis, odds combined with the grounding model's, and the
shipped weights telling a Phillips from a flathead screwdriver on rendered dev scenes (the simulator is the truth only)."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from workbench_gym.policies.backend import View  # noqa: E402
from workbench_gym.policies.native.backend import NativeBackend  # noqa: E402
from workbench_gym.policies.native.tips import ALONG, DEFAULT_TIP_WEIGHTS, END_AT, KINDS, TipModel, TipReader, combine, end_crops  # noqa: E402
from workbench_gym.policies.native.vocabulary import CATEGORIES  # noqa: E402


def _bar(length: int = 40) -> tuple[np.ndarray, np.ndarray]:
    """A grey horizontal bar with a red right end, on black."""
    rgb = np.zeros((80, 120, 3), np.uint8)
    mask = np.zeros((80, 120), bool)
    mask[38:43, 40:40 + length] = True
    rgb[mask] = 128
    rgb[38:43, 40 + length - 2:40 + length] = (255, 0, 0)
    return rgb, mask


def test_end_crops_lie_along_the_axis_with_each_end_at_its_column():
    rgb, mask = _bar()
    crops = end_crops(rgb, mask)
    assert crops.shape == (2, 4, 12, ALONG)
    for crop in crops:  # the body runs back from the end, nothing lies beyond it
        assert crop[3, :, :END_AT + 1].any(0).all() and not crop[3, :, END_AT + 1:].any()
    reds = [bool(((crop[0, :, END_AT] == 1.0) & (crop[1, :, END_AT] == 0.0)).any()) for crop in crops]
    assert sorted(reds) == [False, True]  # the red end is one crop's end, the other end the other's
    assert end_crops(rgb, np.zeros_like(mask)) is None


class _Fixed(TipModel):
    """A tip model that says the same for every crop: logits for handle, Phillips, flathead."""

    def __init__(self, logits):
        super().__init__()
        self.logits = torch.tensor(logits, dtype=torch.float32)

    def forward(self, crops):
        return self.logits.expand(len(crops), 3)


def test_refine_resplits_only_screwdrivers_and_keeps_their_sum():
    rgb, mask = _bar()
    probs = np.array([[0.5, 0.4, 0.1], [0.02, 0.01, 0.9]])  # (Phillips, flathead, a wrench) columns
    out = TipReader(_Fixed([-5.0, -2.0, 2.0])).refine(probs, rgb, [mask, mask], (0, 1))
    assert out[0, 0] < 0.2 < out[0, 1] and out[0, :2].sum() == pytest.approx(0.9) and out[0, 2] == probs[0, 2]
    np.testing.assert_array_equal(out[1], probs[1])  # the grounding model did not take it for a screwdriver
    handle = TipReader(_Fixed([10.0, -2.0, 2.0])).share(end_crops(rgb, mask)[None])
    assert handle[0] == pytest.approx(0.5, abs=0.01)  # neither end looks like a tip: no word on the kind
    assert combine(np.array([0.5, 0.9]), np.array([0.8, 0.5])) == pytest.approx([0.8, 0.9])


def _script():
    """scripts/train_tips.py as a module: its renderer labels proposals from the simulator's truth."""
    import importlib.util
    from pathlib import Path

    spec = importlib.util.spec_from_file_location("train_tips", Path(__file__).parents[1] / "scripts" / "train_tips.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def held_out():
    """Screwdriver proposals of 10 dev scenes the shipped weights were not trained on (seed % 5 == 0)."""
    return _script().render_examples(range(5000, 5050, 5))


def test_shipped_tip_weights_tell_the_kinds_apart_better_than_the_grounding_model(held_out):
    assert DEFAULT_TIP_WEIGHTS.stat().st_size < 2**20
    report = _script().held_out_report(TipModel.load(), held_out)["all"]
    assert report["proposals"] >= 50
    assert report["both"] >= 0.75 and report["both"] > report["grounding"] + 0.05, report


def test_the_backend_resplits_screwdriver_kinds_as_the_tips_say():
    import gymnasium as gym

    import workbench_gym  # noqa: F401

    env = gym.make("workbench_gym/PickTool-v0", control_mode="primitive", obs_mode="rgbd", cameras=("front",), image_size=(384, 384), n_tools=12)
    obs, _ = env.reset(seed=5005)
    env.close()
    v = obs["cameras"]["front"]
    view = View(v["rgb"], v["depth"], v["intrinsics"], v["extrinsics"], "front")
    plain, tipped = NativeBackend(tips=False).frame(view), NativeBackend().frame(view)
    assert (plain.kind_factor == 1).all() and not (tipped.kind_factor == 1).all()
    columns = [CATEGORIES.index(k) for k in KINDS]
    np.testing.assert_allclose(tipped.category_probs.sum(1), plain.category_probs.sum(1), rtol=1e-5)  # a re-split only
    others = [c for c in range(len(CATEGORIES)) if c not in columns]
    np.testing.assert_array_equal(tipped.category_probs[:, others], plain.category_probs[:, others])
    share = TipReader().kind_share(view.rgb, [p.mask for p in tipped.proposals], [p.box for p in tipped.proposals])
    changed = np.flatnonzero((tipped.kind_factor != 1).any(1))
    model = plain.category_probs[changed, columns[0]] / plain.category_probs[changed][:, columns].sum(1)
    np.testing.assert_allclose(tipped.category_probs[changed, columns[0]] / tipped.category_probs[changed][:, columns].sum(1),
                               combine(model, share[changed]), rtol=1e-5)


def test_the_training_script_renders_trains_and_writes_loadable_weights(tmp_path):
    module = _script()
    out, report = tmp_path / "tips.safetensors", tmp_path / "report.json"
    args = ["--scenes", "5", "--first-seed", "5000", "--epochs", "1", "--channels", "4,4,4", "--workers", "1", "--out", str(out), "--report", str(report)]
    assert module.main(args) == 0
    assert TipModel.load(out).channels == (4, 4, 4)
    assert "all" in __import__("json").loads(report.read_text())["held_out_tips_told_apart"]
    with pytest.raises(SystemExit):  # the test range is never trained on
        module.main(["--scenes", "5", "--first-seed", "100000", "--out", str(out)])
