# Copyright (c) mmbeitv2 contributors. All rights reserved.
"""Measurement helpers of ``benchmarks/benchmark_train.py``.

Timing, peak memory, FLOP counting and a matmul peak, on CPU and CUDA.
Nothing here builds a model; the tool pairs these with its stage builders.
"""
import ctypes
import re
import statistics
import time
from contextlib import contextmanager
from typing import Callable, Dict, Iterator, List, Sequence

import torch
from torch.utils.flop_counter import (FlopCounterMode, bmm_flop,
                                      sdpa_flop_count)

__all__ = [
    'sync', 'time_call', 'summarize', 'paired_ratio', 'PeakMemory',
    'count_flops', 'matmul_peak'
]


def sync(device: torch.device) -> None:
    """Wait for queued device work; used only around timed regions, so the
    training step itself has no host-device sync."""
    if device.type == 'cuda':
        torch.cuda.synchronize(device)


def time_call(fn: Callable[[], None], device: torch.device) -> float:
    """Wall time of ``fn()`` in seconds, device work included."""
    sync(device)
    start = time.perf_counter()
    fn()
    sync(device)
    return time.perf_counter() - start


def summarize(values: Sequence[float]) -> Dict[str, float]:
    """Median, min, max and the quartiles of a sample."""
    vals = sorted(values)
    if len(vals) >= 4:
        q1, _, q3 = statistics.quantiles(vals, n=4)
    else:
        q1, q3 = vals[0], vals[-1]
    return dict(
        median=statistics.median(vals), min=vals[0], max=vals[-1], q1=q1,
        q3=q3, n=len(vals))


def paired_ratio(ours: Sequence[float],
                 ref: Sequence[float]) -> Dict[str, float]:
    """Throughput ratio ours/ref per alternated pair of steps.

    Step i of each model ran back to back, so the pair shares the machine's
    load at that moment; the spread of the per-pair ratios is the noise of
    the comparison (2 shared cores here).

    Args:
        ours (Sequence[float]): Step times of mmbeitv2 (s).
        ref (Sequence[float]): Step times of the reference, same length.

    Returns:
        dict: ``summarize`` of ``ref[i] / ours[i]``.
    """
    return summarize([r / o for o, r in zip(ours, ref)])


def _proc_status_kib(field: str) -> int:
    with open('/proc/self/status') as f:
        return int(re.search(rf'{field}:\s+(\d+)', f.read()).group(1))


class PeakMemory:
    """Peak memory of one call.

    CUDA: ``torch.cuda.max_memory_allocated`` after a reset (tensor memory
    only, the caching allocator's reserve excluded). CPU: the kernel's
    resident high-water mark ``VmHWM`` of ``/proc/self/status``, reset by
    writing 5 to ``/proc/self/clear_refs`` after ``malloc_trim(0)`` handed
    freed heap back to the OS; this counts the whole process (Python, both
    models), so ``delta`` (peak minus the resident size just before the
    call) is the step's own transient memory. psutil is not needed.
    """

    def __init__(self, device: torch.device) -> None:
        self.device = device
        self.method = ('torch.cuda.max_memory_allocated'
                       if device.type == 'cuda' else
                       '/proc/self/status VmHWM (reset via clear_refs) '
                       'after malloc_trim')
        self.before = self.peak = 0

    def _trim(self) -> None:
        try:
            ctypes.CDLL('libc.so.6').malloc_trim(0)
        except OSError:  # pragma: no cover (non-glibc)
            pass

    @contextmanager
    def measure(self) -> Iterator['PeakMemory']:
        if self.device.type == 'cuda':
            sync(self.device)
            torch.cuda.reset_peak_memory_stats(self.device)
            self.before = torch.cuda.memory_allocated(self.device)
            yield self
            sync(self.device)
            self.peak = torch.cuda.max_memory_allocated(self.device)
            return
        self._trim()
        with open('/proc/self/clear_refs', 'w') as f:
            f.write('5')  # resets VmHWM to the current VmRSS
        self.before = _proc_status_kib('VmRSS') * 1024
        yield self
        self.peak = _proc_status_kib('VmHWM') * 1024

    @property
    def delta(self) -> int:
        return self.peak - self.before


def _cpu_sdpa_fwd(query_shape, key_shape, value_shape, *args,
                  out_shape=None, **kwargs) -> int:
    return sdpa_flop_count(query_shape, key_shape, value_shape)


def _cpu_sdpa_bwd(grad_out_shape, query_shape, key_shape, value_shape, *args,
                  out_shape=None, **kwargs) -> int:
    # Model FLOPs: dV, dP, dQ, dK (4 bmm), without the kernel's recompute
    # of Q K^T, so the fused path counts as much as the plain matmul path.
    b, h, n, d = query_shape
    m = key_shape[2]
    return 2 * bmm_flop((b * h, n, d), (b * h, d, m)) + \
        2 * bmm_flop((b * h, n, m), (b * h, m, d))


def _cpu_sdpa_mapping() -> dict:
    """torch's FlopCounterMode has no formula for the CPU flash kernel (it
    counts 0); these give it the usual attention matmul FLOPs."""
    aten = torch.ops.aten
    mapping = {}
    if hasattr(aten, '_scaled_dot_product_flash_attention_for_cpu'):
        mapping[aten._scaled_dot_product_flash_attention_for_cpu] = \
            _cpu_sdpa_fwd
        mapping[aten._scaled_dot_product_flash_attention_for_cpu_backward] = \
            _cpu_sdpa_bwd
    return mapping


def count_flops(fn: Callable[[], None]) -> int:
    """FLOPs (2 per multiply-add) of the matmuls, convolutions and
    attention that ``fn`` runs, forward and backward, counted by
    :class:`torch.utils.flop_counter.FlopCounterMode`; element-wise ops and
    the optimizer are not counted."""
    with FlopCounterMode(display=False,
                         custom_mapping=_cpu_sdpa_mapping()) as counter:
        fn()
    return counter.get_total_flops()


def matmul_peak(device: torch.device,
                dtype: torch.dtype = torch.float32,
                size: int = 2048,
                reps: int = 10) -> float:
    """Best FLOP/s of a ``size`` x ``size`` matmul, the MFU denominator.

    Args:
        device (torch.device): Where to run.
        dtype (torch.dtype): The dtype the timed matmuls run in (bf16 /
            fp16 for autocast runs, also on CPU).
            Defaults to torch.float32.
        size (int): Matrix size. Defaults to 2048.
        reps (int): Timed repetitions; the fastest counts. Defaults to 10.

    Returns:
        float: FLOP/s.
    """
    a = torch.randn(size, size, device=device, dtype=dtype)
    b = torch.randn(size, size, device=device, dtype=dtype)
    for _ in range(2):
        a @ b
    times: List[float] = [
        time_call(lambda: a @ b, device) for _ in range(reps)
    ]
    return 2 * size**3 / min(times)
