"""Quotation extraction on the German Wikinews quotation gold (train and dev, scored apart).

    python benchmarks/bench_quotes.py                # cached mentions, score train and dev
    python benchmarks/bench_quotes.py --no-mentions  # spans only, no speaker entities
    python benchmarks/bench_quotes.py --refresh      # rerun the pipeline for mentions

The articles and gold are read from ``../shared/data/wikinews-de/`` at run time and never
copied into the repository (CC BY-NC-SA). Linked mentions come from one run of
:func:`pipeline.run` over both files, cached in ``outputs/bench_quotes/mentions.parquet``
(git-ignored). Develop on train, check on dev: a further split is scored from outside.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DATA = ROOT.parent / "shared" / "data" / "wikinews-de"
OUT = ROOT / "outputs" / "bench_quotes"
SPLITS = ("train", "dev")


def read_articles(split: str) -> pd.DataFrame:
    with open(DATA / f"{split}.articles.jsonl", encoding="utf-8") as fh:
        rows = [json.loads(line) for line in fh]
    return pd.DataFrame({"doc_id": [r["id"] for r in rows], "text": [r["text"] for r in rows]})


def mentions_for(refresh: bool) -> pd.DataFrame:
    cache = OUT / "mentions.parquet"
    if cache.exists() and not refresh:
        return pd.read_parquet(cache)
    import pipeline

    arts = pd.concat([read_articles(s) for s in SPLITS], ignore_index=True)
    t0 = time.perf_counter()
    res = pipeline.run(dict(zip(arts["doc_id"], arts["text"])))
    print(f"pipeline run for mentions: {time.perf_counter() - t0:.0f} s")
    OUT.mkdir(parents=True, exist_ok=True)
    m = res.mentions[["doc_id", "start_char", "end_char", "text", "label", "kind", "entity_id"]]
    m.to_parquet(cache)
    return m


def main() -> None:
    from pipeline.evaluate_quotes import evaluate_quotes, format_quotes_report
    from pipeline.quotes import extract_all

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--no-mentions", action="store_true", help="score spans without mentions")
    ap.add_argument("--refresh", action="store_true", help="recompute the cached mentions")
    ap.add_argument("--json", action="store_true", help="print the reports as JSON too")
    args = ap.parse_args()
    ments = None if args.no_mentions else mentions_for(args.refresh)
    for split in SPLITS:
        arts = read_articles(split)
        m = None if ments is None else ments[ments["doc_id"].isin(set(arts["doc_id"]))]
        t0 = time.perf_counter()
        quotes = extract_all(arts, m)
        secs = time.perf_counter() - t0
        rep = evaluate_quotes(quotes, DATA / f"{split}.quotes.jsonl", m)
        print(f"\n== {split}: {len(arts)} articles, {len(quotes)} quotes in {secs:.2f} s")
        print(format_quotes_report(rep))
        if args.json:
            print(json.dumps(rep, indent=1))


if __name__ == "__main__":
    main()
