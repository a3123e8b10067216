"""Every notebook runs top to bottom in fast mode, and the committed copies are clean full-mode runs."""

import json
import os
import re
import subprocess
import sys
import warnings
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError, DeadKernelError

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_notebook_runs_in_fast_mode(path, monkeypatch):
    monkeypatch.setenv("VIDLAB_FAST", "1")
    for attempt in (1, 2):
        nb = nbformat.read(path, as_version=4)
        client = NotebookClient(nb, timeout=240, kernel_name="python3",
                                resources={"metadata": {"path": str(path.parent)}})
        try:
            client.execute()  # raises on any cell error: those fail at once
            return
        except (CellTimeoutError, DeadKernelError, AssertionError) as err:
            # Seen rarely (notebook 03, once on this CPU and twice on an H100): the kernel finished its cell
            # and sat idle while the client still waited for the reply. A cell that is really slow or broken
            # fails the second attempt too.
            if attempt == 2:
                raise
            warnings.warn(f"{path.name}: the kernel stopped answering ({type(err).__name__}); running it again",
                          stacklevel=1)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_committed_notebook_is_a_clean_full_run(path):
    assert path.stat().st_size < 3e6, "keep notebooks under 3 MB"
    nb = json.loads(path.read_text())
    code = [c for c in nb["cells"] if c["cell_type"] == "code"]
    counts = [c["execution_count"] for c in code]
    assert all(counts) and counts == sorted(counts), "run every cell, top to bottom"
    outputs = [o for c in code for o in c["outputs"]]
    assert not [o for o in outputs if o["output_type"] == "error"]
    text = "".join("".join(o.get("text", "")) for o in outputs)
    assert re.search(r"fast mode\s+off", text), "committed outputs must come from a full-mode run (make notebooks)"
    first = "".join(nb["cells"][0]["source"])
    assert "colab.research.google.com" in first
    markdown = " ".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")
    assert "What you will learn" in markdown and "Summary" in markdown and "Exercises" in markdown


def test_badges_and_setup_cells_match_the_repository_url():
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "sync_notebooks.py"), "--check"],
                            capture_output=True, text=True, env={**os.environ})
    assert result.returncode == 0, result.stderr


def test_setup_cell_on_colab_says_what_to_change_when_the_repository_is_unreachable(monkeypatch, capsys):
    sys.path.insert(0, str(ROOT / "scripts"))
    try:
        import sync_notebooks
    finally:
        sys.path.pop(0)
    source = sync_notebooks.setup_source("file:///nonexistent/vidlab", uses_device=True)
    monkeypatch.setitem(sys.modules, "google.colab", type(sys)("google.colab"))  # as if on Colab
    with pytest.raises(SystemExit, match="set REPOSITORY in this cell to its URL"):
        exec(compile(source, "setup", "exec"), {})
    shown = capsys.readouterr().out
    assert "nonexistent" in shown and "error" in shown.lower(), "pip's own error must be shown"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_code_lines_fit_jupyterlab_without_cutting(path):
    nb = json.loads(path.read_text())
    long = [(i, line) for i, c in enumerate(nb["cells"]) if c["cell_type"] == "code"
            for line in "".join(c["source"]).splitlines() if len(line) > 100]
    assert not long, f"cells {sorted({i for i, _ in long})} have lines over 100 characters, e.g. {long[0][1]!r}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.name)
def test_every_exercise_has_a_hidden_solution_and_every_think_question_an_answer(path):
    nb = json.loads(path.read_text())
    markdown = ["".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown"]
    exercises = sum(len(re.findall(r"^\*\*Exercise \d+\.\*\*", m, re.M)) for m in markdown)
    solutions = [c for c in nb["cells"] if "solution" in c["metadata"].get("tags", [])]
    assert exercises and len(solutions) == exercises, f"{exercises} exercises, {len(solutions)} solution cells"
    assert all(c["cell_type"] == "code" and c["metadata"].get("jupyter", {}).get("source_hidden")
               and "".join(c["source"]).startswith("# @title Solution") for c in solutions)
    for m in (m for m in markdown if "### Think!" in m):
        questions = re.findall(r"^\d+\. ", m.split("### Think!")[1].split("<details>")[0], re.M)
        assert questions and m.count("<details><summary>Answer") == len(questions), m[:200]
    assert not [m for m in markdown if "**Think!**" in m], "a Think! question without its answer"
