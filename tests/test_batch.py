"""Grading a class: LMS layouts, safe archives, parallel workers, resume after kill -9, Dask."""

from __future__ import annotations

import csv
import io
import os
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest

from tfgrade.errors import SubmissionError
from tfgrade.intake.classfolder import ArchiveLimits, discover, safe_extract
from tfgrade.intake.matching import match_exercise
from tfgrade.pack.course import Course

ROOT = Path(__file__).resolve().parent.parent
IDS = ("ex01_tf1_add", "ex02_sequential", "ex06_diabetes_mlp")


@pytest.mark.parametrize("name,expected", [
    ("ex06_diabetes_mlp.py", "ex06_diabetes_mlp"),
    ("Copia de ex06_diabetes_mlp.ipynb", "ex06_diabetes_mlp"),
    ("ex06_diabetes_mlp (1).py", "ex06_diabetes_mlp"),
    ("Copy of ex02_sequential.ipynb", "ex02_sequential"),
    ("EX02_Sequential.py", "ex02_sequential"),
    ("ex02.py", "ex02_sequential"),
    ("notes.txt", None),
    ("tarea.py", None),
])
def test_file_name_matching(name: str, expected: str | None) -> None:
    assert match_exercise(name, IDS) == expected


def _mini_pack(tmp: Path, ids: tuple[str, ...] = ("ex01_tf1_add", "ex02_sequential")) -> Path:
    pack = tmp / "pack"
    for ex_id in ids:
        shutil.copytree(ROOT / "exercises" / ex_id, pack / ex_id)
    return pack


def test_moodle_folder_layout(tmp_path: Path) -> None:
    course = Course.load(_mini_pack(tmp_path))
    subs = tmp_path / "moodle"
    a = subs / "Ana García López_12345_assignsubmission_file_"
    a.mkdir(parents=True)
    shutil.copyfile(ROOT / "solutions" / "ex02_sequential.py", a / "Copia de ex02_sequential (1).py")
    (subs / "Ana García López_12345_assignsubmission_onlinetext_").mkdir()
    (subs / "Ana García López_12345_assignsubmission_onlinetext_" / "onlinetext.html").write_text("hola")
    b = subs / "Beto Ruiz_777_assignsubmission_file_"
    b.mkdir()
    (b / "ex01_tf1_add.py").write_text("x = 1\n")
    (b / "readme.txt").write_text("")
    students = discover(subs, course, tmp_path / "work")
    by_name = {s.name: s for s in students}
    assert set(by_name) == {"Ana García López", "Beto Ruiz"}
    assert by_name["Ana García López"].student_id == "12345"
    assert set(by_name["Ana García López"].files) == {"ex02_sequential"}
    assert set(by_name["Beto Ruiz"].files) == {"ex01_tf1_add"}


def _zip(entries: dict[str, bytes], path: Path, symlink: str | None = None) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
        if symlink:
            info = zipfile.ZipInfo(symlink)
            info.external_attr = (0o120777 << 16)
            zf.writestr(info, "/etc/passwd")
    return path


def test_zip_of_folders(tmp_path: Path) -> None:
    course = Course.load(_mini_pack(tmp_path))
    z = _zip({"clase/ana/ex02_sequential.py": b"x=1\n", "clase/beto/ex01_tf1_add.py": b"y=2\n"}, tmp_path / "c.zip")
    students = discover(z, course, tmp_path / "work")
    assert sorted(s.name for s in students) == ["ana", "beto"]


@pytest.mark.parametrize("entries,symlink", [
    ({"../evil.py": b"x"}, None),
    ({"/abs/evil.py": b"x"}, None),
    ({"ok/a.py": b"x"}, "ok/link.py"),
])
def test_zip_slip_and_links_are_refused(tmp_path: Path, entries: dict[str, bytes], symlink: str | None) -> None:
    z = _zip(entries, tmp_path / "bad.zip", symlink)
    with pytest.raises(SubmissionError) as err:
        safe_extract(z, tmp_path / "out")
    assert err.value.msg.es and err.value.msg.en
    assert not (tmp_path / "evil.py").exists()


