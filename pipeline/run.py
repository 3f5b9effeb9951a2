"""Composes the stages: read -> normalize -> NER (in batches) -> link -> write.

Two shells share :func:`process_batch` and the part-by-part stages after tagging
(:mod:`pipeline.finish`: corpus pass, linking, tables, quotations):

- :func:`run_in_memory` for the Python API (texts, DataFrames, small inputs): one part,
  in memory;
- :func:`run_to_dir` for the CLI: documents stream through in batches, each batch is
  checkpointed atomically under ``OUT/.work/`` and is a part of the later stages, so
  memory stays bounded and a killed run can be finished with ``resume=True``; the final
  tables are written last, each atomically, and ``manifest.json`` (written at the very
  end) marks a complete run.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from . import __version__, schemas
from .config import Config
from .errors import InputError, OutputExistsError, PipelineError
from .finish import PartStore, concat_parts, corpus_pass_parts, corpus_votes_task, link_run, n_rows, quote_parts, timed
from .finish import write_parquet_atomic as _write_parquet_atomic
from .ner.mentions import mention_frame, mention_row, sentence_bounds
from .ner.model import ModelInfo, NerTagger, peek_model_info
from .outdir import RunFolder, check_out_dir, os_error
from .normalize import normalize_text
from .read import RawDoc
from .engine import Engine
from .tables import cooccurrences

log = logging.getLogger("pipeline")


@dataclass
class Timings:
    seconds: dict[str, float] = field(default_factory=lambda: {
        "read": 0.0, "normalize": 0.0, "ner": 0.0, "link": 0.0, "quotes": 0.0, "write": 0.0})

    #: words of the documents tagged (whitespace-separated), for words/s
    words: int = 0
    #: the largest peak RSS of a process that tagged batches (MB; 0 when none did)
    worker_peak_mb: float = 0.0

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
    raw: list[RawDoc], tagger: NerTagger, cfg: Config, timings: Timings | None = None,
    extra: tuple[str, ...] | list[str] = (), on_doc: Callable[[int, int], None] | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Normalize and tag one batch. Returns (documents, mentions); mentions carry three
    extra columns for the linker: ``next_chars`` (to find "Name (ABBR)" definitions),
    ``prev_chars`` (the article before a name) and ``norm_text`` (the span as the model
    saw it, to build name keys from).
    ``on_doc(docs, words)`` is called as documents are tagged (the documents that need no
    tagging, empty or unreadable ones, count at the end), for a progress display."""
    timings = timings or Timings()
    t0 = time.perf_counter()
    todo = [d for d in raw if d.status == "ok"]
    timings.words += sum(len(d.text.split()) for d in todo)
    norms = []
    for d in todo:
        norms.append(normalize_text(d.text, cfg.normalize, html=cfg.input.html, hidden_spans=d.hidden_spans))
    t0 = timings.add("normalize", t0)
    tagged = []
    if todo:
        for d, tag in zip(todo, tagger.tag([n.text for n in norms])):
            tagged.append(tag)
            if on_doc is not None:
                on_doc(1, len(d.text.split()))
    if on_doc is not None and len(raw) > len(todo):
        on_doc(len(raw) - len(todo), 0)
    t0 = timings.add("ner", t0)

    results: dict[str, tuple[Any, Any]] = {d.doc_id: (n, t) for d, n, t in zip(todo, norms, tagged)}
    doc_rows, mention_rows = [], []
    for d in raw:
        norm, tag = results.get(d.doc_id, (None, None))
        notes = list(d.notes)
        status, error = d.status, d.error
        n_sent = n_ment = 0
        if tag is not None and tag.error:  # the tagger refused it (work budget): an error document
            status, error, tag = "error", tag.error, None
        if tag is not None:
            for note in norm.notes:
                # "html stripped" supersedes read's "html" (detected), "mojibake repaired" its "mojibake"
                notes = [n for n in notes if not note.startswith(n + " ")]
                if note not in notes:
                    notes.append(note)
            seen = set()
            titles = tag.titles if len(getattr(tag, "titles", ())) == len(tag.spans) else [None] * len(tag.spans)
            bounds = sentence_bounds(norm, getattr(tag, "sent_starts", None) or [0])
            for (start, end, label, kind, sent), title in zip(tag.spans, titles):
                row = mention_row(d.doc_id, d.text, norm, start, end, label, kind, sent, len(seen) + 1, title)
                if row is None or (row["start_char"], row["end_char"]) in seen:
                    continue
                seen.add((row["start_char"], row["end_char"]))
                if 0 <= sent < len(bounds):
                    row["sentence_start"], row["sentence_end"] = bounds[sent]
                mention_rows.append(row)
            n_sent, n_ment = tag.n_sentences, len(seen)
            if not d.text.strip():
                status = "empty"
        doc_rows.append({
            "doc_id": d.doc_id, "source": d.source, "date": d.date, "n_chars": len(d.text),
            "n_sentences": n_sent, "n_mentions": n_ment, "status": status, "error": error,
            "encoding": d.encoding, "notes": "; ".join(notes) or None, "text": d.text,
            **{c: d.meta.get(c) for c in extra},
        })
    documents = schemas.conform(pd.DataFrame(doc_rows), schemas.with_extra("documents", extra))
    mentions = mention_frame(mention_rows)
    timings.add("ner", t0)  # mapping spans back to the original text is part of NER output
    return documents, mentions


