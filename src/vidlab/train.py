"""Train the tiny video model with HF Accelerate: the same script on a CPU, one GPU, or many (``accelerate launch``).

    python -m vidlab.train --output runs/tiny --steps 2000 --max-minutes 10
    accelerate launch --multi_gpu --num_processes 2 -m vidlab.train --output runs/tiny2 ...   # two GPUs
    torchrun --standalone --nproc_per_node 2 -m vidlab.train --output runs/tiny2 ...          # two CPU processes

Every step's clips and noise are seeded by the step number and the process index, so an interrupted run
resumes from its last checkpoint (``--output`` again) and ends exactly where an uninterrupted run would, on
any device and with any number of processes. Each process draws its own clips: the global batch is
``batch_size`` times the number of processes, and the learning rate follows it (``lr_scaling``). Only the
main process writes logs, records, snapshots and the pipeline. Training clips use seeds from 10,000,000 up,
so world seeds below that are held out for evaluation.
"""

from __future__ import annotations

import argparse
import copy
import dataclasses
import json
import os
import sys
import time
from pathlib import Path
from typing import NamedTuple

import torch
from diffusers.optimization import get_constant_schedule_with_warmup, get_cosine_schedule_with_warmup
from diffusers.training_utils import EMAModel

from vidlab import batches, env, runs, train_cli, world
from vidlab.denoiser import VideoDenoiser
from vidlab.families import FAMILIES
from vidlab.families.unet import (  # noqa: F401  (their home; importable from here as before)
    NOISE_SCHEDULES,
    PixelDiffusion,
    build,
    loss_on_batch,
    min_snr_weights,
    training_scheduler,
)
from vidlab.pipeline import VidlabPipeline
from vidlab.world import ClipSpec

_CLIPS = ClipSpec()  # the clip fields' defaults live in the spec, their one home