def test_zip_bomb_is_stopped_by_bytes_written(tmp_path: Path) -> None:
    z = _zip({"a/big.py": b"0" * (5 * 1024 * 1024)}, tmp_path / "bomb.zip")
    assert z.stat().st_size < 100_000
    with pytest.raises(SubmissionError) as err:
        safe_extract(z, tmp_path / "out", ArchiveLimits(max_total_bytes=1024 * 1024))
    assert "zip bomb" in err.value.msg.en and "bomba zip" in err.value.msg.es


def test_too_many_files(tmp_path: Path) -> None:
    z = _zip({f"a/f{i}.py": b"" for i in range(30)}, tmp_path / "many.zip")
    with pytest.raises(SubmissionError) as err:
        safe_extract(z, tmp_path / "out", ArchiveLimits(max_files=10))
    assert "more than 10 files" in err.value.msg.en


def _class(tmp: Path, n: int = 5) -> Path:
    subs = tmp / "subs"
    good = (ROOT / "solutions" / "ex02_sequential.py").read_text()
    variants = [good, good.replace('"relu"', '"tanh"'), "def build_model(:\n", good.replace("32", "16"), good]
    for i in range(n):
        d = subs / f"student{i:02d}"
        d.mkdir(parents=True)
        (d / "ex02_sequential.py").write_text(variants[i % len(variants)])
        shutil.copyfile(ROOT / "solutions" / "ex01_tf1_add.py", d / "ex01_tf1_add.py")
    return subs


def _tfgrade(*args: str, **kw) -> subprocess.Popen[str]:  # type: ignore[no-untyped-def]
    return subprocess.Popen([sys.executable, "-m", "tfgrade", *args], text=True, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, start_new_session=True, **kw)


def _gradebook(out: Path) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO((out / "gradebook.csv").read_text())))


def test_parallel_grade_then_kill9_and_resume(tmp_path: Path) -> None:
    pack = _mini_pack(tmp_path)
    subs = _class(tmp_path)
    ref = tmp_path / "ref"
    p = _tfgrade("grade", str(subs), "--out", str(ref), "--pack", str(pack), "-j", "2", "--lang", "en")
    _, err = p.communicate(timeout=600)
    assert p.returncode == 0, err
    assert "5 graded" in err
    reference = _gradebook(ref)
    assert len(reference) == 5

    out = tmp_path / "out"
    p = _tfgrade("grade", str(subs), "--out", str(out), "--pack", str(pack), "-j", "2", "--lang", "en")
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and len(list((out / "results").glob("*.json"))) < 2:
        time.sleep(0.2)
    os.killpg(p.pid, signal.SIGKILL)          # the whole run, workers and zygotes included
    p.wait()
    done = list((out / "results").glob("*.json"))
    assert 2 <= len(done) < 5 or len(done) == 5
    assert not list((out / "results").glob(".*.tmp"))    # never a half-written result
    p = _tfgrade("grade", str(subs), "--out", str(out), "--pack", str(pack), "-j", "2", "--lang", "en")
    _, err = p.communicate(timeout=600)
    assert p.returncode == 0, err
    assert f"{len(done)} unchanged" in err
    assert _gradebook(out) == reference


def test_dask_local_cluster_matches_local(tmp_path: Path) -> None:
    pytest.importorskip("distributed")
    pack = _mini_pack(tmp_path, ("ex02_sequential",))
    subs = _class(tmp_path, 4)
    local, dask_out = tmp_path / "local", tmp_path / "dask"
    env = {**os.environ, "TFGRADE_PACK": str(pack)}
    for out, extra in ((local, ["-j", "1"]), (dask_out, ["--dask-local", "2"])):
        p = _tfgrade("grade", str(subs), "--out", str(out), "--lang", "en", *extra, env=env)
        _, err = p.communicate(timeout=600)
        assert p.returncode == 0, err
    assert _gradebook(local) == _gradebook(dask_out)


def test_ctrl_c_stops_cleanly_and_says_how_to_resume(tmp_path: Path) -> None:
    pack = _mini_pack(tmp_path)
    subs = _class(tmp_path, 4)
    out = tmp_path / "out"
    p = _tfgrade("grade", str(subs), "--out", str(out), "--pack", str(pack), "-j", "1", "--lang", "en")
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and not list((out / "results").glob("*.json")):
        time.sleep(0.2)
    p.send_signal(signal.SIGINT)
    _, err = p.communicate(timeout=120)
    assert p.returncode == 130
    assert "run the same command again to resume" in err
    assert "Traceback" not in err
    assert list((out / "results").glob("*.json"))


