"""The experiments of notebooks 04, 05 and 08: each one command that trains, evaluates and records its results.

    python -m vidlab.experiments NAME [--fast]     # results/NAME/ (fast: runs/experiments-fast/NAME/)
    python -m vidlab.experiments --list

Each writes ``rows.jsonl`` (one row per finished seed or condition, so an interrupted run resumes without
redoing them), ``rows.csv``, ``summary.json`` (the figures the notebooks and the README quote) and
``record.json`` (mode, seeds, git commit, machine, wall time). Full mode trains at least 3 seeds per
comparison; fast mode runs the same code in seconds, for tests.

Modules: ``core`` (modes, results, the registry, :func:`run`), ``stats`` (intervals), ``zoo`` (models trained
once and shared), and one module per family of experiments: ``ood`` (in against out of distribution, at two
training lengths, and training-set size), ``resolution`` (smaller balls at 32 and 64 px: out of distribution
or below the patch), ``targets`` (x0, ε or v, and the noise schedule), ``attributes`` (which attribute wins:
colour or size against velocity), ``context`` (error against the number of conditioning frames), ``memory``
(does a generated motion follow the physics or the nearest training clip?), ``failures`` (how often each kind
of failure happens, and "looks right" against "is right"), ``sampling`` (the rates against the sampler, the
number of steps and the training time), ``scenes`` (object permanence, momentum and guidance in the harder
scenes, with a prompted model), ``drift`` (clips 4 times the trained length, and what helps; its measures in
``drift_measures``), ``mixing`` (why frames are denoised together, its causes separated: notebook 01);
``vae_physics`` (where the latent recipe's VAE breaks physics: issue 24), ``on_the_dit`` (ood_vs_id and
colour_vs_velocity with the latent DiT), ``open_future`` (when the given frames do not decide the future:
the odds, the ghosts, and what causes them; issue 25); ``plots`` draws the results for the notebooks.
"""

from vidlab.experiments import (  # noqa: F401
    attributes,
    context,
    drift,
    failures,
    memory,
    mixing,
    on_the_dit,
    ood,
    open_future,
    resolution,
    sampling,
    scenes,
    targets,
    vae_physics,
)
from vidlab.experiments.core import EXPERIMENTS, FAST, FULL, MODELS, Mode, Results, load, run, train_models  # noqa: F401
