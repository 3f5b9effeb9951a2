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


def _decoder_texts():
    from tests.conftest import SEEDS

    texts = [t for t, _ in SENTENCES] + [p.read_text(encoding="utf-8") for p in sorted(SEEDS.glob("*.txt"))]
    texts += [
        "Er war auf'm Markt in der Goethe-Str. 5.\n\n  Wie geht's?  Str. und 's in Köln   und in Köln.",
        "Angela Merkel", "Berlin", "", "  \n ", "Merkel", "Die Vereinten Nationen in New York",
        "Wladimir Putin\nAngela Merkel\n\nBarack Obama traf Nicolas Sarkozy.",
    ]
    return texts


def test_vectorised_decoder_gives_spacys_entities():
    """decode.py decodes a batch of documents at once; its entities are those of spaCy's
    own loop on the same model, in batches of one and of many documents, for one-token
    and empty documents, whitespace tokens and sentence starts set before the
    recognizer (no entity may cross one)."""
    from pipeline.ner.decode import VectorisedNer

    texts = _decoder_texts()
    spacy_nlp = load_model("bundled", decoder="spacy")
    fast_nlp = load_model("bundled")
    assert isinstance(fast_nlp.get_pipe("ner"), VectorisedNer)
    assert not isinstance(spacy_nlp.get_pipe("ner"), VectorisedNer)
    assert fast_nlp.get_pipe("ner").labels == spacy_nlp.get_pipe("ner").labels  # the rest is the component's

    def ents(nlp, batch_size, sent_every=0):
        docs = []
        for text in texts:
            doc = nlp.make_doc(text)
            for i in range(1, len(doc)):
                if sent_every and i % sent_every == 0:
                    doc[i].is_sent_start = True
            docs.append(doc)
        for name, proc in nlp.pipeline:
            if name != "sentencizer":
                docs = list(proc.pipe(docs, batch_size=batch_size))
        return [[(e.start, e.end, e.label_) for e in doc.ents] for doc in docs]

    expected = ents(spacy_nlp, 64)
    assert sum(map(len, expected)) > 50
    assert ents(fast_nlp, 64) == expected
    assert ents(fast_nlp, 1) == expected
    assert ents(fast_nlp, 5) == expected
    cut = ents(spacy_nlp, 64, sent_every=2)
    assert cut != expected  # sentence starts every other token change the entities
    assert all(e - s <= 2 for doc in cut for s, e, _ in doc)
    assert ents(fast_nlp, 64, sent_every=2) == cut
    assert [[(e.start_char, e.end_char, e.label_) for e in fast_nlp(t).ents] for t in texts[:3]] == \
        [[(e.start_char, e.end_char, e.label_) for e in spacy_nlp(t).ents] for t in texts[:3]]


def test_vectorised_decoder_validity_is_spacys():
    """The table of valid actions (state x token flags) agrees with spaCy's
    ``moves.is_valid`` along random action sequences over a text with whitespace tokens."""
    import random

    from spacy.pipeline._parser_internals.stateclass import StateClass

    from pipeline.ner.decode import Moves, token_flags

    nlp = load_model("bundled", decoder="spacy")
    moves = nlp.get_pipe("ner").moves
    names = [moves.get_class_name(i) for i in range(moves.n_moves)]
    table = Moves.from_names(names)
    valid = table.validity()
    doc = nlp.make_doc("Angela Merkel traf \n\n Wladimir Putin in Moskau .  \n Danach flog sie nach Paris")
    doc[9].is_sent_start = True
    _, flags = token_flags([doc])
    rng = random.Random(0)
    checked = 0
    for _ in range(60):
        state, open_label = StateClass(doc), None
        for t in range(len(doc)):
            row = valid[0 if open_label is None else 1 + table.labels.index(open_label), flags[t]]
            theirs = [bool(moves.is_valid(state, n)) for n in names]
            assert row.tolist() == theirs, (t, open_label)
            checked += 1
            name = rng.choice([n for n, ok in zip(names, theirs) if ok])
            moves.apply_transition(state, name)
            act, _, lab = name.partition("-")
            open_label = lab if act in ("B", "I") else None
    assert checked == 60 * len(doc)


