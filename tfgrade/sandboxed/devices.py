"""Which compute devices this sandbox can use (sandbox side: imports TensorFlow).

Every question "is there a GPU here?" in tfgrade goes through `list_devices()`: the
clean process's `devices` answer (ex05's GPU check and the GPU rule), and `tfgrade bench`. Tests feed a fake list to the
callers instead of faking TensorFlow, so the GPU path has exactly one real entry point.

`device_runs_ops()` answers a different question: TensorFlow places ops softly, so a
`with tf.device("/GPU:0")` on a machine without one silently runs on the CPU. A device that
is listed (or claimed by a fake list) is only trusted after an op really landed there.
"""

from __future__ import annotations

import re

_DEVICE_NAME = re.compile(r"(?:^|/device:|/)([A-Z_]+):(\d+)$")


def canonical(name: str) -> str:
    """'/job:localhost/replica:0/task:0/device:GPU:0', 'GPU:0', 'gpu' -> '/GPU:0'."""
    text = name.strip()
    if ":" not in text:
        return f"/{text.upper()}:0"
    match = _DEVICE_NAME.search(text.upper() if text.islower() else text)
    if not match:
        return text
    return f"/{match.group(1)}:{match.group(2)}"


def list_devices() -> list[str]:
    """Logical devices TensorFlow can place ops on, as ['/CPU:0', '/GPU:0', …]."""
    import tensorflow as tf

    return [canonical(d.name) for d in tf.config.list_logical_devices()]


def device_runs_ops(device: str) -> bool:
    """True when a tiny op placed on `device` really ran there (not a soft-placement fallback)."""
    import tensorflow as tf

    try:
        with tf.device(device):
            # An addition, not a product: the sandbox counts products for the checks.
            probe = tf.add(tf.ones((2, 2)), 1.0)
    except (RuntimeError, ValueError, tf.errors.OpError):
        return False
    return canonical(probe.device) == canonical(device)


def configure_tensorflow(threads: int) -> None:
    """Thread pools and GPU memory growth, before any op runs (student child and verifier)."""
    import tensorflow as tf

    try:
        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(max(1, min(2, threads)))
    except RuntimeError:
        pass
    try:
        for gpu in tf.config.list_physical_devices("GPU"):
            tf.config.experimental.set_memory_growth(gpu, True)
    except RuntimeError:
        pass
