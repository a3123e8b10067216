"""The statistics every experiment's summary follows: seeds first, then clips; paired tests of differences."""

import numpy as np
import pytest

from vidlab import evaluate, probes
from vidlab.experiments import failures, fit_noise, stats


def test_a_recipes_interval_widens_with_the_spread_between_seeds():
    rng = np.random.default_rng(0)
    alike = [rng.random(256) < 0.25 for _ in range(3)]
    apart = [rng.random(256) < p for p in (0.11, 0.37, 0.27)]  # failure_rates' wrong gravity, per seed
    a, b = stats.cluster_rate(alike), stats.cluster_rate(apart)
    assert b["high"] - b["low"] > 2 * (a["high"] - a["low"])
    assert b["per_seed"] == pytest.approx([x.mean() for x in apart])
    wilson = stats.rate(int(np.concatenate(apart).sum()), 768)
    assert b["high"] - b["low"] > 2 * (wilson["high"] - wilson["low"])  # clips alone overstate the precision


def test_cluster_median_keeps_a_lost_ball_as_infinitely_far():
    m = stats.cluster_median([[0.5, 0.6, np.inf], [0.4, np.nan, 0.7]])
    assert m["n"] == 5 and m["per_seed"] == [0.6, 0.55] and m["median"] == 0.6


def test_a_paired_difference_finds_what_overlapping_intervals_miss():
    # 04's guidance 1 against 4 on collisions: 135 / 384 against 165 / 384 (two-proportion p ~ 0.03, and the
    # two Wilson intervals overlap). On the same clips, 30 more failures and none fewer is clear.
    base = [np.r_[np.ones(45), np.zeros(83)] for _ in range(3)]
    more = [np.r_[np.ones(55), np.zeros(73)] for _ in range(3)]
    d = stats.difference(base, more)
    assert stats.rate(135, 384)["high"] > stats.rate(165, 384)["low"]
    assert d["detectable"] and d["low"] > 0 and d["test"] == "McNemar exact" and d["p"] < 1e-6
    assert d["difference"] == pytest.approx(30 / 384)
    same = stats.difference(base, [x.copy() for x in base])
    assert not same["detectable"] and same["p"] == 1.0


def test_a_difference_refuses_other_seeds_or_other_clips():
    with pytest.raises(ValueError, match="same training seeds"):
        stats.difference([[1, 0]], [[1, 0], [0, 1]])
    with pytest.raises(ValueError, match="same clips"):
        stats.difference([[1, 0]], [[1, 0, 1]])
    assert stats.difference([[0.1, 0.2]], [[0.3, 0.4, 0.5]], paired=False)["test"] == "Mann-Whitney U"


def test_jitter_sigma_gives_the_median_error_it_was_asked_for():
    rng = np.random.default_rng(1)
    sigma = fit_noise.jitter_sigma(0.66)
    assert np.median(np.linalg.norm(rng.normal(0, sigma, (200_000, 2)), axis=1)) == pytest.approx(0.66, rel=0.01)
    with pytest.raises(ValueError, match="center_error_px"):
        fit_noise.jitter_sigma(np.inf)


@pytest.fixture(scope="module")
def true_clips():
    cfg = {"scenarios": ("projectile",), "size": 32, "num_frames": 16, "fps": 10.0, "split": "id"}
    return evaluate.held_out(cfg, 24)


def test_the_old_gravity_check_fires_on_true_falls_with_half_a_pixel_of_jitter(true_clips):
    reports = [probes.physics_report(c.video, c.fps) for c in true_clips]
    exact = fit_noise.floor_by_clip(true_clips, [0.0] * 24, 4, failures.GRAVITY_WRONG, 1, reports)
    jittered = fit_noise.floor_by_clip(true_clips, [0.5] * 24, 4, failures.GRAVITY_WRONG, 10, reports)
    assert np.mean(exact) == 0.0
    assert np.mean(jittered) > 0.1  # fit noise alone, on falls that are exactly right


def test_the_calibrated_gravity_check_keeps_its_false_alarms_near_five_percent(true_clips):
    rng = np.random.default_rng(0)
    old = new = n = 0
    for clip in true_clips:
        for _ in range(20):
            centers = clip.centers[:, 0].copy()
            centers[4:] += rng.normal(0, fit_noise.jitter_sigma(1.0), (len(centers) - 4, 2))
            g, se, dof = fit_noise.gravity_on_true_segments(centers, clip)
            old += abs(g / clip.gravity_px_s2 - 1) > failures.GRAVITY_WRONG
            new += fit_noise.gravity_significantly_off(g, se, dof, clip.gravity_px_s2, failures.GRAVITY_WRONG)
            n += 1
    assert old / n > 0.25 and new / n < 0.08


def test_the_calibrated_gravity_check_catches_a_wrong_fall(true_clips):
    clip = true_clips[0]
    t = np.arange(len(clip.video)) / clip.fps
    centers = clip.centers[:, 0].copy()
    centers[:, 1] += 0.5 * 0.3 * clip.gravity_px_s2 * t ** 2  # 30% more gravity in every free-flight segment
    g, se, dof = fit_noise.gravity_on_true_segments(centers, clip)
    assert g == pytest.approx(1.3 * clip.gravity_px_s2, rel=0.01)
    assert fit_noise.gravity_significantly_off(g, se, dof, clip.gravity_px_s2, failures.GRAVITY_WRONG)
    assert fit_noise.gravity_significantly_off(None, None, 0, clip.gravity_px_s2, 0.1)  # no fit: the ball is lost


def test_a_difference_leaves_out_unmeasurable_clips():
    a = [[0.4, np.nan, 0.5, 0.3], [0.2, 0.3, 0.4, np.nan]]
    b = [[0.9, 0.8, np.nan, 0.7], [0.6, 0.8, 0.7, 0.9]]
    paired, unpaired = stats.difference(a, b, statistic="median"), stats.difference(a, b, False, "median")
    assert np.isfinite(paired["difference"]) and paired["detectable"] and unpaired["detectable"]
    assert np.isfinite(unpaired["p"]) and unpaired["test"] == "Mann-Whitney U"


def test_a_difference_with_nothing_measurable_says_so_instead_of_failing():
    d = stats.difference([[np.nan, np.nan]], [[0.1, 0.2]], statistic="median")
    assert np.isnan(d["difference"]) and not d["detectable"] and d["test"].startswith("none")
    assert stats.difference([[], []], [[], []])["test"].startswith("none")  # no ball kept by any model


def test_a_rate_with_a_seed_that_judged_nothing_keeps_the_others():
    r = stats.cluster_rate([[1, 0, 1, 1], [], [0, 0, 1, 0]])
    assert r["n"] == 8 and r["rate"] == 0.5 and np.isnan(r["per_seed"][1]) and np.isfinite(r["low"])
    assert np.isnan(stats.cluster_rate([[], []])["rate"])
