"""Set-up problems (tfgrade.setup_check): `tfgrade check` says one line with the fix and exits 2.

TensorFlow missing, TensorFlow broken, a Python older than 3.11 and a file name that matches
no exercise are simulated without touching this machine's install: a `sitecustomize` that
hides `tensorflow` from every finder, a throw-away virtual environment whose `tensorflow`
raises on import, a fake package whose op fails, a fake version tuple, `tomllib` blocked.
"""

from __future__ import annotations

import glob
import os
import shutil
import signal
import subprocess
import sys
import sysconfig
import textwrap
import tomllib
from pathlib import Path

import pytest

from tfgrade import setup_check
from tfgrade.catalogue import GRADER
from tfgrade.cli import main
from tfgrade.i18n import Lang
from tfgrade.pack.course import Course

ROOT = Path(__file__).resolve().parent.parent
PIP_TF = 'python -m pip install "tensorflow>=2.16"'
WHEEL_TF = f'"{setup_check.wheel_name()}[tf]"'

HIDE_TENSORFLOW = textwrap.dedent("""\
    import sys

    class _Hidden:
        def __init__(self, inner):
            self.inner = inner

        def find_spec(self, name, path=None, target=None):
            if name.partition(".")[0] in ("tensorflow", "keras"):
                return None
            return self.inner.find_spec(name, path, target)

        def __getattr__(self, attr):
            return getattr(self.inner, attr)

    sys.meta_path[:] = [_Hidden(f) if hasattr(f, "find_spec") else f for f in sys.meta_path]
    """)


def _tfgrade(python: str | Path, *args: str, pythonpath: list[Path] = (), cwd: Path,  # type: ignore[assignment]
             env: dict[str, str] | None = None, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("TFGRADE_", "PYTHON"))}
    environ["PYTHONPATH"] = os.pathsep.join(str(p) for p in (*pythonpath, ROOT))
    environ.update(env or {})
    return subprocess.run([str(python), "-m", "tfgrade", *args], cwd=cwd, env=environ, capture_output=True,
                          text=True, timeout=timeout, stdin=subprocess.DEVNULL)


def _one_line(done: subprocess.CompletedProcess[str]) -> str:
    """The run's whole output: exit status 2, one line on stderr, nothing else."""
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stdout + done.stderr
    assert done.stdout == ""
    lines = done.stderr.splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith("tfgrade: ")
    return lines[0]


@pytest.fixture
def work(tmp_path: Path) -> Path:
    """A student's folder holding a real exercise file."""
    folder = tmp_path / "mi_trabajo"
    folder.mkdir()
    shutil.copyfile(ROOT / "solutions" / "ex02_sequential.py", folder / "ex02_sequential.py")
    return folder


# -- TensorFlow missing ----------------------------------------------------------------------
@pytest.mark.parametrize("lang", ["es", "en"])
def test_tensorflow_missing_is_one_line_with_the_pip_line(work: Path, lang: Lang) -> None:
    hide = work.parent / "hide_tf"
    hide.mkdir()
    (hide / "sitecustomize.py").write_text(HIDE_TENSORFLOW)
    done = _tfgrade(sys.executable, "check", "ex02_sequential.py", "ex05_matrix_power.py", pythonpath=[hide],
                    cwd=work, env={"TFGRADE_LANG": lang})
    line = _one_line(done)
    assert line == "tfgrade: " + GRADER("setup_tf_missing", python=sys.executable, requirement="tensorflow>=2.16",
                                         wheel=setup_check.wheel_name()).get(lang)
    assert PIP_TF in line and WHEEL_TF in line and "[tf]" in line
    assert ("TensorFlow no está instalado" if lang == "es" else "TensorFlow is not installed") in line
    assert "internal" not in line and "interno" not in line


