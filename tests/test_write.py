"""Writing and reading tables: explicit schemas, atomic files, CSV list columns."""

import pandas as pd
import pyarrow.parquet as pq
import pytest

from pipeline import schemas
from pipeline.write import atomic_path, read_table, write_table


def _entities():
    return pd.DataFrame({
        "entity_id": ["PER:a", "LOC:b"], "label": ["PER", "LOC"],
        "canonical_name": ["Anna Berg", "Köln"], "aliases": [["Anna Berg", "Berg"], ["Köln"]],
        "n_mentions": [2, 1], "n_docs": [1, 1],
    })


def test_parquet_schema_is_explicit(tmp_path):
    write_table(_entities(), "entities", tmp_path, ["parquet", "csv"])
    t = pq.read_table(tmp_path / "entities.parquet")
    assert t.schema.equals(schemas.arrow_schema("entities"))
    assert t.schema.field("aliases").type.value_type == "string"
    assert str(t.schema.field("n_mentions").type) == "int64"
    csv_text = (tmp_path / "entities.csv").read_text(encoding="utf-8")
    assert csv_text.splitlines()[0] == ",".join(schemas.columns("entities"))
    assert '"[""Anna Berg"",""Berg""]"' in csv_text  # a JSON array in a quoted cell


def test_round_trip_csv_and_parquet(tmp_path):
    write_table(_entities(), "entities", tmp_path, ["csv"])
    back = read_table(tmp_path, "entities")
    assert back["aliases"].tolist() == [["Anna Berg", "Berg"], ["Köln"]]
    assert back["n_mentions"].dtype == "int64"


def test_empty_tables_keep_their_columns(tmp_path):
    write_table(schemas.empty("mentions"), "mentions", tmp_path, ["parquet", "csv"])
    assert pq.read_table(tmp_path / "mentions.parquet").num_rows == 0
    assert list(read_table(tmp_path, "mentions").columns) == schemas.columns("mentions")


def test_atomic_path_leaves_nothing_on_failure(tmp_path):
    final = tmp_path / "x.csv"
    with pytest.raises(RuntimeError):
        with atomic_path(final) as tmp:
            tmp.write_text("half", encoding="utf-8")
            raise RuntimeError("killed")
    assert not final.exists()
    assert list(tmp_path.iterdir()) == []


def test_conform_gives_text_cells_as_str_or_none_whatever_they_were():
    """Text columns come out as Python str or None, cell by cell as _as_str says, from
    object columns (mixed types, None, NaN, NA), Arrow strings and categoricals."""
    import numpy as np

    from pipeline.schemas import _as_str, conform

    cells = ["Anna", None, np.nan, pd.NA, 1, 2.5, "Anna", "", "Berg", True]
    n = len(cells)
    base = {"mention_id": [f"d#{i}" for i in range(n)], "doc_id": ["d"] * n, "sentence_index": list(range(n)),
            "start_char": list(range(n)), "end_char": list(range(1, n + 1)), "label": ["PER"] * n,
            "kind": ["name"] * n}
    for text in (pd.Series(cells, dtype=object),
                 pd.Series(["Anna", None, np.nan, "Berg", pd.NA, "Anna", "", "x", "y", "z"], dtype=object),
                 pd.Series(["Anna", None, "Berg"] * 3 + ["x"], dtype="string"),
                 pd.Series(["Anna", "Berg"] * 5, dtype="category"),
                 pd.Series(["Anna", "Berg"] * 5, dtype=object)):
        out = conform(pd.DataFrame({**base, "text": text}), "mentions")
        want = [_as_str(v) for v in text.astype(object)]
        assert out["text"].dtype == object
        assert out["text"].tolist() == want
        assert all(v is None or type(v) is str for v in out["text"])


def test_table_writer_writes_in_the_background_and_reports_a_failure(tmp_path):
    """TableWriter gives the files write_table gives; a table that cannot be written
    fails wait(); a table is handed over once."""
    from pipeline.write import TableWriter

    ref = tmp_path / "ref"
    ref.mkdir()
    write_table(_entities(), "entities", ref, ["parquet", "csv"])
    out = tmp_path / "out"
    out.mkdir()
    parts = tmp_path / "parts"
    parts.mkdir()
    mentions = schemas.empty("mentions")
    with TableWriter(out, ["parquet", "csv"]) as writer:
        writer.submit(_entities(), "entities")
        writer.submit([mentions, mentions], "mentions")
        with pytest.raises(ValueError, match="already"):
            writer.submit(_entities(), "entities")
        writer.wait()
    for name in ("entities.parquet", "entities.csv"):
        assert (out / name).read_bytes() == (ref / name).read_bytes()
    assert pq.read_table(out / "mentions.parquet").num_rows == 0
    with pytest.raises(OSError), TableWriter(tmp_path / "no-such-folder", ["csv"]) as writer:
        writer.submit(_entities(), "entities")
        writer.wait()
