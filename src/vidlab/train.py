"""Train the tiny video model with HF Accelerate: the same script on a CPU, one GPU, or many (``accelerate launch``).

    python -m vidlab.train --output runs/tiny --steps 2000 --max-minutes 10

Every step's clips and noise are seeded by the step number, so an interrupted run resumes from its last
checkpoint (``--output`` again) and ends exactly where an uninterrupted run would. Training clips use seeds
from 10,000,000 up, so world seeds below that are held out for evaluation.
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import json
import shutil
import sys
import time
from pathlib import Path

import numpy as np
import torch
from accelerate import Accelerator
from diffusers import DDIMScheduler, DDPMScheduler
from diffusers.optimization import get_constant_schedule_with_warmup, get_cosine_schedule_with_warmup
from diffusers.training_utils import EMAModel, compute_snr

from vidlab import env, world
from vidlab.model import TinyTextEncoder, VideoDenoiser
from vidlab.pipeline import VidlabPipeline

TRAIN_SEED_BASE = 10_000_000


@dataclasses.dataclass
class TrainConfig:
    scenarios: tuple = ("projectile",)
    split: str = "id"
    size: int = 32
    num_frames: int = 16
    context_frames: int = 4
    fps: float = 10.0
    batch_size: int = 16
    steps: int = 7000
    max_minutes: float | None = None  # stop early (and save) after this much training time
    lr: float = 1e-3
    lr_schedule: str = "cosine"  # warm up, then decay to zero at ``steps``; or "constant" (diffusers.optimization)
    warmup_steps: int = 50
    channels: int = 32
    mults: tuple = (1, 2, 4)
    depth: int = 1
    temporal: bool = True  # False: no mixing across frames, every frame denoised on its own (notebook 01)
    ema_decay: float = 0.995  # 0 = no EMA; the saved pipeline holds the EMA weights
    high_noise_bias: float = 2.0  # timesteps drawn as 1000 * u ** (1 / bias): 1 = uniform, 2 = density rising with t
    prediction_type: str = "sample"  # the clean clip; or "v_prediction", "epsilon" (benchmarks/train_vs_peers.py)
    snr_gamma: float | None = None  # min-SNR-gamma loss weighting (Hang et al. 2023), e.g. 5; None = unweighted
    text: bool = False
    cond_dropout: float = 0.1  # prompt dropped this often, for classifier-free guidance
    checkpoint_every: int = 100
    snapshot_minutes: tuple = ()  # also save the pipeline after this many minutes (notebook 03's 1, 3, 10 min)
    seed: int = 0


def make_batch(cfg: TrainConfig, step: int):
    """Clips for one step, seeded by the step number: video [B, T, 3, H, W] in [-1, 1] and their captions."""
    clips = []
    for i in range(cfg.batch_size):
        seed = TRAIN_SEED_BASE + (cfg.seed * 1_000_003 + step) * cfg.batch_size + i
        scenario = cfg.scenarios[seed % len(cfg.scenarios)]
        clips.append(world.simulate(scenario, seed, size=cfg.size, num_frames=cfg.num_frames, fps=cfg.fps,
                                    **world.SPLITS[cfg.split]))
    video = torch.from_numpy(np.stack([c.video for c in clips])).permute(0, 1, 4, 2, 3).float() / 127.5 - 1
    return video, [c.caption for c in clips]


def training_scheduler(cfg: TrainConfig) -> DDPMScheduler:
    return DDPMScheduler(num_train_timesteps=1000, beta_schedule="squaredcos_cap_v2",
                         prediction_type=cfg.prediction_type, clip_sample=False)


def build(cfg: TrainConfig):
    denoiser = VideoDenoiser(channels=cfg.channels, mults=tuple(cfg.mults), depth=cfg.depth,
                             max_frames=max(64, cfg.num_frames), temporal=cfg.temporal)
    text = TinyTextEncoder(vocab=world.caption_vocabulary(), dim=denoiser.config.cond_dim) if cfg.text else None
    return denoiser, text


def min_snr_weights(scheduler, steps: torch.Tensor, prediction_type: str, gamma: float) -> torch.Tensor:
    """Min-SNR-gamma loss weight of each clip's timestep (Hang et al. 2023), for the given prediction target.

    The paper weights the noise-prediction loss by min(SNR, gamma) / SNR; the same weighting of the other
    targets' losses is min(SNR, gamma) for the clean clip and min(SNR, gamma) / (SNR + 1) for v. SNR comes
    from diffusers' ``compute_snr``. At high noise (SNR << 1) the clean-clip and v losses are scaled down.
    """
    if gamma <= 0:
        raise ValueError(f"snr_gamma={gamma}: must be positive (5 is the paper's choice), or None for no weighting")
    snr = compute_snr(scheduler, steps).clamp(min=1e-8)
    clipped = snr.clamp(max=gamma)
    weights = {"sample": clipped, "epsilon": clipped / snr, "v_prediction": clipped / (snr + 1)}
    if prediction_type not in weights:
        raise ValueError(f"prediction_type={prediction_type!r}: expected one of {sorted(weights)}")
    return weights[prediction_type]


def loss_on_batch(denoiser, text_encoder, scheduler, cfg, video, captions, generator, steps=None):
    """Noise the unknown frames, predict, and return the mean squared error over those frames.

    ``steps`` [B]: the noise level (timestep) of each clip; random when None, as in training.
    """
    b, t = video.shape[:2]
    noise = torch.randn(video.shape, generator=generator)
    if steps is None:  # uniform, or tilted towards high noise, where the ball's path is decided
        u = torch.rand(b, generator=generator) ** (1 / cfg.high_noise_bias)
        steps = (u * scheduler.config.num_train_timesteps).long().clamp(max=scheduler.config.num_train_timesteps - 1)
    noisy = scheduler.add_noise(video, noise, steps)
    mask = torch.zeros(b, t)
    mask[:, :cfg.context_frames] = 1
    context = video * mask[:, :, None, None, None]
    noisy = torch.where(mask[:, :, None, None, None] > 0, video, noisy)
    emb = None
    if text_encoder is not None:
        drop = torch.rand(b, generator=generator) < cfg.cond_dropout
        emb = text_encoder(captions, drop=drop)
    pred = denoiser(noisy, steps, context, mask, emb)
    target = {"epsilon": noise, "sample": video}.get(cfg.prediction_type)
    if target is None:
        target = scheduler.get_velocity(video, noise, steps)
    err = (pred - target).pow(2).mean(dim=(2, 3, 4))
    if cfg.snr_gamma is not None:
        err = err * min_snr_weights(scheduler, steps, cfg.prediction_type, cfg.snr_gamma)[:, None]
    return (err * (1 - mask)).sum() / (1 - mask).sum()


def step_flops(denoiser, cfg: TrainConfig) -> int:
    """Floating-point operations of one training step (forward and backward), by torch.utils.flop_counter."""
    from torch.utils.flop_counter import FlopCounterMode

    video, captions = make_batch(cfg, 0)
    with FlopCounterMode(display=False) as counter:
        loss = loss_on_batch(denoiser, None, training_scheduler(cfg), cfg, video, captions,
                             torch.Generator().manual_seed(0))
        loss.backward()
    denoiser.zero_grad(set_to_none=True)
    return counter.get_total_flops()


def matmul_peak(size: int = 2048, repeats: int = 5) -> float:
    """This CPU's measured fp32 matmul rate in FLOP/s (best of ``repeats`` products of two size x size matrices)."""
    a, b = torch.randn(size, size), torch.randn(size, size)
    a @ b  # warm up
    best = min(_timed(lambda: a @ b) for _ in range(repeats))
    return 2 * size**3 / best


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def _latest_checkpoint(output: Path):
    found = sorted((output / "checkpoints").glob("step_*"))
    return found[-1] if found else None


