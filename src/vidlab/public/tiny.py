"""Tiny random-weight stand-ins for every registry entry: the offline path for tests and fast mode.

Each builder makes the same diffusers pipeline class as the real model, with tiny configs (a few thousand
parameters per block) and tokenizers built here from a small vocabulary, so nothing is downloaded. The
pipeline is saved to a folder and then loaded by :func:`vidlab.public.load` through the very
``from_pretrained`` call a reader's real run makes. Its output is noise shaped like a video: a smoke test
of the code path, never a model's result (``SMOKE_LABEL`` goes on every frame made this way).

The configs follow diffusers' own pipeline tests (``get_dummy_components``), with local tokenizers in place
of the ``hf-internal-testing`` downloads.
"""

from __future__ import annotations

import contextlib
import functools
import json
import pathlib
import string
import tempfile

import torch

from vidlab.public.registry import Settings, entry

SMOKE_LABEL = "random weights: smoke test only"

# Settings the tiny pipelines run at: valid under each real model's frame and size rules, seconds on a CPU.
TINY_SETTINGS = {
    "wan2.1-t2v-1.3b": Settings(32, 32, 9, 2, 5.0, 16),
    "ltx-video": Settings(32, 32, 9, 2, 3.0, 25),
    "cogvideox-2b": Settings(16, 16, 49, 2, 6.0, 8),
    "modelscope-1.7b": Settings(32, 32, 4, 2, 9.0, 8),
    "svd-xt": Settings(32, 32, 4, 2, 3.0, 7),
    "animatediff-sd1.5": Settings(32, 32, 4, 2, 7.5, 8),
}
_TEXT_DIM = 32  # hidden size of the tiny text encoders


def _t5_tokenizer():
    """A T5 (sentencepiece-style unigram) tokenizer over letters, digits and word starts."""
    from transformers import T5Tokenizer

    chars = string.ascii_lowercase + string.digits + ".,'-!?"
    pieces = [("<pad>", 0.0), ("</s>", 0.0), ("<unk>", 0.0), ("▁", -2.0)]
    pieces += [(c, -3.0) for c in chars] + [("▁" + c, -2.5) for c in string.ascii_lowercase]
    return T5Tokenizer(vocab=pieces, extra_ids=0)


def _clip_tokenizer():
    """A CLIP (byte-pair) tokenizer whose vocabulary is single characters, with no merges."""
    from transformers import CLIPTokenizer

    vocab = {"<|startoftext|>": 0, "<|endoftext|>": 1}
    for c in string.ascii_lowercase + string.digits + ".,'-!?":
        vocab[c] = len(vocab)
        vocab[c + "</w>"] = len(vocab)
    return CLIPTokenizer(vocab=vocab, merges=[], model_max_length=77)


def _t5_encoder(umt5: bool = False):
    from transformers import T5Config, T5EncoderModel, UMT5Config, UMT5EncoderModel

    config_class, model_class = (UMT5Config, UMT5EncoderModel) if umt5 else (T5Config, T5EncoderModel)
    config = config_class(vocab_size=96, d_model=_TEXT_DIM, d_kv=8, d_ff=37, num_layers=2, num_heads=4,
                          relative_attention_num_buckets=8, pad_token_id=0, eos_token_id=1,
                          decoder_start_token_id=0)
    return model_class(config).eval()


def _clip_text_encoder(hidden: int):
    from transformers import CLIPTextConfig, CLIPTextModel

    config = CLIPTextConfig(bos_token_id=0, eos_token_id=1, pad_token_id=1, hidden_size=hidden, intermediate_size=16,
                            num_attention_heads=2, num_hidden_layers=2, vocab_size=96, projection_dim=32)
    return CLIPTextModel(config).eval()


def _wan():
    from diffusers import AutoencoderKLWan, FlowMatchEulerDiscreteScheduler, WanPipeline, WanTransformer3DModel

    vae = AutoencoderKLWan(base_dim=3, z_dim=16, dim_mult=[1, 1, 1, 1], num_res_blocks=1,
                           temperal_downsample=[False, True, True])
    transformer = WanTransformer3DModel(patch_size=(1, 2, 2), num_attention_heads=2, attention_head_dim=12,
                                        in_channels=16, out_channels=16, text_dim=_TEXT_DIM, freq_dim=256,
                                        ffn_dim=32, num_layers=2, cross_attn_norm=True,
                                        qk_norm="rms_norm_across_heads", rope_max_seq_len=32)
    return WanPipeline(tokenizer=_t5_tokenizer(), text_encoder=_t5_encoder(umt5=True), vae=vae,
                       transformer=transformer, scheduler=FlowMatchEulerDiscreteScheduler(shift=3.0))


