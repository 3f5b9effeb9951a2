"""The `pipeline` command line: a thin typer shell over the API functions.

Exit codes: 0 every document succeeded; 1 some documents failed (listed in
``documents`` with status ``error``); 2 usage errors (bad options, config, input, model,
an output folder that may not be used); 3 the environment refused (permissions, disk
full, read-only file system).
"""

from __future__ import annotations

import json
import logging
import shlex
import sys
import time
from pathlib import Path
from typing import Annotated, Optional

import typer

from . import __version__
from .errors import InputError, PipelineError
from .outdir import os_error

app = typer.Typer(add_completion=False, no_args_is_help=True, help=__doc__.split("\n")[0])
log = logging.getLogger("pipeline")


def _fail(exc: Exception, code: int = 2) -> None:
    typer.echo(f"error: {exc}", err=True)
    raise typer.Exit(code)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"pipeline {__version__}")
        raise typer.Exit(0)


@app.callback()
def main(
    version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                          help="Print the version and exit.")] = False,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Log progress details.")] = False,
) -> None:
    """German news entity extraction: read -> normalize -> NER -> link -> write."""
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")


@app.command("run")
def run_cmd(
    input: Annotated[Path, typer.Argument(help="Folder of text files, a text file, or a .jsonl/.csv/.parquet table.")],
    out: Annotated[Optional[Path], typer.Option("--out", "-o", help="Output folder (default outputs/<input name>).")] = None,
    config: Annotated[Optional[Path], typer.Option("--config", "-c", help="TOML file merged over configs/default.toml.")] = None,
    set_: Annotated[Optional[list[str]], typer.Option("--set", help="Override one setting: section.key=value (repeatable).")] = None,
    model: Annotated[Optional[str], typer.Option("--model", "-m", help='"bundled", an installed spaCy package, or a path.')] = None,
    format: Annotated[Optional[str], typer.Option("--format", "-f", help="csv, parquet or csv,parquet.")] = None,
    glob: Annotated[Optional[str], typer.Option("--glob", help="File pattern inside a folder (default *.txt).")] = None,
    text_col: Annotated[Optional[str], typer.Option("--text-col", help="Text column of a table input.")] = None,
    id_col: Annotated[Optional[str], typer.Option("--id-col", help="Id column of a table input.")] = None,
    strict: Annotated[bool, typer.Option("--strict", help="Fail on malformed table lines instead of reporting them.")] = False,
    entities: Annotated[Optional[Path], typer.Option("--entities", help="A previous run's entities table (or run folder): its entity ids are kept.")] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing output folder.")] = False,
    resume: Annotated[bool, typer.Option("--resume", help="Finish an interrupted run in --out, reusing its batches.")] = False,
    keep_cols: Annotated[Optional[str], typer.Option("--keep-cols", help="Table inputs: the other columns kept in documents, comma-separated (default all).")] = None,
    meta: Annotated[Optional[Path], typer.Option("--meta", help="Folder inputs: a metadata table (.jsonl/.csv/.parquet) with a doc_id column, joined on doc_id.")] = None,
    date_col: Annotated[Optional[str], typer.Option("--date-col", help='Table inputs: the column parsed into documents.date (default "date").')] = None,
    aliases: Annotated[Optional[Path], typer.Option("--aliases", help="Analyst alias file (canonical_name,alias,label,action) instead of configs/aliases.csv.")] = None,
    workers: Annotated[Optional[str], typer.Option("--workers", "-w", metavar="N|auto", help="Processes that tag documents: N (a Dask LocalCluster when > 1), 0 = one per core, auto = one per core for inputs of 1 MB or more (the default).")] = None,
    scheduler: Annotated[Optional[str], typer.Option("--scheduler", help="Run on an existing Dask cluster: its scheduler address, tcp://host:8786.")] = None,
) -> None:
    """Extract persons, places and organisations from German articles into tables."""
    from .config import load_config, parse_overrides
    from .api import run_to_dir

    t_start = time.perf_counter()
    try:
        # everything is validated (config, input, alias file, --entities, model, output
        # folder) before anything is written; the output folder is only touched by the run
        overrides = parse_overrides(set_)
        for section, key, value in [("ner", "model", model), ("output", "formats", format),
                                    ("input", "glob", glob), ("input", "text_col", text_col),
                                    ("input", "id_col", id_col), ("input", "strict", True if strict else None),
                                    ("run", "workers", _count_or_word(workers)), ("run", "scheduler", scheduler),
                                    ("link", "aliases_file", str(aliases.resolve()) if aliases else None),
                                    ("input", "keep_cols", [c.strip() for c in keep_cols.split(",") if c.strip()]
                                     if keep_cols is not None else None),
                                    ("input", "date_col", date_col),
                                    ("input", "meta_file", str(meta.resolve()) if meta else None),
                                    ("link", "previous_entities", str(entities.resolve()) if entities else None)]:
            if value is not None:
                overrides.setdefault(section, {})[key] = value
        cfg = load_config(config, overrides)
        progress = _progress()
        with progress:
            task = progress.add_task("documents", total=None, words=0) if progress else None
            words = [0]

            def on_progress(n: int, w: int) -> None:
                words[0] += w
                progress.update(task, advance=n, words=words[0])

            out_dir, manifest = run_to_dir(
                input, out, cfg, force=force, resume=resume,
                on_total=(lambda n: progress.update(task, total=n)) if progress else None,
                on_progress=on_progress if progress else None,
            )
    except PipelineError as exc:
        _fail(exc, exc.exit_code)
    except OSError as exc:
        err = os_error(exc, "cannot complete the run")
        _fail(err, err.exit_code)
    except KeyboardInterrupt:
        args = [a for a in sys.argv[1:] if a not in ("--force", "--resume")]
        typer.echo("\ninterrupted; the finished batches are kept. Continue with:\n  pipeline "
                   + " ".join(shlex.quote(a) for a in args) + " --resume", err=True)
        raise typer.Exit(130) from None
    _summary(manifest, out_dir, time.perf_counter() - t_start)
    raise typer.Exit(1 if manifest["counts"]["documents_error"] else 0)


