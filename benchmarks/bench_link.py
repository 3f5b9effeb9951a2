"""Benchmark of the linking stage on synthetic German news mentions.

    python benchmarks/bench_link.py                 # 1,000,000 mentions, one run
    python benchmarks/bench_link.py --n 100000 --repeat 3

Each run happens in a fresh child process that loads the generated mentions from a
Parquet file, so the reported peak memory (ru_maxrss) is that of linking, not of the
generator. Prints a small table: mentions, docs, entities found, wall time of link(),
peak RSS of the child and its growth during link().

The generator mixes ~50k distinct entities per 1M mentions (~100k documents, ~10
mentions each, Zipf-like popularity): persons with full names, bare surnames, genitives,
titles, transliteration variants (w/v, j/y/i, -ow/-ov/-off, sch/sh) and family-name-first
three-part names sharing family names; places with genitives and derived adjectives;
organisations with "Long Form (LF)" abbreviations (next_chars); misc names.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

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


def make_entities(n_entities: int, rng: random.Random) -> list[dict]:
    ents = []
    for i in range(n_entities):
        r = rng.random()
        if r < 0.5:
            if rng.random() < 0.12:
                given = f"{_word(rng, 1)} {_word(rng, 1).lower()}".title()
                full = f"{rng.choice(FAMILY)} {given}"
                ents.append({"label": "PER", "full": full, "short": full.split()[0], "ru": False})
            else:
                sur = _word(rng, 2) + rng.choice(SUFFIX)
                full = f"{_word(rng, 2)} {sur}"
                ents.append({"label": "PER", "full": full, "short": sur, "ru": rng.random() < 0.3})
        elif r < 0.75:
            if rng.random() < 0.05:
                place, adj = rng.choice(PLACE_ADJ)
                ents.append({"label": "LOC", "full": place, "adj": adj})
            else:
                ents.append({"label": "LOC", "full": _word(rng, 3), "adj": None})
        elif r < 0.92:
            adj = rng.choice(ORG_ADJ)
            full = f"{adj} {_word(rng, 2)}{rng.choice(ORG_HEADS).lower()}"
            abbr = "".join(w[0] for w in full.split()).upper() + _word(rng, 1)[0].upper()
            ents.append({"label": "ORG", "full": full, "abbr": abbr})
        else:
            ents.append({"label": "MISC", "full": f"{_word(rng, 2)} {rng.randint(1, 9)}"})
    return ents


def generate(n_mentions: int, n_docs: int, n_entities: int, seed: int = 7):
    import numpy as np
    import pandas as pd

    rng = random.Random(seed)
    nrng = np.random.default_rng(seed)
    ents = make_entities(n_entities, rng)
    weights = 1.0 / np.arange(1, n_entities + 1) ** 0.8
    weights /= weights.sum()
    rows = {k: [] for k in ("mention_id", "doc_id", "sentence_index", "start_char", "end_char",
                            "text", "label", "kind", "next_chars")}
    per_doc = max(1, n_mentions // n_docs)
    total = 0
    d = 0
    while total < n_mentions:
        doc = f"doc{d:07d}"
        picks = nrng.choice(n_entities, size=max(2, per_doc // 3), p=weights)
        pos = 0
        out = []
        for e_i in picks.tolist():
            e = ents[e_i]
            variant_doc = rng.random() < 0.3
            for j in range(rng.randint(1, 5)):
                lab, kind, nxt = e["label"], "name", " "
                if lab == "PER":
                    full = _variant(e["full"], rng) if e["ru"] and variant_doc else e["full"]
                    if j == 0:
                        t = (rng.choice(TITLES) + " " + full) if rng.random() < 0.1 else full
                    else:
                        t = _variant(e["short"], rng) if e["ru"] and variant_doc else e["short"]
                        if rng.random() < 0.15:
                            t += "s"
                elif lab == "LOC":
                    if e["adj"] and rng.random() < 0.5:
                        t, kind = e["adj"] + rng.choice(ADJ_END), "deriv"
                    else:
                        t = e["full"] + ("s" if rng.random() < 0.15 else "")
                elif lab == "ORG":
                    if j == 0:
                        t, nxt = e["full"].replace("e ", "en ", 1), " ("
                        out.append((t, lab, kind, nxt))
                        t, nxt = e["abbr"], ") "
                    else:
                        t = e["abbr"] if rng.random() < 0.5 else e["full"]
                else:
                    t = e["full"] if rng.random() < 0.7 else e["full"].replace(" ", "-")
                out.append((t, lab, kind, nxt))
        if rng.random() < 0.3:  # documents where the bare surname is never introduced
            out = [o for o in out if not (o[1] == "PER" and " " in o[0])] or out
        out = out[:per_doc * 2]
        for i, (t, lab, kind, nxt) in enumerate(out):
            rows["mention_id"].append(f"{doc}#{i}")
            rows["doc_id"].append(doc)
            rows["sentence_index"].append(i // 3)
            rows["start_char"].append(pos)
            rows["end_char"].append(pos + len(t))
            rows["text"].append(t)
            rows["label"].append(lab)
            rows["kind"].append(kind)
            rows["next_chars"].append(nxt)
            pos += len(t) + len(nxt)
        total += len(out)
        d += 1
    df = pd.DataFrame(rows).iloc[:n_mentions]
    for c in ("entity_id", "key", "link_rule"):
        df[c] = None
    df["link_score"] = float("nan")
    return df


def child(path: str) -> None:
    import pandas as pd

    from pipeline.config import load_config
    from pipeline.link import link

    cfg = load_config().link
    df = pd.read_parquet(path)
    rss0 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    t0 = time.perf_counter()
    linked, ents = link(df, cfg, aliases=None)
    wall = time.perf_counter() - t0
    rss1 = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    assert linked["entity_id"].notna().all()
    print(json.dumps({"n": len(df), "docs": int(df["doc_id"].nunique()), "entities": len(ents),
                      "wall_s": wall, "peak_mb": rss1 / 1024, "growth_mb": (rss1 - rss0) / 1024}))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, nargs="+", default=[1_000_000], help="mention counts")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--child", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(args.child)
        return
    print(f"{'mentions':>10} {'docs':>8} {'entities':>9} {'runs':>4} {'link s':>8} {'peak MB':>8} {'+MB':>7}")
    for n in args.n:
        df = generate(n, n_docs=max(1, n // 10), n_entities=max(100, n // 20))
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "mentions.parquet")
            df.to_parquet(path)
            del df
            res = []
            for _ in range(args.repeat):
                p = subprocess.run([sys.executable, __file__, "--child", path], capture_output=True,
                                   text=True, check=True)
                res.append(json.loads(p.stdout.strip().splitlines()[-1]))
        med = lambda k: statistics.median(r[k] for r in res)  # noqa: E731
        print(f"{res[0]['n']:>10,} {res[0]['docs']:>8,} {res[0]['entities']:>9,} {len(res):>4} "
              f"{med('wall_s'):>8.1f} {med('peak_mb'):>8.0f} {med('growth_mb'):>7.0f}")


if __name__ == "__main__":
    main()
