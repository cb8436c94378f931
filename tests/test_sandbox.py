"""The sandbox itself: fresh-process fallback, isolation level reporting, seeds, threads."""

from __future__ import annotations

from pathlib import Path

from tfgrade.engine.grader import Grader
from tfgrade.engine.proxy import StudentProxy
from tfgrade.supervisor import default_masks, make_sandbox

ROOT = Path(__file__).resolve().parent.parent

PROBE = """
import os, random
import numpy as np
import tensorflow as tf
def probe():
    return {"py": random.random(), "np": float(np.random.rand()), "tf": float(tf.random.uniform(())),
            "intra": tf.config.threading.get_intra_op_parallelism_threads(),
            "env_secret": os.environ.get("TFGRADE_TEST_SECRET", "absent")}
"""


def _proxy(sandbox, source: str = PROBE) -> StudentProxy:  # type: ignore[no-untyped-def]
    return StudentProxy(sandbox=sandbox, module="probe", filename="probe.py", source=source, seed=123)


def test_fresh_process_fallback_gives_the_same_answers(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """Where fork is unsafe (macOS, Windows), each child is a fresh interpreter."""
    monkeypatch.setenv("TFGRADE_TEST_SECRET", "s3cr3t")
    values = []
    for zygote in (True, False):
        sandbox = make_sandbox("basic", masks=default_masks(), threads=1, use_zygote=zygote)
        proxy = _proxy(sandbox)
        try:
            values.append(proxy.call("probe"))
        finally:
            proxy.close()
            sandbox.close()
    assert values[0] == values[1]                 # same seeds, same numbers, either way
    assert values[0]["intra"] == 1                # its share of the cores
    assert values[0]["env_secret"] == "absent"    # the grader's environment does not leak in


def test_results_record_the_isolation_level(grader: Grader, tmp_path: Path) -> None:
    from tfgrade.runners.batch import collect_student

    d = tmp_path / "ana"
    d.mkdir()
    (d / "ex02_sequential.py").write_text((ROOT / "solutions" / "ex02_sequential.py").read_text())
    result = grader.grade_student(collect_student(d, grader.course))
    assert result.isolation == grader.isolation
    assert result.isolation in ("strong", "standard", "basic")
    assert result.to_json()["isolation"] == grader.isolation


def test_a_checkout_under_tmp_stays_importable_in_the_sandbox(tmp_path: Path) -> None:
    """The child's private /tmp must not hide the grader when the checkout lives under /tmp
    (a CI clone, a student's download): the code paths are bound back on top."""
    import shutil
    import subprocess
    import sys

    assert str(tmp_path).startswith("/tmp")
    clone = tmp_path / "clone"
    for part in ("tfgrade", "exercises", "solutions", "templates"):
        shutil.copytree(ROOT / part, clone / part, ignore=shutil.ignore_patterns("__pycache__"))
    code = (f"import sys; sys.path.insert(0, {str(clone)!r})\n"
            "from tfgrade.supervisor import make_sandbox, default_masks\n"
            "from tfgrade.engine.clean_process import Verifier\n"
            "for level in ('standard', 'strong'):\n"
            "    sb = make_sandbox(level, masks=default_masks(), threads=1)\n"
            "    v = Verifier(sb)   # a sandbox child that imports the package from the clone\n"
            "    print(sb.plan.level, v.devices())\n"
            "    v.close(); sb.close()\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=tmp_path, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "/CPU:0" in proc.stdout
