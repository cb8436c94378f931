"""Set-up problems: why this machine cannot check a student's work, in one line with the fix.

`tfgrade check` asks these before (or instead of) grading, so that a student whose set-up is
wrong reads one message and the exact command that fixes it, not an "internal grader error"
per check. Each function returns the `Msg` (tfgrade/messages/setup.toml) or None:

- `python_problem`: the interpreter is older than 3.11. This module imports nothing that
  needs 3.11 (the catalogue needs `tomllib`), so the line reaches a student even there;
- `unknown_file`: a file name that matches no exercise;
- `tensorflow_missing`: `importlib.util.find_spec` finds no `tensorflow`. The trusted side
  never imports TensorFlow (tests/test_import_contract.py), so a broken install is found by
- `probe_tensorflow`: a fresh interpreter, in the sandbox's environment, imports TensorFlow
  and runs one op. It costs a TensorFlow import, so it runs only when the sandbox failed:
  its zygote exited while starting (`require_sandbox`), or no check of a file gave a
  verdict because of a grader error or a dead child (`sandbox_suspect`).
"""

from __future__ import annotations

import importlib.util
import json
import signal
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from tfgrade import __version__
from tfgrade.errors import SandboxError, TfgradeError
from tfgrade.i18n import Msg

if TYPE_CHECKING:
    from tfgrade.engine.results import ExerciseResult
    from tfgrade.supervisor import Sandbox

MIN_PYTHON = (3, 11)
TF_REQUIREMENT = "tensorflow>=2.16"         # pyproject.toml's [tf] extra (a test keeps them equal)
PROBE_CODE = "import tensorflow as tf, keras; tf.constant(1)"   # what the zygote imports, and one op
PROBE_TIMEOUT_S = 120.0
MESSAGES = Path(__file__).with_name("messages") / "setup.toml"


def wheel_name() -> str:
    """The student wheel `tfgrade release` writes for this version."""
    return f"tfgrade-{__version__}-py3-none-any.whl"


def _values(**extra: Any) -> dict[str, Any]:
    return {"python": sys.executable or "python", "requirement": TF_REQUIREMENT, "wheel": wheel_name(), **extra}


# -- Python ------------------------------------------------------------------------------
def python_problem(version: Sequence[int] | None = None) -> Msg | None:
    """The message for an interpreter (this one unless `version`) older than MIN_PYTHON, else None."""
    found = tuple(int(v) for v in (sys.version_info if version is None else version)[:3])
    if found[:2] >= MIN_PYTHON:
        return None
    values = _values(found=".".join(map(str, found)), need=".".join(map(str, MIN_PYTHON)))
    try:
        from tfgrade.catalogue import GRADER
    except ImportError:               # no tomllib before 3.11: this one entry read by hand
        return _entry_without_tomllib("setup_python_too_old", values)
    return GRADER("setup_python_too_old", **values)


def _entry_without_tomllib(key: str, values: dict[str, Any]) -> Msg:
    """One entry of setup.toml, for an interpreter without `tomllib`: the file's entries are
    single-line basic strings, whose escapes JSON reads alike."""
    texts: dict[str, str] = {}
    section = None
    for line in MESSAGES.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line.startswith("["):
            section = line.strip("[]").strip()
        elif section == key and "=" in line:
            lang, _, text = line.partition("=")
            texts[lang.strip()] = json.loads(text.strip())
    return Msg(texts["es"].format(**values), texts["en"].format(**values), key=key)


def require_python() -> None:
    problem = python_problem()
    if problem is not None:
        raise TfgradeError(problem)


# -- file names ----------------------------------------------------------------------------
def unknown_file(name: str, ids: Sequence[str]) -> Msg:
    from tfgrade.catalogue import GRADER

    return GRADER("setup_unknown_file", name=name, ids=", ".join(ids))


# -- TensorFlow ----------------------------------------------------------------------------
def tensorflow_missing() -> Msg | None:
    """The message when no `tensorflow` package can be found (nothing is imported)."""
    from tfgrade.catalogue import GRADER

    try:
        spec = importlib.util.find_spec("tensorflow")
    except (ImportError, ValueError):
        spec = None
    return GRADER("setup_tf_missing", **_values()) if spec is None else None


def _probe_detail(returncode: int, stderr: str) -> str:
    """What went wrong, in one short line: the signal, else the error's last line."""
    if returncode < 0:
        try:
            return f"{signal.Signals(-returncode).name} (python -c {PROBE_CODE!r})"
        except ValueError:
            return f"signal {-returncode} (python -c {PROBE_CODE!r})"
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    detail = lines[-1] if lines else f"exit status {returncode} (python -c {PROBE_CODE!r})"
    return detail if len(detail) <= 300 else detail[:297] + "..."


def probe_tensorflow(timeout: float = PROBE_TIMEOUT_S, env: dict[str, str] | None = None) -> Msg | None:
    """None when a fresh interpreter (this one, in the sandbox's environment unless `env`)
    imports TensorFlow and Keras and runs an op; else the set-up message."""
    from tfgrade.catalogue import GRADER

    if env is None:
        from tfgrade.supervisor.children import child_env

        env = child_env()
    try:
        done = subprocess.run([sys.executable, "-c", PROBE_CODE], env=env, cwd="/", stdin=subprocess.DEVNULL,
                              capture_output=True, text=True, errors="replace", timeout=timeout)
    except subprocess.TimeoutExpired:
        return GRADER("setup_tf_broken", **_values(detail=f"python -c {PROBE_CODE!r} > {timeout:g} s"))
    except OSError:
        return None                   # no interpreter to start: not a TensorFlow problem
    if done.returncode == 0:
        return None
    detail = _probe_detail(done.returncode, done.stderr)
    if detail.startswith("ModuleNotFoundError: No module named 'tensorflow'"):
        return GRADER("setup_tf_missing", **_values())     # found here, not in the sandbox's path
    return GRADER("setup_tf_broken", **_values(detail=detail))


def require_tensorflow() -> None:
    problem = tensorflow_missing()
    if problem is not None:
        raise TfgradeError(problem)


def require_sandbox(sandbox: Sandbox) -> None:
    """Wait for the sandbox to be ready. A zygote that exited while starting is the one place
    a broken TensorFlow shows first: the probe says whether it is, else the sandbox's own
    error stands (one line too: `tfgrade.cli.main` prints every TfgradeError so)."""
    launcher = sandbox.launcher
    try:
        launcher.wait_ready()
    except SandboxError:
        if getattr(launcher, "closed", False):
            problem = probe_tensorflow()
            if problem is not None:
                raise TfgradeError(problem) from None
        raise


def sandbox_suspect(result: ExerciseResult) -> bool:
    """No check of the result gave a verdict, and the cause is the grader's own error or a
    child that died (where each child is a fresh interpreter, a TensorFlow that cannot be
    imported shows so): worth asking the probe why."""
    checks = result.checks
    if not checks or any(c.status not in ("error", "skipped") for c in checks):
        return False
    return any(c.grader_error is not None or (c.student_error is not None and c.student_error.kind == "crashed")
               for c in checks)
