"""``generate``: one clip from a loaded public model, with a record of the run and, if asked, every step.

The recipe:

1. check the inputs (a prompt for text-to-video, an image for image-to-video);
2. build the pipeline's arguments from the settings, with a CPU ``torch.Generator`` (the same seed gives the
   same starting noise on any device) and, when the prompt was encoded first, its embeddings;
3. run the pipeline, capturing the latents after each denoising step through its step callback;
4. fp16-checked models (Wan on a T4): a NaN in the output reruns once with the transformer in fp32, which is
   then put back in fp16 for the next clip;
5. decode the captured latents with the pipeline's own VAE steps, and write the record: model, settings,
   seed, seconds (each step's clock read after the GPU finished it), peak memory, device, the precision the
   clip was made in, versions and, for the tiny stand-in, the smoke-test label.
"""

from __future__ import annotations

import dataclasses
import time

import numpy as np

from vidlab import env
from vidlab.public.loading import _MAX_SEQUENCE, PublicModel, torch_dtype


@dataclasses.dataclass
class Generation:
    """A generated clip (``frames``: uint8 [T, H, W, 3]), the record of its run, and the decoded steps."""

    frames: np.ndarray
    record: dict
    steps: list = dataclasses.field(default_factory=list)  # [(step index, uint8 frames)] when captured
    label: str = ""  # "random weights: smoke test only" for the tiny stand-in, else the model's name

    def save(self, path) -> None:
        """Write the clip to ``.mp4`` or ``.gif`` at the model's frame rate. A stand-in's clip carries its
        label under the picture, in the file itself, so it cannot pass for a model's result."""
        from vidlab.show import compose, save_video

        frames = self.frames
        if self.record.get("tiny"):
            height = max(frames.shape[1], 96)
            frames = np.stack([np.asarray(f) for f in compose([frames], [self.label], height=height)])
        save_video(frames, path, fps=self.record["settings"]["fps"])


def generate(model: PublicModel, prompt: str | None = None, image=None, seed: int = 0, negative_prompt: str = "",
             capture_every: int = 0, **overrides) -> Generation:
    """Generate one clip with ``model`` at its settings (``overrides`` replace single settings fields).

    ``capture_every=k`` keeps the latents after every k-th denoising step (and the last) and decodes them,
    so the clip can be watched emerging from noise.
    """
    import torch

    # 1. check the inputs
    settings = dataclasses.replace(model.settings, **overrides)
    pipe, kwargs = _arguments(model, settings, prompt, image, negative_prompt)
    # 2. the starting noise comes from a CPU generator: the same on every device
    kwargs["generator"] = torch.Generator("cpu").manual_seed(seed)
    captured, ticks, shapes = [], [], []
    kwargs.update(_capture(pipe, captured, ticks, shapes, capture_every, settings.steps, model.device))
    # 3. run it
    peak_before = _reset_peak(model.device)
    env.synchronize(model.device)  # work queued before does not count
    start = time.perf_counter()
    frames = _run(pipe, kwargs)
    end = time.perf_counter()  # the frames are on the CPU: the GPU has finished
    # 4. NaN check where fp16 was only allowed with one
    fallback, made_in = None, model.dtype.replace("-checked", "")
    if model.dtype == "float16-checked" and not np.isfinite(frames).all():
        half = pipe.transformer.dtype
        pipe.transformer.to(torch.float32)
        kwargs["generator"], captured[:], ticks[:] = torch.Generator("cpu").manual_seed(seed), [], []
        try:
            start = time.perf_counter()
            frames = _run(pipe, kwargs)
            end = time.perf_counter()
        finally:
            pipe.transformer.to(half)  # this clip only: the model's next clip tries fp16 again
        fallback, made_in = "NaN in fp16: reran with the transformer in fp32", "float32"
    timing = _timing(start, ticks, end)
    # 5. decode the steps; the record
    steps = [(i, _to_uint8(decode_latents(model, pipe, lat, settings))) for i, lat in captured]
    record = _record(model, settings, prompt, seed, timing, _peak_gib(model.device, peak_before), fallback)
    record["made_in"] = made_in  # the transformer's precision for this clip ("dtype" is the model's policy)
    record["latent_shape"] = shapes[0] if shapes else None
    return Generation(_to_uint8(frames), record, steps, model.label)


