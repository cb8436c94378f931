"""The trust boundary, checked statically: every import of every module of the package.

- `tfgrade.sandboxed` (the only code that runs beside student code) imports only the wire
  and itself, plus the standard library and its numerical libraries;
- no module outside `tfgrade.sandboxed` imports TensorFlow or Keras (the trusted side never
  does);
- `tfgrade.wire` imports neither side (only the neutral leaves `tfgrade.errors` and `tfgrade.i18n`).
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "tfgrade"
SANDBOX_THIRD_PARTY = {"numpy", "tensorflow", "keras", "IPython", "matplotlib",
                       "google"}   # protobuf's namespace package (TensorFlow's), kept by the Colab shims
TF = {"tensorflow", "keras", "tf_keras"}


def _module_name(path: Path) -> str:
    rel = path.relative_to(PACKAGE.parent).with_suffix("")
    parts = list(rel.parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> list[tuple[int, str]]:
    """Absolute names of everything `path` imports, at any depth (function-level too)."""
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                name = ".".join(base + ([node.module] if node.module else []))
            else:
                name = node.module or ""
            found.append((node.lineno, name))
    return found


MODULES = sorted(p for p in PACKAGE.rglob("*.py") if "_bundled" not in p.parts)


def test_the_contract_sees_the_whole_package() -> None:
    names = {_module_name(p) for p in MODULES}
    assert {"tfgrade.sandboxed.child", "tfgrade.wire.framing", "tfgrade.engine.proxy",
            "tfgrade.supervisor.children", "tfgrade.similarity.code", "tfgrade.similarity.report"} <= names


@pytest.mark.parametrize("path", [p for p in MODULES if "sandboxed" in p.parts], ids=_module_name)
def test_the_sandboxed_side_imports_only_the_wire_and_itself(path: Path) -> None:
    bad = []
    for line, name in _imports(path):
        top = name.split(".")[0]
        if top == "tfgrade":
            if not (name.startswith("tfgrade.sandboxed") or name.startswith("tfgrade.wire") or name == "tfgrade"):
                bad.append((line, name))
        elif top not in SANDBOX_THIRD_PARTY and top not in _stdlib():
            bad.append((line, name))
    assert bad == [], f"{path.name} imports outside the wire and itself: {bad}"


@pytest.mark.parametrize("path", [p for p in MODULES if "sandboxed" not in p.parts], ids=_module_name)
def test_nothing_else_imports_tensorflow_or_keras(path: Path) -> None:
    bad = [(line, name) for line, name in _imports(path) if name.split(".")[0] in TF]
    assert bad == [], f"{path.name} imports TensorFlow/Keras: {bad}"


@pytest.mark.parametrize("path", [p for p in MODULES if "wire" in p.parts], ids=_module_name)
def test_the_wire_imports_neither_side(path: Path) -> None:
    bad = [(line, name) for line, name in _imports(path)
           if name.startswith("tfgrade.") and not name.startswith("tfgrade.wire")
           and name not in ("tfgrade.errors", "tfgrade.i18n")]
    assert bad == [], f"{path.name} imports a side of the boundary: {bad}"


def _stdlib() -> frozenset[str]:
    import sys

    return frozenset(sys.stdlib_module_names)
