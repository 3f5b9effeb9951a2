"""Benchmark of the linking stage on synthetic German news mentions.

    python benchmarks/bench_link.py                         # 1,000,000 mentions, one run
    python benchmarks/bench_link.py --n 100000 --repeat 3   # median of 3 linking runs
    python benchmarks/bench_link.py --n 1000000 10000000 --json
    python benchmarks/bench_link.py --n 1000000 --keep /tmp/mentions   # keep the parts
    python benchmarks/bench_link.py --child /tmp/mentions/n1000000     # link kept parts

For each N the generator first writes the mentions to disk as Parquet parts
(`part-00000.parquet`, ... of `--part-size` mentions each, default 1,000,000) in a
temporary folder (or `--keep DIR`/nN), one part at a time, so its memory is bounded by a
part plus the entity table. Then each of `--repeat` runs links them in a fresh child
process (`--child DIR`): `seconds` is the wall time of reading the parts and linking,
`peak_mb` the child's peak RSS (ru_maxrss, reading included), so both are those of the
linking process alone, never of the generator. The child calls
`pipeline.link.link_parts(paths, cfg, out_dir)` (the linked parts go to a temporary
folder; the linker keeps its per-mention work there between passes, so its memory
follows the distinct names and one part). Reported: medians over the runs.

Prints a table (mentions, docs, distinct texts, entities found, runs, generation seconds,
link seconds, peak MB); with `--json` the last line of stdout is a JSON list of
`{"mentions", "seconds", "peak_mb", "docs", "entities", "distinct_texts", "gen_seconds",
"gen_peak_mb", "runs", "engine"}`, one per N (`gen_peak_mb`: the parent's peak so far).

The distribution is that of the earlier per-mention generator: n // 20 distinct entities
(~50k per 1M mentions) with Zipf-like popularity (weight 1/rank^0.8), ~9 mentions per
document (3 entities, each mentioned 1-5 times): persons (half) with full names, bare
surnames (+genitive s), titles, transliteration variants in 30% of documents for 30%
of them (w/v, j/y, sch/sh, tsch/ch, -ow/-ov/-off; four variants of the full name and of the
surname drawn per entity) and family-name-first three-part names sharing ten family names,
and 30% of documents where a person's full name never appears; places with genitives and
(for nine countries) derived adjectives (kind "deriv"); organisations whose first mention
is "Long Form (LF)" (next_chars " (" and ") ") and later the long form or the abbreviation;
misc names with or without a hyphen. The entity table (its surface forms as Arrow string
arrays) is built once with a loop per entity; documents, entities and surface choices are
then numpy draws, and the columns are assembled by `take` and Arrow compute kernels: no
Python loop per mention.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

SYL = ["ka", "ri", "mo", "lo", "wa", "se", "na", "to", "mi", "ra", "do", "vi", "le", "sa", "ni",
       "ko", "ba", "ju", "pe", "ta", "go", "ma", "li", "ne", "sch", "tscho", "we", "ja", "ro", "du"]
FAMILY = ["Kim", "Lee", "Park", "Choi", "Wang", "Li", "Zhang", "Chen", "Nguyen", "Tran"]
SUFFIX = ["ow", "ew", "in", "ski", "enko", "er", "mann", "ez", "ani", "ov"]
TITLES = ["Präsident", "Herr", "Außenminister", "Kreml-Sprecher", "Frau", "Machthaber"]
ORG_HEADS = ["Institut", "Agentur", "Bank", "Verband", "Partei", "Stiftung", "Gesellschaft"]
ORG_ADJ = ["Internationale", "Nationale", "Deutsche", "Östliche", "Freie", "Vereinigte"]
PLACE_ADJ = [("Russland", "russisch"), ("Japan", "japanisch"), ("Ukraine", "ukrainisch"),
             ("China", "chinesisch"), ("Nordkorea", "nordkoreanisch"), ("Frankreich", "französisch"),
             ("Polen", "polnisch"), ("Südkorea", "südkoreanisch"), ("Kanada", "kanadisch")]
ADJ_END = ["e", "en", "er", "es"]

LABELS = ["PER", "LOC", "ORG", "MISC"]
PER, LOC, ORG, MISC = range(4)
N_VAR = 4  # transliteration variants kept per Russian-style name (full name and surname)
# Columns of the surface table, one string per entity each. SECOND: a person's surname,
# a place's adjective stem, an organisation's genitive long form, a misc name hyphenated.
FULL, SECOND, ABBR, FVAR, SVAR = 0, 1, 2, 3, 3 + N_VAR
N_COLS = 3 + 2 * N_VAR
# Affixes of a mention: index 0 nothing, then the titles (prefix) or the endings (suffix).
PREFIXES = [""] + [t + " " for t in TITLES]
SUFFIXES = ["", "s"] + ADJ_END
KINDS = ["name", "deriv"]
NEXT = [" ", " (", ") "]


def _word(rng: random.Random, n: int) -> str:
    return "".join(rng.choice(SYL) for _ in range(n)).capitalize()


def _variant(name: str, rng: random.Random) -> str:
    """A transliteration variant of a Russian-style name."""
    v = name
    for a, b in (("w", "v"), ("j", "y"), ("sch", "sh"), ("tsch", "ch")):
        if a in v and rng.random() < 0.7:
            v = v.replace(a, b)
    if v.endswith("ow") and rng.random() < 0.5:
        v = v[:-2] + rng.choice(["ov", "off"])
    return v


class EntityTable:
    """n entities in popularity order: label codes, flags and the surface table (one Arrow
    string array of N_COLS * n strings, column-major: surface (col, e) is at col * n + e)."""

    def __init__(self, n_entities: int, seed: int):
        import numpy as np
        import pyarrow as pa

        rng = random.Random(seed)
        n = n_entities
        label = np.empty(n, dtype=np.int8)
        ru = np.zeros(n, dtype=bool)
        has_adj = np.zeros(n, dtype=bool)
        cols: list[list[str]] = [[""] * n for _ in range(N_COLS)]
        full, second, abbr = cols[FULL], cols[SECOND], cols[ABBR]
        for i in range(n):
            r = rng.random()
            if r < 0.5:
                label[i] = PER
                if rng.random() < 0.12:
                    given = f"{_word(rng, 1)} {_word(rng, 1).lower()}".title()
                    full[i] = f"{rng.choice(FAMILY)} {given}"
                    second[i] = full[i].split()[0]
                else:
                    sur = _word(rng, 2) + rng.choice(SUFFIX)
                    full[i], second[i] = f"{_word(rng, 2)} {sur}", sur
                    if rng.random() < 0.3:
                        ru[i] = True
                        for k in range(N_VAR):
                            cols[FVAR + k][i] = _variant(full[i], rng)
                            cols[SVAR + k][i] = _variant(sur, rng)
            elif r < 0.75:
                label[i] = LOC
                if rng.random() < 0.05:
                    full[i], second[i] = rng.choice(PLACE_ADJ)
                    has_adj[i] = True
                else:
                    full[i] = _word(rng, 3)
            elif r < 0.92:
                label[i] = ORG
                f = f"{rng.choice(ORG_ADJ)} {_word(rng, 2)}{rng.choice(ORG_HEADS).lower()}"
                full[i], second[i] = f, f.replace("e ", "en ", 1)
                abbr[i] = "".join(w[0] for w in f.split()).upper() + _word(rng, 1)[0].upper()
            else:
                label[i] = MISC
                full[i] = f"{_word(rng, 2)} {rng.randint(1, 9)}"
                second[i] = full[i].replace(" ", "-")
        self.n = n
        self.label, self.ru, self.has_adj = label, ru, has_adj
        self.surfaces = pa.array([s for c in cols for s in c], type=pa.string())
        weights = 1.0 / np.arange(1, n + 1) ** 0.8
        self.cdf = np.cumsum(weights / weights.sum())


def _draw_docs(ents: EntityTable, n_docs: int, picks_per_doc: int, max_per_doc: int, rng):
    """n_docs documents as numpy arrays, one row per mention, in document order: local doc
    index, entity, surface column, prefix, suffix, kind and next_chars codes."""
    import numpy as np

    n_picks = n_docs * picks_per_doc
    ent = np.minimum(np.searchsorted(ents.cdf, rng.random(n_picks)), ents.n - 1)
    lab = ents.label[ent]
    # each picked entity is mentioned 1-5 times; an organisation's first mention is two
    # rows, "Long Form" + "(LF)"
    count = rng.integers(1, 6, n_picks) + (lab == ORG)
    variant_doc = rng.random(n_picks) < 0.3
    pick = np.repeat(np.arange(n_picks), count)
    j = np.arange(len(pick)) - np.repeat(np.cumsum(count) - count, count)
    e, lab = ent[pick], lab[pick]
    doc = pick // picks_per_doc
    n = len(pick)
    u, u2 = rng.random(n), rng.random(n)
    var = ents.ru[e] & variant_doc[pick]
    k = rng.integers(0, N_VAR, n)

    col = np.full(n, FULL, dtype=np.int64)
    prefix = np.zeros(n, dtype=np.int8)
    suffix = np.zeros(n, dtype=np.int8)
    kind = np.zeros(n, dtype=np.int8)
    nxt = np.zeros(n, dtype=np.int8)

    per = lab == PER
    first = per & (j == 0)
    col[first & var] = FVAR + k[first & var]
    title = first & (u < 0.1)
    prefix[title] = rng.integers(1, len(PREFIXES), int(title.sum()))
    later = per & (j > 0)
    col[later] = np.where(var[later], SVAR + k[later], SECOND)
    suffix[later & (u < 0.15)] = 1

    loc = lab == LOC
    adj = loc & ents.has_adj[e] & (u < 0.5)
    col[adj], kind[adj] = SECOND, 1
    suffix[adj] = rng.integers(2, len(SUFFIXES), int(adj.sum()))
    suffix[loc & ~adj & (u2 < 0.15)] = 1

    org = lab == ORG
    col[org & (j == 0)], nxt[org & (j == 0)] = SECOND, 1
    col[org & (j == 1)], nxt[org & (j == 1)] = ABBR, 2
    col[org & (j >= 2) & (u < 0.5)] = ABBR

    col[(lab == MISC) & (u >= 0.7)] = SECOND

    # 30% of documents never introduce a person's full name (unless nothing would be left)
    keep = ~((rng.random(n_docs) < 0.3)[doc] & first)
    keep |= (np.bincount(doc, weights=keep, minlength=n_docs) == 0)[doc]
    idx = np.flatnonzero(keep)
    doc = doc[idx]
    pos = np.arange(len(idx)) - np.searchsorted(doc, doc)
    idx = idx[pos < max_per_doc]
    return {"doc": doc[pos < max_per_doc], "surface": col[idx] * ents.n + e[idx],
            "prefix": prefix[idx], "suffix": suffix[idx], "kind": kind[idx], "next": nxt[idx]}


def _part_table(ents: EntityTable, rows: dict, doc_offset: int):
    """Arrow table of the mentions schema (entity_id, key, link_rule empty, link_score NaN)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    def strings(values: list[str], codes):
        return pa.array(values, type=pa.string()).take(pa.array(codes))

    doc = rows["doc"]
    first = np.searchsorted(doc, doc)
    i = np.arange(len(doc)) - first
    text = pc.binary_join_element_wise(strings(PREFIXES, rows["prefix"]),
                                       ents.surfaces.take(pa.array(rows["surface"])),
                                       strings(SUFFIXES, rows["suffix"]), "")
    length = pc.utf8_length(text).to_numpy().astype(np.int64)
    step = length + np.array([len(s) for s in NEXT])[rows["next"]]
    before = np.cumsum(step) - step
    start = before - before[first]
    uniq, inverse = np.unique(doc, return_inverse=True)
    doc_ids = pc.binary_join_element_wise(
        "doc", pc.utf8_lpad(pc.cast(pa.array(uniq + doc_offset), pa.string()), width=7,
                            padding="0"), "").take(pa.array(inverse))
    n = len(doc)
    return pa.table({
        "mention_id": pc.binary_join_element_wise(doc_ids, pc.cast(pa.array(i), pa.string()), "#"),
        "doc_id": doc_ids,
        "sentence_index": pa.array(i // 3),
        "start_char": pa.array(start),
        "end_char": pa.array(start + length),
        "text": text,
        "label": strings(LABELS, ents.label[rows["surface"] % ents.n]),
        "kind": strings(KINDS, rows["kind"]),
        "next_chars": strings(NEXT, rows["next"]),
        "entity_id": pa.nulls(n),
        "key": pa.nulls(n),
        "link_rule": pa.nulls(n),
        "link_score": pa.array(np.full(n, np.nan)),
    })


def generate_parts(n_mentions: int, out_dir: str, *, part_size: int = 1_000_000,
                   seed: int = 7) -> dict:
    """Write n_mentions synthetic mentions to out_dir/part-00000.parquet, ... (part_size
    each, the last one shorter), one part at a time. Returns counts of what was written."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    n_docs = max(1, n_mentions // 10)
    per_doc = max(1, n_mentions // n_docs)
    picks_per_doc, max_per_doc = max(2, per_doc // 3), per_doc * 2
    ents = EntityTable(max(100, n_mentions // 20), seed)
    rng = np.random.default_rng(seed)
    written, docs, part, uniques = 0, 0, 0, []
    while written < n_mentions:
        target = min(part_size, n_mentions - written)
        chunks, have = [], 0
        while have < target:  # ~9 mentions a document; draw a little more than needed
            rows = _draw_docs(ents, max(16, int((target - have) / 8.5)), picks_per_doc,
                              max_per_doc, rng)
            if chunks:
                rows["doc"] = rows["doc"] + chunks[-1]["doc"][-1] + 1
            chunks.append(rows)
            have += len(rows["doc"])
        rows = {c: np.concatenate([r[c] for r in chunks])[:target] for c in chunks[0]}
        table = _part_table(ents, rows, docs)
        pq.write_table(table, os.path.join(out_dir, f"part-{part:05d}.parquet"))
        uniques.append(pc.unique(table.column("text").combine_chunks()))
        docs += int(rows["doc"][-1]) + 1  # the last document may be cut; the next part starts anew
        written += target
        part += 1
        del table, rows, chunks
    distinct = len(pc.unique(pa.concat_arrays(uniques)))
    return {"mentions": written, "docs": docs, "distinct_texts": distinct, "parts": part,
            "n_entities": ents.n}


def child(parts_dir: str) -> None:
    """Link the parts in parts_dir; print one JSON line with seconds and peak_mb."""
    sys.path.insert(0, str(ROOT))
    import pyarrow.parquet as pq

    import pipeline.link as linking
    from pipeline.config import load_config

    cfg = load_config().link
    paths = sorted(str(p) for p in Path(parts_dir).glob("part-*.parquet"))
    n = sum(pq.ParquetFile(p).metadata.num_rows for p in paths)
    with tempfile.TemporaryDirectory(prefix="bench_link_out_") as out_dir:
        t0 = time.perf_counter()
        res = linking.link_parts(paths, cfg, out_dir)
        entities, engine = len(res["entities"]), "link_parts"
        wall = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps({"mentions": n, "seconds": round(wall, 2), "peak_mb": round(peak),
                      "entities": entities, "engine": engine}))


def child_runs(script: str, folder: str, repeat: int, what: str, extra: Sequence[str] = ()) -> list[dict]:
    """Run ``script --child folder [extra...]`` ``repeat`` times, each in a fresh process,
    and return the JSON object each printed on its last line (exits with the child's
    error)."""
    runs = []
    for _ in range(repeat):
        p = subprocess.run([sys.executable, script, "--child", folder, *extra], capture_output=True, text=True)
        if p.returncode:
            sys.exit(f"{what} failed:\n{p.stderr[-3000:]}")
        runs.append(json.loads(p.stdout.strip().splitlines()[-1]))
    return runs


def bench(n: int, args) -> dict:
    def run_in(folder: str) -> dict:
        t0 = time.perf_counter()
        gen = generate_parts(n, folder, part_size=args.part_size, seed=args.seed)
        gen_s = time.perf_counter() - t0
        runs = child_runs(__file__, folder, args.repeat, f"linking {n:,} mentions")
        med = lambda k: statistics.median(r[k] for r in runs)  # noqa: E731
        return {"mentions": gen["mentions"], "seconds": med("seconds"), "peak_mb": med("peak_mb"),
                "docs": gen["docs"], "entities": runs[0]["entities"],
                "distinct_texts": gen["distinct_texts"], "gen_seconds": round(gen_s, 2),
                "gen_peak_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
                "runs": len(runs), "engine": runs[0]["engine"]}

    if args.keep:
        folder = os.path.join(args.keep, f"n{n}")
        shutil.rmtree(folder, ignore_errors=True)
        os.makedirs(folder)
        return run_in(folder)
    with tempfile.TemporaryDirectory(prefix="bench_link_") as folder:
        return run_in(folder)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, nargs="+", default=[1_000_000], help="mention counts")
    ap.add_argument("--repeat", type=int, default=1, help="linking runs per N (medians reported)")
    ap.add_argument("--json", action="store_true", help="last line of stdout: a JSON list")
    ap.add_argument("--keep", metavar="DIR", help="write the parts to DIR/nN and keep them")
    ap.add_argument("--part-size", type=int, default=1_000_000, help="mentions per Parquet part")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--child", metavar="DIR", help="link the parts in DIR (the child process)")
    args = ap.parse_args()
    if args.child:
        child(args.child)
        return
    if not args.json:
        print(f"{'mentions':>11} {'docs':>9} {'distinct':>9} {'entities':>9} {'runs':>4} "
              f"{'gen s':>6} {'link s':>7} {'peak MB':>8}")
    results = []
    for n in args.n:
        r = bench(n, args)
        results.append(r)
        if not args.json:
            print(f"{r['mentions']:>11,} {r['docs']:>9,} {r['distinct_texts']:>9,} "
                  f"{r['entities'] if r['entities'] is not None else -1:>9,} {r['runs']:>4} "
                  f"{r['gen_seconds']:>6.1f} {r['seconds']:>7.1f} {r['peak_mb']:>8,.0f}", flush=True)
    if args.json:
        print(json.dumps(results))


if __name__ == "__main__":
    main()