def _arguments(model: PublicModel, settings, prompt, image, negative_prompt) -> tuple:
    """(the pipeline to call, its keyword arguments) for the model's kind and the inputs given."""
    kinds = model.entry.kind
    if image is None and "text-to-video" not in kinds:
        raise ValueError(f"{model.name} is image-to-video: pass image= (a PIL image or an [H, W, 3] array)")
    if image is not None and "image-to-video" not in kinds:
        raise ValueError(f"{model.name} is text-to-video only: drop image=, or use svd-xt or ltx-video")
    if model.name != "svd-xt" and not prompt:
        raise ValueError(f"{model.name} needs a prompt: prompt='a red ball falls onto a wooden floor'")
    pipe = model.pipe
    kwargs = dict(height=settings.height, width=settings.width, num_frames=settings.num_frames,
                  num_inference_steps=settings.steps, output_type="np")
    if image is not None:
        kwargs["image"] = _as_pil(image, settings)
    if model.name == "svd-xt":
        return pipe, {**kwargs, "max_guidance_scale": settings.guidance, "fps": settings.fps,
                      "decode_chunk_size": _svd_chunk(model, settings)}
    kwargs["guidance_scale"] = settings.guidance
    if model.name == "ltx-video":
        kwargs.update(frame_rate=settings.fps, decode_timestep=0.05, decode_noise_scale=0.025)
        if image is not None:
            import diffusers

            pipe = diffusers.LTXImageToVideoPipeline.from_pipe(pipe)
            pipe.set_progress_bar_config(disable=model.tiny)
    if model.encode_first:
        kwargs.update(_embedding_arguments(model, prompt, negative_prompt))
    else:
        kwargs.update(prompt=prompt, negative_prompt=negative_prompt)
        if model.name in _MAX_SEQUENCE:
            kwargs["max_sequence_length"] = _MAX_SEQUENCE[model.name]
    return pipe, kwargs


def _svd_chunk(model: PublicModel, settings) -> int:
    """Frames SVD's temporal decoder decodes together: 2 when memory is short (its docs), else all."""
    return 2 if model.plan and "tiling" in model.plan.measures else settings.num_frames


def _embedding_arguments(model: PublicModel, prompt: str, negative_prompt: str) -> dict:
    """The cached prompt encodings, as the pipeline's ``prompt_embeds`` arguments, on its device and dtype."""
    dtype = torch_dtype(model.dtype)
    parts = [t.to(model.device, dtype) if t is not None and t.is_floating_point() else t
             for t in model.embeds(prompt, negative_prompt)]
    if model.name == "ltx-video":  # (embeds, mask, negative embeds, negative mask)
        names = ("prompt_embeds", "prompt_attention_mask", "negative_prompt_embeds", "negative_prompt_attention_mask")
        parts = [p.to(model.device) for p in parts]
    else:
        names = ("prompt_embeds", "negative_prompt_embeds")
    return dict(zip(names, parts, strict=True))


def _as_pil(image, settings):
    """A PIL image at the model's size (arrays: uint8 or float in [0, 1], [H, W, 3])."""
    from PIL import Image

    if not isinstance(image, Image.Image):
        array = np.asarray(image)
        if array.ndim != 3 or array.shape[-1] != 3:
            raise ValueError(f"image of shape {array.shape}: expected [H, W, 3]")
        if array.dtype != np.uint8:
            array = (np.clip(array, 0, 1) * 255).round().astype(np.uint8)
        image = Image.fromarray(array)
    return image.convert("RGB").resize((settings.width, settings.height))


def _capture(pipe, captured: list, ticks: list, shapes: list, every: int, steps: int, device) -> dict:
    """The step callback: the clock and the latents' shape after every step, and a CPU copy of the latents after
    every ``every``-th step and the last (``every=0``: none).

    The clock is read once ``device`` has finished the step: GPU kernels run asynchronously, and without the
    wait a step's time would be the time to queue it."""
    def keep(i, latents):
        env.synchronize(device)
        ticks.append(time.perf_counter())
        shapes[:] = [tuple(latents.shape)]
        if every and ((i + 1) % every == 0 or i + 1 == steps):
            captured.append((i + 1, latents.detach().to("cpu", copy=True)))

    if "callback_on_step_end" in _parameters(pipe):
        def on_step_end(_pipe, i, _t, tensors):
            keep(i, tensors["latents"])
            return {}
        return {"callback_on_step_end": on_step_end, "callback_on_step_end_tensor_inputs": ["latents"]}
    return {"callback": lambda i, _t, latents: keep(i, latents), "callback_steps": 1}  # ModelScope's older API


