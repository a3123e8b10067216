"""Where a training step's time goes, and what each speed lever buys, measured side by side in one run.

1. Profile: one step of the given recipe under torch.profiler, its time by kind of operation (convolutions,
   matrix products, attention, norms, element-wise, optimizer, EMA, making clips) and by phase; on a GPU also
   how busy the GPU was (kernel time over wall time).
2. Levers: each on its own against the baseline, then combined. The variants are timed in interleaved rounds
   (this machine is shared and noisy), and the median is reported. Throughput is in model FLOPs (torch's flop
   counter, in fp32 terms) per second, next to the fp32 and bf16 matmul peaks measured in the same run.

    python benchmarks/train_levers.py [--device cpu] [--rounds 5] [--steps 8] [--compile]
"""

import argparse
import contextlib
import copy
import statistics
import sys
import time
from pathlib import Path

import torch
from diffusers.training_utils import EMAModel
from torch.profiler import ProfilerActivity, profile

sys.path.insert(0, str(Path(__file__).parent))
from _common import record  # noqa: E402

from vidlab import batches, env, train  # noqa: E402
from vidlab.denoiser import VideoDenoiser  # noqa: E402

KINDS = {  # profiler op names -> kind, first match wins
    "attention": ("attention", "softmax", "bmm"), "convolution backward": ("convolution_backward",),
    "convolution": ("conv",), "matrix product": ("mm", "linear"),
    "norm": ("norm",), "optimizer": ("adam", "optimizer"), "copy and cast": ("copy", "aten::to", "cat", "pixel_"),
}
LEVERS = {
    "baseline (fp32, fresh clips, per-tensor EMA)": dict(),
    "bf16 autocast": dict(bf16=True),
    "channels-last": dict(channels_last=True),
    "fused AdamW + foreach EMA": dict(fused=True),
    "EMA every 4th step": dict(ema_every=4),
    "clip pool (no clips made per step)": dict(pool=True),
    "batch 32": dict(batch=32),
    "2 attention heads": dict(heads=2),
    "combined: bf16 + fused + pool": dict(bf16=True, fused=True, pool=True),
    "combined + bf16 weights (fp32 master copy)": dict(bf16=True, fused=True, pool=True, bf16_weights=True),
}


class MasterCopy:
    """Train a bf16 copy of the net while the optimizer keeps fp32 master weights (no per-layer weight casts).

    ``step``: the bf16 gradients are copied into the master weights' gradients, the optimizer steps, and the
    new master weights are copied back into the bf16 net. Duck-types the two optimizer calls train_step makes.
    """

    def __init__(self, optimizer, master, work):
        self.optimizer, self.master, self.work = optimizer, master, work

    def step(self):
        torch._foreach_copy_([p.grad for p in self.master], [w.grad for w in self.work])
        self.optimizer.step()
        with torch.no_grad():
            torch._foreach_copy_(self.work, self.master)

    def zero_grad(self, set_to_none=True):
        for w in self.work:
            w.grad = None


class NoAccelerator:
    """What train_step needs from Accelerate, for one process: ``backward``."""

    @staticmethod
    def backward(loss):
        loss.backward()


def setup(device, batch=16, bf16=False, channels_last=False, fused=False, ema_every=1, pool=False, heads=4,
          compile=False, bf16_weights=False):
    """The nets and a step function for one variant of the shipped recipe."""
    cfg = train.TrainConfig(batch_size=batch, clip_pool=4 * batch if pool else 0)
    net = VideoDenoiser(channels=cfg.channels, mults=cfg.mults, depth=cfg.depth, heads=heads).to(device)
    if channels_last:
        net = net.to(memory_format=torch.channels_last)
    params = list(net.parameters())
    optimizer = (train.make_optimizer(params, cfg.lr, device) if fused
                 else torch.optim.AdamW(params, lr=cfg.lr, weight_decay=0.0))
    ema = EMAModel(params, decay=cfg.ema_decay, foreach=fused)
    ema.to(device)
    lr_schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: 1.0)
    if bf16_weights:
        work = copy.deepcopy(net).to(torch.bfloat16)
        for p in params:
            p.grad = torch.zeros_like(p)
        net, optimizer = work, MasterCopy(optimizer, params, list(work.parameters()))
    nets = train.Nets(torch.compile(net) if compile else net, None, train.PixelDiffusion(cfg), optimizer,
                      lr_schedule, ema, params)
    source = batches.ClipPool(cfg, device, workers=1) if pool else None
    autocast = (lambda: torch.autocast(device.type, dtype=torch.bfloat16)) if bf16 else contextlib.nullcontext

    def step(i):
        with torch.profiler.record_function("making clips"):
            video, _ = source.batch(i) if source else train.make_batch(cfg, i, device=device)
        with autocast():
            return train.train_step(NoAccelerator(), nets._replace(ema=ema if i % ema_every == 0 else None), cfg,
                                    video, None, train.step_generator(cfg, i))
    return step, cfg


def kind_of(name: str) -> str:
    low = name.lower()
    return next((kind for kind, keys in KINDS.items() if any(k in low for k in keys)), "element-wise and other")


