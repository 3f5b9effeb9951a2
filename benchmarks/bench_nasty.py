"""Hostile inputs: seconds per document and peak memory, against a short article.

Each input is one document. Seconds are measured in process through the whole pipeline
(``pipeline.api.run``: read, normalize, NER, link) with the model already loaded, the
best of ``--repeat`` runs; peak RSS is that of ``python -m pipeline run`` on a folder
holding only that document, in a fresh subprocess (``getrusage(RUSAGE_CHILDREN)``), with
the default settings. The bars (issue 17): every nasty input under 2 s more than the
short article; the 2 MB article under 1 GB peak.

    python benchmarks/bench_nasty.py                 # all inputs
    python benchmarks/bench_nasty.py --only eq emoji # some of them
    python benchmarks/bench_nasty.py --article big.txt  # a real long article instead
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
SYLLABLES = ["ka", "lo", "mi", "ber", "tsch", "ow", "in", "ski", "ra", "del", "gun", "ha", "sen", "ma", "rik"]


def long_article(n_chars: int, seed: int = 0) -> str:
    """The seed articles one after another, each followed by a paragraph that names new
    people, until ``n_chars``: one long document with thousands of distinct names."""
    rng = random.Random(seed)
    seeds = [p.read_text(encoding="utf-8") for p in sorted((REPO / "seeds").glob("*.txt"))]
    parts, size, i = [], 0, 0
    while size < n_chars:
        names = [" ".join("".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 3))).capitalize()
                          for _ in range(2)) for _ in range(3)]
        para = (f"{seeds[i % len(seeds)]}\n\nAuch {names[0]} und {names[1]} äußerten sich am Abend; "
                f"{names[2]} widersprach ihnen in Berlin.\n\n")
        parts.append(para)
        size += len(para)
        i += 1
    return "".join(parts)[:n_chars]


def inputs(article: str | None) -> dict[str, str]:
    short = (REPO / "seeds").glob("*.txt").__next__().read_text(encoding="utf-8")
    return {
        "short article": short,
        "12,000 '='": "=" * 12_000,
        "12,000 emoji": "\U0001f600" * 12_000,
        "8,000 unclosed '<!--'": "<!--" * 8_000,
        "8,000 unclosed '<script>'": "<script>" * 8_000,
        "200 KB of 'a < b > c'": "a < b > c " * 20_000,
        "2 MB article": Path(article).read_text(encoding="utf-8") if article else long_article(2_000_000),
    }


def seconds(text: str, repeat: int) -> tuple[float, str]:
    from pipeline.api import run

    best, status = float("inf"), "?"
    for _ in range(repeat):
        t0 = time.perf_counter()
        res = run([text])
        best = min(best, time.perf_counter() - t0)
        status = str(res.documents["status"].iloc[0])
    return best, status


def peak_rss_mb(text: str) -> tuple[float, float]:
    """(peak RSS in MB, wall seconds) of `python -m pipeline run` on this one document."""
    tmp = Path(tempfile.mkdtemp(prefix="bench-nasty-"))
    try:
        (tmp / "in").mkdir()
        (tmp / "in" / "doc.txt").write_text(text, encoding="utf-8")
        cmd = [sys.executable, "-m", "pipeline", "run", str(tmp / "in"), "--out", str(tmp / "out")]
        # a fresh parent per run, so RUSAGE_CHILDREN is this run's peak alone
        wrapper = ("import resource, subprocess, sys; r = subprocess.run(sys.argv[1:], capture_output=True); "
                   "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); sys.exit(r.returncode)")
        t0 = time.perf_counter()
        r = subprocess.run([sys.executable, "-c", wrapper, *cmd], capture_output=True, text=True, cwd=REPO)
        wall = time.perf_counter() - t0
        if r.returncode not in (0, 1):  # 1: the document failed, which the table shows
            sys.exit(r.stderr)
        return int(r.stdout.strip().splitlines()[-1]) / 1024, wall
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--only", nargs="*", help="input names containing these words")
    ap.add_argument("--article", help="a long article (text file) to use instead of the synthetic 2 MB one")
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--no-rss", action="store_true", help="skip the subprocess runs (peak memory)")
    args = ap.parse_args()

    from pipeline.api import run

    run(["Angela Merkel besuchte Paris."])  # load the model before timing anything
    cases = inputs(args.article)
    if args.only:
        cases = {k: v for k, v in cases.items() if k == "short article" or any(w in k for w in args.only)}
    rows = []
    base = None
    for name, text in cases.items():
        sec, status = seconds(text, args.repeat)
        base = sec if base is None else base
        mb, wall = (float("nan"), float("nan")) if args.no_rss else peak_rss_mb(text)
        rows.append((name, len(text), sec, sec - base, status, mb, wall))
        print(f"{name}: {sec:.2f} s, {mb:,.0f} MB", file=sys.stderr, flush=True)
    print("| input | characters | seconds | more than the short article | status | peak RSS, CLI (MB) | CLI wall (s) |")
    print("|---|---:|---:|---:|---|---:|---:|")
    for name, n, sec, extra, status, mb, wall in rows:
        print(f"| {name} | {n:,} | {sec:.2f} | {extra:+.2f} | {status} | {mb:,.0f} | {wall:.1f} |")


if __name__ == "__main__":
    main()
