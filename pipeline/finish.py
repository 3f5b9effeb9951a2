"""The run's stages after tagging, part by part: the corpus pass, linking, the mention,
entity and co-occurrence tables, and the quotations.

A run's documents and mentions come in **parts**, one per checkpointed batch: Parquet
files in the run's work folder, or frames when a run stays in memory. Each stage reads
one part at a time and keeps across parts only what is indexed by distinct names,
entities or entity pairs, so the driver's memory follows the distinct names and one
part, not the mentions of the run:

1. **Corpus pass** (:func:`corpus_pass_parts`): the name votes of each part
   (:func:`pipeline.ner.corpus_pass.corpus_votes`), summed into the run's corpus names;
   then each part searched for them on the workers (``mapper``), its mentions written
   again with the new ones.
2. **Linking** (:func:`pipeline.link.link_parts`): the pass within documents (partial
   names, abbreviations, affiliations) on the workers, a task per group of batches; the
   cross-document step over the distinct names; each part's mentions joined to their
   entity ids.
3. **Mention tables** (in :func:`link_run`, :func:`mention_part_task`): each linked
   group in the documents' order, conformed to the ``mentions`` table and cut back into
   its batches; co-occurrences, roles, affiliations and place contexts counted part by
   part and summed.
4. **Quotations** (:func:`quote_parts`): each part on the workers, with its linked
   mentions; a run with workers starts them as soon as the mention parts are made
   (``link_run``'s ``on_mentions``), while the driver counts the other tables.

The tables are the same whichever process ran a part; they are written part by part
(:func:`pipeline.write.write_table_parts`). ``run.py`` composes these stages.
"""

from __future__ import annotations

import logging
import shutil
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from . import schemas
from .config import Config
from .engine import Mapper, local_map
from .places import ground_places
from .tables import by_mentions, cooccurrences, cumulative_entities, entity_attributes, read_part

log = logging.getLogger("pipeline")

@dataclass(frozen=True)
class PartStore:
    """Where the stages keep the tables they make per part: Parquet files in ``folder``
    (the run's work folder, which only the tool writes to), or frames in memory when
    ``folder`` is None."""

    folder: Path | None = None

    def target(self, stage: str, i: int) -> str | None:
        """Where part ``i`` of ``stage`` is written (None: kept in memory)."""
        return None if self.folder is None else str(self.folder / f"{stage}-{i:05d}.parquet")

    def clear(self, stage: str) -> None:
        """Remove what an interrupted run left of ``stage`` (the tool's own files)."""
        if self.folder is None:
            return
        for p in self.folder.glob(f"{stage}-*.parquet"):
            p.unlink()
        if (self.folder / stage).is_dir():
            shutil.rmtree(self.folder / stage)


def keep(df: pd.DataFrame, target: str | None) -> str | pd.DataFrame:
    """``df`` itself, or written to ``target`` (atomically) and its path."""
    if target is None:
        return df
    write_parquet_atomic(pa.Table.from_pandas(df, preserve_index=False), Path(target))
    return target


def write_parquet_atomic(table: pa.Table, path: Path) -> None:
    """Write ``table`` to ``path`` through a temporary file (synced, then renamed), so a
    reader never sees half of it."""
    from .write import atomic_path

    with atomic_path(path) as tmp:
        pq.write_table(table, tmp)


def read_all(part) -> pd.DataFrame:
    """A whole part (a Parquet file or a frame), or a group of them (a list) concatenated."""
    if isinstance(part, list):
        frames = [read_all(p) for p in part]
        return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]
    return part if isinstance(part, pd.DataFrame) else pq.read_table(part).to_pandas()


def doc_ids_of(part) -> list[str]:
    """The document ids of a part of the documents table (or of a group of parts), in order."""
    if isinstance(part, list):
        return [d for p in part for d in doc_ids_of(p)]
    return read_part(part, ["doc_id"])["doc_id"].tolist()


