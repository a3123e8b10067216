"""Train vidlab's denoiser and two library peers on the same data, schedule and wall-clock budget; compare.

Each candidate is used as the denoiser inside vidlab.train's loop (same clips, noise, x0-prediction unless
named otherwise, timesteps tilted to high noise, EMA, DDIM sampling), trained for ``--minutes`` of wall clock,
then measured on held-out clips (world seeds 0..N-1) with the probes, beside the physics-free baselines. The
cosine learning-rate schedule is fitted to the budget by ``train.steps_for_minutes`` (30 timed steps of the
same loop, in the precision ``vidlab.env`` chooses or ``VIDLAB_PRECISION`` sets, for every candidate alike;
compare steps done with planned steps). ``--clip-pool N`` draws every candidate's clips from one pool of N
clips made once (vidlab.batches). Also printed: parameters, steps
done, seconds per step, FLOPs per step (torch.utils.flop_counter) and the fraction of the training device's
measured fp32 matmul peak (``--device``; default cuda, then mps, then cpu).

Peers (benchmark-only, not in requirements.txt):
- video-diffusion-pytorch's Unet3D: ``pip install --no-deps video-diffusion-pytorch einops einops-exts
  rotary-embedding-torch`` (its own dependencies pull a CUDA torch and torchvision; torchvision is only
  imported for its trainer, so a stand-in module is put in its place here);
- diffusers' UNet3DConditionModel.

Each peer runs twice: on pixels, as the library builds it, and on 4x4 patches folded into channels, as
vidlab's U-Net does. The pixel versions take tens of seconds per step on a CPU, so give them fewer clips:

    python benchmarks/train_vs_peers.py --minutes 10 --clips 64 --only vidlab patches
    python benchmarks/train_vs_peers.py --minutes 10 --clips 16 --only pixels
"""

import argparse
import dataclasses
import json
import sys
import tempfile
import time
from pathlib import Path

import torch
from torch import nn

sys.path.insert(0, str(Path(__file__).parent))
from _common import record  # noqa: E402

from vidlab import env, evaluate  # noqa: E402
from vidlab.denoiser import denoiser_inputs  # noqa: E402
from vidlab.train import (  # noqa: E402
    TrainConfig,
    build,
    step_flops,
    steps_for_minutes,
    train,
)


class PeerDenoiser(nn.Module):
    """Adapts a net that maps [B, C, T, H, W] to [B, 3, T, H, W] to vidlab's denoiser call (same inputs).

    With ``patch > 1`` the net sees ``patch`` x ``patch`` pixel blocks folded into channels (pixel-unshuffle in,
    pixel-shuffle out), the same trick vidlab's U-Net uses, so architecture and patching can be told apart.
    """

    def __init__(self, net: nn.Module, kind: str, patch: int = 1):
        super().__init__()
        self.net, self.kind, self.patch = net, kind, patch

    @property
    def device(self):
        return next(self.parameters()).device

    @property
    def dtype(self):
        return next(self.parameters()).dtype

    def forward(self, sample, timestep, context, context_mask, text_embedding=None):
        b = sample.shape[0]
        x = nn.functional.pixel_unshuffle(denoiser_inputs(sample, context, context_mask), self.patch)
        x = x.transpose(1, 2)  # [B, (3C+1)·patch², T, H/patch, W/patch]
        t = torch.as_tensor(timestep, device=sample.device).reshape(-1).expand(b)
        if self.kind == "diffusers":  # cross-attention needs a sequence: one zero token stands for "no prompt"
            tokens = torch.zeros(b, 1, self.net.config.cross_attention_dim, device=sample.device)
            out = self.net(x, t, encoder_hidden_states=tokens).sample
        else:
            out = self.net(x, t.float())
        return nn.functional.pixel_shuffle(out.transpose(1, 2), self.patch)


class _StandIn:
    """Any attribute, any call: stands in for torchvision, which video-diffusion-pytorch imports for its trainer."""

    def __getattr__(self, name):
        return _StandIn()

    def __call__(self, *args, **kwargs):
        return _StandIn()


def video_diffusion_pytorch_unet(channels: int, patch: int = 1):
    sys.modules.setdefault("torchvision", _StandIn())
    from video_diffusion_pytorch import Unet3D

    return PeerDenoiser(Unet3D(dim=channels, dim_mults=(1, 2, 4), channels=10 * patch**2, out_dim=3 * patch**2,
                               attn_heads=4, attn_dim_head=16), "vdp", patch)


def diffusers_unet3d(channels: int, patch: int = 1):
    from diffusers import UNet3DConditionModel

    net = UNet3DConditionModel(sample_size=32 // patch, in_channels=10 * patch**2, out_channels=3 * patch**2,
                               layers_per_block=1,
                               down_block_types=("CrossAttnDownBlock3D", "DownBlock3D"),
                               up_block_types=("UpBlock3D", "CrossAttnUpBlock3D"),
                               block_out_channels=(channels, 2 * channels), norm_num_groups=8,
                               cross_attention_dim=64, attention_head_dim=8)
    return PeerDenoiser(net, "diffusers", patch)


