"""Intervals for the experiments' figures, from scipy: rates, medians, and the spread over training seeds.

- :func:`rate`: a count out of n with its Wilson score interval (``scipy.stats.binomtest``);
- :func:`median_ci`: a median with a bootstrap percentile interval (``scipy.stats.bootstrap``);
- :func:`over_seeds`: the mean, standard deviation and range of one figure over training seeds;
- :func:`differs`: whether two intervals are apart, or the difference is not detectable.
"""

from __future__ import annotations

import numpy as np
from scipy import stats


def rate(k: int, n: int, confidence: float = 0.95) -> dict:
    """``k`` events in ``n`` trials: the rate and its Wilson score interval."""
    if n <= 0 or not 0 <= k <= n:
        raise ValueError(f"k={k}, n={n}: expected 0 <= k <= n and n > 0")
    ci = stats.binomtest(int(k), int(n)).proportion_ci(confidence, method="wilson")
    return {"k": int(k), "n": int(n), "rate": k / n, "low": float(ci.low), "high": float(ci.high)}


def median_ci(values, confidence: float = 0.95, seed: int = 0, resamples: int = 2000) -> dict:
    """The median of ``values`` and a bootstrap percentile interval (inf values allowed: a missed ball)."""
    values = np.asarray(values, dtype=float)
    values = values[~np.isnan(values)]
    if len(values) == 0:
        return {"median": float("nan"), "low": float("nan"), "high": float("nan"), "n": 0}
    if len(values) == 1 or np.all(values == values[0]):
        v = float(values[0])
        return {"median": float(np.median(values)), "low": v, "high": v, "n": len(values)}
    with np.errstate(invalid="ignore"):  # inf values (missed balls) make scipy's internal spread check warn
        res = stats.bootstrap((values,), np.median, confidence_level=confidence, n_resamples=resamples,
                              method="percentile", random_state=np.random.default_rng(seed))
    return {"median": float(np.median(values)), "low": float(res.confidence_interval.low),
            "high": float(res.confidence_interval.high), "n": len(values)}


def over_seeds(values) -> dict:
    """One figure measured once per training seed: mean, standard deviation (n - 1), min, max and n."""
    values = np.asarray(values, dtype=float)
    with np.errstate(invalid="ignore"):  # an inf figure (a model that lost the ball) has no finite spread
        sd = float(values.std(ddof=1)) if len(values) > 1 else 0.0
    return {"mean": float(values.mean()), "sd": sd,
            "min": float(values.min()), "max": float(values.max()), "n": len(values)}


def differs(a: dict, b: dict) -> bool:
    """Whether two intervals (dicts with "low" and "high") do not overlap: a difference the data can show."""
    return a["high"] < b["low"] or b["high"] < a["low"]
