"""The command line (typer's CliRunner) and a real interrupted run (subprocess + signal)."""

import json
import os
import signal
import subprocess
import sys
import time

import pandas as pd
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from pipeline import __version__
from pipeline.cli import app

from .conftest import REPO, SEEDS

runner = CliRunner()


def test_version_and_info_json():
    r = runner.invoke(app, ["--version"])
    assert r.exit_code == 0 and __version__ in r.stdout
    r = runner.invoke(app, ["info", "--json"])
    assert r.exit_code == 0, r.output
    info = json.loads(r.stdout)
    assert info["version"] == __version__
    assert info["model_name"].endswith("news_ner")
    assert (REPO / "pipeline" / "models").resolve().as_posix() in info["model_path"]
    assert info["spacy_version"].startswith("3.8")


def test_info_with_a_missing_model_is_a_usage_error():
    r = runner.invoke(app, ["info", "--model", "de_core_news_zz"])
    assert r.exit_code == 2
    assert "python -m spacy download de_core_news_zz" in r.output


def test_run_writes_tables_and_refuses_to_overwrite(tmp_path):
    out = tmp_path / "out"
    r = runner.invoke(app, ["run", str(SEEDS), "--out", str(out), "--format", "parquet"])
    assert r.exit_code == 0, r.output
    assert "documents" in r.stdout and "entities" in r.stdout and str(out) in r.stdout
    assert sorted(p.name for p in out.iterdir()) == [
        "cooccurrences.parquet", "documents.parquet", "entities.parquet", "links.parquet", "manifest.json",
        "mentions.parquet", "quotes.parquet"]
    r = runner.invoke(app, ["run", str(SEEDS), "--out", str(out)])
    assert r.exit_code == 2 and "--force" in r.output
    r = runner.invoke(app, ["run", str(SEEDS), "--out", str(out), "--force", "--format", "csv"])
    assert r.exit_code == 0 and (out / "mentions.csv").exists() and not (out / "mentions.parquet").exists()


def test_failed_documents_give_exit_code_1(tmp_path):
    corpus = tmp_path / "in"
    corpus.mkdir()
    (corpus / "good.txt").write_text("Angela Merkel besuchte Paris.", encoding="utf-8")
    (corpus / "bad.txt").write_bytes(bytes(range(256)) * 8)
    r = runner.invoke(app, ["run", str(corpus), "--out", str(tmp_path / "out")])
    assert r.exit_code == 1, r.output
    assert "FAILED" in r.stdout and "bad.txt" in r.stdout
    docs = pd.read_parquet(tmp_path / "out" / "documents.parquet").set_index("doc_id")
    assert docs.at["bad.txt", "status"] == "error" and docs.at["good.txt", "status"] == "ok"


@pytest.mark.parametrize("args,needle", [
    (["--set", "ner.batch_size=0"], "ner.batch_size"),
    (["--set", "nosuch.key=1"], "nosuch"),
    (["--format", "xlsx"], "formats"),
    (["--model", "de_core_news_zz"], "python -m spacy download"),
])
def test_usage_errors_exit_2_before_processing(tmp_path, args, needle):
    out = tmp_path / "out"
    r = runner.invoke(app, ["run", str(SEEDS), "--out", str(out), *args])
    assert r.exit_code == 2, r.output
    assert needle in r.output
    assert not out.exists() or not any(out.glob("*.parquet"))


def test_output_inside_input_is_refused(tmp_path):
    corpus = tmp_path / "in"
    corpus.mkdir()
    (corpus / "a.txt").write_text("Text.", encoding="utf-8")
    r = runner.invoke(app, ["run", str(corpus), "--out", str(corpus / "out")])
    assert r.exit_code == 2 and "inside the input" in r.output


def test_table_input_with_missing_column_names_the_columns(tmp_path):
    f = tmp_path / "t.csv"
    f.write_text("id,body\n1,Angela Merkel\n", encoding="utf-8")
    r = runner.invoke(app, ["run", str(f), "--out", str(tmp_path / "o")])
    assert r.exit_code == 2 and "body" in r.output
    r = runner.invoke(app, ["run", str(f), "--out", str(tmp_path / "o"), "--text-col", "body"])
    assert r.exit_code == 0, r.output


def test_evaluate_command_writes_json(tmp_path):
    gold = tmp_path / "gold.jsonl"
    text = (SEEDS / "001_d581cd30f8ac7a67.txt").read_text(encoding="utf-8")
    s = text.index("Wladimir Putin")
    gold.write_text(json.dumps({"doc": "001_d581cd30f8ac7a67.txt", "start": s, "end": s + 14,
                                "text": "Wladimir Putin", "label": "PER", "kind": "name",
                                "entity": "Wladimir Putin"}) + "\n", encoding="utf-8")
    out = tmp_path / "run"
    assert runner.invoke(app, ["run", str(SEEDS), "--out", str(out), "--format", "parquet"]).exit_code == 0
    r = runner.invoke(app, ["evaluate", str(out), "--gold", str(gold)])
    assert r.exit_code == 0, r.output
    report = json.loads((out / "evaluation.json").read_text(encoding="utf-8"))
    assert report["name"]["ner"]["strict"]["PER"]["tp"] == 1


