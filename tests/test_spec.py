"""ClipSpec, the one home of "which clips a model sees": launch clips bit-identical to the training data of every
shipped model, random windows reproducible and true to their simulation, saved configs (old ones too) read back."""

import dataclasses
import hashlib
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from vidlab import batches, evaluate, pixels, world
from vidlab.train import TrainConfig, make_batch
from vidlab.world import ClipSpec

CHECKPOINTS = Path(__file__).resolve().parents[1] / "src" / "vidlab" / "checkpoints"


def _digest(*arrays) -> str:
    h = hashlib.sha256()
    for a in arrays:
        h.update(np.ascontiguousarray(a).tobytes())
    return h.hexdigest()[:16]


# Taken before ClipSpec existed (commit 2f67f6f), from the code every committed model was trained and measured
# with: training batches (the model-space video) and held-out clips (videos, then centres).
BEFORE_THE_SPEC = {"recipe batch, step 0": "b48a9be225476f9e", "scenes batch, step 0": "3112b0270d2f9824",
                   "held-out clips 0-4": "5d61b7f819d33408", "held-out clips 0-2, 64 frames": "e65d8f6f8184c8de"}


def test_training_and_held_out_clips_are_bit_identical_to_those_before_the_spec():
    scenes = TrainConfig(scenarios=("collision", "occlusion", "table"), text=True, batch_size=3)
    held, long = evaluate.held_out(vars(TrainConfig()), 5), evaluate.held_out({}, 3, num_frames=64)
    now = {"recipe batch, step 0": _digest(make_batch(TrainConfig(), 0)[0].numpy()),
           "scenes batch, step 0": _digest(make_batch(scenes, 0)[0].numpy()),
           "held-out clips 0-4": _digest(*[c.video for c in held], *[c.centers for c in held]),
           "held-out clips 0-2, 64 frames": _digest(*[c.video for c in long])}
    assert now == BEFORE_THE_SPEC


def test_launch_clips_are_the_world_clips_themselves():
    spec = ClipSpec()
    for seed in (7, world.TRAIN_SEED_BASE + 5):
        alone = world.simulate("projectile", seed, size=32)
        clip = spec.clip(seed)
        assert np.array_equal(clip.video, alone.video) and np.array_equal(clip.centers, alone.centers)
        assert clip.caption == alone.caption and spec.window_start(seed) == 0
    two = ClipSpec(scenarios=("projectile", "uniform"), num_frames=8, fps=5.0)
    assert [c.scenario for c in two.clips(range(4))] == ["projectile", "uniform"] * 2


def test_training_batches_and_held_out_clips_are_rendered_by_the_spec():
    cfg = TrainConfig(batch_size=3, scenarios=("projectile", "collision"), num_frames=8, context_frames=2)
    video, captions = make_batch(cfg, 4)
    clips = cfg.clip_spec.clips(batches.clip_seeds(cfg, 4))
    assert torch.equal(video, pixels.to_model_space(np.stack([c.video for c in clips])))
    assert captions == [c.caption for c in clips]
    held = evaluate.held_out(cfg, 3)  # a TrainConfig, its spec or a saved dict: the same clips
    for other in (evaluate.held_out(cfg.clip_spec, 3), evaluate.held_out(dataclasses.asdict(cfg), 3)):
        assert all(np.array_equal(a.video, b.video) for a, b in zip(held, other, strict=True))


@pytest.mark.parametrize("model", ["tiny-physics", "tiny-scenes"])
def test_the_shipped_pipelines_saved_configs_read_back(model):
    saved = json.loads((CHECKPOINTS / model / "model_index.json").read_text())["training_config"]
    spec = ClipSpec.from_dict(saved)  # flat, from before ClipSpec and its window existed
    assert spec.scenarios == tuple(saved["scenarios"]) and spec.size == saved["size"] == 32
    assert spec.num_frames == saved["num_frames"] and spec.context_frames == saved["context_frames"]
    assert spec.window == "launch" and spec.simulate_frames is None and spec.world_params == {}
    cfg = TrainConfig.from_dict(saved)  # the run's record (steps_done, machine, ...) is left out
    assert cfg.clip_spec == spec and cfg.steps == saved["steps"] and cfg.mults == (1, 2, 4)


