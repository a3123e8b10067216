"""The tiny video model as a diffusers pipeline: used exactly like a public model.

    pipe = vidlab.pipeline.load_pretrained(path)
    out = pipe(context=frames, num_inference_steps=25, generator=torch.Generator().manual_seed(0))
    out.frames   # float [B, T, H, W, 3] in [0, 1], the context frames included

Sampling uses a diffusers scheduler (DDIM by default; DPM-Solver++ and Euler drop in through
``Scheduler.from_config(pipe.scheduler.config)``). Clips longer than the trained length are generated
window by window, each window conditioned on the last generated frames. ``vidlab.evaluate`` continues
held-out clips with it and measures them.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import torch
from diffusers import (
    DDIMScheduler,
    DDPMScheduler,
    DiffusionPipeline,
    DPMSolverMultistepScheduler,
    EulerDiscreteScheduler,
)
from diffusers.utils import BaseOutput
from diffusers.utils import logging as diffusers_logging
from diffusers.utils.torch_utils import randn_tensor

from vidlab import env, pixels
from vidlab import model as _old_name  # noqa: F401  (diffusers loads only imported modules: older checkpoints name it)
from vidlab.denoiser import TinyTextEncoder, VideoDenoiser
from vidlab.latent import dit as _dit  # noqa: F401  (the latent pipeline's components, for loading)
from vidlab.latent import vae as _vae

SHIPPED = Path(__file__).parent / "checkpoints" / "tiny-physics"  # weights and training.json: package data
SHIPPED_MODELS = {"tiny-physics": SHIPPED,  # the projectile model of notebook 03 (the default)
                  "tiny-scenes": SHIPPED.parent / "tiny-scenes",  # prompted: collision, occlusion, table
                  "tiny-latent": SHIPPED.parent / "tiny-latent"}  # the latent recipe: a causal VAE and a DiT
RECORDS = "records/tiny-physics"  # the shipped run's loss log and progress samples: in the repository only
RECORDS_IN_CHECKOUT = env.CHECKOUT / RECORDS


# Samplers by name: diffusers schedulers on the model's training noise schedule, all with trailing timestep
# spacing (the first step starts at the highest noise, the last lands on t = 0).
SAMPLERS = {"DDIM": (DDIMScheduler, {"clip_sample": True}),
            "DPM-Solver++": (DPMSolverMultistepScheduler, {"algorithm_type": "dpmsolver++"}),
            "Euler": (EulerDiscreteScheduler, {})}
# Those are deterministic given the first noise. DDPM's ancestral step draws fresh noise at every step, so two
# continuations of one context can part ways late in sampling (the open-future experiment).
STOCHASTIC_SAMPLERS = {"DDPM": (DDPMScheduler, {"clip_sample": True})}


def sampler(name: str, training_scheduler_config):
    """The sampler ``name`` (a key of :data:`SAMPLERS`) for a model trained with this noise schedule.

    ``pipe.scheduler = sampler("Euler", pipe.scheduler.config)`` swaps a pipeline's sampler.
    """
    known = {**SAMPLERS, **STOCHASTIC_SAMPLERS}
    if name not in known:
        raise ValueError(f"unknown sampler {name!r}; expected one of {sorted(known)}")
    cls, settings = known[name]
    return cls.from_config(training_scheduler_config, timestep_spacing="trailing", **settings)


def default_sampler(training_scheduler_config) -> DDIMScheduler:
    """The sampler a trained model ships with: DDIM on its training noise schedule, with trailing timestep
    spacing (the last step lands on t = 0) and each x0 estimate clipped to the pixel range [-1, 1], which made
    the tiny model's samples usable. Others: :func:`sampler`."""
    return sampler("DDIM", training_scheduler_config)


@dataclasses.dataclass
class VideoPipelineOutput(BaseOutput):
    frames: np.ndarray | torch.Tensor


