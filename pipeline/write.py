"""Tables -> CSV / Parquet, atomically (temporary name, fsync, rename), and back.

Parquet keeps every value as it is. CSV is written for spreadsheets and for reading
back exactly, so that ``load()`` of the CSV equals the Parquet:

- the header line holds the contract's column names; every text cell is quoted (so
  commas, quotes, ``\n`` and a bare ``\r`` survive), numbers are plain, and a missing
  value is an empty unquoted field (a quoted ``""`` is the empty string);
- list columns (``entities.aliases``) are JSON arrays: ``["Putin","Putins"]``;
- formula escaping (OWASP "CSV Injection"), on unless ``output.csv_escape_formulas =
  false``: a text cell starting with ``=``, ``+``, ``-``, ``@``, tab, carriage return or
  ``'`` gets a leading ``'``. As ``'`` is itself escaped, a cell starts with ``'`` exactly
  when it was escaped, and reading strips one ``'`` from those cells.

Whether a run's CSV was escaped, and which formats it wrote, is read from its
``manifest.json`` (``config.output.csv_escape_formulas`` and ``.formats``): a folder
without a manifest is taken as escaped; a manifest whose config lacks the setting comes
from an older run (no escaping, list cells joined by ``|``). Only formats the manifest
lists are read, so a stale table left by an earlier run is never preferred.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from . import schemas
from .errors import BrokenRunError, EnvironmentProblem

TABLE_NAMES = ("documents", "mentions", "entities", "cooccurrences", "links", "quotes")
#: tables a run from before they existed may lack (read back as empty tables)
OPTIONAL_TABLES = ("links", "quotes")


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


# ------------------------------------------------------------------ CSV cell encoding

#: a text cell starting with one of these is escaped with a leading ``'`` (OWASP "CSV
#: Injection"); ``'`` itself is in the set so that escaping is a bijection
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r", "'")


def escape_formula(value: str) -> str:
    """``value`` with a leading ``'`` if a spreadsheet could take it for a formula.

    >>> escape_formula("=1+1"), escape_formula("'quoted"), escape_formula("Putin")
    ("'=1+1", "''quoted", 'Putin')
    """
    return "'" + value if value.startswith(FORMULA_PREFIXES) else value


def unescape_formula(value: str) -> str:
    """Undo :func:`escape_formula` exactly: every escaped cell, and only those, start with ``'``."""
    return value[1:] if value.startswith("'") else value


_LIST_JSON = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))  # one encoder for every cell


def _json_list(values: list[str]) -> str:
    return _LIST_JSON.encode(list(values))


def _parse_list(cell: str, legacy: bool) -> list[str]:
    """A list cell: a JSON array of strings, or (older runs) names joined by ``|``."""
    if not cell:
        return []
    if not legacy and cell.startswith("["):
        try:
            value = json.loads(cell)
        except ValueError:
            value = None
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return value
    return cell.split("|")


def _csv_schema(table: str) -> pa.Schema:
    """The Arrow schema of a table's CSV rendering: list columns become JSON text."""
    return pa.schema([pa.field(n, pa.string() if t == schemas.LIST else t, nullable=nul)
                      for n, t, nul in schemas.spec(table)])


def _escape_formulas(values: pa.ChunkedArray | pa.Array) -> pa.ChunkedArray | pa.Array:
    """:func:`escape_formula` over a whole string column, with Arrow's kernels."""
    import pyarrow.compute as pc

    risky = pc.fill_null(pc.starts_with(values, FORMULA_PREFIXES[0]), False)
    for prefix in FORMULA_PREFIXES[1:]:
        risky = pc.or_(risky, pc.fill_null(pc.starts_with(values, prefix), False))
    if not pc.any(risky).as_py():  # most columns of most parts: no copy of the column
        return values
    return pc.if_else(risky, pc.binary_join_element_wise("'", values, ""), values)


def _csv_part(t: pa.Table, table: str, escape_formulas: bool) -> pa.Table:
    """A part (as :func:`_as_arrow` gives it) in its CSV rendering: list cells as JSON
    text, text cells escaped where asked."""
    arrays = []
    for name, typ, _ in schemas.spec(table):
        col = t.column(name)
        if typ not in (schemas.STRING, schemas.LIST):
            arrays.append(col)  # numbers stay numbers: written plain, never escaped
            continue
        if typ == schemas.LIST:
            col = pa.array([_json_list(v or []) for v in col.to_pylist()], type=pa.string())
        if escape_formulas:
            col = _escape_formulas(col.cast(pa.string()))
        arrays.append(col)
    return pa.Table.from_arrays(arrays, schema=_csv_schema(table))


# ------------------------------------------------------------------------ writing


