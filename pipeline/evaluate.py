"""Score a pipeline run against gold mentions: NER precision/recall/F1 and linking quality.

Gold format (``seeds-gold/mentions.jsonl``): one JSON object per line with ``doc``,
``start``, ``end``, ``text``, ``label``, ``kind`` and ``entity`` (a cross-document key).
Predictions are the ``mentions`` table of a run (:mod:`pipeline.schemas`); ``doc_id`` is
the gold ``doc``.

Scope
    Only documents that occur in the gold file are scored; predictions in any other
    document are ignored (their number is reported as ``n_pred_ignored``). ``kinds``
    filters gold *and* predicted mentions by ``kind`` (None keeps all).

NER
    Per label (PER, LOC, ORG, MISC, plus any other label that occurs) and micro over
    all labels, in two modes:

    * ``strict``: exact start, end and label.
    * ``overlap``: character spans overlap and labels are equal. Matching is one-to-one
      and greedy (exact spans first, then by overlap length, then by position), so a
      prediction is counted at most once and a gold mention is found at most once.

    0/0 precision, recall or F1 is reported as 0.0.

Linking
    Computed over the gold mentions that a prediction was matched to. The matching is
    one-to-one and ignores the label: first exact span (start, end) matches, then, among
    the still unmatched mentions, overlapping spans (greedy by overlap length). The
    predicted cluster of a matched gold mention is its prediction's ``entity_id``; a
    matched prediction without an ``entity_id`` forms a singleton cluster of its own
    (counted in ``unlinked_matched``). The gold cluster is ``entity``. Clusters span
    documents.

    * B-cubed from the contingency table n_ij (gold entity i, predicted id j) of the
      N matched mentions, with gold sizes a_i and predicted sizes b_j (both counted over
      matched mentions only): P = sum n_ij^2 / b_j / N, R = sum n_ij^2 / a_i / N.
    * B-cubed per gold label: the same per-mention scores averaged over the matched
      mentions whose gold label is L (clusters are the global ones, so a PER mention
      merged with a LOC mention is penalised).
    * Pairwise (mention pairs in the same cluster): TP = sum C(n_ij, 2), P = TP /
      sum C(b_j, 2), R = TP / sum C(a_i, 2). A zero denominator (no pairs predicted /
      no pairs in gold) gives 1.0 when N > 0 (nothing wrong was asserted / nothing was
      to be found) and 0.0 when N == 0.
    * ``split_entities``: gold entities whose matched mentions carry several predicted
      ids; ``mixed_entities``: predicted ids whose matched mentions carry several gold
      entities, flagged ``mixes_per`` when two or more of them are gold PER entities.
      Surface forms are the gold mention texts with their counts.

The returned dict holds only str/int/float/bool/None/list/dict and is JSON-serialisable.
"""

from __future__ import annotations

import bisect
import json
from collections import Counter, defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import pandas as pd

from .schemas import LABELS

GOLD_COLUMNS = ["doc_id", "start_char", "end_char", "text", "label", "kind", "entity"]
_MATCH_DOC = (
    "strict span (start, end) match, else one-to-one greedy overlap match; "
    "label ignored; unlinked matched predictions are singletons"
)


# --------------------------------------------------------------------------- loading


def load_gold(path: str | Path) -> pd.DataFrame:
    """Read a gold ``mentions.jsonl`` into a frame with :data:`GOLD_COLUMNS`."""
    rows = []
    with open(path, encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            line = line.strip()
            if not line:
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{path}:{lineno}: invalid JSON ({exc})") from None
            rows.append(
                (
                    str(obj["doc"]),
                    int(obj["start"]),
                    int(obj["end"]),
                    str(obj.get("text", "")),
                    str(obj["label"]),
                    str(obj.get("kind") or "name"),
                    None if obj.get("entity") in (None, "") else str(obj["entity"]),
                )
            )
    df = pd.DataFrame(rows, columns=GOLD_COLUMNS)
    df["start_char"] = df["start_char"].astype("int64")
    df["end_char"] = df["end_char"].astype("int64")
    return df


def _read_mentions(run_dir: Path) -> pd.DataFrame:
    """The run's mentions table, through the one reader of run tables
    (:func:`pipeline.write.read_table`): a missing, truncated or edited table raises
    ``BrokenRunError`` naming the file."""
    from .errors import InputError
    from .write import read_table

    if not Path(run_dir).is_dir():
        raise InputError(f"no run directory at {run_dir}")
    return read_table(Path(run_dir), "mentions")


# ----------------------------------------------------------------------- primitives


def _prf(tp: int, fp: int, fn: int) -> dict[str, Any]:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"tp": int(tp), "fp": int(fp), "fn": int(fn), "precision": p, "recall": r, "f1": f}