@dataclasses.dataclass
class TrainConfig:
    """A training run: which clips it sees (the ``ClipSpec`` fields, flat, so that a saved ``training_config``
    reads back as before), the network, the optimiser and the schedule. ``clip_spec`` gives the spec itself.

    Every field can be set on the command line (``python -m vidlab.train --help``), parsed by its type.
    """

    # the clips (vidlab.world.ClipSpec; one spec field, world_params, stays at its default {} in training)
    scenarios: tuple[str, ...] = _CLIPS.scenarios
    split: str = _CLIPS.split
    size: int = _CLIPS.size
    num_frames: int = _CLIPS.num_frames
    context_frames: int = _CLIPS.context_frames
    fps: float = _CLIPS.fps
    window: str = _CLIPS.window  # "launch": clips from launch; "random": windows of longer simulations
    simulate_frames: int | None = _CLIPS.simulate_frames  # frames simulated per clip for window="random"
    # Noise augmentation of the given frames in training: each clip's given frames get Gaussian noise of a
    # standard deviation drawn from 0 to this (model space, [-1, 1]), so the model learns to continue imperfect
    # frames, as it must past its trained length (conditioning augmentation, as in cascaded diffusion and
    # Stable Video Diffusion's noise_aug_strength). The level is not given to the network, and sampling uses
    # clean given frames. 0: the clean frames.
    context_noise: float = 0.0
    # The model family (each one's nets, loss and saved pipeline: FAMILIES): "unet", the pixel U-Net with DDPM of
    # notebooks 01-05; "vae", the tiny causal video VAE; "latent_dit", a transformer over a trained VAE's latents
    # with flow matching (vidlab.families.latent). The latent ones need 1 + 4k frames (17, 5 of them given).
    family: str = "unet"
    vae_channels: int = 32  # vae: the first level's channels (vidlab.latent.vae.TinyVideoVAE)
    latent_channels: int = 8  # vae: channels per latent
    vae_time_group: int = 4  # vae: frames per latent frame after the first (Wan's 4; 2 keeps more motion)
    kl_weight: float = 1e-4  # vae: weight of the KL term against the pixels' mean squared error
    vae: str | None = None  # latent_dit: the trained VAE's folder (a "vae" run's pipeline/), frozen, saved along
    dit_width: int = 128  # latent_dit: vidlab.latent.dit.SpacetimeDiT's width, depth, heads and patch
    dit_depth: int = 4
    dit_heads: int = 4
    patch: tuple[int, ...] = (1, 2, 2)  # (latent frames, rows, columns) per token
    flow_shift: float = 3.0  # latent_dit: the sigma shift of flow matching (SD3: 3; Wan: 5)
    timestep_density: str = "logit_normal"  # latent_dit: how sigmas are drawn (diffusers' SD3 names)
    loss_weighting: str = "none"  # latent_dit: per-sigma loss weight (diffusers' SD3 names)
    batch_size: int = 16  # per process: the global batch is batch_size x the number of processes
    steps: int = 7000
    max_minutes: float | None = None  # stop early (and save) after this much training time
    lr: float = 1e-3  # for one process; scaled by lr_scaling when several processes share a step
    lr_scaling: str = "sqrt"  # lr x sqrt(processes) (Adam's rule, Malladi et al. 2022), "linear" or "none"
    lr_schedule: str = "cosine"  # warm up, then decay to zero at ``steps``; or "constant" (diffusers.optimization)
    warmup_steps: int = 50
    channels: int = 32
    mults: tuple[int, ...] = (1, 2, 4)
    depth: int = 1
    temporal: bool = True  # False: no mixing across frames, every frame denoised on its own (notebook 01)
    frame_index: bool = False  # True: each frame's position in the clip joins its conditioning (notebook 01)
    given_frames: int = 1  # how many of the last known frames every frame's input carries (notebook 01)
    ema_decay: float = 0.995  # 0 = no EMA; the saved pipeline holds the EMA weights
    # the U-Net's diffusion (family "unet")
    high_noise_bias: float = 2.0  # timesteps drawn as 1000 * u ** (1 / bias): 1 = uniform, 2 = density rising with t
    prediction_type: str = "sample"  # the clean clip; or "v_prediction", "epsilon" (benchmarks/train_vs_peers.py)
    noise_schedule: str = "cosine"  # a key of NOISE_SCHEDULES; the saved pipeline's sampler inherits it
    snr_gamma: float | None = None  # min-SNR-gamma loss weighting (Hang et al. 2023), e.g. 5; None = unweighted
    text: bool = False
    cond_dropout: float = 0.1  # prompt dropped this often, for classifier-free guidance
    clip_pool: int = 0  # 0: fresh clips every step; N: every clip drawn from N clips made once (vidlab.batches)
    checkpoint_every: int = 100
    snapshot_minutes: tuple[float, ...] = ()  # also save the pipeline after this many minutes (notebook 03's 1, 3, 10)
    snapshot_steps: tuple[int, ...] = ()  # and after this many steps: the same on every machine (snapshot_step_dir)
    seed: int = 0

    @property
    def clip_spec(self) -> ClipSpec:
        """The clips this run trains on, and a model of it is evaluated on (``vidlab.world.ClipSpec``)."""
        return ClipSpec.from_dict(dataclasses.asdict(self))

    @classmethod
    def from_dict(cls, config: dict) -> TrainConfig:
        """The config of a saved run: a pipeline's ``training_config`` or a run's ``config.json``. Keys that are
        not fields (the run's record: ``steps_done``, ``machine``...) are left out; fields saved before they
        existed take their defaults; lists become the tuples they were."""
        fields = {f.name: f for f in dataclasses.fields(cls)}
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in config.items() if k in fields})


def make_batch(cfg: TrainConfig, step: int, process_index: int = 0, num_processes: int = 1, device=None):
    """Fresh clips for one step of one process (:func:`vidlab.batches.fresh_batch`): video [B, T, 3, H, W] in
    [-1, 1] on ``device``, and their captions, rendered by ``cfg.clip_spec``. Seeded by the step and the process
    index (:func:`vidlab.batches.clip_seeds`)."""
    return batches.fresh_batch(cfg, step, process_index, num_processes, device)


def step_generator(cfg: TrainConfig, step: int, process_index: int = 0, num_processes: int = 1):
    """The CPU generator of one step's noise and timesteps: the same draws whatever device trains."""
    return torch.Generator().manual_seed(batches.draw_seed(cfg, step, process_index, num_processes))


