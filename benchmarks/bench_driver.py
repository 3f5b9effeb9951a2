"""Benchmark of what a run's driver does with the mentions after tagging, on synthetic mentions.

    python benchmarks/bench_driver.py                      # 1,000,000 mentions, one run
    python benchmarks/bench_driver.py --n 200000 --repeat 3
    python benchmarks/bench_driver.py --json               # last line: a JSON list

The mentions are those of `bench_link.py` (its generator, Parquet parts written first).
Each run is a fresh child process that reads them and measures, one after the other:

- `corpus_names`: `pipeline.ner.corpus_pass.build_corpus_names` over all mentions (the
  corpus pass's names; `norm_text` is the mention text), seconds and the peak RSS it adds;
- `finalize`: `pipeline.run.finalize` (linking, co-occurrences, the cumulative entities
  table, roles and affiliations, place grounding with the gazetteer built inside),
  seconds and the child's peak RSS (reading the mentions included).

Reported: medians over the runs.
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(parts_dir: str) -> None:
    """Measure the driver's stages on the parts in parts_dir; print one JSON line."""
    sys.path.insert(0, str(ROOT))
    import importlib

    import pandas as pd

    from pipeline.config import load_config
    from pipeline.ner.corpus_pass import build_corpus_names

    run = importlib.import_module("pipeline.run")  # `pipeline.run` is also a function
    paths = sorted(Path(parts_dir).glob("part-*.parquet"))
    m = pd.concat([pd.read_parquet(p) for p in paths], ignore_index=True)
    m["norm_text"] = m["text"]
    before = _peak_mb()
    t0 = time.perf_counter()
    names = build_corpus_names(m[["doc_id", "text", "label", "kind", "norm_text"]], min_docs=2)
    names_s = time.perf_counter() - t0
    names_mb = _peak_mb() - before
    del names
    t0 = time.perf_counter()
    linked, entities, co, links = run.finalize(m.drop(columns=["norm_text"]), load_config())
    fin_s = time.perf_counter() - t0
    print(json.dumps({"mentions": len(m), "corpus_names_s": round(names_s, 2),
                      "corpus_names_added_mb": round(names_mb), "finalize_s": round(fin_s, 2),
                      "peak_mb": round(_peak_mb()), "entities": len(entities), "cooccurrences": len(co)}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, nargs="+", default=[1_000_000], help="mention counts")
    ap.add_argument("--repeat", type=int, default=1, help="runs per N (medians reported)")
    ap.add_argument("--json", action="store_true", help="last line of stdout: a JSON list")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--child", metavar="DIR", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.child)
        return
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from bench_link import child_runs, generate_parts

    results = []
    for n in args.n:
        with tempfile.TemporaryDirectory(prefix="bench_driver_") as folder:
            generate_parts(n, folder, seed=args.seed)
            runs = child_runs(__file__, folder, args.repeat, f"the driver's stages on {n:,} mentions")
        med = {k: statistics.median(r[k] for r in runs) for k in runs[0]}
        med["runs"] = len(runs)
        results.append(med)
        if not args.json:
            print(f"{int(med['mentions']):,} mentions, {len(runs)} run(s): corpus names "
                  f"{med['corpus_names_s']:.2f} s (+{med['corpus_names_added_mb']:.0f} MB), finalize "
                  f"{med['finalize_s']:.2f} s, peak {med['peak_mb']:,.0f} MB", flush=True)
    if args.json:
        print(json.dumps(results))


if __name__ == "__main__":
    main()