def group_parts(parts: Sequence, max_rows: int) -> list[list[int]]:
    """Consecutive parts grouped up to ``max_rows`` rows each (a part larger than that
    is a group of its own): the linker's parts, fewer and larger than a run's
    checkpointed batches, since each part it reads costs a fixed time."""
    groups: list[list[int]] = []
    cur: list[int] = []
    rows = 0
    for i, p in enumerate(parts):
        k = n_rows([p])
        if cur and rows + k > max_rows:
            groups.append(cur)
            cur, rows = [], 0
        cur.append(i)
        rows += k
    if cur:
        groups.append(cur)
    return groups


def n_rows(parts: Sequence) -> int:
    """Rows in a list of parts (Parquet metadata for files)."""
    return sum(len(p) if isinstance(p, pd.DataFrame) else pq.ParquetFile(p).metadata.num_rows for p in parts)


# --------------------------------------------------------------------------- corpus pass


def corpus_pass_parts(doc_parts: list, ment_parts: list, cfg: Config, store: PartStore,
                      mapper: Mapper | None = None,
                      votes: Sequence[pd.DataFrame | None] | None = None) -> tuple[list, dict[str, int]]:
    """The corpus-level second pass (``ner.corpus_pass``) over a run's parts: names the
    model found in at least ``ner.corpus_min_docs`` documents, with the label most of
    them give, are added where they occur in the other documents and overlap no span
    found there (:mod:`pipeline.ner.corpus_pass`). Returns the mention parts with the new
    mentions (the same parts where nothing was added) and the new ``n_mentions`` of the
    documents that gained some (counts, not increments, so a resumed run that does the
    pass again gives the same tables). The votes are counted per part and summed, and
    each part then searched, by ``mapper`` (the run's workers) where given. A documents
    part that is a checkpoint file gets its new counts written into it there. ``votes``:
    the parts' votes where already counted (a run's batches tagged now; None for a part
    whose votes are to be counted here, one resumed from its checkpoint)."""
    from .ner.corpus_pass import names_from_votes

    if not cfg.ner.corpus_pass or not ment_parts:
        return ment_parts, {}
    mapper = mapper or local_map
    counted = list(votes) if votes is not None else [None] * len(ment_parts)
    missing = [i for i, v in enumerate(counted) if v is None]
    for i, v in zip(missing, mapper(corpus_votes_task, [(ment_parts[i],) for i in missing], ()) if missing else []):
        counted[i] = v
    names = names_from_votes(counted, min_docs=cfg.ner.corpus_min_docs)
    if not len(names):
        return ment_parts, {}
    store.clear("corpus")
    args = [(d, m, store.target("corpus", i)) for i, (d, m) in enumerate(zip(doc_parts, ment_parts))]
    out, counts, added = [], {}, 0
    for part, part_counts, n_added in mapper(corpus_part_task, args, (names, cfg)):
        out.append(part)
        counts.update(part_counts)
        added += n_added
    log.info("corpus pass: %d mentions added from %d names", added, len(names))
    return out, counts


def corpus_votes_task(ment_part) -> pd.DataFrame:
    """The corpus pass's votes of one part's mentions (:func:`pipeline.ner.corpus_pass.corpus_votes`)."""
    from .ner.corpus_pass import corpus_votes

    return corpus_votes(read_part(ment_part, ["doc_id", "text", "label", "kind", "norm_text", "start_char",
                                              "sentence_start"]))


def corpus_part_task(doc_part, ment_part, target: str | None, names, cfg: Config):
    """The corpus pass over one part: (the part's mentions with the new ones, written to
    ``target`` where given; the new mention counts of its documents, also written into
    ``doc_part`` where it is a checkpoint file; mentions added)."""
    from .ner.mentions import corpus_part, mention_frame

    mentions = read_all(ment_part)
    cols = ["doc_id", "start_char", "end_char", "sentence_index", "sentence_start", "sentence_end"]
    # a checkpoint is read once: searched, then rewritten with the new counts
    stored = pq.read_table(doc_part) if isinstance(doc_part, (str, Path)) else None
    docs = stored.select(["doc_id", "status", "text"]).to_pandas() if stored is not None else doc_part
    rows, counts = corpus_part(docs, mentions[cols], names.for_part(mentions), cfg)
    if counts and stored is not None:
        write_parquet_atomic(with_mention_counts(stored, counts), Path(doc_part))
    if not rows:
        return ment_part, counts, 0
    return keep(pd.concat([mentions, mention_frame(rows)], ignore_index=True), target), counts, len(rows)


