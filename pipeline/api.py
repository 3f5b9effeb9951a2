"""The Python API: ``run(...)`` returns a :class:`Result`; ``load(dir)`` reads one back."""

from __future__ import annotations

import functools
import json
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from . import __version__, schemas
from .config import Config, as_config
from .errors import InputError
from .write import OPTIONAL_TABLES, TABLE_NAMES, read_table, write_json, write_table


@dataclass
class Result:
    """The tables of one run. ``write(dir)`` saves them; ``load(dir)`` reads them back."""

    documents: pd.DataFrame
    mentions: pd.DataFrame
    entities: pd.DataFrame
    cooccurrences: pd.DataFrame
    links: pd.DataFrame = field(default_factory=lambda: schemas.empty("links"))
    quotes: pd.DataFrame = field(default_factory=lambda: schemas.empty("quotes"))
    manifest: dict[str, Any] = field(default_factory=dict)

    def __repr__(self) -> str:
        d = self.documents
        failed = int((d["status"] == "error").sum()) if len(d) else 0
        model = self.manifest.get("model", {}).get("name", "?")
        return (f"<Result: {len(d)} documents ({failed} failed), {len(self.mentions)} mentions, "
                f"{len(self.entities)} entities, {len(self.cooccurrences)} co-occurrence pairs; model {model}>")

    def tables(self) -> dict[str, pd.DataFrame]:
        return {name: getattr(self, name) for name in TABLE_NAMES}

    def write(self, out_dir: str | Path, formats: Sequence[str] = ("csv", "parquet"), *, force: bool = False,
              escape_formulas: bool = True) -> Path:
        """Write every table and manifest.json into ``out_dir``.

        The same policy as the CLI (:mod:`pipeline.outdir`): a folder holding a previous
        run is replaced only with ``force=True``, and then only the files a run writes
        (tables of formats not written again are removed, so ``load()`` never reads a
        stale table); a folder of other files is refused. The tables are staged and moved
        into place when all are written. CSV text cells that a spreadsheet would run as a
        formula are escaped unless ``escape_formulas=False`` (``load()`` undoes it).
        """
        from .outdir import RunFolder, check_out_dir, os_error
        from .write import record_layout

        out = check_out_dir(out_dir, None, force=force)
        formats = list(formats)
        unknown = sorted(set(formats) - {"csv", "parquet"})
        if unknown or not formats:
            raise InputError(f"unknown output format(s) {unknown or formats}; use csv and/or parquet")
        try:
            with RunFolder(out, fresh=True) as folder:
                staging = folder.stage()
                for name, df in self.tables().items():
                    write_table(df, name, staging, formats, escape_formulas=escape_formulas)
                manifest = record_layout(self.manifest, formats, escape_formulas)
                manifest.setdefault("pipeline_version", __version__)
                write_json(manifest, staging / "manifest.json")
                folder.publish()
        except OSError as exc:
            raise os_error(exc, f"cannot write the run into {out}") from None
        return Path(out_dir)

    to_parquet = functools.partialmethod(write, formats=("parquet",))

    def explain(self, query: str) -> str:
        """Why the entity named ``query`` (an id, or a name matched case- and
        accent-insensitively) holds what it holds: its names, the links that joined them
        (rule, score, evidence mention ids) and the merges that were refused."""
        from .explain import explain_entities

        return explain_entities(self.entities, self.mentions, self.links, query)

    def entity(self, query: str) -> pd.DataFrame:
        """Mentions of the entities named ``query``: an entity id, or a canonical name or
        alias matched case- and accent-insensitively ("kim jong un", "PUTIN", "Pjongjang")."""
        from .explain import find_entities

        hit = find_entities(self.entities, query)
        return self.mentions[self.mentions["entity_id"].isin(hit["entity_id"])]

    def kwic(self, query: str, width: int = 60) -> pd.DataFrame:
        """Keyword in context: every mention of the entities named ``query`` (as for
        :meth:`entity`) with ``width`` characters of text on each side, in document order.
        Columns: doc_id, mention_id, entity_id, left, mention, right, sentence."""
        m = self.entity(query).sort_values(["doc_id", "start_char"])
        texts = dict(zip(self.documents["doc_id"], self.documents["text"]))
        rows = []
        for r in m.itertuples(index=False):
            t = texts.get(r.doc_id, "")
            ss, se = getattr(r, "sentence_start", None), getattr(r, "sentence_end", None)
            sentence = t[int(ss):int(se)] if pd.notna(ss) and pd.notna(se) else None
            rows.append({"doc_id": r.doc_id, "mention_id": r.mention_id, "entity_id": r.entity_id,
                         "left": " ".join(t[max(0, r.start_char - width):r.start_char].split()),
                         "mention": r.text,
                         "right": " ".join(t[r.end_char:r.end_char + width].split()),
                         "sentence": sentence})
        return pd.DataFrame(rows, columns=["doc_id", "mention_id", "entity_id", "left", "mention", "right", "sentence"])


