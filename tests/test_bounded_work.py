"""Bounded work per document (issue 17): every step linear in the length of a document,
model memory bounded by ``ner.batch_tokens``, and a per-document work budget.

Scaling is checked as a ratio, not against a clock: the best of three runs on an input
four times as long must take less than ``MAX_RATIO`` times as long (linear: about 4;
quadratic: about 16). Each repeat gets a slightly different input, so no cache (spaCy's
tokenizer keeps one per string) hides the work.
"""

from __future__ import annotations

import re
import time

import pytest

from pipeline.config import load_config
from pipeline.ner.model import MAX_RUN_CHARS, NerTagger, break_long_runs
from pipeline.ner.postprocess import Work, WorkLimitExceeded, propagate
from pipeline.normalize import find_html, looks_like_mojibake, normalize_text
from pipeline.read import RawDoc
from pipeline.run import process_batch

CFG = load_config()
FACTOR = 4
MAX_RATIO = 6.0
FLOOR = 0.01  # seconds: below this a ratio says nothing (noise on a shared machine)


def _best(fn, make, n: int, repeat: int = 3) -> float:
    best = float("inf")
    for k in range(repeat):
        arg = make(n, k)
        t0 = time.perf_counter()
        fn(arg)
        best = min(best, time.perf_counter() - t0)
    return best