def scaled_lr(cfg: TrainConfig, num_processes: int) -> float:
    """The learning rate for ``num_processes`` processes, each with a batch of ``cfg.batch_size``."""
    factor = {"none": 1.0, "sqrt": num_processes ** 0.5, "linear": float(num_processes)}.get(cfg.lr_scaling)
    if factor is None:
        raise ValueError(f"lr_scaling={cfg.lr_scaling!r}: expected 'sqrt', 'linear' or 'none'")
    return cfg.lr * factor


def step_flops(denoiser, cfg: TrainConfig) -> int:
    """Floating-point operations of one training step (forward and backward), by torch.utils.flop_counter.

    ``denoiser``: the network ``cfg``'s family trains (the U-Net, the VAE or the transformer); the latent
    transformer's step includes its frozen VAE's encoding. The batch is made on the device of its weights.
    """
    from torch.utils.flop_counter import FlopCounterMode

    device = next(denoiser.parameters()).device
    video, captions = make_batch(cfg, 0, device=device)
    family = family_of(dataclasses.replace(cfg, text=False), device)
    with FlopCounterMode(display=False) as counter:
        loss = family.loss(denoiser, None, video, captions, torch.Generator().manual_seed(0))
        loss.backward()
    denoiser.zero_grad(set_to_none=True)
    return counter.get_total_flops()


def family_of(cfg: TrainConfig, device=None):
    """The family ``cfg`` trains (:data:`FAMILIES`), set up on ``device``; a clear error for an unknown name."""
    if cfg.family not in FAMILIES:
        raise ValueError(f"family={cfg.family!r}: expected one of {sorted(FAMILIES)}")
    return FAMILIES[cfg.family](cfg, device or "cpu")


class Nets(NamedTuple):
    """What one training step updates: the nets, their family (loss and pipeline), optimizer, learning rate, EMA."""

    denoiser: torch.nn.Module
    text_encoder: torch.nn.Module | None
    family: object
    optimizer: torch.optim.Optimizer
    lr_schedule: object
    ema: EMAModel | None
    params: list


def make_optimizer(params, lr: float, device) -> torch.optim.AdamW:
    """AdamW with its fused kernel (one pass over all weights) where torch has one: CPU and CUDA."""
    fused = torch.device(device).type in ("cpu", "cuda")
    return torch.optim.AdamW(params, lr=lr, weight_decay=0.0, fused=fused or None, foreach=None if fused else True)


def train_step(accelerator, nets: Nets, cfg: TrainConfig, video, captions, generator) -> torch.Tensor:
    """One optimisation step; returns the loss (not synchronised). Each phase is named for torch.profiler."""
    from torch.profiler import record_function

    with record_function("forward and loss"):
        loss = nets.family.loss(nets.denoiser, nets.text_encoder, video, captions, generator)
    with record_function("backward"):
        accelerator.backward(loss)  # gradients are averaged over the processes
    with record_function("optimizer"):
        nets.optimizer.step()
        nets.lr_schedule.step()
        nets.optimizer.zero_grad(set_to_none=True)
    if nets.ema is not None:
        with record_function("ema"):
            nets.ema.step(nets.params)
    return loss.detach()


SYNC_EVERY_ON_GPU = 10  # steps queued on a GPU between two reads of the loss (each read waits for the GPU)


def _sync_now(accelerator, cfg: TrainConfig, step: int) -> bool:
    """Read the losses now? Every step on a CPU (free there); every few steps on a GPU, and at checkpoints."""
    return (accelerator.device.type != "cuda" or step % SYNC_EVERY_ON_GPU == 0 or step % cfg.checkpoint_every == 0
            or step == cfg.steps or step in cfg.snapshot_steps)


