"""Tables -> CSV / Parquet, atomically (temporary name, fsync, rename)."""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Iterable
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from . import schemas

TABLE_NAMES = ("documents", "mentions", "entities", "cooccurrences")


@contextmanager
def atomic_path(final: Path):
    """Yield a temporary path beside ``final``; rename it over ``final`` only on success."""
    final = Path(final)
    tmp = final.with_name(f".{final.name}.tmp-{os.getpid()}")
    try:
        yield tmp
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, final)
    finally:
        if tmp.exists():
            tmp.unlink()


def write_json(obj: Any, path: Path) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(obj, indent=2, ensure_ascii=False, sort_keys=False) + "\n", encoding="utf-8")


def _csv_frame(df: pd.DataFrame, table: str) -> pd.DataFrame:
    df = schemas.conform(df, table)
    for name, t, _ in schemas.TABLES[table]:
        if t == schemas.LIST:
            df[name] = df[name].map(lambda v: "|".join(v))
    return df


def write_table(df: pd.DataFrame, table: str, out_dir: Path, formats: Iterable[str]) -> list[Path]:
    """Write one in-memory table in each format; return the final paths."""
    return write_table_parts([df], table, out_dir, formats)


def write_table_parts(
    parts: Iterable[pd.DataFrame | Path], table: str, out_dir: Path, formats: Iterable[str]
) -> list[Path]:
    """Stream a table made of parts (frames, or Parquet files of the same schema) into
    each format without holding all parts at once."""
    out_dir = Path(out_dir)
    formats = list(formats)
    parts = list(parts)
    written = []
    schema = schemas.arrow_schema(table)
    if "parquet" in formats:
        final = out_dir / f"{table}.parquet"
        with atomic_path(final) as tmp:
            with pq.ParquetWriter(tmp, schema) as writer:
                writer.write_table(pa.Table.from_batches([], schema=schema))
                for part in parts:
                    writer.write_table(_as_arrow(part, table))
        written.append(final)
    if "csv" in formats:
        final = out_dir / f"{table}.csv"
        with atomic_path(final) as tmp:
            with open(tmp, "w", encoding="utf-8", newline="") as fh:
                fh.write(",".join(schemas.columns(table)) + "\n")
                for part in parts:
                    df = _csv_frame(_as_frame(part, table), table)
                    df.to_csv(fh, header=False, index=False, quoting=csv.QUOTE_MINIMAL, lineterminator="\n")
        written.append(final)
    return written


def _as_arrow(part: pd.DataFrame | Path, table: str) -> pa.Table:
    if isinstance(part, (str, Path)):
        return pq.read_table(part).select(schemas.columns(table)).cast(schemas.arrow_schema(table))
    return schemas.to_arrow(part, table)


def _as_frame(part: pd.DataFrame | Path, table: str) -> pd.DataFrame:
    if isinstance(part, (str, Path)):
        return schemas.from_arrow(pq.read_table(part), table)
    return part


def read_table(run_dir: Path, table: str) -> pd.DataFrame:
    """Read a table of a finished run back (Parquet preferred, CSV otherwise)."""
    run_dir = Path(run_dir)
    pq_path = run_dir / f"{table}.parquet"
    if pq_path.exists():
        return schemas.from_arrow(pq.read_table(pq_path), table)
    csv_path = run_dir / f"{table}.csv"
    if not csv_path.exists():
        raise FileNotFoundError(f"{run_dir} has neither {table}.parquet nor {table}.csv")
    df = pd.read_csv(csv_path, dtype=str, keep_default_na=False, na_values=[], encoding="utf-8")
    for name, t, nullable in schemas.TABLES[table]:
        if t == schemas.LIST:
            df[name] = df[name].map(lambda v: v.split("|") if v else [])
        elif t in (schemas.INT, schemas.FLOAT):
            df[name] = pd.to_numeric(df[name].replace("", None))
        elif nullable:
            df[name] = df[name].where(df[name] != "", None)
    return schemas.conform(df, table)
