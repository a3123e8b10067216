"""What one denoising step and one VAE decode cost, for every public model in the registry.

    python benchmarks/public_models_cost.py          # tiny configs through the real pipelines (any device)
    python benchmarks/public_models_cost.py --real   # the real configurations, random weights (a GPU)
    python benchmarks/public_models_cost.py --check  # the real configurations at 64x64 on a CPU: shapes only

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
    ref = architectures.H100_MEASURED.get(name)
    settings = ref["settings"] if ref else public.entry(name).recommended
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


def check_rows() -> None:
    """Build every real configuration on the CPU and run one step and one decode at 64 x 64: the --real code path,
    checked where no GPU is (about 8 GB of RAM and 2-3 minutes on 2 cores)."""
    for name in sorted(public.REGISTRY):
        frames = {"cogvideox-2b": 49, "ltx-video": 9, "wan2.1-t2v-1.3b": 9}.get(name, 4)
        s = public.Settings(64, 64, frames, 1, 1.0, 8)
        start = time.perf_counter()
        with torch.no_grad():
            out = architectures.denoiser(name).eval()(**architectures.denoiser_inputs(name, s), return_dict=False)[0]
            video = architectures.decode_random(name, architectures.vae(name).eval(), s)
        gc.collect()
        print(f"  {name:18s} denoiser out {tuple(out.shape)}, decoded {tuple(video.shape)}, "
              f"{time.perf_counter() - start:.0f} s", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--real", action="store_true", help="real configurations, random weights (needs a GPU)")
    parser.add_argument("--check", action="store_true", help="real configurations at 64x64 on the CPU: shapes")
    args = parser.parse_args()
    device = env.pick_device()
    print(f"device: {env.device_label(device)}; {env.versions()}")
    if args.check:
        return check_rows()
    if not args.real:
        print("tiny configs (random weights: smoke test only), through each pipeline; 4 steps, 64x64 frames")
        for name, step, decode, peak in tiny_rows(device):
            print(f"  {name:18s} step {step * 1000:7.1f} ms   decode {decode * 1000:7.1f} ms   {peak}")
        return
    if device != "cuda":
        raise SystemExit("--real builds 1.3-2 B parameter denoisers at full settings: it needs a CUDA GPU")
    for name in sorted(public.REGISTRY):
        name, step, decode, peak, s = real_row(name, device)
        ref = architectures.H100_MEASURED.get(name)
        beside = (f" | H100 table: {ref['step_s']:.3f} s/step, decode {ref['decode_s']:.2f} s, "
                  f"{ref['peak_gib'][0]:.2f} / {ref['peak_gib'][1]:.2f} GiB" if ref else " | not in the H100 table")
        print(f"  {name:18s} {s.width}x{s.height}x{s.num_frames}: {step:.3f} s/step, decode {decode:.2f} s, "
              f"peak {peak['denoiser_gib']:.2f} / {peak['vae_gib']:.2f} GiB{beside}", flush=True)


if __name__ == "__main__":
    main()