def train(cfg: TrainConfig, output, on_step=None, denoiser=None, device=None) -> VidlabPipeline | None:
    """Train (or resume) into ``output``; returns the pipeline on the training device, saved to ``output/pipeline``.

    ``device``: "cpu", "cuda", "mps", or None for :func:`vidlab.env.pick_device`'s choice (under torchrun or
    ``accelerate launch``, each process's own device). ``on_step(step, loss)`` is called for every step with
    this process's loss (a notebook's live loss plot; on a GPU in bursts of 10 steps, when the losses are
    read). ``denoiser``: train this network instead of the :class:`VideoDenoiser` the config describes
    (benchmarks/train_vs_peers.py trains other libraries' nets this way); it must take the same call, and its
    pipeline is returned but not saved. With several processes, only the main one returns the pipeline; the
    others return None.
    """
    # 1. Accelerate on the chosen device and precision, and the run's folder
    cfg.clip_spec  # noqa: B018  (checks the clip fields: a bad window or length fails before a folder is made)
    family_of(cfg)  # and the family's settings (the noise schedule, the frame counts, the VAE it needs)
    accelerator = runs.accelerator_for(output, device)
    output = runs.prepare_output(cfg, output, accelerator.is_main_process)
    run = _run_record(accelerator, cfg)
    torch.manual_seed(cfg.seed)
    # 2. the nets, the optimizer, the learning-rate schedule and the EMA weights, all on the device
    if denoiser is not None and (cfg.text or cfg.family != "unet"):
        raise ValueError("a denoiser passed in is trained as the U-Net is, without prompts: set text=False and "
                         "family='unet'")
    family = family_of(cfg, accelerator.device)
    denoiser, text_encoder = (denoiser, None) if denoiser is not None else family.nets()
    params = list(denoiser.parameters()) + (list(text_encoder.parameters()) if text_encoder else [])
    optimizer = make_optimizer(params, run["lr_used"], accelerator.device)
    lr_schedule = _lr_schedule(cfg, optimizer)
    denoiser, optimizer, lr_schedule = accelerator.prepare(denoiser, optimizer, lr_schedule)
    if text_encoder is not None:
        text_encoder = accelerator.prepare(text_encoder)
    # foreach: one multi-tensor update for all weights instead of one small kernel per tensor
    ema = EMAModel(params, decay=cfg.ema_decay, foreach=True) if cfg.ema_decay > 0 else None
    if ema is not None:
        accelerator.register_for_checkpointing(ema)
    nets = Nets(denoiser, text_encoder, family, optimizer, lr_schedule, ema, params)
    # 3. resume from the last checkpoint, whatever device and number of processes wrote it; the clips' source
    start, elapsed = runs.resume(accelerator, output, ema, optimizer, lr_schedule, run["lr_used"])
    rank, world_size = accelerator.process_index, accelerator.num_processes
    began = time.perf_counter() - elapsed
    pool = batches.ClipPool(cfg, accelerator.device) if cfg.clip_pool else None  # its making counts as training
    # 4. the loop: each process draws its own clips; the main process writes
    log = runs.open_log(output / "log.jsonl", start) if accelerator.is_main_process else None
    step, pending = start, []
    while step < cfg.steps:
        video, captions = (pool.batch(step, rank, world_size) if pool is not None
                           else make_batch(cfg, step, rank, world_size, accelerator.device))
        pending.append(train_step(accelerator, nets, cfg, video, captions, step_generator(cfg, step, rank, world_size)))
        step += 1
        if not _sync_now(accelerator, cfg, step):
            continue  # on a GPU, let the CPU queue the next steps while this one runs
        seconds = time.perf_counter() - began
        per_step, out_of_time = runs.agree(accelerator, pending, cfg.max_minutes is not None
                                           and seconds > 60 * cfg.max_minutes)
        first, pending = step - len(per_step) + 1, []
        if log is not None:
            for minutes in cfg.snapshot_minutes:  # at the first step past each mark
                if seconds >= 60 * minutes and not runs.snapshot_dir(output, minutes).exists():
                    _export(accelerator, nets, cfg, run, step, seconds, runs.snapshot_dir(output, minutes))
            if step in cfg.snapshot_steps:  # exactly there (a GPU reads the losses at these steps too)
                _export(accelerator, nets, cfg, run, step, seconds, snapshot_step_dir(output, step))
            for i, losses in enumerate(per_step):
                line = {"step": first + i, "loss": sum(losses) / len(losses), "seconds": round(seconds, 2)}
                log.write(json.dumps(line if len(losses) == 1 else {**line, "process_losses": losses}) + "\n")
            log.flush()  # readable while training runs (live plots, other processes)
        if step % cfg.checkpoint_every == 0 or step == cfg.steps or out_of_time:
            runs.checkpoint(accelerator, output, step, seconds)
        if on_step is not None:
            for i, losses in enumerate(per_step):
                on_step(first + i, losses[rank])
        if out_of_time:
            break
    # 5. the record and the pipeline, by the main process
    accelerator.wait_for_everyone()
    if log is None:
        return None
    log.close()
    seconds = time.perf_counter() - began
    runs.write_json(output / "state.json", {"step": step, "seconds": round(seconds, 1), **run})
    return _export(accelerator, nets, cfg, run, step, seconds, output / "pipeline")


