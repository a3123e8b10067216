"""Write notebooks/03b_a_tiny_sora.ipynb from the cells below (run once; the notebook is then edited and run
like the others: `python scripts/run_notebooks.py notebooks/03b_a_tiny_sora.ipynb`)."""

from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

ROOT = Path(__file__).resolve().parents[1]
cells = []


def md(text, **meta):
    cells.append(new_markdown_cell(text.strip("\n"), metadata=meta))


def code(text, **meta):
    cells.append(new_code_cell(text.strip("\n"), metadata=meta))


def solution(title, text):
    code(f"# @title {title}\n" + text.strip("\n"),
         cellView="form", jupyter={"source_hidden": True, "outputs_hidden": True}, tags=["solution"])


md("badge", tags=["badge"])
md("""
# 03b · A tiny Sora: latent video diffusion with a transformer and flow matching

OpenAI's Sora report describes three parts: a network that compresses video into a smaller latent space,
spacetime patches of that latent video (the report's term) as the tokens of a diffusion transformer, and a decoder
back to pixels.
The transformer models the series runs in notebook 06 (Wan 2.1, CogVideoX, LTX-Video) are built the same way;
Wan 2.1 and LTX-Video are trained by flow matching (CogVideoX by v-prediction diffusion). Notebook 03's model is a
pixel U-Net trained with DDPM. Here the modern recipe is built
at the world's scale, piece by piece, and measured with the same probes: where could a generator's physics errors
come from in its own architecture?

**What you will learn**
1. Why video models work in latents: the tiny VAE's compression beside Wan's, CogVideoX's and LTX-Video's.
2. What the VAE alone keeps of the physics: the probes on its reconstructions, before any generation.
3. Spacetime patches: a latent clip cut into tokens and put back, with the shapes.
4. One transformer block with AdaLN-Zero and 3-D rotary positions, written out and checked against the package.
5. Flow matching: the straight path from data to noise, the velocity the network learns, the loss and the Euler
   step, each checked against diffusers.
6. Training or loading the tiny latent model, and a clip emerging from noise, as x_t and the predicted clean clip.
7. The latent model against notebook 03's pixel U-Net on the same held-out clips.

**Needs:** a CPU. The shipped latent model (`"tiny-latent"`: a 1.1 MB VAE and a 5 MB transformer) is loaded;
`TRAIN = True` trains the transformer here instead.
**Run time:** not measured yet.
""")
md("## Setup")
code("setup", tags=["setup"])
code("""
import dataclasses
import inspect
import time

import matplotlib.pyplot as plt
import numpy as np
import torch
import torch.nn.functional as F

from vidlab import evaluate, pipeline, pixels, show, train, world
from vidlab.families.latent import load_vae
from vidlab.latent import flow
from vidlab.latent.dit import patchify, unpatchify
from vidlab.latent.vae import decode_latents, encode_frames

N_CLIPS = 8 if FAST else 64  # held-out clips for the measurements below
""")