def _ltx():
    from diffusers import (
        AutoencoderKLLTXVideo,
        FlowMatchEulerDiscreteScheduler,
        LTXPipeline,
        LTXVideoTransformer3DModel,
    )

    transformer = LTXVideoTransformer3DModel(in_channels=8, out_channels=8, patch_size=1, patch_size_t=1,
                                             num_attention_heads=4, attention_head_dim=8,
                                             cross_attention_dim=32, num_layers=1, caption_channels=_TEXT_DIM)
    vae = AutoencoderKLLTXVideo(in_channels=3, out_channels=3, latent_channels=8, block_out_channels=(8, 8, 8, 8),
                                decoder_block_out_channels=(8, 8, 8, 8), layers_per_block=(1, 1, 1, 1, 1),
                                decoder_layers_per_block=(1, 1, 1, 1, 1),
                                spatio_temporal_scaling=(True, True, False, False),
                                decoder_spatio_temporal_scaling=(True, True, False, False),
                                decoder_inject_noise=(False,) * 5, upsample_residual=(False,) * 4,
                                upsample_factor=(1,) * 4, timestep_conditioning=False, patch_size=1,
                                patch_size_t=1, encoder_causal=True, decoder_causal=False)
    return LTXPipeline(scheduler=FlowMatchEulerDiscreteScheduler(), vae=vae, text_encoder=_t5_encoder(),
                       tokenizer=_t5_tokenizer(), transformer=transformer)


def _cogvideox():
    from diffusers import AutoencoderKLCogVideoX, CogVideoXDDIMScheduler, CogVideoXPipeline, CogVideoXTransformer3DModel

    transformer = CogVideoXTransformer3DModel(num_attention_heads=4, attention_head_dim=8, in_channels=4,
                                              out_channels=4, time_embed_dim=2, text_embed_dim=_TEXT_DIM,
                                              num_layers=1, sample_width=2, sample_height=2, sample_frames=49,
                                              patch_size=2, temporal_compression_ratio=4,
                                              max_text_seq_length=226)
    vae = AutoencoderKLCogVideoX(in_channels=3, out_channels=3, down_block_types=("CogVideoXDownBlock3D",) * 4,
                                 up_block_types=("CogVideoXUpBlock3D",) * 4, block_out_channels=(8, 8, 8, 8),
                                 latent_channels=4, layers_per_block=1, norm_num_groups=2,
                                 temporal_compression_ratio=4)
    return CogVideoXPipeline(tokenizer=_t5_tokenizer(), text_encoder=_t5_encoder(), vae=vae,
                             transformer=transformer, scheduler=CogVideoXDDIMScheduler())


def _sd_vae():
    from diffusers import AutoencoderKL

    return AutoencoderKL(block_out_channels=[8], in_channels=3, out_channels=3, latent_channels=4,
                         down_block_types=["DownEncoderBlock2D"], up_block_types=["UpDecoderBlock2D"],
                         norm_num_groups=2)


def _modelscope():
    from diffusers import DDIMScheduler, TextToVideoSDPipeline, UNet3DConditionModel

    unet = UNet3DConditionModel(block_out_channels=(4, 8), layers_per_block=1, sample_size=32, in_channels=4,
                                out_channels=4, down_block_types=("CrossAttnDownBlock3D", "DownBlock3D"),
                                up_block_types=("UpBlock3D", "CrossAttnUpBlock3D"), cross_attention_dim=4,
                                attention_head_dim=4, norm_num_groups=2)
    scheduler = DDIMScheduler(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear",
                              clip_sample=False, set_alpha_to_one=False)
    return TextToVideoSDPipeline(vae=_sd_vae(), text_encoder=_clip_text_encoder(4), tokenizer=_clip_tokenizer(),
                                 unet=unet, scheduler=scheduler)


