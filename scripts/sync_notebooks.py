"""Rewrite what the notebooks and the README derive from one source, so they never disagree.

- The repository URL lives in ``[project.urls] Repository`` of pyproject.toml. A notebook's first cell (tagged
  ``badge``) holds the Open-in-Colab badge; the cell tagged ``setup`` installs vidlab on Colab, says plainly what
  to change when the repository cannot be reached, and prints the environment.
- Run times live in notebooks/run_times.json (written by ``make notebooks``). Each notebook's line starting
  ``**Run time:**`` and the README's table between ``<!-- run-times -->`` markers are written from it.

    python scripts/sync_notebooks.py          # rewrite in place
    python scripts/sync_notebooks.py --check  # exit 1 if anything is out of date (used by the tests)
"""

import argparse
import json
import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TIMES = ROOT / "notebooks" / "run_times.json"
RUN_TIME = re.compile(r"^\*\*Run time:\*\*.*$", re.M)
# What ipykernel installs. JupyterLab writes the running kernel's spec into a notebook it opens, so any other
# display name marks the notebook as modified before the reader has touched it.
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
README_TABLE = re.compile(r"(<!-- run-times -->\n).*?(\n<!-- /run-times -->)", re.S)


def repo_url() -> str:
    with open(ROOT / "pyproject.toml", "rb") as f:
        return tomllib.load(f)["project"]["urls"]["Repository"].rstrip("/")


def badge_source(url: str, name: str) -> str:
    path = re.sub(r"^https://github\.com/", "", url)
    return (f"[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]"
            f"(https://colab.research.google.com/github/{path}/blob/main/notebooks/{name})")


def setup_source(url: str, uses_device: bool) -> str:
    """The setup cell: on Colab, pip installs vidlab from ``url``; a failure shows pip's error and what to change."""
    return "\n".join([
        "# Setup. On Colab, install vidlab from its repository (Colab's own torch is kept as it is).",
        "import subprocess",
        "import sys",
        "",
        "# Working from a fork or a copy? Put its URL here.",
        f'REPOSITORY = "{url}"',
        'if "google.colab" in sys.modules:',
        '    pip_install = [sys.executable, "-m", "pip", "install", f"vidlab @ git+{REPOSITORY}"]',
        "    pip = subprocess.run(pip_install, capture_output=True, text=True)",
        "    print(pip.stdout.strip().splitlines()[-1] if pip.returncode == 0 else pip.stdout + pip.stderr)",
        "    if pip.returncode != 0:",
        "        raise SystemExit(",
        '            f"pip could not install vidlab from {REPOSITORY}: its own error is above. "',
        '            "If the repository moved, or you work from a fork, set REPOSITORY "',
        '            "in this cell to its URL and run the cell again."',
        "        )",
        "",
        "from vidlab import env",
        "",
        "device = env.report()  # library versions, then cuda > mps > cpu" if uses_device else
        "env.report()  # library versions and the device found (no cell here picks one itself)",
        "FAST = env.fast_mode()  # VIDLAB_FAST=1 shrinks every workload (tests, CI)",
    ])


def duration(seconds: float) -> str:
    """7 s, 93 s, 4 min 26 s."""
    seconds = round(seconds)
    return f"{seconds} s" if seconds < 100 else f"{seconds // 60} min {seconds % 60} s"


def measured(name: str, times: dict) -> dict:
    """{"cpu": "7 s", "h100": "8 s"} for one notebook: its full-mode runs in run_times.json."""
    runs = times.get(name, {})
    out = {}
    for where, run in runs.items():
        key = "cpu" if where == "cpu" else "h100" if "H100" in where else where
        out[key] = duration(run["seconds"])
    return out


def run_time_line(name: str, times: dict) -> str:
    """The notebook's ``**Run time:**`` line."""
    m = measured(name, times)
    if "cpu" not in m:
        return "**Run time:** not yet measured in full mode (`make notebooks` measures it)."
    gpu = f", {m['h100']} on an H100" if "h100" in m else ""
    return (f"**Run time:** {m['cpu']} on a 2-core CPU{gpu} (measured by `make notebooks`: "
            "`notebooks/run_times.json`).")


def readme_table(times: dict) -> str:
    """The README's table of measured run times, one row per notebook."""
    rows = ["| notebook | CPU, 2 cores | H100 | measured on |", "|---|---|---|---|"]
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        m = measured(path.name, times)
        dates = sorted({run["date"] for run in times.get(path.name, {}).values()})
        rows.append(f"| [{path.stem}](notebooks/{path.name}) | {m.get('cpu', 'not measured')} | "
                    f"{m.get('h100', 'not measured')} | {', '.join(dates) or '-'} |")
    return "\n".join(rows)


def _uses_device(nb: dict) -> bool:
    return any(re.search(r"\bdevice\b", "".join(c["source"])) for c in nb["cells"]
               if c["cell_type"] == "code" and "setup" not in c.get("metadata", {}).get("tags", []))


def synced(nb: dict, name: str, url: str, times: dict) -> dict:
    """A copy of the notebook with its kernel spec, badge, setup cell and run-time line as they should be."""
    nb = json.loads(json.dumps(nb))
    nb["metadata"]["kernelspec"] = dict(KERNELSPEC)
    uses_device = _uses_device(nb)
    for cell in nb["cells"]:
        tags = cell.get("metadata", {}).get("tags", [])
        text = "".join(cell["source"])
        if "badge" in tags:
            text = badge_source(url, name)
        elif "setup" in tags:
            text = setup_source(url, uses_device)
        elif cell["cell_type"] == "markdown":
            text = RUN_TIME.sub(lambda _: run_time_line(name, times), text)
        if text != "".join(cell["source"]):
            cell["source"] = text.splitlines(keepends=True)
    return nb


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="report what is stale instead of rewriting it")
    args = ap.parse_args()
    url, times, stale = repo_url(), json.loads(TIMES.read_text()), []
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        nb = json.loads(path.read_text())
        tags = [t for c in nb["cells"] for t in c.get("metadata", {}).get("tags", [])]
        text = " ".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "markdown")
        if "badge" not in tags or "setup" not in tags or not RUN_TIME.search(text):
            stale.append(f"{path.name}: needs a cell tagged 'badge', one tagged 'setup' and a '**Run time:**' line")
            continue
        want = synced(nb, path.name, url, times)
        if want != nb:
            if args.check:
                stale.append(f"{path.name}: kernel spec, badge, setup or run time is out of date")
            else:
                path.write_text(json.dumps(want, indent=1, ensure_ascii=False) + "\n")
                print(f"rewrote {path.name}")
    readme = (ROOT / "README.md").read_text()
    table = README_TABLE.sub(lambda m: m.group(1) + readme_table(times) + m.group(2), readme)
    if not README_TABLE.search(readme):
        stale.append("README.md: no table between <!-- run-times --> and <!-- /run-times -->")
    elif table != readme:
        if args.check:
            stale.append("README.md: the run-time table differs from notebooks/run_times.json")
        else:
            (ROOT / "README.md").write_text(table)
            print("rewrote the README's run-time table")
    if stale:
        print("\n".join(stale) + "\nrun: python scripts/sync_notebooks.py (make sync)", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
