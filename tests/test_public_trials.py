"""The image-to-video protocol: the truth is drawn at the model's size, its first frames go to the generator,
and the probes measure the output against the truth."""

import numpy as np
import pytest
import torch

from vidlab import pipeline, public
from vidlab.public import trials
from vidlab.world.style import Style

PLAIN = Style(background=(255, 255, 255))


def test_a_generator_that_returns_the_truth_scores_perfectly():
    truth = trials.truth_for(trials.SCENES["bounce"], 2, 96, 64, 16, 10.0)
    trial = trials.image_to_video(lambda frames, prompt: truth.video, "bounce", 2, 96, 64, 16, 10.0)
    result = trial.comparison()
    assert result["measurable"] and result["gravity error"] < 0.02 and result["position error px"] < 0.5
    assert result["restitution"] == pytest.approx(result["true restitution"])


def test_the_tiny_model_continues_the_first_frames_with_the_right_gravity():
    pipe = pipeline.load_pretrained(device="cpu")

    def continue_clip(frames, prompt):
        out = pipe(context=frames, num_frames=16, generator=torch.Generator().manual_seed(0), progress=False)
        return (out.frames[0] * 255).round().astype(np.uint8)

    trial = trials.image_to_video(continue_clip, "bounce", 1, 32, 32, 16, 10.0, style=PLAIN, context=4)
    assert trial.comparison()["gravity error"] < 0.05


def test_random_weights_are_labelled_and_their_noise_is_not_measured():
    model = public.load("svd-xt", tiny=True)
    trial = trials.image_to_video(lambda f, p: public.generate(model, image=f[0]).frames, "bounce", 0, 32, 32, 4,
                                  7.0, label=model.label)
    assert trial.comparison()["label"] == public.SMOKE_LABEL


def test_a_generator_of_the_wrong_size_is_named():
    with pytest.raises(ValueError, match=r"expected \(64, 96, 3\)"):
        trials.image_to_video(lambda f, p: np.zeros((16, 32, 32, 3), np.uint8), "bounce", 0, 96, 64, 16, 10.0)
