"""Fuzz every task x control mode x observation mode with malformed and well-formed actions.

Malformed actions (wrong shape or type, NaN or inf, unknown verbs, bad widths, oversized or control-character text)
must raise a `ValueError` that names the field; well-formed ones (in range, out of range, absurd but finite poses)
must be clipped or fail as documented (`info["primitive"]["reason"]`); nothing may crash or take longer than
`HANG_S`. With the full counts (56 malformed actions per combination, 50 well-formed per low-level one, 60 per
primitive one) the 128 combinations take 13,888 actions.

    python benchmarks/fuzz_actions.py --out benchmarks/results/fuzz_actions.json [--quick]
"""

from __future__ import annotations

import argparse
import faulthandler
import itertools
import sys
import time
from collections import Counter
from dataclasses import dataclass

import gymnasium as gym
import numpy as np
from report import emit  # benchmarks/report.py

import workbench_gym  # noqa: F401  (registers the envs)
from workbench_gym.envs.config import CONTROL_MODES, OBS_MODES
from workbench_gym.envs.high_level import Answer, Ask, Done, Pick, Place
from workbench_gym.envs.task import TASKS
from workbench_gym.registration import env_id

HANG_S = 30.0  # no single action may take longer (a pick or place takes well under 2 s)
WATCHDOG_S = 300.0  # an action still running after this is a hang: dump every thread's stack and exit
MALFORMED_PER_COMBO, WELL_FORMED_LOW_LEVEL, WELL_FORMED_PRIMITIVE = 56, 50, 60
ENV_OPTIONS = {"n_tools": 6, "image_size": (48, 48)}


@dataclass(frozen=True)
class Malformed:
    """An action that must raise ValueError whose message starts with (or, for low-level actions, holds) `field`."""

    action: object
    field: str


def low_level_malformed(n: int) -> list[Malformed]:
    """Malformed actions for a Box action space of `n` values; the field is "action"."""
    nan, inf = np.zeros(n), np.zeros(n)
    nan[0], inf[-1] = np.nan, np.inf
    cases = [np.zeros(n - 1), np.zeros(n + 1), np.zeros((n, 1)), np.zeros((1, n)), 0.0, np.array([]), nan, inf, -inf, np.full(n, np.nan),
             "0" * n, None, {"action": np.zeros(n)}, ["x"] * n, [[1.0, 2.0], [3.0]], object(), b"\x00" * n, [np.nan] * n,
             [float("inf")] * n, np.zeros(2 * n), list(range(n + 2)), (np.nan,) * n, np.full(n, -np.inf), [None] * n]
    return [Malformed(a, "action") for a in cases]


