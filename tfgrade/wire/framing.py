"""The data-only channel between the trusted side and the sandbox.

A frame is: 8-byte big-endian body length, then the body:
    4-byte JSON header length · UTF-8 JSON header · 4-byte array count ·
    for each array: 8-byte length · `.npy` bytes
Arrays are referenced in the JSON as {"__ndarray__": index}. Nothing is ever pickled:
`.npy` bytes are read with allow_pickle=False and object dtypes are refused. Every size is
capped, and any malformed input raises ProtocolError (never a hang, never another exception).
"""

from __future__ import annotations

import io
import json
import os
import re
import struct
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from tfgrade.errors import ProtocolError

__all__ = ["Frame", "ProtocolError", "clean_text", "decode_body", "encode", "fd_reader", "read_exact",
           "read_frame", "send", "write_all"]

MAX_FRAME_BYTES = 512 * 1024 * 1024
MAX_HEADER_BYTES = 16 * 1024 * 1024
MAX_ARRAYS = 256
MAX_DEPTH = 64

_U64 = struct.Struct(">Q")
_U32 = struct.Struct(">I")


@dataclass(frozen=True)
class Frame:
    header: Any
    arrays: tuple[np.ndarray, ...] = ()


# What a decoded string may not hold: lone surrogates (JSON's "\ud800" decodes to one, and
# no UTF-8 writer accepts it), NUL and the other C0/C1 control characters except \n \t \r.
# Valid surrogate pairs were already joined into one code point by the JSON decoder.
_INVALID_TEXT = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
REPLACEMENT = "\ufffd"


def clean_text(text: str) -> str:
    """`text` as valid, printable text: every lone surrogate and control character (except
    newline, tab and carriage return) becomes U+FFFD."""
    return _INVALID_TEXT.sub(REPLACEMENT, text)


def _clean(value: Any, depth: int = 0) -> Any:
    """Check the nesting depth and make every string (dict keys included) valid text."""
    if depth > MAX_DEPTH:
        raise ProtocolError("value nested too deeply")
    if isinstance(value, str):
        return clean_text(value)
    if isinstance(value, dict):
        return {clean_text(k): _clean(v, depth + 1) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean(v, depth + 1) for v in value]
    return value


def _clean_array(arr: np.ndarray) -> np.ndarray:
    """A unicode array's code points checked like a string's (numpy stores UCS-4)."""
    if arr.dtype.kind != "U" or arr.size == 0:
        return arr
    native = np.ascontiguousarray(arr, dtype=arr.dtype.newbyteorder("="))
    width = native.dtype.itemsize // 4
    codes = native.reshape(-1).view(np.uint32).reshape(-1, width)
    # A NUL is numpy's padding only at an item's end; one before other characters is text.
    later = np.flip(np.cumsum(np.flip(codes != 0, axis=1), axis=1), axis=1) > 0
    bad = ((codes < 0x20) & ~np.isin(codes, (0, 9, 10, 13))) | ((codes == 0) & later) \
        | ((codes >= 0x7F) & (codes <= 0x9F)) | ((codes >= 0xD800) & (codes <= 0xDFFF))
    if not bad.any():
        return arr
    fixed = codes.copy()
    fixed[bad] = ord(REPLACEMENT)
    return fixed.reshape(-1).view(native.dtype).reshape(arr.shape)


def encode(header: Any, arrays: list[np.ndarray] | tuple[np.ndarray, ...] = ()) -> bytes:
    """Encode one frame. Raises ProtocolError when a cap would be exceeded."""
    head = json.dumps(header, allow_nan=True, separators=(",", ":")).encode("utf-8")
    if len(head) > MAX_HEADER_BYTES:
        raise ProtocolError(f"header of {len(head)} bytes exceeds {MAX_HEADER_BYTES}")
    if len(arrays) > MAX_ARRAYS:
        raise ProtocolError(f"{len(arrays)} arrays exceed {MAX_ARRAYS}")
    parts = [_U32.pack(len(head)), head, _U32.pack(len(arrays))]
    for arr in arrays:
        arr = np.asarray(arr)
        if arr.dtype.hasobject:
            raise ProtocolError("object arrays cannot cross the channel")
        buf = io.BytesIO()
        np.save(buf, arr, allow_pickle=False)
        data = buf.getvalue()
        parts += [_U64.pack(len(data)), data]
    body = b"".join(parts)
    if len(body) > MAX_FRAME_BYTES:
        raise ProtocolError(f"frame of {len(body)} bytes exceeds {MAX_FRAME_BYTES}")
    return _U64.pack(len(body)) + body


def decode_body(body: bytes) -> Frame:
    """Decode a frame body (without its 8-byte length prefix)."""
    try:
        view = memoryview(body)
        pos = 0

        def take(n: int) -> memoryview:
            nonlocal pos
            if n < 0 or pos + n > len(view):
                raise ProtocolError("truncated frame")
            chunk = view[pos:pos + n]
            pos += n
            return chunk

        (hlen,) = _U32.unpack(take(4))
        if hlen > MAX_HEADER_BYTES:
            raise ProtocolError("header too large")
        # Every string that crosses the channel is made valid text here, once: a lone
        # surrogate in a student's message must not crash the writer of a result or report.
        header = _clean(json.loads(bytes(take(hlen)).decode("utf-8")))
        (count,) = _U32.unpack(take(4))
        if count > MAX_ARRAYS:
            raise ProtocolError("too many arrays")
        arrays = []
        for _ in range(count):
            (alen,) = _U64.unpack(take(8))
            arr = np.load(io.BytesIO(bytes(take(alen))), allow_pickle=False)
            if not isinstance(arr, np.ndarray) or arr.dtype.hasobject:
                raise ProtocolError("not a plain array")
            arrays.append(_clean_array(arr))
        if pos != len(view):
            raise ProtocolError("trailing bytes after frame")
        return Frame(header, tuple(arrays))
    except ProtocolError:
        raise
    except (ValueError, UnicodeDecodeError, RecursionError, struct.error, OSError, EOFError) as exc:
        raise ProtocolError(f"malformed frame ({type(exc).__name__})") from None


def read_exact(read: Callable[[int], bytes], n: int) -> bytes:
    chunks = []
    remaining = n
    while remaining:
        chunk = read(min(remaining, 1 << 20))
        if not chunk:
            raise EOFError("channel closed")
        chunks.append(chunk)
        remaining -= len(chunk)
    return b"".join(chunks)


def read_frame(read: Callable[[int], bytes], max_bytes: int = MAX_FRAME_BYTES) -> Frame:
    """Read one frame using `read(n)`. EOFError when the peer closed before a frame began."""
    (length,) = _U64.unpack(read_exact(read, 8))
    if length > max_bytes:
        raise ProtocolError(f"frame of {length} bytes exceeds the cap of {max_bytes}")
    try:
        body = read_exact(read, length)
    except EOFError:
        raise ProtocolError("truncated frame") from None
    return decode_body(body)


def fd_reader(fd: int) -> Callable[[int], bytes]:
    return lambda n: os.read(fd, n)


def write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def send(fd: int, header: Any, arrays: list[np.ndarray] | tuple[np.ndarray, ...] = ()) -> None:
    write_all(fd, encode(header, arrays))
