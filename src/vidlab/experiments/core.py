"""What every experiment shares: its settings by mode, its results folder, and the registry of experiments.

An experiment is a function ``run(ctx) -> summary`` registered with :func:`experiment`. It asks ``ctx`` for
the models it needs (trained once, shared between experiments, resumable: :mod:`vidlab.experiments.zoo`)
and appends one row to ``ctx.results`` for each unit of work it finishes (a seed, a condition). Before
doing a unit it asks ``ctx.results.done(...)``, so an interrupted experiment resumes without redoing
finished work. Its summary (the figures the notebooks and README quote) is written beside the rows.
"""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import io
import json
import os
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

from vidlab import env, runs

# Rooted at the checkout when vidlab runs from a clone, whatever the working folder (a notebook's is notebooks/):
# a notebook's rerun then writes where load() reads. Elsewhere (a pip install), under the working folder.
RESULTS = env.workspace() / "results"  # full-mode results, committed
FAST_RESULTS = env.workspace() / "runs" / "experiments-fast"  # fast mode: a smoke test of the code, never committed
EXPERIMENTS: dict[str, Callable] = {}
MODELS: dict[str, Callable] = {}  # experiment name -> models(ctx): the (config, minutes) pairs it trains
SUMMARISERS: dict[str, Callable] = {}  # experiment name -> summarise(rows), for a trained_only run that stops
RECIPES: dict[str, dict] = {}  # experiment name -> changes to every config it makes (another model family)


@dataclasses.dataclass(frozen=True)
class Mode:
    """The sizes an experiment runs at: full (the committed results) or fast (seconds, for tests and CI)."""

    name: str
    seeds: tuple  # training seeds: every comparison uses at least 3 in full mode
    train_minutes: float  # per model, on this project's 2-core CPU
    clips: int  # held-out clips per condition
    sampling_steps: int  # DDIM steps
    pool: int  # the training clip pool (the training-set size) unless an experiment varies it
    batch: int  # clips per training step
    snapshots: tuple  # minutes of training after which every model's pipeline is also saved
    scene_minutes: float  # per model of the harder scenes (collision, occlusion, table; prompted)
    fast: bool


FULL = Mode("full", seeds=(0, 1, 2), train_minutes=10.0, clips=256, sampling_steps=25, pool=16384, batch=16,
            snapshots=(1, 3), scene_minutes=30.0, fast=False)
FAST = Mode("fast", seeds=(0, 1, 2), train_minutes=0.05, clips=4, sampling_steps=2, pool=32, batch=4,
            snapshots=(0,), scene_minutes=0.05, fast=True)


def experiment(name: str, models: Callable, summarise: Callable | None = None, recipe: dict | None = None):
    """Register ``run(ctx) -> summary dict`` under ``name`` (the command's argument), and ``models(ctx)``: the
    ``(config, minutes)`` of every model it asks ``ctx.model`` for (so that they can be trained beforehand, in
    parallel: :func:`train_models`). ``summarise(rows) -> summary``, if given, summarises the rows written so far
    when a ``trained_only`` run stops at a model not trained yet (:func:`run`). ``recipe``: changes that every
    config of this experiment gets (``ctx.config``): the same experiment on another model family."""
    def register(run):
        EXPERIMENTS[name], MODELS[name] = run, models
        if summarise is not None:
            SUMMARISERS[name] = summarise
        if recipe:
            RECIPES[name] = dict(recipe)
        return run
    return register


def each_seed(minutes: str = "train_minutes", **changes) -> Callable:
    """A ``models(ctx)`` for :func:`experiment`: the recipe's config with ``changes``, one per training seed,
    trained for the mode's ``minutes`` (the name of a :class:`Mode` field)."""
    def models(ctx):
        return [(ctx.config(seed=seed, **changes), getattr(ctx.mode, minutes)) for seed in ctx.mode.seeds]
    return models


