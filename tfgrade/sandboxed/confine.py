"""Confinement a sandbox child applies to itself before student code runs: namespaces,
mounts, limits (sandbox side; no TensorFlow). The plan it applies comes over the wire
(tfgrade.wire.plan); the supervisor decides it and checks the level it reached.

Facts this relies on (see docs/ARCHITECTURE.md): RLIMIT_AS breaks TensorFlow, so memory is
capped with RLIMIT_DATA plus an RSS watchdog on the trusted side; RLIMIT_CPU counts every
thread, so it is only a backstop beside the wall-clock timeout; a pid namespace (not killpg)
is what catches a double-forked escapee.

POSIX-only modules (`resource`) are imported where they are used, never at import: the
portable path (Windows) imports this module and only skips what it cannot do.
"""

from __future__ import annotations

import ctypes
import errno
import functools
import os
import signal
import sys

from tfgrade.wire.plan import Limits, SandboxPlan

CLONE_NEWNS = 0x00020000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000

MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18
AT_FDCWD, AT_RECURSIVE = -100, 0x8000
MOUNT_ATTR_RDONLY = 0x1
SYS_MOUNT_SETATTR = 442          # same number on x86_64 and the generic table (aarch64)
PR_SET_PDEATHSIG, PR_SET_DUMPABLE, PR_SET_NO_NEW_PRIVS = 1, 4, 38



@functools.cache
def _libc() -> ctypes.CDLL:
    # The running interpreter already links libc; find_library() would shell out to gcc,
    # which cannot work once the filesystem is read-only.
    return ctypes.CDLL(None, use_errno=True)


def _check(ret: int, what: str) -> None:
    if ret != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def prctl(option: int, value: int) -> None:
    if sys.platform.startswith("linux"):
        _check(_libc().prctl(option, ctypes.c_ulong(value), 0, 0, 0), f"prctl({option})")


def unshare(flags: int) -> None:
    _check(_libc().unshare(flags), "unshare")


def mount(source: str | None, target: str, fstype: str | None, flags: int, data: str | None = None) -> None:
    libc = _libc()
    enc = [s.encode() if s is not None else None for s in (source, target, fstype, data)]
    _check(libc.mount(enc[0], enc[1], enc[2], ctypes.c_ulong(flags), enc[3]), f"mount {target}")


def _map_ids(uid: int, gid: int) -> None:
    with open("/proc/self/setgroups", "w") as fh:
        fh.write("deny")
    with open("/proc/self/uid_map", "w") as fh:
        fh.write(f"{uid} {uid} 1\n")
    with open("/proc/self/gid_map", "w") as fh:
        fh.write(f"{gid} {gid} 1\n")


class _MountAttr(ctypes.Structure):
    _fields_ = [("attr_set", ctypes.c_uint64), ("attr_clr", ctypes.c_uint64),
                ("propagation", ctypes.c_uint64), ("userns_fd", ctypes.c_uint64)]


def _set_readonly(path: str, recursive: bool) -> None:
    """Make the mount at `path` (and, recursive, every mount below it) read-only."""
    attr = _MountAttr(MOUNT_ATTR_RDONLY, 0, 0, 0)
    ret = _libc().syscall(SYS_MOUNT_SETATTR, AT_FDCWD, path.encode(), AT_RECURSIVE if recursive else 0,
                          ctypes.byref(attr), ctypes.sizeof(attr))
    if ret == 0:
        return
    if not recursive:
        mount(None, path, None, MS_REMOUNT | MS_BIND | MS_RDONLY)
        return
    # Kernels without mount_setattr: remount each mount below `path` read-only, one by one.
    with open("/proc/self/mountinfo") as fh:
        points = [line.split()[4] for line in fh]
    for point in points:
        if _under(point, path):
            try:
                mount(None, point, None, MS_REMOUNT | MS_BIND | MS_RDONLY)
            except OSError:
                pass


def _mask(path: str) -> None:
    if not os.path.lexists(path):
        return
    if os.path.isdir(path):
        mount("tmpfs", path, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY,
              "size=4k,nr_inodes=16,mode=000")
    else:
        mount("/dev/null", path, None, MS_BIND)


def _limit_nested_user_namespaces() -> None:
    """Allow exactly one more user namespace below this one: the locking one that
    finish_namespaces creates. Student code, one level further down, cannot raise this
    limit (it has no capability here) and so cannot create user namespaces of its own,
    which keeps a large part of the kernel out of its reach. Best effort: a read-only
    /proc/sys leaves it as it was."""
    try:
        with open("/proc/sys/user/max_user_namespaces", "w") as fh:
            fh.write("1")
    except OSError:
        pass


