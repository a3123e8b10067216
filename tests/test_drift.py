"""The drift measures: the truth scores no drift; re-anchoring keeps the clip's length and its given frames and
draws nothing from the truth; teacher forcing gives every window the true frames; random-window training shows
given frames that launch-only training never does."""

from types import SimpleNamespace

import numpy as np

from vidlab import pipeline, world
from vidlab.experiments import drift, drift_measures
from vidlab.train import TrainConfig


def test_the_truth_itself_has_no_drift():
    pipe = pipeline.load_pretrained()
    clips = drift_measures.long_clips(pipe.training_config, 3)
    errors = drift_measures.errors_over_time([c.video for c in clips], clips, 4)
    assert len(clips[0].video) == 64 and np.nanmax(errors["position_px"]) < 0.3
    assert np.all(errors["vanish"] == 0) and np.all(errors["teleport"] == 0)


def test_per_clip_outcomes_and_the_paired_comparison_see_a_ball_lost_after_frame_20():
    clips = drift_measures.long_clips(world.ClipSpec().to_dict(), 3, factor=2)
    truth = drift_measures.errors_over_time([c.video for c in clips], clips, 4)
    blanked = [c.video.copy() for c in clips]
    for video in blanked:
        video[20:] = video[0, 0, 0]  # the background colour from frame 20 on: the ball is gone
    lost = drift_measures.errors_over_time(blanked, clips, 4)
    assert np.all(truth["clip_lost_last_window"] == 0) and np.all(truth["clip_position_first_extension_px"] < 0.3)
    in_view = np.array([c.visible[16:, 0].sum() for c in clips])
    gone = np.array([c.visible[20:, 0].sum() for c in clips])
    assert np.allclose(lost["clip_lost_last_window"], gone / in_view)  # frames 16-19 still show it
    assert np.allclose(lost["clip_position_first_extension_px"], np.hypot(32, 32))  # counted a diagonal away
    rows = [{"seed": seed, "variant": "4 given frames", "method": method, "clips": 3,
             **{k: drift._jsonable(v) for k, v in errors.items()}}
            for seed in (0, 1) for method, errors in (("plain", lost), ("teacher-forced", truth))]
    found = drift.summarise(rows)["comparisons"]
    assert list(found) == ["teacher-forced minus plain, launch"]  # the random-window runs are not measured
    diff = found["teacher-forced minus plain, launch"]["clip_lost_last_window"]
    assert diff["paired"] and diff["per_seed"] == [diff["difference"]] * 2
    assert np.isclose(diff["difference"], -np.mean(gone / in_view)) and diff["high"] < 0


def test_reanchoring_keeps_the_given_frames_and_the_length():
    pipe = pipeline.load_pretrained()
    clips = drift_measures.long_clips(pipe.training_config, 2, factor=2)
    made = drift_measures.reanchored_clips(pipe, clips, num_inference_steps=2)
    assert [m.shape for m in made] == [c.video.shape for c in clips]
    assert all(np.array_equal(m[:4], c.video[:4]) for m, c in zip(made, clips, strict=True))


class GivenFramesRecorder:
    """A stand-in pipeline that records the given frames of each window and repeats the last one."""

    def __init__(self, context_frames: int, num_frames: int):
        self.training_config = {"context_frames": context_frames, "num_frames": num_frames}
        self.given = []

    def __call__(self, context, num_frames, **_):
        self.given.append(context.copy())
        held = np.repeat(context[:, -1:], num_frames - context.shape[1], axis=1)
        return SimpleNamespace(frames=np.concatenate([context, held], axis=1) / 255)


def test_teacher_forcing_gives_each_window_the_true_frames_before_it():
    clips = drift_measures.long_clips(world.ClipSpec(num_frames=6, context_frames=2), 2, factor=3)  # 18 frames
    forced = GivenFramesRecorder(2, 6)
    made = drift_measures.teacher_forced_clips(forced, clips, num_inference_steps=1)
    assert [m.shape for m in made] == [c.video.shape for c in clips]
    for given, end in zip(forced.given, (2, 6, 10, 14), strict=True):  # windows where the model's own go
        assert np.array_equal(given, np.stack([c.video[end - 2:end] for c in clips]))
    own = GivenFramesRecorder(2, 6)
    drift_measures.extend_window_by_window(own, clips, num_inference_steps=1)  # its own frames instead
    assert np.array_equal(own.given[0], forced.given[0]) and not np.array_equal(own.given[1], forced.given[1])


def test_teacher_forcing_runs_with_a_real_pipeline_and_keeps_the_given_frames():
    pipe = pipeline.load_pretrained()
    clips = drift_measures.long_clips(pipe.training_config, 2, factor=2)
    made = drift_measures.teacher_forced_clips(pipe, clips, num_inference_steps=2)
    assert [m.shape for m in made] == [c.video.shape for c in clips] and made[0].dtype == np.uint8
    assert all(np.array_equal(m[:4], c.video[:4]) for m, c in zip(made, clips, strict=True))


def test_reanchoring_draws_on_the_background_the_probes_see_not_the_truths():
    truth = world.simulate("projectile", 3, size=32)  # white
    generated = world.simulate("projectile", 3, size=32, background_color=(128, 128, 128)).video
    redrawn = drift_measures.redraw_last(generated, truth, 4)
    assert np.array_equal(redrawn[:-4], generated[:-4])
    assert np.abs(redrawn[-4:, 0, 0].astype(int) - 128).max() <= 2  # the generated grey, not the truth's white
    ball = np.argwhere(redrawn[-1, :, :, 1] < 60).mean(0)[::-1]  # red ball: low green; (x, y)
    assert np.linalg.norm(ball - truth.centers[-1, 0]) < 1.0


def test_random_windows_train_on_given_frames_that_launch_clips_never_show():
    """Issue 23 point 5: launch-only training contexts never show the ball where the first extension's do."""
    seeds = range(world.TRAIN_SEED_BASE, world.TRAIN_SEED_BASE + 100)
    extension = drift_measures.long_clips(world.ClipSpec(), 100)  # the drift clips; frames 12-15 start window 2
    wanted = np.concatenate([c.centers[12:16, 0, 1] for c in extension])  # ball centre y, px

    def seen_within_1px(cfg):  # share of those y values that some training context shows within 1 px
        given = np.concatenate([c.centers[:4, 0, 1] for c in cfg.clip_spec.clips(seeds)])
        return float((np.abs(wanted[:, None] - given[None]).min(1) < 1).mean()), np.ptp(given)

    launch, launch_span = seen_within_1px(TrainConfig())
    windows, windows_span = seen_within_1px(TrainConfig(**drift.VARIANTS["4 given frames, random windows"]))
    assert launch == 0.0 and windows > 0.95 and windows_span > launch_span + 5