def test_vectorised_decoder_leaves_other_models_and_preset_entities_to_spacy():
    """A recognizer the decoder does not reproduce (beam search) keeps spaCy's loop, and
    documents with preset entities go to spaCy's methods (which keep them)."""
    from spacy.tokens import Span

    from pipeline.ner.decode import VectorisedNer, supports, vectorise_ner

    nlp = load_model("bundled")
    ner = nlp.get_pipe("ner")
    assert supports(ner.ner) and vectorise_ner(nlp)  # installed once, and idempotent
    assert not vectorise_ner(spacy.blank("de"))
    beam = load_model("bundled", decoder="spacy")
    beam.get_pipe("ner").cfg["beam_width"] = 4
    assert not supports(beam.get_pipe("ner"))
    # a recognizer whose model lacks the parser's lower/upper layers (other references)
    from thinc.api import Linear, chain

    other = spacy.blank("de").add_pipe("ner")
    layer = Linear(2, 2)
    other.model = chain(layer, Linear(2, 2))
    other.model.set_ref("tok2vec", layer)
    other.model.set_ref("other", layer)
    assert not supports(other)
    doc = nlp.make_doc("Gestern sprach Angela Merkel in Berlin über Paris.")
    doc.set_ents([Span(doc, 2, 4, label="ORG")], default="missing")
    doc = ner(doc)
    assert (2, 4, "ORG") in [(e.start, e.end, e.label_) for e in doc.ents]
    assert isinstance(ner, VectorisedNer)
    with pytest.raises(ValueError, match="decoder"):
        load_model("bundled", decoder="fast")


def test_embedding_cache_gives_the_same_vectors_whatever_came_before():
    """dedup.py keeps the rows of words it embedded for later batches (bounded, emptied
    when full) and embeds new words at least MIN_ROWS at a time: a batch's vectors are
    bit for bit those of the plain layer whether the cache is cold, warm from other
    texts, too small for the batch, or off, so workers that saw different documents
    before tag a document alike."""
    import numpy

    from pipeline.ner.dedup import MIN_ROWS, dedup_embeddings

    texts = [t for t in _decoder_texts() if t]  # the plain layer fails on an empty document
    plain = load_model("bundled", embed_cache_words=0)
    tok2vec = plain.get_pipe("tok2vec").model
    tok2vec.layers[0] = tok2vec.layers[0].layers[0]  # the layer as trained, no dedup
    docs = [plain.make_doc(t) for t in texts]
    expected = tok2vec.predict(docs)
    for capacity in (0, 150, 50_000):
        nlp = load_model("bundled", embed_cache_words=capacity)
        layer = nlp.get_pipe("tok2vec").model.layers[0]
        assert layer.name.startswith("dedup(") and dedup_embeddings(nlp, capacity)  # wrapped once
        model = nlp.get_pipe("tok2vec").model
        mine = [nlp.make_doc(t) for t in texts]
        # warm: a few words of the batch already cached, among others, in batches of one
        for warm in ("Köln und Berlin", texts[3], "Angela"):
            model.predict([nlp.make_doc(warm)])
        got = model.predict(mine)
        assert all(numpy.array_equal(x, y) for x, y in zip(got, expected)), capacity
        one_by_one = [model.predict([d])[0] for d in mine]
        assert all(numpy.array_equal(x, y) for x, y in zip(one_by_one, expected)), capacity
    assert MIN_ROWS >= 16


