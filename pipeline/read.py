"""Inputs -> raw documents: text files in a folder, one text file, JSONL/CSV/Parquet tables,
or texts in memory.

Everything streams: files are read one at a time, tables line by line (JSONL, CSV) or
row group by row group (Parquet), so memory holds one document (and, with
``duplicate_ids = "suffix"``, the set of ids seen). Nothing disappears silently: a file
that cannot be decoded or a malformed table line becomes a document with status
``error`` and a message saying why; with ``input.strict`` a malformed line fails the run.

A folder is read safely: only regular files are opened (FIFOs, sockets and devices are
refused from ``stat`` alone, so nothing blocks), symbolic links to files outside the
folder are refused unless ``input.follow_outside_symlinks``, broken links, unreadable
files and folders and symlinked folders (never followed) are error documents, hidden
folders are skipped with a warning, and names that are not UTF-8 are escaped (``\\xNN``).
A CSV quote left open cannot swallow the rows after it (see :func:`_csv_records`).

The text of a document is never changed here; repairs for the model happen in
:mod:`pipeline.normalize`, and what was noticed (detected encoding, mojibake, HTML) goes
into :attr:`RawDoc.notes`.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import json
import logging
import math
import os
import re
import stat
import sys
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from fnmatch import fnmatchcase
from pathlib import Path
from typing import Any

from .config import InputConfig
from .errors import EnvironmentProblem, InputError
from .normalize import find_html, looks_like_mojibake

log = logging.getLogger("pipeline")

__all__ = ["RawDoc", "iter_documents", "documents_from_texts", "check_input", "input_fingerprint",
           "meta_columns", "parse_date"]

TABLE_KINDS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".csv": "csv", ".tsv": "csv", ".parquet": "parquet"}
TEXT_SUFFIXES = (".txt", ".text", ".md", ".htm", ".html")
_MAX_LISTED = 20


@dataclass
class RawDoc:
    """One input document before normalization."""

    doc_id: str
    source: str  # file path (as given / relative to it) or "table.jsonl:line 17"
    text: str = ""  # the decoded original text ("" when status is error or empty)
    status: str = "ok"  # ok | empty | error
    error: str | None = None  # what went wrong and what to do, when not ok
    encoding: str | None = None  # "utf-8", "utf-8-sig", "cp1252", ...; None for tables/memory
    notes: list[str] = field(default_factory=list)
    date: str | None = None  # from a leading " date 2023-09" token pair
    hidden_spans: list[tuple[int, int]] = field(default_factory=list)  # the model must not see these
    meta: dict[str, str | None] = field(default_factory=dict)  # other columns of a table input


# --------------------------------------------------------------------------- text checks

_CONTROL_BYTES = bytes(b for b in range(32) if b not in (9, 10, 12, 13)) + b"\x7f"
_NOT_CONTROL = bytes(b for b in range(256) if b not in _CONTROL_BYTES)
_CONTROL_RE = re.compile("[" + re.escape(_CONTROL_BYTES.decode("ascii")) + "]")
_SURROGATE_RE = re.compile("[\ud800-\udfff]")
_DATE_RE = re.compile(r"\s*(date\s+(\d{4}-(?:0[1-9]|1[0-2])(?:-(?:0[1-9]|[12]\d|3[01]))?))(?=\s|\Z)")


def _pct(ratio: float) -> str:
    return f"{ratio:.0%}" if ratio >= 0.01 or ratio == 0 else f"{ratio:.1%}"


def _binary_problem(n_control: int, n_total: int, nul_at: int, cfg: InputConfig, unit: str) -> str | None:
    ratio = n_control / n_total if n_total else 0.0
    if nul_at < 0 and ratio <= cfg.max_control_ratio:
        return None
    msg = f"not valid text: {_pct(ratio)} control {unit}"
    if nul_at >= 0:
        msg += f", NUL at {unit[:-1]} {nul_at}"
    return msg + " (a binary file?)"


def _text_problem(text: str, cfg: InputConfig) -> str | None:
    """Binary-looking content in decoded text (NULs, too many control characters)."""
    n_control = len(_CONTROL_RE.findall(text))
    if not n_control:
        return None
    return _binary_problem(n_control, len(text), text.find("\x00"), cfg, "characters")


def _finish(doc: RawDoc, text: str | None, cfg: InputConfig) -> RawDoc:
    """Fill in status, date line, notes of a document whose text has been decoded."""
    if text is None or not text.strip():
        doc.status, doc.text = "empty", ""
        return doc
    problem = _text_problem(text, cfg)
    if problem:
        doc.status, doc.error, doc.text = "error", problem, ""
        return doc
    if _SURROGATE_RE.search(text):
        # lone surrogates (from JSON "\ud800" escapes) cannot be written as UTF-8
        text = _SURROGATE_RE.sub("\ufffd", text)
        doc.notes.append("lone surrogates replaced by U+FFFD")
    doc.text = text
    if cfg.date_line:
        m = _DATE_RE.match(text)
        if m:
            doc.date = m.group(2)
            doc.hidden_spans = [m.span(1)]
            if not text[m.end() :].strip():
                doc.status, doc.text, doc.hidden_spans = "empty", "", []
                return doc
    if looks_like_mojibake(text):
        doc.notes.append("mojibake")
    if cfg.html != "keep" and find_html(text):
        doc.notes.append("html")
    return doc


# --------------------------------------------------------------------------- decoding


def _canonical(encoding: str) -> str:
    try:
        return codecs.lookup(encoding).name
    except LookupError:
        return encoding


def _detect(data: bytes) -> str | None:
    """charset-normalizer's best guess on a sample, preferring cp1252 (German news) when
    cp1252 gives the same text as the guess."""
    from charset_normalizer import from_bytes

    sample = data[:200_000]
    best = from_bytes(sample).best()
    if best is None:
        return None
    if "cp1252" in best.could_be_from_charset:
        return "cp1252"
    # short texts fool statistical detection (German cp1252 read as cp775/cp1250): take
    # cp1252 when it decodes and its non-ASCII characters are Western European letters
    # and typography at least as often as under the guess
    try:
        as_1252 = sample.decode("cp1252")
    except UnicodeDecodeError:
        return best.encoding
    share = _western_share(as_1252)
    if share >= 0.9 and share >= _western_share(sample.decode(best.encoding, errors="replace")):
        return "cp1252"
    return best.encoding


_WESTERN = frozenset("äöüÄÖÜßẞéèêëàâáçïîíìôóòûùúÉÈÊÀÂÁÇÎÍÔÓÛÚñÑåÅøØæÆœŒ"
                     "„“”‚‘’«»‹›–—…€£°§²³µ·×÷¡¿\u00a0\u00ad")


def _western_share(text: str) -> float:
    """Share of non-ASCII characters that are common in German/Western European text."""
    non_ascii = [c for c in text if c > "\x7f"]
    return sum(c in _WESTERN for c in non_ascii) / len(non_ascii) if non_ascii else 1.0


def decode_bytes(data: bytes, cfg: InputConfig) -> tuple[str | None, str | None, list[str], str | None]:
    """Decode a text file's bytes: ``(text, encoding, notes, error)``.

    UTF-8 first (a BOM is dropped and reported as ``utf-8-sig``), UTF-16/32 with a BOM,
    else charset-normalizer detection; ``cfg.encoding`` other than "auto" forces a codec.
    """
    notes: list[str] = []
    if not data or data.isspace():
        return None, None, notes, None
    if cfg.encoding != "auto":
        enc = _canonical(cfg.encoding)
        try:
            text = data.decode("utf-8-sig" if enc == "utf-8" else enc)
        except UnicodeError as exc:  # idna and friends raise plain UnicodeError
            where = f"at byte {exc.start} " if isinstance(exc, UnicodeDecodeError) else ""
            return None, enc, notes, (f"undecodable {where}as {enc} "
                                      f"(input.encoding = {cfg.encoding!r}; try \"auto\")")
        if enc == "utf-8" and data.startswith(codecs.BOM_UTF8):
            enc = "utf-8-sig"
        return text, enc, notes, None

    for bom, enc in ((codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
                     (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16")):
        if data.startswith(bom):
            try:
                return data.decode(enc), enc, notes, None
            except UnicodeDecodeError:
                break  # not really UTF-16/32; go on as with any other bytes

    n_control = len(data.translate(None, _NOT_CONTROL))
    problem = _binary_problem(n_control, len(data), data.find(b"\x00"), cfg, "bytes")
    if problem:
        return None, None, notes, problem

    try:
        if data.startswith(codecs.BOM_UTF8):
            return data[len(codecs.BOM_UTF8) :].decode("utf-8"), "utf-8-sig", notes, None
        return data.decode("utf-8"), "utf-8", notes, None
    except UnicodeDecodeError as exc:
        utf8_error = exc

    # mostly UTF-8 with a few stray bytes: keep UTF-8 rather than turn every umlaut into mojibake
    body = data[len(codecs.BOM_UTF8) :] if data.startswith(codecs.BOM_UTF8) else data
    lenient = body.decode("utf-8", errors="replace")
    n_bad = lenient.count("\ufffd") - body.count("\ufffd".encode())
    n_good = sum(1 for c in lenient if c > "\x7f" and c != "\ufffd") if n_bad < 1000 else 0
    if n_good >= 3 and n_bad <= max(1, n_good // 20):
        notes.append(f"{n_bad} invalid UTF-8 byte sequence(s) at byte {utf8_error.start} and later "
                     "replaced by U+FFFD")
        return lenient, "utf-8", notes, None

    enc = _detect(data)
    if enc:
        try:
            text = data.decode(enc)
        except UnicodeDecodeError:
            enc2 = _detect_full(data)
            if enc2 is None:
                enc = None
            else:
                enc, text = enc2, data.decode(enc2)
    if not enc:
        return None, None, notes, (f"undecodable at byte {utf8_error.start}: not UTF-8 and no "
                                   "other encoding fits (set input.encoding to force one)")
    enc = _canonical(enc)
    notes.append(f"decoded as {enc} (detected)")
    return text, enc, notes, None


def _detect_full(data: bytes) -> str | None:
    from charset_normalizer import from_bytes

    best = from_bytes(data).best()
    return None if best is None else best.encoding


# --------------------------------------------------------------------------- inputs


def _printable(s: str) -> str:
    """``s`` as valid UTF-8 text: bytes of a file name that are not UTF-8 (which Python
    carries as surrogate escapes) become ``\\xNN``, so ids, sources and messages can be
    written to Parquet/CSV and printed.

    >>> _printable("caf\\udce9.txt")
    'caf\\\\xe9.txt'
    """
    if not _SURROGATE_RE.search(s):
        return s
    try:
        return s.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    except UnicodeEncodeError:  # a surrogate that no file name holds: escape it as \udNNN
        return s.encode("utf-8", "backslashreplace").decode("utf-8")


def _name_id(rel: str) -> tuple[str, list[str]]:
    """The document id of a file name and the note saying it was escaped, if it was."""
    doc_id = _printable(rel)
    if doc_id == rel:
        return rel, []
    return doc_id, ["path is not valid UTF-8; its invalid bytes are written as \\xNN in doc_id"]


def _file_kind(mode: int) -> str:
    if stat.S_ISFIFO(mode):
        return "a named pipe (FIFO)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode):
        return "a character device"
    if stat.S_ISBLK(mode):
        return "a block device"
    if stat.S_ISDIR(mode):
        return "a folder"
    return "not a regular file"


def _input_kind(path: Path, cfg: InputConfig) -> str:
    """"dir", "text", "jsonl", "csv" or "parquet"; InputError when missing, unknown or not
    a regular file (a FIFO is refused without being opened: opening it would block)."""
    shown = _printable(str(path))
    try:
        st = os.stat(path)
    except FileNotFoundError:
        broken = " (a broken symbolic link)" if os.path.islink(path) else ""
        raise InputError(f"input not found: {shown}{broken}") from None
    except PermissionError:
        raise EnvironmentProblem(f"cannot read the input {shown}: permission denied") from None
    except OSError as exc:
        raise InputError(f"cannot read the input {shown}: {exc.strerror or exc}") from None
    if stat.S_ISDIR(st.st_mode):
        return "dir"
    if not stat.S_ISREG(st.st_mode):
        raise InputError(f"input {shown} is {_file_kind(st.st_mode)}, not a file or folder; "
                         "only regular files and folders are read")
    suffix = path.suffix.lower()
    if suffix in TABLE_KINDS:
        return TABLE_KINDS[suffix]
    if suffix in TEXT_SUFFIXES or glob_match(path.name, cfg.glob.rsplit("/", 1)[-1]):
        return "text"
    raise InputError(
        f"unknown input type: {shown} (expected a folder, a text file matching {cfg.glob!r} or "
        f"ending in {', '.join(TEXT_SUFFIXES)}, or a table: {', '.join(TABLE_KINDS)})")


def glob_match(rel: str, pattern: str) -> bool:
    """Whether the relative POSIX path ``rel`` of a file in an input folder matches
    ``input.glob``.

    - A pattern without ``/`` is matched against the file name, at any depth:
      ``*.txt`` takes every ``.txt`` file in the folder and all its subfolders.
    - A pattern with ``/`` is matched against the whole path from the input folder,
      segment by segment: ``*``, ``?`` and ``[...]`` never cross a ``/``, and a segment
      ``**`` stands for any number of folders, none included. ``sub/*.txt`` takes the
      files directly in ``sub/``; ``sub/**/*.txt`` those in ``sub/`` and below;
      ``**/*.txt`` the same as ``*.txt``; ``sub/**`` every file below ``sub/``.

    Matching is case-sensitive (``*.TXT`` does not take ``a.txt``). Hidden folders are
    never walked, whatever the pattern.

    >>> [glob_match(p, "sub/**/*.txt") for p in ("sub/a.txt", "sub/x/y/a.txt", "a.txt", "other/sub/a.txt")]
    [True, True, False, False]
    >>> glob_match("x/y/a.txt", "*.txt"), glob_match("x/a.txt", "sub/*.txt")
    (True, False)
    """
    parts = rel.split("/")
    if "/" not in pattern:
        return fnmatchcase(parts[-1], pattern)
    segs = [s for s in pattern.split("/") if s not in ("", ".")]
    reach = {0}  # how many path segments the pattern's segments so far can consume
    for k, seg in enumerate(segs):
        if seg == "**":
            last = k == len(segs) - 1  # a trailing ** takes at least one segment
            reach = set(range(min(reach) + last, len(parts) + 1))
        else:
            reach = {j + 1 for j in reach if j < len(parts) and fnmatchcase(parts[j], seg)}
        if not reach:
            return False
    return len(parts) in reach


@dataclass
class _Entry:
    """One row a folder input yields: a file whose name matched the glob (read later,
    when its type and symlink target are checked), or a folder that could not be walked
    (``error`` says why)."""

    rel: str  # relative POSIX path; may hold surrogate escapes (names that are not UTF-8)
    error: str | None = None


def _walk(root: Path, pattern: str, hidden: list[str] | None = None) -> list[_Entry]:
    """The entries under ``root`` whose relative path matches ``pattern`` (see
    :func:`glob_match`), sorted by path.

    Every matching name is an entry, whatever it is (regular file, symlink, FIFO, ...;
    :func:`_read_entry` decides). Folders that cannot be listed and symlinked folders
    (not followed) are entries with an error, whatever the pattern. Hidden folders (a
    name starting with ".") are skipped and their paths appended to ``hidden``.
    """
    out: list[_Entry] = []
    root_s = os.fspath(root)

    def rel_of(p: str) -> str:
        return Path(os.path.relpath(p, root_s)).as_posix()

    def onerror(exc: OSError) -> None:
        where = exc.filename if isinstance(exc.filename, str) else root_s
        if os.path.normpath(where) == os.path.normpath(root_s):
            msg = f"cannot read the input folder {_printable(root_s)}: {exc.strerror or exc}"
            if isinstance(exc, PermissionError):
                raise EnvironmentProblem(msg) from None
            raise InputError(msg) from None
        out.append(_Entry(rel_of(where) + "/", f"cannot read the folder: {exc.strerror or exc}; "
                                               "its files are not read"))

    for dirpath, dirnames, filenames in os.walk(root_s, onerror=onerror):
        keep = []
        for d in dirnames:
            rel = rel_of(os.path.join(dirpath, d))
            if d.startswith("."):
                if hidden is not None:
                    hidden.append(rel + "/")
            elif os.path.islink(os.path.join(dirpath, d)):
                out.append(_Entry(rel + "/", "symbolic link to a folder, not followed (give the "
                                             "folder itself as the input, or copy its files in)"))
            else:
                keep.append(d)
        dirnames[:] = keep
        rel_dir = rel_of(dirpath)
        for name in filenames:
            rel = name if rel_dir == "." else f"{rel_dir}/{name}"
            if glob_match(rel, pattern):
                out.append(_Entry(rel))
    out.sort(key=lambda e: e.rel)
    return out


def _check_encoding(cfg: InputConfig) -> None:
    if cfg.encoding == "auto":
        return
    try:
        info = codecs.lookup(cfg.encoding)
    except LookupError:
        raise InputError(f"unknown encoding input.encoding = {cfg.encoding!r} "
                         "(use \"auto\" or a Python codec name such as \"cp1252\")") from None
    # rot13, base64, zlib, hex, ... are codecs but not text encodings; "undefined" always fails
    if not getattr(info, "_is_text_encoding", True) or info.name == "undefined":
        raise InputError(f"input.encoding = {cfg.encoding!r} is not a text encoding "
                         "(use \"auto\" or a text codec such as \"utf-8\" or \"cp1252\")")


def _missing_column(path: Path, what: str, col: str, columns: Iterable[str], setting: str) -> InputError:
    cols = ", ".join(repr(c) for c in columns) or "none"
    hint = " or set input.id_col = \"\" to number the rows" if setting == "id_col" else ""
    return InputError(f"{_printable(str(path))}: no {what} column {col!r}; the columns are: {cols} "
                      f"(set input.{setting}{hint})")


def _table_columns(path: Path, kind: str) -> list[str]:
    """The column names of a table input, read cheaply (header / first object / schema)."""
    if kind == "csv":
        _csv_field_limit()
        shown = _printable(str(path))
        with _open_text_lines(path) as lines:
            try:
                header = next(_csv_reader(lines, path))
            except StopIteration:
                raise InputError(f"{shown}: empty CSV file (expected a header line)") from None
            except csv.Error as exc:
                raise InputError(f"{shown}: cannot read the CSV header: {exc} at line "
                                 f"{lines.line_no} (an unbalanced quote?)") from None
            if lines.line_no > 1:
                raise InputError(f"{shown}: the CSV header runs over {lines.line_no} lines "
                                 "(an unbalanced quote?)")
            return header
    if kind == "parquet":
        import pyarrow.parquet as pq

        try:
            return list(pq.ParquetFile(path).schema_arrow.names)
        except Exception as exc:
            raise InputError(f"{_printable(str(path))}: not a readable Parquet file: {exc}") from None
    # the union of the keys of the first 1,000 objects (a key some rows lack is a column)
    keys: dict[str, None] = {}
    with open(path, "rb") as fh:
        for n, raw in enumerate(fh, 1):
            if n > 1000:
                break
            try:
                obj = json.loads(raw.removeprefix(codecs.BOM_UTF8)) if raw.strip() else None
            except ValueError:
                continue
            if isinstance(obj, dict):
                keys.update(dict.fromkeys(map(str, obj)))
    if keys:
        return list(keys)
    raise InputError(f"{_printable(str(path))}: no JSON object in the first 1000 lines (expected one object per line)")


def _check_columns(path: Path, kind: str, cfg: InputConfig) -> None:
    cols = _table_columns(path, kind)
    if cfg.text_col not in cols:
        raise _missing_column(path, "text", cfg.text_col, cols, "text_col")
    if cfg.id_col and cfg.id_col not in cols:
        raise _missing_column(path, "id", cfg.id_col, cols, "id_col")
    if kind == "parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        t = pq.ParquetFile(path).schema_arrow.field(cfg.text_col).type
        if not (pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_null(t)
                or pa.types.is_string_view(t)):
            raise InputError(f"{_printable(str(path))}: text column {cfg.text_col!r} holds {t}, not strings")


_DOC_COLUMNS = ("doc_id", "source", "date", "n_chars", "n_sentences", "n_mentions", "status", "error",
                "encoding", "notes", "text")


def _select_meta(cols: Iterable[str], cfg: InputConfig, where: str) -> list[str]:
    """The columns of a table input kept as metadata in ``documents``: every column but
    the text, id and date columns (``input.keep_cols = ["*"]``), or the ones named. A
    named column that is missing, or a kept one whose name a documents column already
    has, fails with InputError."""
    cols = [str(c) for c in cols]
    used = {cfg.text_col, cfg.id_col, cfg.date_col} - {""}
    named = [c for c in cfg.keep_cols if c != "*"]
    missing = [c for c in named if c not in cols]
    if missing:
        raise InputError(f"{where}: no column(s) {', '.join(map(repr, missing))} to keep "
                         f"(input.keep_cols / --keep-cols); the columns are: {', '.join(map(repr, cols))}")
    keep = [c for c in cols if c not in used] if "*" in cfg.keep_cols else [c for c in named if c not in used]
    clash = [c for c in keep if c in _DOC_COLUMNS]
    if clash:
        raise InputError(f"{where}: column(s) {', '.join(map(repr, clash))} would clash with the documents "
                         "table's own columns; rename them, or name the columns to keep with --keep-cols")
    return list(dict.fromkeys(keep))


def meta_columns(path: str | Path, cfg: InputConfig) -> list[str]:
    """The metadata columns kept in ``documents``: a table input's other columns, or for
    text files those of the sidecar table ``input.meta_file`` (``--meta``)."""
    path = Path(path)
    kind = _input_kind(path, cfg)
    if kind in ("dir", "text"):
        if not cfg.meta_file:
            return []
        side = Path(cfg.meta_file)
        cols = [c for c in _table_columns(side, _sidecar_kind(side)) if c != _SIDECAR_KEY]
        return _select_meta(cols, cfg.model_copy(update={"id_col": "", "text_col": _SIDECAR_KEY}), str(side))
    return _select_meta(_table_columns(path, kind), cfg, str(path))


_SIDECAR_KEY = "doc_id"


def _sidecar_kind(side: Path) -> str:
    kind = TABLE_KINDS.get(side.suffix.lower())
    if kind is None or not side.is_file():
        raise InputError(f"metadata table {side} not found or not a .jsonl/.csv/.parquet file (--meta)")
    return kind


def load_sidecar(path: Path, cfg: InputConfig) -> dict[str, dict[str, Any]]:
    """The sidecar metadata table of a folder input: doc_id -> row (its ``doc_id`` column
    holds the documents' ids, their paths relative to the folder)."""
    import pandas as pd

    path = Path(path)
    kind = _sidecar_kind(path)
    cols = _table_columns(path, kind)
    if _SIDECAR_KEY not in cols:
        raise InputError(f"metadata table {path} has no {_SIDECAR_KEY!r} column to join on "
                         f"(its columns: {', '.join(map(repr, cols))})")
    if kind == "parquet":
        df = pd.read_parquet(path)
    elif kind == "csv":
        df = pd.read_csv(path, dtype=str, keep_default_na=False, sep=_delimiter(path))
    else:
        df = pd.read_json(path, lines=True, dtype=False)
    df[_SIDECAR_KEY] = df[_SIDECAR_KEY].map(_id_str)
    dup = df[_SIDECAR_KEY][df[_SIDECAR_KEY].duplicated()].unique().tolist()
    if dup:
        raise InputError(f"metadata table {path}: doc_id(s) listed twice: {', '.join(map(str, dup[:_MAX_LISTED]))}")
    return {r[_SIDECAR_KEY]: r for r in df.to_dict("records")}


def _meta_value(v: Any) -> str | None:
    """A metadata cell as text: strings as they are, numbers and booleans as written,
    lists and objects as JSON, missing values as None."""
    if _is_missing(v):
        return None
    if isinstance(v, str):
        return v
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return _id_str(v)
    if isinstance(v, (list, dict)):
        return json.dumps(v, ensure_ascii=False)
    if hasattr(v, "isoformat"):
        return v.isoformat()
    return str(v)


_DATE_FORMS = (
    (re.compile(r"^(\d{4})$"), "{0}"),
    (re.compile(r"^(\d{4})-(\d{1,2})$"), "{0}-{1:02d}"),
    (re.compile(r"^(\d{1,2})\.(\d{1,2})\.(\d{4})$"), "{2}-{1:02d}-{0:02d}"),  # 12.05.2016
    (re.compile(r"^(\d{1,2})\.(\d{4})$"), "{1}-{0:02d}"),  # 05.2016
)


def parse_date(value: Any) -> tuple[str | None, str | None]:
    """A date cell -> (ISO 8601 as precise as the input, problem). ``"2023-09"``,
    ``"2016-05-12"``, ``"2016-05-12T08:30:00+02:00"``, ``"12.05.2016"`` and dates or
    timestamps of a Parquet column are understood; anything else gives a problem.

    >>> parse_date("12.05.2016"), parse_date("2016-05-12 08:30"), parse_date("soon")[0]
    (('2016-05-12', None), ('2016-05-12T08:30:00', None), None)
    """
    import datetime as dt

    if _is_missing(value) or value == "":
        return None, None
    if isinstance(value, dt.datetime):
        return value.isoformat(), None
    if isinstance(value, dt.date):
        return value.isoformat(), None
    text = str(value).strip()
    for rx, fmt in _DATE_FORMS:
        m = rx.match(text)
        if m:
            parts = [int(g) for g in m.groups()]
            iso = fmt.format(*parts)
            try:
                dt.date.fromisoformat(iso + "-01-01"[len(iso) - 4:] if len(iso) < 10 else iso)
            except ValueError:
                break
            return iso, None
    try:
        d = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None, f"date {text[:40]!r} not understood (expected ISO 8601 such as 2016-05-12)"
    if len(text) == 10:
        return d.date().isoformat(), None
    return d.isoformat(), None


def _with_meta(doc: RawDoc, row: Mapping[str, Any], meta: list[str], cfg: InputConfig) -> RawDoc:
    """Attach the kept metadata of a table row, and its date column, to a document."""
    doc.meta = {c: _meta_value(row.get(c)) for c in meta}
    if cfg.date_col and cfg.date_col in row:
        iso, problem = parse_date(row.get(cfg.date_col))
        if iso:
            doc.date = iso
        elif problem:
            doc.notes.append(problem)
    return doc


def check_input(path: str | Path, cfg: InputConfig) -> None:
    """Fail early, with a message saying what to do, when ``path`` cannot be read as a
    whole: missing, unknown type, empty folder, missing columns, unknown encoding, or
    duplicate ids when ``duplicate_ids = "error"``."""
    path = Path(path)
    _check_encoding(cfg)
    kind = _input_kind(path, cfg)
    if kind == "dir":
        if not _walk(path, cfg.glob):
            others = [_printable(e.rel) for e in _walk(path, "*") if not e.error][:5]
            seen = f" (found e.g. {', '.join(others)}; set input.glob)" if others else " (the folder is empty)"
            raise InputError(f"no files matching {cfg.glob!r} in {_printable(str(path))}{seen}")
        return
    if kind == "text":
        return
    _check_columns(path, kind, cfg)
    # one pass over the ids; with input.strict it also finds a damaged CSV row before
    # anything is written (exit 2)
    if (cfg.id_col and cfg.duplicate_ids == "error") or (cfg.strict and kind == "csv"):
        counts: dict[str, int] = {}
        for doc_id in _table_ids(path, kind, cfg):
            counts[doc_id] = counts.get(doc_id, 0) + 1
        dups = [k for k, v in counts.items() if v > 1]
        if dups:
            more = f" and {len(dups) - _MAX_LISTED} more" if len(dups) > _MAX_LISTED else ""
            raise InputError(
                f"{_printable(str(path))}: duplicate document ids in column {cfg.id_col!r}: "
                f"{', '.join(repr(d) for d in dups[:_MAX_LISTED])}{more} "
                "(set input.duplicate_ids = \"suffix\" to rename them id~2, id~3, ...)")


def _table_ids(path: Path, kind: str, cfg: InputConfig) -> Iterator[str]:
    """The ids of a table's well-formed rows (only the id column is read); with
    ``input.strict``, InputError at a damaged CSV row."""
    if kind == "parquet":
        import pyarrow.parquet as pq

        for batch in pq.ParquetFile(path).iter_batches(columns=[cfg.id_col], batch_size=65536):
            for v in batch.column(0).to_pylist():
                if v is not None:
                    yield _id_str(v)
        return
    if kind == "csv":
        _csv_field_limit()
        with _open_text_lines(path) as lines:
            header = next(_csv_reader(lines, path), [])
            col = header.index(cfg.id_col) if cfg.id_col else -1
            for start, row, problem in _csv_records(lines, path, len(header), cfg.strict):
                if problem is not None:
                    if cfg.strict:
                        _malformed(path, start, problem, cfg)  # raises
                elif col >= 0 and row[col] != "":
                    yield row[col]
        return
    with open(path, "rb") as fh:
        for raw in fh:
            if not raw.strip():
                continue
            try:
                obj = json.loads(raw.removeprefix(codecs.BOM_UTF8))
            except ValueError:
                continue
            if isinstance(obj, dict) and obj.get(cfg.id_col) is not None:
                yield _id_str(obj[cfg.id_col])


def _id_str(v: Any) -> str:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    s = str(v)
    if _SURROGATE_RE.search(s):  # "\udcff" from JSON cannot be written as UTF-8: escape it
        s = s.encode("utf-8", "backslashreplace").decode("utf-8")
    return s


class _Ids:
    """Renames repeated ids to ``id~2``, ``id~3`` when ``duplicate_ids = "suffix"``;
    with "error" ids pass unchanged (check_input and the run refuse duplicates)."""

    def __init__(self, mode: str):
        self.suffix = mode == "suffix"
        self.seen: set[str] = set()
        self.next: dict[str, int] = {}

    def __call__(self, doc: RawDoc) -> RawDoc:
        if not self.suffix:
            return doc
        doc_id = doc.doc_id
        if doc_id in self.seen:
            k = self.next.get(doc_id, 1)
            new = doc_id
            while new in self.seen:
                k += 1
                new = f"{doc_id}~{k}"
            self.next[doc_id] = k
            doc.notes.append(f"duplicate id {doc_id!r} renamed to {new!r}")
            doc.doc_id = new
        self.seen.add(doc.doc_id)
        return doc


def iter_documents(path: str | Path, cfg: InputConfig) -> Iterator[RawDoc]:
    """Stream the documents of a folder (recursive, ``cfg.glob``, sorted by relative
    path), a text file, or a ``.jsonl`` / ``.csv`` / ``.parquet`` table.

    The input type and table columns are checked at once (InputError); files that cannot
    be read or decoded and malformed table lines come out as ``status="error"`` documents.

    In a folder, nothing that matches the glob disappears silently: symbolic links to
    files outside the folder (unless ``input.follow_outside_symlinks``), broken links,
    FIFOs, sockets and devices (never opened), unreadable files, folders that cannot be
    listed and symlinked folders (not followed) are error documents; hidden folders are
    skipped with a warning in the log. File names that are not UTF-8 are kept, their
    invalid bytes written as ``\\xNN`` in the id.
    """
    p = Path(path)
    _check_encoding(cfg)
    kind = _input_kind(p, cfg)
    if kind not in ("dir", "text"):
        _check_columns(p, kind, cfg)
    gen = {"dir": _iter_dir, "text": _iter_file, "jsonl": _iter_jsonl,
           "csv": _iter_csv, "parquet": _iter_parquet}[kind](p, cfg)
    ids = _Ids(cfg.duplicate_ids)
    return (ids(doc) for doc in gen)


class _NotRegular(Exception):
    pass


_OPEN_FLAGS = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)