# ------------------------------------------------------------------ 1. latents
md("""
## 1. Why latents
A 10-second clip at 832×480 and 16 fps is 160 frames of 400,000 pixels: no transformer can attend over every pixel
of it. So a video VAE first folds each group of frames and each block of pixels into a few numbers per position,
and the generator works there. Here are the factors of the public VAEs (diffusers' classes: their default
configurations, the released models') beside the tiny VAE of this notebook, and what each keeps at the frame size
and rate its model card recommends (`vidlab.public.registry`):
""")
code("""
from diffusers import AutoencoderKLCogVideoX, AutoencoderKLLTXVideo, AutoencoderKLWan

from vidlab.public.registry import entry

channels = {  # latent channels: each class's default configuration
    "wan2.1-t2v-1.3b": inspect.signature(AutoencoderKLWan).parameters["z_dim"].default,
    "cogvideox-2b": inspect.signature(AutoencoderKLCogVideoX).parameters["latent_channels"].default,
    "ltx-video": inspect.signature(AutoencoderKLLTXVideo).parameters["latent_channels"].default,
}
spatial = {"wan2.1-t2v-1.3b": 8, "cogvideox-2b": 8, "ltx-video": 32}  # pixels per latent side
vae = load_vae("tiny-latent")  # the tiny VAE shipped with vidlab
print(vae.config.time_group, "frames per latent frame;", vae.latent_shape(17, 32, 32), "per clip")
""")
code("""
rows = []
for name, z in channels.items():
    e = entry(name)
    t, s, r = e.frames_per_latent, spatial[name], e.recommended
    per_second = r.fps / t * (r.width // s) * (r.height // s) * z
    rows.append([name, f"{t}x{s}x{s}", z, f"{t * s * s * 3 / z:.0f}x", f"{per_second:,.0f}"])
t, s, z = vae.config.time_group, 4, vae.config.latent_channels
rows.append(["vidlab tiny VAE (32x32, 10 fps)", f"{t}x{s}x{s}", z, f"{t * s * s * 3 / z:.0f}x",
             f"{10 / t * (32 // s) ** 2 * z:,.0f}"])
show.table(["VAE", "frames x pixels per latent", "channels", "fewer numbers than RGB",
            "latent numbers per second of video"], rows)
""")
md("""
The tiny VAE compresses 24 times, Wan's and CogVideoX's 48 times, LTX-Video's 192 times. Whatever motion a VAE
cannot carry through that compression, no transformer after it can draw. So before generating anything: what does
the VAE alone do to the physics?
""")

# ------------------------------------------------------------------ 2. the VAE
md("""
## 2. The tiny causal VAE, and what it keeps of the physics
`vidlab.latent.vae.TinyVideoVAE` encodes frame 0 alone, then each group of 4 frames into one latent frame, and each
4×4 block of pixels into one latent position with 8 channels: a 17-frame clip of 32×32 becomes 5 latent frames of
8×8. It is *causal*: a latent frame depends on its own frames and earlier ones only, so the given frames of a clip
encode the same whatever follows them. Checked: change frame 10, and latent frames 0-2 (frames 0-8) stay exactly as
they were, while latent frame 3 (frames 9-12) moves.
""")
code("""
spec = world.ClipSpec(num_frames=17, context_frames=5)
clip = evaluate.held_out(spec, 1)[0]
video = pixels.to_model_space(clip.video[None])  # [1, 17, 3, 32, 32] in [-1, 1]
changed = video.clone()
changed[:, 10] = -video[:, 10]  # frame 10, inverted
with torch.no_grad():
    before, after = encode_frames(vae, video), encode_frames(vae, changed)
moved = [(before[0, :, f] - after[0, :, f]).abs().max().item() > 0 for f in range(5)]
print("latents", tuple(before.shape), "| latent frames changed by frame 10:", moved)
assert moved[:4] == [False, False, False, True]  # causal: frames 0-8 keep their latents
""")
md("Clips of the held-out set through the VAE and back, beside the truth (the probes' centres drawn in):")
code("""
from vidlab.experiments import ood, vae_physics

conditions = {name: ood.CONDITIONS[name] for name in ("in distribution", "faster", "smaller")}
examples = [evaluate.held_out(spec, 1, first_seed=3, **p)[0] for p in conditions.values()]
rebuilt = vae_physics.reconstruct(vae, examples)
show.video([c.video for c in examples] + rebuilt, overlays=examples + examples, height=112,
           captions=[f"truth, {n}" for n in conditions] + [f"VAE, {n}" for n in conditions])
""")
md("""
**The measurement.** The probes read the reconstructions of held-out clips as they read a generated clip, against
the truth: frames 1-16 (frame 0 is encoded alone). In distribution, with faster balls (more motion inside one
latent frame) and with smaller balls (a few pixels inside one 4×4 latent position):
""")
code("""
for name, params in conditions.items():
    clips = evaluate.held_out(spec, N_CLIPS, **params)
    rebuilt = vae_physics.reconstruct(vae, clips)
    m = evaluate.video_metrics(rebuilt, clips, 1)
    bounces = [b for b in vae_physics.bounce_measures(rebuilt, clips) if b["truth_bounces"]]
    kept = sum(b["bounce_kept"] for b in bounces)
    print(f"{name:16s} right count {m['correct_count']:.3f} | "
          f"centre error {m['center_error_px']:.2f} px | "
          f"velocity error {m['velocity_error_px']:.2f} px/frame | "
          f"bounces kept {kept} of {len(bounces)}")
""")
md("""
What this run shows (one VAE, the shipped one; the experiment `vae_physics` measures 3 trained seeds each at 4 and
2 frames per latent frame):
- In distribution the VAE is nearly transparent: the right number of balls in every frame and a centre error of a
  tenth of a pixel, far inside the quality bar's 1 px.
- Faster balls keep their centres, but the probes find a bounce in far fewer of the reconstructions than of the
  true clips. A fast bounce reverses the ball between two frames that the VAE folds into one latent frame; the
  experiment `vae_physics` tests that explanation with a VAE that folds 2 frames instead of 4.
- The smallest balls are lost in many frames: a ball 2-4 px across inside a 4×4 latent position, with 8 numbers to
  describe it and its background.

So part of a latent model's physics errors is decided before the transformer: fast events shorter than a latent
frame, and objects smaller than a latent position.
""")

