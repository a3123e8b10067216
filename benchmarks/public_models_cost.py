"""What one denoising step and one VAE decode cost, for every public model in the registry.

    python benchmarks/public_models_cost.py          # tiny configs through the real pipelines (any device)
    python benchmarks/public_models_cost.py --real   # the real configurations, random weights (a GPU)

Tiny mode runs each model's offline stand-in through ``vidlab.public.generate``, so the step is the
pipeline's own (classifier-free guidance as it runs it) and the decode is its own VAE path; the figures
say what the code path costs here, not what the real model costs. ``--real`` builds each denoiser and VAE
at the real configuration with random weights (``vidlab.public.architectures``) on the device present,
times one guided step (both passes in one batch, 2 warm-ups, the mean of 3) and one decode at the model
card's settings, records the peak memory, and prints the project's H100 figures beside them (references:
"Public architectures measured on an H100"). Compute does not depend on weight values; quality is not
measured.
"""

import argparse
import gc
import time

import numpy as np
import torch

from vidlab import env, public
from vidlab.public import architectures

# s/step (CFG), decode s, peak GiB denoiser / VAE: H100, bf16 (ModelScope fp16), random weights, at the
# settings below (the project's references, "Public architectures measured on an H100", November 2026).
H100 = {"wan2.1-t2v-1.3b": (1.256, 2.08, 4.19, 4.67), "cogvideox-2b": (0.644, 2.30, 4.82, 15.19),
        "ltx-video": (0.214, 0.34, 4.47, 6.89), "modelscope-1.7b": (0.0644, 0.079, 3.33, 2.19)}
REAL_SETTINGS = {"ltx-video": public.Settings(704, 480, 161, 50, 3.0, 25)}  # the H100 table's LTX row


def tiny_rows(device: str) -> list:
    rows = []
    for name in sorted(public.REGISTRY):
        model = public.load(name, tiny=True, device=device)
        image = np.full((64, 64, 3), 0.5) if name == "svd-xt" else None
        prompt = None if name == "svd-xt" else "a red ball falls"
        record = public.generate(model, prompt=prompt, image=image, steps=4, width=64, height=64).record
        rows.append((name, record["step_seconds"], record["decode_seconds"], record["peak_memory"]))
    return rows


def _timed(fn, device, warm=2, runs=3) -> float:
    for _ in range(warm):
        fn()
    env.synchronize(device)
    start = time.perf_counter()
    for _ in range(runs):
        fn()
    env.synchronize(device)
    return (time.perf_counter() - start) / runs


def _peak_after(fn, device) -> tuple:
    """(seconds per call, peak GiB): ``fn`` builds a part and returns the call to time."""
    torch.cuda.reset_peak_memory_stats()
    call = fn()
    seconds = _timed(call, device)
    peak = torch.cuda.max_memory_allocated() / 2**30
    gc.collect()
    torch.cuda.empty_cache()
    return seconds, peak


def real_row(name: str, device: str) -> tuple:
    settings = REAL_SETTINGS.get(name, public.entry(name).recommended)
    dtype = torch.float16 if public.entry(name).trained_in == "fp16" else torch.bfloat16
    vae_dtype = torch.float32 if name.startswith("wan") else dtype  # Wan's VAE runs in fp32 (its docs)

    def denoiser_step():
        net = architectures.denoiser(name).to(device, dtype).eval()
        inputs = architectures.denoiser_inputs(name, settings, 2, device, dtype)
        return lambda: net(**inputs, return_dict=False)

    def vae_decode():
        vae = architectures.vae(name).to(device, vae_dtype).eval()
        return lambda: architectures.decode_random(name, vae, settings, device, vae_dtype)

    with torch.no_grad():
        step, den_peak = _peak_after(denoiser_step, device)
        decode, vae_peak = _peak_after(vae_decode, device)
    return name, step, decode, {"denoiser_gib": den_peak, "vae_gib": vae_peak}, settings


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--real", action="store_true", help="real configurations, random weights (needs a GPU)")
    args = parser.parse_args()
    device = env.pick_device()
    print(f"device: {env.device_label(device)}; {env.versions()}")
    if not args.real:
        print("tiny configs (random weights: smoke test only), through each pipeline; 4 steps, 64x64 frames")
        for name, step, decode, peak in tiny_rows(device):
            print(f"  {name:18s} step {step * 1000:7.1f} ms   decode {decode * 1000:7.1f} ms   {peak}")
        return
    if device != "cuda":
        raise SystemExit("--real builds 1.3-2 B parameter denoisers at full settings: it needs a CUDA GPU")
    for name in sorted(public.REGISTRY):
        name, step, decode, peak, s = real_row(name, device)
        ref = H100.get(name)
        beside = (f" | H100 table: {ref[0]:.3f} s/step, decode {ref[1]:.2f} s, {ref[2]:.2f} / {ref[3]:.2f} GiB"
                  if ref else " | not in the H100 table")
        print(f"  {name:18s} {s.width}x{s.height}x{s.num_frames}: {step:.3f} s/step, decode {decode:.2f} s, "
              f"peak {peak['denoiser_gib']:.2f} / {peak['vae_gib']:.2f} GiB{beside}", flush=True)


if __name__ == "__main__":
    main()
