"""Parallel runs: `--workers 2` (a Dask LocalCluster) gives the tables of `--workers 1`,
and a run interrupted under one engine resumes under the other."""

from __future__ import annotations

import shutil

import pandas as pd
import pytest
from typer.testing import CliRunner

from pipeline import load
from pipeline.cli import app

from .conftest import SEEDS

TABLES = ("documents", "mentions", "entities", "cooccurrences", "links", "quotes")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    d = tmp_path_factory.mktemp("corpus")
    for i, p in enumerate(sorted(SEEDS.glob("*.txt")) * 2):
        shutil.copy(p, d / f"{i:02d}_{p.name}")
    return d


def _same(a, b):
    for t in TABLES:
        pd.testing.assert_frame_equal(getattr(a, t), getattr(b, t), obj=t)


def test_two_workers_give_the_tables_of_one(corpus, tmp_path):
    runner = CliRunner()
    one, two = tmp_path / "one", tmp_path / "two"
    r = runner.invoke(app, ["run", str(corpus), "--out", str(one), "--set", "output.batch_docs=3"])
    assert r.exit_code == 0, r.output
    # two workers, and the linker's parts one batch each: its pass within documents is a
    # Dask task per part
    r = runner.invoke(app, ["run", str(corpus), "--out", str(two), "--set", "output.batch_docs=3", "--workers", "2",
                            "--set", "run.part_mentions=1"])
    assert r.exit_code == 0, r.output
    assert "2 workers" in r.output
    _same(load(one), load(two))
    # the corpus pass's new mentions are counted in the documents checkpoints, by parts
    res = load(two)
    per_doc = res.mentions.groupby("doc_id").size()
    assert res.documents.set_index("doc_id")["n_mentions"].to_dict() == \
        per_doc.reindex(res.documents["doc_id"], fill_value=0).to_dict()
    assert load(two).manifest["workers"] == 2
    assert load(two).manifest["model"] == load(one).manifest["model"]  # described, not loaded, in the driver
    # the workers forked (the default on Linux) or spawned: the same tables
    spawned = tmp_path / "spawned"
    r = runner.invoke(app, ["run", str(corpus), "--out", str(spawned), "--set", "output.batch_docs=3",
                            "--workers", "2", "--set", "run.start_method=spawn"])
    assert r.exit_code == 0, r.output
    _same(load(one), load(spawned))


def test_the_driver_of_a_run_with_workers_describes_the_model_without_loading_it():
    from pipeline.api import get_tagger
    from pipeline.config import load_config
    from pipeline.run import DescribedModel, driver_tagger

    one = driver_tagger(load_config())
    many = driver_tagger(load_config(overrides=["run.workers=2"]))
    assert isinstance(many, DescribedModel) and not hasattr(many, "nlp")
    assert many.info == one.info == get_tagger(load_config()).info


def test_a_run_resumes_with_another_number_of_workers(corpus, tmp_path):
    from pipeline.api import get_tagger
    from pipeline.config import load_config
    from pipeline.read import input_fingerprint, iter_documents
    from pipeline.run import run_to_dir

    cfg = load_config(overrides=["output.batch_docs=3"])

    def docs():
        for i, d in enumerate(iter_documents(corpus, cfg.input)):
            if i == 7:
                raise KeyboardInterrupt
            yield d

    out = tmp_path / "out"
    desc = {"kind": "path", "path": str(corpus), "fingerprint": input_fingerprint(corpus, cfg.input)}
    with pytest.raises(KeyboardInterrupt):
        run_to_dir(docs(), cfg, out, input_desc=desc, tagger=get_tagger(cfg))
    assert (out / ".work" / "batch-000001.mentions.parquet").exists()
    runner = CliRunner()
    r = runner.invoke(app, ["run", str(corpus), "--out", str(out), "--set", "output.batch_docs=3",
                            "--workers", "2", "--resume"])
    assert r.exit_code == 0, r.output
    ref = tmp_path / "ref"
    assert runner.invoke(app, ["run", str(corpus), "--out", str(ref), "--set", "output.batch_docs=3"]).exit_code == 0
    _same(load(ref), load(out))


def test_an_unreachable_scheduler_is_a_clear_error(corpus, tmp_path):
    r = CliRunner().invoke(app, ["run", str(corpus), "--out", str(tmp_path / "o"), "--scheduler", "tcp://127.0.0.1:9"])
    assert r.exit_code == 2 and r.output.startswith("error: ") and "scheduler" in r.output
    assert not (tmp_path / "o" / "manifest.json").exists()