@dataclass
class LinkInputs:
    """What the linker reads besides the mentions, loaded and checked before any text."""

    aliases: pd.DataFrame | None = None
    previous_entities: pd.DataFrame | None = None
    #: the earlier run's mentions (doc_id, entity_id), when its folder has them: a document
    #: in both runs is then counted once in the cumulative entities table
    previous_mentions: pd.DataFrame | None = None


def load_link_inputs(cfg: Config) -> LinkInputs:
    """Read and validate the alias file and a previous run's entities (InputError /
    ConfigError listing the bad rows), so a bad file fails before any text is read."""
    aliases_path = cfg.resolve_path(cfg.link.aliases_file)
    aliases = read_alias_file(aliases_path) if aliases_path else None
    prev = prev_mentions = None
    prev_path = cfg.resolve_path(cfg.link.previous_entities)
    if prev_path:
        prev = read_previous_entities(prev_path)
        prev_mentions = _previous_mentions(prev_path)
    return LinkInputs(aliases=aliases, previous_entities=prev, previous_mentions=prev_mentions)


def _previous_mentions(path: Path) -> pd.DataFrame | None:
    """doc_id and entity_id of the earlier run's mentions, when its folder has them."""
    from .write import read_table

    run_dir = path if path.is_dir() else path.parent
    if not any((run_dir / f"mentions.{fmt}").is_file() for fmt in ("parquet", "csv")):
        return None
    try:
        return read_table(run_dir, "mentions")[["doc_id", "entity_id"]]
    except PipelineError as exc:
        log.warning("the earlier run's mentions in %s cannot be read (%s); documents in both runs "
                    "are counted twice in the entities table", run_dir, exc)
        return None


def finalize(mentions: pd.DataFrame, cfg: Config, timings: Timings | None = None, *,
             link_inputs: LinkInputs | None = None, doc_ids: list[str] | None = None):
    """Link a table of mentions in memory as one part; return (mentions, entities,
    cooccurrences, links), the mentions by ``doc_id`` and position (what a run does by
    parts: :func:`pipeline.finish.link_run`)."""
    timings = timings or Timings()
    t0 = time.perf_counter()
    res = link_run([None], [mentions], cfg, PartStore(None), link_inputs=link_inputs or load_link_inputs(cfg),
                   doc_ids=doc_ids)
    timings.add("link", t0)
    return concat_parts(res.mentions, "mentions"), res.entities, res.cooccurrences, res.links


_ALIAS_LABELS = {"", "PER", "LOC", "ORG", "MISC"}


