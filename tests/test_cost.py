"""vidlab.cost: token counts against real latent shapes, the H100 curve against its own measurements, and the
cost model's arithmetic."""

from pathlib import Path

import numpy as np
import pytest
import torch

from vidlab import cost, public
from vidlab.cost import figures
from vidlab.public import architectures

NAMES = sorted(public.REGISTRY)
# Where the frame, height and width sit in each pipeline's latents (LTX packs them into tokens).
LATENT_AXES = {"wan2.1-t2v-1.3b": (2, 3, 4), "modelscope-1.7b": (2, 3, 4), "animatediff-sd1.5": (2, 3, 4),
               "cogvideox-2b": (1, 3, 4), "svd-xt": (1, 3, 4)}


@pytest.mark.parametrize("name", NAMES)
def test_token_counts_match_the_latents_of_the_tiny_pipelines(name):
    model = public.load(name, tiny=True)
    s = model.settings
    image = np.zeros((32, 32, 3)) if name == "svd-xt" else None
    shape = public.generate(model, prompt=None if image is not None else "a ball", image=image).record["latent_shape"]
    grid = cost.arithmetic.pipeline_latent_grid(model.pipe, s.width, s.height, s.num_frames)
    tokens = cost.pipeline_tokens(model.pipe, s.width, s.height, s.num_frames)
    if name == "ltx-video":  # packed: [batch, tokens, channels]
        assert shape[1] == tokens == int(np.prod(grid))
    else:
        assert tuple(shape[i] for i in LATENT_AXES[name]) == grid


@pytest.mark.parametrize("name", NAMES)
def test_the_real_shape_facts_follow_the_real_configurations(name):
    with torch.device("meta"):
        vae = architectures.vae(name)
    c = vae.config
    if name == "wan2.1-t2v-1.3b":
        spatial, temporal = c.scale_factor_spatial * 2, c.scale_factor_temporal  # patch (1, 2, 2)
    elif name == "ltx-video":
        spatial, temporal = vae.spatial_compression_ratio, vae.temporal_compression_ratio  # patch 1
    elif name == "cogvideox-2b":
        spatial, temporal = 2 ** (len(c.block_out_channels) - 1) * 2, c.temporal_compression_ratio  # patch 2
    else:
        spatial, temporal = 2 ** (len(c.block_out_channels) - 1), 1
    assert (cost.ARCH[name].side, cost.ARCH[name].temporal) == (spatial, temporal)


def test_the_h100_curve_returns_its_own_measurements():
    # references: 832x480x81 (32,760 tokens) 1.256 s per step for the 1.3B; 1280x720x81 (75,600) 24.883 for the 14B
    assert cost.model.wan_clip_tokens(832, 480, 5, 16) == 32760
    assert cost.h100_step_seconds("wan2.1-t2v-1.3b", 32760) == pytest.approx(1.256, rel=0.01)
    assert cost.h100_step_seconds("wan2.1-t2v-14b", 75600) == pytest.approx(24.883, rel=0.02)
    with pytest.raises(ValueError, match="measured for"):
        cost.h100_step_seconds("ltx-video", 1000)


def test_frame_counts_cover_the_duration_in_the_vae_s_steps():
    assert cost.frames_for(5, 16) == 81 and cost.frames_for(15, 24) == 361 and cost.frames_for(1, 1) == 1
    with pytest.raises(ValueError, match="seconds=0"):
        cost.frames_for(0, 24)


def test_the_cost_of_a_shot_is_compute_times_price_times_rerolls():
    shot = cost.Shot(gpu_seconds=1800, dollars_per_gpu_hour=3.0, rerolls=4, gpus=8)
    assert shot.dollars == pytest.approx(6.0) and shot.wall_seconds == pytest.approx(900)
    assert shot.energy_kwh(700) == pytest.approx(1.4)
    assert cost.takes_for(100, 10, 0.10) == pytest.approx(100)


def test_a_film_is_its_clips():
    film = cost.film(90, 5, 1920, 1088, 24)
    assert film.clips == 1080 and film.tokens_per_clip == 252960  # 31 latent frames x 68 x 120
    per_clip = cost.clip_gpu_seconds("wan2.1-t2v-1.3b", 1920, 1088, 5, 24)
    assert film.gpu_hours == pytest.approx(1080 * per_clip / 3600)
    assert film.cost(3.0, rerolls=2) == pytest.approx(film.gpu_hours * 6.0)


def test_every_figure_names_its_source():
    cited = [*figures.GPU_HOUR.values(), *figures.API_PER_SECOND.values(), *figures.PUBLISHED_CLIP_SECONDS.values()]
    cited += [v for spec in figures.GPU_SPECS.values() for v in spec.values()] + list(figures.STOCK_CLIP.values())
    assert all(c.source and c.unit and c.kind in {"primary", "secondary", "measured", "estimate"} for c in cited)
    assert str(figures.GPU_HOUR["H100"]).startswith("2.49-4.76 $/GPU-hour")
    assert set(figures.BLACKWELL_MEASURED) == set(figures.BLACKWELL_SOURCES)
    references = (Path(__file__).resolve().parents[1] / "REFERENCES.md").read_text()
    assert all(f'<a id="{src[1:]}">' in references for _, _, src in figures.COST_LEVERS)