def train(cfg: TrainConfig, output, on_step=None, denoiser=None) -> VidlabPipeline:
    """Train (or resume) into ``output``; returns the pipeline, also saved to ``output/pipeline``.

    ``on_step(step, loss)`` is called after every step (a notebook's live loss plot). ``denoiser``: train this
    network instead of the :class:`VideoDenoiser` the config describes (benchmarks/train_vs_peers.py trains
    other libraries' nets this way); it must take the same call, and its pipeline is returned but not saved.
    """
    output = Path(output)
    output.mkdir(parents=True, exist_ok=True)
    saved = output / "config.json"
    if saved.exists() and json.loads(saved.read_text()) != json.loads(json.dumps(dataclasses.asdict(cfg))):
        raise ValueError(f"{output} holds a run with a different config: resume with the same settings "
                         f"(see {saved}) or choose a new --output folder")
    saved.write_text(json.dumps(dataclasses.asdict(cfg), indent=1))
    torch.manual_seed(cfg.seed)
    accelerator = Accelerator(project_dir=str(output))
    if denoiser is not None and cfg.text:
        raise ValueError("a denoiser passed in is trained without prompts: set text=False")
    denoiser, text_encoder = (denoiser, None) if denoiser is not None else build(cfg)
    params = list(denoiser.parameters()) + (list(text_encoder.parameters()) if text_encoder else [])
    optimizer = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=0.0)
    if cfg.lr_schedule not in ("constant", "cosine"):
        raise ValueError(f"lr_schedule={cfg.lr_schedule!r}: expected 'constant' or 'cosine'")
    make_schedule = get_cosine_schedule_with_warmup if cfg.lr_schedule == "cosine" else (
        lambda opt, warmup, total: get_constant_schedule_with_warmup(opt, warmup))
    lr_schedule = make_schedule(optimizer, cfg.warmup_steps, cfg.steps)
    denoiser, optimizer, lr_schedule = accelerator.prepare(denoiser, optimizer, lr_schedule)
    if text_encoder is not None:
        text_encoder = accelerator.prepare(text_encoder)
    ema = EMAModel(params, decay=cfg.ema_decay) if cfg.ema_decay > 0 else None
    if ema is not None:
        accelerator.register_for_checkpointing(ema)
    scheduler = training_scheduler(cfg)
    state_file = output / "state.json"
    start, elapsed = 0, 0.0
    latest = _latest_checkpoint(output)
    if latest is not None:
        accelerator.load_state(str(latest))
        state = json.loads((latest / "vidlab_state.json").read_text())
        start, elapsed = state["step"], state["seconds"]
        print(f"resuming from {latest.name} (step {start}, {elapsed:.0f} s of training so far)")
    log_file = output / "log.jsonl"
    if log_file.exists():  # steps after the last checkpoint are trained again: drop their old lines
        lines = [ln for ln in log_file.read_text().splitlines() if json.loads(ln)["step"] <= start]
        log_file.write_text("".join(ln + "\n" for ln in lines))
    log = open(log_file, "a")
    began = time.perf_counter() - elapsed
    step = start
    while step < cfg.steps:
        video, captions = make_batch(cfg, step)
        generator = torch.Generator().manual_seed(cfg.seed * 1_000_003 + step)
        loss = loss_on_batch(denoiser, text_encoder, scheduler, cfg, video.to(accelerator.device), captions,
                             generator)
        accelerator.backward(loss)
        optimizer.step()
        lr_schedule.step()
        optimizer.zero_grad()
        if ema is not None:
            ema.step(params)
        step += 1
        seconds = time.perf_counter() - began
        for minutes in cfg.snapshot_minutes:  # at the first step past each mark
            if seconds >= 60 * minutes and not _snapshot_dir(output, minutes).exists():
                _export(accelerator, denoiser, text_encoder, ema, params, scheduler, cfg, step, seconds,
                        _snapshot_dir(output, minutes))
        log.write(json.dumps({"step": step, "loss": loss.item(), "seconds": round(seconds, 2)}) + "\n")
        log.flush()  # readable while training runs (live plots, other processes)
        out_of_time = cfg.max_minutes is not None and seconds > 60 * cfg.max_minutes
        if step % cfg.checkpoint_every == 0 or step == cfg.steps or out_of_time:
            _checkpoint(accelerator, output, step, seconds)
        if on_step is not None:
            on_step(step, loss.item())
        if out_of_time:
            break
    log.close()
    state_file.write_text(json.dumps({"step": step, "seconds": round(time.perf_counter() - began, 1),
                                      "machine": env.machine()}, indent=1))
    return _export(accelerator, denoiser, text_encoder, ema, params, scheduler, cfg, step,
                   time.perf_counter() - began, output / "pipeline")


