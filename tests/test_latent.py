"""The latent recipe: the causal VAE folds 1 + 4k frames and never looks ahead, patchify is a strided 3-D
convolution and inverts exactly, AdaLN-Zero starts every block at the identity, attention spans all of spacetime,
the objective and the Euler step are diffusers', and a few steps fit a batch."""

import json

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from vidlab import pipeline, world
from vidlab.latent import flow
from vidlab.latent.dit import SpacetimeDiT, patchify, unpatchify
from vidlab.latent.vae import TinyVideoVAE

PATCH = (1, 2, 2)


def _latents(batch=2, channels=8, frames=5, size=8, seed=0):
    return torch.randn(batch, channels, frames, size, size, generator=torch.Generator().manual_seed(seed))


def _mask(batch=2, frames=5, given=2):
    mask = torch.zeros(batch, frames)
    mask[:, :given] = 1
    return mask


def _randomised(model: SpacetimeDiT, seed: int = 0) -> SpacetimeDiT:
    """The model with every weight random, its zero-initialised layers included (as after some training)."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.randn(p.shape, generator=gen) * 0.1)
    return model


def test_patchify_is_a_strided_convolution_and_unpatchify_inverts_it():
    x = _latents()
    tokens = patchify(x, PATCH)
    assert tokens.shape == (2, 5 * 4 * 4, 8 * 4)
    assert torch.equal(unpatchify(tokens, PATCH, (5, 8, 8)), x)
    conv = torch.nn.Conv3d(8, 16, PATCH, stride=PATCH)
    by_conv = conv(x).flatten(2).transpose(1, 2)
    assert torch.allclose(by_conv, tokens @ conv.weight.reshape(16, -1).T + conv.bias, atol=1e-5)
    with pytest.raises(ValueError, match="do not split into patches"):
        patchify(_latents(size=7), PATCH)


def test_adaln_zero_starts_at_zero_velocity_with_identity_blocks():
    model = SpacetimeDiT(latent_channels=8, width=64, depth=2, heads=2)
    out = model(_latents(), torch.tensor([900.0, 100.0]), _latents(seed=1), _mask())
    assert out.shape == (2, 8, 5, 8, 8) and torch.all(out == 0)
    tokens, cond = torch.randn(2, 80, 64), torch.randn(2, 64)
    rotary = tuple(t[0, :, 0] for t in model.rotary(torch.zeros(1, 1, 5, 8, 8)))
    assert torch.equal(model.blocks[0](tokens, cond, rotary), tokens)


def test_attention_spans_all_of_spacetime_and_the_timestep_matters():
    model = _randomised(SpacetimeDiT(latent_channels=8, width=64, depth=2, heads=2)).eval()
    x, context, mask = _latents(), _latents(seed=1), _mask()
    out = model(x, 500.0, context, mask)
    later = x.clone()
    later[:, :, -1, -1, -1] += 1.0  # the last latent frame's last pixel
    moved = model(later, 500.0, context, mask)
    assert (moved - out)[:, :, 0].abs().max() > 1e-4  # reaches the first frame: full, not causal, attention
    assert (model(x, 100.0, context, mask) - out).abs().max() > 1e-4


def test_the_caption_needs_a_caption_width_and_the_channels_must_match():
    model = SpacetimeDiT(latent_channels=8, width=64, depth=1, heads=2)
    with pytest.raises(ValueError, match="built without captions"):
        model(_latents(), 500.0, _latents(), _mask(), text_emb=torch.zeros(2, 16))
    with pytest.raises(ValueError, match="latents have 4 channels: this transformer takes 8"):
        model(_latents(channels=4), 500.0, _latents(channels=4), _mask())
    with pytest.raises(ValueError, match="each head's width"):
        SpacetimeDiT(width=64, heads=3)
    captioned = _randomised(SpacetimeDiT(latent_channels=8, width=64, depth=1, heads=2, cond_dim=16))
    a, b = (captioned(_latents(), 500.0, _latents(), _mask(), text_emb=torch.full((2, 16), v)) for v in (0.0, 1.0))
    assert (a - b).abs().max() > 1e-4


def test_a_saved_transformer_loads_and_gives_the_same_velocity(tmp_path):
    model = _randomised(SpacetimeDiT(latent_channels=8, width=64, depth=1, heads=2)).eval()
    model.save_pretrained(tmp_path)
    again = SpacetimeDiT.from_pretrained(tmp_path).eval()
    args = (_latents(), torch.tensor([300.0, 700.0]), _latents(seed=1), _mask())
    assert torch.equal(model(*args), again(*args))


def test_the_noisy_point_and_the_euler_step_are_the_schedulers():
    sched = flow.scheduler(shift=3.0)
    x0, noise = _latents(), _latents(seed=1)
    index = torch.tensor([100, 700])
    assert torch.allclose(flow.noisy(x0, noise, sched.sigmas[index]), sched.scale_noise(x0, sched.timesteps[index],
                                                                                         noise), atol=1e-6)
    sched.set_timesteps(4)
    velocity, sample = _latents(seed=2), _latents(seed=3)
    stepped = sched.step(velocity, sched.timesteps[0], sample).prev_sample
    assert torch.allclose(stepped, flow.euler_step(sample, velocity, float(sched.sigmas[0]), float(sched.sigmas[1])))
    # from pure noise, one step with the true velocity lands on the data
    assert torch.allclose(flow.clean_estimate(noise, flow.velocity_target(x0, noise), 1.0), x0, atol=1e-6)


def test_sigmas_follow_the_generator_and_the_shift_pushes_them_to_noise():
    a = flow.draw_sigmas(flow.scheduler(3.0), 4000, torch.Generator().manual_seed(0))[0]
    b = flow.draw_sigmas(flow.scheduler(3.0), 4000, torch.Generator().manual_seed(0))[0]
    unshifted = flow.draw_sigmas(flow.scheduler(1.0), 4000, torch.Generator().manual_seed(0))[0]
    assert torch.equal(a, b) and 0 < a.min() and a.max() <= 1
    assert abs(unshifted.median() - 0.5) < 0.03 and a.median() > 0.7  # logit-normal centred; shift 3: 3/4
    with pytest.raises(ValueError, match="density='beta'"):
        flow.draw_sigmas(flow.scheduler(), 2, torch.Generator(), density="beta")
    with pytest.raises(ValueError, match="shift=0"):
        flow.scheduler(shift=0)


def test_the_loss_counts_only_the_frames_to_make():
    x0, noise, sigmas, mask = _latents(), _latents(seed=1), torch.tensor([0.3, 0.9]), _mask()
    exact = flow.velocity_target(x0, noise)
    assert flow.loss(exact, x0, noise, sigmas, 1 - mask) == 0
    wrong_given = exact.clone()
    wrong_given[:, :, :2] += 5.0  # the given frames are not scored
    assert flow.loss(wrong_given, x0, noise, sigmas, 1 - mask) == 0
    wrong_made = exact.clone()
    wrong_made[:, :, 2:] += 1.0
    assert torch.isclose(flow.loss(wrong_made, x0, noise, sigmas, 1 - mask), torch.tensor(1.0))
    with pytest.raises(ValueError, match="weighting='snr'"):
        flow.loss(exact, x0, noise, sigmas, 1 - mask, weighting="snr")


def test_a_few_steps_fit_one_batch():
    torch.manual_seed(0)
    model = SpacetimeDiT(latent_channels=8, width=64, depth=2, heads=2)
    sched, gen = flow.scheduler(3.0), torch.Generator().manual_seed(1)
    x0, mask = _latents(batch=4), _mask(batch=4)
    noise = torch.randn(x0.shape, generator=gen)  # one draw of noise and levels: a regression the model can fit
    sigmas, timesteps = flow.draw_sigmas(sched, 4, gen)
    noisy = torch.where(mask[:, None, :, None, None] > 0, x0, flow.noisy(x0, noise, sigmas))
    given = x0 * mask[:, None, :, None, None]
    opt = torch.optim.AdamW(model.parameters(), lr=3e-3)
    losses = []
    for _ in range(40):
        loss = flow.loss(model(noisy, timesteps, given, mask), x0, noise, sigmas, 1 - mask)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[0] > 1.5 and losses[-1] < 0.5 * losses[0]  # from zero velocity (|noise - x0|^2 ~ 2) down


def _clip(frames=17, seed=0):
    return torch.rand(2, 3, frames, 32, 32, generator=torch.Generator().manual_seed(seed)) * 2 - 1


def test_the_vae_folds_4_frames_after_the_first_and_4x4_pixels_into_a_latent():
    vae = TinyVideoVAE(channels=8, latent_channels=4).eval()
    dist = vae.encode(_clip()).latent_dist
    assert dist.mean.shape == (2, 4, 5, 8, 8) == (2, *vae.latent_shape(17, 32, 32))
    assert vae.decode(dist.mode()).sample.shape == (2, 3, 17, 32, 32)
    assert vae.encode(_clip(frames=1)).latent_dist.mean.shape[2] == 1  # a still image is a one-frame clip
    with pytest.raises(ValueError, match="16 frames cannot be encoded.*1 \\+ 4k frames \\(the nearest: 13, 17\\)"):
        vae.encode(_clip(frames=16))
    with pytest.raises(ValueError, match="multiples of 4"):
        vae.encode(torch.zeros(1, 3, 5, 30, 32))


def test_the_vae_is_causal_a_latent_frame_never_sees_later_frames():
    vae = _randomised(TinyVideoVAE(channels=8, latent_channels=4)).eval()
    clip = _clip()
    changed = clip.clone()
    changed[:, :, 10] += 0.5  # frame 10 lies in latent frame 3 (frames 9-12)
    before, after = (vae.encode(c).latent_dist.mean for c in (clip, changed))
    assert torch.equal(before[:, :, :3], after[:, :, :3])
    assert (before[:, :, 3] - after[:, :, 3]).abs().max() > 1e-4


def test_a_few_vae_steps_reconstruct_better():
    torch.manual_seed(0)
    vae = TinyVideoVAE(channels=8, latent_channels=4)
    opt = torch.optim.AdamW(vae.parameters(), lr=3e-3)
    videos = np.stack([c.video for c in world.ClipSpec(num_frames=5).clips([0, 1])])  # [B, T, H, W, 3] uint8
    clip = torch.from_numpy(videos).permute(0, 4, 1, 2, 3).float() / 127.5 - 1
    gen, losses = torch.Generator().manual_seed(0), []
    for _ in range(40):
        out, kl = vae(clip, gen)
        loss = F.mse_loss(out, clip) + 1e-4 * kl
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.5 * losses[0]


def _latent_pipeline():
    """A tiny random-weight latent pipeline (smoke weights: it draws noise, not physics)."""
    torch.manual_seed(0)
    vae = TinyVideoVAE(channels=8, latent_channels=4).eval()
    transformer = _randomised(SpacetimeDiT(latent_channels=4, width=32, depth=1, heads=2)).eval()
    config = {**world.ClipSpec().to_dict(), "num_frames": 17, "context_frames": 5}
    return pipeline.LatentVideoPipeline(vae, transformer, flow.scheduler(3.0), training_config=config)


def test_the_latent_pipeline_is_called_like_the_pixel_one_and_keeps_the_given_frames(tmp_path):
    pipe = _latent_pipeline()
    context = world.ClipSpec(num_frames=5).clips([0])[0].video  # uint8 [5, 32, 32, 3]
    out = pipe(context=context, num_inference_steps=2, generator=torch.Generator().manual_seed(0), progress=False)
    assert out.frames.shape == (1, 17, 32, 32, 3) and 0 <= out.frames.min() and out.frames.max() <= 1
    assert np.allclose(out.frames[0, :5], context / 255, atol=1e-6)
    again = pipe(context=context, num_inference_steps=2, generator=torch.Generator().manual_seed(0), progress=False)
    assert np.array_equal(out.frames, again.frames)
    longer = pipe(context=context, num_frames=29, num_inference_steps=2, generator=torch.Generator().manual_seed(0),
                  progress=False)
    assert longer.frames.shape[1] == 29 and np.array_equal(longer.frames[:, :17], out.frames)
    pipe.save_pretrained(tmp_path)
    loaded = pipeline.load_pretrained(tmp_path, device="cpu")
    assert type(loaded).__name__ == "LatentVideoPipeline"
    reloaded = loaded(context=context, num_inference_steps=2, generator=torch.Generator().manual_seed(0),
                      progress=False)
    assert np.allclose(reloaded.frames, out.frames, atol=1e-5)  # the same weights; float rounding may differ
    with pytest.raises(ValueError, match="context has 4 frames: this model was trained on 5"):
        pipe(context=context[:4], num_inference_steps=2)


def test_a_folder_of_another_pipeline_class_is_refused_by_name(tmp_path):
    _latent_pipeline().save_pretrained(tmp_path)
    index = json.loads((tmp_path / "model_index.json").read_text())
    (tmp_path / "model_index.json").write_text(json.dumps({**index, "_class_name": "WanPipeline"}))
    with pytest.raises(ValueError, match="holds a 'WanPipeline': vidlab loads"):
        pipeline.load_pretrained(tmp_path, device="cpu")