def _parameters(pipe) -> set:
    import inspect

    return set(inspect.signature(pipe.__call__).parameters)


def _run(pipe, kwargs) -> np.ndarray:
    import torch

    with torch.no_grad():
        frames = pipe(**kwargs).frames
    return np.asarray(frames[0], dtype=np.float32)


def decode_latents(model: PublicModel, pipe, latents, settings) -> np.ndarray:
    """Decode latents from the middle of sampling into frames [T, H, W, 3] in [0, 1], as the pipeline would."""
    import torch

    vae = pipe.vae
    latents = latents.to(vae.device if vae.device.type != "meta" else model.device)
    with torch.no_grad():
        if model.name.startswith("wan"):
            mean = torch.tensor(vae.config.latents_mean).view(1, -1, 1, 1, 1).to(latents.device, vae.dtype)
            std = torch.tensor(vae.config.latents_std).view(1, -1, 1, 1, 1).to(latents.device, vae.dtype)
            video = vae.decode(latents.to(vae.dtype) * std + mean, return_dict=False)[0]
        elif model.name == "ltx-video":
            f = (settings.num_frames - 1) // pipe.vae_temporal_compression_ratio + 1
            spatial = pipe.vae_spatial_compression_ratio
            h, w = settings.height // spatial, settings.width // spatial
            latents = pipe._unpack_latents(latents, f, h, w, pipe.transformer_spatial_patch_size,
                                           pipe.transformer_temporal_patch_size)
            latents = pipe._denormalize_latents(latents, vae.latents_mean, vae.latents_std, vae.config.scaling_factor)
            timestep = None
            if vae.config.timestep_conditioning:
                timestep = torch.full((latents.shape[0],), 0.05, device=latents.device, dtype=vae.dtype)
            video = vae.decode(latents.to(vae.dtype), timestep, return_dict=False)[0]
        elif model.name == "svd-xt":
            video = pipe.decode_latents(latents.to(vae.dtype), settings.num_frames, _svd_chunk(model, settings))
        else:  # CogVideoX, ModelScope, AnimateDiff
            video = pipe.decode_latents(latents.to(vae.dtype))
        frames = pipe.video_processor.postprocess_video(video=video.float(), output_type="np")
    return np.asarray(frames[0], dtype=np.float32)


def _to_uint8(frames: np.ndarray) -> np.ndarray:
    return (np.nan_to_num(np.clip(frames, 0, 1)) * 255).round().astype(np.uint8)


def _reset_peak(device: str) -> float:
    """Start a peak-memory count: ``device``'s CUDA counter is reset; elsewhere the process's peak RSS so far, in
    GiB."""
    import torch

    if env.device_type(device) == "cuda":
        torch.cuda.reset_peak_memory_stats(device)
        return 0.0
    return env.peak_rss_gib()


def _peak_gib(device: str, before: float) -> dict:
    """The peak since :func:`_reset_peak`: ``device``'s GPU memory on CUDA, else the process's peak RSS."""
    import torch

    if env.device_type(device) == "cuda":
        return {"gpu_gib": torch.cuda.max_memory_allocated(device) / 2**30}
    return {"process_peak_rss_gib": env.peak_rss_gib(), "rss_peak_before_gib": before}


def _timing(start: float, ticks: list, end: float) -> dict:
    """Seconds in all, per denoising step (the median, after the first), and after the last step (the VAE
    decode and post-processing). The first step also pays for warm-up, so it is kept apart."""
    steps = np.diff([start, *ticks])
    later = steps[1:] if len(steps) > 1 else steps
    return {"seconds": round(end - start, 4), "first_step_seconds": round(float(steps[0]), 4) if len(steps) else None,
            "step_seconds": round(float(np.median(later)), 4) if len(later) else None,
            "decode_seconds": round(end - ticks[-1], 4) if ticks else None}


def _record(model: PublicModel, settings, prompt, seed, timing, peak, fallback) -> dict:
    """What ran, how, on what, for how long: stored beside the clip."""
    return {"model": model.name, "source": model.sources["hub_id"], "pipeline": model.entry.pipeline,
            "label": model.label, "tiny": model.tiny, "prompt": prompt, "seed": seed,
            "settings": dataclasses.asdict(settings), "dtype": model.dtype, "device": model.device,
            "plan": model.plan.describe() if model.plan else "tiny stand-in: no estimate",
            **timing, "peak_memory": peak, "fallback": fallback,
            "machine": env.machine(model.device), "versions": env.versions()}