def _count_or_word(value: str | None) -> int | str | None:
    """An option that takes a number or a word ("--workers 4", "--workers auto")."""
    if value is None:
        return None
    try:
        return int(value)
    except ValueError:
        return value.strip().lower()


class _NoProgress:
    def __bool__(self) -> bool:
        return False

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        return None


def _progress():
    """A rich progress bar on a terminal; nothing when output is piped or in CI."""
    if not sys.stderr.isatty():
        return _NoProgress()
    from rich.progress import (BarColumn, MofNCompleteColumn, Progress, ProgressColumn, SpinnerColumn,
                               TimeElapsedColumn, TimeRemainingColumn)
    from rich.text import Text

    class WordsPerSecond(ProgressColumn):
        def render(self, task) -> Text:
            secs = task.elapsed or 0.0
            words = task.fields.get("words", 0)
            return Text(f"{words / secs:,.0f} words/s" if secs > 0 and words else "", style="progress.data.speed")

    return Progress(SpinnerColumn(), "[progress.description]{task.description}", BarColumn(),
                    MofNCompleteColumn(), WordsPerSecond(), TimeElapsedColumn(), TimeRemainingColumn(),
                    transient=True)


def _summary(manifest: dict, out_dir: Path, seconds: float) -> None:
    c = manifest["counts"]
    lines = [
        f"documents   {c['documents']:>8}  (ok {c['documents_ok']}, empty {c['documents_empty']}, "
        f"failed {c['documents_error']})",
        f"mentions    {c['mentions']:>8}",
        f"entities    {c['entities']:>8}",
        f"model       {manifest['model']['name']} {manifest['model']['version']}",
        f"time        {seconds:>8.1f} s" + (f"  ({manifest['words'] / seconds:,.0f} words/s"
                                               f"{', ' + str(manifest['workers']) + ' workers' if manifest.get('workers', 1) != 1 else ''})"
                                               if manifest.get("words") and seconds > 0 else ""),
        f"output      {out_dir}/ (documents, mentions, entities, cooccurrences, links, quotes; "
        f"{', '.join(manifest['config']['output']['formats'])}; manifest.json)",
    ]
    if c["documents_error"]:
        failed = manifest.get("failed_documents", [])
        lines.append(f"FAILED      {c['documents_error']} documents, listed in documents with status 'error'"
                     + (f": {', '.join(failed[:5])}{' ...' if len(failed) > 5 else ''}" if failed else ""))
    typer.echo("\n".join(lines))


