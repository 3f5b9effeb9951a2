"""Composes the stages: read -> normalize -> NER (in batches) -> link -> write.

Two shells share :func:`process_batch` and :func:`finalize`:

- :func:`run_in_memory` for the Python API (texts, DataFrames, small inputs);
- :func:`run_to_dir` for the CLI: documents stream through in batches, each batch is
  checkpointed atomically under ``OUT/.work/``, so memory stays bounded and a killed
  run can be finished with ``resume=True``; the final tables are written last, each
  atomically, and ``manifest.json`` (written at the very end) marks a complete run.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import shutil
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from . import __version__, schemas
from .config import Config
from .errors import InputError, OutputExistsError
from .ner.model import NerTagger
from .normalize import normalize_text, to_original
from .read import RawDoc

log = logging.getLogger("pipeline")

WORK = ".work"
NEXT_CHARS = 4


@dataclass
class Timings:
    seconds: dict[str, float] = field(default_factory=lambda: {
        "read": 0.0, "normalize": 0.0, "ner": 0.0, "link": 0.0, "write": 0.0})

    def add(self, stage: str, t0: float) -> float:
        now = time.perf_counter()
        self.seconds[stage] = self.seconds.get(stage, 0.0) + now - t0
        return now


def batched(items: Iterable[RawDoc], size: int) -> Iterator[list[RawDoc]]:
    batch: list[RawDoc] = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def process_batch(
    raw: list[RawDoc], tagger: NerTagger, cfg: Config, timings: Timings | None = None
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Normalize and tag one batch. Returns (documents, mentions); mentions carry the
    extra column ``next_chars`` the linker uses to find "Name (ABBR)" definitions."""
    timings = timings or Timings()
    t0 = time.perf_counter()
    todo = [d for d in raw if d.status == "ok"]
    norms = []
    for d in todo:
        norms.append(normalize_text(d.text, cfg.normalize, html=cfg.input.html, hidden_spans=d.hidden_spans))
    t0 = timings.add("normalize", t0)
    tagged = list(tagger.tag([n.text for n in norms])) if todo else []
    t0 = timings.add("ner", t0)

    results: dict[str, tuple[Any, Any]] = {d.doc_id: (n, t) for d, n, t in zip(todo, norms, tagged)}
    doc_rows, mention_rows = [], []
    for d in raw:
        norm, tag = results.get(d.doc_id, (None, None))
        notes = list(d.notes)
        status, error = d.status, d.error
        n_sent = n_ment = 0
        if tag is not None:
            for note in norm.notes:
                # "html stripped" supersedes read's "html" (detected), "mojibake repaired" its "mojibake"
                notes = [n for n in notes if not note.startswith(n + " ")]
                if note not in notes:
                    notes.append(note)
            seen = set()
            for start, end, label, kind, sent in tag.spans:
                ostart, oend = to_original(norm, start, end)
                surface = d.text[ostart:oend]
                if oend <= ostart or not surface.strip() or (ostart, oend) in seen:
                    continue
                seen.add((ostart, oend))
                mention_rows.append({
                    "mention_id": f"{d.doc_id}#{len(seen):04d}",
                    "doc_id": d.doc_id,
                    "sentence_index": sent,
                    "start_char": ostart,
                    "end_char": oend,
                    "text": surface,
                    "label": label,
                    "kind": kind,
                    "next_chars": d.text[oend : oend + NEXT_CHARS],
                })
            n_sent, n_ment = tag.n_sentences, len(seen)
            if not d.text.strip():
                status = "empty"
        doc_rows.append({
            "doc_id": d.doc_id, "source": d.source, "date": d.date, "n_chars": len(d.text),
            "n_sentences": n_sent, "n_mentions": n_ment, "status": status, "error": error,
            "encoding": d.encoding, "notes": "; ".join(notes) or None, "text": d.text,
        })
    documents = schemas.conform(pd.DataFrame(doc_rows), "documents")
    mentions = schemas.conform(pd.DataFrame(mention_rows), "mentions")
    mentions["next_chars"] = [r["next_chars"] for r in mention_rows]
    timings.add("ner", t0)  # mapping spans back to the original text is part of NER output
    return documents, mentions


