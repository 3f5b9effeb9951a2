"""Where the batches of a run are tagged: in this process, or on a Dask cluster.

``run.workers = 1`` tags the batches one after the other in this process (what the
default, ``"auto"``, chooses for an input under 1 MB: :func:`auto_workers`).
``run.workers = N > 1`` starts a Dask ``LocalCluster`` of N worker processes (one thread
each, the model loaded once per worker); ``run.scheduler = "tcp://host:8786"`` uses an
existing Dask cluster instead. A local cluster's workers are forked from the driver
where the platform allows (``run.start_method``, :func:`start_method`), so they start
with the pipeline imported; spawned, they start while the driver prepares the run
(:meth:`Engine.start_in_background`). Either way they load the model as they start
(:func:`dask_setup`), so the first batches find it ready; the driver itself never
imports spaCy. The driver reads the input and hands out
batches of documents, at most two per worker in flight (memory stays bounded), and each
worker normalises, tags and writes its batch as a checkpoint under ``OUT/.work/``, named
by the batch's number: the tables are assembled from the checkpoints in batch order, so
they are the same whatever the number of workers, and ``--resume`` reuses checkpoints
whichever engine wrote them. A worker that dies loses nothing: Dask gives its batch to
another worker (and retries a failed task twice). After tagging, the same workers take
the per-part work of the corpus pass and the quotations (:meth:`Engine.map`) while the
driver links; results are combined in part order, so the tables stay the same.

On a cluster beyond this machine, the output folder must be on storage every worker
can write to (the same path on each), and each worker needs this package installed.
"""

from __future__ import annotations

import logging
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from .errors import EnvironmentProblem, PipelineError

log = logging.getLogger("pipeline")

__all__ = ["Engine", "Mapper", "auto_workers", "local_map", "progress_reporter", "start_method"]

#: the Dask event topic on which workers report documents tagged
PROGRESS_TOPIC = "pipeline-progress"
#: a worker reports at most this often (seconds): events stay few on a big cluster
PROGRESS_EVERY_S = 0.5


def progress_reporter(i: int) -> Callable[[int, int], None] | None:
    """On a Dask worker, a ``(docs, words)`` callback that sends batch ``i``'s progress to
    the driver as events (throttled to one per ``PROGRESS_EVERY_S``; the rest of a batch
    counts when it finishes); None elsewhere. A process that has not imported Dask is
    no Dask worker: Dask is not imported for the question."""
    distributed = sys.modules.get("distributed")
    if distributed is None:
        return None
    try:
        worker = distributed.get_worker()
    except ValueError:
        return None
    last = [time.monotonic(), 0, 0]  # time of the last event, docs and words not yet sent

    def report(docs: int, words: int) -> None:
        last[1] += docs
        last[2] += words
        now = time.monotonic()
        if now - last[0] >= PROGRESS_EVERY_S:
            worker.log_event(PROGRESS_TOPIC, {"batch": i, "docs": last[1], "words": last[2]})
            last[:] = [now, 0, 0]

    return report


#: ``mapper(fn, [args, ...], common) -> [fn(*args, *common), ...]`` in order: the
#: per-part work of a stage, in this process (:func:`local_map`) or on a run's workers
#: (:meth:`Engine.map`)
Mapper = Callable[[Callable, list, tuple], list]


def local_map(fn: Callable, args: list, common: tuple = ()) -> list:
    """``[fn(*a, *common) for a in args]``: a :data:`Mapper` in this process."""
    return [fn(*a, *common) for a in args]