def write_table(
    df: pd.DataFrame, table: str, out_dir: Path, formats: Iterable[str], *, escape_formulas: bool = True
) -> list[Path]:
    """Write one in-memory table in each format; return the final paths. The documents
    table keeps the extra (metadata) columns the frame has beyond the contract."""
    if str(table) in EXTENSIBLE and not getattr(table, "extra", ()):
        table = _with_file_extras(table, [str(c) for c in df.columns])
    return write_table_parts([df], table, out_dir, formats, escape_formulas=escape_formulas)


def write_table_parts(
    parts: Iterable[pd.DataFrame | Path],
    table: str,
    out_dir: Path,
    formats: Iterable[str],
    *,
    escape_formulas: bool = True,
) -> list[Path]:
    """Stream a table made of parts (frames, or Parquet files of the same schema) into
    each format without holding all parts at once.

    ``escape_formulas`` (``output.csv_escape_formulas``) escapes CSV text cells that a
    spreadsheet would run as formulas; record it in the run's manifest so that
    :func:`read_table` can undo it (see the module docstring)."""
    out_dir = Path(out_dir)
    formats = list(formats)
    parts = list(parts)
    schema = schemas.arrow_schema(table)
    finals = {fmt: out_dir / f"{table}.{fmt}" for fmt in ("parquet", "csv") if fmt in formats}
    with ExitStack() as stack:
        parquet = csv = None
        if "parquet" in finals:
            tmp = stack.enter_context(atomic_path(finals["parquet"]))
            parquet = stack.enter_context(pq.ParquetWriter(tmp, schema))
            parquet.write_table(pa.Table.from_batches([], schema=schema))
        if "csv" in finals:
            # pyarrow quotes every string (so ``,``, ``"``, ``\n`` and a bare ``\r`` survive;
            # pandas' QUOTE_MINIMAL leaves a bare ``\r`` unquoted), writes numbers plain and a
            # null as an empty unquoted field, which reads back apart from a quoted "".
            options = pacsv.WriteOptions(include_header=False, quoting_style="needed")
            tmp = stack.enter_context(atomic_path(finals["csv"]))
            fh = stack.enter_context(open(tmp, "wb"))
            fh.write((",".join(schemas.columns(table)) + "\n").encode("utf-8"))
            csv = stack.enter_context(pacsv.CSVWriter(fh, _csv_schema(table), write_options=options))
        for part in parts:  # each part read once for both formats
            t = _as_arrow(part, table)
            if parquet is not None:
                parquet.write_table(t)
            if csv is not None:
                csv.write_table(_csv_part(t, table, escape_formulas))
    return list(finals.values())


class TableWriter:
    """Writes a run's tables into ``out_dir`` in background threads, each as soon as it is
    handed over, while the caller goes on (Arrow's Parquet and CSV writers release the
    GIL, so the writing overlaps the caller's work). :meth:`wait` returns once all are
    written and raises the first failure; leaving the context waits too, and drops what
    has not started when the caller failed. One file is never written by two threads."""

    def __init__(self, out_dir: Path, formats: Iterable[str], *, escape_formulas: bool = True, threads: int = 2):
        from concurrent.futures import ThreadPoolExecutor

        self.out_dir = Path(out_dir)
        self.formats = list(formats)
        self.escape_formulas = escape_formulas
        self._pool = ThreadPoolExecutor(threads, thread_name_prefix="pipeline-write")
        self._futures: list = []
        self._tables: set[str] = set()

    def __enter__(self) -> "TableWriter":
        return self

    def __exit__(self, exc_type, *exc) -> None:
        self._pool.shutdown(wait=True, cancel_futures=exc_type is not None)

    def submit(self, data: pd.DataFrame | Iterable[pd.DataFrame | Path], table: str) -> None:
        """Write ``table`` from a frame (:func:`write_table`) or a list of parts
        (:func:`write_table_parts`)."""
        if str(table) in self._tables:
            raise ValueError(f"the {table} table is already being written")
        self._tables.add(str(table))
        fn = write_table if isinstance(data, pd.DataFrame) else write_table_parts
        self._futures.append(self._pool.submit(fn, data, table, self.out_dir, self.formats,
                                               escape_formulas=self.escape_formulas))

    def wait(self) -> None:
        for future in self._futures:
            future.result()


def record_layout(manifest: dict[str, Any], formats: Iterable[str], escape_formulas: bool) -> dict[str, Any]:
    """A copy of ``manifest`` whose ``config.output`` says which formats were written and
    whether the CSV cells were escaped, as :func:`read_table` expects to find it."""
    out = dict(manifest)
    config = dict(out.get("config") or {})
    output = dict(config.get("output") or {})
    output.update(formats=list(formats), csv_escape_formulas=bool(escape_formulas))
    config["output"] = output
    out["config"] = config
    return out


