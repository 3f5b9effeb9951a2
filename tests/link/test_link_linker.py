"""Behaviour of link() on small invented corpora."""

from __future__ import annotations

import pandas as pd
import pytest
from .link_helpers import by_text, make_cfg, mentions, same

from pipeline import schemas
from pipeline.link import link, load_aliases


def test_output_contract_and_every_mention_gets_an_entity(link_cfg):
    m = mentions(("d1", ["Anna Berg", "Berg", ("russischen", "LOC", "deriv"), ("Kreml", "ORG", "part")]))
    linked, ents = link(m, link_cfg)
    # the schema's columns, among them the model's label and the bracket after a person
    assert list(linked.columns) == schemas.columns("mentions")
    assert {"model_label", "affiliation"} <= set(linked.columns)
    assert list(ents.columns) == schemas.columns("entities")
    assert linked["entity_id"].notna().all() and linked["key"].notna().all()
    assert linked["link_rule"].notna().all()
    assert linked["link_score"].between(0, 1).all()
    assert set(linked["entity_id"]) == set(ents["entity_id"])
    assert ents["n_mentions"].sum() == len(m)


def test_empty_input(link_cfg):
    linked, ents = link(schemas.empty("mentions"), link_cfg)
    assert len(linked) == 0 and len(ents) == 0
    assert list(ents.columns) == schemas.columns("entities")


def test_genitive_only_when_base_attested(link_cfg):
    linked, _ = link(mentions(("d1", ["Wladimir Putin", "Putins"]), ("d2", ["Mirows"])), link_cfg)
    assert same(linked, "Wladimir Putin", "Putins")
    assert linked.set_index("text").loc["Putins", "key"] == "putin"
    # no "Mirow" anywhere: the -s is kept
    assert linked.set_index("text").loc["Mirows", "key"] == "mirows"


def test_paris_and_klaus_are_not_genitives(link_cfg):
    m = mentions(("d1", [("Paris", "LOC"), "Klaus", ("Klaus'", "PER")]), ("d2", ["Klaus Berger"]))
    linked, _ = link(m, make_cfg(cross_document=False))
    keys = dict(zip(linked["text"], linked["key"]))
    assert keys["Paris"] == "paris" and keys["Klaus"] == "klaus" and keys["Klaus'"] == "klaus"


def test_an_acronym_in_capitals_is_no_genitive(link_cfg):
    # "ALS" (a disease) beside an "AL": an acronym, not its genitive; "BNDs" is one
    m = mentions(("d1", [("AL", "ORG"), ("ALS", "ORG"), ("BND", "ORG")]), ("d2", [("ALS", "ORG"), ("BNDs", "ORG")]))
    linked, _ = link(m, link_cfg)
    assert not same(linked, "AL", "ALS") and same(linked, "BND", "BNDs")


def test_genitive_of_country_is_known(link_cfg):
    linked, _ = link(mentions(("d1", [("Russlands", "LOC")])), link_cfg)
    assert linked["key"].iloc[0] == "russland"
    assert linked["link_rule"].iloc[0] == "singleton"


def test_hyphen_and_genitive_variants_of_korean_name(link_cfg):
    m = mentions(("d1", ["Kim Jong-un", "Kim Jong-uns"]), ("d2", ["Kim Jong Un", "Kim Jong Uns", "Kims"]))
    linked, ents = link(m, link_cfg)
    assert linked["entity_id"].nunique() == 1
    assert ents["canonical_name"].iloc[0] == "Kim Jong Un"
    assert ents["n_docs"].iloc[0] == 2


def test_kim_jong_un_and_kim_jong_il_never_merge(link_cfg):
    m = mentions(
        ("d1", ["Kim Jong Un", "Kim", "Kim Jong Un", "Kim Jong Il", "Kim"]),
        ("d2", ["Kim Jong Il", "Kim Jong-il"]),
        ("d3", ["Kim"]),
    )
    linked, _ = link(m, link_cfg)
    ids = by_text(linked)
    assert ids["Kim Jong Un"] != ids["Kim Jong Il"]
    assert len(ids["Kim Jong Il"] | ids["Kim Jong-il"]) == 1
    # in d1 the bare Kim goes to the full name mentioned most often there
    d1 = linked[linked["doc_id"] == "d1"].set_index("mention_id")
    assert d1.loc["d1#1", "entity_id"] == d1.loc["d1#0", "entity_id"]
    assert d1.loc["d1#4", "entity_id"] == d1.loc["d1#0", "entity_id"]
    assert d1.loc["d1#1", "link_rule"] == "partial_name" and d1.loc["d1#1", "link_score"] < 0.9