def with_mention_counts(t: pa.Table, counts: dict[str, int]) -> pa.Table:
    """A documents checkpoint with the mention counts of the corpus pass (counts, not
    increments: doing it again, on ``--resume``, gives the same file)."""
    ids = t.column("doc_id").to_pylist()
    col = [counts.get(i, c) for i, c in zip(ids, t.column("n_mentions").to_pylist())]
    return t.set_column(t.schema.get_field_index("n_mentions"), "n_mentions", pa.array(col, type=pa.int64()))


# --------------------------------------------------------------------------- linking and tables


@dataclass
class Linked:
    """A run's linked output: the mention parts (conformed, in the documents' order), one
    per group of consecutive input parts (``groups``: the input parts' indices), and the
    entities, co-occurrences and links tables."""

    mentions: list
    groups: list[list[int]]
    entities: pd.DataFrame
    cooccurrences: pd.DataFrame
    links: pd.DataFrame
    n_mentions: int = 0


def link_run(doc_parts: list, ment_parts: list, cfg: Config, store: PartStore, *, link_inputs,
             doc_ids: list[str] | None = None, mapper: Mapper | None = None,
             on_mentions: Callable[[list], object] | None = None) -> Linked:
    """Link a run's mention parts (:func:`pipeline.link.link_parts`), consecutive parts
    grouped up to ``run.part_mentions`` mentions, then build its tables group by group:
    the mention parts in the order of their documents (:func:`mention_part_task`, by
    ``mapper``), the co-occurrences, the cumulative entities (with ``link_inputs``'
    previous entities; ``doc_ids`` the run's documents), their roles, affiliations and
    places. ``doc_parts[i]`` holds the documents of ``ment_parts[i]`` (None: mentions
    ordered by ``doc_id``). ``on_mentions(parts)`` is called with the mention parts as
    soon as they are made, before the other tables (a run's workers can start on the
    quotations meanwhile)."""
    from .link import link_parts

    for stage in ("group", "linked", "mentions"):
        store.clear(stage)
    groups = group_parts(ment_parts, cfg.run.part_mentions)
    # a group of several parts is read as one; written to a file, unless it is the run's
    # only group (kept in memory, it is one part: the linker need not read it again)
    merged = [ment_parts[g[0]] if len(g) == 1
              else keep(read_all([ment_parts[i] for i in g]), store.target("group", j) if len(groups) > 1 else None)
              for j, g in enumerate(groups)]
    res = link_parts(merged, cfg.link, None if store.folder is None else store.folder / "linked",
                     previous_entities=link_inputs.previous_entities, aliases=link_inputs.aliases,
                     return_links=True, mapper=mapper)
    linked = res["linked"] if store.folder is None else [str(p) for p in res["parts"]]
    if not linked:  # no mentions at all: one empty group
        linked = [schemas.empty("mentions")]
        groups = [list(range(len(ment_parts)))] if ment_parts else [[]]
    # the mention parts are made here, not on the workers: a group holds up to
    # run.part_mentions mentions, and a worker's memory should follow one batch
    parts: list = []
    for j, (lp, g) in enumerate(zip(linked, groups)):
        docs = [doc_parts[i] for i in g] if g and all(doc_parts[i] is not None for i in g) else None
        targets = [store.target("mentions", i) for i in g] if docs is not None else [store.target("mentions", j)]
        parts.extend(mention_part_task(lp, docs, targets))
    store.clear("group")
    store.clear("linked")
    if on_mentions is not None:
        on_mentions(parts)
    # the counts read the columns they need once where the run is one group (one part)
    counted = parts if len(groups) > 1 else [pd.concat([read_part(p, _COUNTED) for p in parts], ignore_index=True)]
    co = cooccurrences(counted, cfg.run.part_mentions)
    # an incremental run writes every earlier entity too, so a series of runs needs no merge
    if doc_ids is None:
        doc_ids = pd.unique(pd.concat([read_part(p, ["doc_id"])["doc_id"] for p in parts])).tolist()
    entities = cumulative_entities(res["entities"], link_inputs.previous_entities,
                                   link_inputs.previous_mentions, doc_ids)
    entities = by_mentions(entity_attributes(entities, counted, cfg.run.part_mentions))
    # LOC entities: country code, GeoNames id, coordinates
    places = ground_places(entities, counted, cfg.run.part_mentions)
    entities = schemas.conform(entities.drop(columns=list(places.columns), errors="ignore").join(places), "entities")
    return Linked(parts, groups, entities, co, schemas.conform(res["links"], "links"), n_rows(parts))


