"""Issue 18: the corpus-level second pass, and the document rules through the real tagger."""

from __future__ import annotations

from pipeline.ner.corpus_pass import build_corpus_names, corpus_votes, names_from_votes


def _m(doc, text, label, kind="name"):
    return {"doc_id": doc, "text": text, "label": label, "kind": kind}


def test_names_found_in_several_documents_are_found_in_the_others():
    names = build_corpus_names([_m("a", "Olaf Brenk", "PER"), _m("b", "Olaf Brenk", "PER"),
                                _m("c", "Olaf Brenk", "ORG"), _m("a", "Tessin", "LOC"),
                                _m("a", "Bremen", "LOC"), _m("b", "Bremen", "LOC")])
    assert names.labels == {"Olaf Brenk": "PER", "Bremen": "LOC"}  # Tessin: one document only
    text = "Gestern sprach Olaf Brenk in Bremen, Olaf Brenks Rede und Bremer Olaf Brenkfeld."
    got = [(text[s:e], lab) for s, e, lab in names.find(text, [], doc_id="d")]
    assert got == [("Olaf Brenk", "PER"), ("Bremen", "LOC"), ("Olaf Brenks", "PER")]


def test_the_corpus_pass_never_overlaps_a_span_and_leaves_its_own_documents_alone():
    names = build_corpus_names([_m("a", "Bremen", "LOC"), _m("b", "Bremen", "LOC")])
    text = "Werder Bremen spielte in Bremen."
    assert [text[s:e] for s, e, _ in names.find(text, [(0, 13, "ORG", "name")])] == ["Bremen"]
    assert names.find(text, [], doc_id="a") == []


def test_the_corpus_pass_leaves_a_common_word_opening_a_sentence_as_a_word():
    names = build_corpus_names([_m("a", "Kurz", "PER"), _m("b", "Kurz", "PER")])
    text = "Kurz nach Mitternacht landete er. Danach sprach Kurz. Kurz sagte nichts."
    assert [s for s, _, _ in names.find(text, [], doc_id="c")] == [text.index("Kurz."), text.index("Kurz sagte")]


def test_a_person_found_only_as_the_first_word_of_sentences_is_not_spread():
    """"Unterdessen" (meanwhile) read as a person at the start of sentences in two
    articles: an adverb, not looked up in the others; "Obama", once inside a sentence, is."""
    def at(doc, text, start, sentence_start):
        return {**_m(doc, text, "PER"), "start_char": start, "sentence_start": sentence_start}
    rows = [at("a", "Unterdessen", 102, 100), at("b", "Unterdessen", 40, 40),
            at("a", "Obama", 0, 0), at("b", "Obama", 57, 30)]
    assert build_corpus_names(rows).labels == {"Obama": "PER"}
    # the votes of parts summed: the same
    assert names_from_votes([corpus_votes(rows[::2]), corpus_votes(rows[1::2])]).labels == {"Obama": "PER"}
    # without sentence offsets nothing is known to stand first: both are spread
    plain = [{k: v for k, v in r.items() if k in ("doc_id", "text", "label", "kind")} for r in rows]
    assert set(build_corpus_names(plain).labels) == {"Unterdessen", "Obama"}


def test_documents_that_disagree_give_no_label():
    names = build_corpus_names([_m("a", "Tessin", "LOC"), _m("b", "Tessin", "ORG"), _m("c", "Tessin", "LOC"),
                                _m("a", "Jura", "LOC"), _m("b", "Jura", "ORG")])
    assert names.labels == {"Tessin": "LOC"}
    assert len(build_corpus_names([_m("a", "Tessin", "LOC"), _m("b", "Tessin", "LOC")], min_docs=3)) == 0


def test_the_corpus_pass_is_linear_in_the_text_and_the_names():
    from pipeline.ner.postprocess import Work

    mentions = [_m(d, f"Name{i:05d}x", "PER") for i in range(2000) for d in ("a", "b")]
    names = build_corpus_names(mentions)
    text = " ".join([f"Name{i:05d}x sagte" for i in range(0, 2000, 2)] * 2)
    work = Work()
    got = names.find(text, [], work=work)
    assert len(got) == 1000 * 2
    assert work.used < 3 * len(text)  # a trie walk per position, not text x names


def test_tagger_finds_the_surname_after_the_full_name_and_reports_titles(tagger):
    text = ("Die Grünen-Kandidatin Maria Tessmann sprach am Montag in Hannover. "
            "Tessmann sagte, die Stadt brauche mehr Busse. Tessmanns Plan sei teuer, sagte Bürgermeister Jonas Brenk.")
    tag = next(tagger.tag([text]))
    per = [text[s:e] for s, e, lab, kind, _ in tag.spans if lab == "PER"]
    assert "Maria Tessmann" in per and "Tessmann" in per and "Tessmanns" in per
    titles = {text[s:e]: t for (s, e, *_), t in zip(tag.spans, tag.titles)}
    assert titles["Maria Tessmann"] == "Grünen-Kandidatin"
    assert titles["Jonas Brenk"] == "Bürgermeister"
    assert len(tag.titles) == len(tag.spans)


