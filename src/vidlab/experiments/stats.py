"""Intervals and tests for the experiments' figures: the training seed is the unit, the clips come second.

An experiment measures N held-out clips on each of a few trained models (training seeds). The clips of one
model are not independent draws of "the recipe": a seed that trained badly fails on many of its clips at once.
So every interval about a recipe resamples training seeds first, then clips within each drawn seed (a
two-level or cluster bootstrap, Davison and Hinkley 1997, section 3.8), and the per-seed figures go with it.
With 3 seeds such an interval is rough (a bootstrap over 3 units cannot see more spread than they show), which
is why the per-seed figures are always printed beside it.

- :func:`rate`, :func:`median_ci`: one sample's rate (Wilson) and median (bootstrap), for a single model;
- :func:`cluster_rate`, :func:`cluster_median`: a recipe's rate and median over seeds and clips, per seed too;
- :func:`difference`: two conditions compared on the same models (and, when ``paired``, the same clips): the
  difference with its two-level bootstrap interval, and a test of it (McNemar's exact test for yes/no
  outcomes on the same clips, Wilcoxon's signed-rank test for paired numbers, scipy.stats). "No detectable
  difference" is said only when this interval holds 0;
- :func:`over_seeds`: the mean, standard deviation and range of one figure per seed.
"""

from __future__ import annotations

import numpy as np
from scipy import stats

RESAMPLES = 2000


def rate(k: int, n: int, confidence: float = 0.95) -> dict:
    """``k`` events in ``n`` trials of ONE model: the rate and its Wilson score interval (clips independent)."""
    if n <= 0 or not 0 <= k <= n:
        raise ValueError(f"k={k}, n={n}: expected 0 <= k <= n and n > 0")
    ci = stats.binomtest(int(k), int(n)).proportion_ci(confidence, method="wilson")
    return {"k": int(k), "n": int(n), "rate": k / n, "low": float(ci.low), "high": float(ci.high)}


def median_ci(values, confidence: float = 0.95, seed: int = 0, resamples: int = RESAMPLES) -> dict:
    """The median of ONE sample and a bootstrap percentile interval (inf values allowed: a missed ball)."""
    values = _finite_or_inf(values)
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


def cluster_rate(flags_by_seed, confidence: float = 0.95, seed: int = 0, resamples: int = RESAMPLES) -> dict:
    """The share of clips with an event, over every training seed's clips (``flags_by_seed``: one list of
    True/False per seed), with a two-level bootstrap interval and each seed's own rate (NaN for a seed with
    no clip to judge; the interval then resamples the others, and is NaN when none has one)."""
    all_groups = [np.asarray(g, dtype=float).ravel() for g in flags_by_seed]
    groups = [g for g in all_groups if len(g)]  # a seed with no judged clip (a model that drew no ball)
    per_seed = [float(g.mean()) if len(g) else float("nan") for g in all_groups]
    if not groups:
        nan = float("nan")
        return {"k": 0, "n": 0, "rate": nan, "low": nan, "high": nan, "per_seed": per_seed}
    pooled = np.concatenate(groups)
    low, high = _interval(_two_level(groups, np.mean, resamples, seed), confidence)
    return {"k": int(pooled.sum()), "n": len(pooled), "rate": float(pooled.mean()), "low": low, "high": high,
            "per_seed": per_seed}


def cluster_median(values_by_seed, confidence: float = 0.95, seed: int = 0, resamples: int = RESAMPLES) -> dict:
    """The median over every training seed's clips (inf allowed: a missed ball; NaN dropped), with a two-level
    bootstrap interval and each seed's own median."""
    groups = [g for g in (_finite_or_inf(v) for v in values_by_seed) if len(g)]
    if not groups:
        return {"median": float("nan"), "low": float("nan"), "high": float("nan"), "n": 0, "per_seed": []}
    low, high = _interval(_two_level(groups, np.median, resamples, seed), confidence)
    return {"median": float(np.median(np.concatenate(groups))), "low": low, "high": high,
            "n": sum(len(g) for g in groups), "per_seed": [float(np.median(g)) for g in groups]}


