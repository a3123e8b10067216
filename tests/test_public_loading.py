"""Loading and generating public models: every entry through the offline stand-in, and every refusal.

The stand-ins have random weights, so these tests check the code path (shapes, seeds, step capture, records,
labels, errors), never what a model makes.
"""

import dataclasses

import httpx
import huggingface_hub
import numpy as np
import pytest
import torch

from vidlab import cost, public
from vidlab.public import architectures, memory

NAMES = sorted(public.REGISTRY)
PROMPT = "a red ball falls onto a wooden floor"


def _inputs(name):
    """(prompt, image) for the entry's kind."""
    if name == "svd-xt":
        return None, np.full((32, 32, 3), 0.5)
    return PROMPT, None


@pytest.fixture(scope="module")
def loaded():
    return {name: public.load(name, tiny=True) for name in NAMES}


@pytest.mark.parametrize("name", NAMES)
def test_the_stand_in_loads_through_the_real_pipeline_class_and_is_labelled(name, loaded):
    model = loaded[name]
    assert type(model.pipe).__name__ == public.entry(name).pipeline
    assert model.tiny and model.label == public.SMOKE_LABEL
    assert model.dtype == "float32" and model.device == "cpu"


@pytest.mark.parametrize("name", NAMES)
def test_generation_is_shaped_seeded_recorded_and_its_steps_decode(name, loaded):
    model, (prompt, image) = loaded[name], _inputs(name)
    s = model.settings
    a = public.generate(model, prompt=prompt, image=image, seed=3, capture_every=1)
    b = public.generate(model, prompt=prompt, image=image, seed=3)
    c = public.generate(model, prompt=prompt, image=image, seed=4)
    assert a.frames.shape == (s.num_frames, s.height, s.width, 3) and a.frames.dtype == np.uint8
    assert np.array_equal(a.frames, b.frames) and not np.array_equal(a.frames, c.frames)
    assert [i for i, _ in a.steps] == list(range(1, s.steps + 1))
    assert np.array_equal(a.steps[-1][1], a.frames)  # the last captured step decodes to the output itself
    assert a.label == public.SMOKE_LABEL and a.record["label"] == public.SMOKE_LABEL
    for key in ("model", "settings", "seed", "seconds", "peak_memory", "machine", "versions"):
        assert key in a.record
    assert a.record["seed"] == 3 and a.record["settings"]["num_frames"] == s.num_frames


def test_a_clip_saves_as_gif_and_mp4_with_the_smoke_label_in_the_picture(loaded, tmp_path):
    import imageio.v2 as imageio

    clip = public.generate(loaded["ltx-video"], prompt=PROMPT)
    for suffix in ("gif", "mp4"):
        clip.save(tmp_path / f"clip.{suffix}")
        first = np.asarray(imageio.mimread(tmp_path / f"clip.{suffix}")[0])
        assert first.shape[0] > clip.frames.shape[1]  # the label's strip sits under the picture
        assert (first[-12:] < 100).any()  # dark text on the white strip


def test_the_environment_variable_selects_the_stand_in(monkeypatch):
    monkeypatch.setenv("VIDLAB_TINY_MODELS", "1")
    model = public.load("modelscope-1.7b")
    assert model.tiny and model.label == public.SMOKE_LABEL


def test_ltx_takes_an_image_and_text_only_models_refuse_one(loaded):
    image = np.zeros((32, 32, 3))
    assert public.generate(loaded["ltx-video"], prompt=PROMPT, image=image).frames.shape[0] == 9
    with pytest.raises(ValueError, match="text-to-video only"):
        public.generate(loaded["wan2.1-t2v-1.3b"], prompt=PROMPT, image=image)
    with pytest.raises(ValueError, match="pass image="):
        public.generate(loaded["svd-xt"])
    with pytest.raises(ValueError, match="needs a prompt"):
        public.generate(loaded["cogvideox-2b"])
    with pytest.raises(ValueError, match=r"expected \[H, W, 3\]"):
        public.generate(loaded["svd-xt"], image=np.zeros((32, 32)))


@pytest.mark.parametrize("name", NAMES)
def test_settings_it_cannot_take_are_refused_before_loading(name):
    bad = dataclasses.replace(public.TINY_SETTINGS[name], width=33)
    with pytest.raises(ValueError, match="width=33"):
        public.load(name, tiny=True, settings=bad)


def _huge(name):
    return public.Settings(1920, 1088, 49 if name == "cogvideox-2b" else 241, 50, 5.0, 16)