def _read_regular(path: str | Path, follow: bool) -> bytes:
    """The bytes of a regular file. Opened non-blocking and checked with fstat before
    reading, so a FIFO swapped in after an earlier check does not hang the run;
    ``follow=False`` refuses a final symlink (one swapped in after the check)."""
    flags = _OPEN_FLAGS | (0 if follow else getattr(os, "O_NOFOLLOW", 0))
    fd = os.open(path, flags)
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise _NotRegular(_file_kind(mode))
        fh = os.fdopen(fd, "rb")
        fd = -1  # the file object closes it
        with fh:
            return fh.read()
    finally:
        if fd >= 0:
            os.close(fd)


def _entry_target(fp: str, real_root: str, cfg: InputConfig) -> tuple[str | None, str | None]:
    """``(path to open, None)`` for a folder entry that may be read, else ``(None, why)``:
    symlinks are resolved and refused when their target lies outside ``real_root``
    (unless ``input.follow_outside_symlinks``); only regular files are read."""
    try:
        st = os.lstat(fp)
    except OSError as exc:
        return None, f"cannot read the file: {exc.strerror or exc}"
    target = fp
    if stat.S_ISLNK(st.st_mode):
        try:
            st = os.stat(fp)
        except FileNotFoundError:
            try:
                dest = f" ({_printable(os.readlink(fp))})"
            except OSError:
                dest = ""
            return None, f"broken symbolic link: its target{dest} does not exist"
        except OSError as exc:
            return None, f"cannot follow the symbolic link: {exc.strerror or exc}"
        target = os.path.realpath(fp)
        inside = target == real_root or target.startswith(real_root.rstrip(os.sep) + os.sep)
        if not inside and not cfg.follow_outside_symlinks:
            return None, (f"symbolic link to a file outside the input folder ({_printable(target)}); "
                          "not read (set input.follow_outside_symlinks = true to read such links)")
    if not stat.S_ISREG(st.st_mode):
        return None, f"{_file_kind(st.st_mode)}, not read (only regular files are documents)"
    return target, None


