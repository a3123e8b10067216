"""vidlab.denoiser, vidlab.pipeline and vidlab.train on a tiny model trained for a few steps.

These check the machinery (save/load, determinism, resume, schedulers, bad input), not sample quality:
a model this small and this briefly trained makes random-weight-like output.
"""

import json

import numpy as np
import pytest
import torch
from diffusers import DPMSolverMultistepScheduler, EulerDiscreteScheduler

from vidlab import evaluate, pipeline, world
from vidlab.denoiser import VideoDenoiser
from vidlab.pipeline import SHIPPED, load_pretrained
from vidlab.train import (
    TrainConfig,
    build,
    loss_on_batch,
    make_batch,
    step_flops,
    train,
    training_scheduler,
)


@pytest.fixture(scope="module")
def trained(tmp_path_factory, tiny):
    folder = tmp_path_factory.mktemp("tiny")
    train(TrainConfig(steps=3, text=True, **tiny), folder)
    return folder


@pytest.fixture(scope="module")
def context():
    return world.simulate("projectile", 123, size=32, num_frames=8).video[:2]


def sample(pipe, context, seed=0, **kw):
    return pipe(context=context, num_inference_steps=3, generator=torch.Generator().manual_seed(seed),
                progress=False, **kw).frames


def test_save_load_round_trip_keeps_weights_config_and_output(trained, context, tmp_path):
    pipe = load_pretrained(trained / "pipeline")
    assert pipe.training_config["context_frames"] == 2 and pipe.training_config["size"] == 32
    pipe.save_pretrained(tmp_path / "again", safe_serialization=True)
    assert list((tmp_path / "again" / "denoiser").glob("*.safetensors"))
    again = load_pretrained(tmp_path / "again")
    for a, b in zip(pipe.denoiser.state_dict().values(), again.denoiser.state_dict().values(), strict=True):
        assert torch.equal(a, b)
    np.testing.assert_array_equal(sample(pipe, context), sample(again, context))


def test_same_seed_same_clip_and_context_is_kept(trained, context):
    pipe = load_pretrained(trained / "pipeline")
    a, b, c = sample(pipe, context, 0), sample(pipe, context, 0), sample(pipe, context, 1)
    assert a.shape == (1, 8, 32, 32, 3) and a.dtype == np.float32 and 0 <= a.min() and a.max() <= 1
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    np.testing.assert_allclose(a[0, :2], context / 255, atol=1e-6)


def test_longer_clips_batches_prompts_and_other_schedulers(trained, context):
    pipe = load_pretrained(trained / "pipeline")
    long = sample(pipe, context, num_frames=20)
    assert long.shape == (1, 20, 32, 32, 3)
    batch = sample(pipe, np.stack([context, context]), prompt="a red ball is thrown to the right", guidance_scale=2)
    assert batch.shape[0] == 2
    ddim = sample(pipe, context)
    for cls in (DPMSolverMultistepScheduler, EulerDiscreteScheduler):
        pipe.scheduler = cls.from_config(pipe.scheduler.config)
        other = sample(pipe, context)
        assert np.isfinite(other).all() and not np.array_equal(other, ddim)  # the swapped sampler is the one used
        np.testing.assert_allclose(other[0, :2], context / 255, atol=1e-6)  # and it keeps the given frames


def test_a_model_trained_with_prompts_samples_without_one_as_it_trained(trained, context):
    pipe = load_pretrained(trained / "pipeline")
    text, empty = pipe.encode_prompt(None, 2, "cpu")  # the "no prompt" embedding of prompt dropout, not nothing
    torch.testing.assert_close(text, pipe.text_encoder([None, None]))
    torch.testing.assert_close(text, empty)
    np.testing.assert_allclose(sample(pipe, context), sample(pipe, context, guidance_scale=3.0), atol=1e-5)  # c = u


