"""CSV outputs safe to open in a spreadsheet, and run folders read back exactly or not at all.

Formula escaping (OWASP "CSV Injection"), quoting of ``\\r``, JSON list cells, the
manifest's say over formats and escaping, and :class:`BrokenRunError` on damaged tables.
"""

from __future__ import annotations

import csv
import json
import re
import tempfile
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pandas.testing import assert_frame_equal

from pipeline import schemas
from pipeline.api import load, run
from pipeline.errors import BrokenRunError, InputError
from pipeline.evaluate import evaluate_run
from pipeline.write import (
    FORMULA_PREFIXES,
    TABLE_NAMES,
    escape_formula,
    read_table,
    unescape_formula,
    write_json,
    write_table,
)

DANGEROUS = ("=", "+", "-", "@", "\t", "\r")
#: values a spreadsheet would run, and values that only look escaped
NASTY = ["=1+1", "+49 30 1234", "-2+3", "@SUM(A1)", "\tTab", "\rCR", "'quoted", "''twice",
         "'=already", "=HYPERLINK(\"http://x\",\"y\")", "plain", ""]


def _tables() -> dict[str, pd.DataFrame]:
    n = len(NASTY)
    docs = pd.DataFrame({
        "doc_id": [f"{v}#{i}" for i, v in enumerate(NASTY)],
        "source": NASTY,
        "date": [None, "", "=2024-01-01", "-1", None, "'", "@", "+", "\t", "\r", "2024-05-01", None],
        "n_chars": list(range(n)),
        "n_sentences": [1] * n,
        "n_mentions": [0] * n,
        "status": ["ok"] * n,
        "error": [None, "", "=ERR()", None, "-x", None, None, None, None, None, None, "'"],
        "encoding": ["utf-8"] * n,
        "notes": [None] * n,
        "text": [v + " a\rb\r\nc\nd, \"e\" | f" for v in NASTY],
    })
    mentions = pd.DataFrame({
        "mention_id": [f"m{i}" for i in range(n)],
        "doc_id": docs["doc_id"],
        "sentence_index": [0] * n,
        "start_char": list(range(n)),
        "end_char": [i + 3 for i in range(n)],
        "text": NASTY,
        "label": ["PER"] * n,
        "kind": ["name"] * n,
        "entity_id": [None if i % 3 == 0 else f"={i}" for i in range(n)],
        "key": ["" if i == 1 else v.lower() for i, v in enumerate(NASTY)],
        "link_rule": ["exact"] * n,
        "link_score": [None, -0.5, 1.0, 1 / 3] * (n // 4),  # numbers, negative ones too
    })
    entities = pd.DataFrame({
        "entity_id": ["=E1", "-E2", "@E3", "E4"],
        "label": ["PER", "LOC", "ORG", "MISC"],
        "canonical_name": ["=Putin", "+Köln", "'Quote", "A|B, C"],
        "aliases": [["Putin", "Putins", "=cmd|' /C calc'!A0"], ["Köln|Cologne", "a,b", '"q"'],
                    [], ['["not", "a list"]', "[", "", "'x", "\r"]],
        "n_mentions": [3, -1, 0, 2**40],
        "n_docs": [1, 1, 0, 1],
    })
    co = pd.DataFrame({"entity_a": ["=E1", "-E2"], "entity_b": ["@E3", "E4"],
                       "n_docs": [1, 2], "n_sentences": [0, 1]})
    links = pd.DataFrame({"entity_a": ["=E1", "E4"], "entity_b": ["=E1", "-E2"], "name_a": ["=Putin", "A|B"],
                          "name_b": ["Putins", "+Köln"], "label_a": ["PER", "MISC"], "label_b": ["PER", "LOC"],
                          "rule": ["genitive", "-exact"], "score": [0.95, None], "decision": ["merged", "refused"],
                          "reason": [None, "@label_mismatch"], "n_evidence": [2, 7],
                          "evidence": [["=m1", "m2"], []]})
    quotes = pd.DataFrame({"quote_id": ["=q1", "q2"], "doc_id": ["=1+1#0", "plain#10"], "type": ["direct", "indirect"],
                           "start_char": [0, 5], "end_char": [4, 9], "spans": [["0-4"], []],
                           "cue_start": [None, 1], "cue_end": [None, 3], "speaker_start": [7, None],
                           "speaker_end": [9, None], "speaker_entity_id": ["=E1", None],
                           "text": ["-Wir schaffen das", "@all \r sei"]})
    return {"documents": docs, "mentions": mentions, "entities": entities, "cooccurrences": co, "links": links,
            "quotes": quotes}


def _write_run(out: Path, tables: dict[str, pd.DataFrame], formats: list[str], *,
               escape: bool = True, manifest: dict | None | bool = True) -> Path:
    """Write ``tables`` as a run does; ``manifest=True`` records formats and escaping."""
    out.mkdir(parents=True, exist_ok=True)
    for name, df in tables.items():
        write_table(df, name, out, formats, escape_formulas=escape)
    if manifest is True:
        manifest = {"config": {"output": {"formats": formats, "csv_escape_formulas": escape}}}
    if manifest:
        write_json(manifest, out / "manifest.json")
    return out


def _csv_rows(path: Path) -> tuple[list[str], list[list[str]]]:
    with open(path, encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    return rows[0], rows[1:]


def _kinds(table: str) -> dict[str, bool]:
    """column -> is it numeric"""
    return {n: t in (schemas.INT, schemas.FLOAT) for n, t, _ in schemas.TABLES[table]}


# ------------------------------------------------------------------ escaping


def test_no_text_cell_starts_with_a_formula_character(tmp_path):
    out = _write_run(tmp_path / "run", _tables(), ["csv"])
    n_checked = 0
    for table in TABLE_NAMES:
        header, rows = _csv_rows(out / f"{table}.csv")
        assert header == schemas.columns(table)
        numeric = _kinds(table)
        for row in rows:
            assert len(row) == len(header)
            for col, cell in zip(header, row):
                if numeric[col]:
                    assert cell == "" or float(cell) == float(cell) or cell == "nan"
                else:
                    assert not cell.startswith(DANGEROUS), (table, col, cell)
                    n_checked += 1
    assert n_checked > 100
    # the escape is a single leading quote; numbers stay plain, negative ones too
    header, rows = _csv_rows(out / "entities.csv")
    assert [r[2] for r in rows] == ["'=Putin", "'+Köln", "''Quote", "A|B, C"]
    assert [r[4] for r in rows] == ["3", "-1", "0", str(2**40)]
    assert json.loads(rows[0][3]) == ["Putin", "Putins", "=cmd|' /C calc'!A0"]
    header, rows = _csv_rows(out / "mentions.csv")
    assert rows[1][header.index("link_score")] == "-0.5"


def test_csv_reads_back_equal_to_parquet(tmp_path):
    tables = _tables()
    csv_run = _write_run(tmp_path / "csv", tables, ["csv"])
    pq_run = _write_run(tmp_path / "pq", tables, ["parquet"])
    a, b = load(csv_run), load(pq_run)
    for name in TABLE_NAMES:
        assert_frame_equal(getattr(a, name), getattr(b, name))
        assert_frame_equal(getattr(a, name), schemas.conform(tables[name], name))
    # the values that matter, spelled out
    assert a.entities["aliases"][3] == ['["not", "a list"]', "[", "", "'x", "\r"]
    assert a.entities["canonical_name"].tolist() == ["=Putin", "+Köln", "'Quote", "A|B, C"]
    assert a.documents["error"].tolist()[:3] == [None, "", "=ERR()"]  # null and "" stay apart
    assert a.mentions["key"][1] == "" and a.mentions["entity_id"][0] is None


def test_carriage_returns_and_pipes_round_trip(tmp_path):
    docs = schemas.conform(pd.DataFrame({
        "doc_id": ["a", "b"], "source": ["x\ry", "p|q"], "n_chars": [3, 3], "n_sentences": [1, 1],
        "n_mentions": [0, 0], "status": ["ok", "ok"], "text": ["line\rline\r", "x\r\n\n\r"]}), "documents")
    ents = schemas.conform(pd.DataFrame({
        "entity_id": ["PER:1"], "label": ["PER"], "canonical_name": ["Wladimir Putin"],
        "aliases": [["Putin|Wladimir", "Putin, W.", "W\rP"]], "n_mentions": [1], "n_docs": [1]}), "entities")
    out = tmp_path / "run"
    out.mkdir()
    write_table(docs, "documents", out, ["csv"])
    write_table(ents, "entities", out, ["csv"])
    _, rows = _csv_rows(out / "documents.csv")  # any CSV reader sees the same values
    assert [r[-1] for r in rows] == ["line\rline\r", "x\r\n\n\r"]
    assert [r[1] for r in rows] == ["x\ry", "p|q"]
    assert read_table(out, "documents")["text"].tolist() == ["line\rline\r", "x\r\n\n\r"]
    assert read_table(out, "entities")["aliases"][0] == ["Putin|Wladimir", "Putin, W.", "W\rP"]


def test_escaping_off_writes_raw_values(tmp_path):
    tables = _tables()
    out = _write_run(tmp_path / "raw", tables, ["csv"], escape=False)
    _, rows = _csv_rows(out / "entities.csv")
    assert [r[2] for r in rows] == ["=Putin", "+Köln", "'Quote", "A|B, C"]
    back = load(out)
    for name in TABLE_NAMES:
        assert_frame_equal(getattr(back, name), schemas.conform(tables[name], name))


def test_escaping_is_read_from_the_manifest_and_assumed_without_one(tmp_path):
    tables = _tables()
    out = _write_run(tmp_path / "bare", tables, ["csv"], manifest=False)
    assert not (out / "manifest.json").exists()
    assert read_table(out, "entities")["canonical_name"].tolist() == ["=Putin", "+Köln", "'Quote", "A|B, C"]


def test_a_run_from_before_escaping_reads_as_written(tmp_path):
    """An older run: manifest without csv_escape_formulas, aliases joined by "|"."""
    out = tmp_path / "old"
    out.mkdir()
    pd.DataFrame({"entity_id": ["PER:1"], "label": ["PER"], "canonical_name": ["'Nickname"],
                  "aliases": ["Anna Berg|Berg"], "n_mentions": [2], "n_docs": [1]}
                 ).to_csv(out / "entities.csv", index=False)
    write_json({"config": {"output": {"formats": ["csv"], "batch_docs": 200}}}, out / "manifest.json")
    back = read_table(out, "entities")
    assert back["canonical_name"][0] == "'Nickname"
    assert back["aliases"][0] == ["Anna Berg", "Berg"]
    (out / "manifest.json").unlink()  # without a manifest: not a JSON array -> "|"-joined
    assert read_table(out, "entities")["aliases"][0] == ["Anna Berg", "Berg"]


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_escape_round_trip(value):
    escaped = escape_formula(value)
    assert unescape_formula(escaped) == value
    assert not escaped.startswith(DANGEROUS)
    assert escaped == value or escaped == "'" + value
    assert escaped.startswith("'") == value.startswith(FORMULA_PREFIXES)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.text(), min_size=1, max_size=4), st.lists(st.text(), max_size=4),
       st.booleans())
