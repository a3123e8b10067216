"""Devices, precision and several processes, checked on a CPU-only machine.

The ``meta`` device stands in for a GPU: it runs shapes without data and raises as soon as a tensor on
another device meets one of its tensors, so a training or sampling step on meta catches a tensor made on the
CPU while the data is elsewhere (what crashed the first CUDA run). Two CPU processes started by torchrun
(gloo), as a reader would start them, stand in for several GPUs. (Accelerate's ``debug_launcher`` forks
the test process, and a fork of a process that has already run torch's CPU threads can hang.)
"""

import json
import math
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from diffusers import DDIMScheduler
from diffusers.training_utils import EMAModel

from vidlab import env, runs, train, world
from vidlab.pipeline import VidlabPipeline, load_pretrained

CLI_TINY = ["--batch-size", "2", "--channels", "16", "--depth", "1", "--checkpoint-every", "2", "--num-frames", "8",
            "--context-frames", "2"]


# --- one device for every tensor -------------------------------------------------------------------------

def test_a_training_step_on_meta_makes_every_tensor_on_the_data_device(tiny):
    cfg = train.TrainConfig(text=True, **tiny)
    denoiser, text = (net.to("meta") for net in train.build(cfg))
    params = list(denoiser.parameters()) + list(text.parameters())
    optimizer, ema = torch.optim.AdamW(params, lr=1e-3), EMAModel(params, decay=0.9)
    video, captions = train.make_batch(cfg, 0, device="meta")
    loss = train.loss_on_batch(denoiser, text, train.training_scheduler(cfg), cfg, video, captions,
                               train.step_generator(cfg, 0))
    loss.backward()
    optimizer.step()
    ema.step(params)
    assert loss.device.type == "meta" and video.device.type == "meta"
    assert train.step_flops(denoiser, cfg) > 0  # its batch is made on the net's device too


def test_a_sampling_step_on_meta_keeps_every_tensor_on_the_pipeline_device(tiny):
    cfg = train.TrainConfig(text=True, **tiny)
    denoiser, text = train.build(cfg)
    scheduler = DDIMScheduler.from_config(train.training_scheduler(cfg).config, clip_sample=True)
    pipe = VidlabPipeline(denoiser, scheduler, text, training_config={"context_frames": 2, "size": 32,
                                                                      "num_frames": 8}).to("meta")
    context = world.simulate("projectile", 1, size=32, num_frames=8).video[:2]
    out = pipe(context=context, prompt="a red ball", guidance_scale=2.0, num_frames=12, num_inference_steps=2,
               generator=torch.Generator().manual_seed(0), output_type="pt", progress=False)
    assert out.frames.device.type == "meta" and out.frames.shape == (1, 12, 32, 32, 3)


def test_resume_puts_the_restored_ema_weights_on_the_training_device(tmp_path, tiny):
    """Accelerate restores registered objects (the EMA weights) on the CPU; training may run elsewhere."""
    net = train.build(train.TrainConfig(**tiny))[0].to("meta")
    params = list(net.parameters())
    ema = EMAModel(params, decay=0.9)
    optimizer = torch.optim.AdamW(params, lr=1e-3)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1.0)
    on_cpu = {**ema.state_dict(), "shadow_params": [torch.zeros(p.shape) for p in params]}
    checkpoint = tmp_path / "checkpoints" / "step_0000002"
    checkpoint.mkdir(parents=True)
    (checkpoint / "vidlab_state.json").write_text(json.dumps({"step": 2, "seconds": 1.0}))

    class RestoresOnTheCpu:  # what accelerator.load_state does to a registered EMAModel
        device, is_main_process = torch.device("meta"), True

        def load_state(self, folder):
            ema.load_state_dict(on_cpu)

    assert runs.resume(RestoresOnTheCpu(), tmp_path, ema, optimizer, schedule, 1e-3) == (2, 1.0)
    ema.step(params)  # raised "Tensor on device meta is not on the expected device cpu" before the fix
    assert all(p.device.type == "meta" for p in ema.shadow_params)


def test_a_missing_gpu_is_named_with_the_fix():
    if env.pick_device() == "cuda":
        pytest.skip("this machine has a CUDA GPU")
    with pytest.raises(ValueError, match="device='cuda': this machine has no usable CUDA GPU"):
        env.resolve_device("cuda")
    with pytest.raises(ValueError, match="no usable CUDA GPU"):
        load_pretrained(device="cuda")