def test_embedding_cache_is_bounded():
    import numpy

    from pipeline.ner.dedup import EmbeddingCache

    cache = EmbeddingCache(5)
    keys = [(i, i) for i in range(4)]
    cache.make_room(4)
    assert cache.add(keys, numpy.ones((4, 3), dtype="f")).tolist() == [0, 1, 2, 3]
    assert cache.lookup([(1, 1), (9, 9)]).tolist() == [1, -1]
    cache.make_room(1)  # one more fits
    assert len(cache) == 4
    cache.make_room(2)  # two do not: emptied
    assert len(cache) == 0 and cache.lookup([(1, 1)]).tolist() == [-1]
    with pytest.raises(ValueError):
        cache.add([(i, 0) for i in range(6)], numpy.ones((6, 3), dtype="f"))
    cache.make_room(5)
    cache.add([(i, 0) for i in range(5)], numpy.zeros((5, 3), dtype="f"))
    assert len(cache) == 5 and len(cache.rows) == 5


def test_fused_encoder_gives_the_same_vectors():
    """encode.py runs the tok2vec's window encoder in place with reordered Maxout weights:
    the vectors are bit for bit those of thinc's layers, for one document, many, and
    documents of one token; thinc's BLIS ops and pipelines without a tok2vec are left alone."""
    import numpy
    from thinc.api import get_current_ops, set_current_ops

    from pipeline.ner.encode import fuse_encoder

    nlp = load_model("bundled")
    model = nlp.get_pipe("tok2vec").model
    fused = model.layers[1]
    assert fused.name.startswith("fused(") and fuse_encoder(nlp)  # wrapped once
    plain = fused.layers[0]
    docs = [nlp.make_doc(t) for t in _decoder_texts() if t]
    embedded = model.layers[0].predict(docs)
    for batch in (embedded, embedded[:1], [e for e in embedded if len(e) == 1]):
        assert batch
        got, want = fused.predict(batch), plain.predict(batch)
        assert all(numpy.array_equal(x, y) for x, y in zip(got, want))
    assert sum(len(x) for x in embedded) > 1000
    assert not fuse_encoder(spacy.blank("de"))
    saved = get_current_ops()
    try:
        blis = load_model("bundled", gemm="blis")
        assert not blis.get_pipe("tok2vec").model.layers[1].name.startswith("fused(")
    finally:
        set_current_ops(saved)


@pytest.mark.parametrize("upper", ["zero", "random"])
def test_vectorised_decoder_matches_spacy_on_another_recognizer(upper):
    """A recognizer with its own tok2vec (not a listener) and other labels, untrained:
    with its output layer at zero every action ties (the first valid one wins in both),
    with random weights the actions vary. The decoder gives spaCy's entities either way."""
    import numpy

    from pipeline.ner.decode import VectorisedNer, supports

    nlp = spacy.blank("de")
    ner = nlp.add_pipe("ner")
    for label in ("PERSON", "GPE", "ORG"):
        ner.add_label(label)
    nlp.initialize()
    if upper == "random":
        W = ner.model.get_ref("upper").get_param("W")
        ner.model.get_ref("upper").set_param("W", numpy.random.default_rng(0).normal(size=W.shape).astype(W.dtype))
    assert supports(ner)
    fast = VectorisedNer(ner)
    texts = [t for t in _decoder_texts() if t.strip()]
    docs_a = [nlp.make_doc(t) for t in texts]
    docs_b = [nlp.make_doc(t) for t in texts]
    list(ner.pipe(docs_a, batch_size=8))
    list(fast.pipe(docs_b, batch_size=8))
    got = [[(e.start, e.end, e.label_) for e in d.ents] for d in docs_b]
    want = [[(e.start, e.end, e.label_) for e in d.ents] for d in docs_a]
    assert upper == "zero" or sum(map(len, want)) > 10
    assert got == want


