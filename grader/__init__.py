"""Compatibility: the package was called `grader` before it became `tfgrade`.

Exercise packs written for it (`from grader.checking import fail`, `from grader.specs import
ModelHandle`, `from grader.checklib import keras_model`) keep working: each old module name
is an alias of the module that replaced it. New packs import the pack API under `tfgrade`
(docs/CHECKS.md).
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import sys
from types import ModuleType

OLD_NAMES = {
    "grader.checking": "tfgrade.engine.verdicts", "grader.specs": "tfgrade.engine.returned",
    "grader.student": "tfgrade.engine.proxy", "grader.datasets": "tfgrade.pack.datasets",
    "grader.metrics": "tfgrade.pack.metrics", "grader.course": "tfgrade.pack.course",
    "grader.i18n": "tfgrade.i18n", "grader.errors": "tfgrade.errors", "grader.catalogue": "tfgrade.catalogue",
    "grader.checklib": "tfgrade.checklib", "grader.checklib.keras_model": "tfgrade.checklib.keras_model",
    "grader.checklib.learning": "tfgrade.checklib.learning", "grader.checklib.matrices": "tfgrade.checklib.matrices",
    "grader.checklib.source": "tfgrade.checklib.source", "grader.checklib.wording": "tfgrade.checklib.wording",
}


class _Alias(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def find_spec(self, fullname: str, path: object = None, target: object = None) -> importlib.machinery.ModuleSpec | None:
        if fullname not in OLD_NAMES:
            return None
        return importlib.machinery.ModuleSpec(fullname, self, is_package=fullname == "grader.checklib")

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType:
        return importlib.import_module(OLD_NAMES[spec.name])

    def exec_module(self, module: ModuleType) -> None:
        return None


if not any(isinstance(f, _Alias) for f in sys.meta_path):
    sys.meta_path.insert(0, _Alias())
