"""The comparison levels on their own (through the registry) and ``link.levels``."""

from __future__ import annotations

import pandas as pd
import pytest
from .link_helpers import make_cfg, mentions, same

from pipeline.config import load_config
from pipeline.errors import ConfigError
from pipeline.link import link
from pipeline.link.linker import LEVELS, build_context, resolve_levels


def edges(name: str, m: pd.DataFrame, cfg=None, **kw) -> tuple[list[tuple[str, str]], object]:
    """The edges one level proposes on a fresh context (no other level applied), as
    (key of a, key of b) pairs ("PREV:<id>" for a previous run's entity), and the Edges."""
    ctx = build_context(m, cfg or make_cfg(), **kw)
    e = LEVELS[name](ctx)

    def key(i: int) -> str:
        return ctx.nodes.key[i] if i < ctx.NN else "PREV:" + ctx.prev_rows[i - ctx.NN]["entity_id"]

    return [(key(a), key(b)) for a, b in zip(e.a.tolist(), e.b.tolist())], e


def org(t, *rest):
    return (t, "ORG", *rest)


def test_registry_order_is_the_default_config():
    assert list(LEVELS) == load_config().link.levels
    assert [n for n, _ in resolve_levels(None)] == list(LEVELS)
    assert all(n.endswith(".v1") for n in LEVELS)


def test_levels_setting_takes_a_comma_list():
    assert load_config(overrides=["link.levels=translit.v1, fuzzy.v1"]).link.levels == ["translit.v1", "fuzzy.v1"]


def test_alias_file_level_is_forced():
    al = pd.DataFrame([{"canonical_name": "Vereinte Nationen", "alias": "UNO", "label": "ORG", "action": "merge"}])
    got, e = edges("alias_file.v1", mentions(("d1", [org("UNO")])), aliases=al)
    assert got == [("vereint nationen", "uno")]
    assert e.level.name == "alias_file" and e.force
    assert edges("alias_file.v1", mentions(("d1", [org("UNO")])))[0] == []


def test_previous_entity_level_skips_the_name_check():
    prev = pd.DataFrame([{"entity_id": "PER:anna-berg", "label": "PER", "canonical_name": "Anna Berg",
                          "aliases": ["Anna Berg"], "n_mentions": 1, "n_docs": 1}])
    got, e = edges("previous_entity.v1", mentions(("d1", ["Anna Berg"])), previous_entities=prev)
    assert got == [("PREV:PER:anna-berg", "anna berg")]
    assert e.level.name == "previous_entity" and not e.names


def test_country_alias_level():
    got, e = edges("country_alias.v1", mentions(("d1", [("USA", "LOC"), ("Vereinigte Staaten", "LOC")])))
    assert got == [("vereinigt staaten", "usa")] and e.level.name == "country_alias"
    assert edges("country_alias.v1", mentions(("d1", [("USA", "LOC")])), make_cfg(country_aliases=False))[0] == []


def test_abbreviation_level_carries_its_definitions_as_evidence():
    m = mentions(("d1", [org("Internationaler Währungsfonds", "name", " ("), org("IWF")]), ("d2", [org("IWF")]))
    got, e = edges("abbreviation.v1", m)
    assert got == [("international waehrungsfonds", "iwf")]
    assert e.evidence == [(2, ("d1#0", "d1#1"))]  # (mentions behind it, the five smallest ids)
    assert edges("abbreviation.v1", m, make_cfg(cross_document=False))[0] == []


def test_translit_level():
    got, _ = edges("translit.v1", mentions(("d1", ["Sergej Lawrow"]), ("d2", ["Sergei Lavrov"])))
    assert got == [("sergei lavrov", "sergej lawrow")]
    assert edges("translit.v1", mentions(("d1", ["Anna Berg"]), ("d2", ["Anna Bergmann"])))[0] == []
    # doubled letters fold, doubled digits do not: A4 / A44, Apollo 1 / Apollo 11
    assert edges("translit.v1", mentions(("d1", [("A4", "LOC"), ("Apollo 1", "MISC")]),
                                         ("d2", [("A44", "LOC"), ("Apollo 11", "MISC")])))[0] == []


def test_spacing_level_joins_compounds_written_with_and_without_hyphens_but_not_persons():
    m = mentions(("d1", [("Bermuda-Dreieck", "LOC"), ("A 4", "LOC"), "Anna Lena"]),
                 ("d2", [("Bermudadreieck", "LOC"), ("A4", "LOC"), "Annalena", ("Bermudadreieck", "ORG")]))
    got, e = edges("spacing.v1", m)
    assert sorted(got) == [("a 4", "a4"), ("bermuda dreieck", "bermudadreieck")]
    assert e.level.name == "spacing"
    assert edges("spacing.v1", mentions(("d1", [("A4", "LOC")]), ("d2", [("A4", "LOC")])))[0] == []
    # the key folds an adjective-like ending ("State Oil" -> "stat oil"): no surface of it
    # is the one word, so it does not meet another firm's name
    assert edges("spacing.v1", mentions(("d1", [("State Oil", "ORG")]), ("d2", [("Statoil", "ORG")])))[0] == []
    # a folded adjective away from the space that differs is no obstacle
    got, _ = edges("spacing.v1", mentions(("d1", [("Deutscher Fußball-Bund", "ORG")]),
                                          ("d2", [("Deutsche Fußballbund", "ORG")])))
    assert got == [("deutsch fussball bund", "deutsch fussballbund")]


