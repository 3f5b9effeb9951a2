"""Run-level tables: the cumulative entities table of incremental runs."""

from __future__ import annotations

import shutil

import pandas as pd
from typer.testing import CliRunner

from pipeline import load
from pipeline.cli import app
from pipeline.tables import cumulative_entities

from .conftest import SEEDS


def _ents(rows):
    return pd.DataFrame(rows, columns=["entity_id", "label", "canonical_name", "aliases", "n_mentions", "n_docs"])


def test_counts_add_up_and_a_document_in_both_runs_counts_once():
    prev = _ents([("PER:a", "PER", "Anna Berg", ["Anna Berg", "Berg"], 5, 3),
                  ("LOC:x", "LOC", "Xanten", ["Xanten"], 2, 2)])
    prev_m = pd.DataFrame({"doc_id": ["d1", "d1", "d2", "d3", "d3", "d4", "d5"],
                           "entity_id": ["PER:a", "PER:a", "PER:a", "PER:a", "LOC:x", "LOC:x", "PER:a"]})
    # this run redoes d3 (where Anna Berg and Xanten were) and adds d9
    new = _ents([("PER:a", "PER", "Anna Berg", ["Anna Berg", "Bergs"], 2, 2),
                 ("ORG:z", "ORG", "Zeta AG", ["Zeta AG"], 1, 1)])
    out = cumulative_entities(new, prev, prev_m, ["d3", "d9"]).set_index("entity_id")
    assert sorted(out.index) == ["LOC:x", "ORG:z", "PER:a"]
    # Anna Berg: 5 earlier mentions minus 1 in d3, plus 2 now; docs 3 - 1 + 2
    assert out.loc["PER:a", "n_mentions"] == 6 and out.loc["PER:a", "n_docs"] == 4
    assert out.loc["PER:a", "aliases"] == ["Anna Berg", "Berg", "Bergs"]
    # Xanten is not in this run's entities: its d3 mention was redone without it
    assert out.loc["LOC:x", "n_mentions"] == 1 and out.loc["LOC:x", "n_docs"] == 1
    assert out.loc["ORG:z", "n_mentions"] == 1


def test_without_earlier_mentions_counts_are_summed():
    prev = _ents([("PER:a", "PER", "Anna Berg", ["Anna Berg"], 5, 3)])
    new = _ents([("PER:a", "PER", "Anna Berg", ["Anna Berg"], 2, 2)])
    out = cumulative_entities(new, prev, None, ["d1"])
    assert out["n_mentions"].tolist() == [7] and out["n_docs"].tolist() == [5]
    assert cumulative_entities(new, None).equals(cumulative_entities(new, prev.iloc[0:0]))


def test_an_incremental_run_keeps_every_earlier_entity(tmp_path):
    seeds = sorted(SEEDS.glob("*.txt"))
    first, second = tmp_path / "first", tmp_path / "second"
    first.mkdir()
    second.mkdir()
    for p in seeds[:3]:
        shutil.copy(p, first / p.name)
    for p in seeds[2:]:
        shutil.copy(p, second / p.name)  # seeds[2] is in both runs
    runner = CliRunner()
    assert runner.invoke(app, ["run", str(first), "--out", str(tmp_path / "a")]).exit_code == 0
    r = runner.invoke(app, ["run", str(second), "--out", str(tmp_path / "b"), "--entities", str(tmp_path / "a")])
    assert r.exit_code == 0, r.output
    a, b = load(tmp_path / "a"), load(tmp_path / "b")
    assert set(a.entities["entity_id"]) <= set(b.entities["entity_id"])
    # counts: the earlier run's mentions outside the redone documents, plus this run's
    kept = a.mentions[~a.mentions["doc_id"].isin(set(b.documents["doc_id"]))]
    both = pd.concat([kept[["doc_id", "entity_id"]], b.mentions[["doc_id", "entity_id"]]])
    want = both.groupby("entity_id").agg(n=("doc_id", "size"), d=("doc_id", "nunique"))
    got = b.entities.set_index("entity_id")
    for eid in want.index:
        assert (got.loc[eid, "n_mentions"], got.loc[eid, "n_docs"]) == tuple(want.loc[eid]), eid


def test_the_corpus_pass_adds_names_found_elsewhere_and_keeps_counts_consistent(tmp_path):
    from pipeline import run

    texts = {f"d{i}": f"Die Ministerin Hanne Wolkenbruch besuchte am Montag die Stadt Kassel ({i})." for i in range(3)}
    # the third article names her only in a list the model reads poorly; the run finds her
    texts["d3"] = "Anwesend waren auch Wolkenbruch, Meier und andere Gäste aus Kassel."
    on = run(texts)
    off = run(texts, config={"ner": {"corpus_pass": False}})
    assert set(off.mentions["mention_id"]) <= set(on.mentions["mention_id"])
    for res in (on, off):
        assert res.documents["n_mentions"].sum() == len(res.mentions)
        counts = res.mentions.groupby("doc_id").size()
        assert dict(zip(res.documents["doc_id"], res.documents["n_mentions"])) == {
            d: int(counts.get(d, 0)) for d in res.documents["doc_id"]}
    # mention ids stay unique and every added mention is a name with a known label
    assert on.mentions["mention_id"].is_unique
    extra = on.mentions[~on.mentions["mention_id"].isin(off.mentions["mention_id"])]
    assert (extra["kind"] == "name").all() and extra["label"].isin(["PER", "LOC", "ORG", "MISC"]).all()


def test_roles_are_ranked_by_frequency_then_name_per_entity():
    from pipeline.tables import entity_attributes

    ents = pd.DataFrame({"entity_id": ["PER:a", "PER:b", "PER:c"], "roles": [[], ["Kanzler"], ["alt"]],
                         "affiliations": [[], [], []]})
    m = pd.DataFrame({"entity_id": ["PER:a", "PER:a", "PER:a", "PER:a", "PER:b", "PER:b"],
                      "title": ["Minister", " Kanzler ", "Kanzler", "Abgeordneter", " ", None],
                      "affiliation": [None, "SPD", None, None, None, None]})
    out = entity_attributes(ents, m).set_index("entity_id")
    assert out.loc["PER:a", "roles"] == ["Kanzler", "Abgeordneter", "Minister"]
    assert out.loc["PER:a", "affiliations"] == ["SPD"]
    assert out.loc["PER:b", "roles"] == []  # blank titles only: none
    assert out.loc["PER:c", "roles"] == ["alt"]  # not mentioned in this run: kept


def test_read_groups_keeps_parts_whole_and_in_order():
    from pipeline.tables import read_groups

    parts = [pd.DataFrame({"doc_id": [f"d{i}"] * n, "x": range(n)}) for i, n in enumerate([3, 0, 2, 5, 1])]
    for max_rows, sizes in ((1, [3, 2, 5, 1]), (4, [5, 5, 1]), (6, [10, 1]), (100, [11])):
        groups = list(read_groups(parts, ["doc_id", "x"], max_rows))
        assert [len(g) for g in groups] == sizes
        assert pd.concat(groups)["doc_id"].tolist() == pd.concat(parts)["doc_id"].tolist()
