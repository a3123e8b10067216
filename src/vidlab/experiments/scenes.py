"""The harder scenes: object permanence (occlusion), momentum (collision), and what prompts and guidance do.

One model per training seed learns the three scenes (collision, occlusion, table), prompted by their
captions (``text=True``). One prompted model rather than one per scene: prompted models are what public
video generators are, it lets guidance be measured, and the caption still names the scene, so every
failure stays attributable to its scene. Each clip is continued from its first 4 frames with its own
caption as the prompt.
"""

from __future__ import annotations

import numpy as np

from vidlab import evaluate, probes
from vidlab.experiments import stats
from vidlab.experiments.core import each_seed, experiment
from vidlab.experiments.failures import KINDS, classify, compact, rates_by

SCENES = ("collision", "occlusion", "table")
GUIDANCE = (1.0, 2.0, 4.0)
SCENE_MODELS = each_seed("scene_minutes", scenarios=SCENES, text=True)  # what scene_model trains, per seed


def scene_model(ctx, seed: int):
    """The prompted model of the three scenes for one training seed (the mode's scene minutes)."""
    return ctx.model(ctx.config(seed=seed, scenarios=SCENES, text=True), ctx.mode.scene_minutes)


def scene_clips(pipe, scenario: str, n: int) -> list:
    """``n`` held-out clips of one scene, rendered as the model was trained (``pipe``: or its training config)."""
    training_config = pipe if isinstance(pipe, dict) else pipe.training_config
    return evaluate.held_out({**training_config, "scenarios": (scenario,)}, n)


def reemergence(video, clip, k: int) -> dict | None:
    """Where the ball comes out from behind the occluder: the frames from its hiding (under half in view) to
    its first frame wholly in view again, whether a ball is seen there, its distance (px) from the true
    centre, and the step error (px) over the next frame. (A ball partly behind the wall is measured off
    centre by the probes, so the first whole frame is used.) None when the ball is not hidden and back in
    full view within the generated frames."""
    visible, whole = clip.visible[:, 0], clip.visible_fraction[:, 0] > 0.999
    first_hidden = next((t for t in range(k, len(visible)) if not visible[t]), None)
    back = next((t for t in range(first_hidden or len(visible), len(visible)) if whole[t]), None)
    if first_hidden is None or back is None:
        return None
    report = probes.physics_report(video, clip.fps)
    seen = [tr for tr in report.tracks if tr.present[back]]  # any track: the probes may split one ball in two
    offsets = [np.linalg.norm(tr.centers[back] - clip.centers[back, 0]) for tr in seen]
    nearest = seen[int(np.argmin(offsets))] if seen else None
    step = float("nan")
    if nearest is not None and back + 1 < len(visible) and nearest.present[back + 1] and whole[back + 1]:
        step = float(np.linalg.norm(np.diff(nearest.centers[back:back + 2], axis=0)
                                    - np.diff(clip.centers[back:back + 2, 0], axis=0)))
    return {"seed": clip.seed, "hidden_frames": back - first_hidden, "reappeared": nearest is not None,
            "error_px": float(min(offsets)) if offsets else float("inf"), "step_error_px": step}


def collision_change(report: probes.PhysicsReport) -> dict:
    """Momentum change and energy ratio of the first collision in the probes' report (NaN if none is found)."""
    first = report.collisions[0] if report.collisions else None
    return {"found": first is not None, "momentum_change": first.momentum_change if first else float("nan"),
            "energy_ratio": first.energy_ratio if first else float("nan")}


def momentum(video, clip) -> dict:
    """A collision clip's generated collision beside the truth's, both measured by the probes."""
    met = any(not c.with_wall for c in clip.contacts)
    report = probes.physics_report(video, clip.fps)
    return {"seed": clip.seed, "true_collision": met, "model": collision_change(report),
            "truth": collision_change(probes.physics_report(clip.video, clip.fps)),
            "interpenetration": any(e.kind == "interpenetration" for e in report.events)}


def measure_each_seed(ctx, scenario: str, measure) -> None:
    """Per training seed not yet done: the scene model continues held-out clips of ``scenario`` (prompted by
    their captions), and ``measure(video, clip, k)`` reads each one (None: the clip does not count)."""
    for seed in ctx.mode.seeds:
        if ctx.results.done(seed=seed):
            continue
        pipe = scene_model(ctx, seed)
        clips = scene_clips(pipe, scenario, ctx.mode.clips)
        videos = evaluate.continue_clips(pipe, clips, ctx.mode.sampling_steps, with_captions=True)
        k = pipe.training_config["context_frames"]
        per_clip = [r for v, c in zip(videos, clips, strict=True) if (r := measure(v, c, k)) is not None]
        ctx.results.add({"seed": seed, "per_clip": per_clip})