# name: (the denoiser, or None for vidlab's own from the config; TrainConfig overrides)
CANDIDATES = {
    "vidlab U-Net (shipped design)": (lambda: None, {}),
    "vidlab U-Net, v-prediction": (lambda: None, {"prediction_type": "v_prediction"}),
    "vidlab U-Net, epsilon-prediction": (lambda: None, {"prediction_type": "epsilon"}),
    "vidlab U-Net, no mixing across frames": (lambda: None, {"temporal": False}),
    "vidlab U-Net, min-SNR-5 weighting": (lambda: None, {"snr_gamma": 5.0}),
    "video-diffusion-pytorch Unet3D, 4x4 patches": (lambda: video_diffusion_pytorch_unet(32, patch=4), {}),
    "diffusers UNet3DConditionModel, 4x4 patches": (lambda: diffusers_unet3d(40, patch=4), {}),
    "video-diffusion-pytorch Unet3D, pixels": (lambda: video_diffusion_pytorch_unet(32), {}),
    "diffusers UNet3DConditionModel, pixels": (lambda: diffusers_unet3d(40), {}),
}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=5.0)
    ap.add_argument("--clips", type=int, default=64)
    ap.add_argument("--steps", type=int, default=25, help="sampling steps")
    ap.add_argument("--only", nargs="*", help="names (or parts of names) of candidates to run")
    ap.add_argument("--device", help="cpu, cuda or mps; default: cuda, then mps, then cpu")
    ap.add_argument("--clip-pool", type=int, default=0, help="0: fresh clips every step; N: a pool of N clips")
    args = ap.parse_args()
    device = env.resolve_device(args.device)
    base = TrainConfig(max_minutes=args.minutes, checkpoint_every=10**6, clip_pool=args.clip_pool)
    fmt = env.precision(device).name
    peak = env.matmul_peak(device, dtype=env.torch_dtype(fmt))
    print(f"device: {env.device_label(device)}; every candidate trains in {fmt}; its {fmt} matmul peak: "
          f"{peak / 1e9:.0f} GFLOP/s")
    clips = evaluate.held_out(vars(base), args.clips)
    k = base.context_frames
    rows = evaluate.baseline_rows(clips, k)
    for name, (make, overrides) in CANDIDATES.items():
        if args.only and not any(part.lower() in name.lower() for part in args.only):
            continue
        cfg = dataclasses.replace(base, **overrides)
        torch.manual_seed(0)  # the same initial weights on every run
        net = make()
        probe = (net if net is not None else build(cfg)[0]).to(device)
        flops = step_flops(probe, cfg)
        planned = steps_for_minutes(cfg, args.minutes, device, denoiser=net)
        cfg = dataclasses.replace(cfg, steps=planned, warmup_steps=min(cfg.warmup_steps, planned // 10))
        with tempfile.TemporaryDirectory() as folder:
            pipe = train(cfg, folder, denoiser=net, device=device)
            steps_done = pipe.training_config["steps_done"]
            seconds = pipe.training_config["training_seconds"]
        params = sum(p.numel() for p in pipe.denoiser.parameters())
        start = time.perf_counter()
        metrics = evaluate.evaluate(pipe, clips, num_inference_steps=args.steps, baselines=False)["model"]
        rows[name] = {"params_m": params / 1e6, "steps": steps_done, "planned_steps": planned,
                      "s_per_step": seconds / steps_done,
                      "gflop_per_step": flops / 1e9, "peak_fraction": flops * steps_done / seconds / peak,
                      "eval_seconds": time.perf_counter() - start, **metrics}
        print(f"{name}: {steps_done} steps in {seconds:.0f} s; {json.dumps(rows[name])}", flush=True)
    print(f"\n{args.clips} held-out projectile clips, 32 px, {args.minutes:g} min of training each, batch "
          f"{base.batch_size}, {args.steps} DDIM steps")
    head = ("", "params", "steps", "s/step", "GFLOP/step", "of peak", "right count", "centre px", "gravity err",
            "radius CV")
    print("| " + " | ".join(head) + " |\n|" + "---|" * len(head))
    for name, r in rows.items():
        train_cols = ([f"{r['params_m']:.2f} M", str(r["steps"]), f"{r['s_per_step']:.2f}",
                       f"{r['gflop_per_step']:.0f}", f"{r['peak_fraction']:.0%}"] if "steps" in r else ["-"] * 5)
        print(f"| {name} | " + " | ".join(train_cols) + f" | {r['correct_count']:.3f} | {r['center_error_px']:.2f} | "
              f"{r['gravity_rel_error']:.1%} | {r['radius_cv']:.3f} |")
    record("train_vs_peers", {"minutes": args.minutes, "clips": args.clips, "sampling_steps": args.steps,
                              **env.describe_device(device), "matmul_peak_gflops": peak / 1e9, "rows": rows})


if __name__ == "__main__":
    main()
