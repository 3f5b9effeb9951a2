"""Corpus-scale linking evaluation against a *surface gold*.

A surface gold maps the frequent name surfaces of a corpus to the real entity they name
there: one JSON object a line with ``surface``, ``entity`` (a nominative full name, null
for NONE), ``label`` (PER/LOC/ORG/MISC, or NONE for junk: not a name) and ``ambiguous``
(the corpus uses the surface for two or more entities; such mentions are not scored).

Scored are the run's ``name`` mentions whose exact text is a non-ambiguous gold surface:
B-cubed and pairwise precision/recall of ``entity_id`` against the gold entity (mention
weighted), overall and per gold label; label accuracy; the junk rate (gold label NONE);
per label the share of the 50 entities with most mentions that are clean (at least 95% of
their scored mentions name one gold entity of that label); coverage (the share of name
mentions scored); and the biggest merges and splits for diagnosis. The figures are those
of ``../shared/eval/score_surfaces.py`` (the measure applied from outside), computed the
same way.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pandas as pd

from .errors import InputError

__all__ = ["load_surface_gold", "score_surfaces", "format_surface_report", "entity_qc", "format_entity_qc"]

_LABELS = ("PER", "LOC", "ORG", "MISC")


def load_surface_gold(path: str | Path) -> dict[str, dict[str, Any]]:
    """Read a surface gold JSONL file; InputError naming the bad lines."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"surface gold not found: {path}")
    gold: dict[str, dict[str, Any]] = {}
    problems = []
    with open(path, encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                g = json.loads(line)
            except ValueError as exc:
                problems.append(f"line {n}: not JSON ({exc})")
                continue
            if not isinstance(g, dict) or not isinstance(g.get("surface"), str):
                problems.append(f"line {n}: expected an object with a 'surface' string")
                continue
            if g.get("label") not in (*_LABELS, "NONE"):
                problems.append(f"line {n}: label {g.get('label')!r} is not PER, LOC, ORG, MISC or NONE")
                continue
            gold[g["surface"]] = g
    if problems:
        raise InputError(f"{path}: " + "; ".join(problems[:20]))
    return gold


def _b3(pred: list, gold: list) -> tuple[float, float]:
    pc, gc, both = Counter(pred), Counter(gold), Counter(zip(pred, gold))
    n = len(pred)
    if not n:
        return 0.0, 0.0
    p = sum(c * c / pc[a] for (a, _), c in both.items()) / n
    r = sum(c * c / gc[b] for (_, b), c in both.items()) / n
    return p, r


def _pairwise(pred: list, gold: list) -> tuple[float, float]:
    pc, gc, both = Counter(pred), Counter(gold), Counter(zip(pred, gold))

    def pairs(c: Counter) -> float:
        return sum(v * (v - 1) / 2 for v in c.values())

    tp, pp, gp = pairs(both), pairs(pc), pairs(gc)
    return (tp / pp if pp else 1.0), (tp / gp if gp else 1.0)


def _f(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r else 0.0


def score_surfaces(mentions: pd.DataFrame, gold: dict[str, dict[str, Any]], show: int = 15) -> dict[str, Any]:
    """The surface-gold figures of a run's mentions table (see the module docstring)."""
    m = mentions[mentions["kind"] == "name"]
    known = m[m["text"].isin(gold.keys())].copy()
    known["g_entity"] = known["text"].map(lambda s: gold[s]["entity"])
    known["g_label"] = known["text"].map(lambda s: gold[s]["label"])
    known["g_amb"] = known["text"].map(lambda s: bool(gold[s].get("ambiguous")))
    scored = known[~known["g_amb"]]
    junk = scored[scored["g_label"] == "NONE"]
    named = scored[scored["g_label"] != "NONE"]
    gkey = (named["g_label"] + ":" + named["g_entity"].astype(str)).tolist()
    pred = named["entity_id"].tolist()
    bp, br = _b3(pred, gkey)
    pp, pr = _pairwise(pred, gkey)
    label_acc = float((named["label"] == named["g_label"]).mean()) if len(named) else 0.0
    per_label = {}
    for lab in _LABELS:
        sub = named[named["g_label"] == lab]
        if len(sub):
            lp, lr = _b3(sub["entity_id"].tolist(), sub["g_entity"].tolist())
            per_label[lab] = {"n": int(len(sub)), "b3_p": round(lp, 4), "b3_r": round(lr, 4),
                              "label_acc": round(float((sub["label"] == lab).mean()), 4)}
    ents = m.groupby("entity_id").agg(label=("label", "first"), n=("text", "size"))
    by_ent = named.groupby("entity_id")
    groups = by_ent.groups
    top50 = {}
    for lab in _LABELS:
        top = ents[ents["label"] == lab].sort_values("n", ascending=False).head(50).index
        clean = judged = 0
        for eid in top:
            if eid not in groups:
                continue  # no scored mention: not judged
            judged += 1
            sub = by_ent.get_group(eid)
            (_, gl), k = Counter(zip(sub["g_entity"], sub["g_label"])).most_common(1)[0]
            clean += int(k / len(sub) >= 0.95 and gl == lab)
        top50[lab] = {"judged": judged, "clean": clean, "rate": round(clean / judged, 4) if judged else None}
    merges = []
    for eid, sub in by_ent:
        c = Counter(sub["g_entity"])
        if len(c) > 1:
            merges.append((len(sub) - c.most_common(1)[0][1], eid, c.most_common(6)))
    merges.sort(reverse=True)
    splits = []
    for ge, sub in named.groupby("g_entity"):
        c = Counter(sub["entity_id"])
        if len(c) > 1:
            splits.append((len(sub) - c.most_common(1)[0][1], ge, c.most_common(6)))
    splits.sort(reverse=True)
    return {
        "name_mentions": int(len(m)), "scored_mentions": int(len(named)), "junk_mentions": int(len(junk)),
        "ambiguous_mentions": int(known["g_amb"].sum()),
        "coverage": round(len(scored) / len(m), 4) if len(m) else 0.0,
        "b3_p": round(bp, 4), "b3_r": round(br, 4), "b3_f": round(_f(bp, br), 4),
        "pair_p": round(pp, 4), "pair_r": round(pr, 4), "pair_f": round(_f(pp, pr), 4),
        "label_acc": round(label_acc, 4), "per_label": per_label,
        "junk_rate": round(len(junk) / len(scored), 4) if len(scored) else 0.0,
        "top50_clean": top50,
        "merges": [[int(n), e, [[x, int(k)] for x, k in c]] for n, e, c in merges[:show]],
        "splits": [[int(n), e, [[x, int(k)] for x, k in c]] for n, e, c in splits[:show]],
    }


def format_surface_report(r: dict[str, Any]) -> str:
    """A short human-readable summary of :func:`score_surfaces`."""
    lines = [
        f"surface gold: scored {r['scored_mentions']} of {r['name_mentions']} name mentions "
        f"(coverage {r['coverage']:.3f}; junk {r['junk_mentions']}, ambiguous {r['ambiguous_mentions']})",
        f"B-cubed P {r['b3_p']:.3f} R {r['b3_r']:.3f} F {r['b3_f']:.3f}; pairwise P {r['pair_p']:.3f} "
        f"R {r['pair_r']:.3f}; label accuracy {r['label_acc']:.3f}; junk rate {r['junk_rate']:.3f}",
    ]
    for lab, v in r["per_label"].items():
        lines.append(f"  {lab:<5} n {v['n']:>6}  B-cubed P {v['b3_p']:.3f} R {v['b3_r']:.3f}  "
                     f"label accuracy {v['label_acc']:.3f}")
    lines.append("top-50 clean: " + ", ".join(
        f"{lab} {v['rate']:.2f}" if v["rate"] is not None else f"{lab} -" for lab, v in r["top50_clean"].items()))
    if r["merges"]:
        lines.append("biggest merges (entity id: gold entities):")
        lines += [f"  {n:5d} {e}: {c}" for n, e, c in r["merges"][:10]]
    if r["splits"]:
        lines.append("biggest splits (gold entity: entity ids):")
        lines += [f"  {n:5d} {e}: {c}" for n, e, c in r["splits"][:10]]
    return "\n".join(lines)


def entity_qc(entities: pd.DataFrame, show: int = 20) -> dict[str, Any]:
    """The entities the linker's quality checks flag (``entities.qc_flags``): counts per
    flag and the flagged entities with most mentions, for ``evaluation.json``."""
    if "qc_flags" not in entities or entities.empty:
        return {"entities": int(len(entities)), "flagged": 0, "by_flag": {}, "top": []}
    flagged = entities[entities["qc_flags"].map(lambda f: bool(f))]
    by_flag = Counter(f for flags in flagged["qc_flags"] for f in flags)
    top = flagged.sort_values(["n_mentions", "entity_id"], ascending=[False, True]).head(show)
    return {"entities": int(len(entities)), "flagged": int(len(flagged)), "by_flag": dict(sorted(by_flag.items())),
            "top": [{"entity_id": r.entity_id, "canonical_name": r.canonical_name, "n_mentions": int(r.n_mentions),
                     "qc_flags": list(r.qc_flags)} for r in top.itertuples(index=False)]}


def format_entity_qc(qc: dict[str, Any]) -> str:
    if not qc["flagged"]:
        return f"entity checks: none of {qc['entities']} entities flagged"
    lines = [f"entity checks: {qc['flagged']} of {qc['entities']} entities flagged ("
             + ", ".join(f"{k} {v}" for k, v in qc["by_flag"].items()) + "); `pipeline explain` shows why:"]
    lines += [f"  {t['entity_id']} {t['canonical_name']!r} ({t['n_mentions']} mentions): {', '.join(t['qc_flags'])}"
              for t in qc["top"][:10]]
    return "\n".join(lines)
