"""Open every notebook in JupyterLab in headless Chromium, as a learner would, and check what shows.

For each notebook: it renders; every image in its outputs (plots, GIFs) has loaded; no error output and no
Python traceback shows; JupyterLab does not mark the notebook as modified right after opening it; widget
outputs show a note rather than ``VBox(children=...)``. A screenshot of each goes to ``runs/browser/`` (ignored
by git). Needs Debian's Chromium (``apt-get install chromium``) and Playwright's Python package (``make
browser-check`` installs the package; Playwright's own browser download is not used).

    python scripts/browser_check.py [notebooks/00_start_here.ipynb ...]
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SHOTS = ROOT / "runs" / "browser"
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# JupyterLab settings for the check: render every cell (by default cells out of view are left out of the
# page), and ask nothing about news.
SETTINGS = {"@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {"windowingMode": "none"},
            "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {"fetchNews": "false"}}


@contextlib.contextmanager
def jupyter_lab(port: int):
    """A JupyterLab server on ``port`` serving the repository, without a token, stopped afterwards."""
    settings = SHOTS / "user-settings"
    for name, values in SETTINGS.items():
        (settings / name).parent.mkdir(parents=True, exist_ok=True)
        (settings / name).write_text(json.dumps(values))
    command = [sys.executable, "-m", "jupyterlab", "--no-browser", f"--port={port}", "--ServerApp.token=",
               "--ServerApp.password=", "--ServerApp.disable_check_xsrf=True", f"--ServerApp.root_dir={ROOT}",
               f"--LabApp.user_settings_dir={settings}", f"--LabApp.workspaces_dir={SHOTS / 'workspaces'}"]
    if os.geteuid() == 0:
        command.append("--allow-root")
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.time() + 60
        while time.time() < deadline:
            with contextlib.suppress(OSError):
                urllib.request.urlopen(f"http://127.0.0.1:{port}/lab", timeout=2)
                break
            time.sleep(0.5)
        else:
            raise RuntimeError("JupyterLab did not start within 60 s")
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=30)


CHECKS = """() => {
  const outputs = document.querySelectorAll('.jp-OutputArea-output');
  const images = [...document.querySelectorAll('.jp-OutputArea-output img')];
  const text = [...outputs].map(o => o.innerText).join('\\n');
  return {
    cells: document.querySelectorAll('.jp-Cell').length,
    outputs: outputs.length,
    images: images.length,
    broken_images: images.filter(i => !(i.complete && i.naturalWidth > 0)).length,
    errors: document.querySelectorAll('[data-mime-type="application/vnd.jupyter.stderr"] .jp-RenderedText, '
                                      + '.jp-OutputArea-output[data-mime-type*="error"]').length,
    traceback: /Traceback \\(most recent call last\\)/.test(text),
    raw_widgets: /VBox\\(children=|interactive\\(children=|HBox\\(children=/.test(text),
    dirty: document.querySelectorAll('.jp-mod-dirty').length,
  };
}"""


def check(page, base: str, notebook: Path) -> dict:
    """Open one notebook, scroll through it so every output renders, and read what shows."""
    page.goto(f"{base}/lab/tree/notebooks/{notebook.name}?reset", wait_until="domcontentloaded")
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
    page.wait_for_timeout(2_000)
    page.wait_for_timeout(3_000)  # images decode
    found = page.evaluate(CHECKS)
    page.screenshot(path=str(SHOTS / f"{notebook.stem}.png"))
    problems = [f"{found['broken_images']} images did not load"] * bool(found["broken_images"])
    problems += [f"{found['errors']} error outputs"] * bool(found["errors"])
    problems += ["a Python traceback shows"] * found["traceback"]
    problems += ["a widget shows as raw text"] * found["raw_widgets"]
    problems += ["marked as modified right after opening"] * bool(found["dirty"])
    problems += ["no cells rendered"] * (found["cells"] == 0)
    return {**found, "problems": problems}


def main() -> int:
    from playwright.sync_api import sync_playwright

    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if chromium is None:
        sys.exit("Chromium is not installed: apt-get install chromium (Debian), then run this again")
    notebooks = [Path(p) for p in sys.argv[1:]] or sorted((ROOT / "notebooks").glob("*.ipynb"))
    failed = 0
    with jupyter_lab(free_port()) as base, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=CHROMIUM_FLAGS)
        for notebook in notebooks:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            result = check(page, base, notebook)
            page.close()
            failed += bool(result["problems"])
            verdict = "; ".join(result["problems"]) or "ok"
            print(f"{notebook.name:40s} {result['cells']:3d} cells, {result['images']:3d} images: {verdict}")
        browser.close()
    print(f"screenshots in {SHOTS.relative_to(ROOT)}/")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