def test_bare_kim_without_context_and_two_candidates_stays_apart(link_cfg):
    # Kim is used alone for both full names: across documents it is ambiguous
    m = mentions(("d1", ["Kim Jong Un", "Kim"]), ("d2", ["Kim Jong Il", "Kim"]), ("d3", ["Kim"]))
    linked, _ = link(m, link_cfg)
    ids = linked.set_index("mention_id")["entity_id"]
    assert ids["d1#1"] == ids["d1#0"] and ids["d2#1"] == ids["d2#0"]
    assert ids["d3#0"] not in {ids["d1#0"], ids["d2#0"]}


def test_titles_stripped_and_not_canonical(link_cfg):
    m = mentions(("d1", ["Präsident Anton Weber", "Herrn Weber"]), ("d2", ["Anton Weber"]))
    linked, ents = link(m, link_cfg)
    assert linked["entity_id"].nunique() == 1
    assert ents["canonical_name"].tolist() == ["Anton Weber"]
    assert "Präsident Anton Weber" in ents["aliases"].iloc[0]


def test_transliteration_across_documents(link_cfg):
    m = mentions(("d1", ["Sergej Morosow", "Morosow"]), ("d2", ["Sergei Morozov"]),
                 ("d3", ["Sergey Morosoff"]), ("d4", ["Dmitrij Morosow"]))
    linked, ents = link(m, link_cfg)
    assert same(linked, "Sergej Morosow", "Sergei Morozov", "Sergey Morosoff", "Morosow")
    assert not same(linked, "Sergej Morosow", "Dmitrij Morosow")
    rules = dict(zip(linked["text"], linked["link_rule"]))
    full = [rules[t] for t in ("Sergej Morosow", "Sergei Morozov", "Sergey Morosoff")]
    assert sorted(full) == ["exact", "translit", "translit"]


def test_canonical_prefers_most_frequent_transliteration(link_cfg):
    m = mentions(("d1", ["Sergei Morosow"]), ("d2", ["Sergej Morosow"]), ("d3", ["Sergej Morosow"]))
    _, ents = link(m, link_cfg)
    assert ents["canonical_name"].tolist() == ["Sergej Morosow"]


def test_bare_surname_in_other_document(link_cfg):
    m = mentions(("d1", ["Olga Winter"]), ("d2", ["Winter", "Winters"]),
                 ("d3", ["Paul Adler"]), ("d4", ["Eva Adler"]), ("d5", ["Adler"]))
    linked, _ = link(m, link_cfg)
    ids = by_text(linked)
    assert ids["Winter"] == ids["Olga Winter"]
    assert linked.set_index("mention_id").loc["d2#0", "link_rule"] == "surname"
    # two full names with this surname: the bare one stays on its own
    assert ids["Adler"].isdisjoint(ids["Paul Adler"] | ids["Eva Adler"])
    assert ids["Paul Adler"] != ids["Eva Adler"]


def test_given_name_alone_not_carried_to_other_documents(link_cfg):
    m = mentions(("d1", ["Klaus Berger", "Klaus"]), ("d2", ["Klaus"]))
    linked, _ = link(m, link_cfg)
    ids = linked.set_index("mention_id")["entity_id"]
    assert ids["d1#1"] == ids["d1#0"]
    assert ids["d2#0"] != ids["d1#0"]


def test_cross_document_off(link_cfg):
    m = mentions(("d1", ["Anna Berg"]), ("d2", ["Anna Berg", "Berg"]))
    linked, _ = link(m, make_cfg(cross_document=False))
    ids = linked.set_index("mention_id")["entity_id"]
    assert ids["d1#0"] != ids["d2#0"] and ids["d2#0"] == ids["d2#1"]