def test_samplers_by_name(trained, context):
    from vidlab import pipeline

    pipe = load_pretrained(trained / "pipeline")
    outputs = {}
    for name in {**pipeline.SAMPLERS, **pipeline.STOCHASTIC_SAMPLERS}:
        pipe.scheduler = pipeline.sampler(name, pipe.scheduler.config)
        pipe.scheduler.set_timesteps(3)
        assert int(pipe.scheduler.timesteps[0]) == 999  # trailing spacing: sampling starts at the highest noise
        outputs[name] = sample(pipe, context)
        assert np.isfinite(outputs[name]).all()
    assert len({o.tobytes() for o in outputs.values()}) == len(outputs)  # each name gives its own sampler
    assert len(outputs) == 4
    pipe.scheduler = pipeline.sampler("DDPM", pipe.scheduler.config)  # fresh noise at each step, from the generator
    assert np.array_equal(sample(pipe, context), outputs["DDPM"])
    with pytest.raises(ValueError, match="unknown sampler 'PLMS'.*DDIM"):
        pipeline.sampler("PLMS", pipe.scheduler.config)


def test_callback_sees_every_step(trained, context):
    pipe = load_pretrained(trained / "pipeline")
    seen = []

    def callback(pipe, i, t, tensors):
        seen.append((i, tensors["latents"].shape))
        return tensors

    pipe(context=context, num_inference_steps=4, callback_on_step_end=callback, progress=False)
    assert [i for i, _ in seen] == [0, 1, 2, 3] and seen[0][1] == (1, 8, 3, 32, 32)


@pytest.mark.parametrize("kwargs, message", [
    (dict(context=np.zeros((3, 32, 32, 3), np.uint8)), "trained on 2 context frames"),
    (dict(context=np.zeros((2, 64, 64, 3), np.uint8)), "trained at 32x32"),
    (dict(context=np.zeros((2, 32, 32), np.uint8)), "expected uint8"),
    (dict(prompt="a pink dragon flies"), r"outside the vocabulary: \['dragon', 'flies', 'pink'\]"),
    (dict(guidance_scale=-0.5), "guidance_scale=-0.5"),
    (dict(num_frames=2), "num_frames=2"),
])
def test_bad_input_is_named(trained, context, kwargs, message):
    pipe = load_pretrained(trained / "pipeline")
    kwargs = {"context": context, **kwargs}
    with pytest.raises(ValueError, match=message):
        pipe(num_inference_steps=2, progress=False, **kwargs)


def test_a_checkpoint_saved_before_the_denoiser_module_was_renamed_still_loads(trained, tmp_path, context):
    old = tmp_path / "old"
    load_pretrained(trained / "pipeline", device="cpu").save_pretrained(old)
    index = json.loads((old / "model_index.json").read_text())
    assert index["denoiser"] == ["vidlab.denoiser", "VideoDenoiser"]
    (old / "model_index.json").write_text(json.dumps({**index, "denoiser": ["vidlab.model", "VideoDenoiser"]}))
    np.testing.assert_array_equal(sample(load_pretrained(old, device="cpu"), context),
                                  sample(load_pretrained(trained / "pipeline", device="cpu"), context))


# --- expected slices (diffusers' test style): seeded dummy weights and inputs, numbers recorded once ------------

def _seeded_weights(net):
    """Every weight drawn from the seeded generator (default init zeros the norms' biases and the position
    tables, which would leave them untested)."""
    with torch.no_grad():
        for p in net.parameters():
            p.copy_(torch.randn_like(p) * 0.1)
    return net


