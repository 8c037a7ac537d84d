"""The HTTP client's time bound holds for the whole call, its replies are parsed safely, and its API key never leaks
(issue 16, items 11, 12 and 13), against the misbehaving loopback servers of `benchmarks/fake_servers.py`."""

import json
import logging
import sys
import time
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

from fake_servers import KINDS, MANY_REGIONS, FakeServer, LocalFallback, check_server, sample_view  # noqa: E402

from workbench_gym.policies.backends.openai_compat import OpenAICompatBackend, RemoteError, api_key  # noqa: E402
from workbench_gym.policies.backends.replies import MAX_REGIONS, MalformedReply, decode_mask, encode_mask, parse_regions  # noqa: E402

KEY = "sk-test-5up3r-s3cr3t"


# -- item 12: the time bound ----------------------------------------------------------------------------------------

#: Replies whose handling is CPU work (parsing 20,000 regions, a large body) get a bound a busy machine keeps; the
#: slow path they guard against took 33 s. Servers that stall or trickle are held to the tight one.
PARSE_BOUND_S = {"many_boxes": 5.0, "huge_body": 5.0}


@pytest.mark.parametrize("kind", KINDS)
def test_every_misbehaving_server_ends_within_the_bound_and_falls_back(kind):
    bound = PARSE_BOUND_S.get(kind, 1.2)
    outcome = check_server(kind, "ground", total_timeout_s=bound, timeout_s=min(0.6, bound / 2))
    assert not outcome.outcome.startswith("error"), outcome
    assert outcome.within_bound, f"{kind}: {outcome.seconds:.2f} s against total_timeout_s={bound} ({outcome.detail})"
    assert outcome.as_expected, outcome
    assert outcome.regions == (MAX_REGIONS if kind == "many_boxes" else 1)  # valid boxes: the best MAX_REGIONS are used


def test_trickled_headers_do_not_hold_a_plan_call():
    """Headers a byte every 0.2 s kept each read under timeout_s: the call ran 108 s against total_timeout_s=20."""
    fallback = LocalFallback()
    outcome = check_server("trickle_headers", "plan", total_timeout_s=1.0, timeout_s=0.5, fallback=fallback)
    assert outcome.outcome == "fallback" and fallback.calls == 1
    assert outcome.seconds <= 1.0 and "total time bound" in outcome.detail


def test_the_fallback_answers_inside_the_bound():
    """The remote part stops fallback_reserve_s early, so remote wait plus the fallback's answer fit total_timeout_s."""

    class SlowFallback(LocalFallback):
        def answer(self, view, question):
            time.sleep(0.2)
            return super().answer(view, question)

    outcome = check_server("hang", "answer", total_timeout_s=1.5, timeout_s=2.0, fallback=SlowFallback())
    assert outcome.outcome == "fallback" and 1.0 <= outcome.seconds <= 1.5, outcome
    with pytest.raises(ValueError, match="fallback_reserve_s"):
        OpenAICompatBackend(fallback_backend=LocalFallback(), total_timeout_s=1.0, fallback_reserve_s=1.0, api_key_env=None)


def test_without_a_fallback_the_whole_bound_goes_to_the_server():
    with FakeServer("hang") as server:
        client = OpenAICompatBackend(base_url=server.url, fallback=None, api_key_env=None, timeout_s=5.0, total_timeout_s=0.8)
        start = time.monotonic()
        with pytest.raises(RemoteError, match="total time bound"):
            client.answer(sample_view(), "How many?")
        assert 0.7 <= time.monotonic() - start <= 0.8 + 0.3


# -- item 11: replies with NaN boxes or 20,000 regions --------------------------------------------------------------

def test_nan_and_infinite_regions_are_dropped_not_raised():
    text = '{"regions": [{"box": [NaN, 1, 5, 5]}, {"box": [1, 1, 9, 9], "score": NaN}, {"box": [1, 1, Infinity, 9]}, ' \
           '{"point": [NaN, 3]}, {"box": [2, 2, 8, 8], "score": 0.4}]}'
    regions = parse_regions(text, 20, 20)
    assert [(r.box, r.score) for r in regions] == [((2, 2, 8, 8), 0.4)]
    with pytest.raises(MalformedReply, match="no usable region"):
        parse_regions('{"regions": [{"box": [NaN, NaN, NaN, NaN], "score": NaN}]}', 20, 20)