def primitive_malformed() -> list[Malformed]:
    """Malformed high-level actions, each with the field its error must name first."""
    good = np.array([0.45, 0.0, 0.8, 0.0])
    return [Malformed(a, f) for a, f in [
        ({"verb": True}, "verb"), ({"verb": 5}, "verb"), ({"verb": -1}, "verb"), ({"verb": "fly"}, "verb"), ({"verb": 2.5}, "verb"),
        ({"verb": None}, "verb"), ({"verb": [0]}, "verb"), ({}, "a high-level action"), ("pick", "a high-level action"),
        (None, "a high-level action"), ([0, good], "a high-level action"), (3, "a high-level action"),
        ({"verb": 0, "pose": np.array([np.nan, 0, 0.8, 0])}, "pick pose"), ({"verb": 0, "pose": np.array([0.4, np.inf, 0.8, 0])}, "pick pose"),
        ({"verb": 0, "pose": good[:3]}, "pick pose"), ({"verb": 0, "pose": np.r_[good, 1]}, "pick pose"), ({"verb": 0, "pose": "0.4 0 0.8 0"}, "pick pose"),
        ({"verb": 0, "pose": None}, "pick pose"), ({"verb": 0, "pose": {"x": 1}}, "pick pose"), ({"verb": 0}, "pick pose"),
        ({"verb": 1, "pose": np.full(4, np.nan)}, "place pose"), ({"verb": 1, "pose": [[0.4, 0.0], [0.8, 0.0]]}, "place pose"),
        ({"verb": "place", "pose": b"abcd"}, "place pose"), (Pick("0.4, 0, 0.8, 0"), "pick pose"), (Place(None), "place pose"),
        (Pick((0.4, 0.0, np.nan, 0.0)), "pick pose"), (Place((1.0, 2.0)), "place pose"),
        ({"verb": 0, "pose": good, "width": None}, "pick width"), ({"verb": 0, "pose": good, "width": np.array([0.02, 0.03])}, "pick width"),
        ({"verb": 0, "pose": good, "width": "0.05"}, "pick width"), ({"verb": 0, "pose": good, "width": np.nan}, "pick width"),
        ({"verb": 0, "pose": good, "width": 0.0}, "pick width"), ({"verb": 0, "pose": good, "width": -0.01}, "pick width"),
        ({"verb": 0, "pose": good, "width": 0.5}, "pick width"), ({"verb": 0, "pose": good, "width": True}, "pick width"),
        (Pick(tuple(good), width=None), "pick width"), (Pick(tuple(good), width=[[0.01]] * 3), "pick width"),
        (Pick(tuple(good), width=np.inf), "pick width"),
        (Answer("x" * 2**20), "answer text"), (Answer("three\n"), "answer text"), (Answer("\x00\x01\x02"), "answer text"),
        (Answer("caf\u00e9"), "answer text"), (Answer(3), "answer text"), ({"verb": "answer", "text": None}, "answer text"),
        ({"verb": "answer", "text": b"3"}, "answer text"), (Ask("y" * 257), "ask text"), (Ask("which one?\t"), "ask text"),
        (Ask("\x1b[31mred\x1b[0m"), "ask text"), ({"verb": "ask", "text": ["which"]}, "ask text"), ({"verb": 3, "text": 42}, "ask text"),
        ({"verb": np.int64(2), "text": "\u2028"}, "answer text"), ({"verb": "pick", "pose": [0.4, 0, 0.8, "0"]}, "pick pose"),
        ({"verb": "pick", "pose": np.zeros((4, 1))}, "pick pose"), ({"verb": "place", "pose": np.zeros(0)}, "place pose"),
        ({"verb": "place", "pose": [None] * 4}, "place pose"),
    ]]


def low_level_well_formed(space, rng: np.random.Generator, count: int) -> list[np.ndarray]:
    """Half in range, half up to twice the range (to be clipped)."""
    low, high = space.low.astype(np.float64), space.high.astype(np.float64)
    mid, half = (low + high) / 2, (high - low) / 2
    return [mid + half * rng.uniform(-1, 1, low.shape) * (1 if i % 2 else 2) for i in range(count)]


def primitive_well_formed(rng: np.random.Generator, count: int) -> list:
    """Picks and places near the bench, beyond reach and absurdly far; answers, asks, empty text and Done."""
    out = []
    for i in range(count):
        kind = i % 10
        near = (rng.uniform(0.3, 0.7), rng.uniform(-0.4, 0.4), rng.uniform(0.76, 0.9), rng.uniform(-np.pi, np.pi))
        far = (rng.uniform(-3, 3), rng.uniform(-3, 3), rng.uniform(-1, 3), rng.uniform(-10, 10))
        absurd = tuple(rng.choice([1e308, -1e308, 1e30, 3e38, 0.5], 4))
        out.append([
            Pick(near, float(rng.uniform(0.005, 0.08))), {"verb": "pick", "pose": np.array(far), "width": np.float32(0.04)},
            Pick(absurd), Place(near), {"verb": 1, "pose": np.array(far, np.float32)}, Place(absurd),
            Answer(str(int(rng.integers(0, 10)))), Ask("which one do you mean?"), Answer(""), Done() if i >= count - 10 else Ask("   "),
        ][kind])
    return out


