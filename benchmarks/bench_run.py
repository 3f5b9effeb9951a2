"""End-to-end batch run on a synthetic corpus: wall time, docs/s, words/s, peak memory.

Builds N documents from the seed articles (names varied so that linking has work to
do), runs `python -m pipeline run` in a subprocess and reports its peak RSS, which
shows that memory stays bounded as the corpus grows (documents stream in batches).

    python benchmarks/bench_run.py --docs 2000 --docs 8000
    python benchmarks/bench_run.py --input DIR --workers 1 --workers 2 --repeat 3 --raw

``--input DIR`` runs on a folder of .txt files instead of the synthetic corpus;
``--workers N`` (repeatable) runs each size with N workers, the variants alternated
``--repeat`` times (medians reported, ratios against the first variant); ``--raw`` adds
the plain spaCy baseline ``../shared/bench/raw_pipe.py`` with the bundled model and
``n_process`` = each N, in the same alternation. "peak RSS" is the largest process of the
run (the driver, or a worker); "tagging process peak" is the manifest's
``peak_rss_mb.tagging``, the largest process that tagged batches (a worker with N > 1).
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
FIRST = ["Anna", "Jonas", "Sergej", "Sergei", "Dmitri", "Dmitrij", "Olga", "Marta", "Yuri", "Juri"]
LAST = ["Petrow", "Petrov", "Iwanowa", "Schmidt", "Kowalski", "Lindqvist", "Okafor", "Tanaka"]


def make_corpus(folder: Path, n: int, seed: int = 0) -> int:
    rng = random.Random(seed)
    seeds = [p.read_text(encoding="utf-8") for p in sorted((REPO / "seeds").glob("*.txt"))]
    words = 0
    for i in range(n):
        name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
        text = seeds[i % len(seeds)] + f"\n\nAuch {name} äußerte sich, sagte {name.split()[1]} am Abend.\n"
        (folder / f"sub{i % 17:02d}").mkdir(exist_ok=True)
        (folder / f"sub{i % 17:02d}" / f"doc{i:06d}.txt").write_text(text, encoding="utf-8")
        words += len(text.split())
    return words


#: a fresh parent per run, so RUSAGE_CHILDREN is this run's peak alone (the largest
#: single process: the driver, or with workers the largest of them)
WRAPPER = ("import resource, subprocess, sys; r = subprocess.run(sys.argv[1:], stdout=subprocess.PIPE, text=True); "
           "print(r.stdout); print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); sys.exit(r.returncode)")


def _timed(cmd: list[str]) -> tuple[float, float, str]:
    t0 = time.perf_counter()
    r = subprocess.run([sys.executable, "-c", WRAPPER, *cmd], capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if r.returncode not in (0, 1):
        sys.exit(r.stderr)
    *out, peak_kb = r.stdout.strip().splitlines()
    return wall, int(peak_kb) / 1024, "\n".join(out)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--docs", type=int, action="append", help="synthetic corpus sizes (repeatable)")
    ap.add_argument("--input", type=Path, help="a folder of .txt files to run on instead")
    ap.add_argument("--workers", type=int, action="append", help="worker counts (repeatable; default 1)")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--raw", action="store_true", help="also plain spaCy nlp.pipe(n_process=N)")
    ap.add_argument("--batch-docs", type=int, default=None,
                    help="output.batch_docs for the runs (default: the shipped setting)")
    args = ap.parse_args()
    import statistics

    rows = []
    sizes = [None] if args.input else (args.docs or [2000])
    for n in sizes:
        tmp = Path(tempfile.mkdtemp(prefix="bench-run-"))
        try:
            if args.input:
                corpus = args.input
                texts = sorted(corpus.rglob("*.txt"))
                n = len(texts)
                words = sum(len(p.read_text(encoding="utf-8").split()) for p in texts)
            else:
                corpus = tmp / "corpus"
                corpus.mkdir()
                words = make_corpus(corpus, n)
            variants = []
            for w in args.workers or [1]:
                variants.append((f"pipeline, {w} worker{'s' if w > 1 else ''}",
                                 [sys.executable, "-m", "pipeline", "run", str(corpus), "--out", str(tmp / "out"),
                                  "--force", "--workers", str(w),
                                  *(["--set", f"output.batch_docs={args.batch_docs}"] if args.batch_docs else [])]))
                if args.raw:
                    variants.append((f"plain spaCy, n_process={w}",
                                     [sys.executable, str(REPO.parent / "shared" / "bench" / "raw_pipe.py"),
                                      str(REPO / "pipeline" / "models" / "de_news_ner"), str(corpus), str(w)]))
            res: dict[str, list[tuple[float, float, float]]] = {name: [] for name, _ in variants}
            for _ in range(args.repeat):
                for name, cmd in variants:
                    wall, mb, out = _timed(cmd)
                    manifest = tmp / "out" / "manifest.json"
                    tagging = (json.loads(manifest.read_text())["peak_rss_mb"]["tagging"]
                               if name.startswith("pipeline") and manifest.exists() else float("nan"))
                    res[name].append((wall, mb, tagging))
                    print(f"{name}: {wall:.1f} s, {mb:,.0f} MB, tagging process {tagging:,.0f} MB", file=sys.stderr)
            base = statistics.median(x[0] for x in res[variants[0][0]])
            for name, _ in variants:
                wall = statistics.median(x[0] for x in res[name])
                mb = statistics.median(x[1] for x in res[name])
                tag_mb = statistics.median(x[2] for x in res[name])
                rows.append((name, n, words, wall, n / wall, words / wall, mb, tag_mb, base / wall,
                             " / ".join(f"{x[0]:.1f}" for x in res[name])))
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    print("| variant | documents | words | wall (s, median) | docs/s | words/s | peak RSS (MB) "
          "| tagging process peak (MB) | speed-up | runs |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    for name, n, w, wall, dps, wps, mb, tag_mb, up, runs in rows:
        print(f"| {name} | {n:,} | {w:,} | {wall:.1f} | {dps:.1f} | {wps:,.0f} | {mb:,.0f} | {tag_mb:,.0f} "
              f"| {up:.2f}x | {runs} |")


if __name__ == "__main__":
    main()