def read_alias_file(path: Path) -> pd.DataFrame:
    """The analyst alias CSV (canonical_name, alias, label[, action]), every row checked:
    a missing file, a missing column, a row with the wrong number of fields, an empty
    name, an unknown label or action fail with ConfigError listing the bad rows."""
    import csv

    from .errors import ConfigError
    from .link.aliases import normalize_aliases

    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"link.aliases_file: {path} is not a file (set link.aliases_file = \"\" "
                          "to use no alias file)")
    try:
        lines = path.read_text(encoding="utf-8-sig").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"link.aliases_file: cannot read {path} as UTF-8 text: {exc}") from None
    numbered = [(n, line) for n, line in enumerate(lines, 1) if line.strip() and not line.lstrip().startswith("#")]
    if not numbered:
        return normalize_aliases(None)
    try:
        rows = list(csv.reader([line for _, line in numbered], skipinitialspace=True, strict=True))
    except csv.Error as exc:
        raise ConfigError(f"{path}: not a valid CSV file: {exc}") from None
    header = [h.strip().lower() for h in rows[0]]
    missing = [c for c in ("canonical_name", "alias") if c not in header]
    if missing:
        raise ConfigError(f"{path}: missing column(s) {', '.join(missing)} in the header line; "
                          "expected canonical_name,alias,label,action")
    problems, good = [], []
    for (n, _), row in zip(numbered[1:], rows[1:]):
        if len(row) != len(header):
            problems.append(f"{path}:{n}: {len(row)} fields, the header has {len(header)}")
            continue
        rec = {h: v.strip() for h, v in zip(header, row)}
        why = []
        if not rec.get("canonical_name") or not rec.get("alias"):
            why.append("empty canonical_name or alias")
        if rec.get("label", "").upper() not in _ALIAS_LABELS:
            why.append(f"unknown label {rec['label']!r} (PER, LOC, ORG, MISC or empty)")
        if rec.get("action", "").lower() not in ("", "merge", "split"):
            why.append(f"unknown action {rec['action']!r} (merge or split)")
        if why:
            problems.append(f"{path}:{n}: {'; '.join(why)}")
        else:
            good.append(rec)
    if problems:
        raise ConfigError(problems[:50] + ([f"... and {len(problems) - 50} more"] if len(problems) > 50 else []))
    return normalize_aliases(pd.DataFrame(good, columns=header), where=str(path))


def read_previous_entities(path: Path) -> pd.DataFrame:
    """A previous run's entities: a run folder, or its entities.parquet / entities.csv.
    Checked before any text is read: InputError naming the file and the bad rows."""
    from .errors import BrokenRunError
    from .write import read_table, read_table_file

    path = Path(path)
    hint = "give a run folder or its entities.parquet / entities.csv"
    if not path.exists():
        raise InputError(f"previous entities not found: {path} ({hint})")
    try:
        if path.is_dir():
            df = read_table(path, "entities")
        elif path.suffix in (".parquet", ".csv"):
            df = read_table_file(path, "entities")
        else:
            raise InputError(f"previous entities: {path} is neither a folder nor a .parquet/.csv table ({hint})")
    except PipelineError:
        raise
    except Exception as exc:  # noqa: BLE001  any damage: say which file and why
        raise BrokenRunError(f"previous entities {path} cannot be read: {exc} ({hint})") from None
    problems = []
    ids = df["entity_id"].astype("string")
    if ids.isna().any() or (ids == "").any():
        problems.append(f"{int((ids.isna() | (ids == '')).sum())} row(s) without an entity_id")
    dup = ids[ids.duplicated()].dropna().unique().tolist()
    if dup:
        problems.append(f"duplicate entity ids: {', '.join(dup[:10])}")
    bad_labels = sorted(set(df["label"].dropna()) - set(schemas.LABELS))
    if bad_labels:
        problems.append(f"unknown label(s) {', '.join(map(str, bad_labels[:10]))} (expected {', '.join(schemas.LABELS)})")
    if problems:
        raise InputError(f"previous entities {path}: " + "; ".join(problems))
    return df


# --------------------------------------------------------------------------- in memory


