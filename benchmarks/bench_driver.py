"""Benchmark of what a run's driver does with the mentions after tagging, on synthetic mentions.

    python benchmarks/bench_driver.py                          # 1,000,000 mentions, both ways
    python benchmarks/bench_driver.py --n 1000000 10000000 --mode parts --json
    python benchmarks/bench_driver.py --n 200000 --repeat 3

The mentions are those of `bench_link.py` (its generator), written first as Parquet parts
of `--part-size` mentions (50,000: a run's checkpointed batches, grouped by the run into
parts of `run.part_mentions`), with a documents part (its ids) beside each. Each
measurement is a fresh child process, in one of two ways:

- `parts` (what `pipeline run` does, `pipeline/finish.py`): the corpus names from the
  votes of each part (`names_from_votes`), then `link_run` over the parts with the run's
  work folder (linking by `link_parts`, the mention parts in the documents' order,
  co-occurrences, the cumulative entities, roles, affiliations, place grounding with the
  gazetteer built inside), then the mentions table written part by part (Parquet and CSV);
- `memory` (what the run did before, and what `run.finalize` still does for a table in
  memory): every mention read into one table, `build_corpus_names` over it,
  `run.finalize`, the mentions table written from memory.

Reported per way and size: seconds of those stages and the child's peak RSS (reading
included); medians over the runs, the ways alternated.
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


def child(parts_dir: str, mode: str) -> None:
    """Measure the driver's stages on the parts in parts_dir; print one JSON line."""
    sys.path.insert(0, str(ROOT))
    import importlib

    import pandas as pd

    from pipeline.config import load_config
    from pipeline.write import write_table, write_table_parts

    run = importlib.import_module("pipeline.run")  # `pipeline.run` is also a function
    cfg = load_config(overrides=["quotes.enabled=false"])
    ment = sorted(str(p) for p in Path(parts_dir).glob("part-*.parquet"))
    docs = sorted(str(p) for p in Path(parts_dir).glob("docs-*.parquet"))
    with tempfile.TemporaryDirectory(prefix="bench_driver_out_", dir=parts_dir) as out:
        t0 = time.perf_counter()
        if mode == "parts":
            from pipeline.finish import PartStore, link_run
            from pipeline.ner.corpus_pass import corpus_votes, names_from_votes
            from pipeline.tables import read_part

            cols = ["doc_id", "text", "label", "kind", "norm_text"]
            names = names_from_votes((corpus_votes(read_part(p, cols)) for p in ment), min_docs=2)
            work = Path(out) / "work"
            work.mkdir()
            res = link_run(docs, ment, cfg, PartStore(work), link_inputs=run.LinkInputs())
            write_table_parts(res.mentions, "mentions", Path(out), ["parquet", "csv"])
            n, entities, co = res.n_mentions, len(res.entities), len(res.cooccurrences)
        else:
            from pipeline.ner.corpus_pass import build_corpus_names

            m = pd.concat([pd.read_parquet(p) for p in ment], ignore_index=True)
            names = build_corpus_names(m[["doc_id", "text", "label", "kind"]], min_docs=2)
            linked, ents, co_t, _ = run.finalize(m, cfg, link_inputs=run.LinkInputs())
            write_table(linked, "mentions", Path(out), ["parquet", "csv"])
            n, entities, co = len(linked), len(ents), len(co_t)
        seconds = time.perf_counter() - t0
    print(json.dumps({"mode": mode, "mentions": n, "seconds": round(seconds, 2), "peak_mb": round(_peak_mb()),
                      "corpus_names": len(names), "entities": entities, "cooccurrences": co}))


def write_doc_parts(folder: str) -> None:
    """Beside each mention part, a documents part with its documents' ids in order."""
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    for p in sorted(Path(folder).glob("part-*.parquet")):
        ids = pc.unique(pq.read_table(p, columns=["doc_id"]).column("doc_id").combine_chunks())
        pq.write_table(pa.table({"doc_id": ids}), p.with_name(p.name.replace("part-", "docs-")))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, nargs="+", default=[1_000_000], help="mention counts")
    ap.add_argument("--mode", choices=["parts", "memory", "both"], default="both")
    ap.add_argument("--part-size", type=int, default=50_000, help="mentions per generated part")
    ap.add_argument("--repeat", type=int, default=1, help="runs per N and way (medians reported)")
    ap.add_argument("--json", action="store_true", help="last line of stdout: a JSON list")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--child", metavar="DIR", help=argparse.SUPPRESS)
    ap.add_argument("--child-mode", default="parts", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.child, args.child_mode)
        return
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    from bench_link import child_runs, generate_parts

    modes = ["parts", "memory"] if args.mode == "both" else [args.mode]
    results = []
    for n in args.n:
        with tempfile.TemporaryDirectory(prefix="bench_driver_") as folder:
            generate_parts(n, folder, part_size=args.part_size, seed=args.seed)
            write_doc_parts(folder)
            runs: dict[str, list[dict]] = {m: [] for m in modes}
            for _ in range(args.repeat):  # the ways alternated
                for mode in modes:
                    runs[mode] += child_runs(__file__, folder, 1, f"the driver's stages ({mode}) on {n:,} mentions",
                                             ["--child-mode", mode])
        for mode in modes:
            rs = runs[mode]
            med = {k: statistics.median(r[k] for r in rs) for k in rs[0] if k != "mode"}
            med.update(mode=mode, runs=len(rs))
            results.append(med)
            if not args.json:
                print(f"{int(med['mentions']):,} mentions, {mode}, {len(rs)} run(s): {med['seconds']:.2f} s, "
                      f"peak {med['peak_mb']:,.0f} MB ({int(med['entities']):,} entities, "
                      f"{int(med['cooccurrences']):,} pairs)", flush=True)
    if args.json:
        print(json.dumps(results))


if __name__ == "__main__":
    main()