# ------------------------------------------------------------------ 3. patches
md("""
## 3. Spacetime patches
The transformer's tokens are blocks of the latent clip: each (1 latent frame × 2 × 2 positions) block becomes one
token, so a 5×8×8 latent clip is 5 × 4 × 4 = 80 tokens. Sora's report calls these spacetime patches. The input
stacks three things as channels, as Wan's image-to-video model does: the noisy latents, the clean latents of the
given frames (zeros elsewhere), and a mask that is 1 on given frames. Written with `reshape` and `permute`, and
checked against the package:
""")
code("""
latents = before  # [1, 8, 5, 8, 8]: channels, latent frames, rows, columns
given = torch.zeros_like(latents)
given[:, :, :2] = latents[:, :, :2]  # 5 given frames = latent frames 0 and 1
mask = torch.zeros(1, 5)
mask[:, :2] = 1
stacked = torch.cat([latents, given, mask[:, None, :, None, None].expand(1, 1, 5, 8, 8)], dim=1)
b, c, f, h, w = stacked.shape
blocks = stacked.reshape(b, c, f, h // 2, 2, w // 2, 2)  # cut rows and columns into pairs
tokens = blocks.permute(0, 2, 3, 5, 1, 4, 6).reshape(b, f * (h // 2) * (w // 2), c * 4)
print("stacked", tuple(stacked.shape), "-> tokens", tuple(tokens.shape))
assert torch.equal(tokens, patchify(stacked, (1, 2, 2)))
assert torch.equal(unpatchify(tokens, (1, 2, 2), (f, h, w)), stacked)  # and back, exactly
""")