def _f1(p: float, r: float) -> float:
    return 2 * p * r / (p + r) if p + r else 0.0


def _is_null(v: Any) -> bool:
    if v is None:
        return True
    if isinstance(v, str):
        return v == ""
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


Item = tuple[int, int, int]  # (start, end, row index)


def _overlap_pairs(golds: list[Item], preds: list[Item]) -> list[tuple[int, int, int, int]]:
    """All overlapping (gold, pred) pairs as ``(exact, overlap, gi, pi)``; O(n log n + k).

    ``preds`` is scanned backwards from the last prediction starting before the gold
    end, stopping once the running maximum end of all earlier predictions cannot reach
    the gold start (handles nested predictions too)."""
    if not golds or not preds:
        return []
    preds = sorted(preds)
    starts = [p[0] for p in preds]
    max_end: list[int] = []
    m = -1
    for p in preds:
        m = max(m, p[1])
        max_end.append(m)
    out = []
    for gs, ge, gi in golds:
        j = bisect.bisect_left(starts, ge) - 1
        while j >= 0 and max_end[j] > gs:
            ps, pe, pi = preds[j]
            ov = min(ge, pe) - max(gs, ps)
            if ov > 0:
                out.append((int(ps == gs and pe == ge), ov, gi, pi))
            j -= 1
    return out


def _greedy(pairs: list[tuple[int, int, int, int]], used_g: set[int], used_p: set[int]) -> list[tuple[int, int]]:
    """One-to-one greedy matching: exact spans first, then longest overlap, then position."""
    pairs.sort(key=lambda t: (-t[0], -t[1], t[2], t[3]))
    out = []
    for _, _, gi, pi in pairs:
        if gi in used_g or pi in used_p:
            continue
        used_g.add(gi)
        used_p.add(pi)
        out.append((gi, pi))
    return out


def _group(rows: Iterable[tuple[Any, ...]]) -> dict[Any, list[Item]]:
    groups: dict[Any, list[Item]] = defaultdict(list)
    for key, s, e, i in rows:
        groups[key].append((s, e, i))
    return groups


# ------------------------------------------------------------------------------ NER


def _ner_scores(g: pd.DataFrame, p: pd.DataFrame) -> dict[str, Any]:
    labels = list(LABELS) + sorted((set(g["label"]) | set(p["label"])) - set(LABELS))
    n_gold = Counter(g["label"])
    n_pred = Counter(p["label"])
    g_rows = list(zip(zip(g["doc_id"], g["label"]), g["start_char"], g["end_char"], range(len(g))))
    p_rows = list(zip(zip(p["doc_id"], p["label"]), p["start_char"], p["end_char"], range(len(p))))

    # strict: multiset intersection of (doc, start, end, label)
    gk = Counter((k[0], s, e, k[1]) for k, s, e, _ in g_rows)
    pk = Counter((k[0], s, e, k[1]) for k, s, e, _ in p_rows)
    tp_strict: Counter[str] = Counter()
    for key, c in gk.items():
        if key in pk:
            tp_strict[key[3]] += min(c, pk[key])

    # overlap: one-to-one greedy per (doc, label)
    gg, pg = _group(g_rows), _group(p_rows)
    tp_overlap: Counter[str] = Counter()
    for key, golds in gg.items():
        preds = pg.get(key)
        if preds:
            matched = _greedy(_overlap_pairs(golds, preds), set(), set())
            tp_overlap[key[1]] += len(matched)

    out: dict[str, Any] = {}
    for mode, tps in (("strict", tp_strict), ("overlap", tp_overlap)):
        table = {}
        for lab in labels:
            tp = tps[lab]
            table[lab] = _prf(tp, n_pred[lab] - tp, n_gold[lab] - tp)
        tp = sum(tps.values())
        table["micro"] = _prf(tp, len(p) - tp, len(g) - tp)
        out[mode] = table
    return out