def _svd():
    from diffusers import (
        AutoencoderKLTemporalDecoder,
        EulerDiscreteScheduler,
        StableVideoDiffusionPipeline,
        UNetSpatioTemporalConditionModel,
    )
    from transformers import CLIPImageProcessor, CLIPVisionConfig, CLIPVisionModelWithProjection

    unet = UNetSpatioTemporalConditionModel(block_out_channels=(32, 64), layers_per_block=1, sample_size=32,
                                            in_channels=8, out_channels=4,
                                            down_block_types=("CrossAttnDownBlockSpatioTemporal",
                                                              "DownBlockSpatioTemporal"),
                                            up_block_types=("UpBlockSpatioTemporal", "CrossAttnUpBlockSpatioTemporal"),
                                            cross_attention_dim=32, num_attention_heads=2,
                                            projection_class_embeddings_input_dim=96, addition_time_embed_dim=32)
    scheduler = EulerDiscreteScheduler(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear",
                                       interpolation_type="linear", prediction_type="v_prediction",
                                       sigma_max=700.0, sigma_min=0.002, steps_offset=1, timestep_spacing="leading",
                                       timestep_type="continuous", use_karras_sigmas=True)
    vae = AutoencoderKLTemporalDecoder(block_out_channels=[32, 64], in_channels=3, out_channels=3,
                                       down_block_types=["DownEncoderBlock2D"] * 2, latent_channels=4)
    # The pipeline resizes the image to 224 x 224 for its image encoder: 32-pixel patches keep that cheap.
    vision = CLIPVisionConfig(hidden_size=32, projection_dim=32, num_hidden_layers=2, num_attention_heads=4,
                              image_size=224, intermediate_size=37, patch_size=32)
    return StableVideoDiffusionPipeline(vae=vae, image_encoder=CLIPVisionModelWithProjection(vision).eval(),
                                        unet=unet, scheduler=scheduler,
                                        feature_extractor=CLIPImageProcessor(crop_size=224, size=224))


def _animatediff_parts():
    """(the Stable Diffusion base pipeline, the motion adapter): AnimateDiff loads them separately."""
    from diffusers import DDIMScheduler, MotionAdapter, StableDiffusionPipeline, UNet2DConditionModel

    unet = UNet2DConditionModel(block_out_channels=(8, 16), layers_per_block=1, sample_size=8, in_channels=4,
                                out_channels=4, down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"),
                                up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"), cross_attention_dim=8,
                                norm_num_groups=2)
    scheduler = DDIMScheduler(beta_start=0.00085, beta_end=0.012, beta_schedule="linear", clip_sample=False,
                              steps_offset=1)
    base = StableDiffusionPipeline(vae=_sd_vae(), text_encoder=_clip_text_encoder(8), tokenizer=_clip_tokenizer(),
                                   unet=unet, scheduler=scheduler, safety_checker=None, feature_extractor=None,
                                   requires_safety_checker=False)
    adapter = MotionAdapter(block_out_channels=(8, 16), motion_layers_per_block=1, motion_norm_num_groups=2,
                            motion_num_attention_heads=2)
    return base, adapter


@contextlib.contextmanager
def quiet_loading(tiny: bool = True):
    """Loading the stand-in takes a second: no progress bars, no notes on optional backends (then restored)."""
    import diffusers
    import transformers

    if not tiny:
        yield
        return
    levels = [(lib.utils.logging, lib.utils.logging.get_verbosity()) for lib in (diffusers, transformers)]
    for log, _ in levels:
        log.disable_progress_bar()
        log.set_verbosity_error()
    try:
        yield
    finally:
        for log, level in levels:
            log.set_verbosity(level)
            log.enable_progress_bar()


_BUILDERS = {"wan2.1-t2v-1.3b": _wan, "ltx-video": _ltx, "cogvideox-2b": _cogvideox,
             "modelscope-1.7b": _modelscope, "svd-xt": _svd}


def _save(name: str, folder: pathlib.Path) -> dict:
    """Build the tiny pipeline of ``name`` with fixed seeds, save it under ``folder``; return its sources."""
    torch.manual_seed(0)  # diffusers' model constructors draw their initial weights from the global generator
    with quiet_loading():
        if name == "animatediff-sd1.5":
            base, adapter = _animatediff_parts()
            base.save_pretrained(folder / "base")
            adapter.save_pretrained(folder / "adapter")
            return {"hub_id": str(folder / "base"), "adapter_id": str(folder / "adapter")}
        _BUILDERS[name]().save_pretrained(folder / "pipeline")
    return {"hub_id": str(folder / "pipeline")}


@functools.cache
def tiny_sources(name: str) -> dict:
    """Save the tiny random-weight pipeline of ``name`` once per process; return where it lies.

    Returns ``{"hub_id": folder}`` (AnimateDiff also ``"adapter_id"``): pass these where the real Hub ids go.
    """
    entry(name)  # a clear error for an unknown name
    folder = pathlib.Path(tempfile.mkdtemp(prefix=f"vidlab-tiny-{name}-"))
    sources = _save(name, folder)
    (folder / "vidlab_tiny.json").write_text(json.dumps({"model": name, "label": SMOKE_LABEL, **sources}))
    return sources