def _as_arrow(part: pd.DataFrame | Path, table: str) -> pa.Table:
    if isinstance(part, (str, Path)):
        return pq.read_table(part).select(schemas.columns(table)).cast(schemas.arrow_schema(table))
    return schemas.to_arrow(part, table)


# ------------------------------------------------------------------------ reading


@dataclass(frozen=True)
class _Layout:
    """How a run folder's tables were written, as its manifest says."""

    formats: tuple[str, ...] = ("parquet", "csv")
    escaped: bool = True  # CSV text cells carry the formula escape
    legacy: bool = False  # an older run: no escaping, list cells joined by "|"


def read_manifest(run_dir: Path) -> dict[str, Any] | None:
    """``run_dir/manifest.json`` as a dict, None when there is none.

    Raises :class:`BrokenRunError` when it exists but is not a JSON object."""
    path = Path(run_dir) / "manifest.json"
    if not path.exists():
        return None
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except PermissionError as exc:
        raise EnvironmentProblem(f"{path}: cannot be read ({exc.strerror})") from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise BrokenRunError(f"{path}: not a readable JSON manifest ({_short(exc)})") from None
    if not isinstance(manifest, dict):
        raise BrokenRunError(f"{path}: not a JSON object")
    return manifest


def _layout(manifest: dict[str, Any] | None) -> _Layout:
    config = (manifest or {}).get("config")
    output = config.get("output") if isinstance(config, dict) else None
    if not isinstance(output, dict):
        return _Layout()  # no manifest, or one written without a config: the default
    formats = output.get("formats")
    if isinstance(formats, str):
        formats = [formats]
    if not (isinstance(formats, list) and formats and all(f in ("csv", "parquet") for f in formats)):
        formats = ["parquet", "csv"]
    ordered = tuple(f for f in ("parquet", "csv") if f in formats)
    escaped = output.get("csv_escape_formulas")
    if escaped is None:  # a run from before the setting existed
        return _Layout(formats=ordered, escaped=False, legacy=True)
    return _Layout(formats=ordered, escaped=bool(escaped))


def table_files(run_dir: Path) -> list[Path]:
    """The table files (any format) present in ``run_dir``."""
    run_dir = Path(run_dir)
    return [run_dir / f"{t}.{fmt}" for t in TABLE_NAMES for fmt in ("parquet", "csv")
            if (run_dir / f"{t}.{fmt}").is_file()]


def read_table(run_dir: Path, table: str) -> pd.DataFrame:
    """Read a table of a finished run back, exactly as it was written.

    Parquet is preferred, CSV otherwise, but only formats that the run's manifest lists
    (so a stale file left by an older run in the folder is never read). CSV cells are
    unescaped and list cells parsed. A missing, truncated or edited table raises
    :class:`BrokenRunError` naming the file and what is wrong."""
    run_dir = Path(run_dir)
    layout = _layout(read_manifest(run_dir))
    for fmt in layout.formats:
        path = run_dir / f"{table}.{fmt}"
        if path.is_file():
            try:
                return _read_parquet(path, table) if fmt == "parquet" else _read_csv(path, table, layout)
            except PermissionError as exc:
                raise EnvironmentProblem(f"{path}: cannot be read ({exc.strerror})") from None
    names = " or ".join(f"{table}.{fmt}" for fmt in layout.formats)
    raise BrokenRunError(f"{run_dir} lacks {names}; the run is incomplete or the file was removed")


def read_table_file(path: Path, table: str) -> pd.DataFrame:
    """Read one table file (``.parquet`` or ``.csv``, any name) as ``table``, with the
    CSV layout (escaping, lists) that the manifest beside it records."""
    path = Path(path)
    try:
        if path.suffix == ".parquet":
            return _read_parquet(path, table)
        if path.suffix == ".csv":
            return _read_csv(path, table, _layout(read_manifest(path.parent)))
    except PermissionError as exc:
        raise EnvironmentProblem(f"{path}: cannot be read ({exc.strerror})") from None
    raise BrokenRunError(f"{path}: not a .parquet or .csv table")


def _short(exc: BaseException, limit: int = 300) -> str:
    text = " ".join(str(exc).split())
    return text if len(text) <= limit else text[:limit] + " ..."


def _read_parquet(path: Path, table: str) -> pd.DataFrame:
    try:
        t = pq.read_table(path)
    except (pa.ArrowException, OSError) as exc:
        if isinstance(exc, PermissionError):
            raise
        raise BrokenRunError(f"{path}: not a readable Parquet file, truncated or damaged ({_short(exc)})") from None
    return _frame(t, table, path, unescape=False, legacy=False)


