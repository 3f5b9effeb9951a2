"""CPU math for the NER model: which matrix-multiply library and how many threads.

thinc's default CPU backend multiplies matrices with BLIS. On the AMD EPYC machines we
run on, the pip wheel of BLIS reaches about 25 GFLOPS on one core for the CNN's shapes
(1,500 x 384 x 384), where numpy's OpenBLAS reaches about 80: the tok2vec's matrix
multiplies are half of the NER time (see benchmarks/bench_ner.py). ``use_cpu_ops("numpy")``
makes thinc delegate ``gemm`` to numpy; the model, its weights and its outputs are the
same up to float rounding. Call it before the model is loaded or trained: thinc layers
take the current ops when they are created.
"""

from __future__ import annotations

import logging
from typing import Literal

log = logging.getLogger("pipeline")

Gemm = Literal["numpy", "blis"]
_limits = None  # keeps the threadpoolctl limiter alive for the process


def use_cpu_ops(gemm: Gemm = "numpy", threads: int = 1) -> None:
    """Select thinc's CPU ops for models created from now on.

    gemm: "numpy" (OpenBLAS through numpy) or "blis" (thinc's default).
    threads: BLAS threads for numpy; 0 leaves the library default (one per core). One
    thread is the fastest for our batch shapes and keeps training bit-reproducible;
    more threads only help with very large batches.
    A GPU backend that is already active is left alone.
    """
    global _limits
    from thinc.api import NumpyOps, get_current_ops, set_current_ops

    if gemm not in ("numpy", "blis"):
        raise ValueError(f"gemm must be 'numpy' or 'blis', not {gemm!r}")
    if threads < 0:
        raise ValueError(f"threads must be >= 0, not {threads}")
    current = get_current_ops()
    if not isinstance(current, NumpyOps):
        log.debug("keeping non-CPU ops %s", type(current).__name__)
        return
    set_current_ops(NumpyOps(use_blis=(gemm == "blis")))
    if threads:
        from threadpoolctl import threadpool_limits

        _limits = threadpool_limits(limits=threads, user_api="blas")


def current_gemm() -> str:
    """'numpy', 'blis' or the name of a non-CPU backend."""
    from thinc.api import NumpyOps, get_current_ops

    ops = get_current_ops()
    if isinstance(ops, NumpyOps):
        return "blis" if ops.use_blis else "numpy"
    return type(ops).__name__
