"""The models the experiments train: each trained once, kept, shared between experiments, and resumable.

A model is named by its training config and time budget, so two experiments that ask for the same one
(the in-distribution projectile model of seed 0, say) get the same files. Training uses the 10-minute
recipe of notebook 03 (``train.fit_to_minutes``: as many steps as fit in the budget here, the learning
rate ending with them) and resumes from its last checkpoint if a session ended in the middle.

A budget of ``minutes=None`` names the model by its config's step count instead (``..._3561steps_...``):
the same model on every machine, since a minute buys 3 times more steps on one day than on another
(code review M5). The newer experiments (:func:`by_steps`) ask for models this way.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path

from vidlab import env, runs, train
from vidlab.pipeline import load_pretrained

# Models are large and machine-made: kept out of the repository, in the checkout's runs/ whatever the working
# folder (a notebook's is notebooks/), so a notebook and the command line share one zoo.
ZOO = env.workspace() / "runs" / "zoo"


# Config fields added after models were named: left out of the hash while at their default, so every model
# named before keeps its name (and the records that cite it stay true).
LATER_FIELDS = {"context_noise": 0.0, "frame_index": False, "given_frames": 1, "window": "launch",
                "simulate_frames": None, "noise_schedule": "cosine", "snapshot_steps": (), "family": "unet",
                "vae_channels": 32, "latent_channels": 8, "vae_time_group": 4, "kl_weight": 1e-4, "vae": None,
                "dit_width": 128, "dit_depth": 4, "dit_heads": 4, "patch": (1, 2, 2), "flow_shift": 3.0,
                "timestep_density": "logit_normal", "loss_weighting": "none"}


class NotTrained(ValueError):
    """A model that an experiment run with ``trained_only`` needs and the zoo does not hold (yet)."""


def require_trained(folder: Path) -> None:
    """Raise :class:`NotTrained` unless ``folder`` holds a finished model (its ``state.json`` and pipeline)."""
    folder = Path(folder)
    if not ((folder / "state.json").exists() and (folder / "pipeline").exists()):
        raise NotTrained(f"the model {folder.name} is not trained yet, and trained_only was asked: train it "
                         f"(--train) or leave --trained-only out; the rows measured so far are kept")


def model_name(cfg: train.TrainConfig, minutes: float | None) -> str:
    """A readable, unique folder name: the split, pool and seed, then a hash of the whole config and budget.

    ``minutes=None``: the model is its config's ``steps`` (in the hash, and in the name: ``_3561steps_``)."""
    named = {k: v for k, v in dataclasses.asdict(cfg).items() if LATER_FIELDS.get(k, object()) != v}
    budget = {} if minutes is None else {"minutes": minutes}
    fields = json.dumps({**named, **budget}, sort_keys=True, default=list)
    digest = hashlib.sha1(fields.encode()).hexdigest()[:8]
    scenarios, length = "+".join(cfg.scenarios), f"{cfg.steps}steps" if minutes is None else f"{minutes:g}min"
    return f"{scenarios}_{cfg.split}_pool{cfg.clip_pool}_seed{cfg.seed}_{length}_{digest}"


def trained(cfg: train.TrainConfig, minutes: float | None, root=ZOO, device=None, fast: bool = False,
            steps: int | None = None):
    """The pipeline of ``cfg`` trained for ``minutes`` here: loaded if it is done, else trained (or resumed).

    ``fast``: a smoke test of the code path; 3 steps instead of a timed budget. ``steps``: train this many
    steps instead of as many as fit in ``minutes`` here: the same recipe on another machine (a GPU, say),
    when ``steps`` is what ``minutes`` give on the machine the recipe was made for. The model keeps its name
    (the recipe's), and its ``state.json`` says where and how long it trained. ``minutes=None``: exactly
    ``cfg.steps`` steps, wherever it trains (``steps``, if given, must agree).
    """
    folder = Path(root) / model_name(cfg, minutes)
    if (folder / "state.json").exists() and (folder / "pipeline").exists():
        return load(cfg, folder / "pipeline", device)
    if fast:
        cfg = dataclasses.replace(cfg, steps=3, checkpoint_every=10 ** 6)
    elif minutes is None:
        if steps is not None and steps != cfg.steps:
            raise ValueError(f"steps={steps}: the model {folder.name} is named by its {cfg.steps} steps; "
                             f"leave --steps out or pass --steps {cfg.steps}")
    elif steps is not None and not (folder / "config.json").exists():
        cfg = dataclasses.replace(cfg, steps=steps, max_minutes=None)
    else:
        cfg = train.fit_to_minutes(cfg, minutes, folder, device)  # a begun run keeps its planned steps
    return train.train(cfg, folder, device=device)


def load(cfg: train.TrainConfig, folder: Path, device=None):
    """A trained model of ``cfg``'s family from its pipeline ``folder``: a pipeline, or for ``family="vae"`` the
    VAE itself, on ``device`` (env's choice when None)."""
    if cfg.family == "vae":
        return train.FAMILIES["vae"].load(folder).to(env.resolve_device(device))
    return load_pretrained(folder, device=device)


def by_steps(ctx, cfg: train.TrainConfig, at: int | None = None):
    """For an experiment's ``ctx``: the pipeline of ``cfg`` trained for exactly ``cfg.steps`` steps (named by
    them; trained now if the zoo lacks it, resumable), or, with ``at``, the one saved after ``at`` steps of
    that run (``cfg.snapshot_steps`` holds ``at``). Declare such models as ``(cfg, None)`` for ``--train``."""
    folder = ctx.zoo / model_name(cfg, None)
    ctx.used.append(folder)
    if ctx.trained_only:
        require_trained(folder)
    pipe = trained(cfg, None, ctx.zoo, ctx.device, fast=ctx.mode.fast, steps=ctx.steps)
    if at is None:
        return pipe
    snap = train.snapshot_step_dir(folder, at)
    if not snap.exists():
        raise ValueError(f"no snapshot after {at} steps in {folder}: train with snapshot_steps including {at} "
                         f"(this config has {cfg.snapshot_steps})")
    return load_pretrained(snap, device=ctx.device)


def train_only(cfg, minutes, root=ZOO, device=None, fast: bool = False, steps: int | None = None) -> None:
    """:func:`trained` in a worker process, returning nothing (a pipeline need not travel back)."""
    trained(cfg, minutes, root, device, fast, steps)


def snapshot(cfg: train.TrainConfig, minutes: float, at: float, root=ZOO, device=None):
    """The pipeline saved after ``at`` minutes of training ``cfg`` (``cfg.snapshot_minutes`` holds ``at``)."""
    folder = runs.snapshot_dir(Path(root) / model_name(cfg, minutes), at)
    if not folder.exists():
        raise ValueError(f"no snapshot after {at:g} minutes in {folder.parent}: train with snapshot_minutes "
                         f"including {at:g} (this config has {cfg.snapshot_minutes})")
    return load_pretrained(folder, device=device)