class Results:
    """One experiment's folder: ``rows.jsonl`` (appended as work finishes), ``rows.csv``, ``summary.json`` and
    ``record.json`` (mode, seeds, git commit, machine, wall time summed over every session that worked on it).
    """

    def __init__(self, folder, name: str, mode: Mode):
        self.folder, self.name, self.mode = Path(folder), name, mode
        self.folder.mkdir(parents=True, exist_ok=True)
        self.rows_file = self.folder / "rows.jsonl"
        self.began = time.perf_counter()
        self.added = 0  # rows this session wrote

    def rows(self) -> list:
        """Every row written so far, this session's and earlier sessions'."""
        if not self.rows_file.exists():
            return []
        return [json.loads(line) for line in self.rows_file.read_text().splitlines() if line.strip()]

    def done(self, **key) -> dict | None:
        """The row already written for this unit of work (its key fields equal ``key``), or None."""
        return next((r for r in self.rows() if all(r.get(k) == v for k, v in key.items())), None)

    def add(self, row: dict) -> dict:
        """Append one finished unit's row (written at once, so that nothing is lost if the run stops; in one
        ``write`` to a file opened for appending, so that processes working on other seeds never interleave)."""
        line = (json.dumps(row, default=runs.plain) + "\n").encode()  # inf and NaN as Python's json writes them
        fd = os.open(self.rows_file, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, line)
        finally:
            os.close(fd)
        self.added += 1
        return row

    def finish(self, summary: dict, device=None, models=()) -> dict:
        """Write the summary, the rows' scalar fields as CSV, and the record; return the record.

        The record keeps every session that wrote rows (machine, seeds, seconds), and where each model it used
        was trained (``models``: zoo folders), since both can differ between sessions. A session that only
        summarises rows written before leaves the record's sessions, machine and time as they were.

        Processes working on other seeds may share the folder and finish together: every file is replaced whole
        (never seen half-written), and the read-modify-write of ``record.json`` holds the folder's lock, so no
        session is lost."""
        seconds = round(time.perf_counter() - self.began, 1)
        session = {"machine": env.machine(device), "seeds": list(self.mode.seeds), "git_commit": git_commit(),
                   "finished": time.strftime("%Y-%m-%d %H:%M"), "seconds": seconds}
        with _locked(self.folder):
            return self._write(summary, session, models)

    def _write(self, summary: dict, session: dict, models) -> dict:
        """:meth:`finish`'s writes, made while holding the folder's lock."""
        rows = self.rows()
        runs.write_json(self.folder / "summary.json", summary)
        if rows:
            fields = list(dict.fromkeys(k for r in rows for k, v in r.items() if not isinstance(v, dict | list)))
            text = io.StringIO(newline="")  # the scalar fields; lists stay in JSON
            writer = csv.DictWriter(text, fields, extrasaction="ignore")
            writer.writeheader()
            writer.writerows(rows)
            runs.write_text(self.folder / "rows.csv", text.getvalue())
        earlier = self.folder / "record.json"
        before = json.loads(earlier.read_text()) if earlier.exists() else {}
        record = {**before, "experiment": self.name, "mode": {**dataclasses.asdict(self.mode), "seeds": _seeds(rows)},
                  "models": {**before.get("models", {}), **{Path(m).name: _trained_where(m) for m in models}}}
        if self.added or not before:
            record.update({"git_commit": session["git_commit"], "machine": session["machine"],
                           "finished": session["finished"],
                           "wall_seconds": round(before.get("wall_seconds", 0.0) + session["seconds"], 1),
                           "sessions": [*before.get("sessions", []), session]})
        runs.write_json(earlier, record)
        return record


@contextlib.contextmanager
def _locked(folder: Path):
    """Hold an exclusive lock on ``folder`` while the block runs (``flock`` on the folder itself, so that no lock
    file is left among the committed results). Without ``fcntl`` (Windows) there is no lock: processes there
    should not finish into one folder at the same moment."""
    try:
        import fcntl
    except ImportError:
        yield
        return
    fd = os.open(folder, os.O_RDONLY)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)  # waits for another process's finish; released when fd closes
        yield
    finally:
        os.close(fd)