def cooccurrences(mentions: pd.DataFrame) -> pd.DataFrame:
    """Entity pairs (entity_a < entity_b) with the number of documents and sentences
    in which both are mentioned."""
    if mentions.empty:
        return schemas.empty("cooccurrences")
    m = mentions[["doc_id", "sentence_index", "entity_id"]].drop_duplicates()

    def pairs(cols: list[str]) -> pd.DataFrame:
        g = m[cols + ["entity_id"]].drop_duplicates()
        p = g.merge(g, on=cols, suffixes=("_a", "_b"))
        p = p[p["entity_id_a"] < p["entity_id_b"]]
        return p.groupby(["entity_id_a", "entity_id_b"]).size()

    by_doc = pairs(["doc_id"]).rename("n_docs")
    by_sent = pairs(["doc_id", "sentence_index"]).rename("n_sentences")
    out = pd.concat([by_doc, by_sent], axis=1).fillna(0).reset_index()
    out.columns = ["entity_a", "entity_b", "n_docs", "n_sentences"]
    out = out.sort_values(["entity_a", "entity_b"]).reset_index(drop=True)
    return schemas.conform(out, "cooccurrences")


def finalize(mentions: pd.DataFrame, cfg: Config, timings: Timings | None = None):
    """Link all mentions of the run; return (mentions, entities, cooccurrences)."""
    from .link import link, load_aliases

    timings = timings or Timings()
    t0 = time.perf_counter()
    aliases_path = cfg.resolve_path(cfg.link.aliases_file)
    aliases = load_aliases(aliases_path) if aliases_path else None
    prev = None
    prev_path = cfg.resolve_path(cfg.link.previous_entities)
    if prev_path:
        prev = read_previous_entities(prev_path)
    linked, entities = link(mentions, cfg.link, previous_entities=prev, aliases=aliases)
    linked = schemas.conform(linked.sort_values(["doc_id", "start_char", "end_char"]), "mentions")
    co = cooccurrences(linked)
    timings.add("link", t0)
    return linked, schemas.conform(entities, "entities"), co


def read_previous_entities(path: Path) -> pd.DataFrame:
    """A previous run's entities: a run folder, or its entities.parquet / entities.csv."""
    from .write import read_table

    path = Path(path)
    if not path.exists():
        raise InputError(f"previous entities not found: {path} (give a run folder or its entities table)")
    if path.is_dir():
        return read_table(path, "entities")
    if path.name.endswith(".parquet"):
        return schemas.from_arrow(pq.read_table(path), "entities")
    if path.name.endswith(".csv") and path.exists():
        return read_table(path.parent, "entities") if path.name == "entities.csv" else _csv_entities(path)
    raise InputError(f"previous entities not found: {path} (give a run folder or its entities table)")


def _csv_entities(path: Path) -> pd.DataFrame:
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    df["aliases"] = df["aliases"].map(lambda v: v.split("|") if v else [])
    return schemas.conform(df, "entities")


# --------------------------------------------------------------------------- in memory


def run_in_memory(raw_docs: Iterable[RawDoc], cfg: Config, tagger: NerTagger | None = None):
    """Process documents without touching the disk. Returns (tables dict, manifest dict)."""
    started = _now()
    timings = Timings()
    tagger = tagger or NerTagger.from_config(cfg.ner)
    docs_parts, ment_parts = [], []
    t0 = time.perf_counter()
    for batch in batched(raw_docs, cfg.output.batch_docs):
        timings.add("read", t0)
        d, m = process_batch(batch, tagger, cfg, timings)
        docs_parts.append(d)
        ment_parts.append(m)
        t0 = time.perf_counter()
    documents = _concat(docs_parts, "documents")
    mentions = pd.concat(ment_parts, ignore_index=True) if ment_parts else schemas.empty("mentions")
    _check_unique(documents["doc_id"].tolist())
    linked, entities, co = finalize(mentions, cfg, timings)
    tables = {"documents": documents, "mentions": linked, "entities": entities, "cooccurrences": co}
    manifest = build_manifest(cfg, tagger, tables, timings, started, input_desc={"kind": "memory"})
    return tables, manifest