def _snapshot_dir(output: Path, minutes: float) -> Path:
    return output / "snapshots" / f"minutes_{minutes:g}"


def _export(accelerator, denoiser, text_encoder, ema, params, scheduler, cfg, step, seconds, folder) -> VidlabPipeline:
    """Save a pipeline (with the EMA weights, if any) to ``folder`` and return a copy of it."""
    if ema is not None:
        ema.store(params)
        ema.copy_to(params)
    net = accelerator.unwrap_model(denoiser)
    foreign = not isinstance(net, VideoDenoiser)  # another library's net: kept in memory, not saved
    pipe = VidlabPipeline(denoiser=copy.deepcopy(net) if foreign else net,
                          # clip_sample: pixels live in [-1, 1]; clipping each x0 estimate made the samples usable
                          scheduler=DDIMScheduler.from_config(scheduler.config, timestep_spacing="trailing",
                                                              clip_sample=True),
                          text_encoder=accelerator.unwrap_model(text_encoder) if text_encoder else None,
                          training_config={**dataclasses.asdict(cfg), "steps_done": step,
                                           "training_seconds": round(seconds, 1),
                                           "split_params": {k: str(v) for k, v in world.SPLITS[cfg.split].items()}})
    if not foreign:
        pipe.save_pretrained(folder, safe_serialization=True)
        pipe = VidlabPipeline.from_pretrained(folder, use_safetensors=True)  # a copy, so training can go on
    if ema is not None:
        ema.restore(params)
    return pipe