FILES = {"summary": "summary.json", "record": "record.json", "rows": "rows.jsonl", "gallery": "gallery.npz"}


def load(name: str, what: str = "summary"):
    """An experiment's committed full-mode results: ``what`` = "summary", "record" (dicts), "rows" (a list)
    or "gallery" (numpy arrays, for the experiments that save example videos).

    From a clone they are read from ``results/NAME/``; elsewhere (Colab) downloaded once from the repository.
    """
    if what not in FILES:
        raise ValueError(f"what={what!r}: expected one of {sorted(FILES)}")
    written = RESULTS / name / FILES[what]  # in a clone the committed file; elsewhere a rerun's, if there is one
    path = written if written.is_file() else env.repository_file(f"results/{name}/{FILES[what]}")
    if what == "gallery":
        import numpy as np

        with np.load(path) as arrays:
            return dict(arrays)
    text = path.read_text()
    return [json.loads(line) for line in text.splitlines() if line.strip()] if what == "rows" else json.loads(text)


def _seeds(rows) -> list:
    """The training seeds the rows cover (rows of the true clips have the seed "truth")."""
    return sorted({r["seed"] for r in rows if isinstance(r.get("seed"), int)})


def _trained_where(folder) -> dict:
    """A zoo model's steps, training seconds and machine (from its ``state.json``)."""
    state = json.loads((Path(folder) / "state.json").read_text())
    return {k: state.get(k) for k in ("step", "seconds", "machine")}


