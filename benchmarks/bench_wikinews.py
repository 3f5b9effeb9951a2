"""Corpus-scale linking check on the German Wikinews articles (train + dev, 850 articles).

    python benchmarks/bench_wikinews.py              # NER once (cached), link, score
    python benchmarks/bench_wikinews.py --show 25    # more merges/splits
    python benchmarks/bench_wikinews.py --refresh    # redo NER (after a model change)
    python benchmarks/bench_wikinews.py --set link.abbreviations=false

The articles are read from ``../shared/data/wikinews-de/`` at run time and never copied
into the repository (CC BY-NC-SA). Step (a) normalises and tags them once and caches the
pre-link documents and mentions (with the ``next_chars`` column the abbreviation level
uses) under ``outputs/bench_wikinews/cache/`` (git-ignored); step (b) links the cached
mentions with :func:`pipeline.link.link` as ``run.finalize`` does and writes
``mentions.parquet`` / ``entities.parquet`` / ``links.parquet`` to
``outputs/bench_wikinews/run/``; step (c) scores that folder with
``../shared/eval/score_surfaces.py`` against the Wikinews surface gold and prints the
figures, the biggest merges and splits, and the link time.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SHARED = ROOT.parent / "shared"
DATA = SHARED / "data" / "wikinews-de"
GOLD = SHARED / "eval" / "wikinews-surfaces" / "surface_gold.jsonl"
SCORER = SHARED / "eval" / "score_surfaces.py"
OUT = ROOT / "outputs" / "bench_wikinews"
FILES = ("train.articles.jsonl", "dev.articles.jsonl")


def tag_corpus(cfg, cache: Path) -> None:
    """Read, normalise and tag both files once; cache documents and pre-link mentions."""
    import itertools

    import pandas as pd

    from pipeline.ner.model import NerTagger
    from pipeline.read import iter_documents
    from pipeline.run import batched, process_batch

    tagger = NerTagger.from_config(cfg.ner)
    raw = itertools.chain.from_iterable(iter_documents(DATA / f, cfg.input) for f in FILES)
    docs, ments = [], []
    t0 = time.perf_counter()
    for batch in batched(raw, cfg.output.batch_docs):
        d, m = process_batch(batch, tagger, cfg)
        docs.append(d)
        ments.append(m)
    cache.mkdir(parents=True, exist_ok=True)
    pd.concat(docs, ignore_index=True).to_parquet(cache / "documents.parquet")
    pd.concat(ments, ignore_index=True).to_parquet(cache / "mentions.parquet")
    print(f"tagged {sum(map(len, docs))} documents, {sum(map(len, ments))} mentions "
          f"in {time.perf_counter() - t0:.0f} s -> {cache}")


def link_cached(cfg, cache: Path, run_dir: Path) -> float:
    """Link the cached mentions as ``run.finalize`` does; write the run folder."""
    import pandas as pd

    from pipeline import schemas
    from pipeline.link import link, load_aliases

    mentions = pd.read_parquet(cache / "mentions.parquet")
    aliases_path = cfg.resolve_path(cfg.link.aliases_file)
    aliases = load_aliases(aliases_path) if aliases_path else None
    t0 = time.perf_counter()
    try:
        linked, entities, links = link(mentions, cfg.link, aliases=aliases, return_links=True)
    except TypeError:  # a linker without the links table
        (linked, entities), links = link(mentions, cfg.link, aliases=aliases), pd.DataFrame()
    dt = time.perf_counter() - t0
    extra = [c for c in ("model_label", "affiliation") if c in linked.columns]
    linked = linked.sort_values(["doc_id", "start_char", "end_char"]).reset_index(drop=True)
    linked = schemas.conform(linked, "mentions").assign(**{c: linked[c] for c in extra})
    run_dir.mkdir(parents=True, exist_ok=True)
    linked.to_parquet(run_dir / "mentions.parquet")
    entities.to_parquet(run_dir / "entities.parquet")
    links.to_parquet(run_dir / "links.parquet")
    return dt


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--refresh", action="store_true", help="redo NER even if the cache exists")
    ap.add_argument("--show", type=int, default=15, help="merges/splits to print")
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="config override")
    ap.add_argument("--json", action="store_true", help="print the scorer's JSON instead")
    a = ap.parse_args()
    missing = [str(p) for p in [*(DATA / f for f in FILES), GOLD, SCORER] if not p.exists()]
    if missing:
        print("missing: " + ", ".join(missing), file=sys.stderr)
        return 3

    from pipeline.config import load_config

    cfg = load_config(overrides=a.set)
    cache, run_dir = OUT / "cache", OUT / "run"
    if a.refresh or not (cache / "mentions.parquet").exists():
        tag_corpus(cfg, cache)
    dt = link_cached(cfg, cache, run_dir)
    print(f"link(): {dt:.2f} s -> {run_dir}")
    cmd = [sys.executable, str(SCORER), str(run_dir), str(GOLD), "--show", str(a.show)]
    if a.json:
        cmd.append("--json")
    res = subprocess.run(cmd, capture_output=True, text=True)
    sys.stdout.write(res.stdout)
    sys.stderr.write(res.stderr)
    if a.json:
        return res.returncode
    with open(run_dir / "score.json", "w", encoding="utf-8") as fh:
        out = subprocess.run(cmd + ["--json"], capture_output=True, text=True).stdout
        fh.write(out)
        summary = json.loads(out) if out.strip() else {}
    if summary:
        print("coverage", summary.get("coverage"))
    return res.returncode


if __name__ == "__main__":
    sys.exit(main())