def _ratio(fn, make, n: int, repeat: int = 3) -> float:
    fn(make(n // 4, 9))  # warm up (imports, compiled patterns, the model)
    small = _best(fn, make, n, repeat)
    big = _best(fn, make, FACTOR * n, repeat)
    return big / max(small, FLOOR)


def _marked(unit: str):
    """``unit`` repeated n times after a marker that differs per repeat."""
    return lambda n, k: "xyzuvw"[k % 6] + unit * n


MOJIBAKE = "".join(chr(c) for c in range(0x100, 0x180) if chr(c).isalpha()).encode("utf-8").decode("cp1252", "replace")
NORMALIZE_CASES = {
    "run of =": ("=", 20_000),
    "run of emoji": ("\U0001f600", 20_000),
    "unclosed comments": ("<!--", 40_000),
    "unclosed script": ("<script>", 20_000),
    "unclosed script tag": ("<script ", 20_000),
    "unclosed style": ("<style>x", 20_000),
    "a < b > c": ("a < b > c ", 40_000),
    "entities": ("&amp;", 4_000),
    "combining marks out of order": ("\u0301\u0316", 1_500),
    "mojibake without ascii": ("Ã¤Ã¶â€žÃ©", 8_000),
    # 120 different letters as UTF-8 read as cp1252: no character common enough for
    # difflib to skip, no ASCII to cut the line at
    "varied mojibake without ascii": (MOJIBAKE, 120),
}


def test_the_scaling_check_catches_a_quadratic():
    # the old HTML pattern: every unclosed "<!--" rescans the rest of the text
    old = re.compile(r"<!--.*?-->", re.DOTALL)
    assert _ratio(lambda t: list(old.finditer(t)), _marked("<!--"), 1_500) > MAX_RATIO


@pytest.mark.parametrize("name", list(NORMALIZE_CASES))
def test_normalize_is_linear(name):
    unit, n = NORMALIZE_CASES[name]
    ratio = _ratio(lambda t: normalize_text(t, CFG.normalize, html="strip"), _marked(unit), n, repeat=5)
    assert ratio < MAX_RATIO, f"{name}: {FACTOR}x the input took {ratio:.1f}x the time"


@pytest.mark.parametrize("name", ["unclosed comments", "unclosed script", "unclosed script tag", "unclosed style",
                                  "a < b > c"])
def test_find_html_is_linear(name):
    unit, n = NORMALIZE_CASES[name]
    ratio = _ratio(find_html, _marked(unit), 2 * n, repeat=5)  # find_html alone is fast: more input
    assert ratio < MAX_RATIO, f"{name}: {FACTOR}x the input took {ratio:.1f}x the time"


def test_looks_like_mojibake_is_linear():
    # suspicious pairs everywhere on one long line, none of them bad: every piece is checked
    assert not looks_like_mojibake("é» x" * 100)
    ratio = _ratio(looks_like_mojibake, _marked("é» x"), 16_000, repeat=5)
    assert ratio < MAX_RATIO


@pytest.mark.parametrize("unit", ["=", "\U0001f600"])
def test_tagging_a_run_without_spaces_is_linear(tagger, unit):
    def tag(text):
        (t,) = tagger.tag([text])
        assert t.error is None and t.n_sentences >= 1

    ratio = _ratio(tag, _marked(unit), 2_000)
    assert ratio < MAX_RATIO, f"{FACTOR}x the run took {ratio:.1f}x the time"


def test_postprocessing_many_names_is_linear(tagger):
    """Thousands of distinct names in one text (a long article): the post-processing rules
    look names up instead of comparing every name with every other."""
    def make(n, k):
        names = [f"Anna{k}{i:05d} Berg{i:05d}x" for i in range(n)]
        return " ".join(f"Sprecher {nm} sagte, {nm.split()[0]} sei in Berlin." for nm in names)

    def post(text):
        spans = []
        for m in re.finditer(r"Anna\w+ Berg\w+", text):
            spans.append((m.start(), m.end(), "PER", "name"))
        tagger._postprocess(text, spans)

    assert _ratio(post, make, 1_000) < MAX_RATIO


# --------------------------------------------------------------------------- memory


class _Spy:
    """The real model, recording the tokens of every batch handed to nlp.pipe."""

    def __init__(self, nlp):
        self.nlp = nlp
        self.batches: list[int] = []

    def make_doc(self, text):
        return self.nlp.make_doc(text)

    def pipe(self, docs, batch_size):
        docs = list(docs)
        self.batches.append(sum(len(d) for d in docs))
        return self.nlp.pipe(docs, batch_size=batch_size)


def test_batches_are_bounded_by_tokens_not_by_documents(tagger):
    small = NerTagger(tagger.nlp, CFG.ner.model_copy(update={"batch_tokens": 1000, "batch_size": 32}))
    spy = small.nlp = _Spy(tagger.nlp)
    prose = "Angela Merkel besuchte am Montag Paris und traf Emmanuel Macron.\n\n" * 60  # ~720 tokens
    dense = "a < b > c " * 1_500  # 7,500 tokens in 15,000 characters: one chunk, cut finer
    texts = [prose, dense, prose, "Olaf Scholz reiste nach Rom."]
    tagged = list(small.tag(texts))
    assert max(spy.batches) <= 1000
    assert sum(spy.batches) >= 7_500 + 2 * 700
    assert all(t.error is None for t in tagged)
    # the same mentions as with the default batches
    default = list(tagger.tag(texts))
    for text, a, b in zip(texts, tagged, default):
        assert [text[s:e] for s, e, *_ in a.spans] == [text[s:e] for s, e, *_ in b.spans]
        assert a.spans == b.spans
    assert {texts[0][s:e] for s, e, *_ in tagged[0].spans} >= {"Angela Merkel", "Paris", "Emmanuel Macron"}


def test_default_batch_tokens_keep_prose_chunks_whole():
    # ~0.16-0.18 tokens per character in German news: a full chunk (max_chunk_chars) of
    # prose must fit one batch, or long articles would be chunked differently than before
    assert CFG.ner.batch_tokens >= 0.2 * CFG.ner.max_chunk_chars


# --------------------------------------------------------------------------- work budget


def _doc(i: int, text: str) -> RawDoc:
    return RawDoc(doc_id=f"d{i}", source="t", text=text, status="ok", error=None, encoding=None,
                  notes=[], date=None, hidden_spans=[])


def test_work_budget_makes_an_error_document_and_the_run_goes_on(tagger):
    cfg = CFG.model_copy(update={"ner": CFG.ner.model_copy(update={"max_work_per_char": 1.5})})
    tight = NerTagger(tagger.nlp, cfg.ner)
    texts = ["Angela Merkel besuchte Paris.", "=" * 30_000, "Olaf Scholz reiste nach Rom."]
    documents, mentions = process_batch([_doc(i, t) for i, t in enumerate(texts)], tight, cfg)
    docs = documents.set_index("doc_id")
    assert list(docs["status"]) == ["ok", "error", "ok"]
    assert docs.at["d1", "error"].startswith("work budget exceeded")
    assert "ner.max_work_per_char" in docs.at["d1", "error"]
    assert docs.at["d1", "n_mentions"] == 0 and docs.at["d1", "text"] == texts[1]
    assert set(mentions["doc_id"]) == {"d0", "d2"}
    assert {"Angela Merkel", "Paris", "Olaf Scholz", "Rom"} <= set(mentions["text"])
    # counted in units, not seconds: the same verdict every time
    (again,) = tight.tag([texts[1]])
    assert again.error == docs.at["d1", "error"] and again.spans == [] and again.n_sentences == 0


def test_default_budget_leaves_nasty_but_linear_inputs_alone(tagger):
    for text in ["=" * 12_000, "\U0001f600" * 12_000, "a < b > c " * 3_000, "<!--" * 8_000]:
        (t,) = tagger.tag([text])
        assert t.error is None


def test_postprocess_steps_charge_their_work():
    text = " ".join(f"Name{i:04d}" for i in range(2_000))
    spans = [(0, 8, "PER", "name")]
    work = Work()
    propagate(text, spans, work)
    assert work.used >= len(text) // 9  # at least one unit per candidate position
    with pytest.raises(WorkLimitExceeded):
        propagate(text, spans, Work(limit=100))


# --------------------------------------------------------------------------- long runs


def test_breaks_keep_offsets_and_names(tagger):
    run = "/".join(["Merkel", "Scholz", "Macron", "Biden", "Putin"] * 12)  # 200 characters, no space
    text = f"Angela Merkel besuchte Paris. {run} {'=' * 450} Olaf Scholz traf Emmanuel Macron in Berlin."
    model_text, inserted = break_long_runs(text)
    assert inserted and max(map(len, model_text.split())) <= MAX_RUN_CHARS
    for p in inserted:  # cut between a word and a "/", never inside a word
        assert model_text[p] == " " and not (model_text[p - 1].isalnum() and model_text[p + 1].isalnum())
    (t,) = tagger.tag([text])
    found = {text[s:e] for s, e, *_ in t.spans}
    assert {"Angela Merkel", "Paris", "Olaf Scholz", "Emmanuel Macron", "Berlin"} <= found
    tail = text.index("Olaf")
    assert any(s == tail and text[s:e] == "Olaf Scholz" for s, e, *_ in t.spans)
    documents, mentions = process_batch([_doc(0, text)], tagger, CFG)
    for m in mentions.itertuples():
        assert text[m.start_char:m.end_char] == m.text
    assert {"Olaf Scholz", "Berlin"} <= set(mentions["text"])