class VidlabPipeline(DiffusionPipeline):
    """Video prediction by diffusion: given the first k frames of a clip, generate the rest."""

    model_cpu_offload_seq = "text_encoder->denoiser"
    _optional_components = ["text_encoder"]  # models trained without prompts have none
    _callback_tensor_inputs = ["latents"]

    def __init__(self, denoiser: VideoDenoiser, scheduler: DDIMScheduler, text_encoder: TinyTextEncoder | None = None,
                 training_config: dict | None = None):
        super().__init__()
        self.register_modules(denoiser=denoiser, scheduler=scheduler, text_encoder=text_encoder)
        self.register_to_config(training_config=dict(training_config or {}))

    @property
    def network(self) -> torch.nn.Module:
        """The denoising network (the U-Net here; the transformer of :class:`LatentVideoPipeline`)."""
        return self.denoiser

    @property
    def training_config(self) -> dict:
        """Resolution, frame count, context frames, fps, scenarios and parameter ranges the model learned."""
        return dict(self.config.training_config)

    def check_inputs(self, context, prompt, num_frames, guidance_scale) -> np.ndarray:
        """Refuse what this model cannot do, naming the value and the fix; return the context as [B, k, H, W, 3]."""
        cfg = self.training_config
        arr = context.detach().cpu().numpy() if torch.is_tensor(context) else np.asarray(context)
        if arr.ndim == 4:
            arr = arr[None]
        k, size = cfg.get("context_frames"), cfg.get("size")
        if arr.ndim != 5 or arr.shape[-1] != 3:
            raise ValueError(f"context has shape {np.shape(context)}: expected uint8 [k, H, W, 3] or [B, k, H, W, 3]")
        if k is not None and arr.shape[1] != k:
            raise ValueError(f"context has {arr.shape[1]} frames: this model was trained on {k} context frames")
        if size is not None and arr.shape[2:4] != (size, size):
            raise ValueError(f"context frames are {arr.shape[2]}x{arr.shape[3]} px: this model was trained at "
                             f"{size}x{size}; render clips with vidlab.world.simulate(..., size={size})")
        if guidance_scale < 0:
            raise ValueError(f"guidance_scale={guidance_scale}: expected >= 0 (1 = no guidance)")
        if num_frames is not None and num_frames <= arr.shape[1]:
            raise ValueError(f"num_frames={num_frames}: expected more than the {arr.shape[1]} context frames")
        if prompt is not None:
            if self.text_encoder is None:
                raise ValueError("this model was trained without prompts: call it with prompt=None")
            prompts = [prompt] * len(arr) if isinstance(prompt, str) else list(prompt)
            if len(prompts) != len(arr):
                raise ValueError(f"{len(prompts)} prompts for {len(arr)} clips: give one prompt or one per clip")
            missing = self.text_encoder.unknown_words(prompts)
            if missing:
                raise ValueError(f"prompt words outside the vocabulary: {missing}")
        return arr

    def encode_prompt(self, prompt, batch_size: int, device) -> tuple:
        """Prompt embeddings and the "no prompt" embeddings for guidance. Without a prompt: (None, None) for a model
        trained without prompts, and the "no prompt" embedding it trained with (prompt dropout) for one with."""
        if prompt is None:
            if self.text_encoder is None:
                return None, None
            empty = self.text_encoder([None] * batch_size).to(device)
            return empty, empty
        prompts = [prompt] * batch_size if isinstance(prompt, str) else list(prompt)
        return self.text_encoder(prompts).to(device), self.text_encoder([None] * batch_size).to(device)

    def prepare_latents(self, shape, generator, device, dtype) -> torch.Tensor:
        """Starting noise, drawn where the generator lives (the CPU by default) and then moved to ``device``:
        one seed gives one clip on every device."""
        return randn_tensor(shape, generator=generator, device=device, dtype=dtype) * self.scheduler.init_noise_sigma

    @torch.no_grad()
    def __call__(self, context, prompt=None, num_frames: int | None = None, num_inference_steps: int = 25,
                 guidance_scale: float = 1.0, generator: torch.Generator | None = None, output_type: str = "np",
                 callback_on_step_end=None, callback_on_step_end_tensor_inputs=("latents",), return_dict=True,
                 progress: bool = True):
        """Generate the frames after ``context``; see the module docstring. ``output_type``: "np" or "pt"."""
        # 1. check the inputs against what the model learned
        arr = self.check_inputs(context, prompt, num_frames, guidance_scale)
        device, dtype = self._execution_device, next(self.network.parameters()).dtype
        known = pixels.to_model_space(arr).to(device=device, dtype=dtype)  # [B, k, 3, H, W] in [-1, 1]
        k, window = known.shape[1], self.training_config.get("num_frames", known.shape[1] + 12)
        total = num_frames or window
        # 2. encode the prompt
        text, uncond = self.encode_prompt(prompt, len(known), device)
        # 3. denoise window after window of the trained length, each conditioned on the last k frames
        clip = known
        while clip.shape[1] < total:
            new = self._window(clip[:, -k:], window, num_inference_steps, guidance_scale, text, uncond, generator,
                               callback_on_step_end, callback_on_step_end_tensor_inputs, progress)
            clip = torch.cat([clip, new[:, k:]], dim=1)
        # 4. back to pixels in [0, 1], channels last
        frames = pixels.to_unit_pixels(clip[:, :total])
        frames = frames.cpu().numpy() if output_type == "np" else frames
        return VideoPipelineOutput(frames=frames) if return_dict else (frames,)

    def _window(self, known, window, steps, guidance, text, uncond, generator, callback, callback_inputs, progress):
        """One window: the known frames are put back before every denoiser call, the rest is denoised."""
        b, k, c, h, w = known.shape
        context = torch.zeros(b, window, c, h, w, device=known.device, dtype=known.dtype)
        context[:, :k] = known
        mask = torch.zeros(b, window, device=known.device, dtype=known.dtype)
        mask[:, :k] = 1
        # timesteps stay on the CPU: the scheduler indexes its CPU tables with them, the denoiser moves them
        self.scheduler.set_timesteps(steps)
        latents = self.prepare_latents(context.shape, generator, known.device, known.dtype)

        def predict(latents, t):
            x = self.scheduler.scale_model_input(latents, t)
            x = torch.where(mask[:, :, None, None, None] > 0, context, x)
            if text is not None and guidance != 1.0:
                return self._guided(x, t, context, mask, text, uncond, guidance)
            return self.denoiser(x, t, context, mask, text)

        latents = self._sample(latents, predict, generator, callback, callback_inputs, progress)
        return torch.where(mask[:, :, None, None, None] > 0, context, latents)

    def _sample(self, latents, predict, generator, callback, callback_inputs, progress):
        """The sampling loop of both pipelines: at each of the scheduler's timesteps the network's output
        (``predict(latents, t)``) goes through ``scheduler.step``; a callback may replace the latents."""
        bar = self.progress_bar(total=len(self.scheduler.timesteps)) if progress else None
        for i, t in enumerate(self.scheduler.timesteps):
            latents = self.scheduler.step(predict(latents, t), t, latents, generator=generator).prev_sample
            if callback is not None:
                values = {"latents": latents}
                out = callback(self, i, t, {name: values[name] for name in callback_inputs})
                latents = out.get("latents", latents) if isinstance(out, dict) else latents
            if bar is not None:
                bar.update()
        if bar is not None:
            bar.close()
        return latents

    def _guided(self, x, t, context, mask, text, uncond, guidance):
        """Classifier-free guidance: uncond + guidance * (cond - uncond), in one batched call."""
        both = self.denoiser(torch.cat([x, x]), t, torch.cat([context, context]), torch.cat([mask, mask]),
                             torch.cat([text, uncond]))
        cond, free = both.chunk(2)
        return free + guidance * (cond - free)