def test_surname_level():
    got, e = edges("surname.v1", mentions(("d1", ["Anna Berg"]), ("d2", ["Berg"])))
    assert got == [("anna berg", "berg")] and e.level.name == "surname"
    # two people with that surname: the bare surname stays alone
    assert edges("surname.v1", mentions(("d1", ["Anna Berg"]), ("d2", ["Paul Berg"]), ("d3", ["Berg"])))[0] == []


def test_acronym_level_joins_an_undefined_acronym_to_the_long_form_it_is_seen_with():
    """"VW" (never defined as "Volkswagen (VW)") joins "Volkswagen" where the two are
    mentioned together in two documents; one document together is not enough, and an
    acronym whose letters are not the long form's word or compound-part initials
    ("BND" and "Bundestag") never joins it however often they meet."""
    two = mentions(("d1", [org("VW"), org("Volkswagen")]), ("d2", [org("Volkswagen"), org("VW")]),
                   ("d3", [org("VW")]))
    assert edges("acronym.v1", two)[0] == [("volkswagen", "vw")]
    assert edges("acronym.v1", two, make_cfg(abbreviations=False))[0] == []
    one = mentions(("d1", [org("VW"), org("Volkswagen")]), ("d2", [org("VW")]), ("d3", [org("Volkswagen")]))
    assert edges("acronym.v1", one)[0] == []
    bnd = mentions(*[(f"d{i}", [org("BND"), org("Bundestag")]) for i in range(4)])
    assert edges("acronym.v1", bnd)[0] == []
    # the English initials of a German name count ("UNO" / "Vereinte Nationen")
    un = mentions(("d1", [org("UNO"), org("Vereinte Nationen")]), ("d2", [org("Vereinte Nationen"), org("UNO")]))
    assert edges("acronym.v1", un)[0] == [("vereint nationen", "uno")]


def test_acronym_level_leaves_ties_and_acronyms_that_have_their_long_form():
    """Two long forms seen with an acronym as often ("DB": Deutsche Bahn, Deutsche Bank):
    neither; an acronym already with a long form of it ("EU" defined as "Europäische
    Union") does not join another ("Europäische Zentralbank" would not derive anyway, nor
    "Europäische Universität" once EU has its own)."""
    db = mentions(*[(f"d{i}", [org("DB"), org("Deutsche Bahn"), org("Deutsche Bank")]) for i in range(3)])
    assert edges("acronym.v1", db)[0] == []
    m = mentions(("d0", [org("Europäische Union", "name", " ("), org("EU", "name", ")")]),
                 *[(f"d{i}", [org("EU"), org("Europäische Universität")]) for i in range(1, 4)])
    linked, _ = link(m, make_cfg())
    assert same(linked, "EU", "Europäische Union") and not same(linked, "EU", "Europäische Universität")


def test_acronym_links_are_explained():
    m = mentions(("d1", [org("VW"), org("Volkswagen")]), ("d2", [org("Volkswagen"), org("VW")]))
    linked, _, links = link(m, make_cfg(), return_links=True)
    assert same(linked, "VW", "Volkswagen")
    row = links[links["rule"] == "acronym"]
    assert row[["name_a", "name_b", "decision"]].values.tolist() == [["Volkswagen", "VW", "merged"]]
    assert row["score"].tolist() == [0.8] and row["n_evidence"].tolist() == [2]


def test_middle_names_level():
    got, _ = edges("middle_names.v1", mentions(("d1", ["Angela Merkel"]), ("d2", ["Angela Dorothea Merkel"])))
    assert got == [("angela dorothea merkel", "angela merkel")]


def test_club_prefix_level():
    got, _ = edges("club_prefix.v1", mentions(("d1", [org("FC Bayern München")]), ("d2", [org("Bayern München")])))
    assert got == [("bayern muenchen", "fc bayern muenchen")]


def test_club_prefix_level_joins_a_clubs_short_form_without_its_town_or_year():
    m = mentions(("d1", [org("FC Schalke 04"), org("SC Freiburg")]), ("d2", [org("Schalke"), ("Freiburg", "LOC")]),
                 ("d3", [org("Borussia Dortmund"), org("VfL Borussia Mönchengladbach"), ("Dortmund", "LOC")]),
                 ("d4", [org("Borussia"), ("Mönchengladbach", "LOC")]))
    linked, _ = link(m, make_cfg())
    assert same(linked, "Schalke", "FC Schalke 04")
    # two clubs of the run are "Borussia": the short form joins neither
    assert not same(linked, "Borussia", "Borussia Dortmund") and not same(linked, "Borussia",
                                                                           "VfL Borussia Mönchengladbach")
    # one is: it joins that club
    linked, _ = link(m[~m["text"].isin(["Borussia Dortmund"])], make_cfg())
    assert same(linked, "Borussia", "VfL Borussia Mönchengladbach")


