"""The head-noun level: a bare head noun and the one "place adjective/code + head" name."""

from __future__ import annotations

from .link_helpers import make_cfg, mentions, same

from pipeline.link import link
from pipeline.link import compare as C


def org(t):
    return (t, "ORG")


def test_bare_head_joins_its_only_modified_name_when_mentioned_together(link_cfg):
    m = mentions(
        ("d1", [org("Deutschen Bundestag"), org("Bundestag")]),
        ("d2", [org("Deutscher Bundestag"), org("Bundestag")]),
        ("d3", [org("Bundestag")]),
        ("d4", [("US-Dollar", "MISC"), ("Dollar", "MISC")]),
        ("d5", [("US-Dollar", "MISC"), ("Dollar", "MISC")]),
    )
    linked, ents = link(m, link_cfg)
    assert same(linked, "Deutschen Bundestag", "Deutscher Bundestag", "Bundestag")
    assert same(linked, "US-Dollar", "Dollar")
    _, _, links = link(m, link_cfg, return_links=True)
    assert set(links.loc[links["rule"] == "head_noun", "decision"]) == {"merged"}
    # switched off: two entities each
    linked_off, _ = link(m, make_cfg(head_nouns=False))
    assert not same(linked_off, "Deutscher Bundestag", "Bundestag")


def test_head_with_two_modified_names_joins_neither(link_cfg):
    m = mentions(
        ("d1", [org("Europäische Union"), org("Union")]),
        ("d2", [org("Europäische Union"), org("Union")]),
        ("d3", [org("Afrikanische Union"), org("Union")]),
    )
    linked, _ = link(m, link_cfg)
    assert not same(linked, "Europäische Union", "Union")
    assert not same(linked, "Afrikanische Union", "Union")


def test_head_never_mentioned_with_the_modified_name_stays_apart(link_cfg):
    m = mentions(("d1", [org("Europäische Union")]), ("d2", [org("Union")]), ("d3", [org("Union")]),
                 ("d4", [org("Union")]), ("d5", [org("Europäische Union"), org("Union")]))
    linked, _ = link(m, link_cfg)  # together in 1 of the 4 documents of "Union": 0.25
    assert same(linked, "Europäische Union", "Union")
    m = mentions(("d1", [org("Europäische Union")]), ("d2", [org("Union")]), ("d3", [org("Union")]),
                 ("d4", [org("Union")]), ("d5", [org("Union")]), ("d6", [org("Europäische Union"), org("Union")]))
    linked, _ = link(m, link_cfg)  # 1 of 5: too few
    assert not same(linked, "Europäische Union", "Union")


def test_head_pairs_need_modifiers_only():
    keys = ["csu", "cdu csu", "bundestag", "deutsch bundestag", "union", "europaeisch union",
            "afrikanisch union"]
    labels = ["ORG"] * len(keys)
    mods = {"deutsch", "europaeisch", "afrikanisch"}
    pairs = C.head_pairs(keys, labels, lambda t: t in mods)
    assert pairs == [(2, 3)]
    # persons never
    assert C.head_pairs(["schroeder", "deutsch schroeder"], ["PER", "PER"], lambda t: True) == []


def test_club_key_drops_designators_never_numbers_of_leagues():
    assert C.club_key("fc bayern muenchen") == "bayern muenchen"
    assert C.club_key("1 fsv mainz 05") == "mainz 05"
    assert C.club_key("sv werder bremen") == "werder bremen"
    assert C.club_key("1 fussball bundesliga") is None  # "1." is no designator here
    assert C.club_key("fc koeln") is None  # one token left
    assert C.club_key("bayern muenchen") is None  # nothing dropped


def test_club_designators_and_middle_names_link(link_cfg):
    m = mentions(
        ("d1", [org("FC Bayern München"), org("1. Fußball-Bundesliga")]),
        ("d2", [org("Bayern München"), org("2. Fußball-Bundesliga")]),
        ("d3", ["Michail Sergejewitsch Gorbatschow", "José Luis Rodríguez Zapatero"]),
        ("d4", ["Michail Gorbatschow", "José Zapatero"]),
        ("d5", ["George W. Bush"]), ("d6", ["George Bush"]),
    )
    linked, _ = link(m, link_cfg)
    assert same(linked, "FC Bayern München", "Bayern München")
    assert not same(linked, "1. Fußball-Bundesliga", "2. Fußball-Bundesliga")
    assert same(linked, "Michail Sergejewitsch Gorbatschow", "Michail Gorbatschow")
    assert same(linked, "José Luis Rodríguez Zapatero", "José Zapatero")
    assert not same(linked, "George W. Bush", "George Bush")  # initials tell people apart


def test_middle_names_need_one_longer_name():
    keys = ["angela merkel", "angela dorothea merkel", "john smith", "john paul smith", "john adam smith"]
    assert C.middle_name_pairs(keys, ["PER"] * 5) == [(0, 1)]