class Engine:
    """Where the per-document work of a run happens: this process (``workers`` 1, no
    scheduler), a Dask ``LocalCluster`` of ``workers`` processes, or the Dask cluster at
    ``scheduler``. A context manager: the cluster starts on entering (nothing to start
    locally) and stops on leaving, so one run's stages share it:
    :meth:`run_batches` for tagging, :meth:`map` for the per-part work after it (the
    corpus pass, quotations)."""

    def __init__(self, workers: int = 1, scheduler: str = "", *, model: str | None = None,
                 start: str = "auto"):
        self.workers = workers
        self.scheduler = scheduler
        #: the ``NerConfig`` (as JSON) whose model a local cluster's workers load as they
        #: start (:func:`dask_setup`); None: on their first batch
        self.model = model
        #: how a local cluster's processes start (``run.start_method``, resolved; None
        #: where no local cluster is started)
        self.start_method = start_method(start) if workers > 1 and not scheduler else None
        self.client = None
        self._cluster = None
        self._closer = None
        self._starter: threading.Thread | None = None
        self._start_error: BaseException | None = None
        #: the scratch folders the local cluster's servers put in ``sys.path`` (:func:`_drop_paths`)
        self._dask_paths: list[str] = []

    @classmethod
    def for_config(cls, cfg) -> "Engine":
        """The engine a run's ``Config`` asks for (``run`` section; the model of ``ner``)."""
        return cls(cfg.run.processes, cfg.run.scheduler, model=cfg.ner.model_dump_json(),
                   start=cfg.run.start_method)

    @property
    def distributed(self) -> bool:
        return self.workers > 1 or bool(self.scheduler)

    def start_in_background(self) -> "Engine":
        """Start the cluster in a thread, so that its processes come up (and import what
        they need) while this process goes on preparing the run; entering the context
        waits for it and raises what stopped it. Local work needs nothing. Workers that
        are forked start here and now instead, before this process does anything else: a
        fork copies the locks other threads hold, so it is made while they wait (and
        forked workers need no time to import)."""
        if self.distributed and self._starter is None and self.client is None:
            if self.start_method == "fork":
                self._start()
                return self

            def start() -> None:
                try:
                    self._start()
                except BaseException as exc:  # noqa: BLE001  raised again on entering
                    self._start_error = exc

            self._starter = threading.Thread(target=start, name="pipeline-engine-start", daemon=True)
            self._starter.start()
        return self

    def _wait_started(self) -> None:
        if self._starter is not None:
            self._starter.join()
            self._starter = None
        if self._start_error is not None:
            exc, self._start_error = self._start_error, None
            raise exc

    def __enter__(self) -> "Engine":
        if self._starter is not None:
            self._wait_started()
        elif self.distributed and self.client is None:
            self._start()
        _drop_paths(self._dask_paths)
        self._dask_paths = []
        return self

    def _start(self) -> None:
        before = set(sys.path)
        self.client, self._cluster = _start_dask(self.workers, self.scheduler, self.model,
                                                 self.start_method or "spawn")
        self._dask_paths = [p for p in _scratch_folders(self._cluster) if p not in before]

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        """Stop the cluster (after a start in the background has finished, whether or
        not the engine was used), and wait for one stopping in the background."""
        if self._starter is not None:
            self._starter.join()
            self._starter = None
            self._start_error = None  # the run failed before it needed the cluster
        if self._closer is not None:
            self._closer.join()
            self._closer = None
        self._close()

    def _close(self) -> None:
        client, cluster = self.client, self._cluster
        self.client = self._cluster = None
        if client is not None:
            client.close()
        if cluster is not None:
            cluster.close()

    def close_in_background(self) -> None:
        """Stop the cluster in a thread (its processes take a moment to go) while this
        process goes on; leaving the context waits for it. Local work needs nothing."""
        if self.client is None or self._closer is not None:
            return
        self._closer = threading.Thread(target=self._close, name="pipeline-engine-close", daemon=True)
        self._closer.start()

    def run_batches(self, batches: Iterable[tuple[int, Any]], task: Callable[..., dict[str, Any]],
                    task_args: tuple, on_done: Callable[[dict[str, Any]], None], *,
                    local_task_args: tuple | None = None,
                    on_progress: Callable[[int, int], None] | None = None) -> None:
        """Call ``task(i, batch, *task_args)`` for every ``(i, batch)`` and ``on_done`` with
        each result as it finishes (in completion order, which may differ from ``i``).

        ``local_task_args`` replaces ``task_args`` when the batches run in this process (so
        an already loaded model can be passed instead of being loaded again, and a progress
        callback). On Dask, ``on_progress(docs, words)`` gets the workers' progress events
        (:func:`progress_reporter`) and, when a batch finishes, what of it was not reported
        yet (a batch that a dead worker had half done counts once), from one thread at a time."""
        if self.client is None:
            args = local_task_args if local_task_args is not None else task_args
            for i, batch in batches:
                on_done(task(i, batch, *args))
            return
        _run_on_dask(self.client, iter(batches), task, task_args, on_done, workers=self.workers,
                     on_progress=on_progress)

    def map(self, fn: Callable, args: list[tuple], common: tuple = ()) -> list:
        """``[fn(*a, *common) for a in args]``, in order; on Dask each call is a task (two
        retries), ``common`` sent to the workers once."""
        if self.client is None or not args:
            return local_map(fn, args, common)
        # the common arguments as one tuple, sent once: Dask walks a dict, set or list
        # scattered on its own element by element (0.2 s for a dict of 5,000 names,
        # against 5 ms for the tuple that holds it); hash=False gives the copy a key of
        # its own (the same objects sent again while the last map's copy is released
        # would otherwise lose the new copy with it)
        shared = self.client.scatter([tuple(common)], broadcast=True, hash=False)[0] if common else ()
        futures = [self.client.submit(_with_common, fn, shared, *a, pure=False, retries=2) for a in args]
        try:
            return self.client.gather(futures)
        finally:
            for f in futures:
                f.release()