def _read_file(fp: str | Path, doc_id: str, source: str, cfg: InputConfig, *, follow: bool = True,
               notes: list[str] | None = None) -> RawDoc:
    doc = RawDoc(doc_id=doc_id, source=source, notes=list(notes or []))
    try:
        data = _read_regular(fp, follow)
    except _NotRegular as exc:
        doc.status, doc.error = "error", f"{exc}, not read (only regular files are documents)"
        return doc
    except OSError as exc:
        doc.status, doc.error = "error", f"cannot read the file: {exc.strerror or exc}"
        return doc
    text, enc, dec_notes, error = decode_bytes(data, cfg)
    del data
    doc.encoding = enc
    doc.notes.extend(dec_notes)
    if error:
        doc.status, doc.error = "error", error
        return doc
    return _finish(doc, text, cfg)


def _iter_dir(root: Path, cfg: InputConfig) -> Iterator[RawDoc]:
    hidden: list[str] = []
    entries = _walk(root, cfg.glob, hidden)
    if hidden:
        shown = ", ".join(_printable(h) for h in hidden[:_MAX_LISTED])
        more = f" and {len(hidden) - _MAX_LISTED} more" if len(hidden) > _MAX_LISTED else ""
        log.warning("skipped %d hidden folder(s) in %s: %s%s (hidden folders are never read)",
                    len(hidden), _printable(str(root)), shown, more)
    real_root = os.path.realpath(root)
    side = load_sidecar(Path(cfg.meta_file), cfg) if cfg.meta_file else None
    meta = meta_columns(root, cfg) if side is not None else []
    seen: set[str] = set()

    def with_side(doc: RawDoc) -> RawDoc:
        if side is None:
            return doc
        seen.add(doc.doc_id)
        row = side.get(doc.doc_id)
        if row is None:
            doc.notes.append("no row in the metadata table")
            return doc
        return _with_meta(doc, row, meta, cfg)

    for entry in entries:
        fp = os.path.join(root, entry.rel)
        doc_id, notes = _name_id(entry.rel)
        source = _printable(fp)
        if entry.error:
            yield with_side(RawDoc(doc_id=doc_id, source=source, status="error", error=entry.error, notes=notes))
            continue
        target, problem = _entry_target(fp, real_root, cfg)
        if problem:
            yield with_side(RawDoc(doc_id=doc_id, source=source, status="error", error=problem, notes=notes))
            continue
        yield with_side(_read_file(target, doc_id, source, cfg, follow=False, notes=notes))
    if side is not None:
        unmatched = [k for k in side if k not in seen]
        if unmatched:
            log.warning("%d row(s) of the metadata table %s match no document: %s%s", len(unmatched),
                        cfg.meta_file, ", ".join(unmatched[:_MAX_LISTED]),
                        " ..." if len(unmatched) > _MAX_LISTED else "")