def run_combo(task: str, control: str, obs_mode: str, malformed: int, well_formed: int, seed: int) -> dict:
    """Fuzz one combination; counts of each outcome, slowest action, and the first few problems."""
    env = gym.make(env_id(task), control_mode=control, obs_mode=obs_mode, **ENV_OPTIONS)
    rng = np.random.default_rng(seed)
    counts: Counter = Counter()
    problems: list[str] = []
    slowest = 0.0
    primitive = control == "primitive"
    bad_cases = primitive_malformed() if primitive else low_level_malformed(env.action_space.shape[0])
    cases = [("malformed", c) for c in itertools.islice(itertools.cycle(bad_cases), malformed)]
    good = primitive_well_formed(rng, well_formed) if primitive else low_level_well_formed(env.action_space, rng, well_formed)
    cases += [("well_formed", a) for a in good]
    order = rng.permutation(len(cases))
    try:
        env.reset(seed=seed)
        for index in order:
            kind, case = cases[index]
            action = case.action if kind == "malformed" else case
            faulthandler.dump_traceback_later(WATCHDOG_S, exit=True)
            start = time.perf_counter()
            try:
                _, _, terminated, truncated, info = env.step(action)
            except ValueError as err:
                seconds = time.perf_counter() - start
                if kind == "well_formed":
                    counts["crashed"] += 1
                    problems.append(f"well-formed {action!r:.80} raised ValueError: {err}")
                elif _names(str(err), case.field, primitive):
                    counts["malformed_value_error_naming_field"] += 1
                else:
                    counts["malformed_value_error_unnamed"] += 1
                    problems.append(f"{case.field}: {str(err)[:160]}")
            except Exception as err:  # anything else is a crash to report
                seconds = time.perf_counter() - start
                counts["crashed"] += 1
                problems.append(f"{kind} {action!r:.80} raised {type(err).__name__}: {str(err)[:160]}")
            else:
                seconds = time.perf_counter() - start
                if kind == "malformed":
                    counts["malformed_accepted"] += 1
                    problems.append(f"malformed {case.field} accepted: {action!r:.80}")
                elif primitive:
                    counts[f"primitive_{info['primitive']['reason']}"] += 1
                else:
                    clipped = np.any(action < env.action_space.low) or np.any(action > env.action_space.high)
                    counts["clipped" if clipped else "in_range"] += 1
                if terminated or truncated:
                    env.reset(seed=int(rng.integers(10_000)))
            finally:
                faulthandler.cancel_dump_traceback_later()
            slowest = max(slowest, seconds)
            counts["hangs"] += seconds > HANG_S
            counts["actions"] += 1
    finally:
        env.close()
    return {"task": task, "control_mode": control, "obs_mode": obs_mode, "counts": dict(counts), "slowest_action_s": round(slowest, 3),
            "problems": problems[:5]}


def _names(message: str, field: str, primitive: bool) -> bool:
    return message.startswith(field) if primitive else field in message.split(":")[0].split()


def fuzz(tasks=None, controls=CONTROL_MODES, obs_modes=OBS_MODES, malformed=MALFORMED_PER_COMBO, low_level=WELL_FORMED_LOW_LEVEL,
         primitive=WELL_FORMED_PRIMITIVE, progress: bool = True) -> dict:
    """Fuzz every combination; totals and per-combination counts."""
    tasks = sorted(TASKS) if tasks is None else tasks
    combos = list(itertools.product(tasks, controls, obs_modes))
    rows = []
    start = time.perf_counter()
    for i, (task, control, obs_mode) in enumerate(combos):
        count = primitive if control == "primitive" else low_level
        rows.append(run_combo(task, control, obs_mode, malformed, count, seed=1000 + i))
        if progress:
            print(f"[{i + 1}/{len(combos)}] {task} {control} {obs_mode}: {rows[-1]['counts']}", file=sys.stderr, flush=True)
    totals: Counter = Counter()
    for row in rows:
        totals.update(row["counts"])
    malformed_total = sum(v for k, v in totals.items() if k.startswith("malformed"))
    return {
        "combinations": len(combos), "actions": totals["actions"], "crashes": totals["crashed"], "hangs": totals["hangs"],
        "malformed": malformed_total, "malformed_value_error_naming_field": totals["malformed_value_error_naming_field"],
        "malformed_value_error_unnamed": totals["malformed_value_error_unnamed"], "malformed_accepted": totals["malformed_accepted"],
        "well_formed_outcomes": {k: v for k, v in sorted(totals.items()) if k in ("clipped", "in_range") or k.startswith("primitive_")},
        "slowest_action_s": max(r["slowest_action_s"] for r in rows), "seconds": round(time.perf_counter() - start, 1),
        "rows": rows,
    }


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one task, 8 malformed and 4 well-formed actions per combination")
    parser.add_argument("--out")
    args = parser.parse_args(argv)
    result = fuzz(["PickTool"], malformed=8, low_level=4, primitive=4) if args.quick else fuzz()
    result["quick"] = args.quick
    emit(result, args.out)
    return result


if __name__ == "__main__":
    main()