def tmpfs_options(size_mb: int, inodes: int) -> str:
    return f"size={size_mb}m,nr_inodes={inodes},mode=1777"


OVERLAID = ("/tmp", "/var/tmp", "/run", "/dev/shm")   # replaced by private tmpfs in a child


def code_paths() -> list[str]:
    """What the child needs to keep importing: the grader package, the environment and the
    interpreter (a checkout or a venv may well live under /tmp, e.g. a CI clone)."""
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    found = {here, sys.prefix, sys.base_prefix, os.path.dirname(os.path.realpath(sys.executable))}
    return sorted(p for p in found if p and os.path.isdir(p))


def _under(path: str, parent: str) -> bool:
    return path == parent or path.startswith(parent.rstrip("/") + "/")


def _private_tmpfs(target: str, options: str) -> None:
    """Mount a fresh tmpfs on `target` without hiding the code paths that live below it:
    they are opened first, then bound back, read-only, on top of the new tmpfs."""
    kept = [(p, os.open(p, os.O_PATH | os.O_DIRECTORY)) for p in code_paths()
            if _under(p, target) and p != target]
    mount("tmpfs", target, "tmpfs", MS_NOSUID | MS_NODEV, options)
    # The folders leading to the code (e.g. /tmp/clone) get a small tmpfs of their own that
    # ends read-only, so the child cannot add files beside the grader package.
    tops = sorted({os.path.join(target, os.path.relpath(p, target).split(os.sep)[0]) for p, _ in kept})
    for top in tops:
        os.makedirs(top, exist_ok=True)
        mount("tmpfs", top, "tmpfs", MS_NOSUID | MS_NODEV, "size=64k,mode=755")
    for path, fd in kept:
        try:
            os.makedirs(path, exist_ok=True)
            mount(f"/proc/self/fd/{fd}", path, None, MS_BIND | MS_REC)
            _set_readonly(path, recursive=True)
        finally:
            os.close(fd)
    for top in tops:
        _set_readonly(top, recursive=False)


def enter_namespaces(plan: SandboxPlan) -> None:
    """Called in the forked child: new user/mount/net/pid/ipc/uts namespaces, read-only view,
    hidden paths masked, a private size-capped /tmp. The next fork becomes pid 1.

    At the `strong` level this runs inside bubblewrap's view (the zygote was started in
    it): the namespaces nest, and the fresh /tmp and /proc are what keep one child's
    files and processes from the next."""
    uid, gid = os.getuid(), os.getgid()
    unshare(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWPID | CLONE_NEWIPC | CLONE_NEWUTS)
    _map_ids(uid, gid)
    _limit_nested_user_namespaces()
    mount(None, "/", None, MS_REC | MS_PRIVATE)
    _set_readonly("/", recursive=True)
    for path in plan.masks:
        try:
            _mask(path)
        except OSError as exc:
            if exc.errno not in (errno.ENOENT, errno.ENOTDIR):
                raise
    _private_tmpfs("/tmp", tmpfs_options(plan.limits.tmp_mb, plan.limits.tmp_inodes))
    for extra in OVERLAID[1:]:
        if os.path.isdir(extra):
            try:
                _private_tmpfs(extra, tmpfs_options(16, 1024))
            except OSError:
                pass


def finish_namespaces() -> None:
    """Called as pid 1 of the new pid namespace: a /proc that shows only the sandbox, then a
    second user+mount namespace so the mounts above are locked and cannot be undone."""
    uid, gid = os.getuid(), os.getgid()
    mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)
    unshare(CLONE_NEWUSER | CLONE_NEWNS)
    _map_ids(uid, gid)


def apply_limits(limits: Limits, in_userns: bool) -> None:
    """RLIMITs where the platform has them (not on Windows: there the wall clock and the
    trusted side's memory watchdog are the limits)."""
    try:
        import resource
    except ImportError:
        return

    def setl(which: int, soft: int, hard: int | None = None) -> None:
        try:
            resource.setrlimit(which, (soft, soft if hard is None else hard))
        except (ValueError, OSError):
            pass

    setl(resource.RLIMIT_CORE, 0)
    setl(resource.RLIMIT_FSIZE, limits.file_mb * 1024 * 1024)
    setl(resource.RLIMIT_DATA, limits.memory_mb * 1024 * 1024)
    setl(resource.RLIMIT_CPU, limits.cpu_s, limits.cpu_s + 10)
    setl(resource.RLIMIT_NOFILE, limits.nofile)
    if in_userns:
        setl(resource.RLIMIT_NPROC, limits.nproc)
    try:
        prctl(PR_SET_NO_NEW_PRIVS, 1)
    except OSError:
        pass


def die_with_parent() -> None:
    if not sys.platform.startswith("linux"):
        return
    try:
        prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    except OSError:
        pass
