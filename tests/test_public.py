"""The public-model registry: every entry is complete and takes its own settings; bad settings get clear errors."""

import diffusers
import pytest

from vidlab import public


@pytest.mark.parametrize("name", sorted(public.REGISTRY))
def test_every_entry_is_complete_and_takes_its_own_settings(name):
    e = public.entry(name)
    assert getattr(diffusers, e.pipeline)  # a class this diffusers release has
    assert set(e.small) == set(public.MEMORY_CLASSES) and set(e.kind) <= {"text-to-video", "image-to-video"}
    for settings in (e.recommended, *e.small.values()):
        public.check_settings(name, settings.width, settings.height, settings.num_frames)
    assert e.small["cpu"].width * e.small["cpu"].height <= e.recommended.width * e.recommended.height


def test_the_required_models_are_registered():
    hub_ids = {e.hub_id for e in public.REGISTRY.values()}
    assert {"Wan-AI/Wan2.1-T2V-1.3B-Diffusers", "Lightricks/LTX-Video", "THUDM/CogVideoX-2b",
            "damo-vilab/text-to-video-ms-1.7b", "stabilityai/stable-video-diffusion-img2vid-xt",
            "guoyww/animatediff-motion-adapter-v1-5-2"} <= hub_ids
    assert public.entry("svd-xt").gated and not public.entry("wan2.1-t2v-1.3b").gated


@pytest.mark.parametrize("name, size, frames, message", [
    ("wan2.1-t2v-1.3b", (832, 480), 80, r"4k\+1 frames.*num_frames=80; use 77 or 81"),
    ("ltx-video", (700, 512), 161, r"width a multiple of 32: width=700; use 672 or 704"),
    ("ltx-video", (704, 512), 160, r"8k\+1 frames.*use 153 or 161"),
    ("cogvideox-2b", (720, 480), 48, r"takes only 49 frames, not num_frames=48"),
    ("wan2.1-t2v-1.3b", (832, 470), 81, r"height a multiple of 16: height=470; use 464 or 480"),
])
def test_settings_a_model_cannot_take_are_named_with_the_nearest_it_can(name, size, frames, message):
    with pytest.raises(ValueError, match=message):
        public.check_settings(name, *size, frames)


def test_an_unknown_model_names_the_registered_ones():
    with pytest.raises(ValueError, match="unknown public model 'sora'.*wan2.1-t2v-1.3b"):
        public.entry("sora")


def test_precision_follows_the_hardware_and_the_model():
    t4, a100 = (7, 5), (8, 0)
    assert public.choose_dtype("wan2.1-t2v-1.3b", "cuda", a100) == "bfloat16"
    assert public.choose_dtype("wan2.1-t2v-1.3b", "cuda", t4) == "float16-checked"  # bf16 is only emulated there
    assert public.choose_dtype("ltx-video", "cuda", t4) == "float32"  # fp16 shows artefacts
    assert public.choose_dtype("cogvideox-2b", "cuda", t4) == "float16"  # trained in fp16
    assert public.choose_dtype("cogvideox-2b", "cuda", a100) == "float16"
    assert {public.choose_dtype(n, "cpu") for n in public.REGISTRY} == {"float32"}
    assert public.choose_dtype("wan2.1-t2v-1.3b", "mps") == "float32"
    with pytest.raises(ValueError, match="device='tpu'"):
        public.choose_dtype("wan2.1-t2v-1.3b", "tpu")
