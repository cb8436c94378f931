"""The child's end of the channel: a descriptor (a forked or POSIX fresh child) or a
connected socket (the portable path: a loopback TCP socket, which on Windows is not a file
descriptor and cannot be read with os.read). The bytes on it are the wire's frames
(tfgrade.wire.framing), the same either way."""

from __future__ import annotations

import socket
from collections.abc import Callable
from typing import Any

import numpy as np

from tfgrade.wire import framing

Chan = int | socket.socket


def reader(chan: Chan) -> Callable[[int], bytes]:
    if isinstance(chan, socket.socket):
        return chan.recv
    return framing.fd_reader(chan)


def send(chan: Chan, header: Any, arrays: list[np.ndarray] | tuple[np.ndarray, ...] = ()) -> None:
    """One frame; ProtocolError (before anything is written) when a cap would be exceeded."""
    if isinstance(chan, socket.socket):
        chan.sendall(framing.encode(header, arrays))
    else:
        framing.send(chan, header, arrays)
