"""``load``: a public video model, ready to generate, through the plain ``from_pretrained`` a reader would write.

The recipe (each step a function below):

1. what: the registry entry, the device, the memory class and the settings (checked against the model's
   frame and size rules);
2. precision: ``choose_dtype`` (bf16 where the GPU has it, fp16 only where the model takes it, fp32 on a CPU);
3. will it fit: an estimate of GPU memory, RAM and disk, before anything is downloaded, and the memory
   measures it calls for; a clear refusal naming a setting that fits;
4. where from: the Hub (checked for network and licence gating first) or, offline, the tiny random-weight
   stand-in saved to a folder (``tiny=True`` or ``VIDLAB_TINY_MODELS=1``);
5. the pipeline: ``from_pretrained(model_id, dtype=...)``, then the memory measures. When RAM is short the
   text encoder is left out (``text_encoder=None``) and the prompt is encoded first (``PublicModel.encode``).
"""

from __future__ import annotations

import dataclasses
import gc
import os

from vidlab import env
from vidlab.public import architectures
from vidlab.public import memory as mem
from vidlab.public import tiny as tiny_parts
from vidlab.public.registry import MEMORY_CLASSES, Entry, Settings, check_settings, choose_dtype, conditioner_dtype
from vidlab.public.registry import entry as registry_entry

# Prompt length each text encoder takes (the pipelines' code: Wan 512 tokens, CogVideoX 226, LTX 128).
_MAX_SEQUENCE = {"wan2.1-t2v-1.3b": 512, "cogvideox-2b": 226, "ltx-video": 128}


class NoNetwork(ConnectionError):
    """The Hub cannot be reached and the model is not in the local cache."""


class GatedModel(PermissionError):
    """The model's licence must be accepted on the Hub, and this machine given a token."""


class NeedsGPU(RuntimeError):
    """A GPU memory class was asked for on a machine without a GPU."""


@dataclasses.dataclass
class PublicModel:
    """A loaded public model: its entry, settings, precision, memory plan and (once needed) its pipeline."""

    entry: Entry
    settings: Settings
    device: str  # as torch spells it: "cpu", "mps", "cuda" or "cuda:1" (env.device_type gives the kind)
    dtype: str  # "float32", "float16", "bfloat16" or "float16-checked"
    plan: mem.Plan | None  # None for the tiny stand-in (its estimate would say nothing about the real model)
    sources: dict  # {"hub_id": ...} (AnimateDiff also "adapter_id"): Hub ids, or folders of the tiny stand-in
    tiny: bool
    _pipe: object = None
    _embeds: dict = dataclasses.field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.entry.name

    @property
    def label(self) -> str:
        """What its output is: the smoke-test label for the tiny stand-in, else the model's name."""
        return tiny_parts.SMOKE_LABEL if self.tiny else self.name

    @property
    def on_cuda(self) -> bool:
        """True on a CUDA GPU, whichever one ("cuda", "cuda:1")."""
        return env.device_type(self.device) == "cuda"

    @property
    def encode_first(self) -> bool:
        return self.plan is not None and self.plan.encode_first

    @property
    def pipe(self):
        """The diffusers pipeline (loaded on first use when the prompt is encoded first)."""
        if self._pipe is None:
            self._pipe = _pipeline(self, text_encoder=not self.encode_first)
        return self._pipe

    def encode(self, prompts, negative_prompt: str = "") -> None:
        """Encode ``prompts`` with the text encoder alone, then free it (the low-RAM path).

        1. the encoder alone, straight onto its device (on a GPU, ``device_map`` streams it there one weight
           file at a time, so host RAM never holds all of it);
        2. a pipeline with only the tokenizer and that encoder (``transformer=None, vae=None``) encodes;
        3. the encoder is freed before the denoiser loads.
        """
        import importlib

        import torch

        cls, hub_id = _pipeline_class(self.entry), self.sources["hub_id"]
        library, class_name = cls.load_config(hub_id)["text_encoder"]
        encoder_class = getattr(importlib.import_module(library), class_name)
        dtype = torch_dtype(conditioner_dtype(self.name, self.device, self.dtype))
        with tiny_parts.quiet_loading(self.tiny):
            encoder = encoder_class.from_pretrained(hub_id, subfolder="text_encoder", dtype=dtype,
                                                    device_map=self.device if self.on_cuda else None)
            text_pipe = cls.from_pretrained(hub_id, text_encoder=encoder, transformer=None, vae=None, dtype=dtype)
        text_pipe.text_encoder.to(self.device)
        for prompt in [prompts] if isinstance(prompts, str) else prompts:
            with torch.no_grad():
                out = text_pipe.encode_prompt(prompt=prompt, negative_prompt=negative_prompt,
                                              do_classifier_free_guidance=True, device=self.device,
                                              max_sequence_length=_MAX_SEQUENCE[self.name])
            self._embeds[(prompt, negative_prompt)] = tuple(t.cpu() if t is not None else None for t in out)
        del text_pipe, encoder
        _free_memory()

    def embeds(self, prompt: str, negative_prompt: str = ""):
        """The cached encodings of ``prompt`` (encoding it now if needed)."""
        if (prompt, negative_prompt) not in self._embeds:
            self.encode(prompt, negative_prompt)
        return self._embeds[(prompt, negative_prompt)]


