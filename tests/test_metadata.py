"""Metadata in, metadata out: the other columns of a table input are kept in
`documents`, its date column is parsed, the same through the API's DataFrame input."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from typer.testing import CliRunner

from pipeline import load, run
from pipeline.cli import app
from pipeline.errors import InputError
from pipeline.read import parse_date

ROWS = [
    {"id": "a1", "title": "=Gipfel in Paris", "date": "2016-05-12", "section": "Politik",
     "text": "Angela Merkel traf Emmanuel Macron in Paris."},
    {"id": "a2", "title": "Wahl", "date": "12.05.2016", "section": None, "tags": ["x", "y"],
     "text": "Olaf Scholz sprach in Berlin."},
    {"id": "a3", "title": "Später", "date": "irgendwann", "section": "Sport",
     "text": "Der FC Bayern München gewann in Dortmund."},
]


def _jsonl(path, rows):
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def test_table_columns_reach_documents_and_the_date_is_parsed(tmp_path):
    inp = _jsonl(tmp_path / "in.jsonl", ROWS)
    out = tmp_path / "run"
    r = CliRunner().invoke(app, ["run", str(inp), "--out", str(out)])
    assert r.exit_code == 0, r.output
    docs = load(out).documents.set_index("doc_id")
    assert {"title", "section", "tags"} <= set(docs.columns)
    assert docs.loc["a1", "title"] == "=Gipfel in Paris"  # escaped in CSV, raw after load()
    assert docs.loc["a2", "section"] is None and json.loads(docs.loc["a2", "tags"]) == ["x", "y"]
    assert docs.loc["a1", "date"] == "2016-05-12" and docs.loc["a2", "date"] == "2016-05-12"
    # a date not understood is reported on its document, the run goes on
    assert docs.loc["a3", "date"] is None and "not understood" in docs.loc["a3", "notes"]
    assert (docs["status"] == "ok").all()
    # the CSV reads back equal to the Parquet
    (out / "documents.parquet").unlink()
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    manifest["config"]["output"]["formats"] = ["csv"]
    (out / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    pd.testing.assert_frame_equal(load(out).documents.set_index("doc_id"), docs)


def test_the_same_through_a_dataframe():
    res = run(pd.DataFrame(ROWS))
    docs = res.documents.set_index("doc_id")
    assert docs.loc["a1", "title"] == "=Gipfel in Paris" and docs.loc["a1", "date"] == "2016-05-12"
    assert docs.loc["a3", "section"] == "Sport"


def test_keep_cols_and_clashing_names(tmp_path):
    inp = _jsonl(tmp_path / "in.jsonl", ROWS)
    res = run(inp, config={"input": {"keep_cols": ["section"]}})
    assert "section" in res.documents.columns and "title" not in res.documents.columns
    with pytest.raises(InputError, match="no column.*'nope'"):
        run(inp, config={"input": {"keep_cols": ["nope"]}})
    clash = _jsonl(tmp_path / "clash.jsonl", [{**ROWS[0], "status": "published"}])
    r = CliRunner().invoke(app, ["run", str(clash), "--out", str(tmp_path / "o")])
    assert r.exit_code == 2 and "clash" in r.output
    r = CliRunner().invoke(app, ["run", str(clash), "--out", str(tmp_path / "o"), "--keep-cols", "title"])
    assert r.exit_code == 0, r.output


def test_csv_and_parquet_inputs_keep_their_columns(tmp_path):
    df = pd.DataFrame(ROWS).drop(columns=["tags"])
    df.to_csv(tmp_path / "in.csv", index=False)
    res = run(tmp_path / "in.csv")
    assert res.documents.set_index("doc_id").loc["a1", "section"] == "Politik"
    df["date"] = pd.to_datetime(["2016-05-12 08:30", "2016-05-13 00:00", None], format="%Y-%m-%d %H:%M")
    df.to_parquet(tmp_path / "in.parquet")
    docs = run(tmp_path / "in.parquet").documents.set_index("doc_id")
    assert docs.loc["a1", "date"] == "2016-05-12T08:30:00" and docs.loc["a3", "date"] is None
    assert docs.loc["a2", "title"] == "Wahl"


@pytest.mark.parametrize("value,iso", [("2023-09", "2023-09"), ("2016", "2016"), ("2016-05-12", "2016-05-12"),
                                       ("2016-05-12T08:30:00+02:00", "2016-05-12T08:30:00+02:00"),
                                       ("05.2016", "2016-05"), ("2016-13", None), ("", None)])
def test_dates_keep_their_precision(value, iso):
    assert parse_date(value)[0] == iso


def test_a_folder_takes_a_sidecar_metadata_table(tmp_path, caplog):
    folder = tmp_path / "in"
    (folder / "sub").mkdir(parents=True)
    (folder / "a.txt").write_text("Angela Merkel besuchte Paris.", encoding="utf-8")
    (folder / "sub" / "b.txt").write_text("Olaf Scholz blieb in Berlin.", encoding="utf-8")
    side = tmp_path / "meta.csv"
    pd.DataFrame({"doc_id": ["a.txt", "gone.txt"], "outlet": ["Taz", "X"], "date": ["2024-03-01", ""]}).to_csv(
        side, index=False)
    out = tmp_path / "run"
    r = CliRunner().invoke(app, ["run", str(folder), "--out", str(out), "--meta", str(side)])
    assert r.exit_code == 0, r.output
    docs = load(out).documents.set_index("doc_id")
    assert docs.loc["a.txt", "outlet"] == "Taz" and docs.loc["a.txt", "date"] == "2024-03-01"
    assert docs.loc["sub/b.txt", "outlet"] is None and "no row in the metadata table" in docs.loc["sub/b.txt", "notes"]
    bad = tmp_path / "bad.csv"
    bad.write_text("id,outlet\na.txt,Taz\n", encoding="utf-8")
    r = CliRunner().invoke(app, ["run", str(folder), "--out", str(tmp_path / "r2"), "--meta", str(bad)])
    assert r.exit_code == 2 and "doc_id" in r.output
