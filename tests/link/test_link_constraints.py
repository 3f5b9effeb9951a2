"""Issue 14: abbreviation level only for real definitions, constraints at union time,
one label per name key, derived forms, and the links table."""

from __future__ import annotations

import numpy as np

from pipeline.link import compare as C
from pipeline.link import link
from pipeline.link.aliases import inhabitant_place
from pipeline.link.cluster import UnionFind

from .link_helpers import by_text, make_cfg, mentions, same


def test_abbreviation_level_on_its_own():
    assert C.abbreviation_defines("IWF", "Internationaler Währungsfonds")
    assert C.abbreviation_defines("IS", "Islamischer Staat")
    assert C.abbreviation_defines("EEF", "Östliches Wirtschaftsforum")  # English name
    assert C.abbreviation_defines("ÖVP", "Österreichische Volkspartei")
    assert not C.abbreviation_defines("OSZE", "Europa")
    assert not C.abbreviation_defines("UNICEF", "Vereinten Nationen")
    assert not C.abbreviation_defines("LBM", "Rheinland-Pfalz")


def test_person_name_level_on_its_own():
    assert not C.names_compatible("gerhard shroder", "kristina shroder")
    assert not C.names_compatible("kim iong un", "kim iong il")
    assert C.names_compatible("neil armstrong", "neil alden armstrong")
    assert C.names_compatible("van der belen", "alexander van der belen")
    assert C.names_compatible("alexandra ocasio cortes", "alexandria ocasio cortes")


def test_union_find_refuses_incompatible_labels_and_names():
    uf = UnionFind(4, labels=[0, 0, 1, 0], names={0: "gerhard shroder", 3: "kristina shroder"},
                   compatible=C.names_compatible)
    assert uf.union(0, 1)
    assert not uf.union(1, 2) and uf.refusal == "label_mismatch"
    assert not uf.union(1, 3) and uf.refusal == "person_names"  # through the bare node
    status, reasons = uf.apply_edges(np.array([0, 0]), np.array([1, 3]))
    assert status.tolist() == [0, -1] and reasons == [None, "person_names"]


def test_shared_bracket_never_joins_two_people(link_cfg):
    m = mentions(("d1", [("Werner Faymann", "PER", "name", " ("), ("SPÖ", "ORG"), ("Faymann", "PER")]),
                 ("d2", [("Josef Cap", "PER", "name", " ("), ("SPÖ", "ORG"), ("SPÖ", "ORG")]))
    linked, ents, links = link(m, link_cfg, return_links=True)
    ids = by_text(linked)
    assert len(ids["Werner Faymann"] | ids["Josef Cap"] | ids["SPÖ"]) == 3
    aff = dict(zip(linked["text"], linked["affiliation"]))
    assert aff["Werner Faymann"] == "SPÖ" and aff["Josef Cap"] == "SPÖ"
    assert not (links["rule"] == "abbreviation").any()


def test_chain_through_surname_refused_and_recorded(link_cfg):
    m = mentions(("d1", ["Gerhard Schröder"]), ("d2", ["Kristina Schröder"]),
                 ("d3", ["Gerhard Schroeder"]))
    linked, _, links = link(m, link_cfg, return_links=True)
    assert not same(linked, "Gerhard Schröder", "Kristina Schröder")
    assert same(linked, "Gerhard Schröder", "Gerhard Schroeder")


def test_abbreviation_definition_links_and_edge_has_evidence(link_cfg):
    m = mentions(("d1", [("Internationaler Währungsfonds", "ORG", "name", " ("), ("IWF", "ORG")]),
                 ("d2", [("IWF", "ORG")]))
    linked, _, links = link(m, link_cfg, return_links=True)
    assert linked["entity_id"].nunique() == 1
    e = links[links["rule"] == "abbreviation"].iloc[0]
    assert e["decision"] == "merged" and e["n_evidence"] == 2
    assert sorted(e["evidence"]) == ["d1#0", "d1#1"]
    assert e["name_b"] == "IWF" and e["entity_a"] == e["entity_b"]


