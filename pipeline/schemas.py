"""Column names and dtypes of every table the pipeline reads or writes.

This module is the output contract: other tools read these exact names. Every stage
returns frames built with :func:`conform`, so empty input still gives typed tables.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd
import pyarrow as pa

STRING = pa.string()
INT = pa.int64()
FLOAT = pa.float64()
LIST = pa.list_(pa.string())

#: table name -> ordered (column, pyarrow type, nullable)
TABLES: dict[str, list[tuple[str, pa.DataType, bool]]] = {
    "documents": [
        ("doc_id", STRING, False),
        ("source", STRING, False),
        ("date", STRING, True),
        ("n_chars", INT, False),
        ("n_sentences", INT, False),
        ("n_mentions", INT, False),
        ("status", STRING, False),  # ok | empty | error
        ("error", STRING, True),
        ("encoding", STRING, True),  # detected encoding of file inputs
        ("notes", STRING, True),  # repairs applied: "mojibake repaired; html stripped"
        ("text", STRING, False),  # the original decoded text; all offsets point here
    ],
    "mentions": [
        ("mention_id", STRING, False),
        ("doc_id", STRING, False),
        ("sentence_index", INT, False),
        ("start_char", INT, False),
        ("end_char", INT, False),
        ("text", STRING, False),
        ("label", STRING, False),  # PER | LOC | ORG | MISC
        ("kind", STRING, False),  # name | deriv | part
        ("entity_id", STRING, True),
        ("key", STRING, True),  # normalised matching key used by the linker
        ("link_rule", STRING, True),  # the rule that attached the mention to its entity
        ("link_score", FLOAT, True),
        ("model_label", STRING, True),  # the NER model's label; `label` is the entity's (voted)
        ("affiliation", STRING, True),  # the bracket after a person's name: "SPÖ", "AUT"
        ("title", STRING, True),  # a role word glued before a person's name: "Grünen-Kandidatin"
        ("sentence_start", INT, True),  # the mention's sentence, as offsets into documents.text
        ("sentence_end", INT, True),
    ],
    "entities": [
        ("entity_id", STRING, False),
        ("label", STRING, False),
        ("canonical_name", STRING, False),
        ("aliases", LIST, False),
        ("n_mentions", INT, False),
        ("n_docs", INT, False),
        # quality checks: several_full_names, mixed_labels, lowercase_canonical
        ("qc_flags", LIST, True),
        ("roles", LIST, True),  # titles seen before its mentions, most frequent first
        ("affiliations", LIST, True),  # brackets seen after its mentions ("SPÖ"), most frequent first
        # places (LOC entities that resolve, from data shipped in packages)
        ("country_code", STRING, True),  # ISO 3166-1 alpha-2
        ("geonames_id", INT, True),
        ("latitude", FLOAT, True),
        ("longitude", FLOAT, True),
        ("place_type", STRING, True),  # country | region | city | other
    ],
    "cooccurrences": [
        ("entity_a", STRING, False),
        ("entity_b", STRING, False),
        ("n_docs", INT, False),
        ("n_sentences", INT, False),
    ],
    # who said what: quotations with their cue and speaker, offsets into documents.text
    "quotes": [
        ("quote_id", STRING, False),
        ("doc_id", STRING, False),
        ("type", STRING, False),  # direct | indirect | free_indirect | reported | indirect_free_indirect
        ("start_char", INT, False),  # the extent of the quoted text
        ("end_char", INT, False),
        ("spans", LIST, True),  # its pieces ("12-40"), for quotes interrupted by the speaker
        ("cue_start", INT, True),  # the speech verb or noun
        ("cue_end", INT, True),
        ("speaker_start", INT, True),  # the speaker phrase as written (a name, pronoun, role)
        ("speaker_end", INT, True),
        ("speaker_entity_id", STRING, True),  # the entity the speaker resolves to
        ("text", STRING, False),
    ],
    # every edge the linker applied (decision "merged") or refused ("refused", with the
    # reason): why an entity holds what it holds
    "links": [
        ("entity_a", STRING, False),  # the entity of each side after clustering
        ("entity_b", STRING, False),
        ("name_a", STRING, False),  # each side's most frequent surface
        ("name_b", STRING, False),
        ("label_a", STRING, False),
        ("label_b", STRING, False),
        ("rule", STRING, False),  # the comparison level: exact, genitive, abbreviation, ...
        ("score", FLOAT, True),
        ("decision", STRING, False),  # merged | refused
        ("reason", STRING, True),  # why a merge was refused: person_names, label_mismatch, ...
        ("n_evidence", INT, False),  # mentions behind the edge
        ("evidence", LIST, True),  # up to five of their mention ids
    ],
}

STATUSES = ("ok", "empty", "error")
LABELS = ("PER", "LOC", "ORG", "MISC")
KINDS = ("name", "deriv", "part")


class Table(str):
    """A table name that carries extra string columns after the contract's: the metadata
    columns of a table input kept in ``documents`` (``with_extra("documents", ["title"])``).
    It is the plain name everywhere else (file names, ``TABLES`` keys)."""

    extra: tuple[str, ...] = ()


def with_extra(table: str, extra) -> str:
    """``table`` with extra (nullable string) columns; the plain name when there are none."""
    extra = tuple(c for c in (extra or ()) if c not in {n for n, _, _ in TABLES[str(table)]})
    if not extra:
        return str(table)
    t = Table(str(table))
    t.extra = extra
    return t


def spec(table: str) -> list[tuple[str, pa.DataType, bool]]:
    """The (column, type, nullable) list of ``table``: the contract, then its extra columns."""
    base = TABLES[str(table)]
    return base + [(c, STRING, True) for c in getattr(table, "extra", ())]


def columns(table: str) -> list[str]:
    """The ordered column names of ``table``."""
    return [name for name, _, _ in spec(table)]


def arrow_schema(table: str) -> pa.Schema:
    """The explicit pyarrow schema used for Parquet output."""
    return pa.schema([pa.field(n, t, nullable=nul) for n, t, nul in spec(table)])


def _pandas_dtype(t: pa.DataType, nullable: bool = False) -> object:
    if t == INT:
        return "Int64" if nullable else "int64"  # pandas' nullable integer where None is allowed
    if t == FLOAT:
        return "float64"
    if t == STRING:
        return "object"
    return "object"


def empty(table: str) -> pd.DataFrame:
    """An empty, correctly typed frame."""
    return pd.DataFrame({n: pd.Series([], dtype=_pandas_dtype(t, nul)) for n, t, nul in spec(table)})


def conform(df: pd.DataFrame | Mapping[str, list] | None, table: str) -> pd.DataFrame:
    """Select and order the contract columns of ``table`` and cast them to their dtypes.

    Missing nullable columns are filled with None; a missing non-nullable column is a
    programming error and raises ``KeyError``. Extra columns are dropped.
    """
    if df is None:
        return empty(table)
    if not isinstance(df, pd.DataFrame):
        df = pd.DataFrame(df)
    if len(df) == 0:
        return empty(table)
    out = {}
    for name, t, nullable in spec(table):
        if name in df.columns:
            col = df[name]
        elif nullable:
            col = pd.Series([None] * len(df), index=df.index)
        else:
            raise KeyError(f"table {table!r} lacks required column {name!r}")
        if t == INT:
            col = (pd.to_numeric(col, errors="coerce").astype("Int64") if nullable
                   else col.astype("int64"))
        elif t == FLOAT:
            col = pd.to_numeric(col, errors="coerce").astype("float64")
        elif t == LIST:
            col = pd.Series([list(v) if v is not None else [] for v in col.tolist()], index=col.index, dtype=object)
        else:
            col = _str_column(col)
        out[name] = col.reset_index(drop=True)
    return pd.DataFrame(out)


def _str_column(col: pd.Series) -> pd.Series:
    """A text column as Python str or None (see :func:`_as_str`), converting each
    distinct value once: a column of str objects is taken as it is, one of str and
    missing values or of a pandas string or categorical dtype is factorised (a run's
    mentions table has millions of rows and few distinct values per column); an object
    column of mixed types goes cell by cell."""
    if col.dtype == object:
        if pd.api.types.infer_dtype(col, skipna=False) == "string":
            return pd.Series(col.to_numpy(), dtype=object)
        if pd.api.types.infer_dtype(col, skipna=True) not in ("string", "empty"):
            # mixed types: factorising would take 1 and True for one value
            return pd.Series([_as_str(v) for v in col], dtype=object)
    codes, uniq = pd.factorize(col, use_na_sentinel=True)
    conv = np.empty(len(uniq) + 1, dtype=object)
    conv[:-1] = [_as_str(v) for v in uniq]
    conv[-1] = None  # code -1: a missing value
    return pd.Series(conv[codes], dtype=object)


def _as_str(v: object) -> str | None:
    """A string or None; pandas' missing markers (NaN, NA, NaT) become None."""
    if v is None or (not isinstance(v, str) and pd.isna(v)):
        return None
    return v if isinstance(v, str) else str(v)


def to_arrow(df: pd.DataFrame, table: str) -> pa.Table:
    """Convert a conformed frame into a pyarrow Table with the explicit schema."""
    df = conform(df, table)
    schema = arrow_schema(table)
    arrays = []
    for field in schema:
        col = df[field.name]
        values = [None if v is pd.NA else v for v in col.tolist()] if col.dtype == "Int64" else col.tolist()
        # a missing float (NaN in pandas) is written as null, not as "nan"
        arrays.append(pa.array(values, type=field.type, from_pandas=field.type == FLOAT))
    return pa.Table.from_arrays(arrays, schema=schema)


def from_arrow(table: pa.Table, name: str) -> pd.DataFrame:
    """Read an Arrow table back into a conformed frame (lists stay Python lists)."""
    data = {col: table.column(col).to_pylist() for col in table.column_names}
    return conform(pd.DataFrame(data, columns=table.column_names), name)