def git_commit() -> str:
    """The commit this code is at (with "+changes" when the checkout's code differs from it; results written
    under ``results/`` do not count), or "unknown". Git runs in the checkout, whatever the working folder."""
    fallback = os.environ.get("VIDLAB_GIT_COMMIT", "unknown")  # a copy without git (a lent GPU machine) can say it
    if not env.in_clone():  # a pip install: the working folder's repository, if any, is not this code's
        return fallback
    git = ["git", "-C", str(env.CHECKOUT)]
    try:
        head = subprocess.run([*git, "rev-parse", "HEAD"], capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run([*git, "status", "--porcelain", "--untracked-files=no", "--", ".", ":!results"],
                               capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return fallback
    return head + ("+changes" if dirty else "")


@dataclasses.dataclass
class Context:
    """What an experiment's ``run`` gets: its mode, its results, the device, and the models it needs."""

    name: str
    mode: Mode
    results: Results
    device: object = None
    steps: int | None = None  # train new models for this many steps instead of fitting them to the minutes
    trained_only: bool = False  # measure only with models the zoo holds; stop (NotTrained) at the first it lacks
    used: list = dataclasses.field(default_factory=list)  # zoo folders of the models asked for
    recipe: dict = dataclasses.field(default_factory=dict)  # the experiment's own changes to every config

    def config(self, **changes):
        """The 10-minute recipe's training config (the mode's clip pool, batch and snapshots), with the
        experiment's ``recipe`` (another model family, say) and then ``changes``."""
        from vidlab.train import TrainConfig

        return TrainConfig(**{"clip_pool": self.mode.pool, "batch_size": self.mode.batch,
                              "snapshot_minutes": self.mode.snapshots, **self.recipe, **changes})

    def clip_spec(self, **changes):
        """The clips the recipe's config (with ``changes``) trains on (a ``vidlab.world.ClipSpec``): what
        ``evaluate.held_out`` renders, for measuring the probes on true clips without a model."""
        return self.config(**changes).clip_spec

    def clip_settings(self, **changes) -> dict:
        """:meth:`clip_spec` as the dict a pipeline's ``training_config`` holds (for code that reads that dict)."""
        return self.clip_spec(**changes).to_dict()

    def model(self, cfg, minutes: float | None = None):
        """The pipeline of ``cfg`` trained for ``minutes`` (default: the mode's): from the zoo, or trained now
        (resumable)."""
        from vidlab.experiments import zoo

        minutes = minutes or self.mode.train_minutes
        self.used.append(self.zoo / zoo.model_name(cfg, minutes))
        if self.trained_only:
            zoo.require_trained(self.used[-1])
        return zoo.trained(cfg, minutes, self.zoo, self.device, fast=self.mode.fast, steps=self.steps)

    def snapshot(self, cfg, minutes: float):
        """The pipeline saved after ``minutes`` (one of the mode's snapshots) while training ``cfg``."""
        from vidlab.experiments import zoo

        self.model(cfg)  # trained first, if it is not yet
        return zoo.snapshot(cfg, self.mode.train_minutes, minutes, self.zoo, self.device)

    @property
    def zoo(self) -> Path:
        from vidlab.experiments import zoo

        return FAST_RESULTS / "zoo" if self.mode.fast else zoo.ZOO


def context(name: str, fast: bool = False, device=None, root=None, seeds=None, steps=None,
            trained_only: bool = False) -> Context:
    """What :func:`run` hands the experiment ``name`` (its mode limited to ``seeds``, if given)."""
    if name not in EXPERIMENTS:
        raise ValueError(f"unknown experiment {name!r}; expected one of {sorted(EXPERIMENTS)}")
    mode = FAST if fast else FULL
    if seeds is not None:
        if not set(seeds) <= set(mode.seeds):
            raise ValueError(f"seeds={list(seeds)}: this mode's seeds are {list(mode.seeds)}")
        mode = dataclasses.replace(mode, seeds=tuple(seeds))
    device = env.resolve_device(device)
    results = Results(Path(root or (FAST_RESULTS if fast else RESULTS)) / name, name, mode)
    return Context(name, mode, results, device, steps, trained_only, recipe=RECIPES.get(name, {}))


def run(name: str, fast: bool = False, device=None, root=None, seeds=None, steps=None,
        trained_only: bool = False) -> dict:
    """Run (or resume) the experiment ``name``; write its results under ``root`` and return its summary.

    ``root`` defaults to ``results/`` in full mode (committed) and ``runs/experiments-fast/`` in fast mode.
    ``seeds``: only these training seeds (processes working on other seeds can share the folder); the summary
    then covers the rows written so far. ``steps``: models not yet trained train this many steps rather than
    as many as fit in the mode's minutes here (to train the same recipe on a faster machine).
    ``trained_only``: measure with the models already trained (while others still train, in another process)
    and stop with ``zoo.NotTrained`` at the first model the zoo lacks; the rows written until then are kept.
    """
    from vidlab.experiments.zoo import NotTrained

    ctx = context(name, fast, device, root, seeds, steps, trained_only)
    try:
        summary = EXPERIMENTS[name](ctx)
    except NotTrained:
        if name in SUMMARISERS:  # the rows so far, summarised; the record names the models they used
            ctx.results.finish(SUMMARISERS[name](ctx.results.rows()), ctx.device, ctx.used[:-1])
        raise
    ctx.results.finish(summary, ctx.device, ctx.used)
    return summary


def train_models(names, fast: bool = False, device=None, seeds=None, steps=None, jobs: int = 1) -> list:
    """Train every model that the experiments ``names`` need and the zoo lacks, ``jobs`` at a time (separate
    processes; on a GPU, several small models keep it busier than one). Returns the zoo folders trained."""
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_context

    from vidlab.experiments import zoo

    ctxs = [context(name, fast, device, None, seeds, steps) for name in names]
    wanted = {zoo.model_name(cfg, minutes): (cfg, minutes, ctx.zoo) for ctx in ctxs for cfg, minutes in
              MODELS[ctx.name](ctx)}
    todo = {n: w for n, w in wanted.items() if not (w[2] / n / "state.json").exists()}
    with ProcessPoolExecutor(max(1, jobs), mp_context=get_context("spawn")) as pool:
        futures = [pool.submit(zoo.train_only, cfg, minutes, root, str(ctxs[0].device), fast, steps)
                   for cfg, minutes, root in todo.values()]
        for future in futures:
            future.result()  # a failed training raises here, after the others finished
    return [root / n for n, (_, _, root) in todo.items()]
