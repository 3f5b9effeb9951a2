"""Incremental runs: every id of an earlier run is kept, derived forms and relabelled
entities included, and two earlier entities never become one."""

from __future__ import annotations

from .link_helpers import by_text, mentions

from pipeline.link import link


def test_two_step_run_keeps_every_earlier_id(link_cfg):
    run1 = mentions(
        ("a1", [("Traindorfer", "LOC", "deriv"), ("Kreml", "ORG"), "Angela Merkel", ("Bundestag", "ORG")]),
        ("a2", [("Deutscher Bundestag", "ORG"), ("Traindorferin", "LOC", "deriv")]),
    )
    linked1, ents1 = link(run1, link_cfg)
    ids1 = dict(zip(ents1["canonical_name"], ents1["entity_id"]))
    assert ids1["Traindorfer"] == "LOC:traindorfer" and ids1["Kreml"] == "ORG:kreml"

    run2 = mentions(
        ("b1", [("Traindorfer", "LOC", "deriv"), ("Kreml", "LOC"), "Merkel", "Angela Merkel",
                ("Deutscher Bundestag", "ORG"), ("Bundestag", "ORG")]),
        ("b2", [("Kreml", "LOC"), ("Deutschen Bundestag", "ORG"), ("Bundestag", "ORG")]),
        ("b3", [("Kreml", "LOC"), ("Traindorfer", "LOC", "deriv"), "Olaf Scholz"]),
    )
    linked2, ents2 = link(run2, link_cfg, previous_entities=ents1)
    got = by_text(linked2)
    # a derived form's entity keeps its id (not "LOC:traindorfer-2")
    assert got["Traindorfer"] == {"LOC:traindorfer"}
    # the label vote changed (ORG -> LOC): the id stays, the label column follows the vote
    assert got["Kreml"] == {"ORG:kreml"}
    assert ents2.set_index("entity_id").loc["ORG:kreml", "label"] == "LOC"
    assert got["Merkel"] == got["Angela Merkel"] == {ids1["Angela Merkel"]}
    # two earlier entities stay two even where this run would join them (head-noun level)
    assert got["Bundestag"] == {ids1["Bundestag"]}
    assert got["Deutscher Bundestag"] == got["Deutschen Bundestag"] == {ids1["Deutscher Bundestag"]}
    # every id of the first run that this run mentions is unchanged; new ids never collide
    assert set(ents2["entity_id"]) >= {ids1[n] for n in ("Traindorfer", "Kreml", "Angela Merkel",
                                                          "Bundestag", "Deutscher Bundestag")}
    assert got["Olaf Scholz"] == {"PER:olaf-scholz"}
    _, _, links = link(run2, link_cfg, previous_entities=ents1, return_links=True)
    assert "previous_entities" in set(links["reason"].dropna())


def test_label_vote_change_keeps_the_earlier_id(link_cfg):
    _, ents1 = link(mentions(("a1", [("Berlin", "LOC")])), link_cfg)
    linked2, _ = link(mentions(("b1", [("Berlin", "ORG"), ("Berlin", "ORG"), ("Paris", "LOC")])),
                      link_cfg, previous_entities=ents1)
    # "Berlin" as ORG only: the vote moved the earlier entity to ORG, same id
    assert set(linked2.loc[linked2["text"] == "Berlin", "entity_id"]) == {"LOC:berlin"}


def test_relinking_a_corpus_with_its_own_entities_changes_no_id(link_cfg):
    """Partial names, genitives, abbreviations, derived forms: the second run gives every
    mention the id of the first (an earlier entity's names stay one entity)."""
    from pathlib import Path

    import pandas as pd

    df = pd.read_json(Path(__file__).with_name("fixtures") / "mini.jsonl", lines=True,
                      dtype={"doc_id": str})
    extra = mentions(("z1", ["Gerardo Hernández Nordelo", "Gerardo Hernández", "Hernández"]))
    df = pd.concat([df, extra], ignore_index=True)
    linked1, ents1 = link(df, link_cfg)
    linked2, ents2 = link(df, link_cfg, previous_entities=ents1)
    assert linked2["entity_id"].tolist() == linked1["entity_id"].tolist()
    assert sorted(ents2["entity_id"]) == sorted(ents1["entity_id"])
