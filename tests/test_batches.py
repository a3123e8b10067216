"""Where training clips come from: fresh every step, or a pool made once; both seeded by step and process."""

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from vidlab import batches, pixels, world
from vidlab.train import TrainConfig, fit_to_minutes, make_batch, steps_for_minutes, train


def test_the_pool_holds_the_first_clips_a_fresh_run_draws(tiny):
    cfg = TrainConfig(clip_pool=6, **tiny)
    pool = batches.ClipPool(cfg, workers=1)
    assert pool.video.shape == (6, 8, 32, 32, 3) and pool.video.dtype == torch.uint8
    for step in range(3):
        fresh, captions = make_batch(cfg, step)
        torch.testing.assert_close(pixels.to_model_space(pool.video[2 * step:2 * step + 2]), fresh)
        assert pool.captions[2 * step:2 * step + 2] == captions
    assert min(batches.clip_seeds(cfg, 0)) >= world.TRAIN_SEED_BASE  # never a held-out seed


def test_pool_batches_depend_only_on_step_and_process(tiny):
    cfg = TrainConfig(clip_pool=8, **tiny)
    pool = batches.ClipPool(cfg, workers=1)
    a, b = pool.batch(5), pool.batch(5)
    assert torch.equal(a[0], b[0]) and a[1] == b[1]
    draws = {tuple(pool.batch(step, rank, 2)[0].sum(dim=(1, 2, 3, 4)).round().tolist())
             for step in range(4) for rank in range(2)}
    assert len(draws) > 4  # steps and processes draw different clips
    assert a[0].shape == (2, 8, 3, 32, 32) and a[0].min() >= -1 and a[0].max() <= 1


def test_clips_made_in_parallel_equal_clips_made_in_one_process(tiny):
    cfg = TrainConfig(clip_pool=12, **tiny)
    one, two = batches.ClipPool(cfg, workers=1), batches.ClipPool(cfg, workers=2)
    assert torch.equal(one.video, two.video) and one.captions == two.captions


def test_a_pool_smaller_than_a_batch_is_refused(tiny):
    with pytest.raises(ValueError, match="clip_pool=1: a pool needs at least batch_size=2"):
        batches.ClipPool(TrainConfig(clip_pool=1, **tiny))


def test_training_from_a_pool_resumes_to_the_same_weights(tmp_path, tiny, stop_at_three):
    cfg = TrainConfig(steps=4, clip_pool=4, **tiny)
    straight = train(cfg, tmp_path / "straight")

    with pytest.raises(KeyboardInterrupt):
        train(cfg, tmp_path / "resumed", on_step=stop_at_three)
    resumed = train(cfg, tmp_path / "resumed")
    for a, b in zip(straight.denoiser.state_dict().values(), resumed.denoiser.state_dict().values(), strict=True):
        torch.testing.assert_close(a, b)
    fresh = train(TrainConfig(steps=4, **tiny), tmp_path / "fresh")
    assert not np.allclose(fresh.denoiser.stem.weight.detach(), straight.denoiser.stem.weight.detach())


def test_steps_for_minutes_takes_the_start_up_out_and_fills_the_rest_with_steps(tiny, monkeypatch):
    import vidlab.train

    def timed_trial(cfg, folder, **kwargs):  # a trial run's log, on a clock: 3.5 s to start, then 0.1 s a step
        lines = [json.dumps({"step": s, "seconds": 3.5 + 0.1 * s}) for s in range(1, cfg.steps + 1)]
        (Path(folder) / "log.jsonl").write_text("\n".join(lines) + "\n")

    monkeypatch.setattr(vidlab.train, "train", timed_trial)
    cfg = TrainConfig(clip_pool=8, **tiny)  # a pool the trial holds whole: nothing more to make
    # 97% of what is left after the start-up, in steps of 0.1 s
    assert steps_for_minutes(cfg, 1.0, "cpu") == int(0.97 * (60 - 3.5) / 0.1)
    assert steps_for_minutes(cfg, 0.1, "cpu") == int(0.97 * (6 - 3.5) / 0.1)
    assert steps_for_minutes(cfg, 0.05, "cpu") == 1  # less time than the start-up: one step, not none


def test_fit_to_minutes_keeps_the_steps_a_begun_run_was_planned_with(tmp_path, tiny):
    cfg = TrainConfig(clip_pool=8, **tiny)
    planned = fit_to_minutes(cfg, 0.05, tmp_path, "cpu")
    assert planned.max_minutes == 0.05 and planned.steps >= 1
    (tmp_path / "config.json").write_text(json.dumps({**dataclasses.asdict(planned), "steps": 123}))
    resumed = fit_to_minutes(cfg, 0.05, tmp_path, "cpu")  # no timing: the begun run's plan is kept
    assert resumed.steps == 123 and resumed.max_minutes == 0.05