def test_the_denoiser_gives_the_recorded_numbers_on_seeded_inputs():
    torch.manual_seed(0)
    net = _seeded_weights(VideoDenoiser(channels=16, mults=(1, 2), depth=1))
    x = torch.randn(1, 4, 3, 16, 16)
    mask = torch.tensor([[1.0, 1.0, 0.0, 0.0]])  # two given frames, two to make
    with torch.no_grad():
        out = net(x, torch.tensor([500]), x * mask[:, :, None, None, None], mask)
    assert out.shape == x.shape
    # The recorded output of this code (commit of the test): a change to the network changes these numbers.
    expected = torch.tensor([0.034713, 0.023663, 0.105575, 0.051909, 0.055893, -0.050278, 0.069209, 0.000826,
                             0.023594, -0.007443, 0.095479, 0.020136, 0.028776, -0.027636, 0.119904, 0.014557])
    torch.testing.assert_close(out.flatten()[::out.numel() // 16][:16], expected, atol=1e-4, rtol=0)


def test_two_sampling_steps_give_the_recorded_frames(tiny):
    from vidlab.pipeline import VidlabPipeline, default_sampler

    torch.manual_seed(0)
    cfg = TrainConfig(**tiny)
    net = _seeded_weights(build(cfg)[0])
    pipe = VidlabPipeline(net, default_sampler(training_scheduler(cfg).config), None,
                          training_config={"context_frames": 2, "size": 32, "num_frames": 8})
    context = world.simulate("projectile", 123, size=32, num_frames=8).video[:2]
    frames = pipe(context=context, num_inference_steps=2, generator=torch.Generator().manual_seed(0),
                  progress=False).frames
    made = frames[0, 2:].reshape(-1)  # the six generated frames
    # The recorded output of this code (commit of the test): a change to the network or the sampler changes them.
    expected = np.array([0.560314, 0.606857, 0.571187, 0.577654, 0.594096, 0.555834, 0.585062, 0.579143,
                         0.550924, 0.602684, 0.573526, 0.579655, 0.574705, 0.561155, 0.590154, 0.55659])
    np.testing.assert_allclose(made[::made.size // 16][:16], expected, atol=1e-4, rtol=0)


def test_missing_or_corrupt_checkpoint(trained, tmp_path):
    with pytest.raises(ValueError, match="missing or incomplete"):
        load_pretrained(tmp_path / "nothing here")
    broken = tmp_path / "broken"
    load_pretrained(trained / "pipeline").save_pretrained(broken)
    for f in (broken / "denoiser").glob("*.safetensors"):
        f.write_bytes(b"not a tensor file")
    with pytest.raises(ValueError, match="could not be loaded") as err:
        load_pretrained(broken)
    assert err.value.__cause__ is not None  # the parser's error stays in the traceback


def test_a_load_error_that_is_not_a_corrupt_file_keeps_its_type_and_cause(monkeypatch):
    def mismatch(folder):  # as a diffusers change or a dtype mismatch would fail, not a damaged file
        try:
            raise KeyError("stem.weight")
        except KeyError as inner:
            raise RuntimeError("size mismatch for stem.weight") from inner

    monkeypatch.setattr(pipeline, "read_folder", mismatch)
    with pytest.raises(RuntimeError, match="size mismatch") as err:
        load_pretrained(device="cpu")
    assert isinstance(err.value.__cause__, KeyError) and "corrupt" not in str(err.value)


def test_interrupted_training_resumes_to_the_same_weights(tmp_path, capsys, tiny, stop_at_three):
    cfg = TrainConfig(steps=4, **tiny)
    straight = train(cfg, tmp_path / "straight")

    with pytest.raises(KeyboardInterrupt):
        train(cfg, tmp_path / "resumed", on_step=stop_at_three)
    assert (tmp_path / "resumed" / "checkpoints" / "step_0000002").is_dir()
    resumed = train(cfg, tmp_path / "resumed")
    assert "resuming from step_0000002" in capsys.readouterr().out
    for a, b in zip(straight.denoiser.state_dict().values(), resumed.denoiser.state_dict().values(), strict=True):
        torch.testing.assert_close(a, b)
    steps = [json.loads(line)["step"] for line in (tmp_path / "resumed" / "log.jsonl").read_text().splitlines()]
    assert steps == [1, 2, 3, 4]


def test_a_different_config_cannot_resume_silently(tmp_path, tiny):
    train(TrainConfig(steps=1, **tiny), tmp_path / "run")
    with pytest.raises(ValueError, match="different config"):
        train(TrainConfig(steps=1, lr=0.5, **tiny), tmp_path / "run")


def test_a_run_saved_before_a_field_existed_resumes_at_that_fields_default(tmp_path, tiny):
    train(TrainConfig(steps=1, **tiny), tmp_path / "run")
    saved = tmp_path / "run" / "config.json"
    older = json.loads(saved.read_text())
    del older["frame_index"], older["given_frames"]  # as a run started before those fields existed
    saved.write_text(json.dumps(older))
    train(TrainConfig(steps=1, **tiny), tmp_path / "run")  # resumes: the defaults are what it trained with
    assert "frame_index" in json.loads(saved.read_text())
    with pytest.raises(ValueError, match="different config"):
        train(TrainConfig(steps=1, frame_index=True, **tiny), tmp_path / "run")


def _frame_influence(net, frame):
    """Which output frames change when the noisy input of one generated frame changes."""
    torch.manual_seed(0)
    x, ctx = torch.randn(1, 6, 3, 32, 32), torch.zeros(1, 6, 3, 32, 32)
    mask = torch.tensor([[1.0, 1, 0, 0, 0, 0]])
    ctx[:, :2] = torch.rand(1, 2, 3, 32, 32)
    with torch.no_grad():
        a = net(x, torch.tensor([500]), ctx, mask)
        x[:, frame] += 1
        b = net(x, torch.tensor([500]), ctx, mask)
    return [bool((a[0, t] - b[0, t]).abs().max() > 1e-6) for t in range(6)]


def test_temporal_layers_mix_frames_and_temporal_false_denoises_each_frame_alone():
    joint = VideoDenoiser(channels=16, depth=1).eval()
    alone = VideoDenoiser(channels=16, depth=1, temporal=False).eval()
    assert all(_frame_influence(joint, 3))
    assert _frame_influence(alone, 3) == [False, False, False, True, False, False]


def test_per_frame_options_give_each_frame_its_index_or_more_given_frames():
    torch.manual_seed(0)
    sample, context = torch.randn(1, 8, 3, 16, 16), torch.zeros(1, 8, 3, 16, 16)
    context[:, :4] = torch.randn(1, 4, 3, 16, 16)
    mask = (torch.arange(8) < 4).float()[None]
    same = sample[:, 4:5].expand(1, 8, 3, 16, 16).clone()  # one noisy frame repeated: frames differ only by index
    with torch.no_grad():
        for frame_index in (False, True):
            net = VideoDenoiser(channels=16, temporal=False, frame_index=frame_index).eval()
            out = net(same, 500, context, mask)
            assert torch.equal(out[0, 5], out[0, 6]) is not frame_index  # only the index tells them apart
        older = context.clone()
        older[:, 1] += 1.0  # change a given frame that is not the last one
        for given, sees_it in ((1, False), (4, True)):
            net = VideoDenoiser(channels=16, temporal=False, given_frames=given).eval()
            changed = not torch.equal(net(sample, 500, context, mask)[0, 6], net(sample, 500, older, mask)[0, 6])
            assert changed is sees_it
    with pytest.raises(ValueError, match="given_frames=0"):
        VideoDenoiser(channels=16, given_frames=0)


def test_frame_size_must_fit_the_unet():
    with pytest.raises(ValueError, match="multiples of 16"):
        VideoDenoiser(channels=16)(torch.zeros(1, 4, 3, 24, 24), 0, torch.zeros(1, 4, 3, 24, 24), torch.zeros(1, 4))


class Foreign(torch.nn.Module):
    """Another library's net, with the denoiser's call (benchmarks/train_vs_peers.py wraps peers like this)."""

    def __init__(self):
        super().__init__()
        self.inner = VideoDenoiser(channels=16, depth=1)
        self.device = torch.device("cpu")

    def forward(self, *args):
        return self.inner(*args)


def test_a_foreign_denoiser_trains_in_the_same_loop_and_flops_are_counted(tmp_path, tiny):
    net = Foreign()  # trained in the same loop; its pipeline is returned, not saved
    pipe = train(TrainConfig(steps=2, **tiny), tmp_path / "run", denoiser=net)
    assert pipe.training_config["steps_done"] == 2 and not (tmp_path / "run" / "pipeline").exists()
    assert pipe.denoiser is not net  # a copy holding the EMA weights
    with pytest.raises(ValueError, match="text=False"):
        train(TrainConfig(steps=1, text=True, **tiny), tmp_path / "other", denoiser=net)
    flops = step_flops(net, TrainConfig(**tiny))
    assert flops > 0 and all(p.grad is None for p in net.parameters())


@pytest.mark.parametrize("prediction_type", ["sample", "epsilon", "v_prediction"])
def test_min_snr_weighting_scales_each_timesteps_loss(prediction_type, tiny):
    cfg = TrainConfig(prediction_type=prediction_type, **tiny)
    denoiser, _ = build(cfg)
    scheduler, (video, captions) = training_scheduler(cfg), make_batch(cfg, 0)
    alpha_bar = scheduler.alphas_cumprod
    for t in (10, 900):  # SNR far above and far below gamma = 5
        snr = float(alpha_bar[t] / (1 - alpha_bar[t]))  # the definition, not diffusers' compute_snr
        expected = {"sample": min(snr, 5), "epsilon": min(snr, 5) / snr, "v_prediction": min(snr, 5) / (snr + 1)}
        steps = torch.full((cfg.batch_size,), t)
        losses = [loss_on_batch(denoiser, None, scheduler, c, video, captions, torch.Generator().manual_seed(0),
                                steps).item() for c in (cfg, TrainConfig(**{**cfg.__dict__, "snr_gamma": 5.0}))]
        assert losses[1] / losses[0] == pytest.approx(expected[prediction_type], rel=1e-4)
    with pytest.raises(ValueError, match="snr_gamma=0"):
        loss_on_batch(denoiser, None, scheduler, TrainConfig(snr_gamma=0, **tiny), video, captions,
                      torch.Generator().manual_seed(0), steps)


def test_snapshots_are_saved_at_the_marks(tmp_path, tiny):
    train(TrainConfig(steps=3, snapshot_minutes=(0.0,), **tiny), tmp_path / "run")
    snap = load_pretrained(tmp_path / "run" / "snapshots" / "minutes_0")
    assert snap.training_config["steps_done"] == 1


@pytest.mark.skipif(not (SHIPPED / "model_index.json").exists(), reason="no checkpoint shipped")
def test_the_shipped_checkpoint_loads_is_small_and_documented():
    pipe = load_pretrained()
    assert pipe.training_config["size"] == 32
    size = sum(f.stat().st_size for f in SHIPPED.rglob("*") if f.is_file())
    assert size < 20e6
    record = json.loads((SHIPPED / "training.json").read_text())
    assert {"command", "training_seconds", "machine", "metrics"} <= set(record)


def test_the_shipped_scene_model_loads_by_name_takes_prompts_and_fits_beside_the_other():
    pipe = load_pretrained("tiny-scenes", device="cpu")
    assert set(pipe.training_config["scenarios"]) == {"collision", "occlusion", "table"}
    assert pipe.training_config["text"] and pipe.text_encoder is not None
    total = sum(f.stat().st_size for m in pipeline.SHIPPED_MODELS.values() for f in m.rglob("*") if f.is_file())
    assert total < 25e6  # every shipped model together
    record = json.loads((pipeline.SHIPPED_MODELS["tiny-scenes"] / "training.json").read_text())
    assert record["steps"] == record["planned_steps"] and record["machine"]["device"] == "cpu"
    clip = evaluate.held_out(pipe.training_config, 1)[0]
    video = evaluate.continue_clips(pipe, [clip], num_inference_steps=2, with_captions=True)[0]
    assert video.shape == clip.video.shape


def test_the_shipped_latent_model_loads_by_name_stands_alone_and_is_under_10_mb():
    pipe = load_pretrained("tiny-latent", device="cpu")
    assert type(pipe).__name__ == "LatentVideoPipeline" and pipe.training_config["family"] == "latent_dit"
    folder = pipeline.SHIPPED_MODELS["tiny-latent"]
    assert sum(f.stat().st_size for f in folder.rglob("*") if f.is_file()) < 10e6  # the VAE included
    record = json.loads((folder / "training.json").read_text())
    assert record["steps"] == record["planned_steps"] == 3561 and record["metrics"]["meets_bar"]["center_error_px"]
    assert {"command", "training_seconds", "machine"} <= set(record["vae"])
    clip = evaluate.held_out(pipe.training_config, 1)[0]
    assert clip.video.shape[0] == 17 and pipe.training_config["context_frames"] == 5
    video = evaluate.continue_clips(pipe, [clip], num_inference_steps=2)[0]
    assert video.shape == clip.video.shape and np.array_equal(video[:5], clip.video[:5])


def test_the_training_records_live_in_the_repository_and_download_elsewhere(tmp_path, monkeypatch):
    import functools
    import http.server
    import threading

    from vidlab import env

    assert pipeline.shipped_record("log.jsonl").parent == pipeline.RECORDS_IN_CHECKOUT  # a clone reads in place
    assert not (SHIPPED / "log.jsonl").exists()  # and the package does not carry it
    served = tmp_path / "server" / "raw" / "main" / pipeline.RECORDS
    served.mkdir(parents=True)
    (served / "log.jsonl").write_text('{"step": 1, "loss": 0.5}\n')
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(tmp_path / "server"))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    monkeypatch.setattr(env, "CHECKOUT", tmp_path / "not a clone")
    monkeypatch.setattr(env, "repository_url", lambda: f"http://127.0.0.1:{server.server_address[1]}")
    monkeypatch.setenv("VIDLAB_CACHE", str(tmp_path / "cache"))
    try:
        got = pipeline.shipped_record("log.jsonl")  # a pip install: downloaded once into the cache
    finally:
        server.shutdown()
        server.server_close()  # refused from now on, as when offline
    assert got == tmp_path / "cache" / pipeline.RECORDS / "log.jsonl" and '"loss": 0.5' in got.read_text()
    assert pipeline.shipped_record("log.jsonl") == got  # cached: no server needed any more
    with pytest.raises(ValueError, match="could not be downloaded .* clone the repository"):
        pipeline.shipped_record("progress.npz")


def test_attention_in_bf16_on_a_cpu_matches_torchs_kernel():
    from vidlab.denoiser import attention

    q, k, v = (torch.randn(64, 4, 16, 8, generator=torch.Generator().manual_seed(i)) for i in range(3))
    expected = torch.nn.functional.scaled_dot_product_attention(q, k, v)
    torch.testing.assert_close(attention(q, k, v), expected)  # fp32: torch's own kernel
    half = attention(q.bfloat16(), k.bfloat16(), v.bfloat16())  # bf16 on a CPU: plain matrix products
    assert half.dtype == torch.bfloat16
    torch.testing.assert_close(half.float(), expected, atol=0.05, rtol=0.05)


def test_noise_on_the_context_reaches_the_network_only_when_asked(tiny):
    cfg = TrainConfig(**tiny)
    denoiser, _ = build(cfg)
    scheduler, (video, captions) = training_scheduler(cfg), make_batch(cfg, 0)
    seen = []
    hook = denoiser.register_forward_hook(lambda m, args, out: seen.append(args[2].clone()))  # (x, t, context, ...)
    steps = torch.full((cfg.batch_size,), 500)
    for c in (cfg, TrainConfig(**{**cfg.__dict__, "context_noise": 0.2})):
        loss_on_batch(denoiser, None, scheduler, c, video, captions, torch.Generator().manual_seed(0), steps)
    hook.remove()
    k = cfg.context_frames
    assert torch.equal(seen[0][:, :k], video[:, :k])  # clean given frames by default, as before
    change = (seen[1][:, :k] - video[:, :k]).abs().amax()
    assert 0 < change < 1.2 and torch.equal(seen[1][:, k:], seen[0][:, k:])  # only the given frames move
