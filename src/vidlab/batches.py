"""Where a training step's clips come from: fresh from the world every step, or a pool of clips made once.

- **fresh** (``clip_pool=0``): each step simulates ``batch_size`` new clips, seeded by (step, process), so no
  clip is seen twice. It costs CPU time on the critical path of every step (pymunk and rendering, one core).
- **pool** (``clip_pool=N``): the first N clips that a fresh run would draw are simulated once, on all CPU
  cores, and kept as uint8 on the training device; each step draws ``batch_size`` of them at random, seeded
  by (step, process). Making clips then costs nothing per step, and each clip is seen about
  ``steps x batch_size / N`` times.

Either way a step's batch depends only on the config, the step and the process, so a resumed run sees the
same clips as an uninterrupted one. Which clips a seed gives (scenario, size, frames, window) is the
config's :class:`vidlab.world.ClipSpec` (``cfg.clip_spec``); this module only chooses the seeds.
"""

from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context

import numpy as np
import torch

from vidlab import pixels, world

POOL_STREAM = 1 << 40  # the pool's index draws use their own seeds, so the noise of a step stays the same


def draw_seed(cfg, step: int, process_index: int = 0, num_processes: int = 1) -> int:
    """The number that seeds one process's clips and noise at ``step``: distinct for every (step, process)."""
    return (cfg.seed * 1_000_003 + step) * num_processes + process_index


def clip_seeds(cfg, step: int, process_index: int = 0, num_processes: int = 1) -> list:
    """World seeds of one process's fresh clips at ``step`` (all above ``world.TRAIN_SEED_BASE``)."""
    first = world.TRAIN_SEED_BASE + draw_seed(cfg, step, process_index, num_processes) * cfg.batch_size
    return list(range(first, first + cfg.batch_size))


def simulate(cfg, seeds) -> tuple:
    """The clips of ``seeds`` as in training: uint8 ``[N, T, H, W, 3]`` and their captions.

    ``cfg``: a training config or its :class:`vidlab.world.ClipSpec`, which renders the clips.
    """
    clips = world.ClipSpec.of(cfg).clips(seeds)
    return np.stack([c.video for c in clips]), [c.caption for c in clips]


def fresh_batch(cfg, step: int, process_index: int = 0, num_processes: int = 1, device=None):
    """Fresh clips for one step of one process: video ``[B, T, 3, H, W]`` in [-1, 1] on ``device``, captions."""
    video, captions = simulate(cfg, clip_seeds(cfg, step, process_index, num_processes))
    return pixels.to_model_space(video).to(device or "cpu"), captions


class ClipPool:
    """``cfg.clip_pool`` clips made once (the first ones a fresh one-process run would draw), kept on ``device``.

    ``workers``: processes that simulate the clips (default: :func:`pool_workers`).
    """

    def __init__(self, cfg, device=None, workers: int | None = None):
        if cfg.clip_pool < cfg.batch_size:
            raise ValueError(f"clip_pool={cfg.clip_pool}: a pool needs at least batch_size={cfg.batch_size} "
                             "clips (or 0 for fresh clips every step)")
        self.cfg = cfg
        video, self.captions = _simulate_in_parallel(cfg, pool_seeds(cfg), workers)
        self.video = torch.from_numpy(video).to(device or "cpu")  # uint8: 49 KB a clip at 32 px, 16 frames

    def batch(self, step: int, process_index: int = 0, num_processes: int = 1):
        """``batch_size`` clips of the pool for one step of one process, as :func:`fresh_batch` returns them."""
        draw = torch.Generator().manual_seed(POOL_STREAM + draw_seed(self.cfg, step, process_index, num_processes))
        index = torch.randint(len(self.video), (self.cfg.batch_size,), generator=draw)
        video = self.video[index.to(self.video.device)]
        return pixels.to_model_space(video), [self.captions[i] for i in index.tolist()]


def pool_seeds(cfg) -> list:
    """World seeds of the ``cfg.clip_pool`` clips of a pool: the first ones a fresh one-process run draws."""
    steps = -(-cfg.clip_pool // cfg.batch_size)
    return [s for step in range(steps) for s in clip_seeds(cfg, step)][:cfg.clip_pool]


def pool_workers(clips: int) -> int:
    """Processes that make a pool of ``clips``: one per CPU core, at most one per 4,096 clips (starting a
    process costs a few seconds, as long as simulating a few thousand clips)."""
    return min(os.cpu_count() or 1, max(1, clips // 4096))


def _simulate_in_parallel(cfg, seeds: list, workers: int | None) -> tuple:
    workers = workers or pool_workers(len(seeds))
    if workers <= 1:
        return simulate(cfg, seeds)
    chunks = [seeds[i::workers] for i in range(workers)]
    # spawn, not fork: forking a process whose torch threads have run can hang (Jupyter kernels, macOS)
    with ProcessPoolExecutor(workers, mp_context=get_context("spawn")) as pool:
        parts = list(pool.map(simulate, [world.ClipSpec.of(cfg)] * workers, chunks))
    order = np.argsort(np.concatenate([np.arange(i, len(seeds), workers) for i in range(workers)]))
    video = np.concatenate([p[0] for p in parts])[order]
    captions = [c for p in parts for c in p[1]]
    return video, [captions[i] for i in order]
