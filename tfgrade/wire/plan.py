"""The sandbox plan as it travels in a child's init frame: level, masks, limits."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Level = Literal["strong", "standard", "basic"]


@dataclass(frozen=True)
class Limits:
    memory_mb: int = 4096          # RLIMIT_DATA of the child (and the RSS watchdog's cap)
    cpu_s: int = 900               # backstop only: counts all TensorFlow threads
    file_mb: int = 64              # largest file the child may write
    nofile: int = 1024
    nproc: int = 512               # tasks (threads count): enforced only inside a user namespace
    tmp_mb: int = 256              # size of the private writable /tmp
    tmp_inodes: int = 16384        # files in it: a billion empty files fill the inode table first


@dataclass(frozen=True)
class SandboxPlan:
    level: Level
    masks: tuple[str, ...] = ()    # paths hidden from the child (tmpfs or /dev/null over them)
    limits: Limits = field(default_factory=Limits)
