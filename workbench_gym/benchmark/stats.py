"""Interval estimates and agreement statistics of a results card.

Every rate gets a 95% Wilson score interval (scipy's `binomtest`); a change between two rates gets Newcombe's
hybrid score interval built from the two Wilson intervals; an average (chain length) gets a percentile bootstrap
interval (scipy's `bootstrap`, seeded). Agreement between two evaluations of the same planners (PyBullet frames
vs Cycles frames) is Pearson's r and SimplerEnv's mean maximum rank violation (MMRV).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
from scipy import stats

CONFIDENCE = 0.95
BOOTSTRAP_RESAMPLES = 2000
BOOTSTRAP_SEED = 0


@dataclass(frozen=True)
class Estimate:
    """A point estimate with its 95% interval and the number of episodes behind it."""

    value: float | None
    low: float | None
    high: float | None
    n: int

    def to_dict(self) -> dict:
        return asdict(self)


EMPTY = Estimate(None, None, None, 0)


def wilson(successes: int, n: int, confidence: float = CONFIDENCE) -> Estimate:
    """A rate `successes / n` with its Wilson score interval; `EMPTY` when there are no episodes."""
    if n < 0 or not 0 <= successes <= max(n, 0):
        raise ValueError(f"need 0 <= successes <= n, got successes={successes}, n={n}")
    if n == 0:
        return EMPTY
    interval = stats.binomtest(int(successes), int(n)).proportion_ci(confidence, method="wilson")
    return Estimate(successes / n, float(interval.low), float(interval.high), n)


def rate(flags: Sequence[bool]) -> Estimate:
    """The share of true flags, with its Wilson interval."""
    return wilson(int(sum(bool(f) for f in flags)), len(flags))


def difference(after: Estimate, before: Estimate) -> Estimate:
    """The change `after - before` of two rates, with Newcombe's hybrid score interval (his method 10).

    Newcombe's interval combines the two Wilson intervals; it stays inside [-1, 1] and keeps its coverage at rates
    of 0 or 1, where the Wald interval collapses. For the paired rows of a suite (same seeds) it is conservative.
    """
    if after.value is None or before.value is None:
        return EMPTY
    d = after.value - before.value
    low = d - math.sqrt((after.value - after.low) ** 2 + (before.high - before.value) ** 2)
    high = d + math.sqrt((after.high - after.value) ** 2 + (before.value - before.low) ** 2)
    return Estimate(d, max(-1.0, low), min(1.0, high), min(after.n, before.n))


def mean_interval(values: Sequence[float], confidence: float = CONFIDENCE) -> Estimate:
    """The mean of `values` with a seeded percentile-bootstrap interval (a constant sample gets a zero-width one)."""
    data = np.asarray(values, dtype=float)
    if data.size == 0:
        return EMPTY
    mean = float(data.mean())
    if data.size == 1 or np.all(data == data[0]):
        return Estimate(mean, mean, mean, int(data.size))
    result = stats.bootstrap((data,), np.mean, confidence_level=confidence, n_resamples=BOOTSTRAP_RESAMPLES,
                             method="percentile", random_state=np.random.default_rng(BOOTSTRAP_SEED))
    return Estimate(mean, float(result.confidence_interval.low), float(result.confidence_interval.high), int(data.size))


def pearson(a: Sequence[float], b: Sequence[float]) -> float | None:
    """Pearson's r between two evaluations of the same planners; None when either is constant or too short."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.shape != b.shape or a.ndim != 1:
        raise ValueError(f"pearson needs two equally long lists, got shapes {a.shape} and {b.shape}")
    if a.size < 2 or np.all(a == a[0]) or np.all(b == b[0]):
        return None
    return float(stats.pearsonr(a, b).statistic)


def mmrv(simulated: Sequence[float], reference: Sequence[float]) -> float:
    """Mean maximum rank violation (SimplerEnv, Li et al. 2024): how badly `simulated` orders the planners.

    For each planner i, the largest reference gap |ref_i - ref_j| over the planners j that the two evaluations order
    differently; then the mean over planners. 0 when both order every pair alike.
    """
    sim, ref = np.asarray(simulated, dtype=float), np.asarray(reference, dtype=float)
    if sim.shape != ref.shape or sim.ndim != 1 or sim.size == 0:
        raise ValueError(f"mmrv needs two equally long, non-empty lists, got shapes {sim.shape} and {ref.shape}")
    flipped = (sim[:, None] > sim[None, :]) != (ref[:, None] > ref[None, :])
    gaps = np.where(flipped, np.abs(ref[:, None] - ref[None, :]), 0.0)
    return float(gaps.max(axis=1).mean())
