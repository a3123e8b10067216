# ruff: noqa: E702, E501  (kept as it was run)
"""Exploration run on the H100 on 2026-11-23 (exactly this script): where a training step's time goes on a GPU, and
what the batch size, bf16 and torch.compile buy. Clips made once and reused, so no clip is made per step.

    python benchmarks/explore_gpu_step.py   # needs a CUDA GPU
"""
import time

import torch
from diffusers.training_utils import EMAModel
from torch.profiler import ProfilerActivity, profile

from vidlab import train as T

dev = torch.device("cuda")

def setup(cfg, compile_mode=None):
    net, _ = T.build(cfg)
    net = net.to(dev)
    opt = torch.optim.AdamW(net.parameters(), lr=1e-3, weight_decay=0.0, fused=True)
    ema = EMAModel(net.parameters(), decay=0.995)
    ema.to(dev)
    fwd = torch.compile(net, mode=compile_mode) if compile_mode else net
    return net, fwd, opt, ema

def step(cfg, fwd, net, opt, ema, video, sched, gen, dtype):
    with torch.autocast("cuda", dtype=dtype, enabled=dtype is not None):
        loss = T.loss_on_batch(fwd, None, sched, cfg, video, None, gen)
    loss.backward()
    opt.step(); opt.zero_grad(set_to_none=True)
    ema.step(net.parameters())
    return loss

def bench(batch, dtype=None, compile_mode=None, n=30, bank=True):
    cfg = T.TrainConfig(batch_size=batch)
    net, fwd, opt, ema = setup(cfg, compile_mode)
    sched = T.training_scheduler(cfg)
    vids = [T.make_batch(cfg, s, device=dev)[0] for s in range(4)]
    for i in range(5):
        step(cfg, fwd, net, opt, ema, vids[i % 4], sched, T.step_generator(cfg, i), dtype)
    torch.cuda.synchronize(); t0 = time.perf_counter(); tdata = 0
    for i in range(n):
        if bank:
            v = vids[i % 4]
        else:
            a = time.perf_counter(); v = T.make_batch(cfg, i, device=dev)[0]; tdata += time.perf_counter() - a
        step(cfg, fwd, net, opt, ema, v, sched, T.step_generator(cfg, i), dtype)
    torch.cuda.synchronize(); dt = (time.perf_counter() - t0) / n
    with profile(activities=[ProfilerActivity.CUDA, ProfilerActivity.CPU]) as prof:
        t1 = time.perf_counter()
        for i in range(5):
            step(cfg, fwd, net, opt, ema, vids[i % 4], sched, T.step_generator(cfg, i), dtype)
        torch.cuda.synchronize(); wall = time.perf_counter() - t1
    gpu = sum(e.self_device_time_total for e in prof.key_averages()) / 1e6
    print(f"batch {batch:4d} dtype {str(dtype):15s} compile {str(compile_mode):16s} bank {bank}: {1000*dt:7.1f} ms/step "
          f"({batch/dt:7.0f} clips/s), data {1000*tdata/n:6.1f} ms/step, GPU busy {100*gpu/wall:5.1f}%", flush=True)
    return prof

p = bench(16, bank=False)
print(p.key_averages().table(sort_by="self_device_time_total", row_limit=12))
p = bench(16)
print(p.key_averages().table(sort_by="self_cpu_time_total", row_limit=12))
for b in (64, 256):
    bench(b)
    bench(b, torch.bfloat16)
for mode in ("default", "max-autotune-no-cudagraphs", "reduce-overhead"):
    try:
        bench(64, torch.bfloat16, mode); bench(256, torch.bfloat16, mode)
    except Exception as e:
        print(mode, "failed:", repr(e)[:300])