def difference(a_by_seed, b_by_seed, paired: bool = True, statistic: str = "mean", confidence: float = 0.95,
               seed: int = 0, resamples: int = RESAMPLES) -> dict:
    """Condition b minus condition a, measured on the same training seeds (``*_by_seed``: one list per seed).

    ``paired``: clip i of a seed is the same clip in both conditions (the same held-out clip, another sampler,
    say); the bootstrap then draws the same clips for both. Unpaired (other clips, the same models): seeds are
    drawn together and clips apart. ``statistic``: "mean" (a rate, for True/False outcomes) or "median".

    Returns the difference, its two-level bootstrap interval, each seed's difference, whether the interval
    excludes 0 (``detectable``), and a test's p-value: McNemar's exact test on the discordant clips (paired
    yes/no outcomes), Wilcoxon's signed-rank test (paired numbers) or Mann-Whitney's (unpaired), over all
    seeds' clips together (these tests take clips as independent; the interval does not).
    """
    a, b = ([np.asarray(g, dtype=float).ravel() for g in by_seed] for by_seed in (a_by_seed, b_by_seed))
    if not a:
        raise ValueError("no training seed given: expected one list of clip outcomes per seed in each condition")
    if len(a) != len(b):
        raise ValueError(f"{len(a)} seeds against {len(b)}: compare conditions on the same training seeds")
    if paired and any(len(x) != len(y) for x, y in zip(a, b, strict=True)):
        raise ValueError("paired=True needs the same clips in both conditions; got "
                         f"{[len(x) for x in a]} against {[len(y) for y in b]} clips per seed")
    if statistic not in ("mean", "median"):
        raise ValueError(f"statistic={statistic!r}: expected 'mean' or 'median'")
    fn = np.mean if statistic == "mean" else np.median
    a, b = _measurable(a, b, paired)
    if any(len(g) == 0 for g in (*a, *b)):  # a model that never drew a measurable ball (fast mode, say)
        nan = float("nan")
        return {"difference": nan, "low": nan, "high": nan, "detectable": False, "per_seed": [nan] * len(a),
                "test": "none: a seed has no measurable clip", "p": nan, "statistic": statistic, "paired": paired}
    draws = _two_level_difference(a, b, fn, paired, resamples, seed)
    low, high = _interval(draws, confidence)
    estimate = float(fn(np.concatenate(b)) - fn(np.concatenate(a)))
    test, p = _test(np.concatenate(a), np.concatenate(b), paired)
    return {"difference": estimate, "low": low, "high": high, "detectable": bool(low > 0 or high < 0),
            "per_seed": [float(fn(y) - fn(x)) for x, y in zip(a, b, strict=True)], "test": test, "p": p,
            "statistic": statistic, "paired": paired}


def over_seeds(values) -> dict:
    """One figure measured once per training seed: mean, standard deviation (n - 1), min, max and n."""
    values = np.asarray(values, dtype=float)
    with np.errstate(invalid="ignore"):  # an inf figure (a model that lost the ball) has no finite spread
        sd = float(values.std(ddof=1)) if len(values) > 1 else 0.0
    return {"mean": float(values.mean()), "sd": sd,
            "min": float(values.min()), "max": float(values.max()), "n": len(values)}


def _measurable(a: list, b: list, paired: bool) -> tuple:
    """Drop unmeasurable clips (NaN): paired, a clip leaves both conditions; unpaired, each side alone."""
    if paired:
        keep = [~(np.isnan(x) | np.isnan(y)) for x, y in zip(a, b, strict=True)]
        a, b = [x[k] for x, k in zip(a, keep, strict=True)], [y[k] for y, k in zip(b, keep, strict=True)]
    else:
        a, b = [x[~np.isnan(x)] for x in a], [y[~np.isnan(y)] for y in b]
    return a, b


def _finite_or_inf(values) -> np.ndarray:
    values = np.asarray(values, dtype=float).ravel()
    return values[~np.isnan(values)]