def load(name: str, memory: str | None = None, settings: Settings | None = None, device: str | None = None,
         tiny: bool | None = None, cache_dir: str | None = None) -> PublicModel:
    """Load public model ``name`` for the ``memory`` class ("cpu", "8gb", "t4", "24gb", "40gb"; None: the
    class of this machine), at ``settings`` (None: the registry's small settings for that class).

    ``device``: a name ("cuda", "cuda:1") or a ``torch.device``; None means "cpu" for the "cpu" class, else env's
    choice. Raises ``ValueError`` for settings the model cannot take or a device this machine lacks,
    :class:`NeedsGPU` (with a CPU-time estimate), :class:`~vidlab.public.memory.DoesNotFit`, :class:`NoNetwork` or
    :class:`GatedModel`, each before any download and each naming the fix.
    """
    # 1. what (the device normalised once, here: every later check reads its kind, not its spelling)
    e = registry_entry(name)
    tiny = _tiny_requested(tiny)
    device = str(env.resolve_device(device if device is not None else ("cpu" if memory == "cpu" else None)))
    memory = memory or ("cpu" if tiny else _memory_class(device))
    if memory not in MEMORY_CLASSES:
        raise ValueError(f"memory={memory!r}: expected one of {', '.join(MEMORY_CLASSES)} or None")
    settings = settings or (tiny_parts.TINY_SETTINGS[name] if tiny else e.small[memory])
    check_settings(name, settings.width, settings.height, settings.num_frames)
    # 2. precision
    dtype = choose_dtype(name, device, env.cuda_capability(device))
    # 3. will it fit (the tiny stand-in runs anywhere)
    plan = None
    if not tiny:
        _check_gpu(name, memory, device)
        plan = mem.choose_plan(name, settings, dtype, _budget(memory, device, cache_dir))
    # 4. where from
    sources = tiny_parts.tiny_sources(name) if tiny else _hub_sources(e, cache_dir)
    model = PublicModel(e, settings, device, dtype, plan, sources, tiny)
    # 5. the pipeline, now unless the prompt must be encoded first
    if not model.encode_first:
        model.pipe  # noqa: B018  (loads it)
    return model


def _tiny_requested(tiny: bool | None) -> bool:
    return tiny if tiny is not None else os.environ.get("VIDLAB_TINY_MODELS", "") == "1"


def _memory_class(device) -> str:
    """The memory class of this machine: by the total memory of ``device``'s GPU ("cpu" off CUDA)."""
    if env.device_type(device) != "cuda":
        return "cpu"
    total = mem.machine_budget(device).gpu_gib
    return next((c for c in ("8gb", "t4", "24gb") if total < MEMORY_CLASSES[c]["gpu_gib"] + 2), "40gb")


def _check_gpu(name: str, memory: str, device: str) -> None:
    """A GPU class without a GPU: say so, with what the CPU settings would cost here instead."""
    if MEMORY_CLASSES[memory]["gpu_gib"] is None or env.device_type(device) == "cuda":
        return

    cpu = registry_entry(name).small["cpu"]
    minutes = architectures.cpu_seconds_estimate(name, cpu) / 60
    raise NeedsGPU(f"memory={memory!r} needs a CUDA GPU, and this machine has none (device={device!r}). On this "
                   f"CPU the 'cpu' settings ({cpu.width}x{cpu.height}, {cpu.num_frames} frames, {cpu.steps} steps) "
                   f"would take roughly {minutes:.0f} min per clip (estimated from FLOPs and this CPU's measured "
                   f"speed). Fix: load({name!r}, memory='cpu'), or run on a GPU (Colab: Runtime > Change runtime "
                   "type > T4 GPU).")


def _budget(memory: str, device: str, cache_dir) -> mem.Budget:
    """The memory class's budget, lowered to what this machine has where it has less."""
    on_gpu = env.device_type(device) == "cuda"
    wanted, found = mem.class_budget(memory), mem.machine_budget(device if on_gpu else "cpu", cache_dir)
    gpu = None if wanted.gpu_gib is None else min(wanted.gpu_gib, found.gpu_gib or wanted.gpu_gib)
    source = f"memory class {memory!r}, within what was found on this machine"
    return mem.Budget(gpu, min(wanted.ram_gib, found.ram_gib), found.disk_gib, source)