def test_write_read_round_trip_of_any_text(names, aliases, escape):
    ents = schemas.conform(pd.DataFrame({
        "entity_id": names, "label": ["PER"] * len(names), "canonical_name": names[::-1],
        "aliases": [aliases] * len(names), "n_mentions": [1] * len(names), "n_docs": [1] * len(names),
    }), "entities")
    with tempfile.TemporaryDirectory() as tmp:
        out = _write_run(Path(tmp), {"entities": ents}, ["csv"], escape=escape)
        assert_frame_equal(read_table(out, "entities"), ents)


def test_a_long_document_text_round_trips(tmp_path):
    text = ("=Angela Merkel, \"Kanzlerin\"\r\n" * 120_000)[:3_000_000]  # > pyarrow's 1 MB block
    docs = schemas.conform(pd.DataFrame({
        "doc_id": ["big"], "source": ["-"], "n_chars": [len(text)], "n_sentences": [1],
        "n_mentions": [0], "status": ["ok"], "text": [text]}), "documents")
    write_table(docs, "documents", tmp_path, ["csv"])
    assert read_table(tmp_path, "documents")["text"][0] == text


def test_a_real_run_with_formula_texts_reads_back_equal(tmp_path, tagger):
    res = run({
        "=1+1": "=HYPERLINK(\"http://x\")\nAngela Merkel traf Emmanuel Macron in Paris.",
        "-a": "-Olaf Scholz reiste nach Rom.\r Dort traf Scholz Giorgia Meloni.",
        "@b": "@Wladimir Putin und Putins Sprecher Dmitri Peskow in Moskau.",
        "'c": "+49 Die Lufthansa streikt in Frankfurt | Köln.",
        "\td": "\tBerlin ist die Hauptstadt.",
    })
    assert len(res.mentions) > 5
    tables = res.tables()
    csv_run = _write_run(tmp_path / "csv", tables, ["csv"])
    pq_run = _write_run(tmp_path / "pq", tables, ["parquet"])
    a, b = load(csv_run), load(pq_run)
    for name in TABLE_NAMES:
        assert_frame_equal(getattr(a, name), getattr(b, name))
        header, rows = _csv_rows(csv_run / f"{name}.csv")
        numeric = _kinds(name)
        for row in rows:
            for col, cell in zip(header, row):
                assert numeric[col] or not cell.startswith(DANGEROUS), (name, col, cell)
    assert set(a.documents["doc_id"]) == {"=1+1", "-a", "@b", "'c", "\td"}


