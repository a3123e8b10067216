"""The package's layering, as the README draws it: a module imports only from the layers above it."""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "vidlab"
LAYERS = [{"env", "pixels", "denoiser", "model", "train_cli", "latent"}, {"world", "probes", "show", "runs"},
          {"check", "pipeline", "batches"}, {"evaluate", "public", "families"}, {"train"}, {"experiments", "cost"}]


def vidlab_imports(path: Path) -> set:
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("vidlab"):
            names |= {node.module.split(".")[1]} if "." in node.module else {a.name for a in node.names}
        elif isinstance(node, ast.Import):
            names |= {a.name.split(".")[1] for a in node.names if a.name.startswith("vidlab.")}
    return names


def files_of(name: str) -> list:
    """A module's file, or every file of a subpackage (vidlab.probes)."""
    folder = PACKAGE / name
    return sorted(folder.glob("*.py")) if folder.is_dir() else [PACKAGE / f"{name}.py"]


def test_every_module_imports_only_from_the_layers_above_it():
    layer_of = {name: i for i, layer in enumerate(LAYERS) for name in layer}
    modules = ({p.stem for p in PACKAGE.glob("*.py")} | {p.parent.name for p in PACKAGE.glob("*/__init__.py")}) - {
        "__init__"}
    assert modules == set(layer_of), "add the new module to a layer here and in the README's picture"
    for name in modules:
        for used in set().union(*(vidlab_imports(f) for f in files_of(name))) - {name}:
            old_name = {name, used} == {"model", "denoiser"}  # vidlab.model re-exports vidlab.denoiser
            assert layer_of[used] < layer_of[name] or old_name, f"vidlab.{name} imports vidlab.{used}"
