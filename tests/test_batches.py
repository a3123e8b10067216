"""Where training clips come from: fresh every step, or a pool made once; both seeded by step and process."""

import dataclasses
import json

import numpy as np
import pytest
import torch

from vidlab import batches, pixels, world
from vidlab.train import TrainConfig, fit_to_minutes, make_batch, steps_for_minutes, train

TINY = dict(batch_size=2, channels=16, depth=1, checkpoint_every=2, num_frames=8, context_frames=2)


def test_the_pool_holds_the_first_clips_a_fresh_run_draws():
    cfg = TrainConfig(clip_pool=6, **TINY)
    pool = batches.ClipPool(cfg, workers=1)
    assert pool.video.shape == (6, 8, 32, 32, 3) and pool.video.dtype == torch.uint8
    for step in range(3):
        fresh, captions = make_batch(cfg, step)
        torch.testing.assert_close(pixels.to_model_space(pool.video[2 * step:2 * step + 2]), fresh)
        assert pool.captions[2 * step:2 * step + 2] == captions
    assert min(batches.clip_seeds(cfg, 0)) >= world.TRAIN_SEED_BASE  # never a held-out seed


def test_pool_batches_depend_only_on_step_and_process():
    cfg = TrainConfig(clip_pool=8, **TINY)
    pool = batches.ClipPool(cfg, workers=1)
    a, b = pool.batch(5), pool.batch(5)
    assert torch.equal(a[0], b[0]) and a[1] == b[1]
    draws = {tuple(pool.batch(step, rank, 2)[0].sum(dim=(1, 2, 3, 4)).round().tolist())
             for step in range(4) for rank in range(2)}
    assert len(draws) > 4  # steps and processes draw different clips
    assert a[0].shape == (2, 8, 3, 32, 32) and a[0].min() >= -1 and a[0].max() <= 1


def test_clips_made_in_parallel_equal_clips_made_in_one_process():
    cfg = TrainConfig(clip_pool=12, **TINY)
    one, two = batches.ClipPool(cfg, workers=1), batches.ClipPool(cfg, workers=2)
    assert torch.equal(one.video, two.video) and one.captions == two.captions


def test_a_pool_smaller_than_a_batch_is_refused():
    with pytest.raises(ValueError, match="clip_pool=1: a pool needs at least batch_size=2"):
        batches.ClipPool(TrainConfig(clip_pool=1, **TINY))


def test_training_from_a_pool_resumes_to_the_same_weights(tmp_path):
    cfg = TrainConfig(steps=4, clip_pool=4, **TINY)
    straight = train(cfg, tmp_path / "straight")

    def stop_at_three(step, loss):
        if step == 3:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        train(cfg, tmp_path / "resumed", on_step=stop_at_three)
    resumed = train(cfg, tmp_path / "resumed")
    for a, b in zip(straight.denoiser.state_dict().values(), resumed.denoiser.state_dict().values(), strict=True):
        torch.testing.assert_close(a, b)
    fresh = train(TrainConfig(steps=4, **TINY), tmp_path / "fresh")
    assert not np.allclose(fresh.denoiser.stem.weight.detach(), straight.denoiser.stem.weight.detach())


def test_steps_for_minutes_times_the_loop_and_scales_with_the_budget():
    cfg = TrainConfig(clip_pool=8, **TINY)
    one, ten = (steps_for_minutes(cfg, minutes, "cpu") for minutes in (0.1, 1.0))
    assert 1 <= one < ten and 5 < ten / one < 20  # about ten times as many steps in ten times the time


def test_fit_to_minutes_keeps_the_steps_a_begun_run_was_planned_with(tmp_path):
    cfg = TrainConfig(clip_pool=8, **TINY)
    planned = fit_to_minutes(cfg, 0.05, tmp_path, "cpu")
    assert planned.max_minutes == 0.05 and planned.steps >= 1
    (tmp_path / "config.json").write_text(json.dumps({**dataclasses.asdict(planned), "steps": 123}))
    resumed = fit_to_minutes(cfg, 0.05, tmp_path, "cpu")  # no timing: the begun run's plan is kept
    assert resumed.steps == 123 and resumed.max_minutes == 0.05