def test_countries_and_official_names(link_cfg):
    m = mentions(("d1", [("USA", "LOC"), ("Vereinigte Staaten", "LOC"), ("US", "LOC", "part")]),
                 ("d2", [("Demokratischen Volksrepublik Korea", "LOC"), ("Nordkorea", "LOC")]),
                 ("d3", [("Nordkoreas", "LOC"), ("Südkorea", "LOC")]))
    linked, ents = link(m, link_cfg)
    assert same(linked, "USA", "Vereinigte Staaten", "US")
    assert same(linked, "Demokratischen Volksrepublik Korea", "Nordkorea", "Nordkoreas")
    assert not same(linked, "Nordkorea", "Südkorea")
    names = set(ents["canonical_name"])
    assert "Nordkorea" in names and "Vereinigte Staaten" in names
    off, _ = link(m, make_cfg(country_aliases=False))
    assert not same(off, "USA", "Vereinigte Staaten")


def test_derived_adjectives(link_cfg):
    m = mentions(("d1", [("Russland", "LOC"), ("russische", "LOC", "deriv"), ("russischen", "LOC", "deriv")]),
                 ("d2", [("US-amerikanischen", "LOC", "deriv"), ("USA", "LOC"),
                         ("sowjetischer", "LOC", "deriv"), ("japanische", "LOC", "deriv")]))
    linked, ents = link(m, link_cfg)
    assert same(linked, "Russland", "russische", "russischen")
    assert same(linked, "US-amerikanischen", "USA")
    canon = dict(zip(ents["entity_id"], ents["canonical_name"]))
    ids = by_text(linked)
    assert canon[next(iter(ids["sowjetischer"]))] == "Sowjetunion"
    assert canon[next(iter(ids["japanische"]))] == "Japan"
    rules = dict(zip(linked["text"], linked["link_rule"]))
    assert rules["russische"] == "deriv"


def test_descent_and_exile_adjectives_name_their_place(link_cfg):
    """"russischstämmige" (of Russian descent), "exilkubanischen" (Cuban in exile) are
    derived from the place inside them; "stämmige" alone is no place."""
    m = mentions(("d1", [("Russland", "LOC"), ("russischstämmige", "LOC", "deriv")]),
                 ("d2", [("exilkubanischen", "LOC", "deriv"), ("Kuba", "LOC"), ("stämmige", "LOC", "deriv")]))
    linked, ents = link(m, link_cfg)
    assert same(linked, "Russland", "russischstämmige") and same(linked, "Kuba", "exilkubanischen")
    canon = dict(zip(ents["entity_id"], ents["canonical_name"]))
    assert canon[next(iter(by_text(linked)["stämmige"]))] == "stämmig"


def test_city_and_region_adjectives_no_rule_gives_are_listed(link_cfg):
    """"römische" -> Rom, "baskischen" -> Baskenland, "preußischen" -> Preußen: places of
    their adjective even where the corpus never names them."""
    m = mentions(("d1", [("römische", "LOC", "deriv"), ("baskischen", "LOC", "deriv")]),
                 ("d2", [("Rom", "LOC"), ("preußischen", "LOC", "deriv")]))
    linked, ents = link(m, link_cfg)
    assert same(linked, "Rom", "römische")
    canon = dict(zip(ents["entity_id"], ents["canonical_name"]))
    ids = by_text(linked)
    assert canon[next(iter(ids["baskischen"]))] == "Baskenland"
    assert canon[next(iter(ids["preußischen"]))] == "Preußen"


def test_derived_adjective_stem_fallback(link_cfg):
    # not in the table: matched by stem against a place of the corpus
    m = mentions(("d1", [("Wakanda", "LOC"), ("wakandischen", "LOC", "deriv")]))
    linked, _ = link(m, link_cfg)
    assert same(linked, "Wakanda", "wakandischen")
    assert linked["link_score"].iloc[1] == pytest.approx(0.7)