# ------------------------------------------------------------------ 4. one block
md("""
## 4. One transformer block: AdaLN-Zero and 3-D rotary positions
Load the shipped model. Its transformer (`vidlab.latent.dit.SpacetimeDiT`) embeds each token to 128 numbers, runs
4 blocks of attention over all 80 tokens of the clip at once, and maps each token back to a patch of velocity.
""")
code("""
TRAIN = False  # True: train the transformer here (section 6) instead of loading the shipped one
pipe = pipeline.load_pretrained("tiny-latent", device="cpu")
dit = pipe.transformer
print({k: dit.config[k] for k in ("width", "depth", "heads", "patch_size", "latent_channels")})
print(f"transformer {sum(p.numel() for p in dit.parameters()) / 1e6:.2f} M parameters, "
      f"VAE {sum(p.numel() for p in pipe.vae.parameters()) / 1e6:.2f} M")
""")
md("""
Each block does two things, each behind an *adaptive LayerNorm*: the noise level (and a caption, if any) sets a
shift, a scale and a gate for each sub-layer's input. The gates start at zero (AdaLN-**Zero**, Peebles & Xie 2023),
so at initialisation every block is the identity and training opens them. Attention sees every token of the clip
(full spacetime attention), and positions enter as rotations of queries and keys: Wan's 3-D rotary embedding gives
part of each head's dimensions to the frame, part to the row and part to the column. One block, written out:
""")
code("""
from diffusers.models.embeddings import apply_rotary_emb


def dit_block(block, x, cond, rotary, heads=4):
    modulation = block.modulation(F.silu(cond))[:, None]
    shift1, scale1, gate1, shift2, scale2, gate2 = modulation.chunk(6, dim=-1)
    h = block.norm1(x) * (1 + scale1) + shift1  # adaptive LayerNorm
    n, d = x.shape[1], x.shape[2]
    q, k, v = block.qkv(h).reshape(len(x), n, 3, heads, d // heads).permute(2, 0, 3, 1, 4)
    q, k = (apply_rotary_emb(t, rotary, use_real=True, use_real_unbind_dim=-1) for t in (q, k))
    attended = F.scaled_dot_product_attention(q, k, v)  # every token sees all 80
    x = x + gate1 * block.out(attended.transpose(1, 2).reshape(len(x), n, d))
    h = block.norm2(x) * (1 + scale2) + shift2
    return x + gate2 * block.mlp(h)
""")
code("""
with torch.no_grad():
    x = dit.embed(patchify(stacked, (1, 2, 2)))  # [1, 80, 128]
    cos, sin = dit.rotary(stacked)
    rotary = (cos[0, :, 0], sin[0, :, 0])  # one rotation per token and head dimension
    cond = dit.conditioning(torch.tensor([700.0]), 1, None, x.dtype)
    by_hand, package = dit_block(dit.blocks[0], x, cond, rotary), dit.blocks[0](x, cond, rotary)
print("tokens", tuple(x.shape), "| rotation tables", tuple(rotary[0].shape))
assert torch.allclose(by_hand, package, atol=1e-5)
""")

