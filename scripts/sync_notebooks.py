"""Rewrite every notebook's Colab badge and setup cell from the one repository URL in pyproject.toml.

The URL lives in ``[project.urls] Repository``. A notebook's first cell (tagged ``badge``) holds the
Open-in-Colab badge; the cell tagged ``setup`` installs vidlab on Colab and prints the environment.

    python scripts/sync_notebooks.py          # rewrite in place
    python scripts/sync_notebooks.py --check  # exit 1 if any notebook is out of date (used by the tests)
"""

import argparse
import json
import re
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def repo_url() -> str:
    with open(ROOT / "pyproject.toml", "rb") as f:
        return tomllib.load(f)["project"]["urls"]["Repository"].rstrip("/")


def badge_source(url: str, name: str) -> str:
    path = re.sub(r"^https://github\.com/", "", url)
    return (f"[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]"
            f"(https://colab.research.google.com/github/{path}/blob/main/notebooks/{name})")


def setup_source(url: str) -> str:
    return "\n".join([
        "# Setup. On Colab, install vidlab from the repository (Colab's own torch is kept as it is).",
        "import subprocess",
        "import sys",
        "",
        'if "google.colab" in sys.modules:',
        f'    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "vidlab @ git+{url}"], check=True)',
        "",
        "from vidlab import env",
        "",
        "device = env.report()  # library versions, then cuda > mps > cpu",
        "FAST = env.fast_mode()  # VIDLAB_FAST=1 shrinks every workload (tests, CI)",
    ])


def sync(path: Path, url: str) -> bool:
    """Rewrite the tagged cells of one notebook; return True if it changed."""
    nb = json.loads(path.read_text())
    changed = False
    for cell in nb["cells"]:
        tags = cell.get("metadata", {}).get("tags", [])
        new = badge_source(url, path.name) if "badge" in tags else setup_source(url) if "setup" in tags else None
        if new is not None and "".join(cell["source"]) != new:
            cell["source"] = new.splitlines(keepends=True)
            changed = True
    if changed:
        path.write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")
    return changed


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--check", action="store_true", help="report stale notebooks instead of rewriting them")
    args = ap.parse_args()
    url = repo_url()
    stale = []
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        nb = json.loads(path.read_text())
        tags = [t for c in nb["cells"] for t in c.get("metadata", {}).get("tags", [])]
        if "badge" not in tags or "setup" not in tags:
            stale.append(f"{path.name}: no cell tagged 'badge' or 'setup'")
            continue
        if args.check:
            copy = json.loads(json.dumps(nb))
            for cell in copy["cells"]:
                t = cell.get("metadata", {}).get("tags", [])
                want = badge_source(url, path.name) if "badge" in t else setup_source(url) if "setup" in t else None
                if want is not None and "".join(cell["source"]) != want:
                    stale.append(f"{path.name}: {'badge' if 'badge' in t else 'setup'} cell differs from {url}")
        elif sync(path, url):
            print(f"rewrote {path.name}")
    if stale:
        print("\n".join(stale) + "\nrun: python scripts/sync_notebooks.py", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