def test_inhabitant_nouns_compass_parts_and_unnamed_areas_find_their_place(link_cfg):
    """"Französin"/"Franzosen" -> Frankreich through "französisch" (no ending rule gives
    it); "süditalienischen" -> Süditalien, an own place that meets the name where a text
    uses it; "somalischen" -> Somalia though no text names it; "fanatische" no place."""
    m = mentions(("d1", [("Frankreich", "LOC"), ("Französin", "LOC", "deriv"), ("Briten", "LOC", "deriv")]),
                 ("d2", [("Franzosen", "LOC", "deriv"), ("süditalienischen", "LOC", "deriv"),
                         ("Ostberliner", "LOC", "deriv"), ("Berlin", "LOC")]),
                 ("d3", [("Süditalien", "LOC"), ("somalischen", "LOC", "deriv"), ("fanatische", "LOC", "deriv")]))
    linked, ents = link(m, link_cfg)
    assert same(linked, "Frankreich", "Französin", "Franzosen")
    assert same(linked, "Süditalien", "süditalienischen")
    assert not same(linked, "Süditalien", "Frankreich")
    canon = dict(zip(ents["entity_id"], ents["canonical_name"]))
    ids = by_text(linked)
    assert canon[next(iter(ids["Briten"]))] == "Vereinigtes Königreich"
    assert canon[next(iter(ids["somalischen"]))] == "Somalia"
    assert canon[next(iter(ids["Ostberliner"]))] == "Ostberlin"
    assert not same(linked, "Ostberliner", "Berlin")
    assert canon[next(iter(ids["fanatische"]))] == "fanatisch"


def test_the_weak_n_of_a_name_ending_in_e_is_its_inflection(link_cfg):
    """"in den Niederlanden", "der Grünen", "der Linken": the name ending in "-e" where it
    is attested with the same label; persons keep theirs ("Lange" and "Langen" are two
    surnames), and a form without its base stays as it is."""
    m = mentions(("d1", [("Niederlande", "LOC"), ("Grüne", "ORG"), "Lange"]),
                 ("d2", [("Niederlanden", "LOC"), ("Grünen", "ORG"), "Langen", ("Linken", "ORG")]))
    linked, _ = link(m, link_cfg)
    assert same(linked, "Niederlande", "Niederlanden") and same(linked, "Grüne", "Grünen")
    assert not same(linked, "Lange", "Langen")
    rules = dict(zip(linked["text"], linked["link_rule"]))
    assert rules["Niederlanden"] == rules["Grünen"] == "inflection"
    assert rules["Linken"] != "inflection"


def test_a_name_with_its_article_is_the_name_without_it(link_cfg):
    """"Der Spiegel" (read as MISC) and "Spiegel" (ORG): one organisation, by the label
    vote; an article form whose rest no text uses stays itself, and persons and places
    are never cut ("Die Welt" has no "Welt" here; "Der Standard" no "Standard")."""
    m = mentions(("d1", [("Der Spiegel", "MISC"), ("Die Welt", "ORG"), ("Die Linke", "MISC")]),
                 ("d2", [("Spiegel", "ORG"), ("Spiegel", "ORG"), ("Linke", "ORG"), ("Linken", "ORG")]),
                 ("d3", [("Der Standard", "ORG"), ("Standard", "PER")]))
    linked, ents = link(m, link_cfg)
    assert same(linked, "Der Spiegel", "Spiegel") and same(linked, "Die Linke", "Linke", "Linken")
    assert set(linked.loc[linked["text"] == "Der Spiegel", "label"]) == {"ORG"}
    assert not same(linked, "Der Standard", "Standard")
    rules = dict(zip(linked["text"], linked["link_rule"]))
    assert rules["Der Spiegel"] == "article" and rules["Die Welt"] != "article"


def test_link_derivs_off_keys_by_adjective(link_cfg):
    m = mentions(("d1", [("Russland", "LOC"), ("russische", "LOC", "deriv"), ("russischen", "LOC", "deriv")]))
    linked, ents = link(m, make_cfg(link_derivs=False))
    assert not same(linked, "Russland", "russische")
    assert same(linked, "russische", "russischen")
    assert "russisch" in set(ents["canonical_name"])


def test_parts_link_like_names(link_cfg):
    m = mentions(("d1", [("Kreml", "ORG", "part"), ("Kreml", "ORG")]), ("d2", [("Kremls", "ORG")]))
    linked, _ = link(m, link_cfg)
    assert linked["entity_id"].nunique() == 1


def test_abbreviation_defined_in_text(link_cfg):
    m = mentions(("d1", [("Östlichen Wirtschaftsforum", "MISC", "name", " (EE"), ("EEF", "MISC")]),
                 ("d2", [("EEF", "MISC")]))
    linked, ents = link(m, link_cfg)
    assert linked["entity_id"].nunique() == 1
    assert linked.set_index("mention_id").loc["d1#1", "link_rule"] == "abbreviation"
    # without next_chars (or with the level off) there is no evidence
    linked2, _ = link(m.drop(columns=["next_chars"]), link_cfg)
    assert linked2["entity_id"].nunique() == 2
    linked3, _ = link(m, make_cfg(abbreviations=False))
    assert linked3["entity_id"].nunique() == 2


