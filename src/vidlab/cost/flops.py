"""FLOPs of one denoising step against the size of the clip, counted on the ``meta`` device (notebook 08).

Timing a step on a shared CPU measures the machine's other work as much as the model. Counting its floating-point
operations does not: torch's ``FlopCounterMode`` records every matrix product, convolution and attention call
while the network runs on ``meta`` tensors, which have shapes but no data. The count is exact for those
operations (element-wise work is left out), deterministic, and costs no memory, so a 1080p clip counts as
cheaply as a thumbnail.

- ``vidlab_step``: this series' tiny denoiser (the shipped design), one forward pass of one clip;
- ``stand_in_step``: a public model's offline stand-in (tiny config, same class), one guided step;
- ``real_step``: a public model's denoiser at its real configuration, one guided step;
- ``sweep``: one of them over several sizes, and ``scaling_exponent`` for the slope of log FLOPs on log tokens.
"""

from __future__ import annotations

import functools

import numpy as np
import torch

__all__ = ["count", "real_step", "scaling_exponent", "stand_in_step", "sweep", "vidlab_step"]


def count(module, *args, **kwargs) -> float:
    """FLOPs of ``module(*args, **kwargs)`` on the meta device (the module and the inputs must live there)."""
    from torch.utils.flop_counter import FlopCounterMode

    # The default device stays meta during the call: some blocks make helper tensors with no device.
    with torch.device("meta"), FlopCounterMode(display=False) as counter, torch.no_grad():
        module(*args, **kwargs)
    return float(counter.get_total_flops())


def vidlab_step(width: int, height: int, num_frames: int) -> dict:
    """FLOPs of one forward pass of the tiny denoiser on one clip, and its tokens (frames x 4x4 patches)."""
    from vidlab import train

    if width != height:
        raise ValueError(f"width={width}, height={height}: the tiny model's frames are square")
    cfg = train.TrainConfig(size=width, num_frames=num_frames)
    with torch.device("meta"):
        net, _ = train.build(cfg)
        x = torch.zeros(1, num_frames, 3, height, width)
        mask = torch.zeros(1, num_frames)
        t = torch.tensor([500])
    flops = count(net, x, t, x, mask, None)
    return {"tokens": num_frames * (height // 4) * (width // 4), "flops": flops}


@functools.lru_cache(maxsize=8)
def _stand_in_config(name: str):
    """The class and config of ``name``'s stand-in denoiser, and the stand-in pipeline (for its latent grid)."""
    from vidlab import public

    pipe = public.load(name, tiny=True).pipe
    net = pipe.transformer
    return type(net), dict(net.config), pipe


def stand_in_step(name: str, width: int, height: int, num_frames: int) -> dict:
    """FLOPs of one guided step (both passes) of ``name``'s offline stand-in, and the tokens it sees.

    Only Wan 2.1's stand-in is supported: the same ``WanTransformer3DModel`` class as the real model, with a tiny
    width and depth.
    """
    from vidlab.cost.arithmetic import pipeline_latent_grid, pipeline_tokens

    if name != "wan2.1-t2v-1.3b":
        raise ValueError(f"name={name!r}: FLOPs are counted for the Wan 2.1 stand-in only")
    cls, config, pipe = _stand_in_config(name)
    f, h, w = pipeline_latent_grid(pipe, width, height, num_frames)
    with torch.device("meta"):
        net = cls.from_config(config)
        latents = torch.zeros(2, config["in_channels"], f, h, w)  # guidance: two passes, counted as a batch of 2
        text = torch.zeros(2, 512, config["text_dim"])
        t = torch.full((2,), 500.0)
    flops = count(net, hidden_states=latents, timestep=t, encoder_hidden_states=text, return_dict=False)
    return {"tokens": pipeline_tokens(pipe, width, height, num_frames), "flops": flops}


def real_step(name: str, width: int, height: int, num_frames: int) -> dict:
    """FLOPs of one guided step of ``name``'s denoiser at its real configuration (random weights, meta device)."""
    from vidlab.public import Settings, architectures

    settings = Settings(width, height, num_frames, 50, 5.0, 16)
    return {"tokens": architectures.latent_tokens(name, settings),
            "flops": architectures.counted_step_flops(name, settings)}


def sweep(kind: str, sizes) -> list:
    """One row per (width, height, frames) in ``sizes``: {"width", "height", "frames", "tokens", "flops"}.

    ``kind``: "vidlab" (the tiny denoiser), "stand-in" (Wan 2.1's stand-in) or a registry name (its real
    configuration).
    """
    step = {"vidlab": vidlab_step,
            "stand-in": functools.partial(stand_in_step, "wan2.1-t2v-1.3b")}.get(kind)
    step = step or functools.partial(real_step, kind)
    return [{"width": w, "height": h, "frames": f, **step(w, h, f)} for w, h, f in sizes]


def scaling_exponent(tokens, flops, last: int = 3) -> float:
    """The slope of log(FLOPs) against log(tokens) over the ``last`` largest sizes: 1 while the layers that see
    each token once dominate, 2 once attention's N^2 does."""
    order = np.argsort(tokens)[-last:]
    return float(np.polyfit(np.log(np.asarray(tokens, float)[order]), np.log(np.asarray(flops, float)[order]), 1)[0])