@pytest.mark.parametrize("name", NAMES)
def test_settings_too_big_for_the_memory_are_refused_naming_what_fits(name, monkeypatch):
    found = memory.Budget(None, 24.0, 500.0, "found on this machine")
    monkeypatch.setattr(memory, "machine_budget", lambda *a, **k: found)
    with pytest.raises(public.DoesNotFit, match=r"does not fit: .*GiB of RAM.*Fix: ") as err:
        public.load(name, memory="cpu", settings=_huge(name), device="cpu")
    assert "memory class 'cpu'" in str(err.value)
    with pytest.raises(public.DoesNotFit, match="GPU peak"):
        memory.choose_plan(name, _huge(name), "float16", memory.class_budget("8gb"))


def test_the_refusal_names_the_largest_registered_setting_that_fits():
    with pytest.raises(public.DoesNotFit, match=r"Fix: the '24gb' settings fit .*memory='24gb'"):
        memory.choose_plan("wan2.1-t2v-1.3b", _huge("wan2.1-t2v-1.3b"), "bfloat16", memory.class_budget("24gb"))


def test_too_little_disk_is_refused():
    budget = memory.Budget(16.0, 64.0, 1.0, "found on this machine")
    with pytest.raises(public.DoesNotFit, match="GiB of disk, 1.0 free"):
        memory.choose_plan("modelscope-1.7b", public.entry("modelscope-1.7b").small["t4"], "float16", budget)


def test_the_plans_follow_the_memory_class():
    t4 = memory.class_budget("t4")
    wan = memory.choose_plan("wan2.1-t2v-1.3b", public.entry("wan2.1-t2v-1.3b").small["t4"], "float16-checked", t4)
    assert wan.encode_first and wan.measures.startswith("model_offload")  # UMT5-XXL would fill Colab's RAM
    big = memory.choose_plan("modelscope-1.7b", public.entry("modelscope-1.7b").small["40gb"], "float16",
                             memory.class_budget("40gb"))
    assert big.measures == "gpu" and not big.encode_first


def test_a_gpu_class_without_a_gpu_says_so_with_a_cpu_time_estimate():
    with pytest.raises(public.NeedsGPU, match=r"needs a CUDA GPU.*roughly \d+ min per clip.*memory='cpu'"):
        public.load("ltx-video", memory="t4", device="cpu")


def test_no_network_is_named_with_the_fix(monkeypatch, tmp_path):
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", True)  # as HF_HUB_OFFLINE=1 does
    with pytest.raises(public.NoNetwork, match="cannot reach the Hugging Face Hub.*tiny=True"):
        public.load("modelscope-1.7b", memory="cpu", device="cpu", cache_dir=str(tmp_path))


def test_a_gated_model_names_the_licence_and_the_token(monkeypatch, tmp_path):
    def gated(repo, filename, **kwargs):  # what the Hub answers before the licence is accepted
        url = f"https://huggingface.co/{repo}/resolve/main/{filename}"
        response = httpx.Response(403, request=httpx.Request("HEAD", url))
        raise huggingface_hub.errors.GatedRepoError(f"Access to model {repo} is restricted.", response=response)

    monkeypatch.setattr(huggingface_hub, "hf_hub_download", gated)
    big = memory.Budget(None, 64.0, 500.0, "found on this machine")
    monkeypatch.setattr(memory, "machine_budget", lambda *a, **k: big)
    with pytest.raises(public.GatedModel, match=r"accept its licence at https://huggingface.co/stabilityai.*token"):
        public.load("svd-xt", memory="cpu", device="cpu", settings=public.TINY_SETTINGS["svd-xt"],
                    cache_dir=str(tmp_path))


def test_an_unknown_memory_class_is_named():
    with pytest.raises(ValueError, match="memory='12gb'"):
        public.load("ltx-video", memory="12gb", tiny=True)


# The denoiser parameter counts measured at the real configurations on an H100 (references: "Public
# architectures measured on an H100").
H100_COUNTS = {"wan2.1-t2v-1.3b": 1.419e9, "cogvideox-2b": 1.694e9, "ltx-video": 1.923e9,
               "modelscope-1.7b": 1.411e9}


@pytest.mark.parametrize("name", sorted(H100_COUNTS))
def test_the_real_configurations_have_the_measured_parameter_counts(name):
    assert architectures.parameter_counts(name)["denoiser"] == pytest.approx(H100_COUNTS[name], rel=1e-3)


@pytest.mark.parametrize("name", ["wan2.1-t2v-1.3b", "cogvideox-2b", "ltx-video"])
def test_token_counts_match_the_h100_table_and_the_flop_formula_the_counter(name):
    tokens = {"wan2.1-t2v-1.3b": 32760, "cogvideox-2b": 17550, "ltx-video": 8064}
    card = public.entry(name).recommended
    s = dataclasses.replace(card, width=768, height=512) if name == "ltx-video" else card
    assert cost.latent_tokens(name, s) == tokens[name]
    small = public.entry(name).small["cpu"]
    counted = architectures.counted_step_flops(name, small)
    assert cost.step_flops(name, small) == pytest.approx(counted, rel=0.10)


