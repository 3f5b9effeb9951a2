"""examples/analysis.ipynb runs from top to bottom on a subset of the Wikinews articles.

The notebook runs the pipeline itself (real bundled model) and writes a JSON summary of
what it computed; the checks compare that summary with the run it wrote and with the input.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from .conftest import REPO, SHARED

NOTEBOOK = REPO / "examples" / "analysis.ipynb"
WIKINEWS = SHARED / "data" / "wikinews-de"
N_ARTICLES = 40


def test_committed_notebook_has_no_outputs():
    import nbformat

    nb = nbformat.read(NOTEBOOK, as_version=4)
    nbformat.validate(nb)
    assert nb.metadata["kernelspec"]["name"] == "python3"
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code
    assert all(c.outputs == [] and c.execution_count is None for c in code)


@pytest.mark.skipif(not (WIKINEWS / "dev.articles.jsonl").is_file(),
                    reason=f"Wikinews articles not found at {WIKINEWS}")
def test_notebook_executes_end_to_end(tmp_path, monkeypatch):
    import nbformat
    from nbclient import NotebookClient

    from pipeline import load

    work, summary_path = tmp_path / "work", tmp_path / "summary.json"
    # the kernel inherits this process' environment
    monkeypatch.setenv("PIPELINE_EXAMPLE_DATA", str(WIKINEWS))
    monkeypatch.setenv("PIPELINE_EXAMPLE_N", str(N_ARTICLES))
    monkeypatch.setenv("PIPELINE_EXAMPLE_WORKDIR", str(work))
    monkeypatch.setenv("PIPELINE_EXAMPLE_SUMMARY", str(summary_path))
    copy = tmp_path / NOTEBOOK.name
    shutil.copy(NOTEBOOK, copy)
    nb = nbformat.read(copy, as_version=4)
    # raises CellExecutionError naming the cell on the first error
    NotebookClient(nb, timeout=300, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()

    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert sum("image/png" in o.get("data", {}) for o in outputs) >= 3  # plots shown inline

    s = json.loads(summary_path.read_text(encoding="utf-8"))
    articles = [json.loads(line) for line in
                (WIKINEWS / "dev.articles.jsonl").read_text(encoding="utf-8").splitlines()[:N_ARTICLES]]
    r = load(s["run_dir"])

    assert s["n_documents"] == len(r.documents) == N_ARTICLES
    assert list(r.documents["doc_id"]) == [a["id"] for a in articles]
    assert s["n_mentions"] == len(r.mentions) > 0
    assert s["n_entities"] == len(r.entities) > 0
    # the DuckDB query over mentions.parquet agrees with the table load() reads
    assert s["mentions_per_label_sql"] == r.mentions["label"].value_counts().to_dict()
    assert {"PER", "LOC", "ORG"} <= set(s["top_entity_per_label"])

    # every document dated (from the input when the run keeps no date); the months are the
    # publication months of the documents that have mentions
    assert s["dated_documents"] == N_ARTICLES
    dates = {a["id"]: a["date"] for a in articles}
    with_mentions = set(r.mentions["doc_id"])
    assert s["months"] == sorted({dates[d][:7] for d in with_mentions})

    assert s["graph"]["nodes"] >= 2 and s["graph"]["edges"] >= 1

    kw = s["kwic"]
    person = r.entities[r.entities["canonical_name"] == kw["keyword"]]
    assert (person["label"] == "PER").any()
    assert kw["rows"] == int(person["n_mentions"].max()) > 0
    assert set(kw["mentions"]) <= set(person["aliases"].explode())

    loc = r.entities[r.entities["label"] == "LOC"]
    assert s["places"]["rows"] == len(loc) > 0
    geo = [c for c in ("country_code", "geonames_id", "latitude", "longitude", "place_type")
           if c in r.entities.columns]
    assert s["places"]["columns"][4:] == geo
    assert Path(s["places"]["csv"]).is_file()
    if "latitude" in geo:
        assert s["places"]["with_coordinates"] == int(loc["latitude"].notna().sum())

    assert s["quotes"]["rows"] == len(r.quotes)
    assert s["quotes"]["speakers"] == r.quotes["speaker_entity_id"].nunique() > 0

    figures = [Path(p) for p in s["figures"]]
    assert {p.name for p in figures} >= {"top_entities.png", "mentions_over_time.png", "cooccurrence.png"}
    assert all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in figures)


def test_missing_articles_are_named(tmp_path, monkeypatch):
    """Without the data the first cell stops with a message saying what to set."""
    import nbformat

    monkeypatch.setenv("MPLBACKEND", "Agg")  # restored afterwards; the cell sets it if unset
    monkeypatch.setenv("PIPELINE_EXAMPLE_DATA", str(tmp_path / "nowhere"))
    nb = nbformat.read(NOTEBOOK, as_version=4)
    setup = next(c for c in nb.cells if c.cell_type == "code")
    with pytest.raises(FileNotFoundError, match="PIPELINE_EXAMPLE_DATA=.*no articles file"):
        exec(compile(setup.source, "setup-cell", "exec"), {})