def _corpus(tmp_path, n=40):
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    seeds = sorted(SEEDS.glob("*.txt"))
    for i in range(n):
        src = seeds[i % len(seeds)]
        (corpus / f"{i:03d}_{src.name}").write_text(src.read_text(encoding="utf-8"), encoding="utf-8")
    return corpus


def _cmd(corpus, out, *extra):
    return [sys.executable, "-m", "pipeline", "run", str(corpus), "--out", str(out),
            "--set", "output.batch_docs=2", *extra]


def _tables(out):
    return {t: pq.read_table(out / f"{t}.parquet").to_pandas()
            for t in ("documents", "mentions", "entities", "cooccurrences")}


@pytest.mark.parametrize("sig,workers", [(signal.SIGKILL, 1), (signal.SIGTERM, 1), (signal.SIGINT, 1),
                                         (signal.SIGKILL, 2)])
def test_killed_run_resumes_to_identical_tables(tmp_path, sig, workers):
    """Interrupted part-way (kill -9 of the whole process group with two Dask workers:
    the driver and its workers die at once), then resumed: the tables of an
    uninterrupted one-worker run."""
    corpus = _corpus(tmp_path)
    env = dict(os.environ, OMP_NUM_THREADS="1")
    ref = tmp_path / "ref"
    subprocess.run(_cmd(corpus, ref), check=True, env=env, capture_output=True)

    out = tmp_path / "out"
    proc = subprocess.Popen(_cmd(corpus, out, "--workers", str(workers)), env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)
    deadline = time.time() + 120
    while time.time() < deadline and not (out / ".work" / "batch-000003.mentions.parquet").exists():
        time.sleep(0.02)
    if workers > 1:
        os.killpg(proc.pid, sig)
    else:
        proc.send_signal(sig)
    proc.wait(timeout=60)
    assert not (out / "manifest.json").exists(), "the run finished before it could be interrupted"
    assert not any((out / f"{t}.parquet").exists() for t in ("documents", "mentions"))

    r = subprocess.run(_cmd(corpus, out), env=env, capture_output=True, text=True)
    assert r.returncode == 2 and "--resume" in r.stderr
    r = subprocess.run(_cmd(corpus, out, "--resume", "--workers", str(workers)), env=env, capture_output=True,
                       text=True)
    assert r.returncode == 0, r.stderr
    a, b = _tables(ref), _tables(out)
    for name in a:
        pd.testing.assert_frame_equal(a[name], b[name], check_like=False)
    assert not (out / ".work").exists()


def test_previous_entities_keep_their_ids(tmp_path, seeds_run):
    first, _ = seeds_run
    prev = pd.read_parquet(first / "entities.parquet")
    corpus = tmp_path / "new"
    corpus.mkdir()
    (corpus / "x.txt").write_text("Sergei Lawrow und Wladimir Putins Sprecher trafen sich in Pjöngjang.",
                                  encoding="utf-8")
    out = tmp_path / "out"
    r = runner.invoke(app, ["run", str(corpus), "--out", str(out), "--entities", str(first / "entities.parquet")])
    assert r.exit_code == 0, r.output
    m = pd.read_parquet(out / "mentions.parquet")
    putin_before = set(prev.loc[prev["aliases"].map(lambda a: "Wladimir Putin" in a), "entity_id"])
    assert len(putin_before) == 1
    putin_now = set(m.loc[m["text"].str.startswith("Wladimir Putin"), "entity_id"])
    assert putin_now == putin_before
    assert set(m.loc[m["text"] == "Pjöngjang", "entity_id"]) <= set(prev["entity_id"])
    r = runner.invoke(app, ["run", str(corpus), "--out", str(tmp_path / "o2"), "--entities", str(tmp_path / "nope.parquet")])
    assert r.exit_code == 2 and "previous entities not found" in r.output


def test_the_command_says_everything_before_it_leaves(tmp_path):
    """`pipeline` leaves without tearing the interpreter down (cli._leave): what it
    printed still reaches a pipe (block-buffered, so flushed on the way out), the exit
    code is the command's, and the run's tables are complete."""
    out = tmp_path / "o"
    r = subprocess.run(_cmd(SEEDS, out), capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert r.stdout.rstrip().splitlines()[-1].startswith("output")  # the summary's last line
    assert len(pq.read_table(out / "mentions.parquet")) == json.loads((out / "manifest.json").read_text())[
        "counts"]["mentions"]
    r = subprocess.run(_cmd(tmp_path / "missing", tmp_path / "o2"), capture_output=True, text=True, timeout=300)
    assert r.returncode == 2 and r.stderr.startswith("error: input not found")
    r = subprocess.run([sys.executable, "-m", "pipeline", "--version"], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0 and r.stdout.startswith("pipeline ")