def test_a_reply_of_20000_regions_is_cut_to_the_best_ones_before_masks_decode():
    rng = np.random.default_rng(0)
    scores = rng.random(MANY_REGIONS)
    mask = encode_mask(np.ones((20, 30), bool))
    items = [{"box": [1, 1, 9, 9], "score": float(s), "mask": mask} for s in scores]
    start = time.monotonic()
    regions = parse_regions(json.dumps({"regions": items}), 30, 20)
    assert time.monotonic() - start < 5.0  # 64 masks decoded, not 20,000 (about 0.5 s here)
    assert len(regions) == MAX_REGIONS
    assert [r.score for r in regions] == pytest.approx(sorted(scores, reverse=True)[:MAX_REGIONS])
    assert all(r.mask is not None and r.mask.all() for r in regions)


def test_masks_decode_only_when_whole_and_of_the_image_size():
    mask = np.zeros((6, 7), bool)
    mask[1:4, 2:6] = True
    rle = encode_mask(mask)
    assert isinstance(rle["counts"], str) and np.array_equal(decode_mask(rle, (6, 7)), mask)
    assert decode_mask(rle, (7, 6)) is None  # another image's mask
    assert decode_mask({"size": [100000, 100000], "counts": rle["counts"]}, (6, 7)) is None  # a forged size allocates nothing
    assert decode_mask({"size": [6, 7], "counts": "0000"}) is None  # runs that fall short of the image
    assert decode_mask({"size": [6, 7], "counts": "zzzzzzzz"}) is None  # runs past it
    all_but_first_column = np.ones((6, 7), bool)
    all_but_first_column[:, 0] = False
    assert np.array_equal(decode_mask({"size": [6, 7], "counts": [6, 36]}), all_but_first_column)  # uncompressed RLE
    assert decode_mask({"size": [6, 7], "counts": [6, 35]}) is None


# -- item 13: secrets -----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("raw", [KEY + "\r", KEY + "\n", KEY + "\r\n", f"  {KEY}\t"])
def test_api_key_with_line_ending_is_stripped_and_works(raw, monkeypatch, caplog):
    monkeypatch.setenv("WORKBENCH_TEST_KEY", raw)
    assert api_key("WORKBENCH_TEST_KEY") == KEY
    with FakeServer("error_500") as server, caplog.at_level(logging.DEBUG):
        client = OpenAICompatBackend(fallback_backend=LocalFallback(), base_url=server.url, api_key_env="WORKBENCH_TEST_KEY",
                                     timeout_s=1.0, total_timeout_s=2.0, retries=0)
        assert client.answer(sample_view(), "How many?") == "fallback"
    assert "HTTP 500" in client.stats.last_error and KEY not in caplog.text


@pytest.mark.parametrize("raw", [KEY[:5] + "\r\n" + KEY[5:], KEY[:5] + " " + KEY[5:], KEY + "\u00e9", KEY[:4] + "\x07" + KEY[4:]])
def test_api_key_that_no_header_can_carry_is_rejected_without_showing_it(raw, monkeypatch):
    monkeypatch.setenv("WORKBENCH_TEST_KEY", raw)
    with pytest.raises(ValueError, match=r"\$WORKBENCH_TEST_KEY .*not shown") as err:
        OpenAICompatBackend(fallback_backend=LocalFallback(), api_key_env="WORKBENCH_TEST_KEY")
    assert KEY[5:] not in str(err.value) and KEY[:4] not in str(err.value)


def test_eval_with_a_key_from_a_windows_env_file_never_prints_it(monkeypatch, capsys, tmp_path):
    from workbench_gym.cli import main

    monkeypatch.setenv("WORKBENCH_TEST_KEY", KEY + "\r\n")
    with FakeServer("error_500") as server:
        code = main(["eval", "--task", "CountTools", "--episodes", "1", "--n-tools", "4", "--backend", "openai", "--quiet",
                     "--option", f"base_url={server.url}", "--option", "api_key_env=WORKBENCH_TEST_KEY", "--option", "retries=0",
                     "--out", str(tmp_path / "eval.json")])
    out = capsys.readouterr()
    assert KEY not in out.out + out.err  # main printed "error: Invalid header value b'Bearer sk-...\r\n'"
    assert code == 0 and "| CountTools |" in out.out and server.requests >= 1
    assert KEY not in (tmp_path / "eval.json").read_text()
