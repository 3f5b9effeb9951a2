"""B-cubed evaluation of link() against the seed gold file (helper, also used by a test)."""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from pathlib import Path

import pandas as pd

SHARED = Path(__file__).resolve().parents[3] / "shared"
GOLD = SHARED / "eval" / "seeds-gold" / "mentions.jsonl"
SEEDS = SHARED / "seeds"


def gold_mentions(path: Path = GOLD, next_chars: bool = False) -> pd.DataFrame:
    """The gold file as a mentions frame (plus a ``gold`` column). ``next_chars``: add the
    4 characters after each mention, read from the seed texts."""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    df = pd.DataFrame(rows)
    df["i"] = df.groupby("doc").cumcount()
    out = pd.DataFrame({
        "mention_id": [f"{d}#{i}" for d, i in zip(df["doc"], df["i"])],
        "doc_id": df["doc"], "sentence_index": 0, "start_char": df["start"], "end_char": df["end"],
        "text": df["text"], "label": df["label"], "kind": df["kind"], "gold": df["entity"],
    })
    if next_chars:
        texts = {d: (SEEDS / d).read_text(encoding="utf-8") for d in df["doc"].unique()}
        out["next_chars"] = [texts[d][e:e + 4] for d, e in zip(df["doc"], df["end"])]
    return out


def bcubed(pred: list[str], gold: list[str]) -> tuple[float, float, float]:
    """B-cubed precision, recall, F1 of two clusterings of the same items."""
    pc, gc = Counter(pred), Counter(gold)
    both = Counter(zip(pred, gold))
    n = len(pred)
    p = sum(both[(a, b)] ** 2 / pc[a] for a, b in both) / n
    r = sum(both[(a, b)] ** 2 / gc[b] for a, b in both) / n
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def evaluate(linked: pd.DataFrame, gold: pd.DataFrame) -> dict:
    g = gold.set_index("mention_id")["gold"]
    lk = linked.set_index("mention_id")
    out = {}
    for name, mask in (("name", lk["kind"] == "name"), ("all", lk["kind"].notna())):
        ids = lk.index[mask]
        out[name] = bcubed(lk.loc[ids, "entity_id"].tolist(), g.loc[ids].tolist())
    mixed = defaultdict(set)
    for mid, eid, lab in zip(lk.index, lk["entity_id"], lk["label"]):
        if lab == "PER":
            mixed[eid].add(g[mid])
    out["mixed_per"] = {e: sorted(v) for e, v in mixed.items() if len(v) > 1}
    return out
