"""Tests of pipeline.evaluate on a small input whose scores were computed by hand.

Gold (6 mentions, 2 docs; entity keys P=Putin, R=Russland, K=Kim):

    g1 a.txt  0- 5 Putin     PER name  P
    g2 a.txt 10-15 Putin     PER name  P
    g3 a.txt 20-28 Russland  LOC name  R
    g4 a.txt 30-39 russische LOC deriv R
    g5 b.txt  0- 3 Kim       PER name  K
    g6 b.txt 10-15 Putin     PER name  P

Predictions:

    p1 a.txt  0- 5 PER name E1   exact               -> g1
    p2 a.txt 10-15 PER name E2   exact               -> g2
    p3 a.txt 20-28 ORG name E3   wrong label         -> g3
    (none)                       missed deriv           g4
    p5 b.txt  0- 3 PER name E1   exact               -> g5   (merge: E1 = Putin + Kim)
    p6 b.txt 10-16 PER name E2   boundary error      -> g6   (split: P = E1 + E2)
    p7 b.txt 20-25 MISC name E4  spurious
    p8 c.txt  0- 5 PER name E1   doc not in gold: ignored

NER, all kinds, strict:
    PER  tp 3 (p1,p2,p5)  fp 1 (p6)  fn 1 (g6)  -> P = R = F = 3/4
    LOC  tp 0  fp 0  fn 2 (g3,g4)               -> 0/0/0
    ORG  tp 0  fp 1 (p3) fn 0                   -> 0/0/0
    MISC tp 0  fp 1 (p7) fn 0                   -> 0/0/0
    micro tp 3  fp 3  fn 3                      -> P = R = F = 1/2
NER, all kinds, overlap: PER tp 4 fp 0 fn 0 (p6 now matches g6) -> 1.0;
    micro tp 4 fp 2 fn 2 -> P = R = F = 2/3.
NER, kinds=("name",): gold g1,g2,g3,g5,g6; strict micro tp 3 fp 3 fn 2
    -> P = 1/2, R = 3/5, F = 2*(1/2)(3/5)/(11/10) = 6/11.

Linking: matched gold g1,g2,g3,g5 (strict) and g6 (overlap) = 5 mentions; g4 unmatched.
    contingency (gold, pred): (P,E1)=1 (P,E2)=2 (R,E3)=1 (K,E1)=1
    gold sizes a: P=3 R=1 K=1; predicted sizes b: E1=2 E2=2 E3=1
    B3 P = (1/5)(1^2/2 + 2^2/2 + 1^2/1 + 1^2/2) = 4/5
    B3 R = (1/5)(1^2/3 + 2^2/3 + 1^2/1 + 1^2/1) = 11/15
    B3 F = 2(4/5)(11/15) / (4/5 + 11/15) = 88/115
    pairwise: true pairs C(2,2)=1, predicted pairs C(2,2)+C(2,2)=2, gold pairs C(3,2)=3
        -> P = 1/2, R = 1/3, F = 2/5
    B3 PER (g1,g2,g6,g5): per-mention P = 1/2, 1, 1, 1/2 -> 3/4;
        R = 1/3, 2/3, 2/3, 1 -> 2/3; F = 12/17
    B3 LOC (g3): 1.0
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipeline.errors import BrokenRunError
from pipeline.evaluate import evaluate, evaluate_run, format_report, load_gold

GOLD_ROWS = [
    ("a.txt", 0, 5, "Putin", "PER", "name", "P"),
    ("a.txt", 10, 15, "Putin", "PER", "name", "P"),
    ("a.txt", 20, 28, "Russland", "LOC", "name", "R"),
    ("a.txt", 30, 39, "russische", "LOC", "deriv", "R"),
    ("b.txt", 0, 3, "Kim", "PER", "name", "K"),
    ("b.txt", 10, 15, "Putin", "PER", "name", "P"),
]
PRED_ROWS = [
    ("a.txt", 0, 5, "Putin", "PER", "name", "E1"),
    ("a.txt", 10, 15, "Putin", "PER", "name", "E2"),
    ("a.txt", 20, 28, "Russland", "ORG", "name", "E3"),
    ("b.txt", 0, 3, "Kim", "PER", "name", "E1"),
    ("b.txt", 10, 16, "Putin,", "PER", "name", "E2"),
    ("b.txt", 20, 25, "Sojus", "MISC", "name", "E4"),
    ("c.txt", 0, 5, "Putin", "PER", "name", "E1"),
]


def _gold_file(path: Path, rows=GOLD_ROWS) -> Path:
    with open(path, "w", encoding="utf-8") as fh:
        for doc, s, e, text, label, kind, ent in rows:
            fh.write(json.dumps({"doc": doc, "start": s, "end": e, "text": text, "label": label,
                                 "kind": kind, "entity": ent}, ensure_ascii=False) + "\n")
    return path


def _mentions(rows=PRED_ROWS) -> pd.DataFrame:
    """A full `mentions` table (schemas.TABLES["mentions"] columns)."""
    return pd.DataFrame(
        {
            "mention_id": [f"m{i}" for i in range(len(rows))],
            "doc_id": [r[0] for r in rows],
            "sentence_index": [0] * len(rows),
            "start_char": [r[1] for r in rows],
            "end_char": [r[2] for r in rows],
            "text": [r[3] for r in rows],
            "label": [r[4] for r in rows],
            "kind": [r[5] for r in rows],
            "entity_id": [r[6] for r in rows],
            "key": [r[3].lower() for r in rows],
            "link_rule": ["exact"] * len(rows),
            "link_score": [1.0] * len(rows),
        }
    )


@pytest.fixture()
def gold(tmp_path) -> pd.DataFrame:
    return load_gold(_gold_file(tmp_path / "gold.jsonl"))


def test_load_gold(gold):
    assert list(gold.columns) == ["doc_id", "start_char", "end_char", "text", "label", "kind", "entity"]
    assert len(gold) == 6
    assert gold["start_char"].dtype == "int64"
    assert gold.iloc[3].to_dict() == {"doc_id": "a.txt", "start_char": 30, "end_char": 39, "text": "russische",
                                      "label": "LOC", "kind": "deriv", "entity": "R"}


def test_ner_strict_vs_overlap(gold):
    r = evaluate(_mentions(), gold)
    strict, overlap = r["ner"]["strict"], r["ner"]["overlap"]
    assert strict["PER"] == {"tp": 3, "fp": 1, "fn": 1, "precision": 0.75, "recall": 0.75, "f1": 0.75}
    assert strict["LOC"] == {"tp": 0, "fp": 0, "fn": 2, "precision": 0.0, "recall": 0.0, "f1": 0.0}
    assert (strict["ORG"]["tp"], strict["ORG"]["fp"], strict["ORG"]["fn"]) == (0, 1, 0)
    assert (strict["MISC"]["tp"], strict["MISC"]["fp"], strict["MISC"]["fn"]) == (0, 1, 0)
    assert (strict["micro"]["tp"], strict["micro"]["fp"], strict["micro"]["fn"]) == (3, 3, 3)
    assert strict["micro"]["f1"] == pytest.approx(0.5)
    # the boundary error on g6 counts in overlap mode only
    assert overlap["PER"] == {"tp": 4, "fp": 0, "fn": 0, "precision": 1.0, "recall": 1.0, "f1": 1.0}
    assert (overlap["micro"]["tp"], overlap["micro"]["fp"], overlap["micro"]["fn"]) == (4, 2, 2)
    for k in ("precision", "recall", "f1"):
        assert overlap["micro"][k] == pytest.approx(2 / 3)
    # the wrong label is wrong in both modes
    assert overlap["LOC"]["fn"] == 2 and overlap["ORG"]["fp"] == 1


def test_docs_not_in_gold_are_ignored(gold):
    r = evaluate(_mentions(), gold)
    assert r["n_pred"] == 6 and r["n_pred_ignored"] == 1 and r["n_docs"] == 2
    r2 = evaluate(_mentions(PRED_ROWS[:-1]), gold)
    assert r2["ner"] == r["ner"] and r2["linking"] == r["linking"]


def test_kinds_filter(gold):
    r = evaluate(_mentions(), gold, kinds=("name",))
    assert r["n_gold"] == 5 and r["n_pred"] == 6
    m = r["ner"]["strict"]["micro"]
    assert (m["tp"], m["fp"], m["fn"]) == (3, 3, 2)
    assert m["precision"] == pytest.approx(1 / 2)
    assert m["recall"] == pytest.approx(3 / 5)
    assert m["f1"] == pytest.approx(6 / 11)
    assert r["ner"]["strict"]["LOC"]["fn"] == 1  # the deriv g4 is filtered out
    assert r["linking"]["unmatched_gold"] == 0
    # deriv-only view: the only gold is g4, no prediction is a deriv
    d = evaluate(_mentions(), gold, kinds=("deriv",))
    assert d["n_gold"] == 1 and d["n_pred"] == 0
    assert d["ner"]["strict"]["micro"] == {"tp": 0, "fp": 0, "fn": 1, "precision": 0.0, "recall": 0.0, "f1": 0.0}
    assert d["linking"]["n_matched"] == 0 and d["linking"]["unmatched_gold"] == 1
    # predicted kinds are filtered too: a deriv prediction is ignored in the name view
    extra = PRED_ROWS + [("a.txt", 30, 39, "russische", "LOC", "deriv", "E3")]
    assert evaluate(_mentions(extra), gold, kinds=("name",))["ner"] == r["ner"]


def test_linking_scores(gold):
    lk = evaluate(_mentions(), gold)["linking"]
    assert lk["n_gold"] == 6
    assert lk["n_matched"] == 5 and lk["n_matched_strict"] == 4 and lk["n_matched_overlap"] == 1
    assert lk["unmatched_gold"] == 1 and lk["unmatched_gold_by_label"] == {"LOC": 1}
    assert lk["unmatched_gold_examples"][0]["text"] == "russische"
    b = lk["bcubed"]
    assert b["n"] == 5
    assert b["precision"] == pytest.approx(4 / 5)
    assert b["recall"] == pytest.approx(11 / 15)
    assert b["f1"] == pytest.approx(88 / 115)
    pw = lk["pairwise"]
    assert (pw["true_pairs"], pw["predicted_pairs"], pw["gold_pairs"]) == (1, 2, 3)
    assert pw["precision"] == pytest.approx(1 / 2)
    assert pw["recall"] == pytest.approx(1 / 3)
    assert pw["f1"] == pytest.approx(2 / 5)
    per = lk["bcubed_per_label"]["PER"]
    assert per["n"] == 4
    assert per["precision"] == pytest.approx(3 / 4)
    assert per["recall"] == pytest.approx(2 / 3)
    assert per["f1"] == pytest.approx(12 / 17)
    assert lk["bcubed_per_label"]["LOC"] == {"n": 1, "precision": 1.0, "recall": 1.0, "f1": 1.0}
    assert lk["bcubed_per_label"]["ORG"]["n"] == 0
    assert lk["n_gold_entities"] == 3 and lk["n_pred_entities"] == 3


def test_split_and_mixed_entities(gold):
    lk = evaluate(_mentions(), gold)["linking"]
    assert lk["split_entities"] == [
        {
            "entity": "P",
            "label": "PER",
            "n_mentions": 3,
            "predicted": [
                {"entity_id": "E2", "n": 2, "surfaces": [["Putin", 2]]},
                {"entity_id": "E1", "n": 1, "surfaces": [["Putin", 1]]},
            ],
        }
    ]
    assert lk["mixed_entities"] == [
        {
            "entity_id": "E1",
            "n_mentions": 2,
            "mixes_per": True,
            "gold": [
                {"entity": "K", "label": "PER", "n": 1, "surfaces": [["Kim", 1]]},
                {"entity": "P", "label": "PER", "n": 1, "surfaces": [["Putin", 1]]},
            ],
        }
    ]


def test_mixed_non_per_not_flagged(gold):
    # E3 now covers Russland (LOC) and Kim (PER): mixed, but not two PER entities
    rows = [r if r[3] != "Kim" else (*r[:6], "E3") for r in PRED_ROWS]
    lk = evaluate(_mentions(rows), gold)["linking"]
    mixed = {m["entity_id"]: m for m in lk["mixed_entities"]}
    assert set(mixed) == {"E3"} and mixed["E3"]["mixes_per"] is False


def test_overlap_matching_is_one_to_one():
    gold = pd.DataFrame([("d", 0, 10, "Kim Jong Un", "PER", "name", "K")],
                        columns=["doc_id", "start_char", "end_char", "text", "label", "kind", "entity"])
    preds = _mentions([("d", 0, 3, "Kim", "PER", "name", "A"), ("d", 4, 10, "Jong Un", "PER", "name", "B")])
    r = evaluate(preds, gold)
    s, o = r["ner"]["strict"]["PER"], r["ner"]["overlap"]["PER"]
    assert (s["tp"], s["fp"], s["fn"]) == (0, 2, 1)
    assert (o["tp"], o["fp"], o["fn"]) == (1, 1, 0)  # the longer overlap wins, counted once
    lk = r["linking"]
    assert lk["n_matched"] == 1 and lk["n_matched_overlap"] == 1
    assert lk["split_entities"] == []


def test_linking_prefers_strict_span_and_ignores_label():
    gold = pd.DataFrame([("d", 0, 5, "Putin", "PER", "name", "P"), ("d", 10, 15, "Putin", "PER", "name", "P")],
                        columns=["doc_id", "start_char", "end_char", "text", "label", "kind", "entity"])
    preds = _mentions([
        ("d", 0, 9, "Putin hat", "PER", "name", "WRONG"),  # overlaps g1 but is not exact
        ("d", 0, 5, "Putin", "LOC", "name", "X"),  # exact span, wrong label
        ("d", 10, 15, "Putin", "PER", "name", None),  # exact, but unlinked -> singleton
    ])
    lk = evaluate(preds, gold)["linking"]
    assert lk["n_matched_strict"] == 2 and lk["n_matched_overlap"] == 0
    assert lk["unlinked_matched"] == 1
    # two singleton clusters for one gold entity of two mentions: P = 1, R = 1/2
    assert lk["bcubed"]["precision"] == pytest.approx(1.0)
    assert lk["bcubed"]["recall"] == pytest.approx(0.5)
    assert lk["pairwise"]["recall"] == 0.0 and lk["pairwise"]["precision"] == 1.0
    assert [d["entity_id"] for d in lk["split_entities"][0]["predicted"]] == [None, "X"]


def test_gold_against_itself_is_perfect(gold):
    preds = gold.rename(columns={"entity": "entity_id"})
    r = evaluate(preds, gold)
    for mode in ("strict", "overlap"):
        assert r["ner"][mode]["micro"]["f1"] == 1.0
        assert r["ner"][mode]["PER"]["f1"] == 1.0
    assert r["linking"]["bcubed"]["f1"] == 1.0
    assert r["linking"]["pairwise"]["f1"] == 1.0
    assert r["linking"]["split_entities"] == [] and r["linking"]["mixed_entities"] == []


def test_real_gold_against_itself():
    path = Path(__file__).resolve().parents[2] / "shared" / "eval" / "seeds-gold" / "mentions.jsonl"
    if not path.exists():
        pytest.skip("shared gold file not available")
    gold = load_gold(path)
    r = evaluate(gold.rename(columns={"entity": "entity_id"}), gold)
    assert r["n_gold"] == len(gold) > 0
    assert r["ner"]["strict"]["micro"]["f1"] == 1.0
    assert r["linking"]["bcubed"]["f1"] == 1.0 and r["linking"]["pairwise"]["f1"] == 1.0


def test_empty_predictions(gold):
    r = evaluate(_mentions([]), gold)
    assert r["ner"]["strict"]["micro"] == {"tp": 0, "fp": 0, "fn": 6, "precision": 0.0, "recall": 0.0, "f1": 0.0}
    assert r["linking"]["n_matched"] == 0 and r["linking"]["bcubed"]["f1"] == 0.0
    json.dumps(r)
    assert "micro" in format_report(r)


def test_json_serialisable_and_report(gold):
    r = evaluate(_mentions(), gold)
    assert json.loads(json.dumps(r)) == r
    text = format_report(r)
    assert "B-cubed" in text and "mixes PER" in text


def _write(df: pd.DataFrame, run: Path, fmt: str) -> None:
    if fmt == "parquet":
        pq.write_table(pa.Table.from_pandas(df, preserve_index=False), run / "mentions.parquet")
    else:  # like pipeline.write: nulls as empty fields
        df.to_csv(run / "mentions.csv", index=False)


@pytest.mark.parametrize("fmt", ["parquet", "csv"])
def test_evaluate_run(tmp_path, fmt):
    gold_path = _gold_file(tmp_path / "gold.jsonl")
    run = tmp_path / "run"
    run.mkdir()
    df = _mentions()
    df.loc[5, "entity_id"] = None  # the spurious mention is unlinked: CSV writes ""
    _write(df, run, fmt)
    assert (run / f"mentions.{fmt}").exists()
    report = evaluate_run(run, gold_path)
    assert set(report) == {"name", "all", "gold", "run"}
    assert report["run"] == str(run) and report["gold"] == str(gold_path)
    assert report["all"]["kinds"] is None and report["name"]["kinds"] == ["name"]
    assert report["all"]["ner"]["strict"]["micro"]["tp"] == 3
    assert report["all"]["linking"]["bcubed"]["precision"] == pytest.approx(4 / 5)
    assert report["name"]["ner"]["strict"]["micro"]["f1"] == pytest.approx(6 / 11)
    assert json.loads(json.dumps(report)) == report
    text = format_report(report)
    assert "names only" in text and "all mentions" in text


def test_evaluate_run_prefers_parquet_and_needs_a_table(tmp_path):
    gold_path = _gold_file(tmp_path / "gold.jsonl")
    with pytest.raises(BrokenRunError, match="mentions.parquet or mentions.csv"):
        evaluate_run(tmp_path, gold_path)
    _write(_mentions(), tmp_path, "parquet")
    _write(_mentions([]), tmp_path, "csv")  # an empty CSV must not be read
    assert evaluate_run(tmp_path, gold_path)["all"]["n_pred"] == 6