def test_aliases_file_merge_and_split(tmp_path, link_cfg):
    f = tmp_path / "aliases.csv"
    f.write_text("canonical_name,alias,label,action\n"
                 "Europäische Union,EU,ORG,merge\n"
                 "Anna Berg,Berg,PER,split\n", encoding="utf-8")
    aliases = load_aliases(f)
    assert list(aliases["action"]) == ["merge", "split"]
    m = mentions(("d1", [("EU", "ORG"), "Anna Berg", "Berg"]), ("d2", [("Europäischen Union", "ORG")]),
                 ("d3", ["Berg"]))
    linked, ents = link(m, link_cfg, aliases=aliases)
    assert same(linked, "EU", "Europäischen Union")
    assert dict(zip(linked["text"], linked["link_rule"]))["EU"] == "alias_file"
    assert "Europäische Union" in set(ents["canonical_name"])
    assert not same(linked, "Anna Berg", "Berg")
    # without the split, Berg would be a partial name of Anna Berg
    linked2, _ = link(m, link_cfg, aliases=aliases[aliases["action"] == "merge"])
    assert same(linked2, "Anna Berg", "Berg")


def test_aliases_loaded_from_config_when_none(tmp_path):
    f = tmp_path / "a.csv"
    f.write_text("canonical_name,alias,label\nAngela Merkel,Mutti,PER\n", encoding="utf-8")
    m = mentions(("d1", ["Angela Merkel"]), ("d2", ["Mutti"]))
    linked, _ = link(m, make_cfg(aliases_file=str(f)))
    assert linked["entity_id"].nunique() == 1


def test_bad_alias_file(tmp_path):
    f = tmp_path / "a.csv"
    f.write_text("name,other\nx,y\n", encoding="utf-8")
    with pytest.raises(ValueError, match="canonical_name"):
        load_aliases(f)


def test_previous_entities_keep_ids(link_cfg):
    prev = pd.DataFrame({"entity_id": ["PER:e17", "LOC:e3"], "label": ["PER", "LOC"],
                         "canonical_name": ["Sergej Morosow", "Russland"],
                         "aliases": [["Sergej Morosow", "Morosow"], ["Russland"]],
                         "n_mentions": [3, 1], "n_docs": [2, 1]})
    m = mentions(("d9", ["Sergei Morozov", "Morozovs", ("russische", "LOC", "deriv"), "Neue Person"]))
    linked, ents = link(m, link_cfg, previous_entities=prev)
    ids = dict(zip(linked["text"], linked["entity_id"]))
    assert ids["Sergei Morozov"] == ids["Morozovs"] == "PER:e17"
    assert ids["russische"] == "LOC:e3"
    assert ids["Neue Person"] not in {"PER:e17", "LOC:e3"}
    row = ents.set_index("entity_id").loc["PER:e17"]
    assert row["canonical_name"] == "Sergej Morosow" and "Sergei Morozov" in row["aliases"]


def test_deterministic_ids_under_shuffling(link_cfg):
    m = mentions(("d1", ["Kim Jong Un", "Kim", "Kim Jong Il", ("Paris", "LOC")]),
                 ("d2", ["Anna Berg", "Berg", ("Paris", "LOC", "name")]),
                 ("d3", ["Anna Berg", ("Berg", "LOC")]), ("d4", ["Berg"]))
    a, ea = link(m, link_cfg)
    for seed in range(3):
        b, eb = link(m.sample(frac=1, random_state=seed), link_cfg)
        got = dict(zip(b["mention_id"], b["entity_id"]))
        assert got == dict(zip(a["mention_id"], a["entity_id"]))
        assert ea.reset_index(drop=True).equals(eb.reset_index(drop=True))


def test_id_collisions_get_suffixes(link_cfg):
    m = mentions(("d1", ["Anna Berg"]), ("d2", ["Anna Berg"]))
    linked, ents = link(m, make_cfg(cross_document=False))
    assert sorted(ents["entity_id"]) == ["PER:anna-berg", "PER:anna-berg-2"]