def step_timing(cfg: TrainConfig, device=None, trial_steps: int = 30, denoiser=None) -> tuple[float, float]:
    """Seconds per training step of ``cfg`` here, and seconds of start-up (the clip pool, the first steps).

    Times ``trial_steps`` steps of a throwaway run with the same settings (a smaller clip pool, scaled up), on
    ``device``; ``denoiser``: time a copy of this net instead of the config's. The figures are for this machine
    as loaded now: time on a CPU that nothing else uses.
    """
    import tempfile

    trial_pool = min(cfg.clip_pool, 32 * cfg.batch_size)
    trial = dataclasses.replace(cfg, steps=trial_steps, max_minutes=None, snapshot_minutes=(), snapshot_steps=(),
                                checkpoint_every=10 ** 9, clip_pool=trial_pool)
    with tempfile.TemporaryDirectory() as folder:
        train(trial, folder, device=device, denoiser=copy.deepcopy(denoiser) if denoiser is not None else None)
        log = (Path(folder) / "log.jsonl").read_text().splitlines()
        seconds = {r["step"]: r["seconds"] for r in map(json.loads, log)}
    per_step = (seconds[trial_steps] - seconds[10]) / (trial_steps - 10)  # steps 10 and 30 are read on every device
    start_up = seconds[10] - 10 * per_step  # the trial's pool and the first, slower steps
    if cfg.clip_pool > trial_pool:  # the rest of the pool, made by batches.pool_workers processes
        began = time.perf_counter()
        batches.simulate(cfg, batches.clip_seeds(cfg, 0))
        per_clip = (time.perf_counter() - began) / cfg.batch_size
        start_up += (cfg.clip_pool - trial_pool) * per_clip / batches.pool_workers(cfg.clip_pool)
    return per_step, start_up


def steps_for_minutes(cfg: TrainConfig, minutes: float, device=None, trial_steps: int = 30, denoiser=None) -> int:
    """How many steps of ``cfg`` fit in ``minutes`` here (:func:`step_timing`), so that the learning-rate
    schedule ends with the time. The result is for this machine: a slower one stops at ``max_minutes`` first."""
    return planned_steps(minutes, *step_timing(cfg, device, trial_steps, denoiser))


def planned_steps(minutes: float, per_step: float, start_up: float) -> int:
    """The steps that fill ``minutes`` after ``start_up`` seconds, at ``per_step`` seconds each, with 3% spare."""
    return max(1, int(0.97 * (60 * minutes - start_up) / per_step))


def fit_to_minutes(cfg: TrainConfig, minutes: float, output, device=None) -> TrainConfig:
    """``cfg`` with as many steps as fit in ``minutes`` here (:func:`steps_for_minutes`) and ``max_minutes`` set.

    A run already begun in ``output`` keeps the steps it was planned with, so that when it resumes its
    learning-rate schedule still ends where it was planned to.
    """
    saved = Path(output) / "config.json"
    if saved.exists():
        planned = json.loads(saved.read_text())
        return dataclasses.replace(cfg, steps=planned["steps"], max_minutes=planned["max_minutes"])
    return dataclasses.replace(cfg, steps=steps_for_minutes(cfg, minutes, device), max_minutes=minutes)


def snapshot_step_dir(output, step: int) -> Path:
    """Where a run saves its pipeline after ``step`` steps (``snapshot_steps``); beside the minutes' snapshots."""
    return Path(output) / "snapshots" / f"steps_{step}"


