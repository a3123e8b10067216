"""The dependency pins: pyproject.toml and requirements.txt agree, and each floor admits only versions the code
runs on (and what is installed here meets them)."""

import inspect
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
import torch
from packaging.requirements import Requirement
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
# The oldest version each library must have for what vidlab calls, and why. A new need is one more line here.
NEEDED = {
    "pymunk": ("7.0", "Space.on_collision(begin=...) in vidlab/world/engine.py: the pymunk 7 API"),
    "torch": ("2.4", "fused AdamW on a CPU in vidlab.train.make_optimizer (torch 2.1-2.3 refuse it)"),
}


def pins(lines) -> dict:
    """{name: Requirement} of requirement lines (comments and blank lines skipped)."""
    reqs = [Requirement(line.split("#")[0].strip()) for line in lines if line.split("#")[0].strip()]
    return {r.name.lower(): r for r in reqs}


PYPROJECT = pins(tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"])
REQUIREMENTS = pins((ROOT / "requirements.txt").read_text().splitlines())


def floor(req: Requirement) -> Version | None:
    """The lowest version ``req`` admits (its >= or == bound), or None when it has none."""
    bounds = [Version(s.version) for s in req.specifier if s.operator in (">=", "==", "~=")]
    return max(bounds) if bounds else None


def test_both_files_pin_each_library_the_same_way():
    assert set(PYPROJECT) <= set(REQUIREMENTS), "a package dependency missing from requirements.txt"
    differ = {n: (str(PYPROJECT[n].specifier), str(REQUIREMENTS[n].specifier)) for n in PYPROJECT
              if PYPROJECT[n].specifier != REQUIREMENTS[n].specifier}
    assert not differ, f"pyproject.toml and requirements.txt disagree: {differ}"


@pytest.mark.parametrize("name", sorted(NEEDED))
def test_floors_admit_only_versions_the_code_runs_on(name):
    needed, why = NEEDED[name]
    for where, reqs in (("pyproject.toml", PYPROJECT), ("requirements.txt", REQUIREMENTS)):
        low = floor(reqs[name])
        assert low is not None and low >= Version(needed), f"{where}: {reqs[name]} admits versions before " \
                                                           f"{needed}, which the code needs for {why}"


@pytest.mark.parametrize("name", sorted(REQUIREMENTS))
def test_the_installed_version_meets_the_pin(name):
    installed = metadata.version(name)
    assert REQUIREMENTS[name].specifier.contains(installed, prereleases=True), f"{name} {installed} installed"


def test_the_installed_libraries_have_what_the_floors_are_for():
    import pymunk

    assert "begin" in inspect.signature(pymunk.Space.on_collision).parameters
    weight = torch.nn.Parameter(torch.ones(3))
    weight.grad = torch.ones(3)
    torch.optim.AdamW([weight], lr=0.1, fused=True).step()  # raises on a torch without fused AdamW on CPU
    assert weight.detach().lt(1).all()