#: the mentions' columns the co-occurrences, the entities' attributes and places count
_COUNTED = ["doc_id", "sentence_index", "entity_id", "title", "affiliation"]


def mention_part_task(linked, doc_parts: list | None, targets: list[str | None]) -> list:
    """The parts of the mentions table from one linked group: its mentions in the order
    of their documents (``doc_parts``, the documents table's parts the group comes from;
    one part each; by ``doc_id`` where None, as one part), then by position, each part
    written to its ``targets`` entry where given."""
    m = read_all(linked)
    if doc_parts is None:
        m = m.sort_values(["doc_id", "start_char", "end_char"], kind="stable")
        return [keep(schemas.conform(m.reset_index(drop=True), "mentions"), targets[0])]
    ids = [doc_ids_of(p) for p in doc_parts]
    order = [d for part in ids for d in part]
    pos = pd.Series(range(len(order)), index=order)
    doc = m["doc_id"].map(pos).fillna(len(order)).to_numpy() if len(m) else np.zeros(0)
    m = m.assign(_doc=doc).sort_values(["_doc", "start_char", "end_char"], kind="stable")
    ends = np.cumsum([len(part) for part in ids])
    cuts = np.searchsorted(m["_doc"].to_numpy(), ends, side="left")
    cuts[-1] = len(m)  # mentions of a document no part lists (none in a run) go with the last
    # conformed once for the group (per part, its fixed cost a column made the most of
    # cutting a run of 10,000 articles into parts)
    m = schemas.conform(m.drop(columns="_doc"), "mentions")
    out, start = [], 0
    for cut, target in zip(cuts.tolist(), targets):
        part = m.iloc[start:cut].reset_index(drop=True) if cut > start else schemas.empty("mentions")
        out.append(keep(part, target))
        start = cut
    return out


# --------------------------------------------------------------------------- quotations


def quote_parts(doc_parts: list, mention_parts: list, cfg: Config, store: PartStore,
                mapper: Mapper | None = None) -> list:
    """The quotations of each part of the documents, speakers resolved to its linked
    mentions (``mention_parts``, :attr:`Linked.mentions`); each part by ``mapper`` (the
    run's workers) where given. No parts when ``quotes.enabled`` is off."""
    if not cfg.quotes.enabled:
        return []
    store.clear("quotes")
    args = [(d, m, store.target("quotes", i)) for i, (d, m) in enumerate(zip(doc_parts, mention_parts))]
    return (mapper or local_map)(quotes_part_task, args, ())


def quotes_part_task(doc_part, mention_part, target: str | None):
    """The quotations of one part of the documents, with ``mention_part`` the linked
    mentions of its documents; written to ``target`` where given."""
    from .quotes import extract_all

    docs = read_part(doc_part, ["doc_id", "text"])
    return keep(schemas.conform(extract_all(docs, read_all(mention_part)), "quotes"), target)


def concat_parts(parts: list, table: str) -> pd.DataFrame:
    """A table from its parts (files or frames), in order."""
    frames = [p if isinstance(p, pd.DataFrame) else pq.read_table(p).to_pandas() for p in parts]
    frames = [f for f in frames if len(f)]
    return schemas.conform(pd.concat(frames, ignore_index=True), table) if frames else schemas.empty(table)


def timed(timings, stage: str, fn: Callable, *args, **kwargs):
    """``fn(*args, **kwargs)``, its seconds added to ``timings`` under ``stage``."""
    t0 = time.perf_counter()
    try:
        return fn(*args, **kwargs)
    finally:
        timings.add(stage, t0)


__all__ = ["PartStore", "Linked", "corpus_pass_parts", "link_run", "quote_parts", "concat_parts",
           "corpus_votes_task", "corpus_part_task", "mention_part_task", "quotes_part_task", "group_parts", "n_rows",
           "write_parquet_atomic"]
