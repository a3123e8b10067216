"""The drift measures: the truth scores no drift; re-anchoring keeps the clip's length and its given frames."""

import numpy as np

from vidlab import pipeline
from vidlab.experiments import drift_measures


def test_the_truth_itself_has_no_drift():
    pipe = pipeline.load_pretrained()
    clips = drift_measures.long_clips(pipe.training_config, 3)
    errors = drift_measures.errors_over_time([c.video for c in clips], clips, 4)
    assert len(clips[0].video) == 64 and np.nanmax(errors["position_px"]) < 0.3
    assert np.all(errors["vanish"] == 0) and np.all(errors["teleport"] == 0)


def test_reanchoring_keeps_the_given_frames_and_the_length():
    pipe = pipeline.load_pretrained()
    clips = drift_measures.long_clips(pipe.training_config, 2, factor=2)
    made = drift_measures.reanchored_clips(pipe, clips, num_inference_steps=2)
    assert [m.shape for m in made] == [c.video.shape for c in clips]
    assert all(np.array_equal(m[:4], c.video[:4]) for m, c in zip(made, clips, strict=True))