class LatentVideoPipeline(VidlabPipeline):
    """The modern recipe (Sora's report; Wan 2.1): the given frames go into a causal VAE's latents, a transformer
    over spacetime patches makes the rest by flow matching, and the VAE decodes the clip. Called exactly like
    :class:`VidlabPipeline` (the same inputs, checks and outputs), so ``vidlab.evaluate`` measures either.

    The VAE is ``vidlab.latent.vae.TinyVideoVAE`` or diffusers' ``AutoencoderKLWan`` (both encode 1 + 4k frames,
    the first alone); its config's ``latents_mean`` and ``latents_std``, when set, normalise the latents per
    channel, as Wan's do. The model's given frames must be 1 + 4m (5: two latent frames).
    """

    model_cpu_offload_seq = "text_encoder->transformer->vae"
    _optional_components = ["text_encoder"]

    def __init__(self, vae, transformer, scheduler, text_encoder: TinyTextEncoder | None = None,
                 training_config: dict | None = None):
        DiffusionPipeline.__init__(self)
        self.register_modules(vae=vae, transformer=transformer, scheduler=scheduler, text_encoder=text_encoder)
        self.register_to_config(training_config=dict(training_config or {}))

    @property
    def network(self) -> torch.nn.Module:
        return self.transformer

    def encode_frames(self, frames: torch.Tensor) -> torch.Tensor:
        """[B, T, 3, H, W] in [-1, 1] (T = 1 + 4m) -> normalised latents [B, z, 1 + m, H/4, W/4] (the mean)."""
        return _vae.encode_frames(self.vae, frames)

    def decode_latents(self, latents: torch.Tensor) -> torch.Tensor:
        """Normalised latents -> frames [B, T, 3, H, W] in [-1, 1]."""
        return _vae.decode_latents(self.vae, latents)

    def _window(self, known, window, steps, guidance, text, uncond, generator, callback, callback_inputs, progress):
        """One window of ``window`` frames: encode the known frames, denoise the other latent frames from pure
        noise with Euler steps along the straight path, decode, and put the known frames back exactly."""
        given = self.encode_frames(known)
        b, z, g, h, w = given.shape
        frames_latent = 1 + (window - 1) // _vae.time_group(self.vae)
        context = torch.zeros(b, z, frames_latent, h, w, device=known.device, dtype=known.dtype)
        context[:, :, :g] = given
        mask = torch.zeros(b, frames_latent, device=known.device, dtype=known.dtype)
        mask[:, :g] = 1
        keep = mask[:, None, :, None, None] > 0
        self.scheduler.set_timesteps(steps)
        latents = randn_tensor(context.shape, generator=generator, device=known.device, dtype=known.dtype)

        def predict(latents, t):  # the velocity, guided when a prompt and a scale ask for it
            x, timestep = torch.where(keep, context, latents), t.expand(b).to(known.device)
            velocity = self.transformer(x, timestep, context, mask, text)
            if text is not None and guidance != 1.0:
                free = self.transformer(x, timestep, context, mask, uncond)
                velocity = free + guidance * (velocity - free)
            return velocity

        latents = self._sample(latents, predict, generator, callback, callback_inputs, progress)
        video = self.decode_latents(torch.where(keep, context, latents))
        video[:, :known.shape[1]] = known
        return video