def test_the_training_device_is_checked_and_named(tmp_path, tiny):
    with pytest.raises(ValueError, match=f"device='meta': this process already trains on {env.pick_device()}"):
        train.train(train.TrainConfig(steps=1, **tiny), tmp_path / "run", device="meta")
    if env.pick_device() != "cuda":
        result = subprocess.run([sys.executable, "-m", "vidlab.train", "--output", str(tmp_path / "cli"),
                                 "--device", "cuda"], capture_output=True, text=True)
        assert result.returncode != 0 and "Traceback" not in result.stderr
        assert "device='cuda': this machine has no usable CUDA GPU" in result.stderr


def test_pipelines_and_evaluation_go_to_the_chosen_device():
    assert env.resolve_device(None).type == env.pick_device()
    assert load_pretrained().device.type == env.pick_device()
    assert load_pretrained(device="cpu").device.type == "cpu"


# --- precision, decided in env by compute capability ----------------------------------------------------

@pytest.mark.parametrize("capability, native", [((6, 1), ("fp32",)), ((7, 5), ("fp32", "fp16")),
                                                ((8, 0), ("fp32", "fp16", "bf16")), ((9, 0), ("fp32", "fp16", "bf16"))])
def test_native_formats_follow_compute_capability_not_emulation(monkeypatch, capability, native):
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda device=None: capability)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: True)  # what a T4 answers: emulated
    assert env.native_formats("cuda") == native
    chosen = env.precision("cuda")
    assert chosen.name == "fp32" and chosen.accelerate == "no"  # nothing faster measured to keep the bar yet
    assert ("not yet measured" in chosen.reason) == (len(native) > 1)


def test_the_fastest_native_precision_measured_to_keep_the_bar_is_chosen(monkeypatch):
    monkeypatch.setattr(env, "cpu_has_bf16_units", lambda: True)
    monkeypatch.setattr(env, "KEEPS_THE_BAR", {})
    assert env.native_formats("cpu") == ("fp32", "bf16") and env.precision("cpu").name == "fp32"
    monkeypatch.setitem(env.KEEPS_THE_BAR, ("cpu", "bf16"), "measured")
    assert env.precision("cpu") == env.Precision("bf16", "measured")
    monkeypatch.setattr(env, "cpu_has_bf16_units", lambda: False)
    assert env.precision("cpu").name == "fp32"  # listed, but not native on this CPU
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda device=None: (7, 5))  # a T4
    monkeypatch.setitem(env.KEEPS_THE_BAR, ("cuda", "bf16"), "measured on an H100")
    assert env.precision("cuda").name == "fp32"
    monkeypatch.setitem(env.KEEPS_THE_BAR, ("cuda", "fp16"), "measured")
    assert env.precision("cuda").name == "fp16"


def test_precision_override_is_checked_against_the_hardware(monkeypatch):
    monkeypatch.setattr(env, "cpu_has_bf16_units", lambda: False)  # an older CPU: bf16 would be emulated
    assert env.precision("cpu").name == "fp32"
    monkeypatch.setenv("VIDLAB_PRECISION", "bf16")
    with pytest.raises(ValueError, match="VIDLAB_PRECISION=bf16: cpu here computes natively only in fp32"):
        env.precision("cpu")
    monkeypatch.setattr(torch.cuda, "get_device_capability", lambda device=None: (7, 5))
    with pytest.raises(ValueError, match="only in fp32, fp16"):  # a T4: no native bf16
        env.precision("cuda")
    monkeypatch.setenv("VIDLAB_PRECISION", "fp16")
    assert env.precision("cuda").accelerate == "fp16"
    monkeypatch.setenv("VIDLAB_PRECISION", "fp8")
    with pytest.raises(ValueError, match="expected one of"):
        env.precision("cpu")


def test_records_name_the_device_and_precision():
    chosen = env.precision("cpu").name  # bf16 on a CPU with bf16 units, else fp32
    info = env.machine("cpu")
    assert info["device"] == "cpu" and info["precision"] == chosen and info["torch_threads"] >= 1
    assert env.device_label("cpu").startswith("cpu (") and chosen in env.device_label("cpu")


# --- several processes ---------------------------------------------------------------------------------