def profile_step(device, steps=5, batch=16, pool=False) -> dict:
    """Self time by kind of op and by phase, per step; and on a GPU the fraction of wall time it was busy."""
    step, _ = setup(device, batch=batch, bf16=env.precision(device).name == "bf16", fused=True, pool=pool)
    for i in range(3):
        step(i)
    activities = [ProfilerActivity.CPU] + ([ProfilerActivity.CUDA] if device.type == "cuda" else [])
    with profile(activities=activities) as prof:
        began = time.perf_counter()
        for i in range(steps):
            step(i).item()
        wall = time.perf_counter() - began
    by_kind, phases = {}, {}
    for e in prof.key_averages():
        if e.key in ("forward and loss", "backward", "optimizer", "ema", "making clips"):
            # on a GPU the profiler also lists each named range as a GPU annotation: its time is not a kernel's
            phases[e.key] = max(phases.get(e.key, 0.0), e.cpu_time_total / 1e3 / steps)
        elif not e.key.startswith(("ProfilerStep", "cuda", "Optimizer.")):  # GPU: kernel time; CPU: op time
            own = e.self_device_time_total if device.type == "cuda" else e.self_cpu_time_total
            by_kind[kind_of(e.key)] = by_kind.get(kind_of(e.key), 0) + own / 1e3 / steps
    wall_ms = 1e3 * wall / steps
    return {"wall_ms_per_step": wall_ms, "cpu_ms_by_kind": by_kind, "ms_by_phase": phases,
            "gpu_busy": sum(by_kind.values()) / wall_ms if device.type == "cuda" else None}


def time_levers(device, rounds, steps, with_compile) -> dict:
    levers = dict(LEVERS, **({"torch.compile": dict(compile=True)} if with_compile else {}))
    variants = {name: setup(device, **kw) for name, kw in levers.items()}
    for step, _ in variants.values():  # warm-up (and compilation)
        for i in range(3):
            step(i)
    times = {name: [] for name in variants}
    for _ in range(rounds):
        for name, (step, _) in variants.items():
            env.synchronize(device)
            began = time.perf_counter()
            for i in range(steps):
                step(i)
            env.synchronize(device)
            times[name].append((time.perf_counter() - began) / steps)
    return {name: (statistics.median(t), variants[name][1].batch_size) for name, t in times.items()}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--device", default=None)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--steps", type=int, default=8)
    ap.add_argument("--compile", action="store_true", help="also time torch.compile (a minute or more to compile)")
    ap.add_argument("--profile-batches", type=int, nargs="*", default=[16],
                    help="profile these batch sizes (the first one with fresh clips, as the shipped recipe trains)")
    ap.add_argument("--profile-only", action="store_true")
    args = ap.parse_args()
    device = env.resolve_device(args.device)
    print(f"device: {env.device_label(device)}; torch threads: {torch.get_num_threads()}; "
          f"precision env chooses: {env.precision(device).name}")
    for batch in args.profile_batches[1:]:  # larger batches from a clip pool: how busy does the GPU get?
        extra = profile_step(device, batch=batch, pool=True)
        busy = f", GPU busy {100 * extra['gpu_busy']:.0f}%" if extra["gpu_busy"] is not None else ""
        print(f"batch {batch} from a clip pool: {extra['wall_ms_per_step']:.1f} ms per step, "
              f"{batch / extra['wall_ms_per_step'] * 1e3:.0f} clips/s{busy}")
    prof = profile_step(device, batch=args.profile_batches[0])
    where = "GPU kernel" if device.type == "cuda" else "CPU"
    print(f"\n1. profile of one step ({prof['wall_ms_per_step']:.0f} ms wall; {where} time by kind of operation)")
    print("| kind of operation | ms per step | share |\n|---|---|---|")
    total = sum(prof["cpu_ms_by_kind"].values())
    for kind, ms in sorted(prof["cpu_ms_by_kind"].items(), key=lambda kv: -kv[1]):
        print(f"| {kind} | {ms:.1f} | {100 * ms / total:.0f}% |")
    print("phases (ms per step, inclusive):", ", ".join(f"{k} {v:.1f}" for k, v in prof["ms_by_phase"].items()))
    if prof["gpu_busy"] is not None:
        print(f"GPU busy: {100 * prof['gpu_busy']:.0f}% of the wall time")
    if args.profile_only:
        return
    flops = train.step_flops(VideoDenoiser(channels=32, mults=(1, 2, 4), depth=1).to(device), train.TrainConfig())
    peaks = {name: env.matmul_peak(device, dtype=env.torch_dtype(name)) for name in ("fp32", "bf16")}
    print(f"\n2. levers ({args.rounds} interleaved rounds of {args.steps} steps; median); one step of batch 16 is "
          f"{flops / 1e9:.1f} GFLOP; matmul peak here: fp32 {peaks['fp32'] / 1e9:.0f}, bf16 {peaks['bf16'] / 1e9:.0f}"
          " GFLOP/s")
    print("| lever | ms per step | clips/s | model GFLOP/s | vs baseline |\n|---|---|---|---|---|")
    results = time_levers(device, args.rounds, args.steps, args.compile)
    base = results[next(iter(LEVERS))]
    for name, (seconds, batch) in results.items():
        rate = batch / seconds
        print(f"| {name} | {1e3 * seconds:.0f} | {rate:.0f} | {flops * batch / 16 / seconds / 1e9:.0f} | "
              f"{rate / (base[1] / base[0]):.2f}x |")
    record("train_levers", {"device": env.device_label(device), "profile": prof, "step_gflop": flops / 1e9,
                            "peaks_gflops": {k: v / 1e9 for k, v in peaks.items()},
                            "levers": {k: {"seconds_per_step": s, "batch": b} for k, (s, b) in results.items()}})


if __name__ == "__main__":
    main()