def test_missing_means_no_spec_and_nothing_imported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(setup_check.importlib.util, "find_spec", lambda name: None)
    assert setup_check.tensorflow_missing().key == "setup_tf_missing"  # type: ignore[union-attr]

    def hidden(name: str) -> None:
        raise ModuleNotFoundError(name)

    monkeypatch.setattr(setup_check.importlib.util, "find_spec", hidden)
    assert setup_check.tensorflow_missing().key == "setup_tf_missing"  # type: ignore[union-attr]
    monkeypatch.undo()
    assert setup_check.tensorflow_missing() is None
    # The diagnosis itself imports nothing (another test may have imported TensorFlow into
    # this process earlier; a fresh interpreter tells).
    probe = ("import sys; from tfgrade import setup_check; assert setup_check.tensorflow_missing() is None; "
             "assert 'tensorflow' not in sys.modules and 'keras' not in sys.modules")
    assert subprocess.run([sys.executable, "-c", probe], capture_output=True, timeout=120).returncode == 0


# -- TensorFlow broken -----------------------------------------------------------------------
def _venv_with_broken_tensorflow(where: Path) -> Path:
    """A virtual environment of this interpreter that sees this one's packages, except that its
    own `tensorflow` (first on the path) raises on import, as a half-installed one does."""
    venv = where / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    site = Path(sysconfig.get_path("purelib", vars={"base": str(venv), "platbase": str(venv)}))
    (site / "tensorflow").mkdir(parents=True)
    (site / "tensorflow" / "__init__.py").write_text(
        'raise ImportError("libtensorflow_framework.so.2: cannot open shared object file")\n')
    (site / "here.pth").write_text(sysconfig.get_path("purelib") + "\n")
    python = venv / ("Scripts/python.exe" if os.name == "nt" else "bin/python")
    assert python.exists()
    return python


@pytest.mark.parametrize("zygote", [True, False], ids=["zygote", "fresh-process"])
def test_broken_tensorflow_is_one_line_with_the_reinstall_line(work: Path, zygote: bool) -> None:
    python = _venv_with_broken_tensorflow(work.parent)
    env = {"TFGRADE_LANG": "en", **({} if zygote else {"TFGRADE_NO_ZYGOTE": "1"})}
    line = _one_line(_tfgrade(python, "check", "ex02_sequential.py", cwd=work, env=env))
    assert "TensorFlow is installed" in line and "does not work" in line
    assert "ImportError: libtensorflow_framework.so.2: cannot open shared object file" in line
    assert 'python -m pip install --force-reinstall "tensorflow>=2.16"' in line and "[tf]" in line
    assert "internal grader error" not in line
    es = _one_line(_tfgrade(python, "check", "ex02_sequential.py", "--lang", "es", cwd=work, env=env))
    assert "TensorFlow está instalado" in es and "no funciona" in es


def test_the_probe_runs_an_op(tmp_path: Path) -> None:
    """TensorFlow that imports but cannot run an op is broken too (the probe runs one)."""
    fake = tmp_path / "fake"
    (fake / "tensorflow").mkdir(parents=True)
    (fake / "keras").mkdir()
    (fake / "keras" / "__init__.py").write_text("")
    (fake / "tensorflow" / "__init__.py").write_text(
        "def constant(value):\n    raise RuntimeError(\"No OpKernel was registered to support Op 'Const'\")\n")
    env = {"PATH": os.environ.get("PATH", ""), "PYTHONPATH": str(fake)}
    problem = setup_check.probe_tensorflow(env=env)
    assert problem is not None and problem.key == "setup_tf_broken"
    assert "RuntimeError: No OpKernel was registered to support Op 'Const'" in problem.en
    (fake / "tensorflow" / "__init__.py").write_text("def constant(value):\n    return value\n")
    assert setup_check.probe_tensorflow(env=env) is None
    (fake / "tensorflow" / "__init__.py").write_text("import time\ntime.sleep(30)\n")
    slow = setup_check.probe_tensorflow(timeout=1, env=env)
    assert slow is not None and slow.key == "setup_tf_broken" and "> 1 s" in slow.en
    shutil.rmtree(fake / "tensorflow")
    (fake / "sitecustomize.py").write_text(HIDE_TENSORFLOW)       # nor the real one, if any
    gone = setup_check.probe_tensorflow(env=env)
    assert gone is not None and gone.key == "setup_tf_missing"


def test_a_crash_is_named_by_its_signal() -> None:
    assert setup_check._probe_detail(-int(signal.SIGILL), "").startswith("SIGILL")
    assert setup_check._probe_detail(1, "Traceback …\n  File x\nImportError: no libcuda\n\n") == \
        "ImportError: no libcuda"
    assert len(setup_check._probe_detail(1, "E" * 5000)) == 300