def run_in_memory(raw_docs: Iterable[RawDoc], cfg: Config, tagger: NerTagger | None = None,
                  extra_cols: list[str] | tuple[str, ...] = ()):
    """Process documents without touching the disk. Returns (tables dict, manifest dict)."""
    started = _now()
    timings = Timings()
    link_inputs = load_link_inputs(cfg)  # a bad alias or entities file fails before any text
    tagger = tagger or NerTagger.from_config(cfg.ner)
    docs_parts, ment_parts = [], []
    t0 = time.perf_counter()
    for batch in batched(raw_docs, cfg.output.batch_docs):
        timings.add("read", t0)
        d, m = process_batch(batch, tagger, cfg, timings, tuple(extra_cols))
        docs_parts.append(d)
        ment_parts.append(m)
        t0 = time.perf_counter()
    documents = concat_parts(docs_parts, schemas.with_extra("documents", extra_cols))
    _check_unique(documents["doc_id"].tolist())
    store = PartStore(None)  # the parts stay in memory: one part, the whole run
    doc_parts = [documents]
    ment_parts = [pd.concat(ment_parts, ignore_index=True) if ment_parts else schemas.empty("mentions")]
    ment_parts, counts = timed(timings, "ner", corpus_pass_parts, doc_parts, ment_parts, cfg, store)
    if counts:
        documents["n_mentions"] = [counts.get(i, c) for i, c in zip(documents["doc_id"], documents["n_mentions"])]
    linked = timed(timings, "link", link_run, doc_parts, ment_parts, cfg, store, link_inputs=link_inputs,
                   doc_ids=documents["doc_id"].tolist())
    quotes = timed(timings, "quotes", quote_parts, doc_parts, linked.mentions, cfg, store)
    tables = {"documents": documents, "mentions": concat_parts(linked.mentions, "mentions"),
              "entities": linked.entities, "cooccurrences": linked.cooccurrences, "links": linked.links,
              "quotes": concat_parts(quotes, "quotes")}
    manifest = build_manifest(cfg, tagger, tables, timings, started, input_desc={"kind": "memory"})
    return tables, manifest


def _check_unique(ids: list[str]) -> None:
    """Ids are unique after reading (read.check_input catches duplicates up front); this
    guards the tables' contract for inputs that reach the stages another way."""
    dup = pd.Series(ids)[pd.Series(ids).duplicated()].unique().tolist()
    if dup:
        raise InputError(f"duplicate document ids: {', '.join(map(str, dup[:20]))}"
                         " (set input.duplicate_ids = \"suffix\" to make them unique)")


def _now() -> str:
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")


def build_manifest(cfg, tagger, tables, timings, started, input_desc,
                   rows: dict[str, int] | None = None) -> dict[str, Any]:
    """The run's manifest; ``rows`` gives the row counts of tables written by parts
    (absent from ``tables``)."""
    rows = rows or {}

    def count(name: str) -> int:
        return int(rows[name]) if name in rows else int(len(tables.get(name, ())))

    docs = tables["documents"]
    status_counts = {s: int((docs["status"] == s).sum()) for s in schemas.STATUSES}
    info = tagger.info
    return {
        "pipeline_version": __version__,
        "spacy_version": info.spacy_version,  # read when the model was described or loaded
        "model": {"name": info.name, "version": info.version, "path": info.path, "source": info.source},
        "config": cfg.to_dict(),
        "config_hash": cfg.hash(),
        "aliases_sha256": _file_hash(cfg.resolve_path(cfg.link.aliases_file)),
        "input": input_desc,
        "counts": {
            "documents": int(len(docs)),
            **{f"documents_{k}": v for k, v in status_counts.items()},
            "mentions": count("mentions"),
            "entities": count("entities"),
            "cooccurrences": count("cooccurrences"),
            "links": count("links"),
            "quotes": count("quotes"),
            "links_refused": int((tables["links"]["decision"] == "refused").sum()) if "links" in tables else 0,
        },
        "failed_documents": docs.loc[docs["status"] == "error", "doc_id"].head(100).tolist(),
        "timings_s": {k: round(v, 3) for k, v in timings.seconds.items()},
        "words": int(timings.words),
        "workers": cfg.run.processes if not cfg.run.scheduler else cfg.run.scheduler,
        # peak resident memory: of this process (the driver: reading, linking, writing;
        # with one worker the tagging too) and of the largest process that tagged batches
        "peak_rss_mb": {"driver": round(peak_rss_mb(), 1), "tagging": round(timings.worker_peak_mb, 1)},
        "started": started,
        "finished": _now(),
    }


# --------------------------------------------------------------------------- to a folder


