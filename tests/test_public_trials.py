"""The image-to-video protocol: the truth is drawn at the model's size in a world a model could infer (as wide
as the frame, a drawn floor), its first frames go to the generator, and the probes measure the output against
the truth in measures that need no scale."""

import numpy as np
import pytest
import torch

from vidlab import pipeline, public, world
from vidlab.public import measures, trials
from vidlab.world.style import Style, draw

PLAIN = Style(background=(255, 255, 255))
W, H, T, FPS = 160, 96, 16, 10.0  # small frames keep the probes fast; the ball is 12-24 px across


def test_a_generator_that_returns_the_truth_scores_perfectly():
    truth = trials.truth_for(trials.SCENES["bounce"], 2, W, H, T, FPS)
    result = trials.image_to_video(lambda frames, prompt: truth.video, "bounce", 2, W, H, T, FPS,
                                   context=4).comparison()
    assert result["measurable"] and result["refusal"] == "" and result["events"] == {}
    assert result["gravity / given frames"] == pytest.approx(1, abs=0.02)
    assert result["position error px"] < 0.5
    assert result["path residual diameters"] < 0.02 and result["horizontal drift diameters"] < 0.02
    assert result["acceleration angle deg"] < 2 and result["radius cv"] < 0.02
    assert result["found share"] == 1 and result["permanence events"] == 0
    assert result["restitution"] == pytest.approx(0.8, abs=0.05)
    for name in measures.MEASURES:
        assert result[name] == pytest.approx(result["true " + name])


def test_the_open_world_has_no_invisible_walls_and_a_drawn_floor():
    for seed in range(12):
        truth = trials.truth_for(trials.SCENES["bounce"], seed, 256, 144, 25, 7.0)
        step = np.diff(truth.centers[:, 0, 0])
        assert np.all(step * step[0] > 0), f"seed {seed}: the ball turns sideways with no wall in sight"
        # It bounces on the drawn floor line (sinking at most a tenth of its radius: pymunk resolves a
        # contact within one substep).
        assert (truth.centers[:, 0, 1] + 0.9 * truth.radii[:, 0]).max() <= truth.floor_y
    # The floor is a surface a viewer sees: below the line it differs clearly from the backdrop above it.
    y = int(round(truth.floor_y))
    above, below = truth.video[0, y - 4].astype(float), truth.video[0, y + 4].astype(float)
    assert np.abs(above - below).mean() > 25


def test_the_open_world_starts_as_the_square_world_does():
    """The same seed gives the same throw: before the first bounce the paths agree in world units."""
    clip = world.simulate("projectile", 5, num_frames=T, fps=FPS)
    truth = trials.truth_for(trials.SCENES["bounce"], 5, W, H, T, FPS)
    first_contact = int(clip.contacts[0].time_s * FPS) if clip.contacts else T
    square = (clip.centers[:first_contact, 0, 1] + 0.5) / (64 / world.WORLD_SIZE)
    wide = (truth.centers[:first_contact, 0, 1] + 0.5) / ((truth.floor_y + 0.5) / world.WORLD_SIZE)
    assert first_contact >= 3 and np.allclose(square, wide, atol=1e-6)


def test_the_square_world_is_refused_in_a_wide_frame():
    with pytest.raises(ValueError, match=r"walls would stand in open backdrop at x = 224 and 800 px"):
        trials.truth_for(trials.SCENES["bounce"], 0, 1024, 576, 25, 7.0, world_kind="box")
    with pytest.raises(ValueError, match="world_kind='room'"):
        trials.truth_for(trials.SCENES["bounce"], 0, W, H, T, FPS, world_kind="room")