def _scratch_folders(cluster) -> list[str]:
    """The scratch folders of a local cluster's scheduler and nannies, which run in this
    process (none for a remote cluster)."""
    if cluster is None:
        return []
    servers = [getattr(cluster, "scheduler", None), *getattr(cluster, "workers", {}).values()]
    return [s.local_directory for s in servers if isinstance(getattr(s, "local_directory", None), str)]


def _drop_paths(paths: list[str]) -> None:
    """Take ``paths`` out of ``sys.path``, in this thread: the scratch folders a local
    cluster's servers put at its front as they started (:func:`_scratch_folders`).

    Dask puts a server's scratch folder first in ``sys.path`` (for files uploaded to it,
    which a run never does) and takes it out again as the server closes, in the cluster's
    event-loop thread. A run closes its cluster while this process writes the tables
    (:meth:`Engine.close_in_background`): an import or a package-metadata lookup
    iterating ``sys.path`` in another thread then skipped the entry after the removed
    one (once, the manifest's ``version("spacy")`` missed site-packages). Taken out when
    the engine is entered, the folders are no longer first when their servers close, so
    Dask leaves ``sys.path`` alone."""
    for p in paths:
        while p in sys.path:
            sys.path.remove(p)


def _with_common(fn: Callable, common: tuple, *args):
    """``fn(*args, *common)``: a task of :meth:`Engine.map` (``common`` sent once)."""
    return fn(*args, *common)


class _Progress:
    """The driver's side of the workers' progress events: per batch, what was reported,
    capped at the batch's size until it finishes."""

    def __init__(self, on_progress: Callable[[int, int], None] | None):
        self.on_progress = on_progress
        self.lock = threading.Lock()
        self.sent: dict[int, list[int]] = {}  # batch -> [docs, words] reported
        self.size: dict[int, int] = {}
        self.finished: set[int] = set()

    def event(self, event) -> None:
        msg = event[1] if isinstance(event, tuple) else event
        if self.on_progress is None or not isinstance(msg, dict):
            return
        with self.lock:
            i = msg.get("batch")
            if i in self.finished or i not in self.size:
                return
            sent = self.sent.setdefault(i, [0, 0])
            docs = min(int(msg.get("docs", 0)), self.size[i] - sent[0])
            words = int(msg.get("words", 0))
            sent[0] += docs
            sent[1] += words
            if docs or words:
                self.on_progress(docs, words)

    def done(self, i: int, n: int, words: int) -> None:
        if self.on_progress is None:
            return
        with self.lock:
            self.finished.add(i)
            docs, w = self.sent.pop(i, [0, 0])
            self.on_progress(max(0, n - docs), max(0, words - w))