@pytest.mark.parametrize("workers", [1, 2])
def test_progress_counts_every_document_and_word_once(corpus, tmp_path, workers):
    """The progress callback counts documents as they finish (one call per document in
    one process; worker events plus each batch's remainder on Dask), every document and
    word exactly once in all."""
    from pipeline.api import get_tagger
    from pipeline.config import load_config
    from pipeline.read import input_fingerprint, iter_documents
    from pipeline.run import run_to_dir

    cfg = load_config(overrides=["output.batch_docs=4", f"run.workers={workers}"])
    calls = []
    desc = {"kind": "path", "path": str(corpus), "fingerprint": input_fingerprint(corpus, cfg.input)}
    manifest = run_to_dir(iter_documents(corpus, cfg.input), cfg, tmp_path / "out", input_desc=desc,
                          tagger=get_tagger(cfg), on_progress=lambda n, w: calls.append((n, w)))
    n_docs = manifest["counts"]["documents"]
    assert sum(n for n, _ in calls) == n_docs == 10
    assert sum(w for _, w in calls) == manifest["words"] > 0
    if workers == 1:
        assert len(calls) == n_docs and all(n == 1 for n, _ in calls)  # one call per document
    peak = manifest["peak_rss_mb"]
    assert peak["driver"] > 50 and peak["tagging"] > 50  # the model alone takes more
    if workers == 1:
        assert peak["tagging"] <= peak["driver"]  # the same process, measured earlier


def test_a_local_cluster_that_cannot_start_is_an_environment_problem(corpus, tmp_path, monkeypatch):
    import distributed

    def refuse(*args, **kwargs):
        raise OSError(24, "Too many open files")

    monkeypatch.setattr(distributed, "LocalCluster", refuse)
    r = CliRunner().invoke(app, ["run", str(corpus), "--out", str(tmp_path / "o"), "--workers", "2"])
    assert r.exit_code == 3 and "local Dask cluster" in r.output and "--workers 1" in r.output
    assert not (tmp_path / "o" / "manifest.json").exists()


def _worker_environ(name: str) -> list:
    """The variable ``name`` in each worker's own environment (a lambda, so that it is
    looked up there: a bound ``os.environ.get`` would carry the driver's copy)."""
    import os

    from pipeline.engine import Engine

    with Engine(2) as engine:
        return list(engine.client.run(lambda: os.environ.get(name)).values())


def test_local_workers_keep_glibc_malloc_settings_unless_the_user_sets_them(monkeypatch):
    """Dask's default MALLOC_TRIM_THRESHOLD_ (which makes glibc map and unmap every large
    array) is not passed to the workers of a local cluster; a threshold the user sets in
    the environment or in Dask's config is."""
    import dask
    import distributed  # noqa: F401  (its defaults join Dask's config on import)

    monkeypatch.delenv("MALLOC_TRIM_THRESHOLD_", raising=False)
    key = "distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_"
    assert str(dask.config.get(key)) == "65536"  # Dask's default, which the engine drops
    assert _worker_environ("MALLOC_TRIM_THRESHOLD_") == [None, None]
    assert _worker_environ("OPENBLAS_NUM_THREADS") == ["1", "1"]  # Dask's other settings stay
    with dask.config.set({key: 131072}):
        assert _worker_environ("MALLOC_TRIM_THRESHOLD_") == ["131072"] * 2
    monkeypatch.setenv("MALLOC_TRIM_THRESHOLD_", "262144")
    assert _worker_environ("MALLOC_TRIM_THRESHOLD_") == ["262144"] * 2


def test_local_workers_run_without_dasks_profiler():
    """The workers of a local cluster (no dashboard to show a profile) do not sample their
    stacks every 10 ms, as Dask's workers do by default; the driver's own Dask config is
    left as it was."""
    import dask
    import distributed  # noqa: F401  (its defaults join Dask's config on import)

    from pipeline.engine import Engine

    key = "distributed.worker.profile.enabled"
    assert dask.config.get(key) is True  # Dask's default
    with Engine(2) as engine:
        profiling = engine.client.run(lambda dask_worker: "profile" in dask_worker.periodic_callbacks)
        monitoring = engine.client.run(lambda dask_worker: "heartbeat" in dask_worker.periodic_callbacks)
    assert list(profiling.values()) == [False, False]
    assert list(monitoring.values()) == [True, True]  # the worker's other callbacks stay
    assert dask.config.get(key) is True