def test_a_model_with_another_scale_of_gravity_is_not_scored_wrong_on_the_shape():
    """A ball falling four times faster (a smaller real ball, at Earth's gravity) keeps a perfect path shape:
    only the gravity in diameters/s^2, which no frame fixes, differs."""
    # At 448x256 its second bounce falls between the last two frames, where the probes cannot fit it: the
    # path must be cut there too, not scored as a residual.
    fast = trials.open_world("projectile", 3, 448, 256, T, FPS, trials.MODEL_STYLE, gravity=40.0)
    result = trials.image_to_video(lambda f, p: fast.video, "bounce", 3, 448, 256, T, FPS).comparison()
    assert result["path residual diameters"] < 0.02 and result["horizontal drift diameters"] < 0.02
    assert result["acceleration angle deg"] < 2 and result["radius cv"] < 0.02
    assert result["gravity diameters/s^2"] == pytest.approx(4 * result["true gravity diameters/s^2"], rel=0.05)
    assert result["Earth-gravity ball cm"] == pytest.approx(result["true Earth-gravity ball cm"] / 4, rel=0.05)
    # One given frame shows no acceleration, so nothing here needs the truth's scale.
    assert result["gravity / given frames"] is None and result["position error px"] is None


def test_a_path_that_is_not_one_parabola_is_seen():
    """A ball whose acceleration turns sideways half way (no bounce) leaves a residual the true path lacks."""
    t = np.arange(T) / FPS
    x = 20 + 50 * t + np.where(t > 0.75, 60 * (t - 0.75) ** 2, 0)
    y = 15 + 5 * t + 15 * t**2  # it stays above the floor: no bounce to explain the turn
    video = draw(np.stack([x, y], -1)[:, None], np.full((T, 1), 8.0), np.full((T, 1, 3), (255, 0, 0)),
                 np.ones((T, 1), bool), W, H, trials.MODEL_STYLE, 100.0, FPS, H * 0.875 - 0.5).video
    result = trials.image_to_video(lambda f, p: video, "bounce", 0, W, H, T, FPS).comparison()
    assert result["path residual diameters"] > 0.05 > result["true path residual diameters"]
    assert result["horizontal drift diameters"] > 0.05 > result["true horizontal drift diameters"]


def test_refusals_are_counted_with_their_reason():
    truth = trials.truth_for(trials.SCENES["bounce"], 1, W, H, T, FPS)
    blank = np.repeat(truth.video[:1] * 0 + 200, T, axis=0)  # no ball at all
    rows = [trials.image_to_video(gen, "bounce", 1, W, H, T, FPS).comparison()
            for gen in (lambda f, p: truth.video, lambda f, p: blank)]
    assert rows[1]["refusal"] == "no ball" and rows[1]["path residual diameters"] is None
    counted = measures.refusals(rows)
    assert counted["trials"] == 2 and counted["refused"] == 1 and counted["share"] == 0.5
    assert counted["why"] == {"no ball": 1} and counted["no fall"] == 0
    assert "Refused by the probes: 1 of 2 (50%; no ball 1)" in measures.summary_table(rows)


def test_the_tiny_model_continues_the_first_frames_with_the_right_gravity():
    pipe = pipeline.load_pretrained(device="cpu")

    def continue_clip(frames, prompt):
        out = pipe(context=frames, num_frames=16, generator=torch.Generator().manual_seed(0), progress=False)
        return (out.frames[0] * 255).round().astype(np.uint8)

    trial = trials.image_to_video(continue_clip, "bounce", 1, 32, 32, 16, 10.0, style=PLAIN, context=4,
                                  world_kind="box")
    assert trial.comparison()["gravity / given frames"] == pytest.approx(1, abs=0.05)


def test_random_weights_are_labelled_and_their_noise_is_not_measured():
    model = public.load("svd-xt", tiny=True)
    trial = trials.image_to_video(lambda f, p: public.generate(model, image=f[0]).frames, "bounce", 0, 32, 32, 4,
                                  7.0, label=model.label)
    result = trial.comparison()
    assert result["label"] == public.SMOKE_LABEL and not result["measurable"] and result["refusal"]


def test_a_generator_of_the_wrong_size_is_named():
    with pytest.raises(ValueError, match=r"expected \(64, 96, 3\)"):
        trials.image_to_video(lambda f, p: np.zeros((16, 32, 32, 3), np.uint8), "bounce", 0, 96, 64, 16, 10.0)
