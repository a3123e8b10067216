# Two commands do all the set-up: `make lab` and `make test`.
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
# The CPU build on our machines; on a GPU laptop override, e.g. TORCH_SPEC="torch==2.13.0" with your index.
TORCH_SPEC ?= torch==2.13.0

.PHONY: lab test notebooks lint benchmarks peers processes experiments sync clean browser-check gpu-check

$(STAMP): requirements.txt pyproject.toml
	test -x $(PY) || python3 -m venv $(VENV)
	$(PY) -c "import torch" 2>/dev/null || $(PY) -m pip install "$(TORCH_SPEC)"
	$(PY) -m pip install -r requirements.txt -e ".[dev]"
	touch $(STAMP)

# JupyterLab refuses to start as root unless told to (containers, some cloud machines).
LAB_ROOT := $(if $(filter 0,$(shell id -u)),--allow-root,)

lab: $(STAMP)
	$(VENV)/bin/jupyter lab $(LAB_ROOT) notebooks/

lint: $(STAMP)
	$(PY) -m ruff check src tests benchmarks scripts notebooks

test: $(STAMP) lint
	VIDLAB_FAST=1 $(PY) -m pytest

notebooks: $(STAMP)
	$(PY) scripts/run_notebooks.py
	$(PY) scripts/sync_notebooks.py

benchmarks: $(STAMP)
	$(PY) benchmarks/world_throughput.py
	$(PY) benchmarks/probe_speed.py
	$(PY) benchmarks/probe_accuracy.py
	$(PY) benchmarks/tiny_model_quality.py --pipeline src/vidlab/checkpoints/tiny-physics --steps 25 10 50

# Benchmark-only peers, kept out of requirements.txt: their own dependencies would pull a CUDA torch.
peers: $(STAMP)
	$(PY) -m pip install -q --no-deps video-diffusion-pytorch==0.7.0 einops-exts==0.0.4 rotary-embedding-torch==0.9.1 einops
	$(PY) benchmarks/train_vs_peers.py --minutes 10 --clips 64 --clip-pool 16384 --only vidlab patches
	$(PY) benchmarks/train_vs_peers.py --minutes 10 --clips 16 --only pixels

# One training process against two, side by side (about 25 minutes on 2 CPU cores; on a multi-GPU machine,
# one process per GPU).
processes: $(STAMP)
	$(PY) benchmarks/train_processes.py --processes 1 2 --minutes 10 --snapshot-minutes 3 5

# The experiments of notebooks 04 and 05, full mode, one after another (hours on 2 CPU cores). Each resumes
# where it stopped and skips what is done, so run it again after an interruption.
EXPERIMENTS := ood_vs_id scaling colour_vs_velocity size_vs_velocity context_frames memorisation failure_rates \
	samplers_and_steps training_time object_permanence momentum guidance drift frame_mixing \
	ood_vs_training_length prediction_targets smaller_at_64px vae_physics ood_vs_id_dit colour_vs_velocity_dit \
	open_future
experiments: $(STAMP)
	for name in $(EXPERIMENTS); do $(PY) -m vidlab.experiments $$name || exit 1; done

# JupyterLab in headless Chromium: every notebook renders, its images load, no error shows, nothing is marked
# modified on opening (screenshots in runs/browser/). Needs Debian's chromium; not part of `make test`.
browser-check: $(STAMP)
	command -v chromium >/dev/null || apt-get install -y chromium
	$(PY) -m pip install -q "playwright>=1.50"
	$(PY) scripts/browser_check.py

# On a CUDA machine: the tests and every notebook (fast mode) with the GPU as the device, the notebooks' kernel
# shutdowns timed, and a full-mode training interrupted (Ctrl+C) and resumed. Writes
# benchmarks/results/gpu_check_DATE.md (logs in runs/gpu_check/). Without a GPU it says so and stops.
gpu-check: $(STAMP)
	$(PY) scripts/gpu_check.py

sync:
	$(PY) scripts/sync_notebooks.py

clean:
	rm -rf $(VENV) .pytest_cache