@app.command("info")
def info_cmd(
    model: Annotated[str, typer.Option("--model", "-m", help='"bundled", a spaCy package or a path.')] = "bundled",
    as_json: Annotated[bool, typer.Option("--json", help="Print a JSON object.")] = False,
) -> None:
    """Print the package version, the active model and spaCy's version."""
    import spacy

    from .ner.model import load_model, model_info

    try:
        info = model_info(load_model(model))
    except PipelineError as exc:
        _fail(exc, exc.exit_code)
    data = {"version": __version__, "model_name": info.name, "model_version": info.version,
            "model_path": info.path, "model_source": info.source, "model_labels": list(info.labels),
            "spacy_version": spacy.__version__}
    if as_json:
        typer.echo(json.dumps(data, indent=2))
    else:
        for k, v in data.items():
            typer.echo(f"{k:<14} {', '.join(v) if isinstance(v, list) else v}")


@app.command("evaluate")
def evaluate_cmd(
    run_dir: Annotated[Path, typer.Argument(help="Folder of a finished run.")],
    gold: Annotated[Optional[Path], typer.Option("--gold", help="Gold mentions (.jsonl, seeds-gold format).")] = None,
    surfaces: Annotated[Optional[Path], typer.Option("--surfaces", help="Surface gold (.jsonl: surface, entity, label, ambiguous) for corpus-scale linking.")] = None,
    quotes_gold: Annotated[Optional[Path], typer.Option("--quotes-gold", help="Gold quotations (.jsonl, Wikinews quotation format).")] = None,
    json_out: Annotated[Optional[Path], typer.Option("--json", help="Write the report here (default RUN_DIR/evaluation.json).")] = None,
) -> None:
    """Score a run: against gold mentions (NER P/R/F, linking B-cubed / pairwise), a
    surface gold (corpus-scale linking: B-cubed, label accuracy, junk, top-50 clean)
    and/or gold quotations (span P/R/F per type, speaker accuracy)."""
    from .api import load
    from .evaluate import evaluate_run, format_report
    from .evaluate_surfaces import entity_qc, format_entity_qc, format_surface_report, load_surface_gold, \
        score_surfaces
    from .write import write_json

    try:
        if gold is None and surfaces is None and quotes_gold is None:
            raise PipelineError("give --gold FILE (gold mentions), --surfaces FILE (a surface gold) "
                                "and/or --quotes-gold FILE (gold quotations)")
        if not run_dir.is_dir():
            raise InputError(f"no run directory at {run_dir}")
        for f in (gold, surfaces, quotes_gold):
            if f is not None and not f.is_file():
                raise InputError(f"gold file not found: {f}")
        report: dict = {}
        if gold is not None:
            report = evaluate_run(run_dir, gold)
            typer.echo(format_report(report))
        if surfaces is not None:
            report["surfaces"] = score_surfaces(load(run_dir).mentions, load_surface_gold(surfaces))
            typer.echo(format_surface_report(report["surfaces"]))
        if quotes_gold is not None:
            from .evaluate_quotes import evaluate_quotes, format_quotes_report

            run = load(run_dir)
            report["quotes"] = evaluate_quotes(run.quotes, quotes_gold, run.mentions)
            typer.echo(format_quotes_report(report["quotes"]))
        report["qc"] = entity_qc(load(run_dir).entities)
        typer.echo(format_entity_qc(report["qc"]))
        target = json_out or run_dir / "evaluation.json"
        write_json(report, target)
    except PipelineError as exc:
        _fail(exc, exc.exit_code)
    except OSError as exc:
        err = os_error(exc, "cannot write the evaluation report")
        _fail(err, err.exit_code)
    typer.echo(f"report written to {target}")