# ------------------------------------------------------------------ 5. flow matching
md("""
## 5. Flow matching
DDPM (notebook 01) noises a clip along a curved schedule and learns the clean clip or the noise. Flow matching, the
objective of Stable Diffusion 3, Wan, HunyuanVideo and LTX-Video, puts the noisy clip on the straight line between
data and noise, `x_σ = (1 - σ) x0 + σ ε` for a noise level σ from 0 to 1, and the network learns the *velocity*
along that line, `ε - x0`, the same at every point of it. Sampling walks the line back from σ = 1 in Euler steps.
Training draws σ from a logit-normal density (most draws mid-way, where the clip is decided) and *shifts* it towards
noise, `σ' = s σ / (1 + (s - 1) σ)` with s = 3. The scheduler holds the shifted σ's:
""")
code("""
scheduler = flow.scheduler(shift=3.0)
u = torch.linspace(0.001, 0.999, 9)
print("sigma   ", [f"{v:.2f}" for v in u.tolist()])
print("shifted ", [f"{v:.2f}" for v in (3 * u / (1 + 2 * u)).tolist()])
draws = flow.draw_sigmas(scheduler, 20_000, torch.Generator().manual_seed(0))[0]
plain = flow.draw_sigmas(flow.scheduler(shift=1.0), 20_000, torch.Generator().manual_seed(0))[0]
unshifted = flow.scheduler(shift=1.0).sigmas  # the training tables: 1,000 sigmas each, from 1 down
assert torch.allclose(scheduler.sigmas, 3 * unshifted / (1 + 2 * unshifted))
plt.figure(figsize=(6, 2.8))
plt.hist([plain.numpy(), draws.numpy()], bins=40, label=["logit-normal", "shifted (s = 3)"])
plt.gca().set(xlabel="noise level sigma", ylabel="draws", title="where training spends its steps")
plt.legend()
plt.show()
""")
md("""
The loss of one batch, written out: encode the clips, draw the noise and one σ per clip, keep the given latent
frames clean, predict the velocity, and take the squared error over the latent frames to be made. Checked against
the training loop's own loss (`vidlab.families.latent`), with the same random draws:
""")
code("""
cfg = train.TrainConfig(family="latent_dit", vae="tiny-latent", num_frames=17, context_frames=5)
video, captions = train.make_batch(cfg, step=0)  # 16 training clips, [16, 17, 3, 32, 32]
rng = torch.Generator().manual_seed(0)
with torch.no_grad():
    x0 = encode_frames(pipe.vae, video)  # [16, 8, 5, 8, 8]
    noise = torch.randn(x0.shape, generator=rng)
    index = (torch.sigmoid(torch.normal(0.0, 1.0, (len(x0),), generator=rng)) * 1000).long()
    sigma, t = scheduler.sigmas[index], scheduler.timesteps[index]
    keep = (torch.arange(5) < 2).float().expand(len(x0), 5)  # the 2 given latent frames
    given = x0 * keep[:, None, :, None, None]
    x_sigma = (1 - sigma[:, None, None, None, None]) * x0 + sigma[:, None, None, None, None] * noise
    x_sigma = torch.where(keep[:, None, :, None, None] > 0, x0, x_sigma)
    error = (dit(x_sigma, t, given, keep) - (noise - x0)).pow(2).mean(dim=(1, 3, 4))  # [16, 5]
    loss_by_hand = (error * (1 - keep)).sum() / (1 - keep).sum()
""")
code("""
family = train.family_of(cfg)
with torch.no_grad():
    loss_library = family.loss(dit, None, video, captions, torch.Generator().manual_seed(0))
print(f"loss by hand {loss_by_hand.item():.6f} | the training loop's {loss_library.item():.6f}")
assert torch.allclose(loss_by_hand, loss_library, atol=1e-6)
""")
md("One Euler step back along the line is `x ← x + (σ_next - σ) v`, which is what diffusers' scheduler does:")
code("""
scheduler.set_timesteps(25)
sample = torch.randn(1, 8, 5, 8, 8, generator=torch.Generator().manual_seed(1))
velocity = torch.randn(1, 8, 5, 8, 8, generator=torch.Generator().manual_seed(2))
s, s_next = scheduler.sigmas[0].item(), scheduler.sigmas[1].item()
by_hand = sample + (s_next - s) * velocity
by_diffusers = scheduler.step(velocity, scheduler.timesteps[0], sample).prev_sample
gap = (by_hand - by_diffusers).abs().max()
print(f"sigma {s:.3f} -> {s_next:.3f}; largest difference {gap:.1e}")
assert torch.allclose(by_hand, by_diffusers, atol=1e-6)
assert torch.allclose(flow.euler_step(sample, velocity, s, s_next), by_diffusers, atol=1e-6)
""")