def test_each_process_draws_its_own_clips_and_one_process_keeps_the_old_seeds(tiny):
    cfg = train.TrainConfig(**tiny)
    alone, first, second = train.make_batch(cfg, 5), train.make_batch(cfg, 5, 0, 2), train.make_batch(cfg, 5, 1, 2)
    assert torch.equal(alone[0], train.make_batch(cfg, 5, 0, 1)[0])
    assert not torch.equal(first[0], second[0])
    seed = world.TRAIN_SEED_BASE + (cfg.seed * 1_000_003 + 5) * cfg.batch_size  # the formula before processes
    np.testing.assert_allclose(alone[0][0].numpy(), world.simulate(
        "projectile", seed, size=32, num_frames=8).video.transpose(0, 3, 1, 2) / 127.5 - 1, atol=1e-6)
    draws = {(step, rank): train.step_generator(cfg, step, rank, 2).initial_seed() for step in range(3)
             for rank in range(2)}
    assert len(set(draws.values())) == 6


def test_the_learning_rate_follows_the_number_of_processes():
    cfg = train.TrainConfig(lr=1e-3)
    assert train.scaled_lr(cfg, 1) == 1e-3 and train.scaled_lr(cfg, 4) == pytest.approx(2e-3)
    assert train.scaled_lr(train.TrainConfig(lr=1e-3, lr_scaling="linear"), 4) == pytest.approx(4e-3)
    with pytest.raises(ValueError, match="lr_scaling='cube'"):
        train.scaled_lr(train.TrainConfig(lr_scaling="cube"), 2)


def test_a_resumed_schedule_takes_the_new_base_learning_rate():
    param = torch.nn.Parameter(torch.zeros(1))
    optimizer = torch.optim.AdamW([param], lr=1e-3)
    schedule = torch.optim.lr_scheduler.LambdaLR(optimizer, lambda step: 1 / (1 + step))
    for _ in range(3):
        optimizer.step()
        schedule.step()
    runs.rebase_lr(optimizer, schedule, 2e-3)
    assert optimizer.param_groups[0]["lr"] == pytest.approx(2e-3 / 4)
    optimizer.step()
    schedule.step()
    assert optimizer.param_groups[0]["lr"] == pytest.approx(2e-3 / 5)


def _launch(processes: int, output, *args):
    """``torchrun --standalone --nproc_per_node N -m vidlab.train``, as a reader launches it, on the CPU (gloo) even
    where there is a GPU: NCCL refuses two processes on one GPU."""
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", f"--nproc_per_node={processes}",
               "-m", "vidlab.train", "--output", str(output), *CLI_TINY, *args]
    result = subprocess.run(command, capture_output=True, text=True, timeout=600,
                            env={**os.environ, "CUDA_VISIBLE_DEVICES": ""})
    assert result.returncode == 0, result.stderr[-3000:]
    return [json.loads(line) for line in (Path(output) / "log.jsonl").read_text().splitlines()]


def test_more_processes_than_gpus_is_refused_with_the_fix():
    runs.check_gpus_per_process(1, 1)
    runs.check_gpus_per_process(4, 0)  # no GPU: the processes share the CPU
    with pytest.raises(ValueError, match="2 processes were started on a machine with 1 GPU.*--nproc_per_node 1"):
        runs.check_gpus_per_process(2, 1)


def test_two_processes_train_on_different_clips_and_write_each_file_once(tmp_path):
    run = tmp_path / "run"
    log = _launch(2, run, "--steps", "4", "--snapshot-minutes", "0")
    assert [r["step"] for r in log] == [1, 2, 3, 4]  # one writer
    for r in log:
        first, second = r["process_losses"]
        assert first != second  # each process drew its own clips and noise
        assert r["loss"] == pytest.approx((first + second) / 2)
    record = load_pretrained(run / "pipeline", device="cpu").training_config
    cfg = train.TrainConfig()
    assert record["num_processes"] == 2 and record["global_batch"] == 2 * 2
    assert record["lr_used"] == pytest.approx(cfg.lr * math.sqrt(2))
    assert json.loads((run / "state.json").read_text())["machine"]["device"] == "cpu"
    assert (run / "snapshots" / "minutes_0" / "model_index.json").is_file()
    assert "in each of 2 processes" in (run / "command.txt").read_text()
    assert not list(run.rglob("*.tmp"))


def test_a_run_resumes_with_another_number_of_processes(tmp_path, tiny, stop_at_three):
    run = tmp_path / "run"

    with pytest.raises(KeyboardInterrupt):
        train.train(train.TrainConfig(steps=4, **tiny), run, on_step=stop_at_three)
    log = _launch(2, run, "--steps", "4")
    assert [r["step"] for r in log] == [1, 2, 3, 4]
    assert "process_losses" not in log[1] and "process_losses" in log[2]  # steps 3-4 by two processes
    state = json.loads((run / "state.json").read_text())
    assert state["step"] == 4 and state["num_processes"] == 2
