"""Memorisation: does a generated motion follow the true physics, or the nearest training clip?

Kang et al. 2024 found that video models generalise "case by case": a generation resembles the training
example closest to its prompt more than it follows the physics. Here, for each held-out clip, the training
clip nearest to it is found two ways: by the pixels of the context frames (what the model sees), and by
the initial state (position, velocity, radius: what decides the motion). The generated motion (the ball's
displacement from the last context frame) is then compared with the true motion and with that training
clip's motion. A model that copies cases is closer to the retrieved clip; one that extrapolates is closer
to the truth. Models trained on a small and on the full training set are compared.
"""

from __future__ import annotations

import numpy as np
import torch

from vidlab import batches, check, evaluate, probes, world
from vidlab.experiments import stats
from vidlab.experiments.core import experiment
from vidlab.experiments.ood import pool_sizes


def training_set(cfg) -> dict:
    """The clips of a model's training pool, simulated again: context pixels, initial states, ball centres."""
    clips = [world.simulate(cfg.scenarios[s % len(cfg.scenarios)], s, size=cfg.size, num_frames=cfg.num_frames,
                            fps=cfg.fps, **world.SPLITS[cfg.split]) for s in batches.pool_seeds(cfg)]
    return {"context": context_pixels(clips, cfg.context_frames), "state": states(clips),
            "centers": np.stack([c.centers[:, 0] for c in clips])}


def context_pixels(clips, k: int) -> torch.Tensor:
    return torch.from_numpy(np.stack([c.video[:k] for c in clips]).reshape(len(clips), -1).astype(np.float32))


def states(clips) -> np.ndarray:
    """Initial (x, y, vx, vy, radius) of each clip's first ball, world units."""
    return np.array([[*b["pos"], *b["vel"], b["radius"]] for b in (c.params["init"][0] for c in clips)])


def nearest(queries, table) -> np.ndarray:
    """Index of the nearest row of ``table`` for each query (Euclidean), in chunks to bound memory."""
    q, t = torch.as_tensor(queries, dtype=torch.float32), torch.as_tensor(table, dtype=torch.float32)
    return np.concatenate([torch.cdist(q[i:i + 64], t).argmin(1).numpy() for i in range(0, len(q), 64)])


def motion(centers: np.ndarray, k: int) -> np.ndarray:
    """Displacement of a ball from the last context frame, for every later frame: [T - k, 2] px."""
    return centers[k:] - centers[k - 1]


def compare(videos, clips, train_set: dict, k: int) -> list:
    """Per clip: the generated motion's mean distance (px) to the true motion and to each retrieved clip's."""
    spread = train_set["state"].std(0) + 1e-9  # states compared in units of the training set's spread
    by_pixels = nearest(context_pixels(clips, k), train_set["context"])
    by_state = nearest(states(clips) / spread, train_set["state"] / spread)
    rows = []
    for i, (video, clip) in enumerate(zip(videos, clips, strict=True)):
        track = check.match_tracks(clip, probes.physics_report(video, clip.fps))[0]
        gen = motion(track.centers, k) if track is not None else np.full((len(clip.video) - k, 2), np.nan)
        truth = motion(clip.centers[:, 0], k)
        gap = {name: float(np.nanmean(np.linalg.norm(gen - other, axis=1)))
               if np.isfinite(gen).any() else float("nan")
               for name, other in (("to_truth", truth),
                                   ("to_nearest_by_pixels", motion(train_set["centers"][by_pixels[i]], k)),
                                   ("to_nearest_by_state", motion(train_set["centers"][by_state[i]], k)))}
        retrieved_off = float(np.mean(np.linalg.norm(motion(train_set["centers"][by_pixels[i]], k) - truth, axis=1)))
        rows.append({"seed": clip.seed, **gap, "nearest_by_pixels_to_truth": retrieved_off})
    return rows


def memorisation_models(ctx) -> list:
    sizes = pool_sizes(ctx.mode)
    return [(ctx.config(seed=seed, clip_pool=pool), ctx.mode.train_minutes)
            for pool in (sizes[0], sizes[-1]) for seed in ctx.mode.seeds]


@experiment("memorisation", models=memorisation_models)
def memorisation(ctx) -> dict:
    """Is a generated motion closer to the true one or to the nearest training clip's (small and full sets)?"""
    sizes = pool_sizes(ctx.mode)
    for pool in (sizes[0], sizes[-1]):
        for seed in ctx.mode.seeds:
            if ctx.results.done(pool=pool, seed=seed):
                continue
            # 1. the model and its training set; 2. its continuations of held-out clips; 3. the comparison
            cfg = ctx.config(seed=seed, clip_pool=pool)
            pipe = ctx.model(cfg)
            clips = evaluate.held_out(pipe.training_config, ctx.mode.clips)
            videos = evaluate.continue_clips(pipe, clips, ctx.mode.sampling_steps)
            per_clip = compare(videos, clips, training_set(cfg), cfg.context_frames)
            ctx.results.add({"pool": pool, "seed": seed, "per_clip": per_clip,
                             **{f"closer_to_nearest_by_{way}": sum(r[f"to_nearest_by_{way}"] < r["to_truth"]
                                                                   for r in per_clip)
                                for way in ("pixels", "state")},
                             "judged": int(sum(np.isfinite(r["to_truth"]) for r in per_clip))})
    return summarize(ctx.results.rows())


def summarize(rows: list) -> dict:
    """Per training-set size: the share of judged clips whose motion is closer to a retrieved clip than to the
    truth, and the median distances (px) to each (over seeds, then clips; per seed)."""
    summary = {}
    for pool in sorted({r["pool"] for r in rows}):
        part = sorted((r for r in rows if r["pool"] == pool), key=lambda r: r["seed"])
        judged = [[c for c in r["per_clip"] if np.isfinite(c["to_truth"])] for r in part]
        summary[str(pool)] = {
            **{f"closer_to_nearest_by_{way}": stats.cluster_rate([[c[f"to_nearest_by_{way}"] < c["to_truth"]
                                                                   for c in clips] for clips in judged])
               for way in ("pixels", "state")},
            **{key: stats.cluster_median([[c[key] for c in r["per_clip"]] for r in part])
               for key in ("to_truth", "to_nearest_by_pixels", "to_nearest_by_state", "nearest_by_pixels_to_truth")}}
    return summary
