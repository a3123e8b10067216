"""The latent recipe trains in the shared loop (``vidlab.train``): the VAE first, then the transformer on its
frozen latents; each resumes to the same weights, saves what loads, and refuses what cannot train by name."""

import json

import numpy as np
import pytest
import torch

from vidlab import pipeline, world
from vidlab.latent import vae as vae_module
from vidlab.train import TrainConfig, parse_args, train

# The smallest latent models with every part: 17 frames (1 + 4 x 4), 5 of them given (two latent frames).
LATENT = dict(batch_size=2, num_frames=17, context_frames=5, checkpoint_every=2)
VAE = dict(LATENT, family="vae", vae_channels=8, latent_channels=4)
DIT = dict(LATENT, family="latent_dit", dit_width=32, dit_depth=1, dit_heads=2)


@pytest.fixture(scope="module")
def trained_vae(tmp_path_factory):
    """A VAE trained 6 steps (smoke weights) and the folder of its saved pipeline."""
    folder = tmp_path_factory.mktemp("vae")
    return train(TrainConfig(steps=6, **VAE), folder, device="cpu"), folder / "pipeline"


def test_the_vae_trains_in_the_shared_loop_and_saves_its_latent_statistics(trained_vae):
    vae, folder = trained_vae
    loaded = vae_module.TinyVideoVAE.from_pretrained(folder)
    assert len(loaded.config.latents_mean) == len(loaded.config.latents_std) == 4
    # the statistics normalise the latents of training clips: mean 0 and spread 1 per channel
    clips = world.ClipSpec(num_frames=17).clips(list(range(10_000_000, 10_000_064)))
    video = torch.from_numpy(np.stack([c.video for c in clips])).permute(0, 1, 4, 2, 3).float() / 127.5 - 1
    with torch.no_grad():
        latents = vae_module.encode_frames(loaded, video)
    assert latents.mean(dim=(0, 2, 3, 4)).abs().max() < 1e-3
    assert torch.allclose(latents.std(dim=(0, 2, 3, 4)), torch.ones(4), atol=1e-3)


def test_the_transformer_trains_on_the_frozen_vae_and_its_pipeline_stands_alone(trained_vae, tmp_path):
    vae, vae_folder = trained_vae
    before = {k: v.clone() for k, v in vae.state_dict().items()}
    pipe = train(TrainConfig(steps=4, vae=str(vae_folder), **DIT), tmp_path / "dit", device="cpu")
    assert type(pipe).__name__ == "LatentVideoPipeline"
    loaded = pipeline.load_pretrained(tmp_path / "dit" / "pipeline", device="cpu")
    for name, weight in loaded.vae.state_dict().items():  # the VAE travels with it, unchanged by training
        torch.testing.assert_close(weight, before[name])
    context = world.ClipSpec(num_frames=5).clips([0])[0].video
    out = loaded(context=context, num_inference_steps=2, generator=torch.Generator().manual_seed(0), progress=False)
    assert out.frames.shape == (1, 17, 32, 32, 3)
    assert np.allclose(out.frames[0, :5], context / 255, atol=1e-6)
    saved = loaded.training_config
    assert saved["family"] == "latent_dit" and saved["steps_done"] == 4 and saved["vae"] == str(vae_folder)


def test_an_interrupted_transformer_run_resumes_to_the_same_weights(trained_vae, tmp_path, stop_at_three):
    cfg = TrainConfig(steps=4, vae=str(trained_vae[1]), **DIT)
    straight = train(cfg, tmp_path / "straight", device="cpu")
    with pytest.raises(KeyboardInterrupt):
        train(cfg, tmp_path / "resumed", on_step=stop_at_three, device="cpu")
    resumed = train(cfg, tmp_path / "resumed", device="cpu")
    for a, b in zip(straight.transformer.state_dict().values(), resumed.transformer.state_dict().values(),
                    strict=True):
        torch.testing.assert_close(a, b)
    steps = [json.loads(line)["step"] for line in (tmp_path / "resumed" / "log.jsonl").read_text().splitlines()]
    assert steps == [1, 2, 3, 4]


def test_an_interrupted_vae_run_resumes_to_the_same_weights(tmp_path, stop_at_three):
    cfg = TrainConfig(steps=4, **VAE)
    straight = train(cfg, tmp_path / "straight", device="cpu")
    with pytest.raises(KeyboardInterrupt):
        train(cfg, tmp_path / "resumed", on_step=stop_at_three, device="cpu")
    resumed = train(cfg, tmp_path / "resumed", device="cpu")
    for a, b in zip(straight.state_dict().values(), resumed.state_dict().values(), strict=True):
        torch.testing.assert_close(a, b)


@pytest.mark.parametrize(("changes", "message"), [
    ({"family": "latent_dit"}, "needs a trained VAE: train one with --family vae"),
    ({"family": "latent_dit", "vae": "/nowhere"}, "vae='/nowhere': no trained VAE there"),
    ({"family": "vae", "num_frames": 16}, "num_frames=16: a clip of 16 frames cannot be encoded"),
    ({"family": "diffusion_forcing"}, "family='diffusion_forcing': expected one of"),
    ({"family": "vae", "text": True}, "learns no prompts"),
])
def test_a_latent_config_that_cannot_train_is_refused_by_name_before_a_folder_is_made(tmp_path, changes, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace("+", r"\+")):
        train(TrainConfig(steps=1, **{**LATENT, **changes}), tmp_path / "run", device="cpu")
    assert not (tmp_path / "run").exists()


def test_frame_counts_are_checked_in_the_trained_vaes_groups(trained_vae, tmp_path):
    with pytest.raises(ValueError, match="context_frames=4: a clip of 4 frames cannot be encoded"):
        train(TrainConfig(steps=1, vae=str(trained_vae[1]), **{**DIT, "context_frames": 4}), tmp_path / "a")
    two = train(TrainConfig(steps=1, **{**VAE, "vae_time_group": 2, "num_frames": 7}), tmp_path / "b", device="cpu")
    assert two.latent_shape(7, 32, 32) == (4, 4, 8, 8)  # 1 + 3 groups of 2 frames
    train(TrainConfig(steps=1, vae=str(tmp_path / "b" / "pipeline"), **{**DIT, "num_frames": 7, "context_frames": 3}),
          tmp_path / "c", device="cpu")  # 7 and 3 frames: whole groups of 2


def test_the_command_line_sets_every_latent_field():
    cfg, _ = parse_args(["--output", "x", "--family", "latent_dit", "--vae", "runs/vae/pipeline", "--patch", "1",
                         "4", "4", "--flow-shift", "5", "--dit-width", "64", "--loss-weighting", "cosmap",
                         "--kl-weight", "1e-5"])
    assert (cfg.family, cfg.vae, cfg.patch, cfg.flow_shift, cfg.dit_width, cfg.loss_weighting, cfg.kl_weight) == (
        "latent_dit", "runs/vae/pipeline", (1, 4, 4), 5.0, 64, "cosmap", 1e-5)