# -------------------------------------------------------------------------- linking


def _link_match(g: pd.DataFrame, p: pd.DataFrame) -> tuple[list[tuple[int, int]], int]:
    """Label-agnostic one-to-one matching: exact spans, then overlap. Returns the
    (gold row, pred row) pairs and how many of them are exact."""
    pairs: list[tuple[int, int]] = []
    # exact spans via a dict of queues
    queue: dict[tuple, list[int]] = defaultdict(list)
    for i, key in enumerate(zip(p["doc_id"], p["start_char"], p["end_char"])):
        queue[key].append(i)
    for lst in queue.values():
        lst.reverse()
    used_g: set[int] = set()
    used_p: set[int] = set()
    for gi, key in enumerate(zip(g["doc_id"], g["start_char"], g["end_char"])):
        lst = queue.get(key)
        if lst:
            pi = lst.pop()
            pairs.append((gi, pi))
            used_g.add(gi)
            used_p.add(pi)
    n_exact = len(pairs)
    g_rest = _group(
        (d, s, e, i) for i, (d, s, e) in enumerate(zip(g["doc_id"], g["start_char"], g["end_char"])) if i not in used_g
    )
    p_rest = _group(
        (d, s, e, i) for i, (d, s, e) in enumerate(zip(p["doc_id"], p["start_char"], p["end_char"])) if i not in used_p
    )
    for doc, golds in g_rest.items():
        preds = p_rest.get(doc)
        if preds:
            pairs.extend(_greedy(_overlap_pairs(golds, preds), used_g, used_p))
    return pairs, n_exact


def _cluster_scores(gold_ids: list[Any], pred_ids: list[Any], gold_labels: list[str]) -> dict[str, Any]:
    n = len(gold_ids)
    cells = Counter(zip(gold_ids, pred_ids))
    a = Counter(gold_ids)
    b = Counter(pred_ids)
    # per-cell contribution: each of the n_ij mentions has P = n_ij/b_j, R = n_ij/a_i
    p_sum = r_sum = 0.0
    p_lab: Counter[str] = Counter()
    r_lab: Counter[str] = Counter()
    n_lab: Counter[str] = Counter(gold_labels)
    cell_label: dict[tuple, Counter[str]] = defaultdict(Counter)
    for key, lab in zip(zip(gold_ids, pred_ids), gold_labels):
        cell_label[key][lab] += 1
    for (gi, pj), nij in cells.items():
        p_sum += nij * nij / b[pj]
        r_sum += nij * nij / a[gi]
        for lab, c in cell_label[(gi, pj)].items():
            p_lab[lab] += c * nij / b[pj]
            r_lab[lab] += c * nij / a[gi]

    def bc(p: float, r: float, count: int) -> dict[str, Any]:
        if not count:
            return {"n": 0, "precision": 0.0, "recall": 0.0, "f1": 0.0}
        p, r = p / count, r / count
        return {"n": int(count), "precision": p, "recall": r, "f1": _f1(p, r)}

    def c2(x: int) -> int:
        return x * (x - 1) // 2

    tp = sum(c2(v) for v in cells.values())
    pp = sum(c2(v) for v in b.values())
    gp = sum(c2(v) for v in a.values())
    if n:
        pw_p = tp / pp if pp else 1.0
        pw_r = tp / gp if gp else 1.0
    else:
        pw_p = pw_r = 0.0
    per_label = {lab: bc(p_lab[lab], r_lab[lab], n_lab[lab]) for lab in list(LABELS) + sorted(set(n_lab) - set(LABELS))}
    return {
        "bcubed": bc(p_sum, r_sum, n),
        "pairwise": {
            "true_pairs": int(tp),
            "predicted_pairs": int(pp),
            "gold_pairs": int(gp),
            "precision": pw_p,
            "recall": pw_r,
            "f1": _f1(pw_p, pw_r),
        },
        "bcubed_per_label": per_label,
        "n_gold_entities": len(a),
        "n_pred_entities": len(b),
    }


