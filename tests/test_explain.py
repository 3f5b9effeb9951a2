"""The links table written with every run, and `pipeline explain` / `Result.explain` over it."""

from __future__ import annotations

import pandas as pd
import pytest
from typer.testing import CliRunner

from pipeline import load
from pipeline.cli import app
from pipeline.errors import InputError
from pipeline.explain import find_entities, fold_query


def test_the_links_table_explains_every_merge(seeds_run):
    out, manifest = seeds_run
    res = load(out)
    links, mentions = res.links, res.mentions
    assert len(links) and manifest["counts"]["links"] == len(links)
    merged = links[links["decision"] == "merged"]
    assert len(merged)
    # a merge joins two names into one entity; its evidence is mentions of the run
    assert (merged["entity_a"] == merged["entity_b"]).all()
    ids = set(mentions["mention_id"])
    for _, r in links.iterrows():
        assert r["n_evidence"] >= len(r["evidence"]) and len(r["evidence"]) <= 5
        assert set(r["evidence"]) <= ids
    # an entity holding several name keys was joined by a recorded link, or its mentions
    # were attached one by one by a rule that says how (genitive, deriv, partial name)
    multi = mentions.groupby("entity_id")["key"].nunique()
    for eid in multi[multi > 1].index:
        rules = set(mentions.loc[mentions["entity_id"] == eid, "link_rule"].dropna())
        assert eid in set(merged["entity_a"]) or rules - {"exact", "key"}, (eid, rules)


def test_explain_finds_an_entity_by_id_or_by_name_in_any_case_or_accent(seeds_run):
    out, _ = seeds_run
    res = load(out)
    top = res.entities.sort_values("n_mentions", ascending=False).iloc[0]
    by_id = res.explain(top["entity_id"])
    assert by_id.splitlines()[0].startswith(top["entity_id"])
    shouted = top["canonical_name"].upper()
    assert res.explain(shouted).splitlines()[0] == by_id.splitlines()[0]
    assert fold_query("PÜTIN") == fold_query("putin")
    # the report names the aliases and the rules that attached them
    aliases = res.mentions.loc[res.mentions["entity_id"] == top["entity_id"], "text"].unique()
    for a in aliases:
        assert repr(a) in by_id
    with pytest.raises(InputError, match="no entity matches"):
        res.explain("Zzyzx Qwertz")


def test_explain_command(seeds_run):
    out, _ = seeds_run
    res = load(out)
    name = res.entities.sort_values("n_mentions", ascending=False).iloc[0]["canonical_name"]
    r = CliRunner().invoke(app, ["explain", str(out), name.lower()])
    assert r.exit_code == 0, r.output
    assert "links that joined its names" in r.output or "no link between name keys" in r.output
    r = CliRunner().invoke(app, ["explain", str(out), "Zzyzx Qwertz"])
    assert r.exit_code == 2 and r.output.startswith("error: ")


def test_a_refused_merge_is_shown_for_both_entities():
    entities = pd.DataFrame({"entity_id": ["PER:a", "PER:b"], "label": ["PER", "PER"],
                             "canonical_name": ["Gerhard Schröder", "Kristina Schröder"],
                             "aliases": [["Gerhard Schröder"], ["Kristina Schröder"]],
                             "n_mentions": [3, 2], "n_docs": [2, 1], "qc_flags": [[], []]})
    mentions = pd.DataFrame({"mention_id": ["d#1", "d#2"], "entity_id": ["PER:a", "PER:b"],
                             "text": ["Gerhard Schröder", "Kristina Schröder"], "kind": ["name", "name"],
                             "link_rule": [None, None], "label": ["PER", "PER"], "model_label": ["PER", "PER"],
                             "affiliation": ["SPD", None]})
    links = pd.DataFrame({"entity_a": ["PER:a"], "entity_b": ["PER:b"], "name_a": ["Gerhard Schröder"],
                          "name_b": ["Kristina Schröder"], "label_a": ["PER"], "label_b": ["PER"],
                          "rule": ["partial_name"], "score": [0.9], "decision": ["refused"],
                          "reason": ["person_names"], "n_evidence": [1], "evidence": [["d#3"]]})
    from pipeline.explain import explain_entities

    for q in ("gerhard schroder", "Kristina Schröder"):
        text = explain_entities(entities, mentions, links, q)
        assert "merges refused" in text and "person_names" in text
    assert "affiliations in brackets: SPD (1)" in explain_entities(entities, mentions, links, "PER:a")
    assert find_entities(entities, "Schröder").empty  # a bare surname names neither entity here