@pytest.mark.parametrize("model", sorted(figures.H100_STEP_POINTS))
def test_the_curves_form_predicts_each_measurement_it_was_not_fitted_on(model):
    """a N + b N^2, least squares on all the points but one, predicts that one (out of sample, so the form is
    tested, not the fit's memory of its own points)."""
    tokens, seconds = np.array(figures.H100_STEP_POINTS[model], float).T
    design = np.stack([tokens, tokens**2], axis=1)
    for i in np.flatnonzero(tokens >= 20000):  # below that, launch overheads the form leaves out (5% at 5,400)
        rest = np.arange(len(tokens)) != i
        a, b = np.linalg.lstsq(design[rest], seconds[rest], rcond=None)[0]
        assert a * tokens[i] + b * tokens[i] ** 2 == pytest.approx(seconds[i], rel=0.025), int(tokens[i])


@pytest.mark.parametrize("model", sorted(figures.H100_STEP_POINTS))
def test_the_committed_constants_are_that_curve(model):
    tokens, seconds = np.array(figures.H100_STEP_POINTS[model], float).T
    large = tokens >= 20000
    a, b = np.linalg.lstsq(np.stack([tokens, tokens**2], axis=1)[large], seconds[large], rcond=None)[0]
    for n in (20000, 60000, 120000, 250000):  # the committed constants against a refit, over the range costed
        assert cost.h100_step_seconds(model, n) == pytest.approx(a * n + b * n**2, rel=0.02)


def test_the_scaling_slope_and_a_measurement_in_a_fresh_process():
    from vidlab.cost import measure

    assert measure.scaling_exponent([1e3, 2e3, 4e3], [1.0, 4.0, 16.0]) == pytest.approx(2.0)
    row = measure.in_fresh_process("vidlab", 32, 32, 8)
    assert row["tokens"] == 8 * 8 * 8 and row["step_seconds"] > 0 and 0.1 < row["peak_rss_gib"] < 8
    with pytest.raises(ValueError, match="square"):
        measure.vidlab_step(64, 32, 8)


def test_the_formula_s_slope_rises_from_linear_to_quadratic():
    assert cost.arithmetic.flop_exponent("wan2.1-t2v-1.3b", 10) == pytest.approx(1.0, abs=0.01)
    assert 1.9 < cost.arithmetic.flop_exponent("wan2.1-t2v-1.3b", 252960) < 2.0


def test_on_8gb_the_text_encoder_keeps_model_offload_out_of_reach():
    # Notebook 06, exercise 2: at 480x320 the 8gb class never fits model offload (the UMT5 encoder's 11.1 GiB
    # sits on the GPU at every frame count); group offload fits up to 357 frames.
    from vidlab.public import memory

    budget = memory.class_budget("8gb")
    limit = memory.GPU_MARGIN * budget.gpu_gib

    def plan(frames):
        try:
            return memory.choose_plan("wan2.1-t2v-1.3b", public.Settings(480, 320, frames, 30, 5.0, 16),
                                      "float16-checked", budget).measures
        except memory.DoesNotFit:
            return None

    for frames in (5, 17, 49, 81):
        gpu = memory.estimate("wan2.1-t2v-1.3b", public.Settings(480, 320, frames, 30, 5.0, 16),
                              "float16-checked").gpu_gib
        assert gpu["model_offload"] == pytest.approx(11.08, abs=0.01) and gpu["model_offload"] > limit
        assert plan(frames) == "group_offload+tiling"
    assert max(f for f in range(1, 1001, 4) if plan(f)) == 357
    with pytest.raises(memory.DoesNotFit, match="even with group offload"):  # notebook 06's "too big" example
        memory.choose_plan("wan2.1-t2v-1.3b", public.Settings(1920, 1088, 121, 50, 5.0, 16), "float16-checked",
                           budget)


def test_flops_counted_on_the_meta_device_grow_with_the_tokens():
    from vidlab.cost import flops

    small, double = flops.vidlab_step(32, 32, 16), flops.vidlab_step(32, 32, 32)
    assert small == flops.vidlab_step(32, 32, 16)  # deterministic: no timing, no data
    assert double["tokens"] == 2 * small["tokens"] and 2.0 <= double["flops"] / small["flops"] < 2.2
    rows = flops.sweep("stand-in", [(64, 64, 17), (128, 128, 17), (256, 256, 17)])
    assert [r["tokens"] for r in rows] == [80, 320, 1280]
    assert 1.0 < flops.scaling_exponent([r["tokens"] for r in rows], [r["flops"] for r in rows]) < 2.0
    real = flops.real_step("wan2.1-t2v-1.3b", 832, 480, 81)  # the counter, as notebook 06 checks it
    assert real["tokens"] == 32760 and real["flops"] == pytest.approx(566e12, rel=0.01)
    assert flops.scaling_exponent([1e3, 2e3, 4e3], [1.0, 4.0, 16.0]) == pytest.approx(2.0)
    with pytest.raises(ValueError, match="square"):
        flops.vidlab_step(64, 32, 8)