def _surfaces(texts: Iterable[str]) -> list[list[Any]]:
    return [[t, int(c)] for t, c in sorted(Counter(texts).items(), key=lambda kv: (-kv[1], kv[0]))]


def _linking(g: pd.DataFrame, p: pd.DataFrame) -> dict[str, Any]:
    pairs, n_exact = _link_match(g, p)
    pairs.sort()
    g_ent = g["entity"].tolist()
    g_lab = g["label"].tolist()
    g_txt = g["text"].tolist()
    g_doc = g["doc_id"].tolist()
    p_ent = p["entity_id"].tolist()

    gold_ids, pred_ids, labels, texts = [], [], [], []
    unlinked = 0
    for gi, pi in pairs:
        eid = p_ent[pi]
        if _is_null(eid):
            unlinked += 1
            pred_ids.append(("__unlinked__", pi))  # singleton cluster
        else:
            pred_ids.append(str(eid))
        ent = g_ent[gi]
        gold_ids.append(str(ent) if not _is_null(ent) else ("__gold_singleton__", gi))
        labels.append(g_lab[gi])
        texts.append(g_txt[gi])

    scores = _cluster_scores(gold_ids, pred_ids, labels)

    # diagnostics
    by_gold: dict[Any, dict[Any, list[str]]] = defaultdict(lambda: defaultdict(list))
    by_pred: dict[Any, dict[Any, list[str]]] = defaultdict(lambda: defaultdict(list))
    gold_label: dict[Any, str] = {}
    for gid, pid, lab, txt in zip(gold_ids, pred_ids, labels, texts):
        by_gold[gid][pid].append(txt)
        by_pred[pid][gid].append(txt)
        gold_label.setdefault(gid, lab)

    def show(x: Any) -> str | None:
        return None if isinstance(x, tuple) else x

    split = []
    for gid, preds in by_gold.items():
        if len(preds) < 2:
            continue
        split.append(
            {
                "entity": show(gid),
                "label": gold_label[gid],
                "n_mentions": sum(len(v) for v in preds.values()),
                "predicted": sorted(
                    ({"entity_id": show(pid), "n": len(t), "surfaces": _surfaces(t)} for pid, t in preds.items()),
                    key=lambda d: (-d["n"], str(d["entity_id"])),
                ),
            }
        )
    split.sort(key=lambda d: (-len(d["predicted"]), -d["n_mentions"], str(d["entity"])))

    mixed = []
    for pid, golds in by_pred.items():
        if len(golds) < 2:
            continue
        n_per = sum(1 for gid in golds if gold_label[gid] == "PER")
        mixed.append(
            {
                "entity_id": show(pid),
                "n_mentions": sum(len(v) for v in golds.values()),
                "mixes_per": n_per >= 2,
                "gold": sorted(
                    (
                        {"entity": show(gid), "label": gold_label[gid], "n": len(t), "surfaces": _surfaces(t)}
                        for gid, t in golds.items()
                    ),
                    key=lambda d: (-d["n"], str(d["entity"])),
                ),
            }
        )
    mixed.sort(key=lambda d: (not d["mixes_per"], -len(d["gold"]), -d["n_mentions"], str(d["entity_id"])))

    matched = {gi for gi, _ in pairs}
    unmatched_rows = [i for i in range(len(g)) if i not in matched]
    unmatched_by_label = Counter(g_lab[i] for i in unmatched_rows)
    return {
        "matching": _MATCH_DOC,
        "n_gold": int(len(g)),
        "n_matched": len(pairs),
        "n_matched_strict": int(n_exact),
        "n_matched_overlap": len(pairs) - int(n_exact),
        "unmatched_gold": len(unmatched_rows),
        "unmatched_gold_by_label": {k: int(v) for k, v in sorted(unmatched_by_label.items())},
        "unmatched_gold_examples": [
            {"doc_id": g_doc[i], "text": g_txt[i], "label": g_lab[i], "entity": show(g_ent[i]) if not _is_null(g_ent[i]) else None}
            for i in unmatched_rows[:50]
        ],
        "unlinked_matched": int(unlinked),
        **scores,
        "split_entities": split,
        "mixed_entities": mixed,
    }