def _iter_file(fp: Path, cfg: InputConfig) -> Iterator[RawDoc]:
    # a single file named by the user is read even when it is a symlink
    doc_id, notes = _name_id(fp.name)
    yield _read_file(fp, doc_id, _printable(str(fp)), cfg, notes=notes)


# --------------------------------------------------------------------------- tables


class _LineDecoder:
    """Decodes a byte stream line by line: UTF-8, else cp1252 for that line (reported).

    :meth:`begin` marks the start of a CSV record; :meth:`rewind` goes back to the line
    after it, so that a record that swallowed the lines after it can be re-read."""

    def __init__(self, fh):
        self.fh = fh
        self.line_no = 0
        self.reads = 0  # lines read, re-reads included (work stays linear: see _csv_records)
        self.fallback: set[int] = set()
        self._marking = False
        self.mark: int | None = None  # byte offset after the first line since begin()

    def __iter__(self):
        return self

    def begin(self) -> None:
        self._marking, self.mark = True, None

    def rewind(self, line_no: int) -> None:
        """Go on reading after line ``line_no``, the first line since :meth:`begin`."""
        self.fh.seek(self.mark)
        self.line_no = line_no
        self.fallback = {n for n in self.fallback if n <= line_no}

    def __next__(self) -> str:
        raw = self.fh.readline()
        if not raw:
            raise StopIteration
        self.line_no += 1
        self.reads += 1
        if self._marking:
            self._marking, self.mark = False, self.fh.tell()
        if self.line_no == 1 and raw.startswith(codecs.BOM_UTF8):
            raw = raw[len(codecs.BOM_UTF8) :]
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            self.fallback.add(self.line_no)
            return raw.decode("cp1252", errors="replace")