# ------------------------------------------------------------------ 6. train or load, and sampling
md("""
## 6. Training, and a clip emerging from noise
`vidlab.train` trains the latent model in the same loop as the U-Net (`TrainConfig(family="latent_dit", ...)`):
the same clip pool, AdamW, learning-rate schedule, EMA weights, checkpoints and resume. The VAE is frozen; only the
transformer learns. The shipped model trained 3,561 steps, as many as notebook 03's recipe; its record:
""")
code("""
if TRAIN or FAST:
    steps = 20 if FAST else 3561  # the shipped model's steps
    run_cfg = dataclasses.replace(cfg, clip_pool=64 if FAST else 16384, steps=steps)
    live = show.LiveLoss(every=20)
    pipe = train.train(run_cfg, f"runs/03b_latent_{steps}steps", on_step=live, device="cpu")
    live.close()
    dit = pipe.transformer
record = pipe.training_config
print({k: record[k] for k in ("family", "vae", "steps_done", "training_seconds", "machine")})
""")
md("""
Sampling, written out: encode the 5 given frames, start the other latent frames from noise, and at each of the 25
noise levels predict the velocity, step back along the line, and put the given frames back. At each step the
velocity also says where the line ends, the predicted clean clip `x̂0 = x_σ - σ v`. The loop is the pipeline's
(`LatentVideoPipeline`): same seed, same clip.
""")
code("""
clip = evaluate.held_out(spec, 1, first_seed=7)[0]
known = pixels.to_model_space(clip.video[None, :5])
with torch.no_grad():
    given = torch.zeros(1, 8, 5, 8, 8)
    given[:, :, :2] = encode_frames(pipe.vae, known)
    keep = (torch.arange(5) < 2).float()[None]
    x = torch.randn(given.shape, generator=torch.Generator().manual_seed(0))
    scheduler.set_timesteps(25)
    noisy_steps, clean_steps = [], []
    for i, t in enumerate(scheduler.timesteps):
        x = torch.where(keep[:, None, :, None, None] > 0, given, x)
        v = dit(x, t.expand(1), given, keep)
        clean_steps.append(flow.clean_estimate(x, v, scheduler.sigmas[i].item()))
        noisy_steps.append(x)
        x = scheduler.step(v, t, x).prev_sample
    x = torch.where(keep[:, None, :, None, None] > 0, given, x)
""")
code("""
seed_0 = torch.Generator().manual_seed(0)
out = pipe(context=clip.video[:5], num_inference_steps=25, generator=seed_0, progress=False)
out = out.frames[0]
with torch.no_grad():
    by_hand = pixels.to_unit_pixels(decode_latents(pipe.vae, x))[0].numpy()
by_hand[:5] = clip.video[:5] / 255  # the pipeline puts the given frames back exactly
print(f"largest difference from the pipeline's clip: {np.abs(by_hand - out).max():.1e}")
assert np.allclose(by_hand, out, atol=1e-4)
""")
md("Every fifth step, decoded: the noisy latents x_σ (left) and the clean clip they point to (right).")
code("""
def decoded(latents):
    with torch.no_grad():
        return pixels.from_model_space(decode_latents(pipe.vae, latents)[0])


picks = [0, 5, 10, 15, 20, 24]
strips = [decoded(noisy_steps[i]) for i in picks] + [decoded(clean_steps[i]) for i in picks]
labels = [f"x_t, step {i + 1}" for i in picks] + [f"x0 predicted, step {i + 1}" for i in picks]
show.step_grid(strips, labels, rows=len(strips), n=9, height=48)
""")
md("""
The predicted clean clip settles within a few steps: the given frames decide this world's future, so the velocity
at high noise already points at nearly the right clip (notebook 01 § 4 says why; an open future comes in a later
notebook). The noisy latents only reach it at the end of the walk.
""")

