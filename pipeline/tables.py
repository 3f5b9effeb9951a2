"""Run-level tables built from the linked mentions: co-occurrences, and the cumulative
entities table of an incremental run. Pure functions over typed frames."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from . import schemas

__all__ = ["cooccurrences", "cooccurrence_counts", "cumulative_entities", "entity_attributes", "by_mentions",
           "read_part", "as_parts"]


#: a table, or the parts of one (Parquet files or frames, each document wholly in one)
Parts = pd.DataFrame | Sequence[str | Path | pd.DataFrame]


def as_parts(mentions) -> list:
    """``mentions`` as a list of parts: a frame is one part."""
    return [mentions] if isinstance(mentions, pd.DataFrame) else list(mentions)


def read_part(part: str | Path | pd.DataFrame, columns: Sequence[str]) -> pd.DataFrame:
    """The ``columns`` of one part (a Parquet file, read for those columns only, or a
    frame); a column the part lacks is left out."""
    if isinstance(part, pd.DataFrame):
        return part[[c for c in columns if c in part.columns]]
    names = set(pq.read_schema(part).names)
    return pq.read_table(part, columns=[c for c in columns if c in names]).to_pandas()


#: rows read together by the per-part counts below (the default of ``run.part_mentions``)
GROUP_ROWS = 250_000


def read_groups(parts: Parts, columns: Sequence[str], max_rows: int = GROUP_ROWS):
    """The ``columns`` of consecutive parts, concatenated until a group holds at least
    ``max_rows`` rows (a part is never split: a document stays in one group). Counting
    per group instead of per part saves pandas' fixed cost per call on the small parts
    of a run (100 documents each); memory follows ``max_rows`` and one part."""
    group: list[pd.DataFrame] = []
    rows = 0
    for part in as_parts(parts):
        m = read_part(part, columns)
        if m.empty:
            continue
        group.append(m)
        rows += len(m)
        if rows >= max_rows:
            yield group[0] if len(group) == 1 else pd.concat(group, ignore_index=True)
            group, rows = [], 0
    if group:
        yield group[0] if len(group) == 1 else pd.concat(group, ignore_index=True)


def cooccurrence_counts(mentions: pd.DataFrame) -> pd.DataFrame:
    """Entity pairs (entity_a < entity_b) of some documents, with the number of those
    documents and of their sentences in which both are mentioned (the unsorted counts
    :func:`cooccurrences` sums over parts). Entities and documents are numbered first
    (entities in sorted order, so that comparing numbers compares ids): the self-joins
    and counts run on integers."""
    m = mentions[["doc_id", "sentence_index", "entity_id"]].dropna(subset=["entity_id"])
    if m.empty:
        return pd.DataFrame({"entity_a": pd.Series([], dtype=object), "entity_b": pd.Series([], dtype=object),
                             "n_docs": pd.Series([], dtype="int64"), "n_sentences": pd.Series([], dtype="int64")})
    ent, ids = pd.factorize(m["entity_id"].astype(object), sort=True)
    doc, _ = pd.factorize(m["doc_id"].astype(object))
    m = pd.DataFrame({"doc": doc, "sent": m["sentence_index"].to_numpy(dtype="int64"), "ent": ent}).drop_duplicates()

    def pairs(cols: list[str]) -> pd.Series:
        g = m[cols + ["ent"]].drop_duplicates()
        p = g.merge(g, on=cols, suffixes=("_a", "_b"))
        p = p[p["ent_a"].to_numpy() < p["ent_b"].to_numpy()]
        return p.groupby(["ent_a", "ent_b"]).size()

    by_doc = pairs(["doc"]).rename("n_docs")
    by_sent = pairs(["doc", "sent"]).rename("n_sentences")
    out = pd.concat([by_doc, by_sent], axis=1).fillna(0).astype("int64").reset_index()
    ids = np.asarray(ids, dtype=object)
    return pd.DataFrame({"entity_a": ids[out.iloc[:, 0].to_numpy()], "entity_b": ids[out.iloc[:, 1].to_numpy()],
                         "n_docs": out["n_docs"].to_numpy(), "n_sentences": out["n_sentences"].to_numpy()})


def cooccurrences(mentions: Parts, max_rows: int = GROUP_ROWS) -> pd.DataFrame:
    """Entity pairs (entity_a < entity_b) with the number of documents and sentences
    in which both are mentioned. ``mentions``: the linked mentions, or their parts (a
    document wholly in one part), counted by groups of consecutive parts
    (:func:`read_groups`) and summed: memory follows the pairs and ``max_rows``."""
    counts = [cooccurrence_counts(m)
              for m in read_groups(mentions, ["doc_id", "sentence_index", "entity_id"], max_rows)]
    counts = [c for c in counts if len(c)]
    if not counts:
        return schemas.empty("cooccurrences")
    out = pd.concat(counts, ignore_index=True)
    if len(counts) > 1:
        out = out.groupby(["entity_a", "entity_b"], sort=False)[["n_docs", "n_sentences"]].sum().reset_index()
    out = out.sort_values(["entity_a", "entity_b"]).reset_index(drop=True)
    return schemas.conform(out, "cooccurrences")


def cumulative_entities(entities: pd.DataFrame, previous: pd.DataFrame | None,
                        previous_mentions: pd.DataFrame | None = None,
                        doc_ids: list[str] | None = None) -> pd.DataFrame:
    """The entities table of an incremental run: every earlier entity plus the new ones.

    ``entities`` are this run's (their ids already keep the earlier ids, see the linker);
    ``previous`` the earlier run's entities table. An entity in both gets the union of its
    aliases and summed counts; a document present in both runs is counted once, by
    ``doc_id``: when the earlier run's mentions are at hand (``previous_mentions`` with
    ``doc_id`` and ``entity_id``), its mentions in documents of this run (``doc_ids``) are
    taken out of the earlier counts, since this run's mentions of those documents replace
    them. Earlier entities this run does not mention are kept as they were.
    """
    entities = schemas.conform(entities, "entities")
    if previous is None or not len(previous):
        return entities
    previous = schemas.conform(previous, "entities")
    old_m = pd.Series(0, index=previous["entity_id"], dtype="int64")
    old_d = pd.Series(0, index=previous["entity_id"], dtype="int64")
    if previous_mentions is not None and len(previous_mentions) and doc_ids:
        redone = previous_mentions[previous_mentions["doc_id"].isin(set(doc_ids))]
        if len(redone):
            old_m = old_m.add(redone.groupby("entity_id").size(), fill_value=0).astype("int64")
            old_d = old_d.add(redone.groupby("entity_id")["doc_id"].nunique(), fill_value=0).astype("int64")
    prev = previous.set_index("entity_id")
    rows = []
    seen = set()
    for r in entities.itertuples(index=False):
        d = r._asdict()
        if r.entity_id in prev.index:
            p = prev.loc[r.entity_id]
            d["aliases"] = sorted(set(p["aliases"]) | set(r.aliases))
            d["n_mentions"] = int(p["n_mentions"] - old_m.get(r.entity_id, 0) + r.n_mentions)
            d["n_docs"] = int(p["n_docs"] - old_d.get(r.entity_id, 0) + r.n_docs)
        rows.append(d)
        seen.add(r.entity_id)
    for eid, p in prev.iterrows():
        if eid in seen:
            continue
        d = {"entity_id": eid, **p.to_dict()}
        d["n_mentions"] = int(p["n_mentions"] - old_m.get(eid, 0))
        d["n_docs"] = int(p["n_docs"] - old_d.get(eid, 0))
        rows.append(d)
    out = pd.DataFrame(rows, columns=schemas.columns("entities"))
    out = out.sort_values("entity_id", kind="stable")
    return schemas.conform(out.reset_index(drop=True), "entities")


def _value_counts(m: pd.DataFrame, col: str) -> pd.DataFrame:
    """(e, v, n): how often each entity has each non-blank value of ``col`` (stripped),
    plus a row (e, "", 0) for every entity with values only blank."""
    df = m[["entity_id", col]].dropna()
    if df.empty:
        return pd.DataFrame({"e": pd.Series([], dtype=object), "v": pd.Series([], dtype=object),
                             "n": pd.Series([], dtype="int64")})
    vals = pd.Series([str(v).strip() for v in df[col].tolist()], dtype=object, index=df.index)
    df = pd.DataFrame({"e": df["entity_id"].astype(object), "v": vals})
    seen = pd.DataFrame({"e": pd.unique(df["e"].to_numpy(dtype=object)), "v": "", "n": 0})
    counts = df[df["v"] != ""].groupby(["e", "v"], sort=False).size().rename("n").reset_index()
    return pd.concat([seen, counts], ignore_index=True)


def _ranked(counts: list[pd.DataFrame]) -> dict[str, list[str]]:
    """Per entity, the distinct non-blank values of the summed :func:`_value_counts`,
    most frequent first, ties in string order: one sort over the whole column, not a
    Python call per entity."""
    counts = [c for c in counts if len(c)]
    if not counts:
        return {}
    df = pd.concat(counts, ignore_index=True)
    out = dict.fromkeys(pd.unique(df["e"].to_numpy(dtype=object)).tolist(), [])
    df = df[df["v"] != ""]
    if df.empty:
        return {e: [] for e in out}
    if len(counts) > 1:
        df = df.groupby(["e", "v"], sort=False)["n"].sum().reset_index()
    df = df.sort_values(["e", "n", "v"], ascending=[True, False, True], kind="stable")
    e = df["e"].to_numpy(dtype=object)
    cuts = np.flatnonzero(e[1:] != e[:-1]) + 1
    starts = np.r_[0, cuts]
    ranked = dict(zip(e[starts].tolist(), (list(x) for x in np.split(df["v"].to_numpy(dtype=object), cuts))))
    return {k: ranked.get(k, []) for k in out}


def entity_attributes(entities: pd.DataFrame, mentions: Parts, max_rows: int = GROUP_ROWS) -> pd.DataFrame:
    """``roles`` (the titles before its mentions: "Bundeskanzler", "Kreml-Sprecher") and
    ``affiliations`` (the brackets after them: "SPÖ", "AUT") of each entity, most
    frequent first. An entity this run does not mention keeps what it had.
    ``mentions``: the linked mentions, or their parts, counted by groups of consecutive
    parts (:func:`read_groups`)."""
    out = entities.copy()
    found: dict[str, list[pd.DataFrame]] = {"title": [], "affiliation": []}
    for m in read_groups(mentions, ["entity_id", "title", "affiliation"], max_rows):
        if m.empty or "entity_id" not in m:
            continue
        m = m.dropna(subset=["entity_id"])
        for col in found:
            if col in m:
                found[col].append(_value_counts(m, col))
    for col, target in (("title", "roles"), ("affiliation", "affiliations")):
        if not found[col]:
            continue
        vals = _ranked(found[col])
        before = out[target] if target in out else pd.Series([[]] * len(out), index=out.index)
        out[target] = [vals.get(e, b if isinstance(b, list) else list(b) if b is not None else [])
                       for e, b in zip(out["entity_id"], before)]
    return out


def by_mentions(entities: pd.DataFrame) -> pd.DataFrame:
    """Entities with most mentions first (ties by id), as an analyst reads them."""
    return entities.sort_values(["n_mentions", "entity_id"], ascending=[False, True],
                                kind="stable").reset_index(drop=True)