class _open_text_lines:
    def __init__(self, path: Path):
        self.path = path

    def __enter__(self) -> _LineDecoder:
        self.fh = open(self.path, "rb")
        return _LineDecoder(self.fh)

    def __exit__(self, *exc) -> None:
        self.fh.close()


def _delimiter(path: Path) -> str:
    return "\t" if path.suffix.lower() == ".tsv" else ","


def _malformed(path: Path, n: int, msg: str, cfg: InputConfig, doc_id: str | None = None,
               unit: str = "line") -> RawDoc:
    if cfg.strict:
        raise InputError(f"{_printable(str(path))}: {msg} (input.strict is on; fix the line or "
                         "turn strict off to report such lines as failed documents)")
    return RawDoc(doc_id=doc_id or f"{_printable(path.name)}:{unit} {n}",
                  source=f"{_printable(str(path))}:{unit} {n}", status="error", error=msg)


def _type_name(v: Any) -> str:
    return {bool: "a boolean", int: "a number", float: "a number", list: "a list",
            dict: "an object"}.get(type(v), type(v).__name__)


def _iter_jsonl(path: Path, cfg: InputConfig) -> Iterator[RawDoc]:
    meta = meta_columns(path, cfg)
    record = 0
    with open(path, "rb") as fh:
        for n, raw in enumerate(fh, 1):
            if n == 1 and raw.startswith(codecs.BOM_UTF8):
                raw = raw[len(codecs.BOM_UTF8) :]
            if not raw.strip():
                continue
            record += 1
            try:
                obj = json.loads(raw)
            except UnicodeDecodeError as exc:
                yield _malformed(path, n, f"line {n} is not UTF-8 (byte {exc.start})", cfg)
                continue
            except json.JSONDecodeError as exc:
                yield _malformed(path, n, f"malformed JSON at line {n}: {exc.msg}", cfg)
                continue
            except ValueError as exc:
                yield _malformed(path, n, f"malformed JSON at line {n}: {exc}", cfg)
                continue
            if not isinstance(obj, dict):
                yield _malformed(path, n, f"line {n}: expected a JSON object, got {_type_name(obj)}", cfg)
                continue
            doc_id = _row_id(obj.get(cfg.id_col) if cfg.id_col else None, cfg, record)
            notes = []
            if doc_id is None:
                doc_id = f"{_printable(path.name)}:line {n}"
                notes.append(f"no {cfg.id_col!r} value; id made from the line number")
            if cfg.text_col not in obj:
                yield _malformed(path, n, f"line {n}: no {cfg.text_col!r} field "
                                 f"(fields: {', '.join(map(repr, list(obj)[:20]))})", cfg, doc_id)
                continue
            text = obj[cfg.text_col]
            if text is not None and not isinstance(text, str):
                yield _malformed(path, n, f"line {n}: {cfg.text_col!r} is {_type_name(text)}, "
                                 "expected a string", cfg, doc_id)
                continue
            doc = RawDoc(doc_id=doc_id, source=f"{_printable(str(path))}:line {n}", notes=notes)
            yield _with_meta(_finish(doc, text, cfg), obj, meta, cfg)


