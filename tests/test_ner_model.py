"""The bundled NER model and model selection (real model, loaded once per session)."""

import json
import re

import pytest
import spacy

from pipeline.config import load_config
from pipeline.errors import ModelNotFoundError
from pipeline.ner.model import NerTagger, bundled_model_path, chunk_text, load_model, model_info

SENTENCES = [
    ("Bundeskanzler Olaf Scholz reiste am Montag nach Paris.",
     {("Olaf Scholz", "PER"), ("Paris", "LOC")}),
    ("Angela Merkel sprach in Berlin mit Emmanuel Macron.",
     {("Angela Merkel", "PER"), ("Berlin", "LOC"), ("Emmanuel Macron", "PER")}),
    ("Die Deutsche Bahn und die Lufthansa streiken in Frankfurt.",
     {("Deutsche Bahn", "ORG"), ("Lufthansa", "ORG"), ("Frankfurt", "LOC")}),
]


def test_bundled_model_is_shipped_small_and_attributed():
    path = bundled_model_path()
    meta = json.loads((path / "meta.json").read_text(encoding="utf-8"))
    size = sum(p.stat().st_size for p in path.rglob("*") if p.is_file())
    assert size < 25_000_000
    assert any("GermEval" in s.get("name", "") and s.get("license") == "CC BY 4.0" for s in meta["sources"])
    assert "performance" in meta and meta["performance"]["ents_f"] > 0.6
    nlp = spacy.load(path)  # a plain spaCy pipeline folder
    assert "ner" in nlp.pipe_names
    # the name lexicon its token-to-vector layer reads travels inside the model
    from pipeline.ner.lexicon import TABLE

    assert len(nlp.vocab.lookups.get_table(TABLE)) > 100_000
    assert any("GeoNames" in s.get("name", "") for s in meta["sources"])


def test_label_set(tagger):
    labels = set(tagger.info.labels)
    assert {"PER", "LOC", "ORG", "MISC"} <= labels
    assert {"LOCderiv", "ORGpart"} <= labels
    assert tagger.info.source == "bundled"


def test_only_ner_components_run(tagger):
    assert tagger.nlp.pipe_names[-1] == "sentencizer"
    assert set(tagger.nlp.pipe_names) <= {"tok2vec", "ner", "sentencizer"}


@pytest.mark.parametrize("text,expected", SENTENCES)
def test_unambiguous_entities(tagger, text, expected):
    (tagged,) = tagger.tag([text])
    found = {(text[s:e], label) for s, e, label, kind, _ in tagged.spans if kind == "name"}
    assert expected <= found


def test_deriv_and_part_kinds(tagger):
    texts = ["Der russische Präsident traf einen Kreml-Sprecher.", "Ein SPD-Sprecher widersprach am Montag."]
    got = {(text[s:e], label, kind) for text, tagged in zip(texts, tagger.tag(texts))
           for s, e, label, kind, _ in tagged.spans}
    assert ("russische", "LOC", "deriv") in got
    assert ("SPD", "ORG", "part") in got  # the span covers only the name, not "-Sprecher"


def test_sentence_index_and_long_texts_are_chunked(tagger, cfg):
    para = "Angela Merkel besuchte Paris. " * 40
    text = "\n\n".join([para] * 10)  # ~12,000 characters
    small = NerTagger(tagger.nlp, cfg.ner.model_copy(update={"max_chunk_chars": 1000}))
    (tagged,) = small.tag([text])
    merkel = [s for s in tagged.spans if text[s[0]:s[1]] == "Angela Merkel"]
    assert len(merkel) == 400
    assert [s[4] for s in merkel] == list(range(400))  # one sentence each, counted across chunks
    assert tagged.n_sentences == 400


def test_chunk_text_prefers_paragraphs_and_covers_everything():
    text = ("Satz eins. Satz zwei.\n\n" * 200) + "x" * 3000
    pieces = chunk_text(text, 1000)
    assert "".join(c for _, c in pieces) == text
    assert all(len(c) <= 1000 for _, c in pieces)
    assert all(text[o:o + len(c)] == c for o, c in pieces)
    assert pieces[0][1].endswith("\n\n")