def test_local_workers_load_the_model_as_they_start():
    """With the model named, each worker of a local cluster loads it as it starts, before
    any batch asks for it: the same tagger the first batch then gets. Spawned workers
    (forked ones would be copies of this test process, which has loaded the model)."""
    import time

    from pipeline.api import _tagger, get_tagger
    from pipeline.config import load_config
    from pipeline.engine import Engine

    cfg = load_config()

    def loaded() -> int:
        return _tagger.cache_info().currsize

    def first_batch_tagger() -> tuple[int, int, str]:
        misses = _tagger.cache_info().misses
        tagger = get_tagger(cfg)
        return misses, _tagger.cache_info().misses, tagger.info.name

    import os

    import dask
    import distributed  # noqa: F401  (its defaults join Dask's config before it is changed)

    user_preload = "import os; os.environ['PIPELINE_TEST_PRELOAD'] = 'ran'"  # the user's own, kept
    with dask.config.set({"distributed.worker.preload": [user_preload]}), \
            Engine(2, model=cfg.ner.model_dump_json(), start="spawn") as engine:
        ran = engine.client.run(lambda: os.environ.get("PIPELINE_TEST_PRELOAD"))
        assert list(ran.values()) == ["ran", "ran"] and os.environ.get("PIPELINE_TEST_PRELOAD") is None
        deadline = time.monotonic() + 120
        while sorted(engine.client.run(loaded).values()) != [1, 1] and time.monotonic() < deadline:
            time.sleep(0.2)
        assert sorted(engine.client.run(loaded).values()) == [1, 1]  # loaded with no task run
        for before, after, name in engine.client.run(first_batch_tagger).values():
            assert before == after == 1 and name == get_tagger(cfg).info.name  # no second load
    with Engine(2, start="spawn") as engine:  # no model named: nothing loaded before the first batch
        time.sleep(1.0)
        assert sorted(engine.client.run(loaded).values()) == [0, 0]


def test_a_run_with_workers_fails_cleanly_while_its_cluster_is_starting(corpus, tmp_path):
    """The cluster starts while the driver checks the model: a missing model is still a
    usage error (exit 2), the cluster is stopped, nothing is written."""
    out = tmp_path / "o"
    r = CliRunner().invoke(app, ["run", str(corpus), "--out", str(out), "--workers", "2",
                                 "--model", str(tmp_path / "no-such-model")])
    assert r.exit_code == 2 and "model" in r.output, r.output
    assert not (out / "manifest.json").exists()


def test_the_driver_of_a_run_with_workers_does_not_import_spacy(corpus, tmp_path):
    """The driver only describes the model (from its meta.json), so it leaves the two
    vCPUs of a small machine to the workers importing spaCy as the run starts."""
    import subprocess
    import sys

    code = ("import sys; from pipeline.api import run_to_dir; "
            f"out, m = run_to_dir({str(corpus)!r}, {str(tmp_path / 'o')!r}, {{'run': {{'workers': 2}}}}); "
            "print('spacy' in sys.modules, m['spacy_version'], m['counts']['documents'])")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    import spacy

    assert r.stdout.split() == ["False", spacy.__version__, "10"]


def test_a_local_cluster_leaves_sys_path_alone():
    """Dask puts its servers' scratch folders first in sys.path and takes them out as
    they close, in its own thread, while the driver writes the tables (an import or a
    package-metadata lookup iterating sys.path then skipped an entry). The engine takes
    them out as it is entered: sys.path is the driver's own while the cluster runs, and
    closing it, in the background too, changes nothing."""
    import sys

    from pipeline.engine import Engine

    before = list(sys.path)
    with Engine(2) as engine:
        assert sys.path == before
        assert engine.map(divmod, [(7, 2), (9, 4)]) == [(3, 1), (2, 1)]
        engine.close_in_background()
    assert sys.path == before