@dataclass(frozen=True)
class DescribedModel:
    """The model a run's workers load, described (from its meta.json) but not loaded in
    the driver, which only writes its name into the manifest."""

    info: ModelInfo


def driver_tagger(cfg: Config) -> NerTagger | DescribedModel:
    """What the driver of a run needs of the model: the loaded tagger when it tags in
    this process (``run.workers`` 1, no scheduler); with workers, only its description
    where the model's meta.json gives one (saves loading it once more in the driver)."""
    if cfg.run.processes > 1 or cfg.run.scheduler:
        info = peek_model_info(cfg.ner.model)
        if info is not None:
            return DescribedModel(info)
    from .api import get_tagger

    return get_tagger(cfg)


def prepare_out_dir(out_dir: Path, input_path: Path | None, *, force: bool, resume: bool) -> Path:
    """Check the output folder against the policy of :mod:`pipeline.outdir`; writes and
    deletes nothing (the run replaces a previous run's files only once it is complete)."""
    return check_out_dir(out_dir, input_path, force=force, resume=resume)


def run_to_dir(
    raw_docs: Iterable[RawDoc],
    cfg: Config,
    out_dir: Path,
    *,
    input_desc: dict[str, Any],
    tagger: NerTagger | DescribedModel | None = None,
    resume: bool = False,
    force: bool = False,
    on_progress: Callable[[int, int], None] | None = None,
    link_inputs: LinkInputs | None = None,
    extra_cols: list[str] | tuple[str, ...] = (),
    engine: Engine | None = None,
) -> dict[str, Any]:
    """Stream documents through the stages into ``out_dir``; return the manifest.
    ``extra_cols``: the metadata columns of a table input kept in ``documents``.
    ``engine``: where the batches are tagged (default: ``run.workers`` and
    ``run.scheduler`` of ``cfg``, "auto" meaning this process: documents that come as an
    iterator have no size up front), closed when the run ends.

    Call :func:`prepare_out_dir` first. The folder is locked for the run; the tables are
    staged under ``OUT/.work/next`` and moved into place only when all are written, so
    a run that fails leaves a previous run in the folder as it was. With ``resume``,
    batches already checkpointed by an interrupted run with the same input, config and
    model are reused (a damaged checkpoint is redone); ``force`` discards the
    checkpoints of another run. ``on_progress(docs, words)`` is called as documents
    finish tagging, on any number of workers (a resumed batch counts at once, with no
    words), for a progress display.
    """
    tagger = tagger or driver_tagger(cfg)
    link_inputs = link_inputs or load_link_inputs(cfg)
    try:
        with RunFolder(out_dir, fresh=force and not resume) as folder:
            return _run_in_folder(raw_docs, cfg, folder, input_desc=input_desc, tagger=tagger,
                                  resume=resume, on_progress=on_progress, link_inputs=link_inputs,
                                  extra_cols=extra_cols, engine=engine)
    except OSError as exc:
        raise os_error(exc, f"cannot write the run into {out_dir}") from None