# ------------------------------------------------------------------------------ API


def _prepare_pred(mentions: pd.DataFrame) -> pd.DataFrame:
    df = mentions
    for col in ("doc_id", "start_char", "end_char", "label"):
        if col not in df.columns:
            raise KeyError(f"mentions lack required column {col!r}")
    out = pd.DataFrame(
        {
            "doc_id": df["doc_id"].astype(str).tolist(),
            "start_char": df["start_char"].astype("int64").tolist(),
            "end_char": df["end_char"].astype("int64").tolist(),
            "label": df["label"].astype(str).tolist(),
            "kind": df["kind"].astype(str).tolist() if "kind" in df.columns else ["name"] * len(df),
            "entity_id": df["entity_id"].tolist() if "entity_id" in df.columns else [None] * len(df),
            "text": df["text"].astype(str).tolist() if "text" in df.columns else [""] * len(df),
        }
    )
    return out


def evaluate(mentions: pd.DataFrame, gold: pd.DataFrame, *, kinds: tuple[str, ...] | None = None) -> dict:
    """Score predicted ``mentions`` (the run table) against ``gold`` (:func:`load_gold`).

    See the module docstring for the definitions. ``kinds`` filters both sides."""
    gold = gold.reset_index(drop=True)
    if "entity" not in gold.columns:
        gold = gold.assign(entity=None)
    if "kind" not in gold.columns:
        gold = gold.assign(kind="name")
    if "text" not in gold.columns:
        gold = gold.assign(text="")
    pred = _prepare_pred(mentions)
    gold_docs = set(gold["doc_id"].astype(str))
    in_docs = pred["doc_id"].isin(gold_docs)
    n_ignored = int((~in_docs).sum())
    pred = pred[in_docs]
    g = gold.assign(doc_id=gold["doc_id"].astype(str))
    if kinds is not None:
        kinds = tuple(kinds)
        g = g[g["kind"].isin(kinds)]
        pred = pred[pred["kind"].isin(kinds)]
    g = g.reset_index(drop=True)
    pred = pred.reset_index(drop=True)
    return {
        "kinds": list(kinds) if kinds is not None else None,
        "n_docs": len(gold_docs),
        "n_gold": int(len(g)),
        "n_pred": int(len(pred)),
        "n_pred_ignored": n_ignored,
        "ner": _ner_scores(g, pred),
        "linking": _linking(g, pred),
    }


def evaluate_run(run_dir: str | Path, gold_path: str | Path) -> dict:
    """Evaluate ``run_dir/mentions.parquet`` (or ``mentions.csv``) against a gold file,
    once for ``kind == "name"`` and once for all kinds."""
    run_dir = Path(run_dir)
    mentions = _read_mentions(run_dir)
    gold = load_gold(gold_path)
    return {
        "name": evaluate(mentions, gold, kinds=("name",)),
        "all": evaluate(mentions, gold, kinds=None),
        "gold": str(gold_path),
        "run": str(run_dir),
    }


# --------------------------------------------------------------------------- report


def _fmt(x: float) -> str:
    return f"{100 * x:5.1f}"