def test_legal_form_level_joins_a_company_with_and_without_its_legal_form():
    m = mentions(("d1", [org("Daimler AG")]), ("d2", [org("Daimler")]), ("d3", [org("Siemens AG & Co. KG")]),
                 ("d4", [org("Siemens AG")]), ("d5", [org("Tesla Motors")]), ("d6", [org("Tesla")]),
                 ("d7", [("Porsche", "PER")]), ("d8", [org("Porsche AG")]))
    got = {frozenset(e) for e in edges("legal_form.v1", m)[0]}
    assert got == {frozenset({"daimler", "daiml ag"}), frozenset({"siemens ag", "siemens ag co kg"})}
    linked, _ = link(m, make_cfg())
    assert same(linked, "Daimler", "Daimler AG") and same(linked, "Siemens AG", "Siemens AG & Co. KG")
    # a trade word is part of the name, and a person is not the company named after them
    assert not same(linked, "Tesla", "Tesla Motors") and not same(linked, "Porsche", "Porsche AG")


def test_trade_head_level_joins_a_short_form_seen_with_its_company_name():
    """"Tesla" joins "Tesla Motors" where the two appear together; "BMW" and "BMW Group"
    never seen together stay apart, and a short form with two such names ("Air Lines",
    "Air Systems") joins neither."""
    m = mentions(("d1", [org("Tesla Motors"), org("Tesla")]), ("d2", [org("Tesla")]),
                 ("d3", [org("BMW Group")]), ("d4", [org("BMW")]),
                 ("d5", [org("Acme Airlines"), org("Acme")]), ("d6", [org("Acme Systems"), org("Acme")]))
    assert edges("trade_head.v1", m)[0] == [("tesla motors", "tesla")]
    linked, _ = link(m, make_cfg())
    assert same(linked, "Tesla", "Tesla Motors") and not same(linked, "BMW", "BMW Group")
    assert not same(linked, "Acme", "Acme Airlines") and not same(linked, "Acme", "Acme Systems")


def test_head_noun_level():
    m = mentions(("d1", [org("Deutschen Bundestag"), org("Bundestag")]),
                 ("d2", [org("Deutscher Bundestag"), org("Bundestag")]))
    assert edges("head_noun.v1", m)[0] == [("deutsch bundestag", "bundestag")]
    assert edges("head_noun.v1", m, make_cfg(head_nouns=False))[0] == []


def test_fuzzy_level_scores_each_edge():
    m = mentions(("d1", [org("Internationale Atomenergiebehörde")]), ("d2", [org("Internationale Atomenergiebehorde")]))
    got, e = edges("fuzzy.v1", m)
    assert got == [("international atomenergiebehoerde", "international atomenergiebehorde")]
    assert e.level.name == "fuzzy" and 0.92 <= float(e.score[0]) <= 1
    assert edges("fuzzy.v1", m, make_cfg(fuzzy_threshold=0))[0] == []


def test_switching_a_level_off():
    m = mentions(("d1", ["Anna Berg"]), ("d2", ["Berg"]))
    linked, _ = link(m, make_cfg())
    assert same(linked, "Anna Berg", "Berg")
    off = [n for n in LEVELS if n != "surname.v1"]
    linked, _ = link(m, make_cfg(levels=off))
    assert not same(linked, "Anna Berg", "Berg")
    _, _, links = link(m, make_cfg(levels=off), return_links=True)
    assert "surname" not in set(links["rule"])


def test_reordering_levels_changes_which_link_wins():
    # surname first: "Merkel" has two full names (two clusters yet) and stays alone;
    # middle names first: they are one cluster by then, and "Merkel" joins it
    m = mentions(("d1", ["Angela Merkel"]), ("d2", ["Angela Dorothea Merkel"]), ("d3", ["Merkel"]))
    default = link(m, make_cfg())[0]
    assert same(default, "Angela Merkel", "Angela Dorothea Merkel")
    assert not same(default, "Angela Merkel", "Merkel")
    order = list(LEVELS)
    i, j = order.index("surname.v1"), order.index("middle_names.v1")
    order[i], order[j] = order[j], order[i]
    swapped = link(m, make_cfg(levels=order))[0]
    assert same(swapped, "Angela Merkel", "Angela Dorothea Merkel", "Merkel")


@pytest.mark.parametrize("empty", [False, True])
def test_unknown_level_name_fails_with_the_known_ones(empty):
    m = mentions(("d1", ["Anna Berg"]))
    with pytest.raises(ConfigError) as exc:
        link(m.iloc[:0] if empty else m, make_cfg(levels=["translit.v1", "phonetic.v9"]))
    msg = str(exc.value)
    assert "'phonetic.v9'" in msg
    assert all(n in msg for n in LEVELS)
    with pytest.raises(ConfigError, match="listed twice"):
        link(m, make_cfg(levels=["translit.v1", "translit.v1"]))