# ------------------------------------------------------------------ 7. head to head
md("""
## 7. The latent model against the pixel U-Net
Both shipped models continue the same held-out simulations: the U-Net (notebook 03) from 4 given frames of a
16-frame clip, the latent model from 5 given frames of a 17-frame clip (the VAE's 1 + 4k layout). Both make the
same 12 frames. One more given frame helps a little (notebook 05 § 6), so this is not yet the fair race;
`benchmarks/latent_vs_unet.py` trains both on 17 frames with 5 given, side by side for the same minutes.
""")
code("""
unet = pipeline.load_pretrained(device="cpu")
contestants = {"pixel U-Net (tiny-physics)": unet, "latent DiT (tiny-latent)": pipe}
rows = {}
for name, model in contestants.items():
    clips = evaluate.held_out(model.training_config, N_CLIPS)
    start = time.perf_counter()
    videos = evaluate.continue_clips(model, clips, 25)
    seconds = (time.perf_counter() - start) / len(clips)
    k = model.training_config["context_frames"]
    rows[name] = {**evaluate.video_metrics(videos, clips, k), "seconds": seconds,
                  "steps": model.training_config["steps_done"]}
extra = {"training steps": {n: f"{r['steps']:,}" for n, r in rows.items()},
         "s per clip": {n: f"{r['seconds']:.3f}" for n, r in rows.items()}}
print(evaluate.table(rows, extra))
""")
code("""
import json

from vidlab import env

try:  # the side-by-side benchmark, where it has been run and committed
    text = env.repository_file("benchmarks/results/latent_vs_unet.jsonl").read_text()
    for r in map(json.loads, text.splitlines()):
        print(f"{r['model']}: bar reached after {r['time_to_bar_minutes']} min "
              f"({r['steps_per_second']} steps/s, {r['precision']}, {r['cpu_capability']})")
except (FileNotFoundError, ValueError) as err:
    print("benchmarks/results/latent_vs_unet.jsonl is not committed yet:", type(err).__name__)
""")
md("""
Both meet the quality bar. The U-Net is the more precise of the two here, but it is not a race yet: the shipped
U-Net trained 60 minutes (the steps are printed above), the latent model as many steps as the U-Net's 10-minute
recipe. The latent model samples faster per clip: its transformer works on 80 tokens, the U-Net on 16 full frames.
(These sampling times were measured while other training runs shared the CPU: compare them with each other only.)
""")
md("""
**How it maps to Sora and the public models.**

| Part | Sora's report (Feb 2024) | Wan 2.1 1.3B (notebook 06) | This notebook |
|---|---|---|---|
| compression | a video compression network | causal VAE, 4×8×8, 16 channels | causal VAE, 4×4×4, 8 channels |
| tokens | spacetime latent patches | patches of 1×2×2 latents | patches of 1×2×2 latents |
| denoiser | a diffusion transformer | 30 blocks, width 1,536, full attention | 4 blocks, width 128, full attention |
| positions | not described | 3-D rotary | Wan's 3-D rotary (diffusers' `WanRotaryPosEmbed`) |
| objective | diffusion | flow matching | flow matching, shift 3 |
| conditioning | text (and images, videos) | text by UMT5 cross-attention | given frames as clean latents and a mask |
""")