def test_break_long_runs_inserts_spaces_that_map_back():
    from pipeline.ner.model import MAX_RUN_CHARS, _back, break_long_runs

    url = "https://www.example.org/" + "a" * 70  # 94 characters: left alone
    assert break_long_runs(f"Siehe {url} und Paris.") == (f"Siehe {url} und Paris.", [])
    text = "Merkel " + "=" * 250 + " Scholz " + "x" * 230 + "."
    new, inserted = break_long_runs(text)
    assert len(new) == len(text) + len(inserted) and len(inserted) == 2 + 2
    assert max(len(w) for w in new.split()) <= MAX_RUN_CHARS
    assert all(new[p] == " " for p in inserted)
    # every other character maps back onto itself
    kept = [i for i in range(len(new)) if i not in set(inserted)]
    assert [text[_back(inserted, i)] for i in kept] == [new[i] for i in kept]
    assert _back(inserted, len(new)) == len(text)


def test_break_long_runs_cuts_between_words_and_symbols():
    from pipeline.ner.model import break_long_runs

    names = ["Merkel", "Scholz", "Macron", "Biden", "Putin", "Selenskyj"]
    run = ",".join(names * 8)  # 350 characters without a space
    new, inserted = break_long_runs(run)
    assert inserted
    assert set(re.split(r"[, ]+", new)) == set(names)  # no name cut in two


def test_tokens_of_a_text_with_long_runs_map_to_the_original(tagger):
    glued = ("Kanzler" + "-" * 300 + "Olaf Scholz" + "*" * 120 + "traf" + "\U0001f600" * 150
             + " Emmanuel Macron in Paris.")
    (tagged,) = tagger.tag([glued])
    assert tagged.error is None
    for s, e, label, kind, _ in tagged.spans:
        assert glued[s:e].strip() == glued[s:e] and glued[s:e]
    assert {"Emmanuel Macron", "Paris"} <= {glued[s:e] for s, e, *_ in tagged.spans}


def test_missing_package_says_how_to_install():
    with pytest.raises(ModelNotFoundError, match="python -m spacy download de_core_news_xx"):
        load_model("de_core_news_xx")


def test_bad_paths(tmp_path):
    with pytest.raises(ModelNotFoundError, match="not found"):
        load_model(str(tmp_path / "nope" / "model"))
    with pytest.raises(ModelNotFoundError, match="no config.cfg"):
        load_model(str(tmp_path))


def test_foreign_model_by_path_with_label_mapping(tmp_path):
    """Any spaCy pipeline works: here an OntoNotes-style one (PERSON/GPE/DATE)."""
    nlp = spacy.blank("de")
    ruler = nlp.add_pipe("entity_ruler", name="ner")
    ruler.add_patterns([
        {"label": "PERSON", "pattern": "Erika Mustermann"},
        {"label": "GPE", "pattern": "Bonn"},
        {"label": "DATE", "pattern": "Montag"},
    ])
    nlp.to_disk(tmp_path / "m")
    cfg = load_config(overrides={"ner": {"model": str(tmp_path / "m")}})
    tagger = NerTagger.from_config(cfg.ner)
    assert model_info(tagger.nlp).source == "path"
    text = "Erika Mustermann war am Montag in Bonn."
    (tagged,) = tagger.tag([text])
    assert {(text[s:e], label) for s, e, label, _, _ in tagged.spans} == {
        ("Erika Mustermann", "PER"), ("Bonn", "LOC")}