def _ner_table(ner: dict[str, Any]) -> list[str]:
    lines = [
        f"  {'label':<6} | {'strict P':>8} {'R':>5} {'F1':>5} {'tp':>4} {'fp':>4} {'fn':>4} | "
        f"{'overlap P':>9} {'R':>5} {'F1':>5} {'tp':>4} {'fp':>4} {'fn':>4}"
    ]
    lines.append("  " + "-" * (len(lines[0]) - 2))
    for lab in ner["strict"]:
        s, o = ner["strict"][lab], ner["overlap"][lab]
        if lab != "micro" and lab not in LABELS and s["tp"] + s["fp"] + s["fn"] == 0:
            continue
        lines.append(
            f"  {lab:<6} | {_fmt(s['precision']):>8} {_fmt(s['recall'])} {_fmt(s['f1'])} "
            f"{s['tp']:>4} {s['fp']:>4} {s['fn']:>4} | {_fmt(o['precision']):>9} {_fmt(o['recall'])} "
            f"{_fmt(o['f1'])} {o['tp']:>4} {o['fp']:>4} {o['fn']:>4}"
        )
    return lines


def _section(title: str, ev: dict[str, Any], max_items: int = 10) -> list[str]:
    kinds = "all kinds" if ev["kinds"] is None else "kind " + "/".join(ev["kinds"])
    lines = [
        f"== {title} ({kinds}): {ev['n_docs']} gold docs, {ev['n_gold']} gold, {ev['n_pred']} predicted "
        f"({ev['n_pred_ignored']} predictions in non-gold docs ignored)",
        "NER (P/R/F1 in %)",
        *_ner_table(ev["ner"]),
    ]
    lk = ev["linking"]
    b, pw = lk["bcubed"], lk["pairwise"]
    lines += [
        f"Linking over {lk['n_matched']} matched gold mentions ({lk['n_matched_strict']} strict, "
        f"{lk['n_matched_overlap']} overlap; {lk['unmatched_gold']} gold unmatched; "
        f"{lk['unlinked_matched']} matched predictions without entity_id)",
        f"  B-cubed   P {_fmt(b['precision'])}  R {_fmt(b['recall'])}  F1 {_fmt(b['f1'])}",
        f"  pairwise  P {_fmt(pw['precision'])}  R {_fmt(pw['recall'])}  F1 {_fmt(pw['f1'])}  "
        f"(pairs: {pw['true_pairs']} true / {pw['predicted_pairs']} predicted / {pw['gold_pairs']} gold)",
        f"  gold entities {lk['n_gold_entities']}, predicted clusters {lk['n_pred_entities']}",
    ]
    for lab, sc in lk["bcubed_per_label"].items():
        if sc["n"]:
            lines.append(
                f"  B-cubed {lab:<5} P {_fmt(sc['precision'])}  R {_fmt(sc['recall'])}  F1 {_fmt(sc['f1'])}  (n={sc['n']})"
            )

    def one(x: Any) -> str:  # one line per item, even for ids/surfaces with newlines
        return " ".join(str(x).split())

    def surf(s: list[list[Any]]) -> str:
        return ", ".join(f"{one(t)}×{c}" if c > 1 else one(t) for t, c in s)

    if lk["split_entities"]:
        lines.append(f"  split gold entities ({len(lk['split_entities'])}):")
        for item in lk["split_entities"][:max_items]:
            parts = "; ".join(f"{one(d['entity_id'])} [{surf(d['surfaces'])}]" for d in item["predicted"])
            lines.append(f"    {one(item['entity'])} ({item['label']}): {parts}")
    if lk["mixed_entities"]:
        lines.append(f"  mixed predicted ids ({len(lk['mixed_entities'])}):")
        for item in lk["mixed_entities"][:max_items]:
            flag = "  !! mixes PER" if item["mixes_per"] else ""
            parts = "; ".join(f"{one(d['entity'])}/{d['label']} [{surf(d['surfaces'])}]" for d in item["gold"])
            lines.append(f"    {one(item['entity_id'])}: {parts}{flag}")
    return lines


def format_report(report: dict) -> str:
    """A plain-text summary of :func:`evaluate_run` output (or of one :func:`evaluate` dict)."""
    if "ner" in report:  # a single evaluate() result
        return "\n".join(_section("evaluation", report)) + "\n"
    lines = [f"run:  {report.get('run', '?')}", f"gold: {report.get('gold', '?')}", ""]
    for key, title in (("name", "names only"), ("all", "all mentions")):
        if key in report:
            lines += _section(title, report[key]) + [""]
    return "\n".join(lines)
