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