def _row_id(value: Any, cfg: InputConfig, record: int) -> str | None:
    if not cfg.id_col:
        return f"row-{record:06d}"
    if value is None or (isinstance(value, float) and math.isnan(value)) or value == "":
        return None
    return _id_str(value)


def _csv_reader(lines: _LineDecoder, path: Path):
    # strict: a quote closing a field must be followed by the delimiter or the line's end,
    # and the file must not end inside a quoted field -- what an unbalanced quote leads to
    return csv.reader(lines, delimiter=_delimiter(path), strict=True)


def _csv_records(lines: _LineDecoder, path: Path, width: int,
                 strict: bool = False) -> Iterator[tuple[int, list[str], str | None]]:
    """The records after the header: ``(first line, fields, problem)``; ``problem`` is None
    for a well-formed record, else a message (``fields`` may then be partial or empty).

    A quoted field may run across lines (an article with paragraphs). An unbalanced quote
    makes one run on over the rows after it; the csv module (strict) then stops at a quote
    followed by text or at the end of the file, or the record has the wrong number of
    fields. Such a record is reported at its first line and reading goes on from the line
    after it, so the rows it swallowed are read as rows of their own. A runaway field ends
    at the next quote that opens a field, so the lines read twice are those between two
    damaged rows: the work stays linear in the file's length (``lines.reads``).
    """
    reader = _csv_reader(lines, path)
    while True:
        start = lines.line_no + 1
        lines.begin()
        try:
            row = next(reader)
            problem = None
        except StopIteration:
            return
        except csv.Error as exc:
            row, problem = [], str(exc)
        else:
            if not row:
                continue  # blank line
            if len(row) == width:
                yield start, row, None
                continue
            problem = f"expected {width} fields, got {len(row)}"
        end = lines.line_no
        if end > start:
            then = "" if strict else "; the lines after it are read as rows of their own"
            yield start, row, (f"malformed CSV at line {start}: {problem} in a row running to line {end} "
                               f"(an unbalanced quote?){then}")
            lines.rewind(start)
        else:
            yield start, row, f"malformed CSV at line {start}: {problem}"
        reader = _csv_reader(lines, path)  # a fresh parser state after an error


