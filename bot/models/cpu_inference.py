"""How a transformer runs one customer message at a time on the CPU: threads and precision.

A support bot predicts one short message per request. At that size the two-thread
hand-off between matrix products costs more than the second core saves, and one thread
leaves the second core free for the server. CPUs with bfloat16 matrix instructions
(AVX512-BF16, AMX) compute the same forward pass faster in bfloat16, faster still when the
weights are stored in bfloat16 too, with the same accuracy on bench nlu's sets; elsewhere
bfloat16 is emulated and slower, so "auto" uses it only where the CPU has it. Autocast covers the
operations a model runs itself; the intent classifier's fused blocks, which autocast does
not reach, hold their weights in the chosen precision (bot/models/fused_layers.py).

Example:
    >>> with cpu_inference(threads=1, precision="auto"):
    ...     logits = network.predict_logits(["Wo ist meine Bestellung?"], 64)
"""

from __future__ import annotations

import contextlib
import functools
from pathlib import Path
from typing import Iterator

PRECISIONS = ("auto", "bfloat16", "float32")
_BFLOAT16_CPU_FLAGS = {"avx512_bf16", "amx_bf16"}


@functools.lru_cache(maxsize=1)
def cpu_has_native_bfloat16() -> bool:
    """Whether this CPU multiplies bfloat16 matrices in hardware (read from /proc/cpuinfo)."""
    cpuinfo = Path("/proc/cpuinfo")
    if not cpuinfo.is_file():
        return False
    for line in cpuinfo.read_text(errors="replace").splitlines():
        if line.startswith("flags"):
            return bool(_BFLOAT16_CPU_FLAGS & set(line.split(":", 1)[1].split()))
    return False


def uses_bfloat16(precision: str) -> bool:
    """Whether `precision` ("auto", "bfloat16" or "float32") means bfloat16 on this CPU."""
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be one of {list(PRECISIONS)}, got {precision!r}")
    return precision == "bfloat16" or (precision == "auto" and cpu_has_native_bfloat16())


@contextlib.contextmanager
def cpu_inference(threads: int, precision: str) -> Iterator[None]:
    """Runs the block with `threads` torch threads and, where chosen, bfloat16 autocast;
    the process's thread count is restored afterwards (training may share the process)."""
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        with torch.autocast(device_type="cpu", dtype=torch.bfloat16, enabled=uses_bfloat16(precision)):
            yield
    finally:
        torch.set_num_threads(previous)
