"""Names are keyed on the text the model saw: an article as mojibake or with HTML
entities and tags forms the same entities as its clean copy, with clean aliases."""

from __future__ import annotations

from pipeline import run

CLEAN = ("Markus Söder traf in München Emmanuel Macron. Später sprachen Söder und Macron in "
         "Nürnberg über die Europäische Union.")
MOJIBAKE = CLEAN.encode("utf-8").decode("latin-1")
HTML = (CLEAN.replace("ö", "&ouml;").replace("ü", "&uuml;").replace("ä", "&auml;")
        .replace("Emmanuel Macron", "<b>Emmanuel</b> <i>Macron</i>"))


def test_three_copies_of_one_article_form_the_entities_of_the_clean_copy_alone():
    alone = run({"clean": CLEAN})
    both = run({"clean": CLEAN, "moji": MOJIBAKE, "html": HTML})
    want = alone.mentions["entity_id"].tolist()
    assert want
    for doc in ("clean", "moji", "html"):
        got = both.mentions.loc[both.mentions["doc_id"] == doc].sort_values("start_char")["entity_id"].tolist()
        assert got == want, doc
    assert sorted(both.entities["entity_id"]) == sorted(alone.entities["entity_id"])
    # aliases and canonical names are the clean forms, listed once
    for aliases, canon in zip(both.entities["aliases"], both.entities["canonical_name"]):
        for name in [canon, *aliases]:
            assert name in CLEAN, name
        assert len(aliases) == len(set(aliases))
    # the mentions keep the original surface, mojibake and tags included
    assert "Markus SÃ¶der" in set(both.mentions["text"])


def test_three_copies_of_each_seed_form_the_entities_of_the_clean_copy_alone():
    """The same on real articles: every seed, as itself, as mojibake and with HTML
    entities (a name found once after a place class noun and once without must not read
    as a place in one copy and an organisation in another, which three copies would
    split as a city and its club)."""
    import html

    from .conftest import SEEDS

    for path in sorted(SEEDS.glob("*.txt")):
        clean = path.read_text(encoding="utf-8")
        moji = clean.encode("utf-8").decode("latin-1", errors="replace")
        ents = "".join(html.escape(c) if c in "&<>" else (f"&#{ord(c)};" if ord(c) > 127 else c) for c in clean)
        alone = run({"clean": clean}).mentions.sort_values("start_char")
        three = run({"clean": clean, "moji": moji, "html": ents}).mentions
        want = alone["entity_id"].tolist()
        for doc in ("clean", "moji", "html"):
            got = three.loc[three["doc_id"] == doc].sort_values("start_char")["entity_id"].tolist()
            assert got == want, (path.name, doc)