def _concat(parts: list[pd.DataFrame], table: str) -> pd.DataFrame:
    parts = [p for p in parts if len(p)]
    return schemas.conform(pd.concat(parts, ignore_index=True), table) if parts else schemas.empty(table)


def _check_unique(ids: list[str]) -> None:
    """Ids are unique after reading (read.check_input catches duplicates up front); this
    guards the tables' contract for inputs that reach the stages another way."""
    dup = pd.Series(ids)[pd.Series(ids).duplicated()].unique().tolist()
    if dup:
        raise InputError(f"duplicate document ids: {', '.join(map(str, dup[:20]))}"
                         " (set input.duplicate_ids = \"suffix\" to make them unique)")


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def build_manifest(cfg, tagger, tables, timings, started, input_desc) -> dict[str, Any]:
    import spacy

    docs = tables["documents"]
    status_counts = {s: int((docs["status"] == s).sum()) for s in schemas.STATUSES}
    info = tagger.info
    return {
        "pipeline_version": __version__,
        "spacy_version": spacy.__version__,
        "model": {"name": info.name, "version": info.version, "path": info.path, "source": info.source},
        "config": cfg.to_dict(),
        "config_hash": cfg.hash(),
        "input": input_desc,
        "counts": {
            "documents": int(len(docs)),
            **{f"documents_{k}": v for k, v in status_counts.items()},
            "mentions": int(len(tables["mentions"])),
            "entities": int(len(tables["entities"])),
            "cooccurrences": int(len(tables["cooccurrences"])),
        },
        "failed_documents": docs.loc[docs["status"] == "error", "doc_id"].head(100).tolist(),
        "timings_s": {k: round(v, 3) for k, v in timings.seconds.items()},
        "started": started,
        "finished": _now(),
    }


# --------------------------------------------------------------------------- to a folder


def prepare_out_dir(out_dir: Path, input_path: Path | None, *, force: bool, resume: bool) -> None:
    """Refuse to clobber a previous run or to write inside the input directory."""
    out_dir = Path(out_dir).resolve()
    if input_path is not None:
        inp = Path(input_path).resolve()
        if inp.is_dir() and (out_dir == inp or inp in out_dir.parents):
            raise InputError(f"output directory {out_dir} is inside the input directory {inp}; choose another --out")
    if out_dir.exists() and any(out_dir.iterdir()):
        work = out_dir / WORK
        if resume and work.exists():
            return
        if resume and not work.exists():
            if (out_dir / "manifest.json").exists() and not force:
                raise OutputExistsError(f"{out_dir} holds a finished run; nothing to resume (use --force to redo it)")
        if not force:
            hint = " (an interrupted run is there: finish it with --resume)" if work.exists() else ""
            raise OutputExistsError(f"output directory {out_dir} is not empty{hint}; use --force to overwrite it")
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)