def _checkpoint(accelerator, output: Path, step: int, seconds: float, keep: int = 2):
    folder = output / "checkpoints" / f"step_{step:07d}"
    accelerator.save_state(str(folder), safe_serialization=True)
    (folder / "vidlab_state.json").write_text(json.dumps({"step": step, "seconds": round(seconds, 2)}))
    for old in sorted((output / "checkpoints").glob("step_*"))[:-keep]:
        shutil.rmtree(old)


def main(argv=None):
    ap = argparse.ArgumentParser(description="Train the tiny video model (resumes from --output if present).")
    ap.add_argument("--output", required=True)
    for field in dataclasses.fields(TrainConfig):
        if field.name in ("scenarios", "mults", "snapshot_minutes"):
            kind = str if field.name == "scenarios" else (int if field.name == "mults" else float)
            ap.add_argument(f"--{field.name.replace('_', '-')}", nargs="*", type=kind, default=list(field.default))
        elif field.type in ("bool",) or isinstance(field.default, bool):
            ap.add_argument(f"--{field.name.replace('_', '-')}", action=argparse.BooleanOptionalAction,
                            default=field.default)
        else:
            kind = float if field.name in ("lr", "fps", "cond_dropout", "max_minutes", "ema_decay",
                                           "high_noise_bias", "snr_gamma") else (
                int if isinstance(field.default, int) else str)
            ap.add_argument(f"--{field.name.replace('_', '-')}", type=kind, default=field.default)
    args = vars(ap.parse_args(argv))
    output = args.pop("output")
    Path(output).mkdir(parents=True, exist_ok=True)
    (Path(output) / "command.txt").write_text(" ".join(["python -m vidlab.train", *(argv or sys.argv[1:])]) + "\n")
    for name in ("scenarios", "mults", "snapshot_minutes"):
        args[name] = tuple(args[name])
    train(TrainConfig(**args), output)


if __name__ == "__main__":
    main()