def test_embedding_cache_serves_one_batch_where_rows_depend_on_the_batch(monkeypatch):
    """Whether a cached row may serve later batches is checked when the model loads
    (dedup._rows_independent): a layer whose rows depend on the rows computed with them
    fails the check, a per-row one passes; where it fails, each call of the tagger (a
    run's batch) starts with an empty cache, so a batch's vectors depend on it alone."""
    import numpy

    from pipeline.api import get_tagger
    from pipeline.ner import dedup

    class Fake:
        def __init__(self, mixes: bool):
            self.mixes = mixes

        def predict(self, docs):
            rows = numpy.array([[float(len(t.text)), float(ord(t.text[-1]))] for t in docs[0]], dtype="f")
            return [rows + (len(rows) * 1e-3 if self.mixes else 0.0)]

    vocab = spacy.blank("de").vocab
    assert dedup._rows_independent(Fake(False), vocab)
    assert not dedup._rows_independent(Fake(True), vocab)

    base = load_config()
    for independent in (True, False):
        monkeypatch.setattr(dedup, "_rows_independent", lambda embed, vocab, v=independent: v)
        nlp = load_model("bundled")
        cache = dedup.embedding_cache(nlp)
        assert cache.across_calls is independent
        tagger = NerTagger(nlp, base.ner)
        list(tagger.tag(["Angela Merkel sprach in Berlin mit Emmanuel Macron."]))
        first = len(cache)
        list(tagger.tag(["Köln"]))
        assert first >= 9
        assert len(cache) == (first + 1 if independent else 1)
    assert get_tagger(base).nlp is not None


def test_embedding_cache_goes_with_its_model():
    """The cache lives in the wrapper layer's attrs: each loaded model has its own, and the
    tok2vec serialises (its settings, not its rows) and loads back with a working cache."""
    from pipeline.ner.dedup import embedding_cache

    a, b = load_model("bundled"), load_model("bundled", embed_cache_words=123)
    assert embedding_cache(a) is not embedding_cache(b) and embedding_cache(b).capacity == 123
    list(a.pipe(["Angela Merkel sprach in Berlin."]))
    assert len(embedding_cache(a)) > 0 and len(embedding_cache(b)) == 0
    tok2vec = a.get_pipe("tok2vec").model
    before = tok2vec.predict([a.make_doc("Olaf Scholz in Paris")])[0]
    tok2vec.from_bytes(tok2vec.to_bytes())
    cache = embedding_cache(a)
    assert cache.capacity == 50_000 and len(cache) == 0
    assert (tok2vec.predict([a.make_doc("Olaf Scholz in Paris")])[0] == before).all() and len(cache) > 0


def test_floret_lookup_with_numpy_gives_spacys_rows_and_vectors():
    """floret.py hashes the n-grams of all words at once: the rows are those spaCy's
    Vectors hashes one by one, for words of every length (blocks of 16 bytes and every
    tail), multi-byte characters of every width, combining marks and the empty word, and
    the vectors are Vectors.get_batch's bit for bit."""
    import random

    import numpy

    from pipeline.ner import floret

    nlp = load_model("bundled")
    vectors = nlp.vocab.vectors
    assert vectors.mode == "floret"  # what the fast path is for
    rnd = random.Random(7)
    alphabet = "abcXYZ09äöüßé€ж漢字🙂\u0301 -'."
    words = ["", "a", "Ab", "Berlin", "Bundesverfassungsgericht", "Kim Jong-un", "Lawrow's"] + [
        "".join(rnd.choice(alphabet) for _ in range(rnd.randint(1, 45))) for _ in range(1500)]
    rows, per_word = floret.floret_rows(
        words, minn=vectors.minn, maxn=vectors.maxn, hash_count=vectors.hash_count, seed=vectors.hash_seed,
        bow=vectors.bow, eow=vectors.eow, n_rows=vectors.data.shape[0])
    expected = [[h % vectors.data.shape[0] for g in vectors._get_ngrams(w) for h in vectors._get_ngram_hashes(g)]
                if w else [] for w in words]
    assert per_word.tolist() == [len(e) for e in expected]
    assert rows.tolist() == [r for e in expected for r in e]
    assert {len(w.encode("utf8")) % 16 for w in words} == set(range(16))  # every tail length
    keys = [nlp.vocab.strings.add(w) for w in words + words[:50]]  # repeated keys too
    assert numpy.array_equal(floret.get_batch(vectors, keys), vectors.get_batch(keys))
    # the layer uses it at inference (load_model), with the tok2vec's output unchanged
    texts = [t for t, _ in SENTENCES] + ["Der Kreml-Sprecher Dmitri Peskow äußerte sich über 🙂 und Ž."]
    fast = nlp.get_pipe("tok2vec").model.predict([nlp.make_doc(t) for t in texts])
    layers = [x for x in nlp.get_pipe("tok2vec").model.walk() if x.name == "static_vectors"]
    assert layers and all(x._func is floret._fast_forward for x in layers)
    from spacy.ml.staticvectors import forward as spacy_forward

    for x in layers:
        x._func = spacy_forward
    from pipeline.ner.dedup import embedding_cache

    embedding_cache(nlp).clear()
    plain = nlp.get_pipe("tok2vec").model.predict([nlp.make_doc(t) for t in texts])
    assert all(numpy.array_equal(a, b) for a, b in zip(fast, plain))


