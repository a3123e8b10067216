"""Train the tiny video model with HF Accelerate: the same script on a CPU, one GPU, or many (``accelerate launch``).

    python -m vidlab.train --output runs/tiny --steps 2000 --max-minutes 10

Every step's clips and noise are seeded by the step number, so an interrupted run resumes from its last
checkpoint (``--output`` again) and ends exactly where an uninterrupted run would. Training clips use seeds
from 10,000,000 up, so world seeds below that are held out for evaluation.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import shutil
import time
from pathlib import Path

import numpy as np
import torch
from accelerate import Accelerator
from diffusers import DDIMScheduler, DDPMScheduler

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
    batch_size: int = 32
    steps: int = 1000
    max_minutes: float | None = None  # stop early (and save) after this much training time
    lr: float = 1e-3
    channels: int = 96
    depth: int = 4
    prediction_type: str = "v_prediction"  # or "epsilon", "sample"; epsilon failed to sample here (see notes)
    text: bool = False
    cond_dropout: float = 0.1  # prompt dropped this often, for classifier-free guidance
    checkpoint_every: int = 100
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
    denoiser = VideoDenoiser(channels=cfg.channels, depth=cfg.depth, max_frames=max(64, cfg.num_frames))
    text = TinyTextEncoder(vocab=world.caption_vocabulary(), dim=denoiser.config.cond_dim) if cfg.text else None
    return denoiser, text


def loss_on_batch(denoiser, text_encoder, scheduler, cfg, video, captions, generator):
    """Noise the unknown frames, predict, and return the mean squared error over those frames."""
    b, t = video.shape[:2]
    noise = torch.randn(video.shape, generator=generator)
    steps = torch.randint(0, scheduler.config.num_train_timesteps, (b,), generator=generator)
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
    return (err * (1 - mask)).sum() / (1 - mask).sum()


def _latest_checkpoint(output: Path):
    found = sorted((output / "checkpoints").glob("step_*"))
    return found[-1] if found else None


def train(cfg: TrainConfig, output, on_step=None) -> VidlabPipeline:
    """Train (or resume) into ``output``; returns the pipeline, also saved to ``output/pipeline``.

    ``on_step(step, loss)`` is called after every step (a notebook's live loss plot).
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
    denoiser, text_encoder = build(cfg)
    params = list(denoiser.parameters()) + (list(text_encoder.parameters()) if text_encoder else [])
    optimizer = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=0.0)
    denoiser, optimizer = accelerator.prepare(denoiser, optimizer)
    if text_encoder is not None:
        text_encoder = accelerator.prepare(text_encoder)
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
        optimizer.zero_grad()
        step += 1
        seconds = time.perf_counter() - began
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
    pipe = VidlabPipeline(denoiser=accelerator.unwrap_model(denoiser),
                          # clip_sample: pixels live in [-1, 1]; clipping each x0 estimate made the samples usable
                          scheduler=DDIMScheduler.from_config(scheduler.config, timestep_spacing="trailing",
                                                              clip_sample=True),
                          text_encoder=accelerator.unwrap_model(text_encoder) if text_encoder else None,
                          training_config={**dataclasses.asdict(cfg), "steps_done": step,
                                           "split_params": {k: str(v) for k, v in world.SPLITS[cfg.split].items()}})
    pipe.save_pretrained(output / "pipeline", safe_serialization=True)
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
        if field.name == "scenarios":
            ap.add_argument("--scenarios", nargs="+", default=list(field.default))
        elif field.type in ("bool",) or isinstance(field.default, bool):
            ap.add_argument(f"--{field.name.replace('_', '-')}", action="store_true", default=field.default)
        else:
            kind = float if field.name in ("lr", "fps", "cond_dropout", "max_minutes") else (
                int if isinstance(field.default, int) else str)
            ap.add_argument(f"--{field.name.replace('_', '-')}", type=kind, default=field.default)
    args = vars(ap.parse_args(argv))
    output = args.pop("output")
    args["scenarios"] = tuple(args["scenarios"])
    train(TrainConfig(**args), output)


if __name__ == "__main__":
    main()
