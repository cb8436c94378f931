"""The portable path (Windows, macOS), run on Linux by forcing it with TFGRADE_PORTABLE=1:
a whole `tfgrade check` through it, and the check path imported where the POSIX-only
modules do not exist."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("TFGRADE_PORTABLE", "TFGRADE_NO_ZYGOTE")}
    env.update({"PYTHONPATH": str(ROOT), **extra})
    return env


def test_a_whole_check_runs_through_the_portable_path(tmp_path: Path) -> None:
    files = [str(ROOT / "solutions" / f"{ex}.py") for ex in ("ex01_tf1_add", "ex02_sequential")]
    proc = subprocess.run([sys.executable, "-m", "tfgrade", "check", *files, "--lang", "en"],
                          capture_output=True, text=True, cwd=tmp_path, timeout=600,
                          env=_env(TFGRADE_PORTABLE="1"))
    out = proc.stdout
    assert proc.returncode == 0, out[-3000:] + proc.stderr[-3000:]
    assert "Points: 9/9" in out and "Points: 10/10" in out          # ex01 (1 more hidden), ex02
    assert out.count("isolation: basic") == 2
    # said plainly, before anything runs
    assert "no file or network isolation" in proc.stderr
    assert "Portable mode (no fork)" in proc.stderr


BLOCKED = textwrap.dedent("""
    import os, sys
    class Refuse:
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in ("resource", "fcntl"):
                raise ImportError(f"{name} does not exist on this platform")
            return None
    for name in ("resource", "fcntl"):
        sys.modules.pop(name, None)
    sys.meta_path.insert(0, Refuse())
    del os.fork
    del os.register_at_fork
""")

CHECK_PATH = BLOCKED + textwrap.dedent("""
    import threading
    import tfgrade.cli, tfgrade.runners.config, tfgrade.runners.batch
    import tfgrade.engine.plugin, tfgrade.engine.proxy, tfgrade.engine.clean_process
    import tfgrade.supervisor, tfgrade.supervisor.portable as portable
    import tfgrade.sandboxed.child as child
    from tfgrade.supervisor import children, detect_level, protections_off
    from tfgrade.wire import framing
    from tfgrade.sandboxed import channel, confine
    from tfgrade.wire.plan import Limits
    assert "resource" not in sys.modules and "fcntl" not in sys.modules
    assert children.portable_path() and not children.fork_is_safe()
    assert detect_level("auto") == "basic" and detect_level("strong") == "basic"
    print("said:", [m.key for m in protections_off("basic")])
    confine.apply_limits(Limits(), in_userns=False)        # skipped without resource
    confine.die_with_parent()

    # The launcher's setup: loopback listener, token, one authenticated connection, the wire.
    launcher = portable.PortableLauncher(children.child_env(), prestart=False)
    listener, address, token = portable.listen()
    assert address.startswith("127.0.0.1:")
    host, port = address.rsplit(":", 1)
    def client():
        import socket
        wrong = socket.create_connection((host, int(port)))
        wrong.sendall(b"0" * len(token) + b"\\n")              # another local process: dropped
        sock = socket.create_connection((host, int(port)))
        sock.sendall(token.encode() + b"\\n")
        frame = framing.read_frame(channel.reader(sock))
        channel.send(sock, {"echo": frame.header}, frame.arrays)
        sock.close(); wrong.close()
    t = threading.Thread(target=client); t.start()
    conn = portable.accept(listener, token, timeout=30)
    import numpy as np
    conn.sendall(framing.encode({"op": "ping"}, [np.arange(3)]))
    reply = framing.read_frame(conn.recv)
    assert reply.header == {"echo": {"op": "ping"}} and reply.arrays[0].tolist() == [0, 1, 2]
    t.join(); conn.close(); launcher.close()
    print("ok")
""")


def test_the_check_path_imports_without_posix_only_modules(tmp_path: Path) -> None:
    proc = subprocess.run([sys.executable, "-c", CHECK_PATH], capture_output=True, text=True,
                          cwd=tmp_path, timeout=120, env=_env(TFGRADE_PORTABLE="1"))
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert proc.stdout.strip().endswith("ok")
    assert "basic_protections_off" in proc.stdout and "no_rlimits" in proc.stdout


def test_a_connection_without_the_token_is_refused() -> None:
    import socket

    from tfgrade.errors import SandboxError
    from tfgrade.supervisor import portable

    listener, address, token = portable.listen()
    host, port = address.rsplit(":", 1)

    def intruder() -> None:        # connects again each time it is dropped
        for _ in range(portable.MAX_ATTEMPTS):
            with socket.create_connection((host, int(port)), timeout=10) as s:
                s.sendall(b"f" * len(token) + b"\n")
                assert s.recv(1) == b""

    import threading

    t = threading.Thread(target=intruder)
    t.start()
    with pytest.raises(SandboxError):
        portable.accept(listener, token, timeout=20)
    t.join(10)
    with pytest.raises(OSError):              # the listener is gone: nobody else gets in later
        socket.create_connection((host, int(port)), timeout=2)


def test_without_proc_or_psutil_the_watchdog_is_off_and_kill_still_works(monkeypatch, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from tfgrade.supervisor import procs, protections_off

    monkeypatch.setattr(procs, "PROC", tmp_path / "no-proc")
    monkeypatch.setattr(procs, "_psutil", lambda: None)
    assert not procs.can_watch()
    assert "no_memory_watchdog" in [m.key for m in protections_off("basic")]
    assert "basic_limits" not in [m.key for m in protections_off("basic")]
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    assert procs.descendants(sleeper.pid) == [sleeper.pid]
    assert procs.rss_bytes([sleeper.pid]) == 0
    procs.kill_tree(sleeper.pid)
    assert sleeper.wait(10) != 0


def test_with_psutil_and_no_proc_the_watchdog_measures(monkeypatch, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    pytest.importorskip("psutil")
    from tfgrade.supervisor import procs

    monkeypatch.setattr(procs, "PROC", tmp_path / "no-proc")
    assert procs.can_watch()
    parent = subprocess.Popen([sys.executable, "-c",
                               "import subprocess, sys, time; subprocess.Popen([sys.executable, '-c', "
                               "'import time; time.sleep(60)']); time.sleep(60)"])
    try:
        import time
        for _ in range(100):
            tree = procs.descendants(parent.pid)
            if len(tree) == 2:
                break
            time.sleep(0.05)
        assert len(tree) == 2 and tree[0] == parent.pid
        assert procs.rss_bytes(tree) > 1_000_000
        procs.kill_tree(parent.pid)
        assert parent.wait(10) != 0
    finally:
        parent.kill()