def test_conflicting_definitions_stay_in_their_documents(link_cfg):
    m = mentions(("d1", [("Internationaler Währungsfonds", "ORG", "name", " ("), ("IWF", "ORG")]),
                 ("d2", [("Internet Watch Foundation", "ORG", "name", " ("), ("IWF", "ORG")]),
                 ("d3", [("IWF", "ORG")]))
    linked, _, _ = link(m, link_cfg, return_links=True)
    got = linked.set_index("mention_id")["entity_id"]
    assert got["d1#1"] == got["d1#0"] and got["d2#1"] == got["d2#0"]
    assert got["d1#0"] != got["d2#0"] and got["d3#0"] not in (got["d1#0"], got["d2#0"])


def test_label_votes_and_model_label(link_cfg):
    m = mentions(("d1", [("Kreml", "LOC")]), ("d2", [("Kreml", "LOC")]), ("d3", [("Kreml", "PER")]))
    linked, ents = link(m, link_cfg)
    assert linked["entity_id"].nunique() == 1 and set(linked["label"]) == {"LOC"}
    assert linked.set_index("mention_id").loc["d3#0", "model_label"] == "PER"
    assert ents["label"].tolist() == ["LOC"]


def test_links_table_records_refused_label_merge(link_cfg):
    # the abbreviation's labels disagree: no link; the country alias never crosses labels
    m = mentions(("d1", [("Europa", "LOC", "name", " ("), ("OSZE", "ORG")]))
    linked, _, links = link(m, link_cfg, return_links=True)
    assert linked["entity_id"].nunique() == 2
    assert list(links.columns) == ["entity_a", "entity_b", "name_a", "name_b", "label_a", "label_b",
                                   "rule", "score", "decision", "reason", "n_evidence", "evidence"]


def test_inhabitant_forms_attach_to_their_place(link_cfg):
    places = {"wien", "oesterreich", "niederlande", "erlangen", "bremen"}
    assert inhabitant_place("Wiener", places) == "wien"
    assert inhabitant_place("wiener", places) == "wien"
    assert inhabitant_place("Österreichers", places) == "oesterreich"
    assert inhabitant_place("Niederländer", places) == "niederlande"
    assert inhabitant_place("Erlanger", places) == "erlangen"
    assert inhabitant_place("Hamburger", places) is None
    # feminine forms, the umlaut the form adds, a name of two words
    assert inhabitant_place("Wienerin", places) == "wien"
    assert inhabitant_place("Erlangerinnen", places) == "erlangen"
    assert inhabitant_place("Darmstädter", {"darmstadt"}) == "darmstadt"
    assert inhabitant_place("New Yorker", {"new york"}) == "new york"
    assert inhabitant_place("Wittenberger", {"wittenberge"}) == "wittenberge"  # a place in "-e"
    m = mentions(("d1", [("Wien", "LOC"), ("Wiener", "LOC", "deriv"), ("wiener", "MISC")]),
                 ("d2", [("Griechenland", "LOC"), ("griechischen", "LOC", "deriv"), ("Erlangen", "LOC")]),
                 ("d3", [("Erlanger", "LOC")]))
    linked, ents = link(m, link_cfg)
    assert same(linked, "Wien", "Wiener", "wiener")
    assert same(linked, "Erlangen", "Erlanger")
    assert not any(e.startswith("LOC:wiener") for e in ents["entity_id"])


def test_a_form_written_as_a_name_and_as_an_adjective_goes_to_its_place_either_way(link_cfg):
    """"Genfer" tagged once as a name and once as an adjective: the name becomes a derived
    form, and the adjective must not make a place of the name's key."""
    m = mentions(("d1", [("Genf", "LOC"), ("Genfer", "LOC")]), ("d2", [("Genfer", "LOC", "deriv")]))
    linked, ents = link(m, link_cfg)
    assert set(linked["entity_id"]) == {"LOC:genf"}


def test_a_places_genitive_joins_the_place_the_gazetteer_knows(link_cfg):
    m = mentions(("d1", [("Traunsteins", "LOC"), ("Traunsteiner", "LOC", "deriv")]),
                 ("d2", [("Paris", "LOC"), ("Athens", "LOC"), ("Sachsens", "LOC")]))
    linked, ents = link(m, link_cfg)
    assert same(linked, "Traunsteins", "Traunsteiner")
    assert {"Traunstein", "Paris", "Athens", "Sachsen"} <= set(ents["canonical_name"])
