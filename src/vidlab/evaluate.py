"""Evaluate a video model on held-out clips it never saw: the one home of the evaluation loop.

    rows = evaluate.evaluate(pipe, n_clips=64)          # the model beside the physics-free baselines
    print(evaluate.table(rows))                         # one table format for notebooks, benchmarks, notes
    evaluate.meets_bar(rows["model"])                   # the quality bar, as named data

The contract: give it a pipeline (or generated videos) and get its metrics on held-out clips. Held-out
clips use world seeds below :data:`vidlab.world.TRAIN_SEED_BASE`, which training never draws, rendered by
the clip specification the pipeline was trained with (:class:`vidlab.world.ClipSpec`).
"""

from __future__ import annotations

import numpy as np
import torch

from vidlab import check, probes, world

# The tiny model's quality bar (issue 3): metric -> (comparison, threshold).
QUALITY_BAR = {"correct_count": (">=", 0.98), "center_error_px": ("<=", 1.0), "gravity_rel_error": ("<=", 0.10),
               "radius_cv": ("<=", 0.05)}
COLUMNS = {"correct_count": ("right count", "{:.3f}"), "center_error_px": ("centre error", "{:.2f} px"),
           "gravity_rel_error": ("gravity error", "{:.1%}"), "radius_cv": ("radius CV", "{:.3f}")}


# ------------------------------------------------------------------------------------------ held-out sets
def held_out(spec, n_clips: int, first_seed: int = 0, **changes) -> list:
    """``n_clips`` world clips the model never trained on, rendered as it was trained.

    ``spec``: the model's :class:`vidlab.world.ClipSpec`, its training config (a ``TrainConfig``), or a
    pipeline's ``training_config`` dict (read by ``ClipSpec.from_dict``: old pipelines too). Seeds
    ``first_seed`` .. ``first_seed + n_clips - 1``, all below the training seeds. ``changes`` override the
    spec (``ClipSpec.replace``): a world parameter (``speed_range=world.OOD_SPEED``: clips out of the training
    distribution) or a field (``num_frames=64``).
    """
    if first_seed + n_clips > world.TRAIN_SEED_BASE:
        raise ValueError(f"seeds up to {first_seed + n_clips - 1} reach the training seeds "
                         f"({world.TRAIN_SEED_BASE:,} and up): use fewer clips or a lower first_seed")
    return world.ClipSpec.of(spec).replace(**changes).clips(range(first_seed, first_seed + n_clips))


# ---------------------------------------------------------------------------------- physics-free baselines
def copy_last_frame(clip: world.Clip, context_frames: int) -> np.ndarray:
    """Physics-free baseline: repeat the last context frame for the rest of the clip."""
    video = clip.video.copy()
    video[context_frames:] = video[context_frames - 1]
    return video


def constant_velocity(clip: world.Clip, context_frames: int) -> np.ndarray:
    """Physics-free baseline: move each ball on at its last context-frame velocity, no gravity, no contacts."""
    c = clip.centers[:context_frames]
    step = c[-1] - c[-2]
    ahead = np.arange(1, len(clip.centers) - context_frames + 1)[:, None, None]
    centers = np.concatenate([c, c[-1] + ahead * step])
    return world.rerender(clip, centers=centers).video


BASELINES = {"copy last frame": copy_last_frame, "constant velocity": constant_velocity}


# --------------------------------------------------------------------------------- generating and measuring
def continue_clips(pipe, clips, num_inference_steps: int = 25, batch_size: int = 16, seed: int = 0,
                   with_captions: bool = False, guidance_scale: float = 1.0) -> list:
    """Generate the continuation of each world clip from its first k frames; uint8 videos, context included.

    Runs on the pipeline's device (``load_pretrained`` and ``train`` put it on env's choice). Batch i is
    seeded with a CPU generator at ``seed + i``, so the same call gives the same videos on any device.
    ``with_captions``: prompt a model trained with prompts by each clip's own caption, at ``guidance_scale``.
    """
    k = pipe.training_config["context_frames"]
    videos = []
    for i in range(0, len(clips), batch_size):
        part = clips[i:i + batch_size]
        out = pipe(context=np.stack([c.video[:k] for c in part]), num_frames=len(part[0].video),
                   prompt=[c.caption for c in part] if with_captions else None, guidance_scale=guidance_scale,
                   num_inference_steps=num_inference_steps, generator=torch.Generator().manual_seed(seed + i),
                   progress=False)
        videos += list((out.frames * 255).round().astype(np.uint8))
    return videos