def test_the_requirement_is_the_tf_extra() -> None:
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["optional-dependencies"]
    assert extras["tf"] == [setup_check.TF_REQUIREMENT]


# -- a file name that matches no exercise -----------------------------------------------------
@pytest.mark.parametrize("lang", ["es", "en"])
def test_unknown_file_names_the_exercises(lang: Lang, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "ex99_nothing.py", "--lang", lang]) == 2
    out, err = capsys.readouterr()
    assert out == "" and len(err.splitlines()) == 1 and "Traceback" not in err
    assert "ex99_nothing.py" in err
    assert all(ex_id in err for ex_id in Course.load().ids)
    assert ("no corresponde a ningún ejercicio" if lang == "es" else "matches no exercise") in err


# -- Python too old --------------------------------------------------------------------------
def test_python_too_old() -> None:
    for ok in [(3, 11, 0), (3, 12, 1), (3, 13, 0, "final", 0), (4, 0)]:
        assert setup_check.python_problem(ok) is None
    assert setup_check.python_problem() is None
    old = setup_check.python_problem((3, 10, 13, "final", 0))
    assert old is not None and old.key == "setup_python_too_old"
    assert "Python 3.11" in old.en and "Python 3.10.13" in old.en and "Python 3.10.13" in old.es
    assert f"python -m pip install {WHEEL_TF}" in old.en
    assert setup_check.python_problem((3, 9)) is not None


def test_every_setup_message_reads_alike_without_tomllib() -> None:
    """Before 3.11 there is no tomllib: setup.toml's entries must read the same by hand."""
    keys = tomllib.loads(setup_check.MESSAGES.read_text(encoding="utf-8"))
    values = dict(python="/x/python", found="3.10.1", need="3.11", requirement="tensorflow>=2.16",
                  wheel="w.whl", detail="ImportError: x \"y\"", name="a.py", ids="ex01, ex02")
    for key in keys:
        assert setup_check._entry_without_tomllib(key, values) == GRADER(key, **values)


def test_an_old_python_gets_one_line(work: Path) -> None:
    """As on Python 3.10: no tomllib, and the version check says so before anything needs it."""
    code = textwrap.dedent("""\
        import sys
        sys.modules["tomllib"] = None          # what Python < 3.11 lacks
        import tfgrade.setup_check as sc
        real = sc.python_problem
        sc.python_problem = lambda version=None: real((3, 10, 13))
        from tfgrade.cli import main
        sys.exit(main(sys.argv[1:]))
        """)
    for lang, words in (("en", "tfgrade needs Python 3.11 or newer"), ("es", "tfgrade necesita Python 3.11")):
        environ = {k: v for k, v in os.environ.items() if not k.startswith(("TFGRADE_", "PYTHON"))}
        done = subprocess.run([sys.executable, "-c", code, "check", "ex02_sequential.py", "--lang", lang],
                              cwd=work, env={**environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True,
                              timeout=60)
        line = _one_line(done)
        assert words in line and "3.10.13" in line and WHEEL_TF in line


def _older_python() -> str | None:
    candidates = [shutil.which(f"python3.{minor}") for minor in (10, 9, 8)]
    candidates += sorted(glob.glob(str(Path.home() / ".pyenv" / "versions" / "3.[89]*" / "bin" / "python")))
    candidates += sorted(glob.glob(str(Path.home() / ".pyenv" / "versions" / "3.10*" / "bin" / "python")))
    for python in filter(None, candidates):
        try:
            done = subprocess.run([python, "-c", "import sys; print(sys.version_info >= (3, 8) and "
                                   "sys.version_info < (3, 11))"], capture_output=True, text=True, timeout=20)
        except (OSError, subprocess.TimeoutExpired):
            continue
        if done.returncode == 0 and done.stdout.strip() == "True":
            return python
    return None


def test_a_real_older_python_gets_one_line(work: Path) -> None:
    python = _older_python()
    if python is None:
        pytest.skip("no Python 3.8-3.10 on this machine")
    line = _one_line(_tfgrade(python, "check", "ex02_sequential.py", "--lang", "en", cwd=work))
    assert "tfgrade needs Python 3.11 or newer" in line and WHEEL_TF in line
