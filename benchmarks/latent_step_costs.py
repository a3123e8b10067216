"""What one training step costs for each candidate of the latent recipe, against the pixel U-Net, on this machine.

Issue 24 asks whether diffusers' own classes (``WanTransformer3DModel``, ``AutoencoderKLWan``) at a tiny
configuration train fast enough on a CPU, or whether the series needs lean ones of its own (``vidlab.latent``).
This times one step (forward, backward, AdamW) of each at batch 16 on clips of 17 frames at 32x32 (5 latent frames
of 8x8 with 8 channels), in fp32 and, where the CPU has bf16 units, under bf16 autocast; counts its FLOPs (the
forward pass on the meta device, times 3 for a training step) and gives the rate as a share of the measured fp32
matmul peak. Each figure is the median of ``--repeats`` steps after 2 warm-up steps, all in one run, so the ratios
between rows compare like with like.

    python benchmarks/latent_step_costs.py [--repeats 5] [--threads 2]
"""

import argparse
import contextlib
import json
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))
from _common import record  # noqa: E402

from vidlab import env, train  # noqa: E402
from vidlab.cost import flops  # noqa: E402
from vidlab.latent.dit import SpacetimeDiT  # noqa: E402
from vidlab.latent.vae import TinyVideoVAE  # noqa: E402

RESULTS = Path(__file__).parent / "results" / "latent_step_costs.jsonl"
BATCH, FRAMES, SIZE, Z = 16, 17, 32, 8
LATENT = (BATCH, Z, 5, 8, 8)


def candidates() -> dict:
    """name -> (build(), inputs(device of the tensors) -> args, loss(output) -> scalar)."""
    from diffusers import AutoencoderKLWan, WanTransformer3DModel

    def latents(device="cpu"):
        x = torch.randn(LATENT, device=device)
        mask = torch.zeros(BATCH, 5, device=device)
        return x, torch.full((BATCH,), 500.0, device=device), torch.zeros_like(x), mask

    def wan_inputs(device="cpu"):  # noisy, given and mask stacked as channels, as Wan's image-to-video takes them
        x = torch.randn(BATCH, 2 * Z + 1, 5, 8, 8, device=device)
        return x, torch.full((BATCH,), 500, device=device), torch.zeros(BATCH, 1, 32, device=device)

    def video(device="cpu"):
        return (torch.rand(BATCH, 3, FRAMES, SIZE, SIZE, device=device) * 2 - 1,)

    def unet_inputs(device="cpu"):
        x = torch.randn(BATCH, 16, 3, SIZE, SIZE, device=device)
        return x, torch.full((BATCH,), 500, device=device), torch.zeros_like(x), torch.zeros(BATCH, 16, device=device)

    def mean_square(out):
        out = out[0] if isinstance(out, tuple) else getattr(out, "sample", out)
        return (out.float() ** 2).mean()

    wan = dict(patch_size=(1, 2, 2), num_attention_heads=4, attention_head_dim=32, in_channels=2 * Z + 1,
               out_channels=Z, text_dim=32, freq_dim=64, ffn_dim=512, num_layers=4, rope_max_seq_len=64)
    return {
        "pixel U-Net (the 10-minute recipe), 16 frames": (lambda: train.build(train.TrainConfig())[0], unet_inputs,
                                                           mean_square),
        "vidlab DiT, width 128, 4 layers, patch (1, 2, 2)": (lambda: SpacetimeDiT(Z, (1, 2, 2), 128, 4, 4), latents,
                                                             mean_square),
        "vidlab DiT, width 192, 6 layers, patch (1, 2, 2)": (lambda: SpacetimeDiT(Z, (1, 2, 2), 192, 6, 4), latents,
                                                             mean_square),
        "diffusers WanTransformer3DModel, 4 layers, 4 x 32, ffn 512, patch (1, 2, 2)":
            (lambda: WanTransformer3DModel(**wan), wan_inputs, lambda out: mean_square(out.sample)),
        "vidlab TinyVideoVAE, 32 channels, z 8": (lambda: TinyVideoVAE(32, Z), video,
                                                  lambda out: out[0].float().pow(2).mean() + out[1]),
        "diffusers AutoencoderKLWan, base 16, z 8, mults 1-2-4": (
            lambda: AutoencoderKLWan(base_dim=16, z_dim=Z, dim_mult=[1, 2, 4], num_res_blocks=1,
                                     temperal_downsample=[True, True]), video, lambda out: mean_square(out.sample)),
    }


def step_seconds(model, args, loss_fn, autocast: bool, repeats: int) -> float:
    """Median seconds of one training step (forward, backward, AdamW) after 2 warm-up steps."""
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
    times = []
    for i in range(repeats + 2):
        start = time.perf_counter()
        ctx = torch.autocast("cpu", dtype=torch.bfloat16) if autocast else contextlib.nullcontext()
        with ctx:
            loss = loss_fn(model(*args))
        opt.zero_grad()
        loss.backward()
        opt.step()
        if i >= 2:
            times.append(time.perf_counter() - start)
    return statistics.median(times)


def forward_flops(build, inputs) -> float:
    """FLOPs of one forward pass, counted on the meta device."""
    with torch.device("meta"):
        model = build()
    return flops.count(model, *inputs("meta"))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--threads", type=int, default=None, help="torch threads (default: torch's choice)")
    ap.add_argument("--only", default="", help="run only the candidates whose name contains this")
    args = ap.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    peak = env.matmul_peak("cpu")
    precisions = [False, True] if env.cpu_has_bf16_units() else [False]
    machine = {"cpu_capability": torch.backends.cpu.get_cpu_capability(), "bf16_units": env.cpu_has_bf16_units(),
               "matmul_peak_fp32_gflops": round(peak / 1e9, 1), "threads": torch.get_num_threads(),
               "torch": torch.__version__}
    for name, (build, inputs, loss_fn) in candidates().items():
        if args.only not in name:
            continue
        torch.manual_seed(0)
        model = build()
        step_flops = 3 * forward_flops(build, inputs)  # backward is about twice the forward
        for autocast in precisions:
            seconds = step_seconds(model, inputs(), loss_fn, autocast, args.repeats)
            row = {"candidate": name, "precision": "bf16 autocast" if autocast else "fp32",
                   "parameters_m": round(sum(p.numel() for p in model.parameters()) / 1e6, 3),
                   "ms_per_step": round(1000 * seconds, 1), "steps_in_10_min": int(600 / seconds),
                   "gflop_per_step": round(step_flops / 1e9, 2),
                   "gflop_per_s": round(step_flops / seconds / 1e9, 1),
                   "share_of_fp32_peak": round(step_flops / seconds / peak, 3), "batch": BATCH, **machine}
            record("latent_step_costs", row)
            with RESULTS.open("a") as f:
                f.write(json.dumps(row) + "\n")


if __name__ == "__main__":
    main()