def _run_in_folder(raw_docs, cfg: Config, folder: RunFolder, *, input_desc, tagger, resume,
                   on_progress, link_inputs, extra_cols=(), engine: Engine | None = None) -> dict[str, Any]:
    started = _now()
    timings = Timings()
    out_dir = folder.out
    work = folder.work
    state = {
        # how many workers tag the batches does not change them: resume with any number
        "config_hash": cfg.hash(exclude=("run",)),
        "input": input_desc,
        "model": [tagger.info.name, tagger.info.version, tagger.info.path],
        "batch_docs": cfg.output.batch_docs,
        "pipeline_version": __version__,
        # an edited alias file changes the links: the checkpoints no longer match
        "aliases_sha256": _file_hash(cfg.resolve_path(cfg.link.aliases_file)),
    }
    state_path = work / "state.json"
    old = _read_state(state_path)
    if old is _DAMAGED:
        log.warning("checkpoint state %s is damaged; its batches are redone", state_path)
        for p in work.glob("batch-*.parquet"):
            p.unlink()
        old = None
    if old is not None:
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

    def todo() -> Iterator[tuple[int, list[RawDoc]]]:
        """The batches still to tag (a readable checkpoint of a batch is reused)."""
        nonlocal n_batches
        t0 = time.perf_counter()
        for i, batch in enumerate(batched(raw_docs, cfg.output.batch_docs)):
            timings.add("read", t0)
            all_ids.extend(d.doc_id for d in batch)
            n_batches = i + 1
            docs_path, ment_path = _batch_paths(work, i)
            if resume and _readable(docs_path) and _readable(ment_path):
                if on_progress:
                    on_progress(len(batch), 0)
            else:
                yield i, batch
            t0 = time.perf_counter()

    votes: dict[int, pd.DataFrame] = {}  # the corpus pass's votes of the batches tagged now

    def done(result: dict[str, Any]) -> None:
        if result.get("votes") is not None:
            votes[result["i"]] = result["votes"]
        for stage, seconds in result["timings"].items():
            timings.seconds[stage] = timings.seconds.get(stage, 0.0) + seconds
        timings.words += result.get("words", 0)
        timings.worker_peak_mb = max(timings.worker_peak_mb, float(result.get("peak_rss_mb", 0.0)))

    extra = tuple(extra_cols)
    # one engine for the run's stages: tagging, then the per-part corpus pass and quotes
    engine = engine if engine is not None else Engine.for_config(cfg)
    with engine:
        # with workers the driver waits while they tag: it builds the place gazetteer then
        # (once the cluster is up: the thread would slow its start)
        warm = None
        if engine.distributed:
            import threading

            warm = threading.Thread(target=_prewarm, name="pipeline-prewarm", daemon=True)
            warm.start()
        engine.run_batches(todo(), checkpoint_batch, (cfg, str(work), None, extra), done,
                           local_task_args=(cfg, str(work), tagger, extra, on_progress), on_progress=on_progress)
        if warm is not None:
            warm.join()
        _check_unique(all_ids)
        mapper = engine.map

        # the stages after tagging, part by part (the checkpointed batches): memory follows
        # the distinct names and one part, not the run's mentions
        store = PartStore(work)
        doc_files = [str(_batch_paths(work, i)[0]) for i in range(n_batches)]
        ment_files = [str(_batch_paths(work, i)[1]) for i in range(n_batches)]
        # the documents checkpoints get the pass's mention counts where it works on them
        ment_parts, _ = timed(timings, "ner", corpus_pass_parts, doc_files, ment_files, cfg, store, mapper,
                              votes=[votes.get(i) for i in range(n_batches)])
        from .write import TableWriter, write_json

        staging = folder.stage()
        t_write = time.perf_counter()  # when the first table is handed to the writer
        with ThreadPoolExecutor(1, thread_name_prefix="pipeline-quotes") as pool, \
                TableWriter(staging, cfg.output.formats, escape_formulas=cfg.output.csv_escape_formulas) as writer:
            quoting = []
            # the documents are final once the corpus pass has counted their mentions: they
            # are written while this process links (a core the linking leaves idle)
            writer.submit(doc_files, schemas.with_extra("documents", extra))

            def mentions_ready(mention_parts: list) -> None:
                """The mentions table is written in the background from here on; with
                workers, they find the quotations meanwhile, while this process counts the
                co-occurrences and the entities' attributes."""
                writer.submit(mention_parts, "mentions")
                if engine.distributed:
                    quoting.append(pool.submit(timed, timings, "quotes", quote_parts, doc_files, mention_parts,
                                               cfg, store, mapper))

            linked = timed(timings, "link", link_run, doc_files, ment_parts, cfg, store, link_inputs=link_inputs,
                           doc_ids=all_ids, mapper=mapper, on_mentions=mentions_ready)
            for name in ("entities", "cooccurrences", "links"):
                writer.submit(getattr(linked, name), name)
            quotes = (quoting[0].result() if quoting
                      else timed(timings, "quotes", quote_parts, doc_files, linked.mentions, cfg, store, mapper))
            engine.close_in_background()  # the workers go while the last tables are written
            if cfg.quotes.enabled:
                writer.submit(quotes, "quotes")
            writer.wait()
            # the tables' writing, from its start (overlapping the linking and the quotations)
            timings.add("write", t_write)
        status = _status_counts([Path(p) for p in doc_files])
        tables = {"documents": pd.DataFrame({"doc_id": status["ids"], "status": status["status"]}),
                  "entities": linked.entities, "cooccurrences": linked.cooccurrences, "links": linked.links}
        manifest = build_manifest(cfg, tagger, tables, timings, started, input_desc,
                                  rows={"mentions": linked.n_mentions, "quotes": n_rows(quotes)})
        write_json(manifest, staging / "manifest.json")
        folder.publish()
        return manifest