# ------------------------------------------------------------------ think, exercises, summary
md("""
### Think!
1. The VAE kept every ball in distribution but lost the smallest ones. Where in the VAE does a ball 2 px across
   have to survive, and what would you change to keep it?
2. Full attention over 80 tokens is cheap. How many tokens would a 10-second 832×480 clip be for Wan 2.1, and what
   does that do to attention's cost?

<details><summary>Answer to 1</summary>

In one latent position: 4×4 pixels folded into 8 numbers that must also describe the background. A ball of radius
1 px changes a few pixels of that block; a reconstruction loss averaged over the whole frame barely notices if the
decoder draws background instead. More latent channels, a 2× spatial factor, or a loss that weights the ball's
pixels would keep it, at the cost of more tokens or a less general VAE.

</details>

<details><summary>Answer to 2</summary>

At 16 fps, 10 seconds is about 161 frames (the nearest 4k + 1): 41 latent frames of 60×104 positions, and 1×2×2
patches make 41 × 30 × 52 = 63,960 tokens. Attention's cost grows with the square of that: about 640,000 times the
cost for the 80 tokens here, per layer, before the width is counted.

</details>
""")
md("""
## Exercises
Try each one first; the solution sits hidden under it (click the cell's left bar in JupyterLab, or *Show code* in
Colab, to read it).

**Exercise 1.** Write it yourself: the Euler step of flow matching: from `sample` at noise level `sigma`,
with the predicted `velocity`, to the sample at `sigma_next`. The check below compares it with diffusers'
`FlowMatchEulerDiscreteScheduler.step`.
""")
code("""
def my_euler_step(sample, velocity, sigma, sigma_next):
    # YOUR CODE: one step back along the straight line from data (sigma 0) to noise (sigma 1)
    return None


mine = my_euler_step(sample, velocity, s, s_next)
if mine is None:
    print("not written yet: fill in my_euler_step")
else:
    assert torch.allclose(mine, by_diffusers, atol=1e-6), "not the scheduler's step yet"
    print("matches FlowMatchEulerDiscreteScheduler.step")
""")
solution("Solution to exercise 1", """
def my_euler_step(sample, velocity, sigma, sigma_next):
    return sample + (sigma_next - sigma) * velocity  # sigma_next < sigma: towards the data


assert torch.allclose(my_euler_step(sample, velocity, s, s_next), by_diffusers, atol=1e-6)
print("the step moves the sample by (sigma_next - sigma) times the velocity")
""")
md("""
**Exercise 2.** The shipped model samples with 25 Euler steps. Measure its centre error and seconds per clip at 1,
4 and 25 steps. Why can so few steps work here?
""")
solution("Solution to exercise 2", """
clips = evaluate.held_out(pipe.training_config, N_CLIPS)
for n_steps in (1, 4, 25):
    start = time.perf_counter()
    videos = evaluate.continue_clips(pipe, clips, n_steps)
    seconds = (time.perf_counter() - start) / len(clips)
    m = evaluate.video_metrics(videos, clips, 5)
    print(f"{n_steps:2d} steps: centre error {m['center_error_px']:.2f} px, "
          f"gravity error {m['gravity_rel_error']:.1%}, {seconds:.3f} s per clip")
print("The given frames decide the future here, so the first velocity already points at the clip.")
""")
md("""
**Exercise 3.** The VAE encodes frame 0 alone. Check it: encode a still image (a one-frame clip) and compare its
latent with the first latent frame of the whole clip. What does that buy an image-to-video model?
""")
solution("Solution to exercise 3", """
with torch.no_grad():
    still = encode_frames(vae, video[:, :1])  # frame 0 alone: one latent frame
    whole = encode_frames(vae, video)  # the 17-frame clip: five
gap = (still[:, :, 0] - whole[:, :, 0]).abs().max().item()
print("still image:", tuple(still.shape), "| clip:", tuple(whole.shape), f"| largest gap {gap:.1e}")
assert torch.allclose(still[:, :, 0], whole[:, :, 0], atol=1e-5)
print("Frame 0's latent is the same whatever follows it, so an image is a one-frame video:")
print("an image-to-video model encodes it as it encoded the first frames of its training clips.")
""")
md("""
## Summary
- Every public video model generates latents: its VAE decides what motion and which objects can exist at all.
  The tiny VAE keeps in-distribution falls to a tenth of a pixel, but loses bounces of fast balls and the smallest
  balls before any generation (section 2, printed above).
- The transformer's tokens are spacetime patches of the latent clip, and every token attends to every other
  (section 3-4); AdaLN-Zero lets the noise level steer each block, starting from the identity.
- Flow matching learns one velocity along a straight line from data to noise, and samples by Euler steps; each
  piece here was checked against diffusers (section 5).
- The recipe trains in the same loop as the U-Net, and the shipped latent model meets the quality bar on held-out
  clips (section 7 prints its figures beside the U-Net's).
""")

nb = new_notebook(cells=cells, metadata={"kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python",
                                                        "name": "python3"},
                                         "language_info": {"name": "python"}})
nbformat.write(nb, ROOT / "notebooks" / "03b_a_tiny_sora.ipynb")
print("wrote notebooks/03b_a_tiny_sora.ipynb")