def test_distinct_word_pairs_are_numpys():
    import numpy

    from pipeline.ner.dedup import _unique_pairs

    rng = numpy.random.default_rng(3)
    words = rng.integers(0, 2**64 - 1, size=(300, 2), dtype=numpy.uint64)
    pairs = numpy.concatenate([words[rng.integers(0, 300, size=5000)],
                               numpy.stack([words[:5, 0], words[5:10, 1]], axis=1)])  # one form, other norms
    uniq, inverse = _unique_pairs(pairs)
    assert numpy.array_equal(uniq[inverse], pairs)
    assert {tuple(r) for r in uniq.tolist()} == {tuple(r) for r in numpy.unique(pairs, axis=0).tolist()}
    assert len(uniq) == len({tuple(r) for r in pairs.tolist()})


def test_the_tokenizer_keeps_more_spans_and_gives_spacys_tokens():
    """load_model lets the tokenizer remember up to TOKENIZER_CACHE_SPANS spans (spaCy's
    own tokenizer stops remembering at 10,000); the tokens of texts tokenized once
    its cache is past 10,000 spans, special cases ("z.B.", "Dr.") and affixes among them,
    are those of a fresh tokenizer with spaCy's limit, text for text and token for token."""
    import random

    from spacy.tokenizer import Tokenizer

    from pipeline.ner.model import TOKENIZER_CACHE_SPANS

    nlp = load_model("bundled")
    tok = nlp.tokenizer
    assert tok.max_cache_size == TOKENIZER_CACHE_SPANS > 10_000
    rnd = random.Random(3)
    words = ["Merkel,", "(Dr.", "z.B.", "Kim-Jong-un", "„Putins", "Nr.", "USA.", "3,5%", "Berlin:", "dpa-Meldung"]
    texts = [" ".join(f"{rnd.choice(words)}{i}{rnd.choice(['', '.', ',', ')', '“'])} {rnd.choice(words)}"
                      for i in range(k * 400, k * 400 + 400)) for k in range(40)]
    reference = Tokenizer(nlp.vocab, rules=tok.rules, prefix_search=tok.prefix_search,
                          suffix_search=tok.suffix_search, infix_finditer=tok.infix_finditer,
                          token_match=tok.token_match, url_match=tok.url_match,
                          faster_heuristics=tok.faster_heuristics)
    assert reference.max_cache_size == 10_000
    first = [[t.text for t in tok(t)] for t in texts]
    again = [[t.text for t in tok(t)] for t in texts]  # from the cache, past spaCy's 10,000
    expected = [[t.text for t in reference(t)] for t in texts]
    assert sum(len(t.split()) for t in texts) > 20_000
    assert first == expected and again == expected
    assert [[t.norm_ for t in tok(t)] for t in texts[-3:]] == [[t.norm_ for t in reference(t)] for t in texts[-3:]]