@app.command("report")
def report_cmd(
    run_dir: Annotated[Path, typer.Argument(help="Folder of a finished run.")],
    max_entities: Annotated[int, typer.Option("--max-entities", min=1, help="Entities listed on the index page.")] = 2000,
) -> None:
    """Write an offline HTML report into RUN_DIR/report/ and print the path of its index.html."""
    from .report import write_report

    try:
        index = write_report(run_dir, max_entities=max_entities)
    except PipelineError as exc:
        _fail(exc, exc.exit_code)
    except OSError as exc:
        err = os_error(exc, "cannot write the report")
        _fail(err, err.exit_code)
    typer.echo(str(index))


@app.command("explain")
def explain_cmd(
    run_dir: Annotated[Path, typer.Argument(help="Folder of a finished run.")],
    query: Annotated[str, typer.Argument(help="An entity id (PER:wladimir-putin) or a name (case and accents ignored).")],
) -> None:
    """Why an entity holds what it holds: its names, the links that joined them (rule,
    score, evidence) and the merges that were refused."""
    from .api import load

    try:
        typer.echo(load(run_dir).explain(query))
    except PipelineError as exc:
        _fail(exc, exc.exit_code)


@app.command("train")
def train_cmd(
    recipe: Annotated[Path, typer.Option("--recipe", help="Training recipe (corpora, vectors).")] = Path("configs/train.toml"),
    data: Annotated[Path, typer.Option("--data", help="Folder with the corpora named in the recipe.")] = Path("../shared/data"),
    out: Annotated[Optional[Path], typer.Option("--out", help="Where the packaged model goes (default: the bundled model folder).")] = None,
    work: Annotated[Path, typer.Option("--work", help="Scratch folder (DocBins, vectors, checkpoints).")] = Path("training/work"),
    max_steps: Annotated[Optional[int], typer.Option("--max-steps", help="Override training.max_steps.")] = None,
    vectors: Annotated[Optional[bool], typer.Option("--vectors/--no-vectors", help="Train/use floret vectors (default: as the recipe says).")] = None,
) -> None:
    """Train the bundled German news NER model from corpora on disk (reproducible)."""
    from .ner.model import bundled_model_path
    from .ner.train import train_model

    logging.getLogger("pipeline").setLevel(logging.INFO)
    try:
        meta = train_model(recipe, data, out or bundled_model_path(), work, max_steps=max_steps, vectors=vectors)
    except PipelineError as exc:
        _fail(exc, exc.exit_code)
    perf = meta.get("performance", {})
    typer.echo(f"model {meta['name']} {meta['version']} written to {out or bundled_model_path()}; "
               f"dev ents_f={perf.get('ents_f', float('nan')):.3f}")


def entry() -> None:
    """The ``pipeline`` command (and ``python -m pipeline``): the app, then :func:`_leave`."""
    try:
        app(prog_name="pipeline")
    except SystemExit as exc:
        _leave(exc.code)
    _leave(0)


def _leave(code) -> None:
    """Exit with ``code`` once the command is done, without tearing the interpreter down:
    freeing every object a run built (the place gazetteer alone is half a million) takes
    a third of a second, longer than many a small run. The exit handlers run first (log
    handlers flushed, temporary files removed) and the streams are flushed; the outputs
    are complete by then (written through temporary files, then renamed). Under a
    tracer or profiler (coverage, cProfile, a debugger), which reports at the normal
    exit, the exit is normal."""
    if code is None:
        code = 0
    elif not isinstance(code, int):  # sys.exit("message")
        print(code, file=sys.stderr)
        code = 1
    if sys.gettrace() is not None or sys.getprofile() is not None:
        sys.exit(code)
    import atexit
    import os

    atexit._run_exitfuncs()
    for stream in (sys.stdout, sys.stderr):
        try:
            stream.flush()
        except (OSError, ValueError):  # a closed or broken stream: nothing more to say
            pass
    os._exit(code)


if __name__ == "__main__":  # pragma: no cover
    entry()