def load(run_dir: str | Path) -> Result:
    """Read a finished run into a :class:`Result`, exactly as it was written.

    Parquet is preferred, CSV otherwise (escaping undone, lists parsed), among the formats
    the run's manifest lists. A folder that holds no run raises :class:`InputError`; a
    missing, truncated or edited table or manifest raises :class:`BrokenRunError` naming
    the file and what is wrong."""
    from .write import read_manifest, table_files

    run_dir = Path(run_dir)
    if not run_dir.is_dir():
        raise InputError(f"no run directory at {run_dir}")
    manifest = read_manifest(run_dir)
    if manifest is None and not table_files(run_dir):
        raise InputError(f"{run_dir} does not hold a pipeline run (no manifest.json and no "
                         f"{'/'.join(TABLE_NAMES)} .parquet or .csv tables)")
    tables = {}
    for name in TABLE_NAMES:
        present = any((run_dir / f"{name}.{fmt}").is_file() for fmt in ("parquet", "csv"))
        # a run from before a table existed has none: an empty table, not an error
        tables[name] = (read_table(run_dir, name) if present or name not in OPTIONAL_TABLES
                        else schemas.empty(name))
    return Result(**tables, manifest=manifest or {})


@functools.lru_cache(maxsize=4)
def _tagger(ner_cfg_json: str):
    from .config import NerConfig
    from .ner.model import NerTagger

    return NerTagger.from_config(NerConfig(**json.loads(ner_cfg_json)))


_TAGGER_LOCK = threading.Lock()


def tagger_for(ner_cfg_json: str):
    """The loaded tagger for a ``NerConfig`` as JSON, cached; one thread loads a model
    while the others wait for it (a Dask worker loads it as it starts, see
    :func:`pipeline.engine.dask_setup`, while its first batch may already ask for it)."""
    with _TAGGER_LOCK:
        return _tagger(ner_cfg_json)


def get_tagger(cfg: Config):
    """A loaded tagger for ``cfg.ner``; cached so notebooks load each model once."""
    return tagger_for(cfg.ner.model_dump_json())


def run(
    data: str | Path | Sequence[str] | Mapping[str, str] | pd.DataFrame,
    config: Config | str | Path | dict[str, Any] | None = None,
    *,
    model: str | None = None,
) -> Result:
    """Run the whole pipeline in memory.

    ``data`` is a list of texts, a ``{doc_id: text}`` mapping, a DataFrame (columns
    ``input.text_col`` / ``input.id_col``), or a path (folder, text file, .jsonl/.csv/.parquet).
    ``config`` is a Config, a TOML file merged over the defaults, or a nested dict of
    overrides such as ``{"ner": {"model": "de_core_news_sm"}}``.
    """
    from .read import check_input, documents_from_texts, input_fingerprint, iter_documents, meta_columns
    from .run import run_in_memory

    cfg = as_config(config)
    if model:
        cfg = cfg.model_copy(update={"ner": cfg.ner.model_copy(update={"model": model})})
    extra: list[str] = []
    if isinstance(data, (str, Path)):
        check_input(data, cfg.input)
        extra = meta_columns(data, cfg.input)
        raw = iter_documents(data, cfg.input)
        desc = {"kind": "path", "path": str(data), "fingerprint": input_fingerprint(data, cfg.input)}
    else:
        if isinstance(data, pd.DataFrame):
            raw = documents_from_texts(data, cfg=cfg.input)
            from .read import _select_meta

            extra = _select_meta([str(c) for c in data.columns], cfg.input, "DataFrame")
        elif isinstance(data, Mapping):
            raw = documents_from_texts(list(data.values()), ids=list(data.keys()), cfg=cfg.input)
        else:
            raw = documents_from_texts(list(data), cfg=cfg.input)
        desc = {"kind": "memory"}
    tables, manifest = run_in_memory(raw, cfg, tagger=get_tagger(cfg), extra_cols=extra)
    manifest["input"] = desc
    return Result(**tables, manifest=manifest)