def _two_level(groups: list, fn, resamples: int, seed: int) -> np.ndarray:
    """``fn`` of the pooled clips of each resample: seeds drawn with replacement, then clips within each."""
    rng = np.random.default_rng(seed)
    picks = rng.integers(len(groups), size=(resamples, len(groups)))
    return _reduce(fn, _draw_clips(_padded(groups), picks, rng))


def _two_level_difference(a: list, b: list, fn, paired: bool, resamples: int, seed: int) -> np.ndarray:
    """``fn``(b) - ``fn``(a) over resamples that draw the same seeds for both, and the same clips if paired."""
    rng = np.random.default_rng(seed)
    picks = rng.integers(len(a), size=(resamples, len(a)))
    a_pad, b_pad = _padded(a), _padded(b)
    uniform = rng.random((resamples, len(a), a_pad[0].shape[1]))
    first = _draw_clips(a_pad, picks, rng, uniform)
    second = _draw_clips(b_pad, picks, rng, uniform if paired else None)
    return _reduce(fn, second) - _reduce(fn, first)


def _padded(groups: list) -> tuple:
    """Groups of clips as one [seeds, most clips] array, NaN past each group's end, and their lengths. (A NaN
    in a group, an unmeasurable clip, is skipped by the reductions like the padding.)"""
    out = np.full((len(groups), max(len(g) for g in groups)), np.nan)
    for i, g in enumerate(groups):
        out[i, :len(g)] = g
    return out, np.array([len(g) for g in groups])


def _draw_clips(padded: tuple, picks: np.ndarray, rng, uniform=None) -> np.ndarray:
    """[resamples, seeds x clips]: for each drawn seed, its clips drawn with replacement (NaN-padded)."""
    padded, lengths = padded
    if uniform is None:
        uniform = rng.random((*picks.shape, padded.shape[1]))
    n = lengths[picks][..., None]
    index = np.minimum((uniform * n).astype(int), n - 1)
    drawn = padded[picks[..., None], index]
    drawn[np.arange(padded.shape[1]) >= n] = np.nan
    return drawn.reshape(len(picks), -1)


def _reduce(fn, drawn: np.ndarray) -> np.ndarray:
    """The mean or median of each resample, skipping the padding."""
    with np.errstate(invalid="ignore"):
        return np.nanmean(drawn, axis=1) if fn is np.mean else np.nanmedian(drawn, axis=1)


def _interval(draws: np.ndarray, confidence: float) -> tuple:
    """Percentile interval of bootstrap draws (inf draws allowed: a resample whose median ball was lost)."""
    tail = (1 - confidence) / 2 * 100
    with np.errstate(invalid="ignore"):
        low, high = np.nanpercentile(draws, [tail, 100 - tail], method="linear")  # inf - inf: no draw
    return float(low), float(high)


def _test(a: np.ndarray, b: np.ndarray, paired: bool) -> tuple:
    """(name, p): McNemar exact for paired 0/1 outcomes, Wilcoxon signed-rank for paired numbers,
    Mann-Whitney U otherwise. p is 1.0 when the outcomes never differ."""
    binary = np.isin(a, (0.0, 1.0)).all() and np.isin(b, (0.0, 1.0)).all()
    if paired and binary:
        only_b, only_a = int(((b == 1) & (a == 0)).sum()), int(((a == 1) & (b == 0)).sum())
        if only_a + only_b == 0:
            return "McNemar exact", 1.0
        return "McNemar exact", float(stats.binomtest(only_b, only_a + only_b, 0.5).pvalue)
    finite = np.isfinite(a) & np.isfinite(b) if paired else None
    if paired:
        d = b[finite] - a[finite]
        if not np.any(d != 0):
            return "Wilcoxon signed-rank", 1.0
        return "Wilcoxon signed-rank", float(stats.wilcoxon(d[d != 0]).pvalue)
    if np.array_equal(np.sort(a), np.sort(b)):
        return "Mann-Whitney U", 1.0
    return "Mann-Whitney U", float(stats.mannwhitneyu(a, b).pvalue)