def _check_csv_ends(path: Path) -> None:
    """Catch a CSV cut short, which pyarrow would read without a word: an unclosed quote
    at the end of the file is read as a complete (shortened) last field.

    In a well-formed CSV every ``"`` belongs to a pair (quotes around a field, doubled
    quotes inside it), and a file this module writes ends with a line break."""
    quotes, last = 0, b""
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 24):
            quotes += chunk.count(b'"')
            last = chunk[-1:]
    if quotes % 2:
        raise BrokenRunError(f"{path}: a quoted field is never closed; the file was cut short or edited")
    if last and last != b"\n":
        raise BrokenRunError(f"{path}: does not end with a line break; the file was cut short or edited")


#: tables whose files may hold extra columns beyond the contract (metadata of the input)
EXTENSIBLE = ("documents",)


def _with_file_extras(table: str, names: list[str]) -> str:
    """``documents`` with the extra columns a file holds (an input's metadata)."""
    if str(table) not in EXTENSIBLE:
        return table
    known = set(schemas.columns(str(table)))
    return schemas.with_extra(table, [n for n in names if n not in known])


def _read_csv(path: Path, table: str, layout: _Layout) -> pd.DataFrame:
    _check_csv_ends(path)
    if str(table) in EXTENSIBLE:
        import csv as _csv

        try:
            with open(path, encoding="utf-8", newline="") as fh:
                header = next(_csv.reader([fh.readline()]), [])
        except (UnicodeDecodeError, _csv.Error) as exc:
            raise BrokenRunError(f"{path}: not readable as the {table} table ({_short(exc)})") from None
        table = _with_file_extras(table, header)
    types = {n: (pa.string() if t == schemas.LIST else t) for n, t, _ in schemas.spec(table)}
    # a block must hold the longest row (a whole document's text): one block per file
    block = min(max(path.stat().st_size + 1, 1 << 20), 2**31 - 1)
    try:
        t = pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(block_size=block, use_threads=False),
            parse_options=pacsv.ParseOptions(newlines_in_values=True),
            convert_options=pacsv.ConvertOptions(
                column_types=types, strings_can_be_null=True, null_values=[""],
                quoted_strings_can_be_null=False,  # "" is the empty string, an empty field null
            ),
        )
        t.column_names  # noqa: B018 -- header names are decoded here: not UTF-8 fails now
    except (pa.ArrowException, OSError, UnicodeDecodeError) as exc:
        if isinstance(exc, PermissionError):
            raise
        raise BrokenRunError(f"{path}: not readable as the {table} table ({_short(exc)})") from None
    return _frame(t, table, path, unescape=layout.escaped, legacy=layout.legacy)


def _frame(t: pa.Table, table: str, path: Path, *, unescape: bool, legacy: bool) -> pd.DataFrame:
    """Check an Arrow table read from ``path`` against the contract and make the frame."""
    names = t.column_names
    table = _with_file_extras(table, names)
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        raise BrokenRunError(f"{path}: column(s) {', '.join(dupes)} appear more than once")
    missing = [n for n, _, nullable in schemas.spec(table) if n not in names and not nullable]
    if missing:
        raise BrokenRunError(f"{path}: lacks column(s) {', '.join(missing)} of the {table} table")
    data: dict[str, list] = {}
    for name, typ, nullable in schemas.spec(table):
        if name not in names:  # a nullable column added after the run was written
            data[name] = [None] * t.num_rows
            continue
        col = t.column(name)
        want = pa.string() if typ == schemas.LIST and col.type == pa.string() else typ
        try:
            col = col.cast(want)
        except (pa.ArrowException, ValueError) as exc:
            raise BrokenRunError(f"{path}: column {name!r} is not of type {typ} ({_short(exc)})") from None
        values = col.to_pylist()
        if typ in (schemas.INT, schemas.FLOAT):
            if not nullable and col.null_count:
                row = values.index(None) + 1
                raise BrokenRunError(f"{path}: column {name!r} is empty in row {row}; it needs a number")
        elif typ == schemas.STRING:
            if unescape:
                values = [v if v is None else unescape_formula(v) for v in values]
            if not nullable:
                values = ["" if v is None else v for v in values]
        elif col.type == pa.string():  # a list column read from CSV
            if unescape:
                values = [v if v is None else unescape_formula(v) for v in values]
            values = [_parse_list(v or "", legacy) for v in values]
        else:
            values = [v or [] for v in values]
        data[name] = values
    try:
        return schemas.conform(pd.DataFrame(data, columns=schemas.columns(table)), table)
    except (ValueError, TypeError, KeyError, OverflowError) as exc:
        raise BrokenRunError(f"{path}: cannot be read as the {table} table ({_short(exc)})") from None
