"""TrainConfig's noise_schedule and snapshot_steps: the sampler inherits the schedule, snapshots land on their
step, and runs saved before these fields existed still resume (issue 23, points 4 and 6)."""

import json

import numpy as np
import pytest
import torch

from vidlab import runs, train, world
from vidlab.pipeline import default_sampler, load_pretrained, sampler
from vidlab.train import NOISE_SCHEDULES, TrainConfig


@pytest.mark.parametrize("schedule", list(NOISE_SCHEDULES))
def test_every_sampler_samples_the_schedule_the_model_trained_on(schedule):
    prediction = "v_prediction" if schedule == "cosine_zero_snr" else "epsilon"
    trained_on = train.training_scheduler(TrainConfig(noise_schedule=schedule, prediction_type=prediction))
    for name in ("DDIM", "DPM-Solver++", "Euler"):
        s = sampler(name, trained_on.config)
        assert torch.allclose(s.alphas_cumprod[:-1], trained_on.alphas_cumprod[:-1])
    ddim = default_sampler(trained_on.config)
    assert float(ddim.alphas_cumprod[-1]) == pytest.approx(float(trained_on.alphas_cumprod[-1]), abs=1e-12)
    terminal = float(trained_on.alphas_cumprod[-1]) ** 0.5
    expected = {"cosine": 4.93e-5, "cosine_zero_snr": 0.0, "scaled_linear": 0.0683}[schedule]
    assert terminal == pytest.approx(expected, rel=1e-2, abs=1e-9)


def test_a_schedule_that_cannot_be_is_refused_with_the_fix():
    with pytest.raises(ValueError, match="prediction_type='epsilon'.*use 'v_prediction' or 'sample'"):
        train.training_scheduler(TrainConfig(noise_schedule="cosine_zero_snr", prediction_type="epsilon"))
    with pytest.raises(ValueError, match=r"noise_schedule='linear': expected one of \['cosine', "):
        train.training_scheduler(TrainConfig(noise_schedule="linear"))


def test_snapshot_steps_save_the_pipeline_after_exactly_those_steps(tmp_path, tiny):
    cfg = TrainConfig(steps=3, snapshot_steps=(2,), noise_schedule="cosine_zero_snr",
                      prediction_type="v_prediction", **tiny)
    final = train.train(cfg, tmp_path / "run")
    snap = load_pretrained(train.snapshot_step_dir(tmp_path / "run", 2), device="cpu")
    assert snap.training_config["steps_done"] == 2 and final.training_config["steps_done"] == 3
    assert not (tmp_path / "run" / "snapshots" / "steps_3").exists()
    # the saved sampler starts at zero terminal SNR, and a v model samples finite frames from it
    assert float(snap.scheduler.alphas_cumprod[-1]) == 0.0 and snap.scheduler.config.rescale_betas_zero_snr
    clip = world.ClipSpec.of(cfg).clips([0])[0]
    out = snap(context=clip.video[:cfg.context_frames], num_inference_steps=2,
               generator=torch.Generator().manual_seed(0), progress=False)
    assert np.isfinite(out.frames).all()


def test_a_run_saved_before_the_new_fields_resumes_and_a_changed_one_does_not(tmp_path):
    old = {k: v for k, v in json.loads(json.dumps(TrainConfig().__dict__)).items()
           if k not in ("noise_schedule", "snapshot_steps")}
    (tmp_path / "config.json").write_text(json.dumps(old))
    runs.prepare_output(TrainConfig(), tmp_path, main=False)  # the defaults are what the old run did
    with pytest.raises(ValueError, match="holds a run with a different config"):
        runs.prepare_output(TrainConfig(noise_schedule="scaled_linear"), tmp_path, main=False)
    with pytest.raises(ValueError, match="holds a run with a different config"):
        runs.prepare_output(TrainConfig(snapshot_steps=(100,)), tmp_path, main=False)