def _csv_field_limit() -> None:
    if csv.field_size_limit() < 2**31 - 1:
        csv.field_size_limit(min(sys.maxsize, 2**31 - 1))  # a 20 MB article is one field


def _iter_csv(path: Path, cfg: InputConfig) -> Iterator[RawDoc]:
    _csv_field_limit()
    meta = meta_columns(path, cfg)
    name, src = _printable(path.name), _printable(str(path))
    with _open_text_lines(path) as lines:
        header = next(_csv_reader(lines, path))
        width = len(header)
        t_col = header.index(cfg.text_col)
        i_col = header.index(cfg.id_col) if cfg.id_col else -1
        record = 0
        for start, row, problem in _csv_records(lines, path, width, cfg.strict):
            record += 1
            doc_id = _row_id(row[i_col] if 0 <= i_col < len(row) else None, cfg, record)
            if problem:
                yield _malformed(path, start, problem, cfg, doc_id)
                continue
            notes = []
            if doc_id is None:
                doc_id = f"{name}:line {start}"
                notes.append(f"no {cfg.id_col!r} value; id made from the line number")
            bad = sorted(n for n in lines.fallback if start <= n <= lines.line_no)
            if bad:
                notes.append(f"line {bad[0]} is not UTF-8; decoded as cp1252")
                lines.fallback.difference_update(bad)
            doc = RawDoc(doc_id=doc_id, source=f"{src}:line {start}", notes=notes)
            yield _with_meta(_finish(doc, row[t_col], cfg), dict(zip(header, row)), meta, cfg)


def _iter_parquet(path: Path, cfg: InputConfig) -> Iterator[RawDoc]:
    import pyarrow.parquet as pq

    pf = pq.ParquetFile(path)
    meta = meta_columns(path, cfg)
    cols = [cfg.text_col] + ([cfg.id_col] if cfg.id_col and cfg.id_col != cfg.text_col else [])
    names = pf.schema_arrow.names
    more = [c for c in dict.fromkeys(meta + ([cfg.date_col] if cfg.date_col in names else [])) if c not in cols]
    record = 0
    for batch in pf.iter_batches(columns=cols + more, batch_size=256):
        texts = batch.column(0).to_pylist()
        ids = batch.column(1).to_pylist() if len(cols) > 1 else texts if cfg.id_col else None
        extra = {c: batch.column(len(cols) + j).to_pylist() for j, c in enumerate(more)}
        for k, text in enumerate(texts):
            record += 1
            doc_id = _row_id(ids[k] if ids is not None else None, cfg, record)
            notes = []
            if doc_id is None:
                doc_id = f"{_printable(path.name)}:row {record}"
                notes.append(f"no {cfg.id_col!r} value; id made from the row number")
            doc = RawDoc(doc_id=doc_id, source=f"{_printable(str(path))}:row {record}", notes=notes)
            yield _with_meta(_finish(doc, text, cfg), {c: v[k] for c, v in extra.items()}, meta, cfg)


# --------------------------------------------------------------------------- memory


def _is_missing(v: Any) -> bool:
    if v is None:
        return True
    if isinstance(v, float) and math.isnan(v):
        return True
    try:
        import pandas as pd

        return v is pd.NA or v is pd.NaT
    except ImportError:  # pragma: no cover
        return False