def _run_record(accelerator, cfg: TrainConfig) -> dict:
    """What this run adds to its config: processes, global batch, learning rate used, and the machine."""
    n = accelerator.num_processes
    return {"num_processes": n, "global_batch": cfg.batch_size * n, "lr_used": scaled_lr(cfg, n),
            "machine": env.machine(accelerator.device)}


def _lr_schedule(cfg: TrainConfig, optimizer):
    if cfg.lr_schedule not in ("constant", "cosine"):
        raise ValueError(f"lr_schedule={cfg.lr_schedule!r}: expected 'constant' or 'cosine'")
    if cfg.lr_schedule == "cosine":
        return get_cosine_schedule_with_warmup(optimizer, cfg.warmup_steps, cfg.steps)
    return get_constant_schedule_with_warmup(optimizer, cfg.warmup_steps)


def _export(accelerator, nets: Nets, cfg, run, step, seconds, folder):
    """Save the family's pipeline (with the EMA weights, if any) to ``folder``; return a copy of it on the
    training device (the U-Net's and the transformer's: a pipeline; the VAE's: the VAE)."""
    if nets.ema is not None:
        nets.ema.store(nets.params)
        nets.ema.copy_to(nets.params)
    net = accelerator.unwrap_model(nets.denoiser)
    foreign = cfg.family == "unet" and not isinstance(net, VideoDenoiser)  # another library's net: not saved
    text_encoder = accelerator.unwrap_model(nets.text_encoder) if nets.text_encoder else None
    config = {**dataclasses.asdict(cfg), "steps_done": step, "training_seconds": round(seconds, 1),
              "split_params": {k: str(v) for k, v in world.SPLITS[cfg.split].items()}, **run}
    pipe = nets.family.pipeline(copy.deepcopy(net) if foreign else net, text_encoder, config)
    if not foreign:
        pipe.save_pretrained(folder, safe_serialization=True)
        # a copy, so training can go on; the foreign net's copy is already on the device
        pipe = nets.family.load(folder).to(accelerator.device)
    if nets.ema is not None:
        nets.ema.restore(nets.params)
    return pipe


# ------------------------------------------------------------------------------------- the command line
def parse_args(argv=None) -> tuple[TrainConfig, dict]:
    """The command line as a TrainConfig, and the options that are not config fields (output, device,
    fit_minutes)."""
    ap = argparse.ArgumentParser(description="Train the tiny video model (resumes from --output if present).")
    ap.add_argument("--output", required=True)
    ap.add_argument("--device", default=None, help="cpu, cuda or mps; default: cuda, then mps, then cpu")
    ap.add_argument("--fit-minutes", type=float, default=None,
                    help="set --steps to what fits in this many minutes here (timed first), and stop then")
    train_cli.config_arguments(ap, TrainConfig)
    args = vars(ap.parse_args(argv))
    run = {name: args.pop(name) for name in ("output", "device", "fit_minutes")}
    return TrainConfig(**{k: tuple(v) if isinstance(v, list) else v for k, v in args.items()}), run


def main(argv=None):
    try:
        cfg, run = parse_args(argv)
    except ValueError as err:  # a config that cannot be (a ClipSpec check, say): say which and how to fix it
        sys.exit(f"vidlab.train: {err}")
    output, device, fit_minutes = run["output"], run["device"], run["fit_minutes"]
    Path(output).mkdir(parents=True, exist_ok=True)
    if int(os.environ.get("RANK", "0")) == 0:  # the main process of torchrun or accelerate launch, or the only one
        processes = int(os.environ.get("WORLD_SIZE", "1"))
        launched = f"  # in each of {processes} processes (torchrun or accelerate launch)" if processes > 1 else ""
        command = " ".join(["python -m vidlab.train", *(argv or sys.argv[1:])])
        (Path(output) / "command.txt").write_text(command + launched + "\n")
    try:
        if fit_minutes is not None:  # a resumed run keeps the steps it was planned with
            cfg = fit_to_minutes(cfg, fit_minutes, output, device)
            print(f"vidlab.train: {cfg.steps} steps planned for {fit_minutes:g} minutes here", flush=True)
        train(cfg, output, device=device)
    except ValueError as err:  # bad settings: say which and how to fix them, without a traceback
        sys.exit(f"vidlab.train: {err}")


if __name__ == "__main__":
    main()