def _hub_sources(e: Entry, cache_dir) -> dict:
    """Check that the Hub (or the local cache) has the model, before any large download."""
    sources = {"hub_id": e.hub_id}
    if e.name == "animatediff-sd1.5":
        sources = {"hub_id": ANIMATEDIFF_BASE, "adapter_id": e.hub_id}
    for repo in sources.values():
        _reachable(repo, "config.json" if repo == e.hub_id and e.name == "animatediff-sd1.5" else "model_index.json",
                   cache_dir)
    return sources


# The Stable Diffusion 1.5 base the AnimateDiff adapter runs on (diffusers' AnimateDiff docs use a 1.5 fine-tune;
# this is the base model itself).
ANIMATEDIFF_BASE = "stable-diffusion-v1-5/stable-diffusion-v1-5"


def _reachable(repo: str, filename: str, cache_dir) -> None:
    """Fetch one small file of ``repo``; turn the Hub's errors into ones that say what to do."""
    from huggingface_hub import hf_hub_download
    from huggingface_hub.errors import GatedRepoError, LocalEntryNotFoundError, RepositoryNotFoundError

    try:
        hf_hub_download(repo, filename, cache_dir=cache_dir)
    except GatedRepoError as err:
        raise GatedModel(f"{repo} is gated: accept its licence at https://huggingface.co/{repo} while logged in, "
                         "then give this machine your token (huggingface_hub.login(), the HF_TOKEN variable, or "
                         "Colab's Secrets panel).") from err
    except RepositoryNotFoundError as err:
        raise ValueError(f"{repo} was not found on the Hub (or is private): check the id") from err
    except (LocalEntryNotFoundError, OSError) as err:  # OSError: connection errors of requests and httpx
        raise NoNetwork(f"cannot reach the Hugging Face Hub for {repo}, and it is not in the local cache "
                        f"({cache_dir or 'the default cache'}): {type(err).__name__}. Fix: connect this machine "
                        "(or unset HF_HUB_OFFLINE), or copy the model into the cache; for an offline smoke test "
                        "of the code path, pass tiny=True.") from err


def _pipeline_class(e: Entry):
    import diffusers

    return getattr(diffusers, e.pipeline)


def _pipeline(model: PublicModel, text_encoder: bool = True):
    """``from_pretrained`` as a reader writes it, then the memory measures of the plan."""
    import diffusers
    import torch

    dtype = torch_dtype(model.dtype)
    extra = {} if text_encoder else {"text_encoder": None}
    hub_id = model.sources["hub_id"]
    if model.name == "animatediff-sd1.5":
        extra["motion_adapter"] = diffusers.MotionAdapter.from_pretrained(model.sources["adapter_id"], dtype=dtype)
    if model.name.startswith("wan"):  # its VAE stays in fp32 (Wan's docs)
        extra["vae"] = diffusers.AutoencoderKLWan.from_pretrained(hub_id, subfolder="vae", dtype=torch.float32)
    if model.name == "modelscope-1.7b" and dtype == torch.float16 and not model.tiny:
        extra["variant"] = "fp16"
    with tiny_parts.quiet_loading(model.tiny):
        pipe = _pipeline_class(model.entry).from_pretrained(hub_id, dtype=dtype, **extra)
    if model.tiny:
        pipe.set_progress_bar_config(disable=True)
    _apply_measures(pipe, model)
    return pipe


def _apply_measures(pipe, model: PublicModel) -> None:
    """Put the pipeline where the plan says: one device, model offload, group offload; tile the VAE."""
    measures = model.plan.measures if model.plan else env.device_type(model.device)
    if measures in ("cpu", "mps", "cuda", "gpu"):
        pipe.to(model.device)
    elif measures.startswith("model_offload"):
        pipe.enable_model_cpu_offload(device=model.device)
    else:
        import torch

        pipe.enable_group_offload(onload_device=torch.device(model.device), offload_device=torch.device("cpu"),
                                  offload_type="block_level", num_blocks_per_group=1)
    if "tiling" in measures or measures == "cpu":
        vae = getattr(pipe, "vae", None)
        for switch in ("enable_tiling", "enable_slicing"):
            if hasattr(vae, switch) and not model.name == "svd-xt":  # SVD decodes in chunks instead
                getattr(vae, switch)()


def torch_dtype(name: str):
    """The torch dtype of a registry precision ("float16-checked" runs in float16)."""
    import torch

    return getattr(torch, name.replace("-checked", ""))


def _free_memory() -> None:
    import torch

    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