def clip_measures(video, clip: world.Clip, context_frames: int, report=None) -> dict:
    """The raw measurements of one generated continuation against its truth (the probes read the frames;
    ``report``: their report on ``video``, when already made).

    Over the generated frames: ``count_ok`` (bool per frame: the true number of balls seen), ``center_errors``
    (px, per ball and frame it is visible; inf where the probes found no matching ball), ``velocity_errors``
    (px per frame: the generated frame-to-frame step against the true one, per ball, where the ball is seen
    in both frames), ``radius_cv`` (per ball seen at least twice), and ``gravity_rel_error`` (None for a
    clip without gravity; inf when the probes could not fit it).
    """
    report = report or probes.physics_report(video, clip.fps)
    gen = slice(context_frames, None)
    out = {"count_ok": report.objects_per_frame[gen] == clip.visible[gen].sum(1), "center_errors": [],
           "velocity_errors": [], "radius_cv": [], "gravity_rel_error": None}
    for j, tr in enumerate(check.match_tracks(clip, report)):
        seen = clip.visible[gen, j]
        if tr is None:
            out["center_errors"].append(np.full(seen.sum(), np.inf))
            continue
        err = np.linalg.norm(tr.centers[gen] - clip.centers[gen, j], axis=1)[seen]
        out["center_errors"].append(np.where(np.isnan(err), np.inf, err))
        both = clip.visible[context_frames - 1:, j]
        both = both[1:] & both[:-1] & tr.present[context_frames:] & tr.present[context_frames - 1:-1]
        step_gen, step_true = (np.diff(c[context_frames - 1:], axis=0) for c in (tr.centers, clip.centers[:, j]))
        out["velocity_errors"].append(np.linalg.norm(step_gen - step_true, axis=1)[both])
        radii = tr.radii[gen][seen & tr.present[gen]]
        if len(radii) >= 2:
            out["radius_cv"].append(float(np.std(radii) / np.mean(radii)))
    for key in ("center_errors", "velocity_errors"):
        out[key] = np.concatenate(out[key]) if out[key] else np.zeros(0)
    if clip.gravity_px_s2:
        g = report.gravity_px_s2
        out["gravity_rel_error"] = abs(g / clip.gravity_px_s2 - 1) if g is not None else np.inf
    return out


def median(values) -> float:
    """The median, or NaN for no values (where numpy would warn)."""
    return float(np.median(values)) if len(values) else float("nan")


def video_metrics(videos, clips, context_frames: int) -> dict:
    """Physics of generated continuations against the truth, measured by the probes on the generated frames.

    ``videos``: one generated clip per ground-truth clip (uint8 or [0, 1] float, the context frames included).
    Returns the fraction of generated frames holding exactly the true number of balls, the median centre
    error (px) over generated frames, the median relative error of fitted gravity (clips with gravity), the
    median radius coefficient of variation, and the median velocity error (px per frame; see
    :func:`clip_measures`). A ball the probes cannot match counts as infinitely far off, so a median can be inf.
    """
    return _pooled([clip_measures(v, c, context_frames) for v, c in zip(videos, clips, strict=True)])


def per_clip_metrics(videos, clips, context_frames: int) -> list:
    """:func:`video_metrics`' figures for each clip on its own (for intervals and correlations over clips)."""
    return [_one_clip(clip_measures(v, c, context_frames), c) for v, c in zip(videos, clips, strict=True)]


def metrics_with_clips(videos, clips, context_frames: int) -> dict:
    """:func:`video_metrics`, plus ``"per_clip"``: each metric's value per clip (a list per metric, rounded),
    from one reading of each clip by the probes."""
    measures = [clip_measures(v, c, context_frames) for v, c in zip(videos, clips, strict=True)]
    rows = [_one_clip(m, c) for m, c in zip(measures, clips, strict=True)]
    return {**_pooled(measures), "per_clip": {key: [round(r[key], 5) for r in rows] for key in rows[0] if key != "seed"}
            if rows else {}}


def _pooled(measures: list) -> dict:
    gravity = [m["gravity_rel_error"] for m in measures if m["gravity_rel_error"] is not None]
    return {"clips": len(measures),
            "correct_count": float(np.mean(np.concatenate([m["count_ok"] for m in measures]))),
            "center_error_px": median(np.concatenate([m["center_errors"] for m in measures])),
            "gravity_rel_error": median(gravity),
            "radius_cv": median([cv for m in measures for cv in m["radius_cv"]]),
            "velocity_error_px": median(np.concatenate([m["velocity_errors"] for m in measures]))}


def _one_clip(m: dict, clip: world.Clip) -> dict:
    gravity = m["gravity_rel_error"]
    return {"seed": clip.seed, "correct_count": float(np.mean(m["count_ok"])),
            "center_error_px": median(m["center_errors"]),
            "gravity_rel_error": float("nan") if gravity is None else float(gravity),
            "radius_cv": median(m["radius_cv"]), "velocity_error_px": median(m["velocity_errors"])}


def meets_bar(metrics: dict, bar: dict = QUALITY_BAR) -> dict:
    """For each metric of ``bar``, whether ``metrics`` meets it (NaN never does)."""
    return {key: bool(metrics[key] >= v if op == ">=" else metrics[key] <= v) for key, (op, v) in bar.items()}


def evaluate(pipe, clips=None, n_clips: int = 64, num_inference_steps: int = 25, baselines: bool = True) -> dict:
    """The model's metrics on held-out clips, and the baselines' on the same clips: {row name: metrics}.

    ``clips`` default to :func:`held_out` of the pipeline's training config.
    """
    k = pipe.training_config["context_frames"]
    clips = clips if clips is not None else held_out(pipe.training_config, n_clips)
    rows = {"model": video_metrics(continue_clips(pipe, clips, num_inference_steps), clips, k)}
    if baselines:
        rows.update(baseline_rows(clips, k))
    return rows


def baseline_rows(clips, context_frames: int) -> dict:
    """The physics-free baselines' metrics on ``clips``: {baseline name: metrics}."""
    return {name: video_metrics([make(c, context_frames) for c in clips], clips, context_frames)
            for name, make in BASELINES.items()}


def table(rows: dict, extra: dict | None = None) -> str:
    """Rows of metrics as a markdown table; ``extra`` adds columns: {column name: {row name: text}}."""
    extra = extra or {}
    head = ["", *extra, *(label for label, _ in COLUMNS.values())]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name, m in rows.items():
        cells = [extra[col].get(name, "-") for col in extra]
        cells += [fmt.format(m[key]) if key in m else "-" for key, (_, fmt) in COLUMNS.items()]
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