@pytest.mark.parametrize("name", ["wan2.1-t2v-1.3b", "ltx-video", "cogvideox-2b"])
def test_encoding_the_prompt_first_gives_the_same_clip_without_the_encoder_loaded(name, loaded):
    """The low-RAM path: encoder alone, freed, then the pipeline with text_encoder=None and prompt_embeds."""
    found = memory.Budget(None, 16.0, 100.0, "test")
    plan = memory.Plan("cpu", True, memory.estimate(name, public.entry(name).small["cpu"], "float32", False), found)
    low_ram = dataclasses.replace(loaded[name], plan=plan, _pipe=None, _embeds={})
    clip = public.generate(low_ram, prompt=PROMPT, seed=5)
    assert low_ram.pipe.text_encoder is None and (PROMPT, "") in low_ram._embeds
    # The same clip, to rounding: on a CPU the encoder-first path runs the big T5 encoders in bf16.
    whole = public.generate(loaded[name], prompt=PROMPT, seed=5).frames
    assert np.abs(clip.frames.astype(int) - whole).max() <= 2


# --- devices by any spelling, step clocks, the fp16 fallback ----------------------------------------------

@pytest.mark.parametrize("device", ["cuda:1", torch.device("cuda"), torch.device("cuda", 1)], ids=repr)
def test_a_cuda_device_in_any_spelling_takes_the_gpu_branches(device, monkeypatch):
    from vidlab.public import generating, loading

    t4 = memory.Budget(15.0, 12.0, 100.0, "test")  # no GPU here: what a T4 machine's budget reads
    monkeypatch.setattr(memory, "machine_budget", lambda *a, **k: t4)
    assert loading._memory_class(device) == "t4"
    loading._check_gpu("wan2.1-t2v-1.3b", "t4", device)  # a GPU class on a GPU: no NeedsGPU
    assert public.choose_dtype("wan2.1-t2v-1.3b", device, (7, 5)) == "float16-checked"
    assert public.conditioner_dtype("wan2.1-t2v-1.3b", device, "float16-checked") == "float16"  # bf16 on a CPU
    counted = []  # the peak-memory counters are CUDA's, of that device, not the process's RSS
    monkeypatch.setattr(torch.cuda, "reset_peak_memory_stats", lambda d=None: counted.append(d))
    monkeypatch.setattr(torch.cuda, "max_memory_allocated", lambda d=None: 2 * 2**30)
    assert generating._reset_peak(device) == 0.0 and counted == [device]
    assert generating._peak_gib(device, 0.0) == {"gpu_gib": 2.0}


def test_load_normalises_the_device_once_and_names_one_this_machine_lacks():
    model = public.load("wan2.1-t2v-1.3b", tiny=True, device=torch.device("cpu"))
    assert model.device == "cpu" and not model.on_cuda
    if not torch.cuda.is_available():
        with pytest.raises(ValueError, match="device='cuda:1': this machine has no usable CUDA GPU"):
            public.load("wan2.1-t2v-1.3b", tiny=True, device="cuda:1")


def test_each_step_is_clocked_after_the_device_finished_it(monkeypatch):
    from vidlab import env

    model = public.load("wan2.1-t2v-1.3b", tiny=True)
    waits = []
    monkeypatch.setattr(env, "synchronize", lambda device: waits.append(str(device)))
    clip = public.generate(model, prompt=PROMPT)
    assert len(waits) >= model.settings.steps and set(waits) == {"cpu"}  # a wait before every step's clock
    assert clip.record["step_seconds"] is not None


def test_the_fp16_fallback_reruns_one_clip_in_fp32_and_keeps_the_model_in_fp16(monkeypatch):
    from vidlab.public import generating

    model = dataclasses.replace(public.load("wan2.1-t2v-1.3b", tiny=True), dtype="float16-checked")
    model.pipe.transformer.to(torch.float16)  # as on a T4
    real_run, runs = generating._run, []

    def nan_in_fp16(pipe, kwargs):  # the first run overflows, as Wan can in fp16; the rerun is real
        runs.append(pipe.transformer.dtype)
        if len(runs) == 1:
            s = model.settings
            return np.full((s.num_frames, s.height, s.width, 3), np.nan, np.float32)
        return real_run(pipe, kwargs)

    monkeypatch.setattr(generating, "_run", nan_in_fp16)
    clip = public.generate(model, prompt=PROMPT)
    assert runs == [torch.float16, torch.float32] and np.isfinite(clip.frames).all()
    assert model.pipe.transformer.dtype == torch.float16  # the next clip tries fp16 again
    assert clip.record["fallback"].startswith("NaN in fp16") and clip.record["made_in"] == "float32"
