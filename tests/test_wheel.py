"""A plain (non-editable) install finds the bundled pack, solutions and templates."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    dist = tmp_path_factory.mktemp("dist")
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                           "-w", str(dist), str(ROOT)], capture_output=True, text=True)
    if proc.returncode != 0 and "hatchling" in proc.stderr:
        proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", str(dist), str(ROOT)],
                              capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return next(dist.glob("tfgrade-*.whl"))


def test_wheel_contents(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    assert "tfgrade/_bundled/exercises/ex02_sequential/checks.py" in names
    assert "tfgrade/_bundled/solutions/ex02_sequential.py" in names
    assert any(n.startswith("tfgrade/_bundled/templates/") for n in names)
    assert not any(n.startswith("tests/") for n in names)


def test_installed_wheel_runs_from_elsewhere(wheel: Path, tmp_path: Path) -> None:
    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--quiet", "--target", str(target),
                    str(wheel)], check=True)
    env = {**os.environ, "PYTHONPATH": str(target)}
    code = ("import tfgrade, tfgrade.pack.course as c, sys; "
            "assert 'site' in tfgrade.__file__, tfgrade.__file__; "
            "print(c.bundled_dir('exercises')); print(c.bundled_dir('solutions')); "
            "print(c.bundled_dir('templates')); "
            "from tfgrade.cli import main; sys.exit(main(['list', '--lang', 'en']))")
    proc = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-2000:]
    lines = proc.stdout.splitlines()
    assert all("_bundled" in line for line in lines[:3])
    assert "ex07_cnn" in proc.stdout
    # the trusted side imported without TensorFlow
    code2 = "import sys, tfgrade.cli, tfgrade.engine.plugin, tfgrade.runners.batch; assert 'tensorflow' not in sys.modules"
    assert subprocess.run([sys.executable, "-c", code2], cwd=tmp_path, env=env).returncode == 0
