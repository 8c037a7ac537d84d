"""Per-call cost of our hand-written quaternion maths against `scipy.spatial.transform.Rotation`, side by side,
and the largest difference between their results.

    python benchmarks/rotation_cost.py --out benchmarks/results/rotation_cost.json [--calls 20000]

Each pair is timed in alternating rounds in one process, so both see the same machine load. The hand-written
functions stay where they run on a hot path (every env step, IK iteration or clutter placement) and scipy is
measurably slower; `scenes/parts.py` and `control/ik.py` cite these numbers.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from report import emit  # benchmarks/report.py
from scipy.spatial.transform import Rotation

from workbench_gym.control.ik import _orientation_error, quaternion_angle, top_down_quaternion
from workbench_gym.scenes.parts import quat_from_euler, quat_to_matrix

#: name -> (ours, scipy's, where ours runs)
PAIRS = {
    "quat_to_matrix": (quat_to_matrix, lambda q: Rotation.from_quat(q).as_matrix(),
                       "every wrist-camera frame, body pose, footprint and grasp check"),
    "quat_from_euler": (lambda rpy: quat_from_euler(*rpy), lambda rpy: Rotation.from_euler("xyz", rpy).as_quat(),
                        "every part built and every footprint the clutter sampler tests"),
    "top_down_quaternion": (top_down_quaternion, lambda yaw: (Rotation.from_euler("z", yaw) * Rotation.from_euler("x", np.pi)).as_quat(),
                            "every ee_delta step and IK waypoint"),
    "orientation_error": (lambda qs: _orientation_error(*qs),
                          lambda qs: (Rotation.from_quat(qs[0]) * Rotation.from_quat(qs[1]).inv()).as_rotvec(),
                          "every damped-least-squares IK iteration"),
    "quaternion_angle": (lambda qs: quaternion_angle(*qs), lambda qs: (Rotation.from_quat(qs[0]).inv() * Rotation.from_quat(qs[1])).magnitude(),
                         "every damped-least-squares IK iteration"),
}


def _inputs(name: str, rng: np.random.Generator, n: int) -> list:
    quats = Rotation.random(2 * n, random_state=rng.integers(2**31)).as_quat()
    if name == "quat_to_matrix":
        return [tuple(q) for q in quats[:n]]
    if name == "quat_from_euler":
        return [tuple(v) for v in rng.uniform(-np.pi, np.pi, (n, 3))]
    if name == "top_down_quaternion":
        return list(rng.uniform(-np.pi, np.pi, n))
    near = quats[:n] + rng.normal(0, 0.01, (n, 4))  # IK compares nearby orientations
    near /= np.linalg.norm(near, axis=1, keepdims=True)
    return list(zip(quats[:n], near))


def _time(fn, inputs) -> float:
    start = time.perf_counter()
    for x in inputs:
        fn(x)
    return (time.perf_counter() - start) / len(inputs) * 1e6


def _difference(name: str, ours, theirs) -> float:
    a, b = np.asarray(ours, float), np.asarray(theirs, float)
    if name == "top_down_quaternion" and np.dot(a, b) < 0:
        b = -b  # q and -q are the same rotation
    if name == "quat_from_euler" and np.dot(a, b) < 0:
        b = -b
    return float(np.max(np.abs(a - b)))


def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out")
    args = parser.parse_args(argv)
    rng = np.random.default_rng(0)
    rows = []
    for name, (ours, theirs, where) in PAIRS.items():
        inputs = _inputs(name, rng, args.calls)
        times = {"ours": [], "scipy": []}
        for _ in range(args.rounds):
            times["ours"].append(_time(ours, inputs))
            times["scipy"].append(_time(theirs, inputs))
        ours_us, scipy_us = min(times["ours"]), min(times["scipy"])
        diff = max(_difference(name, ours(x), theirs(x)) for x in inputs[:1000])
        rows.append({"function": name, "ours_us": round(ours_us, 2), "scipy_us": round(scipy_us, 2),
                     "scipy_slower": round(scipy_us / ours_us, 1), "max_abs_difference": diff, "runs_on": where})
    result = {"calls": args.calls, "rounds": args.rounds, "rows": rows,
              "note": "microseconds per call, best of the rounds; orientation_error is a small-angle rotation vector, so it "
                      "differs from scipy's exact one by the angle cubed"}
    emit(result, args.out)
    return result


if __name__ == "__main__":
    main()