def run_to_dir(
    input: str | Path,
    out_dir: str | Path | None = None,
    config: Config | str | Path | dict[str, Any] | None = None,
    *,
    force: bool = False,
    resume: bool = False,
    on_total: Callable[[int], None] | None = None,
    on_progress: Callable[[int, int], None] | None = None,
) -> tuple[Path, dict[str, Any]]:
    """Run the pipeline over ``input`` (a folder, a file or a table) into ``out_dir``
    (default ``outputs/<input name>``), streaming in checkpointed batches, on as many
    workers as ``config`` says (``run.workers``, ``run.scheduler``); what ``pipeline run``
    does, and the same checks first: configuration, input, alias file, previous
    entities, model and output folder are all validated before anything is written.
    Returns the output folder and the run's manifest; ``load(out_dir)`` reads the tables.

    ``on_total(n)`` gets the number of documents before the run starts and
    ``on_progress(docs, words)`` the documents as they finish, for a progress display.
    """
    import os

    from .engine import Engine
    from .read import _printable, check_input, count_documents, input_fingerprint, iter_documents, meta_columns
    from .run import driver_tagger, load_link_inputs, prepare_out_dir
    from .run import run_to_dir as _run_to_dir

    cfg = as_config(config)
    input = Path(input)
    if not os.path.lexists(input):
        raise InputError(f"input not found: {input}")
    out = Path(out_dir) if out_dir is not None else Path("outputs") / _printable(
        input.stem if input.is_file() else input.resolve().name)
    check_input(input, cfg.input)
    extra_cols = meta_columns(input, cfg.input)
    link_inputs = load_link_inputs(cfg)
    prepare_out_dir(out, input, force=force, resume=resume)
    n_docs = count_documents(input, cfg.input)
    cfg = _resolve_workers(cfg, input, n_docs)
    # a cluster's workers start (and import the pipeline) while the model is described
    # and the input fingerprinted here
    engine = Engine.for_config(cfg).start_in_background()
    try:
        tagger = driver_tagger(cfg)  # with workers, the model is loaded by them, not here
        desc = {"kind": "path", "path": _printable(str(input)), "fingerprint": input_fingerprint(input, cfg.input)}
        if on_total is not None:
            on_total(n_docs)
        manifest = _run_to_dir(iter_documents(input, cfg.input), cfg, out, input_desc=desc, tagger=tagger,
                               resume=resume, force=force, link_inputs=link_inputs, extra_cols=extra_cols,
                               on_progress=on_progress, engine=engine)
    finally:
        engine.close()
    return out, manifest


def _resolve_workers(cfg: Config, input: Path, n_docs: int | None) -> Config:
    """``cfg`` with ``run.workers = "auto"`` resolved for this input
    (:func:`pipeline.engine.auto_workers`); a scheduler's cluster has its own workers."""
    if cfg.run.workers != "auto":
        return cfg
    from .config import available_cores, available_memory
    from .engine import auto_workers
    from .read import input_size

    n = 1
    if not cfg.run.scheduler:
        batches = None if n_docs is None else -(-n_docs // cfg.output.batch_docs)
        n = auto_workers(input_size(input, cfg.input), batches, available_cores(), available_memory())
    return cfg.model_copy(update={"run": cfg.run.model_copy(update={"workers": n})})


__all__ = ["Result", "run", "run_to_dir", "load", "schemas"]