def test_auto_workers_use_every_core_for_a_large_input_within_memory():
    from pipeline.engine import AUTO_DRIVER_BYTES, AUTO_MIN_BYTES, AUTO_WORKER_BYTES, auto_workers

    big, gb = 50 * AUTO_MIN_BYTES, 2**30
    assert auto_workers(AUTO_MIN_BYTES - 1, 1000, cores=16, memory=64 * gb) == 1  # small: this process
    assert auto_workers(big, 1000, cores=16, memory=64 * gb) == 16
    assert auto_workers(None, None, cores=8, memory=None) == 8  # size unknown: a large input
    assert auto_workers(big, 3, cores=16, memory=64 * gb) == 3  # no more workers than batches
    room = AUTO_DRIVER_BYTES + 5 * AUTO_WORKER_BYTES
    assert auto_workers(big, 1000, cores=16, memory=room) == 5  # as many as the free memory holds
    assert auto_workers(big, 1000, cores=16, memory=gb // 2) == 1  # never fewer than one


def test_auto_workers_are_resolved_per_run_from_the_input(corpus, tmp_path, monkeypatch):
    """A small input runs in this process (and says so in its manifest); the same input
    counted as large gets one worker per core, no more than its batches."""
    import pipeline.config as config
    import pipeline.engine as engine
    from pipeline.api import _resolve_workers, run_to_dir
    from pipeline.config import load_config

    out, manifest = run_to_dir(corpus, tmp_path / "small")
    assert manifest["workers"] == 1 and manifest["counts"]["documents"] == 10
    monkeypatch.setattr(engine, "AUTO_MIN_BYTES", 1)
    monkeypatch.setattr(config, "available_cores", lambda: 3)
    assert _resolve_workers(load_config(overrides=["output.batch_docs=4"]), corpus, 10).run.workers == 3
    assert _resolve_workers(load_config(overrides=["output.batch_docs=5"]), corpus, 10).run.workers == 2
    assert _resolve_workers(load_config(overrides=["run.workers=1"]), corpus, 10).run.workers == 1
    r = CliRunner().invoke(app, ["run", str(corpus), "--out", str(tmp_path / "o"), "--workers", "many"])
    assert r.exit_code == 2 and "run.workers" in r.output


def test_start_method_is_fork_on_linux_outside_a_notebook(monkeypatch):
    import sys

    from pipeline.engine import start_method
    from pipeline.errors import PipelineError

    monkeypatch.setattr(sys, "platform", "linux")
    assert start_method("auto") == "fork"
    assert start_method("spawn") == "spawn"  # an explicit method is kept
    monkeypatch.setitem(sys.modules, "ipykernel", object())  # a Jupyter kernel's threads
    assert start_method("auto") == "spawn"
    monkeypatch.delitem(sys.modules, "ipykernel")
    monkeypatch.setattr(sys, "platform", "darwin")
    assert start_method("auto") == "spawn"
    import multiprocessing

    monkeypatch.setattr(multiprocessing, "get_all_start_methods", lambda: ["spawn"])  # e.g. Windows
    with pytest.raises(PipelineError, match="start_method"):
        start_method("fork")


def test_forked_workers_start_with_the_driver_imports_and_a_restarted_one_is_spawned():
    """Forked, the workers are copies of the driver (a module it imported, and they never
    need, is there); only the cluster's start forks: Dask's setting is back to its own
    afterwards, so a worker restarted after a crash is spawned (a fresh interpreter)."""
    import os
    import signal
    import sys
    import time

    import dask
    import distributed  # noqa: F401  (its defaults join Dask's config on import)

    import pipeline.cli  # noqa: F401  (typer: imported here, never by a spawned worker)
    from pipeline.engine import Engine

    def who() -> tuple[int, bool]:
        return os.getpid(), "typer" in sys.modules

    method = dask.config.get("distributed.worker.multiprocessing-method")
    with Engine(2, start="fork") as engine:
        assert dask.config.get("distributed.worker.multiprocessing-method") == method
        first = dict(engine.client.run(who))
        assert [copy for _, copy in first.values()] == [True, True]
        killed, _ = next(iter(first.values()))
        os.kill(killed, signal.SIGKILL)
        deadline = time.monotonic() + 120
        now = {}
        while time.monotonic() < deadline:
            try:
                now = dict(engine.client.run(who))
            except Exception:  # noqa: BLE001  the dead worker is still listed
                now = {}
            if len(now) == 2 and killed not in {pid for pid, _ in now.values()}:
                break
            time.sleep(0.2)
        new = [copy for pid, copy in now.values() if pid not in {p for p, _ in first.values()}]
        assert new == [False]


def _lookup(i: int, names: dict, extra: set) -> tuple[int, int, bool]:
    return i, names[f"N{i}"], i in extra


def test_map_sends_its_common_arguments_with_each_call_of_a_run():
    """Engine.map hands every task the common arguments (a dict and a set, sent once per
    map as one object), in order; the same objects mapped again at once arrive again
    (a copy sent per map, not one shared key that the last map's release could drop)."""
    from pipeline.engine import Engine

    names = {f"N{i}": 10 * i for i in range(5000)}
    with Engine(2) as engine:
        for _ in range(3):
            assert engine.map(_lookup, [(i,) for i in range(7)], (names, {2, 5})) == \
                [(i, 10 * i, i in (2, 5)) for i in range(7)]
        assert engine.map(len, [("abc",), ([1, 2],)]) == [3, 2]  # no common arguments