def _prewarm() -> None:
    """Build the lookup tables the final stages need (the place gazetteer, cached once
    per process), so that a driver that waits for its workers has them ready."""
    try:
        from .places import gazetteer

        gazetteer()
    except Exception:  # noqa: BLE001  the final stage builds (and reports) it again
        log.debug("prewarming the gazetteer failed", exc_info=True)


def checkpoint_batch(i: int, batch: list[RawDoc], cfg: Config, work: str,
                     tagger: NerTagger | None = None, extra: tuple[str, ...] = (),
                     on_doc: Callable[[int, int], None] | None = None) -> dict[str, Any]:
    """Normalise and tag batch ``i`` and write it as a checkpoint under ``work`` (on
    whichever process or machine runs it; the model is loaded once per process).
    Returns the number of documents and the seconds spent per stage. ``on_doc`` as in
    :func:`process_batch`; on a Dask worker, progress goes to the driver as events
    (:func:`pipeline.engine.progress_reporter`)."""
    from .api import get_tagger
    from .engine import progress_reporter

    timings = Timings()
    tagger = tagger or get_tagger(cfg)
    on_doc = on_doc or progress_reporter(i)
    documents, mentions = process_batch(batch, tagger, cfg, timings, extra, on_doc)
    t1 = time.perf_counter()
    docs_path, ment_path = _batch_paths(Path(work), i)
    _write_parquet_atomic(pa.Table.from_pandas(mentions, preserve_index=False), ment_path)
    _write_parquet_atomic(schemas.to_arrow(documents, schemas.with_extra("documents", extra)), docs_path)
    t2 = timings.add("write", t1)
    # the batch's votes for the corpus pass, counted here while its mentions are at hand
    # (the pass needs them all before it starts: no round of tasks to read them again)
    votes = corpus_votes_task(mentions) if cfg.ner.corpus_pass else None
    timings.add("ner", t2)
    return {"i": i, "n": len(batch), "timings": dict(timings.seconds), "words": timings.words,
            "peak_rss_mb": peak_rss_mb(), "votes": votes}


def peak_rss_mb() -> float:
    """This process's peak resident memory so far, in MB (0 where unknown)."""
    try:
        import resource
    except ImportError:  # pragma: no cover - Windows
        return 0.0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / (1024 * 1024) if sys.platform == "darwin" else peak / 1024


_DAMAGED = object()


def _file_hash(path: Path | None) -> str | None:
    import hashlib

    if path is None or not Path(path).is_file():
        return None
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def _read_state(path: Path):
    """The checkpoint state of an earlier run: a dict, None when absent, _DAMAGED when
    the file cannot be read back (a run killed while writing it, an edit)."""
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return _DAMAGED
    return data if isinstance(data, dict) else _DAMAGED


def _readable(path: Path) -> bool:
    """A checkpoint that exists and whose Parquet footer reads back; else it is redone."""
    if not path.exists():
        return False
    try:
        pq.read_metadata(path)
        return True
    except Exception:  # noqa: BLE001  any damage means: compute the batch again
        log.warning("checkpoint %s is damaged; the batch is redone", path)
        return False


def _status_counts(doc_files: list[Path]) -> dict[str, list]:
    ids, status = [], []
    for p in doc_files:
        t = pq.read_table(p, columns=["doc_id", "status"])
        ids.extend(t.column("doc_id").to_pylist())
        status.extend(t.column("status").to_pylist())
    return {"ids": ids, "status": status}


def _batch_paths(work: Path, i: int) -> tuple[Path, Path]:
    return work / f"batch-{i:06d}.documents.parquet", work / f"batch-{i:06d}.mentions.parquet"


__all__ = ["process_batch", "finalize", "run_in_memory", "run_to_dir", "prepare_out_dir", "cooccurrences"]
