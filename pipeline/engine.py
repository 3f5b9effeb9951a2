"""Where the batches of a run are tagged: in this process, or on a Dask cluster.

``run.workers = 1`` (the default) tags the batches one after the other in this process.
``run.workers = N > 1`` starts a Dask ``LocalCluster`` of N worker processes (one thread
each, the model loaded once per worker); ``run.scheduler = "tcp://host:8786"`` uses an
existing Dask cluster instead. Either way the driver reads the input and hands out
batches of documents, at most two per worker in flight (memory stays bounded), and each
worker normalises, tags and writes its batch as a checkpoint under ``OUT/.work/``, named
by the batch's number: the tables are assembled from the checkpoints in batch order, so
they are the same whatever the number of workers, and ``--resume`` reuses checkpoints
whichever engine wrote them. A worker that dies loses nothing: Dask gives its batch to
another worker (and retries a failed task twice).

On a cluster beyond this machine, the output folder must be on storage every worker
can write to (the same path on each), and each worker needs this package installed.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from .errors import PipelineError

log = logging.getLogger("pipeline")

__all__ = ["run_batches"]


def run_batches(
    batches: Iterable[tuple[int, Any]],
    task: Callable[..., dict[str, Any]],
    task_args: tuple,
    on_done: Callable[[dict[str, Any]], None],
    *,
    workers: int = 1,
    scheduler: str = "",
    local_task_args: tuple | None = None,
) -> None:
    """Call ``task(i, batch, *task_args)`` for every ``(i, batch)`` and ``on_done`` with
    each result as it finishes (in completion order, which may differ from ``i``).

    ``local_task_args`` replaces ``task_args`` when the batches run in this process (so
    an already loaded model can be passed instead of being loaded again)."""
    if workers <= 1 and not scheduler:
        args = local_task_args if local_task_args is not None else task_args
        for i, batch in batches:
            on_done(task(i, batch, *args))
        return
    _run_on_dask(iter(batches), task, task_args, on_done, workers=workers, scheduler=scheduler)


def _run_on_dask(batches: Iterator[tuple[int, Any]], task, task_args, on_done, *, workers: int,
                 scheduler: str) -> None:
    try:
        from distributed import Client, LocalCluster, as_completed
    except ImportError:  # pragma: no cover - a dependency of the package
        raise PipelineError("run.workers > 1 needs dask.distributed: pip install 'dask[distributed]'") from None
    cluster = None
    try:
        if scheduler:
            client = Client(scheduler, timeout="10s")
        else:
            for name in ("distributed", "distributed.scheduler", "distributed.nanny", "distributed.core",
                         "distributed.http.proxy", "distributed.worker"):
                logging.getLogger(name).setLevel(max(logging.WARNING, log.getEffectiveLevel()))
            cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                   dashboard_address=None, scheduler_kwargs={"dashboard": False},
                                   silence_logs=logging.WARNING)
            client = Client(cluster)
    except (OSError, TimeoutError) as exc:
        raise PipelineError(f"cannot reach the Dask scheduler {scheduler or 'of the local cluster'}: {exc}") from None
    try:
        n_workers = max(1, len(client.scheduler_info().get("workers", {})) or workers)
        pending = as_completed()
        in_flight = 0

        def submit_next() -> bool:
            nonlocal in_flight
            nxt = next(batches, None)
            if nxt is None:
                return False
            i, batch = nxt
            pending.add(client.submit(task, i, batch, *task_args, pure=False, retries=2))
            in_flight += 1
            return True

        for _ in range(2 * n_workers):
            if not submit_next():
                break
        for fut in pending:
            result = fut.result()
            fut.release()
            in_flight -= 1
            on_done(result)
            submit_next()
    finally:
        client.close()
        if cluster is not None:
            cluster.close()
