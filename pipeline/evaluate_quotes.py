"""Score a run's quotations against a gold in the Wikinews quotation format.

Gold format (one JSON object a line, ``../shared/data/wikinews-de/*.quotes.jsonl``):
``id`` (the document id), ``type`` (Direct, Indirect, FreeIndirect, Reported,
IndirectFreeIndirect), and ``speaker``, ``cue``, ``quote``, ``addressee``: each a list of
``[start, end)`` character spans into the article text, or null.

Matching
    A quote's extent is [first span start, last span end). A predicted quote matches a
    gold quote of the same document when their extents overlap by at least half of the
    shorter extent; matching is one to one and greedy (largest overlap first, then
    position). ``overall`` matches across types (a quote found with the wrong type still
    counts; ``type_accuracy`` is the share of matches with the same type); each type in
    ``per_type`` matches only predictions and gold quotes of that type.

    Only documents that occur in the gold are scored; predictions elsewhere are ignored.

Speakers (for matched quotes whose gold has a speaker)
    ``speaker_accuracy``: the predicted speaker span overlaps a gold speaker span.
    ``speaker_entity_accuracy``: over the matched quotes whose gold speaker span
    contains a run mention with an entity id, the share whose ``speaker_entity_id`` is
    the entity of one of those mentions (needs ``mentions``). Gold quotes without a
    speaker count for quote spans only.

0/0 ratios are reported as 0.0. The result holds only JSON types.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd

from .quotes import QUOTE_TYPES

GOLD_TYPES = {"Direct": "direct", "Indirect": "indirect", "FreeIndirect": "free_indirect",
              "Reported": "reported", "IndirectFreeIndirect": "indirect_free_indirect"}


def load_quotes_gold(path_or_rows: str | Path | Iterable[dict]) -> list[dict[str, Any]]:
    """Gold quotations as dicts: doc_id, type (snake case), start, end, speaker (spans or [])."""
    if isinstance(path_or_rows, (str, Path)):
        with open(path_or_rows, encoding="utf-8") as fh:
            rows = [json.loads(line) for line in fh if line.strip()]
    else:
        rows = list(path_or_rows)
    out = []
    for r in rows:
        q = r.get("quote") or []
        if not q:
            continue
        out.append({"doc_id": str(r["id"]), "type": GOLD_TYPES.get(r["type"], str(r["type"])),
                    "start": min(int(a) for a, _ in q), "end": max(int(b) for _, b in q),
                    "speaker": [(int(a), int(b)) for a, b in (r.get("speaker") or [])]})
    return out


def _overlap(a0: int, a1: int, b0: int, b1: int) -> int:
    return max(0, min(a1, b1) - max(a0, b0))


def _match(golds: list[dict], preds: list[dict]) -> list[tuple[int, int]]:
    """Greedy one-to-one matching of preds to golds (indices), by overlap size."""
    from .evaluate import _greedy

    cands = []
    for gi, g in enumerate(golds):
        for pi, p in enumerate(preds):
            ov = _overlap(g["start"], g["end"], p["start"], p["end"])
            if ov and ov * 2 >= min(g["end"] - g["start"], p["end"] - p["start"]):
                # _greedy takes the largest first key first, then the largest second:
                # the longest overlap, then the nearest start
                cands.append((ov, -abs(g["start"] - p["start"]), gi, pi))
    return _greedy(cands, set(), set())


def _prf(tp: int, n_pred: int, n_gold: int) -> dict[str, Any]:
    p = tp / n_pred if n_pred else 0.0
    r = tp / n_gold if n_gold else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"tp": tp, "n_pred": n_pred, "n_gold": n_gold, "precision": round(p, 4),
            "recall": round(r, 4), "f1": round(f, 4)}


def _score(gold_by_doc: dict[str, list[dict]], pred_by_doc: dict[str, list[dict]],
           ments: dict[str, list[tuple[int, int, str]]]) -> dict[str, Any]:
    tp = n_pred = n_gold = 0
    sp_n = sp_ok = ent_n = ent_ok = same_type = 0
    for doc, golds in gold_by_doc.items():
        preds = pred_by_doc.get(doc, [])
        n_gold += len(golds)
        n_pred += len(preds)
        pairs = _match(golds, preds)
        tp += len(pairs)
        for gi, pi in pairs:
            g, p = golds[gi], preds[pi]
            same_type += g["type"] == p["type"]
            if not g["speaker"]:
                continue
            sp_n += 1
            ps, pe = p["speaker_start"], p["speaker_end"]
            if ps is not None and any(_overlap(a, b, ps, pe) for a, b in g["speaker"]):
                sp_ok += 1
            inside = {e for s, t, e in ments.get(doc, ())
                      if any(a <= s and t <= b for a, b in g["speaker"])}
            if inside:
                ent_n += 1
                ent_ok += p["speaker_entity_id"] in inside
    out = _prf(tp, n_pred, n_gold)
    out.update({"type_accuracy": round(same_type / tp, 4) if tp else 0.0,
                "speaker_n": sp_n, "speaker_accuracy": round(sp_ok / sp_n, 4) if sp_n else 0.0,
                "speaker_entity_n": ent_n,
                "speaker_entity_accuracy": round(ent_ok / ent_n, 4) if ent_n else 0.0})
    return out


def _null(v: Any) -> Any:
    return None if v is None or (isinstance(v, float) and v != v) or v is pd.NA else v


def evaluate_quotes(quotes: pd.DataFrame, gold_path_or_rows: str | Path | Iterable[dict],
                    mentions: pd.DataFrame | None = None) -> dict[str, Any]:
    """Quote span P/R/F overall and per type, speaker and speaker-entity accuracy.

    ``quotes`` is a run's quotes table (:data:`pipeline.quotes.QUOTE_COLUMNS`);
    ``mentions`` the run's mentions table (for the speaker entity; None skips it).
    """
    gold = load_quotes_gold(gold_path_or_rows)
    docs = {g["doc_id"] for g in gold}
    gold_by_doc: dict[str, list[dict]] = defaultdict(list)
    for g in gold:
        gold_by_doc[g["doc_id"]].append(g)
    pred_by_doc: dict[str, list[dict]] = defaultdict(list)
    n_ignored = 0
    if quotes is not None and len(quotes):
        for r in quotes.itertuples(index=False):
            if str(r.doc_id) not in docs:
                n_ignored += 1
                continue
            ss, se = _null(r.speaker_start), _null(r.speaker_end)
            pred_by_doc[str(r.doc_id)].append({
                "type": r.type, "start": int(r.start_char), "end": int(r.end_char),
                "speaker_start": None if ss is None else int(ss),
                "speaker_end": None if se is None else int(se),
                "speaker_entity_id": _null(r.speaker_entity_id)})
    ments: dict[str, list[tuple[int, int, str]]] = defaultdict(list)
    if mentions is not None and len(mentions):
        for s, e, doc, ent in zip(mentions["start_char"], mentions["end_char"],
                                  mentions["doc_id"], mentions["entity_id"]):
            if _null(ent) is not None and str(doc) in docs:
                ments[str(doc)].append((int(s), int(e), str(ent)))
    report: dict[str, Any] = {"n_docs": len(docs), "n_pred_ignored": n_ignored,
                              "overall": _score(gold_by_doc, pred_by_doc, ments), "per_type": {}}
    for t in QUOTE_TYPES:
        g_t = {d: [g for g in gs if g["type"] == t] for d, gs in gold_by_doc.items()}
        p_t = {d: [p for p in ps if p["type"] == t] for d, ps in pred_by_doc.items()}
        report["per_type"][t] = _score(g_t, p_t, ments)
    return report


def format_quotes_report(report: dict[str, Any]) -> str:
    """A plain-text table of :func:`evaluate_quotes` figures."""
    lines = [f"quotes: {report['n_docs']} gold documents"
             + (f", {report['n_pred_ignored']} predictions outside them ignored"
                if report.get("n_pred_ignored") else ""),
             f"{'type':<24}{'gold':>6}{'pred':>6}{'P':>8}{'R':>8}{'F1':>8}{'speaker':>9}{'entity':>8}"]

    def row(name: str, s: dict[str, Any]) -> str:
        sp = f"{s['speaker_accuracy']:.3f}" if s["speaker_n"] else "-"
        en = f"{s['speaker_entity_accuracy']:.3f}" if s["speaker_entity_n"] else "-"
        return (f"{name:<24}{s['n_gold']:>6}{s['n_pred']:>6}{s['precision']:>8.3f}"
                f"{s['recall']:>8.3f}{s['f1']:>8.3f}{sp:>9}{en:>8}")

    for t, s in report["per_type"].items():
        lines.append(row(t, s))
    lines.append(row("overall (any type)", report["overall"]))
    lines.append(f"type accuracy of overall matches: {report['overall']['type_accuracy']:.3f}")
    return "\n".join(lines)