def documents_from_texts(
    texts: Iterable[str | None] | Mapping[str, str] | Any,
    ids: Iterable[Any] | None = None,
    cfg: InputConfig | None = None,
) -> Iterator[RawDoc]:
    """Documents from texts in memory: a list of texts (ids ``row-000001``, ... unless
    ``ids`` is given), a ``{doc_id: text}`` mapping, or a pandas DataFrame with the columns
    ``cfg.text_col`` / ``cfg.id_col`` (``id_col = ""`` numbers the rows).

    Columns and duplicate ids (``duplicate_ids = "error"``) are checked at once.
    """
    if cfg is None:
        from .config import load_config

        cfg = load_config().input
    kind = "texts"
    meta: list[str] = []
    meta_rows: list[dict] | None = None
    try:
        import pandas as pd
    except ImportError:  # pragma: no cover
        pd = None
    if pd is not None and isinstance(texts, pd.DataFrame):
        df = texts
        cols = [str(c) for c in df.columns]
        if cfg.text_col not in df.columns:
            raise _missing_column(Path("DataFrame"), "text", cfg.text_col, cols, "text_col")
        for col, setting in ((cfg.text_col, "text_col"), (cfg.id_col, "id_col")):
            n_same = cols.count(col) if col and (setting == "text_col" or ids is None) else 0
            if n_same > 1:
                raise InputError(f"DataFrame: {n_same} columns are named {col!r}; rename all but one "
                                 f"(the one to use as input.{setting})")
        if ids is None and cfg.id_col:
            if cfg.id_col not in df.columns:
                raise _missing_column(Path("DataFrame"), "id", cfg.id_col, cols, "id_col")
            ids = df[cfg.id_col].tolist()
        texts = df[cfg.text_col]
        kind = "dataframe"
        meta = _select_meta(cols, cfg, "DataFrame")
        rows = df[[c for c in dict.fromkeys(meta + ([cfg.date_col] if cfg.date_col in cols else []))]]
        meta_rows = rows.to_dict("records")
    elif isinstance(texts, Mapping):
        if ids is None:
            ids = list(texts.keys())
        texts = list(texts.values())
    elif isinstance(texts, str):
        texts = [texts]
    id_list = None
    if ids is not None:
        id_list = [None if _is_missing(v) else _id_str(v) for v in ids]
        if hasattr(texts, "__len__") and len(texts) != len(id_list):
            raise InputError(f"{len(texts)} texts but {len(id_list)} ids")
        if cfg.duplicate_ids == "error":
            counts: dict[str, int] = {}
            for v in id_list:
                if v is not None:
                    counts[v] = counts.get(v, 0) + 1
            dups = [k for k, v in counts.items() if v > 1]
            if dups:
                raise InputError(
                    f"duplicate document ids: {', '.join(map(repr, dups[:_MAX_LISTED]))}"
                    f"{f' and {len(dups) - _MAX_LISTED} more' if len(dups) > _MAX_LISTED else ''}"
                    " (set input.duplicate_ids = \"suffix\" to rename them id~2, id~3, ...)")

    def gen() -> Iterator[RawDoc]:
        fix = _Ids(cfg.duplicate_ids)
        for i, text in enumerate(texts):
            doc_id = id_list[i] if id_list is not None and i < len(id_list) else None
            doc_id = doc_id if doc_id is not None else f"row-{i + 1:06d}"
            source = f"dataframe:row {i + 1}" if kind == "dataframe" else f"texts[{i}]"
            doc = RawDoc(doc_id=doc_id, source=source)
            if _is_missing(text):
                text = None
            elif not isinstance(text, str):
                doc.status, doc.error = "error", f"text is {_type_name(text)}, expected a string"
                yield fix(doc)
                continue
            doc = _finish(doc, text, cfg)
            if meta_rows is not None:
                doc = _with_meta(doc, meta_rows[i], meta, cfg)
            yield fix(doc)

    return gen()


# --------------------------------------------------------------------------- fingerprint


def count_documents(path: str | Path, cfg: InputConfig) -> int | None:
    """How many documents ``path`` holds, when that is cheap to know (folders, single
    files, Parquet metadata); None for JSONL/CSV, which would need a full pass."""
    path = Path(path)
    kind = _input_kind(path, cfg)
    if kind == "dir":
        return len(_walk(path, cfg.glob))
    if kind == "text":
        return 1
    if kind == "parquet":
        import pyarrow.parquet as pq

        return pq.ParquetFile(path).metadata.num_rows
    return None


def _folder_stats(root: Path, pattern: str) -> Iterator[tuple[_Entry, os.stat_result | OSError | None]]:
    """Each matching entry of a folder with its ``os.stat`` (the error where that fails; None
    for an entry that is an error already), without opening any file."""
    for entry in _walk(root, pattern):
        if entry.error:
            yield entry, None
            continue
        try:
            yield entry, os.stat(os.path.join(root, entry.rel))
        except OSError as exc:  # a broken link, no permission: reported when it is read
            yield entry, exc


def input_size(path: str | Path, cfg: InputConfig) -> int | None:
    """Bytes of the input's documents as stored (a folder's matching files, a file's
    size); None where a size cannot be read. Cheap: no file is opened."""
    p = Path(path)
    try:
        if not p.is_dir():
            return os.stat(p).st_size
        return sum(st.st_size for _, st in _folder_stats(p, cfg.glob) if isinstance(st, os.stat_result))
    except OSError:
        return None


def input_fingerprint(path: str | Path, cfg: InputConfig) -> str:
    """sha256 identifying the input: for a folder, the (relative path, size, mtime_ns) of
    every matching file (and the rows that will be errors); for a single file or table,
    its bytes. FIFOs and devices are refused (InputError) without being opened."""
    p = Path(path)
    shown = _printable(str(p))
    try:
        mode = os.stat(p).st_mode
    except FileNotFoundError:
        raise InputError(f"input not found: {shown}") from None
    except PermissionError:
        raise EnvironmentProblem(f"cannot read the input {shown}: permission denied") from None
    except OSError as exc:
        raise InputError(f"cannot read the input {shown}: {exc.strerror or exc}") from None
    h = hashlib.sha256()
    if stat.S_ISDIR(mode):
        h.update(b"dir\0")
        for entry, st in _folder_stats(p, cfg.glob):
            if st is None:
                line = f"{entry.rel}\0{entry.error}\n"
            elif isinstance(st, OSError):  # a broken link, no permission: the error is its state
                line = f"{entry.rel}\0{st.errno}\n"
            else:
                line = f"{entry.rel}\0{st.st_size}\0{st.st_mtime_ns}\n"
            h.update(line.encode("utf-8", "surrogateescape"))
    elif stat.S_ISREG(mode):
        h.update(b"file\0")
        try:
            data_fh = os.fdopen(os.open(p, _OPEN_FLAGS), "rb")
        except OSError as exc:
            raise EnvironmentProblem(f"cannot read the input {shown}: {exc.strerror or exc}") from None
        with data_fh as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
    else:
        raise InputError(f"input {shown} is {_file_kind(mode)}, not a file or folder; "
                         "only regular files and folders are read")
    return h.hexdigest()
