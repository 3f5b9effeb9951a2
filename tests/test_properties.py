"""Property-based: arbitrary Unicode through normalize + the real NER model never
crashes and never breaks the offset invariant text[start_char:end_char] == mention."""

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pipeline.read import RawDoc
from pipeline.run import process_batch

NAMES = ["Angela Merkel", "Wladimir Putin", "Kim Jong-un", "Paris", "Kreml-Sprecher", "russische",
         "PrÃ¤sident", "Kim\u00a0Jong\u00adUn", "<b>Olaf Scholz</b>", "&amp;", "Sergej Lawrow"]
pieces = st.one_of(st.sampled_from(NAMES), st.text(max_size=30),
                   st.sampled_from([" ", "\n", "\n\n", "\u200b", "„", "“", "–", "\t", "\r\n"]))
texts = st.lists(pieces, max_size=25).map("".join)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batch=st.lists(texts, min_size=1, max_size=4))
def test_offsets_always_slice_the_original(batch, tagger, cfg):
    raw = [RawDoc(doc_id=f"d{i}", source="t", text=t, status="ok", error=None, encoding=None,
                  notes=[], date=None, hidden_spans=[]) for i, t in enumerate(batch)]
    documents, mentions = process_batch(raw, tagger, cfg)
    assert list(documents["doc_id"]) == [d.doc_id for d in raw]
    by_id = {d.doc_id: d.text for d in raw}
    for m in mentions.itertuples():
        assert 0 <= m.start_char < m.end_char <= len(by_id[m.doc_id])
        assert by_id[m.doc_id][m.start_char:m.end_char] == m.text
        assert m.text.strip() == m.text
    assert (documents["n_chars"] == [len(t) for t in batch]).all()


# --------------------------------------------------------------------------- bounded work (issue 17)

# runs without spaces long enough to be broken for the tokenizer, unclosed markup in bulk
NASTY_UNITS = ["=", "\U0001f600", "<!--", "<script>", "a < b > c ", "x", "Ä", "-", "/Merkel", "\u0301", "&amp;"]
runs = st.builds(lambda unit, n: unit * n, st.sampled_from(NASTY_UNITS), st.integers(20, 160))
nasty_texts = st.lists(st.one_of(st.sampled_from(NAMES), runs, st.text(max_size=20),
                                 st.sampled_from([" ", "\n", ". "])), max_size=12).map("".join)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(batch=st.lists(nasty_texts, min_size=1, max_size=3))
def test_offsets_slice_the_original_with_long_runs(batch, tagger, cfg):
    raw = [RawDoc(doc_id=f"d{i}", source="t", text=t, status="ok", error=None, encoding=None,
                  notes=[], date=None, hidden_spans=[]) for i, t in enumerate(batch)]
    documents, mentions = process_batch(raw, tagger, cfg)
    assert (documents["status"] != "error").all()  # the default work budget is never near
    by_id = {d.doc_id: d.text for d in raw}
    for m in mentions.itertuples():
        assert 0 <= m.start_char < m.end_char <= len(by_id[m.doc_id])
        assert by_id[m.doc_id][m.start_char:m.end_char] == m.text


@settings(max_examples=200, deadline=None)
@given(nasty_texts)
def test_break_long_runs_only_inserts_spaces(text):
    from pipeline.ner.model import MAX_RUN_CHARS, _back, break_long_runs

    new, inserted = break_long_runs(text)
    assert len(new) == len(text) + len(inserted)
    assert all(new[p] == " " for p in inserted)
    assert all(len(run) <= MAX_RUN_CHARS for run in new.split())
    skip = set(inserted)
    assert "".join(new[i] for i in range(len(new)) if i not in skip) == text
    assert all(text[_back(inserted, i)] == new[i] for i in range(len(new)) if i not in skip)
    if all(len(run) <= MAX_RUN_CHARS for run in text.split()):
        assert new == text


# --------------------------------------------------------------------------- quotations

FRAME_WORDS = ("sagte so der Minister , . : „ “ » « dass zu gehen sein um hält es für unwahrscheinlich wie eine "
               "Studie ergab laut bildblog . de nach dem Endergebnis heißt Es hieß In Erklärung Behauptungen Vorwurf "
               "gab bekannt Huber hat zugesagt die EU werden beschuldigt 110.000 sei habe stagniere t-online.de "
               "berichtet Xinhua meldet ( ) Jetzt wurde vorgeworfen Demnach gemäß seiner Aussage wies auf hin "
               "Anna Bligh , erklärte ihr Land unterstütze weiter").split()
frames = st.lists(st.one_of(st.sampled_from(FRAME_WORDS), st.text(max_size=8)), max_size=40).map(" ".join)


@settings(max_examples=300, deadline=None)
@given(text=frames)
def test_quotation_spans_always_slice_the_text(text):
    """Speech frames in any order, unclosed quotation marks, an unfinished last sentence:
    the extractor never fails, every quote, cue and speaker lies inside the text, and a
    quote's pieces lie within its span."""
    from pipeline.quotes import extract_quotes

    for r in extract_quotes("d", text):
        assert 0 <= r["start_char"] < r["end_char"] <= len(text)
        pieces = [tuple(map(int, p.split("-"))) for p in r["spans"]]
        assert all(r["start_char"] <= a < b <= r["end_char"] for a, b in pieces)
        for key in ("cue", "speaker"):
            s, e = r[f"{key}_start"], r[f"{key}_end"]
            assert (s is None) == (e is None)
            if s is not None:
                assert 0 <= s < e <= len(text)
