"""`pipeline evaluate --surfaces`: the corpus-scale linking measure, checked by hand on a
tiny table and against the script used from outside (../shared/eval/score_surfaces.py)."""

from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
import pytest
from typer.testing import CliRunner

from pipeline.cli import app
from pipeline.errors import InputError
from pipeline.evaluate_surfaces import load_surface_gold, score_surfaces

from .conftest import SHARED

SCRIPT = SHARED / "eval" / "score_surfaces.py"


def _gold(tmp_path, rows):
    p = tmp_path / "gold.jsonl"
    p.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return p


def _m(rows):
    return pd.DataFrame(rows, columns=["text", "label", "kind", "entity_id"])


def test_a_merge_of_two_people_costs_precision_and_a_split_costs_recall(tmp_path):
    gold = load_surface_gold(_gold(tmp_path, [
        {"surface": "Gerhard Schröder", "entity": "Gerhard Schröder", "label": "PER", "ambiguous": False},
        {"surface": "Kristina Schröder", "entity": "Kristina Schröder", "label": "PER", "ambiguous": False},
        {"surface": "Schröder", "entity": None, "label": "PER", "ambiguous": True},
        {"surface": "Grünen", "entity": "Bündnis 90/Die Grünen", "label": "ORG", "ambiguous": False},
        {"surface": "Grüne", "entity": "Bündnis 90/Die Grünen", "label": "ORG", "ambiguous": False},
        {"surface": "Heute", "entity": None, "label": "NONE", "ambiguous": False},
    ]))
    m = _m([("Gerhard Schröder", "PER", "name", "PER:s"), ("Gerhard Schröder", "PER", "name", "PER:s"),
            ("Kristina Schröder", "PER", "name", "PER:s"), ("Schröder", "PER", "name", "PER:s"),
            ("Grünen", "ORG", "name", "ORG:a"), ("Grüne", "ORG", "name", "ORG:b"),
            ("Heute", "LOC", "name", "LOC:heute"), ("Grünen", "ORG", "deriv", "ORG:a")])
    r = score_surfaces(m, gold)
    assert r["name_mentions"] == 7 and r["ambiguous_mentions"] == 1
    assert r["scored_mentions"] == 5 and r["junk_mentions"] == 1
    # PER: cluster {G, G, K}; B-cubed precision (2/3 + 2/3 + 1/3) / 3 = 5/9, recall 1
    assert r["per_label"]["PER"]["b3_p"] == pytest.approx(5 / 9, abs=1e-4)
    assert r["per_label"]["PER"]["b3_r"] == 1.0
    # ORG: one entity split over two ids: recall 1/2, precision 1
    assert r["per_label"]["ORG"]["b3_r"] == 0.5 and r["per_label"]["ORG"]["b3_p"] == 1.0
    assert r["junk_rate"] == pytest.approx(1 / 6, abs=1e-4)
    assert r["top50_clean"]["PER"] == {"judged": 1, "clean": 0, "rate": 0.0}
    assert r["merges"][0][1] == "PER:s" and r["splits"][0][1] == "Bündnis 90/Die Grünen"


def test_a_bad_gold_file_names_its_lines(tmp_path):
    p = tmp_path / "g.jsonl"
    p.write_text('{"surface": "A", "entity": "A", "label": "PER"}\nnot json\n{"surface": "B", "label": "X"}\n',
                 encoding="utf-8")
    with pytest.raises(InputError, match="line 2.*line 3"):
        load_surface_gold(p)


@pytest.mark.skipif(not SCRIPT.exists(), reason="needs ../shared/eval/score_surfaces.py")
def test_the_cli_agrees_with_the_script_used_from_outside(tmp_path, seeds_run):
    run_dir, _ = seeds_run
    m = pd.read_parquet(run_dir / "mentions.parquet")
    names = m[m["kind"] == "name"]
    # a gold from the run's own frequent surfaces: each surface its own entity, one merged
    # pair, one junk and one ambiguous surface, so every branch of the measure is used
    top = names["text"].value_counts().index[:12].tolist()
    rows = [{"surface": s, "entity": s, "label": lab, "ambiguous": False}
            for s, lab in zip(top, names.groupby("text")["label"].first()[top])]
    rows[1]["entity"] = rows[0]["entity"]
    rows[1]["label"] = rows[0]["label"]
    rows[2]["label"], rows[2]["entity"] = "NONE", None
    rows[3]["ambiguous"] = True
    gold = _gold(tmp_path, rows)
    out = tmp_path / "report.json"
    r = CliRunner().invoke(app, ["evaluate", str(run_dir), "--surfaces", str(gold), "--json", str(out)])
    assert r.exit_code == 0, r.output
    ours = json.loads(out.read_text(encoding="utf-8"))["surfaces"]
    theirs = json.loads(subprocess.run([sys.executable, str(SCRIPT), str(run_dir), str(gold), "--json"],
                                       check=True, capture_output=True, text=True).stdout)
    assert ours == theirs


def test_entity_checks_are_counted_for_evaluation_json():
    from pipeline.evaluate_surfaces import entity_qc, format_entity_qc

    ents = pd.DataFrame({"entity_id": ["PER:a", "LOC:b", "ORG:c"], "canonical_name": ["A B", "wiener", "C"],
                         "n_mentions": [3, 9, 1],
                         "qc_flags": [["several_full_names", "mixed_labels"], ["lowercase_canonical"], []]})
    qc = entity_qc(ents)
    assert qc["flagged"] == 2 and qc["by_flag"] == {"lowercase_canonical": 1, "mixed_labels": 1,
                                                     "several_full_names": 1}
    assert [t["entity_id"] for t in qc["top"]] == ["LOC:b", "PER:a"]
    assert "2 of 3 entities flagged" in format_entity_qc(qc)
