"""Entity QC flags: several full names, mixed model labels, lower-case canonical name."""

from __future__ import annotations

import pandas as pd

from .link_helpers import mentions

from pipeline.link import link, qc_flags


def _flags(ents) -> dict[str, list[str]]:
    return dict(zip(ents["canonical_name"], ents["qc_flags"]))


def test_link_returns_qc_flags_per_entity(link_cfg):
    m = mentions(
        ("d1", [("Kreml", "LOC"), ("Kreml", "LOC"), ("Kreml", "ORG"), "Anna Berg", ("taz", "ORG")]),
        ("d2", [("Kreml", "LOC"), ("Kreml", "LOC"), ("Paris", "LOC"), ("Paris", "LOC")]),
    )
    _, ents = link(m, link_cfg)
    f = _flags(ents)
    assert f["Kreml"] == ["mixed_labels"]  # one ORG of five: 20%
    assert f["taz"] == ["lowercase_canonical"]
    assert f["Paris"] == [] and f["Anna Berg"] == []
    assert all(isinstance(x, list) for x in ents["qc_flags"])


def test_several_full_names_from_an_analyst_merge(link_cfg):
    aliases = pd.DataFrame({"canonical_name": ["Gerhard Schröder"], "alias": ["Kristina Schröder"],
                            "label": ["PER"], "action": ["merge"]})
    m = mentions(("d1", ["Gerhard Schröder", "Schröder"]), ("d2", ["Kristina Schröder"]),
                 ("d3", ["Angela Merkel", "Angela Dorothea Merkel", "Merkel"]))
    linked, ents = link(m, link_cfg, aliases=aliases)
    f = _flags(ents)
    assert f["Gerhard Schröder"] == ["several_full_names"]
    assert f["Angela Dorothea Merkel"] == []  # one name the other's subsequence


def test_qc_flags_on_hand_built_tables():
    ments = pd.DataFrame({
        "entity_id": ["E1", "E1", "E2", "E2", "E2"],
        "label": ["PER", "PER", "ORG", "ORG", "ORG"],
        "model_label": ["PER", "PER", "ORG", "LOC", "ORG"],
        "kind": ["name"] * 5,
        "key": ["kim jong un", "kim jong il", "x", "x", "x"],
    })
    ents = pd.DataFrame({"entity_id": ["E1", "E2", "E3"], "canonical_name": ["Kim Jong Un", "X", "abc"]})
    out = qc_flags(ments, ents)
    assert out.tolist() == [["several_full_names"], ["mixed_labels"], ["lowercase_canonical"]]
