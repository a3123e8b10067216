"""vidlab.evaluate: held-out sets, baselines, metrics of generated videos, the bar and the table."""

import numpy as np
import pytest

from vidlab import evaluate, world
from vidlab.pipeline import SHIPPED, load_pretrained
from vidlab.train import TrainConfig, train


def test_held_out_clips_follow_the_training_config_and_avoid_training_seeds():
    cfg = {"scenarios": ["projectile", "uniform"], "size": 32, "num_frames": 8, "fps": 5.0}
    clips = evaluate.held_out(cfg, 4)
    assert [c.scenario for c in clips] == ["projectile", "uniform"] * 2
    assert clips[0].video.shape == (8, 32, 32, 3) and clips[0].fps == 5.0
    np.testing.assert_array_equal(clips[3].video, world.simulate("uniform", 3, size=32, num_frames=8, fps=5.0).video)
    with pytest.raises(ValueError, match="reach the training seeds"):
        evaluate.held_out(cfg, 2, first_seed=world.TRAIN_SEED_BASE - 1)


def test_generated_video_metrics_rank_truth_above_the_baselines():
    clips = world.dataset("projectile", "id", range(12), size=32)
    truth = evaluate.video_metrics([c.video for c in clips], clips, 4)
    base = evaluate.baseline_rows(clips, 4)
    still, moving = base["copy last frame"], base["constant velocity"]
    assert truth["correct_count"] == 1.0 and truth["center_error_px"] < 0.05 and truth["gravity_rel_error"] < 0.01
    assert truth["radius_cv"] < 0.01 and all(evaluate.meets_bar(truth).values())
    assert still["center_error_px"] > moving["center_error_px"] > 1.0
    assert still["gravity_rel_error"] > 0.5 and not evaluate.meets_bar(still)["gravity_rel_error"]


def test_a_missing_ball_counts_as_infinitely_far_and_fails_the_bar():
    clips = world.dataset("projectile", "id", range(2), size=32)
    empty = [np.full_like(c.video, 255) for c in clips]  # white frames: no ball anywhere
    m = evaluate.video_metrics(empty, clips, 4)
    assert m["correct_count"] == 0.0 and m["center_error_px"] == np.inf
    assert not any(evaluate.meets_bar(m).values())


def test_the_table_has_one_row_per_model_and_named_columns():
    rows = {"model": {"correct_count": 1.0, "center_error_px": 0.154, "gravity_rel_error": 0.013, "radius_cv": 0.007},
            "copy last frame": {"correct_count": 1.0, "center_error_px": np.inf, "gravity_rel_error": 0.997,
                                "radius_cv": 0.0}}
    text = evaluate.table(rows, extra={"steps": {"model": "6,715"}})
    lines = text.splitlines()
    assert lines[0] == "|  | steps | right count | centre error | gravity error | radius CV |"
    assert lines[2] == "| model | 6,715 | 1.000 | 0.15 px | 1.3% | 0.007 |"
    assert lines[3] == "| copy last frame | - | 1.000 | inf px | 99.7% | 0.000 |"


def test_continue_clips_is_reproducible_and_keeps_the_context(tmp_path):
    pipe = train(TrainConfig(steps=1, batch_size=2, channels=16, num_frames=8, context_frames=2), tmp_path / "run")
    clips = evaluate.held_out(pipe.training_config, 3)
    a, b = evaluate.continue_clips(pipe, clips, 2, batch_size=2), evaluate.continue_clips(pipe, clips, 2, batch_size=2)
    assert len(a) == 3 and a[0].shape == (8, 32, 32, 3) and a[0].dtype == np.uint8
    np.testing.assert_array_equal(np.stack(a), np.stack(b))
    np.testing.assert_array_equal(a[1][:2], clips[1].video[:2])
    rows = evaluate.evaluate(pipe, clips, num_inference_steps=2)
    assert list(rows) == ["model", "copy last frame", "constant velocity"] and rows["model"]["clips"] == 3


@pytest.mark.skipif(not (SHIPPED / "model_index.json").exists(), reason="no checkpoint shipped")
def test_the_shipped_model_meets_the_bar_on_a_few_held_out_clips():
    rows = evaluate.evaluate(load_pretrained(device="cpu"), n_clips=4, num_inference_steps=10)
    assert all(evaluate.meets_bar(rows["model"]).values())
    assert rows["model"]["center_error_px"] < rows["constant velocity"]["center_error_px"]