# ------------------------------------------------------------------ stale files


def test_a_stale_parquet_is_not_read_when_the_manifest_lists_csv_only(tmp_path):
    tables = _tables()
    out = _write_run(tmp_path / "run", tables, ["parquet"])
    newer = dict(tables, entities=tables["entities"].assign(canonical_name="new"))
    _write_run(out, newer, ["csv"])  # a later run in the same folder wrote CSV only
    assert (out / "entities.parquet").exists()
    assert set(load(out).entities["canonical_name"]) == {"new"}


def test_a_format_the_manifest_lists_must_be_there(tmp_path):
    out = _write_run(tmp_path / "run", _tables(), ["csv"])
    write_json({"config": {"output": {"formats": ["parquet"], "csv_escape_formulas": True}}},
               out / "manifest.json")
    with pytest.raises(BrokenRunError, match=re.escape("documents.parquet")):
        load(out)


# ------------------------------------------------------------------ damaged runs


def test_truncated_parquet_names_the_file(tmp_path):
    out = _write_run(tmp_path / "run", _tables(), ["parquet"])
    p = out / "mentions.parquet"
    p.write_bytes(p.read_bytes()[: p.stat().st_size // 2])
    with pytest.raises(BrokenRunError, match=r"mentions\.parquet.*truncated"):
        load(out)
    with pytest.raises(BrokenRunError, match=r"mentions\.parquet"):
        evaluate_run(out, tmp_path / "unused-gold.jsonl")


def test_parquet_missing_a_column(tmp_path):
    out = _write_run(tmp_path / "run", _tables(), ["parquet"])
    import pyarrow.parquet as pq

    t = pq.read_table(out / "cooccurrences.parquet").drop_columns(["n_docs"])
    pq.write_table(t, out / "cooccurrences.parquet")
    with pytest.raises(BrokenRunError, match=r"cooccurrences\.parquet: lacks column\(s\) n_docs"):
        load(out)


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


@pytest.mark.parametrize("edit, message", [
    (("-1,1", "minus one,1"), "entities.csv"),  # a word in a numeric column
    (("-1,1", ",1"), r"entities\.csv: column 'n_mentions' is empty in row 2"),
    (("n_docs", "docs"), r"entities\.csv: lacks column\(s\) n_docs"),
    ((',\n', ',,extra\n'), "entities.csv"),  # a row with too many fields
])
def test_edited_csv_names_the_file(tmp_path, edit, message):
    out = _write_run(tmp_path / "run", _tables(), ["csv"])
    _edit(out / "entities.csv", *edit)
    with pytest.raises(BrokenRunError, match=message):
        load(out)


def test_truncated_or_garbled_csv(tmp_path):
    out = _write_run(tmp_path / "run", _tables(), ["csv"])
    p = out / "documents.csv"
    data = p.read_bytes()
    p.write_bytes(data[: data.index(b"a\rb") + 2])  # cut inside a quoted text
    with pytest.raises(BrokenRunError, match=r"documents\.csv"):
        load(out)
    p.write_bytes(b"\xff\xfe" + data)  # not UTF-8
    with pytest.raises(BrokenRunError, match=r"documents\.csv"):
        load(out)
    p.write_bytes(b"")
    with pytest.raises(BrokenRunError, match=r"documents\.csv"):
        load(out)


def test_evaluate_on_an_edited_csv(tmp_path):
    out = _write_run(tmp_path / "run", _tables(), ["csv"])
    _edit(out / "mentions.csv", ",0,0,3,", ",0,zero,3,")
    with pytest.raises(BrokenRunError, match=r"mentions\.csv"):
        evaluate_run(out, tmp_path / "unused-gold.jsonl")


def test_load_on_folders_that_are_not_runs(tmp_path):
    with pytest.raises(InputError, match="no run directory"):
        load(tmp_path / "nowhere")
    (tmp_path / "notes.txt").write_text("hello", encoding="utf-8")
    with pytest.raises(InputError, match="does not hold a pipeline run"):
        load(tmp_path)
    write_json({"config": {}}, tmp_path / "manifest.json")  # a manifest but no tables
    with pytest.raises(BrokenRunError, match="documents.parquet or documents.csv"):
        load(tmp_path)
    (tmp_path / "manifest.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(BrokenRunError, match=r"manifest\.json"):
        load(tmp_path)


def test_the_column_escape_is_the_cell_escape():
    """write._escape_formulas (Arrow kernels, a whole column) agrees with escape_formula
    cell by cell, nulls kept."""
    import pyarrow as pa

    from pipeline.write import FORMULA_PREFIXES, _escape_formulas

    cells = [p + "x" for p in FORMULA_PREFIXES] + list(FORMULA_PREFIXES) + ["", None, "Putin", "a=b", "Ä-1"]
    assert _escape_formulas(pa.chunked_array([cells])).to_pylist() == \
        [None if c is None else escape_formula(c) for c in cells]
    clean = ["", None, "Putin", "a=b"]  # no risky cell: the column as it is
    assert _escape_formulas(pa.chunked_array([clean])).to_pylist() == clean