def test_numpy_gemm_gives_the_same_entities_as_blis():
    """cpu.py swaps thinc's matrix multiply for numpy's; the predictions must not change."""
    from thinc.api import get_current_ops, set_current_ops

    from pipeline.ner.cpu import current_gemm
    from tests.conftest import SEEDS

    texts = [t for t, _ in SENTENCES] + [p.read_text(encoding="utf-8") for p in sorted(SEEDS.glob("*.txt"))]
    saved = get_current_ops()
    found = {}
    try:
        for gemm in ("blis", "numpy"):
            nlp = load_model("bundled", gemm=gemm, blas_threads=1)
            assert current_gemm() == gemm
            found[gemm] = [[(e.start_char, e.end_char, e.label_) for e in doc.ents] for doc in nlp.pipe(texts)]
    finally:
        set_current_ops(saved)
    assert sum(map(len, found["numpy"])) > 50
    assert found["numpy"] == found["blis"]


def test_embedding_each_distinct_word_once_gives_the_same_vectors_and_entities():
    """dedup.py embeds a batch's distinct words once: the tok2vec output (bit for bit) and
    the entities are those of the plain layer, on texts with repeated words, a changed
    NORM and whitespace tokens."""
    import numpy

    from pipeline.ner.dedup import dedup_embeddings
    from tests.conftest import SEEDS

    texts = [t for t, _ in SENTENCES] + [p.read_text(encoding="utf-8") for p in sorted(SEEDS.glob("*.txt"))]
    texts.append("Er war auf'm Markt in der Goethe-Str. 5.\n\n  Wie geht's?  Str. und 's in Köln   und in Köln.")
    plain = load_model("bundled")
    dedup = load_model("bundled")
    assert plain.get_pipe("tok2vec").model.layers[0].name.startswith("dedup(")  # load_model wraps it
    plain.get_pipe("tok2vec").model.layers[0] = plain.get_pipe("tok2vec").model.layers[0].layers[0]
    assert not dedup_embeddings(spacy.blank("de"))  # no tok2vec: left as it is
    docs = [plain.make_doc(t) for t in texts]
    assert any(t.norm_ != t.lower_ for t in docs[-1])  # a token whose NORM is not its form
    a = plain.get_pipe("tok2vec").model.predict(docs)
    b = dedup.get_pipe("tok2vec").model.predict(docs)
    assert sum(len(x) for x in a) > len({t.text for d in docs for t in d}) > 100  # words repeat
    assert all(numpy.array_equal(x, y) for x, y in zip(a, b))

    def ents(nlp):
        return [[(e.start_char, e.end_char, e.label_) for e in doc.ents] for doc in nlp.pipe(texts)]

    found = ents(dedup)
    assert sum(map(len, found)) > 50
    assert found == ents(plain)


def test_cpu_ops_settings_are_validated():
    from pipeline.errors import ConfigError
    from pipeline.ner.cpu import use_cpu_ops

    with pytest.raises(ValueError, match="gemm"):
        use_cpu_ops("mkl")
    with pytest.raises(ValueError, match="threads"):
        use_cpu_ops("numpy", -1)
    with pytest.raises(ConfigError):
        load_config(overrides=["ner.gemm=mkl", "ner.blas_threads=-2"])


def test_the_tagger_yields_each_text_once_its_pieces_are_tagged():
    """Texts come back as soon as the model batch holding their last piece is done (a
    progress bar counts them then), not after the whole input; the results are those of
    tagging all at once."""
    from pipeline.api import get_tagger

    base = load_config()
    small = base.ner.model_copy(update={"batch_size": 2})
    tagger = NerTagger(get_tagger(base).nlp, small)
    texts = [t for t, _ in SENTENCES] * 2  # six texts: three model batches of two
    calls = []
    pipe = tagger.nlp.pipe

    def counting_pipe(docs, **kw):
        calls.append(1)
        return pipe(docs, **kw)

    tagger.nlp.pipe = counting_pipe
    try:
        results = tagger.tag(texts)
        first = next(results)
        assert len(calls) == 1  # the first text is out after the first of three model batches
        rest = list(results)
    finally:
        del tagger.nlp.pipe
    assert len(calls) == 3
    whole = list(NerTagger(tagger.nlp, small).tag(texts))
    assert [first, *rest] == whole