@experiment("object_permanence", models=SCENE_MODELS)
def object_permanence(ctx) -> dict:
    """Occlusion: does the ball come out from behind the wall at the right time and place, and speed?"""
    measure_each_seed(ctx, "occlusion", reemergence)
    by_seed = [r["per_clip"] for r in sorted(ctx.results.rows(), key=lambda r: r["seed"])]
    by_hidden = {}
    for frames in sorted({c["hidden_frames"] for clips in by_seed for c in clips}):
        groups = [g for g in ([c for c in clips if c["hidden_frames"] == frames] for clips in by_seed) if g]
        by_hidden[str(frames)] = {"reappeared": stats.cluster_rate([[c["reappeared"] for c in g] for g in groups]),
                                  "error_px": stats.cluster_median([[c["error_px"] for c in g] for g in groups]),
                                  "step_error_px": stats.cluster_median([[c["step_error_px"] for c in g]
                                                                         for g in groups])}
    return {"clips": sum(map(len, by_seed)),
            "reappeared": stats.cluster_rate([[c["reappeared"] for c in clips] for clips in by_seed]),
            "error_px": stats.cluster_median([[c["error_px"] for c in clips] for clips in by_seed]),
            "by_hidden_frames": by_hidden}


@experiment("momentum", models=SCENE_MODELS)
def momentum_experiment(ctx) -> dict:
    """Collision: is momentum conserved, and kinetic energy (the collisions are elastic)?"""
    measure_each_seed(ctx, "collision", lambda video, clip, k: momentum(video, clip))
    met = [[c for c in r["per_clip"] if c["true_collision"]] for r in sorted(ctx.results.rows(),
                                                                               key=lambda r: r["seed"])]
    who_measured = ("model", "truth")
    return {"clips_with_a_collision": sum(map(len, met)),
            **{f"{who}_collision_found": stats.cluster_rate([[c[who]["found"] for c in m] for m in met])
               for who in who_measured},
            **{f"{who}_{key}": stats.cluster_median([[c[who][key] for c in m] for m in met])
               for who in who_measured for key in ("momentum_change", "energy_ratio")},
            "interpenetration": stats.cluster_rate([[c["interpenetration"] for c in m] for m in met])}


@experiment("guidance", models=SCENE_MODELS)
def guidance(ctx) -> dict:
    """Failure rates and centre error of the prompted scene model at guidance scales 1, 2 and 4, per scene."""
    for seed in ctx.mode.seeds:
        pipe = None
        for scale in GUIDANCE:
            for scenario in SCENES:
                if ctx.results.done(seed=seed, guidance=scale, scene=scenario):
                    continue
                pipe = pipe or scene_model(ctx, seed)
                clips = scene_clips(pipe, scenario, max(2, ctx.mode.clips // 2))
                videos = evaluate.continue_clips(pipe, clips, ctx.mode.sampling_steps, with_captions=True,
                                                 guidance_scale=scale)
                per_clip = classify(videos, clips, pipe.training_config["context_frames"])
                ctx.results.add({"seed": seed, "guidance": scale, "scene": scenario, "kinds": list(KINDS),
                                 "per_clip": compact(per_clip)})
    add_probe_floor(ctx)
    return rates_by(ctx.results.rows(), ("scene", "guidance"), reference={"guidance": 1.0})


def add_probe_floor(ctx) -> None:
    """Per scene, a row of the probes' failures on the true clips themselves (``"guidance": "truth"``): their
    false alarms (a ball rolling along the table, say, is no free fall for the gravity fit)."""
    for scenario in SCENES:
        if ctx.results.done(seed="truth", scene=scenario):
            continue
        settings = ctx.clip_settings(scenarios=SCENES, text=True)
        clips = scene_clips(settings, scenario, max(2, ctx.mode.clips // 2))
        per_clip = classify([c.video for c in clips], clips, settings["context_frames"])
        ctx.results.add({"seed": "truth", "guidance": "truth", "scene": scenario, "kinds": list(KINDS),
                             "per_clip": compact(per_clip)})