def _reference_corpus_names(mentions, min_docs=2):
    """The per-mention loop build_corpus_names replaced (the oracle of the next test)."""
    from collections import Counter

    from pipeline.ner.corpus_pass import MIN_CHARS

    votes, docs = {}, {}
    for m in mentions:
        if m.get("kind", "name") != "name":
            continue
        form = m.get("norm_text") or m["text"]
        if not isinstance(form, str) or not form[:1].isupper():
            continue
        if len(form) < MIN_CHARS and not (len(form) == 2 and form.isupper()):
            continue
        docs.setdefault(form, set()).add(str(m["doc_id"]))
        votes.setdefault(form, Counter())[(str(m["doc_id"]), m["label"])] = 1
    labels, out = {}, {}
    for form, ds in docs.items():
        if len(ds) < min_docs:
            continue
        (best, n), *rest = Counter(label for (_, label) in votes[form]).most_common()
        if rest and rest[0][1] >= n:
            continue
        labels[form], out[form] = best, frozenset(ds)
    return labels, out


def test_corpus_names_are_those_of_the_per_mention_rule_on_random_mentions():
    import random

    forms = ["Bremen", "Tessin", "EU", "Eu", "UN", "de", "Al", "Olaf Brenk", "olaf", "Ära", "Über Alles",
             "X", "Köln", "SPD", "Jura"]
    for seed in range(30):
        rng = random.Random(seed)
        rows = []
        for _ in range(rng.randint(0, 60)):
            f = rng.choice(forms)
            row = {"doc_id": rng.choice("abcdef"), "text": f, "label": rng.choice(["PER", "LOC", "ORG", "MISC"]),
                   "kind": rng.choice(["name", "name", "name", "deriv"])}
            r = rng.random()
            if r < 0.3:
                row["norm_text"] = rng.choice(forms)
            elif r < 0.4:
                row["norm_text"] = ""
            else:
                row["norm_text"] = None
            rows.append(row)
        for min_docs in (1, 2, 3):
            want_labels, want_docs = _reference_corpus_names(rows, min_docs)
            got = build_corpus_names(rows, min_docs)
            assert list(got.labels.items()) == list(want_labels.items()), (seed, min_docs)
            assert got.docs == want_docs, (seed, min_docs)
            # the votes of parts (each document wholly in one) summed: the same names
            cut = rng.choice(["ab", "abc", "a", ""])
            parts = [[r for r in rows if r["doc_id"] in cut], [r for r in rows if r["doc_id"] not in cut]]
            by_parts = names_from_votes([corpus_votes(p) for p in parts], min_docs)
            assert by_parts.labels == want_labels, (seed, min_docs)
            docs_of_parts = {}
            for p in parts:
                for form, ds in by_parts.for_part(p).docs.items():
                    docs_of_parts.setdefault(form, set()).update(ds)
            assert {f: frozenset(d) for f, d in docs_of_parts.items()} == want_docs, (seed, min_docs)


def test_the_names_search_structure_is_built_once_for_all_parts(monkeypatch):
    """A run's corpus names grow with its size: each part's copy shares one search
    structure (built per part, the pass would be quadratic in the run's size) and finds
    what the names searched all at once find."""
    import pipeline.ner.corpus_pass as cp

    built = []

    class Counted(cp._Trie):
        def __init__(self, *args, **kwargs):
            built.append(1)
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(cp, "_Trie", Counted)
    rows = [{"doc_id": f"d{i}", "text": name, "label": "PER", "kind": "name"}
            for i, name in enumerate(["Anna Petrowa", "Anna Petrowa", "Jonas Schmidt", "Jonas Schmidt"] * 3)]
    names = cp.names_from_votes([cp.corpus_votes(rows[i:i + 2]) for i in range(0, len(rows), 2)])
    text = "Gestern sprach Anna Petrowa mit Jonas Schmidt."
    found = []
    for i in range(0, len(rows), 2):
        part = names.for_part(rows[i:i + 2])
        found.append(part.find(text, doc_id="elsewhere"))
    assert len(built) == 1
    assert found == [[(15, 27, "PER"), (32, 45, "PER")]] * 6


def test_a_mention_the_corpus_pass_adds_takes_the_sentence_that_holds_it():
    """The tagger's sentences are not kept; a new mention takes the sentence of the
    mention before it, or of the one after it where that sentence holds it."""
    import pandas as pd

    import pipeline.ner.corpus_pass as cp
    from pipeline.config import load_config
    from pipeline.ner.mentions import corpus_part

    rows = [{"doc_id": d, "text": "Anna Petrowa", "label": "PER", "kind": "name"} for d in ("d1", "d2")]
    names = cp.names_from_votes([cp.corpus_votes(rows)])
    text = "Das war in Berlin. Dann traf Anna Petrowa in Paris ein."
    docs = pd.DataFrame({"doc_id": ["d3"], "status": ["ok"], "text": [text]})
    b, p = text.index("Berlin"), text.index("Paris")
    ment = pd.DataFrame({"doc_id": ["d3", "d3"], "start_char": [b, p], "end_char": [b + 6, p + 5],
                         "sentence_index": [0, 1], "sentence_start": [0.0, 19.0],
                         "sentence_end": [18.0, float(len(text))]})
    added, counts = corpus_part(docs, ment, names.for_part(rows), load_config())
    assert [(r["text"], r["sentence_index"], r["sentence_start"], r["sentence_end"]) for r in added] == [
        ("Anna Petrowa", 1, 19, len(text))]
    assert counts == {"d3": 3}