PIPELINES = {"VidlabPipeline": VidlabPipeline, "LatentVideoPipeline": LatentVideoPipeline}


def load_pretrained(path=None, device: str | None = None) -> VidlabPipeline:
    """Load a trained tiny video model onto ``device``; ``path=None`` loads the checkpoint shipped with vidlab,
    and a name in ``SHIPPED_MODELS`` ("tiny-scenes": the prompted model of the harder scenes) another one.

    ``device=None`` means env's choice: cuda, then mps, then cpu. Raises a ValueError naming the folder when it
    is missing or not a vidlab checkpoint, and one naming the device when it is not on this machine.
    """
    device = env.resolve_device(device)
    folder = SHIPPED_MODELS.get(str(path), Path(path)) if path is not None else SHIPPED
    if not (folder / "model_index.json").is_file():
        hint = ("no checkpoint is shipped with this version of vidlab yet; train one with "
                "`python -m vidlab.train --output runs/tiny`" if path is None else
                "expected a folder written by pipe.save_pretrained(...) (it holds model_index.json)")
        raise ValueError(f"checkpoint folder {str(folder)!r} is missing or incomplete: {hint}")
    try:
        pipe = read_folder(folder)
    except Exception as err:
        if not _unreadable_file(err):  # another cause (a diffusers change, a dtype mismatch) is raised as it is
            raise
        raise ValueError(f"checkpoint folder {str(folder)!r} could not be loaded ({type(err).__name__}: {err}); "
                         "it may be corrupt: save it again with pipe.save_pretrained(...)") from err
    return pipe.to(device)


def _unreadable_file(err: BaseException) -> bool:
    """True when ``err`` comes from a weight or config file that cannot be parsed (a corrupt or half-written one).

    diffusers wraps those in an OSError, so the chain of causes is searched for the parser's own error.
    """
    from safetensors import SafetensorError

    seen = set()
    while err is not None and id(err) not in seen:
        if isinstance(err, SafetensorError | json.JSONDecodeError | UnicodeDecodeError):
            return True
        seen.add(id(err))
        err = err.__cause__ or err.__context__
    return False


def read_folder(folder) -> VidlabPipeline:
    """The pipeline class the folder names (``VidlabPipeline`` or ``LatentVideoPipeline``), loaded from it without
    diffusers' loading bar.

    Loading takes a split second, so the bar adds nothing; in a saved notebook it stays frozen at "0%".
    """
    name = json.loads((Path(folder) / "model_index.json").read_text()).get("_class_name")
    if name not in PIPELINES:
        raise ValueError(f"checkpoint folder {str(folder)!r} holds a {name!r}: vidlab loads {sorted(PIPELINES)}")
    diffusers_logging.disable_progress_bar()
    try:
        return PIPELINES[name].from_pretrained(folder, use_safetensors=True)
    finally:
        diffusers_logging.enable_progress_bar()


def shipped_record(name: str, model: str = "tiny-physics") -> Path:
    """A record of the shipped training run, ``log.jsonl`` or ``progress.npz``, as a local file.

    The weights and ``training.json`` ship inside the package; these larger records stay in the repository
    (``records/tiny-physics/``). From a clone they are read in place; elsewhere (a pip install on Colab) they
    are downloaded once from the repository into ``$VIDLAB_CACHE`` (default ``~/.cache/vidlab``).
    """
    return env.repository_file(f"{RECORDS.replace('tiny-physics', model)}/{name}")