def run_to_dir(
    raw_docs: Iterable[RawDoc],
    cfg: Config,
    out_dir: Path,
    *,
    input_desc: dict[str, Any],
    tagger: NerTagger | None = None,
    resume: bool = False,
    on_batch: Callable[[int], None] | None = None,
) -> dict[str, Any]:
    """Stream documents through the stages into ``out_dir``; return the manifest.

    Call :func:`prepare_out_dir` first. With ``resume``, batches already checkpointed
    by an interrupted run with the same input, config and model are reused.
    """
    started = _now()
    timings = Timings()
    out_dir = Path(out_dir)
    work = out_dir / WORK
    work.mkdir(parents=True, exist_ok=True)
    tagger = tagger or NerTagger.from_config(cfg.ner)
    state = {
        "config_hash": cfg.hash(),
        "input": input_desc,
        "model": [tagger.info.name, tagger.info.version, tagger.info.path],
        "batch_docs": cfg.output.batch_docs,
        "pipeline_version": __version__,
    }
    state_path = work / "state.json"
    if state_path.exists():
        old = json.loads(state_path.read_text(encoding="utf-8"))
        if old != state:
            if not resume:
                raise OutputExistsError(f"{out_dir} holds another run's checkpoints; use --force")
            raise OutputExistsError(
                f"cannot resume in {out_dir}: the input, configuration or model changed since the "
                "interrupted run (use --force to start over)")
    else:
        from .write import write_json

        write_json(state, state_path)

    all_ids: list[str] = []
    n_batches = 0
    t0 = time.perf_counter()
    for i, batch in enumerate(batched(raw_docs, cfg.output.batch_docs)):
        timings.add("read", t0)
        all_ids.extend(d.doc_id for d in batch)
        docs_path, ment_path = _batch_paths(work, i)
        if not (resume and docs_path.exists() and ment_path.exists()):
            documents, mentions = process_batch(batch, tagger, cfg, timings)
            t1 = time.perf_counter()
            _write_parquet_atomic(pa.Table.from_pandas(mentions, preserve_index=False), ment_path)
            _write_parquet_atomic(schemas.to_arrow(documents, "documents"), docs_path)
            timings.add("write", t1)
        n_batches += 1
        if on_batch:
            on_batch(len(batch))
        t0 = time.perf_counter()
    _check_unique(all_ids)

    # link over every mention of the run (mentions are small; texts stay on disk)
    ment_files = [_batch_paths(work, i)[1] for i in range(n_batches)]
    doc_files = [_batch_paths(work, i)[0] for i in range(n_batches)]
    mentions = (pd.concat([pq.read_table(p).to_pandas() for p in ment_files], ignore_index=True)
                if ment_files else schemas.empty("mentions"))
    linked, entities, co = finalize(mentions, cfg, timings)

    t1 = time.perf_counter()
    from .write import write_json, write_table, write_table_parts

    formats = cfg.output.formats
    write_table_parts(doc_files, "documents", out_dir, formats)
    write_table(linked, "mentions", out_dir, formats)
    write_table(entities, "entities", out_dir, formats)
    write_table(co, "cooccurrences", out_dir, formats)
    timings.add("write", t1)
    status = _status_counts(doc_files)
    tables = {"documents": pd.DataFrame({"doc_id": status["ids"], "status": status["status"]}),
              "mentions": linked, "entities": entities, "cooccurrences": co}
    manifest = build_manifest(cfg, tagger, tables, timings, started, input_desc)
    write_json(manifest, out_dir / "manifest.json")
    shutil.rmtree(work, ignore_errors=True)
    return manifest


def _status_counts(doc_files: list[Path]) -> dict[str, list]:
    ids, status = [], []
    for p in doc_files:
        t = pq.read_table(p, columns=["doc_id", "status"])
        ids.extend(t.column("doc_id").to_pylist())
        status.extend(t.column("status").to_pylist())
    return {"ids": ids, "status": status}


def _batch_paths(work: Path, i: int) -> tuple[Path, Path]:
    return work / f"batch-{i:06d}.documents.parquet", work / f"batch-{i:06d}.mentions.parquet"


def _write_parquet_atomic(table: pa.Table, path: Path) -> None:
    from .write import atomic_path

    with atomic_path(path) as tmp:
        pq.write_table(table, tmp)


__all__ = ["process_batch", "finalize", "run_in_memory", "run_to_dir", "prepare_out_dir", "cooccurrences"]