def test_a_spec_reads_back_from_json_flat_or_nested():
    spec = ClipSpec(scenarios=("table",), size=48, num_frames=12, context_frames=3, window="random",
                    simulate_frames=40, world_params={"speed_range": world.OOD_SPEED})
    saved = json.loads(json.dumps(spec.to_dict()))
    assert ClipSpec.from_dict(saved) == spec == ClipSpec.from_dict({"clip_spec": saved, "steps_done": 3})
    flat_wins = ClipSpec.from_dict({"clip_spec": saved, "scenarios": ["uniform"]})
    assert flat_wins.scenarios == ("uniform",) and flat_wins.size == 48
    assert ClipSpec.from_dict({}) == ClipSpec()
    assert TrainConfig(window="random", simulate_frames=64).clip_spec == ClipSpec(window="random", simulate_frames=64)


def test_replace_sets_fields_by_name_and_anything_else_as_a_world_parameter():
    spec = ClipSpec().replace(num_frames=64, speed_range=world.OOD_SPEED)
    assert spec.num_frames == 64 and spec.world_params == {"speed_range": [[0.0, 0.8], [4.5, 6.0]]}
    ood = evaluate.held_out(ClipSpec(), 2, speed_range=world.OOD_SPEED)
    assert np.array_equal(ood[1].video, world.simulate("projectile", 1, size=32, speed_range=world.OOD_SPEED).video)


def test_a_random_window_is_a_reproducible_cut_of_its_simulation():
    spec = ClipSpec(window="random", simulate_frames=64)
    starts = [spec.window_start(seed) for seed in range(40)]
    assert all(0 <= s <= 48 for s in starts) and len(set(starts)) > 20  # spread over the possible starts
    assert starts == [spec.window_start(seed) for seed in range(40)]  # the seed decides
    seed = next(s for s in range(40) if spec.window_start(s) > 20)
    start, clip = spec.window_start(seed), spec.clip(seed)
    whole = world.simulate("projectile", seed, size=32, num_frames=64)
    assert clip.video.shape == (16, 32, 32, 3) and clip.params["window_start"] == start
    assert np.array_equal(clip.video, whole.video[start:start + 16])
    assert np.array_equal(clip.centers, whole.centers[start:start + 16])
    assert np.array_equal(spec.clip(seed).video, clip.video)  # the same seed gives the same clip
    inside = [c for c in whole.contacts if start / 10 <= c.time_s <= (start + 15) / 10]
    assert [c.time_s for c in clip.contacts] == pytest.approx([c.time_s - start / 10 for c in inside])
    # the caption tells the window's own story: its direction at the first frame, the bounces inside it
    bounces = sum(1 for c in clip.contacts if c.obj == 0 and c.with_wall)
    told = {0: "never bounces", 1: "bounces once", 2: "bounces twice"}.get(bounces, f"bounces {bounces} times")
    way = "right" if clip.velocities[0, 0, 0] > 0 else "left"
    assert clip.caption.endswith(f"thrown to the {way} and {told}"), clip.caption


def test_broken_windows_are_simulated_again_as_windows():
    clip = ClipSpec(window="random", simulate_frames=64).clip(3)
    broken = world.inject(clip, "gravity")
    assert broken.video.shape == clip.video.shape and broken.params["window_start"] == clip.params["window_start"]
    assert np.abs(broken.centers - clip.centers).max() > 1  # a different fall, over the same frames
    on_grey = world.rerender(clip, background=np.full((32, 32, 3), 0.5))
    assert tuple(on_grey.video[0, 0, 0]) == (128, 128, 128) and tuple(clip.video[0, 0, 0]) == (255, 255, 255)


@pytest.mark.parametrize("bad, message", [
    (dict(window="sliding"), "window='sliding': expected one of"),
    (dict(window="random"), "set simulate_frames above num_frames=16"),
    (dict(simulate_frames=8), "simulate_frames=8: a window of num_frames=16"),
    (dict(context_frames=16), "context_frames=16: expected 1 to num_frames - 1 = 15"),
    (dict(scenarios=("fly",)), "scenarios=\\('fly',\\): expected one or more of"),
    (dict(split="nope"), "split='nope': expected one of"),
    (dict(world_params={"size": 64}), "world_params \\['size'\\]: size, num_frames and fps are the spec's own"),
])
def test_a_bad_spec_names_the_value_and_the_fix(bad, message):
    with pytest.raises(ValueError, match=message):
        ClipSpec(**bad)
