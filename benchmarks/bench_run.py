"""End-to-end batch run on a synthetic corpus: wall time, docs/s, words/s, peak memory.

Builds N documents from the seed articles (names varied so that linking has work to
do), runs `python -m pipeline run` in a subprocess and reports its peak RSS, which
shows that memory stays bounded as the corpus grows (documents stream in batches).

    python benchmarks/bench_run.py --docs 2000 --docs 8000
"""

from __future__ import annotations

import argparse
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


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--docs", type=int, action="append", help="corpus sizes (repeatable)")
    ap.add_argument("--batch-docs", type=int, default=200)
    args = ap.parse_args()
    rows = []
    for n in args.docs or [2000]:
        tmp = Path(tempfile.mkdtemp(prefix="bench-run-"))
        try:
            corpus = tmp / "corpus"
            corpus.mkdir()
            words = make_corpus(corpus, n)
            cmd = [sys.executable, "-m", "pipeline", "run", str(corpus), "--out", str(tmp / "out"),
                   "--set", f"output.batch_docs={args.batch_docs}"]
            # a fresh parent per run, so RUSAGE_CHILDREN is this run's peak alone
            wrapper = ("import resource, subprocess, sys; r = subprocess.run(sys.argv[1:]); "
                       "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); sys.exit(r.returncode)")
            t0 = time.perf_counter()
            r = subprocess.run([sys.executable, "-c", wrapper, *cmd], capture_output=True, text=True)
            wall = time.perf_counter() - t0
            if r.returncode != 0:
                sys.exit(r.stderr)
            *summary, peak_kb = r.stdout.strip().splitlines()
            rows.append((n, words, wall, n / wall, words / wall, int(peak_kb) / 1024))
            print("\n".join(summary))
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    print("| documents | words | wall (s) | docs/s | words/s | peak RSS (MB) |")
    print("|---:|---:|---:|---:|---:|---:|")
    for n, w, wall, dps, wps, mb in rows:
        print(f"| {n:,} | {w:,} | {wall:.1f} | {dps:.1f} | {wps:,.0f} | {mb:,.0f} |")


if __name__ == "__main__":
    main()