def test_missing_gpu_exercise_has_the_same_maximum_as_a_graded_one(grader) -> None:  # type: ignore[no-untyped-def]
    """Every student's maximum is the same: a not-submitted ex05 leaves the GPU check's points
    out too, when (and only when) this machine has no GPU."""
    ex = grader.course.get("ex05_matrix_power")
    r = grader.grade_file(ex, None)
    has_gpu = any("GPU" in d for d in (grader._devices or ()))
    gpu_check = next(c for c in r.checks if c.id == "on_gpu")
    assert gpu_check.status == ("skipped" if has_gpu else "not_applicable")
    assert r.max_score == ex.max_points - (0 if has_gpu else gpu_check.max_points)


def _worker_pids(root_pid: int) -> list[int]:
    from tfgrade.supervisor.procs import descendants

    found = []
    for pid in descendants(root_pid):
        try:
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ")
        except OSError:
            continue
        if b"multiprocessing" in cmd and b"spawn_main" in cmd and b"resource_tracker" not in cmd:
            found.append(pid)
    return found


def test_a_killed_worker_costs_one_retry(tmp_path: Path) -> None:
    """A worker that dies mid-student (segfault, OOM kill) is replaced; that student is graded
    again and the batch completes with every row."""
    pack = _mini_pack(tmp_path, ("ex02_sequential",))
    subs = _class(tmp_path, 3)
    slow = "import time\ntime.sleep(4)\n" + (ROOT / "solutions" / "ex02_sequential.py").read_text()
    for folder in subs.iterdir():
        (folder / "ex02_sequential.py").write_text(slow)      # each student takes ≥ 4 s
    out = tmp_path / "out"
    p = _tfgrade("grade", str(subs), "--out", str(out), "--pack", str(pack), "-j", "1", "--lang", "en")
    deadline = time.monotonic() + 300
    workers: list[int] = []
    while time.monotonic() < deadline and not workers:
        workers = _worker_pids(p.pid) if (out / "mapping.csv").exists() else []
        time.sleep(0.2)
    assert workers, "no worker process appeared"
    time.sleep(7)                         # zygote ready (~4 s), first student mid-way (4 s sleep)
    assert not list((out / "results").glob("*.json")), "the first student finished before the kill"
    for pid in workers:
        os.kill(pid, signal.SIGKILL)
    _, err = p.communicate(timeout=600)
    assert p.returncode == 0, err
    assert len(_gradebook(out)) == 3
    assert "3 graded" in err


def test_full_disk_is_reported_and_a_rerun_completes(tmp_path: Path) -> None:
    """OUT on a tiny filesystem: a clear message, no half-written result, a rerun finishes."""
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        pytest.skip("needs root (or unshare) to mount a tiny filesystem for OUT")
    pack = _mini_pack(tmp_path, ("ex02_sequential",))
    subs = _class(tmp_path, 4)
    out = tmp_path / "out"
    out.mkdir()
    script = (f"mount -t tmpfs -o size=24k tmpfs {out} && cd {ROOT} && "
              f"{sys.executable} -m tfgrade grade {subs} --out {out} --pack {pack} -j 1 --lang en; "
              f"echo EXIT=$?; ls -a {out}/results 2>/dev/null; "
              f"{sys.executable} -c \"import glob, json; [json.load(open(f)) for f in glob.glob('{out}/results/*.json')]; "
              f"print('JSON-OK')\"")
    proc = subprocess.run(["unshare", "--mount", "--propagation", "private", "sh", "-c", script],
                          capture_output=True, text=True, timeout=600)
    if "mount:" in proc.stderr and "EXIT=" not in proc.stdout:
        pytest.skip(f"cannot mount a tmpfs here: {proc.stderr[-200:]}")
    assert "EXIT=1" in proc.stdout, proc.stdout + proc.stderr
    assert "No space left on device" in proc.stderr and "run the same command again" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert ".tmp" not in proc.stdout                     # no temp file left behind
    assert "JSON-OK" in proc.stdout                      # every result there is whole
    # with room again (the tmpfs is gone with its namespace), the rerun completes the class
    p = _tfgrade("grade", str(subs), "--out", str(out), "--pack", str(pack), "-j", "1", "--lang", "en")
    _, err = p.communicate(timeout=600)
    assert p.returncode == 0, err
    assert len(_gradebook(out)) == 4