#: ``run.workers = "auto"`` runs an input smaller than this in one process: on two
#: cores, two workers first pay off at about 0.8 MB of news text (500 articles: 8.3 s
#: either way; 1,000: 13.1 s with one, 11.2 s with two)
AUTO_MIN_BYTES = 1_000_000
#: memory set aside per worker under "auto" (one peaks at about 0.45 GB with the bundled
#: model) and for the driver (linking and writing a part)
AUTO_WORKER_BYTES = 768 * 2**20
AUTO_DRIVER_BYTES = 1024 * 2**20


def auto_workers(input_bytes: int | None, n_batches: int | None, cores: int, memory: int | None) -> int:
    """The number of workers ``run.workers = "auto"`` gives a run: 1 for an input of fewer
    than :data:`AUTO_MIN_BYTES` (an unknown size counts as large), else one per core, no
    more than there are batches (where known) nor than the ``memory`` free (bytes, where
    known) holds after the driver's share."""
    if input_bytes is not None and input_bytes < AUTO_MIN_BYTES:
        return 1
    n = cores
    if n_batches is not None:
        n = min(n, n_batches)
    if memory is not None:
        n = min(n, (memory - AUTO_DRIVER_BYTES) // AUTO_WORKER_BYTES)
    return max(1, int(n))


#: Dask's default for its workers' ``MALLOC_TRIM_THRESHOLD_`` (its ``distributed.nanny.
#: pre-spawn-environ``)
DASK_TRIM_DEFAULT = 65536


def _local_worker_environ() -> dict[str, Any]:
    """Dask config for the workers of a local cluster: glibc's own malloc settings, as in
    a one-process run. Dask sets ``MALLOC_TRIM_THRESHOLD_`` to 64 KiB by default, which
    also fixes glibc's mmap threshold, so every array over 128 KiB is mapped and unmapped
    anew: 13% slower tagging on 1,028 articles (9.4 s against 8.3 s on one worker). A
    threshold set in the environment or in the user's Dask config other than Dask's
    default is kept (a forked worker's malloc is the driver's, set up from the
    environment the driver started with: one set in Dask's config reaches spawned
    workers only)."""
    import dask

    key = "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_"
    current = dask.config.get(key, default=None)
    if current is not None and str(current) == str(DASK_TRIM_DEFAULT):
        return {key: None}  # None: the variable is not set (Nanny drops it)
    return {}


def _local_worker_profiling() -> dict[str, Any]:
    """Dask config for the workers of a local cluster: no statistical profiler. A Dask
    worker samples its task thread's stack every 10 ms for the dashboard's profile page
    (reading source lines as it goes); a local cluster runs without the dashboard, so
    the samples are never read, and they cost about 0.25 s of a two-worker run on 1,028
    articles (6.78 s against 7.04 s, alternated three times). The user's Dask config
    still holds for a cluster they start themselves (``--scheduler``)."""
    return {"distributed.worker.profile.enabled": False}


#: Dask config key that hands a local cluster's workers the model to load as they start
PRELOAD_KEY = "pipeline-preload-model"


def dask_setup(worker) -> None:
    """Dask's preload hook for the workers of a local cluster (``preload=["pipeline.engine"]``):
    load the model named by the ``PRELOAD_KEY`` config in a thread as the worker starts,
    so it is ready, or nearly, when the first batch comes (the worker's start is not held
    up; the batch waits for the same load, :func:`pipeline.api.tagger_for`). A model that
    fails to load here fails again on the first batch, which reports it."""
    import dask

    model = dask.config.get(PRELOAD_KEY, default=None)
    if not model:
        return

    def load() -> None:
        try:
            from .api import tagger_for

            tagger_for(model)
        except Exception:  # noqa: BLE001  reported by the first batch that needs it
            log.debug("preloading the model failed", exc_info=True)

    threading.Thread(target=load, name="pipeline-preload-model", daemon=True).start()


def start_method(name: str = "auto") -> str:
    """Dask's multiprocessing method for ``run.start_method``: ``"auto"`` is ``"fork"`` on
    Linux, where the workers then start with the driver's imports (about 0.5 s sooner
    each; Dask's own default, ``"spawn"``, starts a fresh interpreter), and ``"spawn"``
    elsewhere (macOS's system libraries are not safe to fork; Windows cannot) and in a
    Jupyter kernel (its threads talk to the notebook through sockets a copy must not use)."""
    import multiprocessing

    if name == "auto":
        name = "fork" if sys.platform.startswith("linux") and "ipykernel" not in sys.modules else "spawn"
    if name not in multiprocessing.get_all_start_methods():
        raise PipelineError(f"run.start_method = {name!r} is not available on this platform "
                            f"(available: {', '.join(multiprocessing.get_all_start_methods())})")
    return name


def _start_dask(workers: int, scheduler: str, model: str | None = None, method: str = "spawn"):
    try:
        import dask
        from distributed import Client, LocalCluster
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
            # the workers' preloads: the user's (Dask config), then the model's load
            user = dask.config.get("distributed.worker.preload", None) or []
            preload = {"preload": [*user, "pipeline.engine"]} if model else {}
            # the method holds for the cluster's start only: a worker that Dask restarts
            # later, while this process is busy in other threads, is spawned
            with dask.config.set({**_local_worker_environ(), **_local_worker_profiling(), PRELOAD_KEY: model,
                                  "distributed.worker.multiprocessing-method": method}):
                cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                       dashboard_address=None, scheduler_kwargs={"dashboard": False},
                                       silence_logs=logging.WARNING, **preload)
            client = Client(cluster)
    except (OSError, TimeoutError) as exc:
        if cluster is not None:
            cluster.close()
        if scheduler:  # a wrong address: a usage error (exit 2)
            raise PipelineError(f"cannot reach the Dask scheduler {scheduler}: {exc}") from None
        # the machine would not start worker processes (limits, /dev/shm, ports): exit 3
        raise EnvironmentProblem(f"cannot start a local Dask cluster of {workers} workers: {exc}; "
                                 "try fewer --workers, or --workers 1") from None
    return client, cluster


def _run_on_dask(client, batches: Iterator[tuple[int, Any]], task, task_args, on_done, *, workers: int,
                 on_progress: Callable[[int, int], None] | None = None) -> None:
    from distributed import as_completed

    n_workers = max(1, len(client.scheduler_info().get("workers", {})) or workers)
    pending = as_completed()
    progress = _Progress(on_progress)
    if on_progress is not None:
        client.subscribe_topic(PROGRESS_TOPIC, progress.event)
    try:
        def submit_next() -> bool:
            nxt = next(batches, None)
            if nxt is None:
                return False
            i, batch = nxt
            with progress.lock:
                progress.size[i] = len(batch)
            pending.add(client.submit(task, i, batch, *task_args, pure=False, retries=2))
            return True

        for _ in range(2 * n_workers):
            if not submit_next():
                break
        for fut in pending:
            result = fut.result()
            fut.release()
            progress.done(result["i"], result["n"], result.get("words", 0))
            on_done(result)
            submit_next()
    finally:
        if on_progress is not None:
            try:
                client.unsubscribe_topic(PROGRESS_TOPIC)
            except (ValueError, KeyError):  # pragma: no cover - never subscribed
                pass
