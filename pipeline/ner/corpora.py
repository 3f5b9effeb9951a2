"""Readers for the open German NER corpora, mapped onto the project's label set.

Every reader yields ``(words, tags)`` pairs: one sentence, BIO tags already mapped to
our labels (PER, LOC, ORG, MISC and their ``deriv``/``part`` subtypes). Unknown source
labels map to ``O`` so that a corpus with a wider inventory (MobIE's dates, routes,
...) can be mixed in without teaching the model labels we do not expose.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterable, Iterator
from pathlib import Path

from ..errors import PipelineError

Sentence = tuple[list[str], list[str]]

#: GermEval 2014 labels -> ours. OTH is GermEval's "other" class (MISC elsewhere).
GERMEVAL_LABELS: dict[str, str] = {
    base + sub: ("MISC" if base == "OTH" else base) + sub
    for base in ("PER", "LOC", "ORG", "OTH")
    for sub in ("", "deriv", "part")
}

#: MobIE / SmartData fine-grained types -> ours; everything else becomes O.
DFKI_LABELS: dict[str, str] = {
    "person": "PER",
    "organization": "ORG",
    "organization-company": "ORG",
    "location": "LOC",
    "location-city": "LOC",
    "location-street": "LOC",
    "location-stop": "LOC",
    "location-route": "O",
}

#: Europeana newspapers: coarse labels, a few malformed variants (``B-PEr``).
EUROPEANA_LABELS: dict[str, str] = {"PER": "PER", "LOC": "LOC", "ORG": "ORG", "MISC": "MISC"}

BASE_LABELS = ("PER", "LOC", "ORG", "MISC")
ALL_MODEL_LABELS = tuple(b + s for b in BASE_LABELS for s in ("", "deriv", "part"))


def _map_tag(tag: str, mapping: dict[str, str], *, case_fold: bool = False) -> str:
    if tag in ("O", "", "-"):
        return "O"
    if len(tag) < 3 or tag[1] != "-" or tag[0].upper() not in "BI":
        return "O"
    prefix, label = tag[0].upper(), tag[2:]
    key = label.upper() if case_fold else label
    target = mapping.get(key, "O")
    return "O" if target == "O" else f"{prefix}-{target}"


def _repair_bio(tags: list[str]) -> list[str]:
    """Turn an I- that does not continue the same label into a B- (IOB1 -> IOB2)."""
    out: list[str] = []
    prev = "O"
    for tag in tags:
        if tag.startswith("I-") and prev[2:] != tag[2:]:
            tag = "B-" + tag[2:]
        out.append(tag)
        prev = tag
    return out


def read_germeval(path: Path) -> Iterator[Sentence]:
    """Read GermEval 2014 TSV: the original 4-column dev/test or the 2-column train.

    Comment lines (``#<TAB>url``) are skipped; only the outer annotation level is used.
    """
    words: list[str] = []
    tags: list[str] = []
    with open(path, encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            line = line.rstrip("\n")
            if not line.strip():
                if words:
                    yield words, _repair_bio(tags)
                words, tags = [], []
                continue
            cols = line.split("\t")
            if cols[0] == "#" and len(cols) >= 2 and not words:
                continue
            if len(cols) == 2:
                word, tag = cols
            elif len(cols) >= 3 and cols[0].isdigit():
                word, tag = cols[1], cols[2]
            else:
                raise PipelineError(f"{path}:{lineno}: unexpected GermEval line {line!r}")
            words.append(word)
            tags.append(_map_tag(tag, GERMEVAL_LABELS))
    if words:
        yield words, _repair_bio(tags)


def read_conll2003(path: Path, mapping: dict[str, str] = DFKI_LABELS) -> Iterator[Sentence]:
    """Read CoNLL-2003 style files (``token POS chunk NER``), e.g. MobIE."""
    words: list[str] = []
    tags: list[str] = []
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            cols = line.split()
            if not cols or cols[0] == "-DOCSTART-":
                if words:
                    yield words, _repair_bio(tags)
                words, tags = [], []
                continue
            words.append(cols[0])
            tags.append(_map_tag(cols[-1], mapping))
    if words:
        yield words, _repair_bio(tags)


def read_europeana(path: Path, sentence_len: int = 40) -> Iterator[Sentence]:
    """Read a Europeana ``token TAG`` stream. It has no sentence boundaries, so we cut
    after sentence-final punctuation (or every ``sentence_len`` tokens at the latest)."""
    words: list[str] = []
    tags: list[str] = []
    with open(path, encoding="utf-8", errors="replace") as fh:
        for line in fh:
            cols = line.split()
            if len(cols) != 2:
                continue
            words.append(cols[0])
            tags.append(_map_tag(cols[1], EUROPEANA_LABELS, case_fold=True))
            if (cols[0] in {".", "!", "?"} and tags[-1] == "O") or len(words) >= sentence_len:
                if not tags[-1].startswith(("B-", "I-")) or len(words) >= sentence_len * 2:
                    yield words, _repair_bio(tags)
                    words, tags = [], []
    if words:
        yield words, _repair_bio(tags)


def read_smartdata(path: Path) -> Iterator[tuple[str, list[tuple[int, int, str]]]]:
    """Read SmartData v1 (gzip of concatenated JSON objects): ``(text, [(start, end, label)])``."""
    decoder = json.JSONDecoder()
    with gzip.open(path, "rt", encoding="utf-8") as fh:
        data = fh.read()
    pos = 0
    while True:
        while pos < len(data) and data[pos].isspace():
            pos += 1
        if pos >= len(data):
            break
        obj, pos = decoder.raw_decode(data, pos)
        text = obj.get("text") or ""
        if isinstance(text, dict):  # Avro-style JSON: {"string": "..."}
            text = text.get("string") or ""
        mentions = obj.get("conceptMentions", {})
        items = mentions.get("array", []) if isinstance(mentions, dict) else mentions
        spans = []
        for m in items or []:
            label = DFKI_LABELS.get(str(m.get("type", "")).lower(), "O")
            span = m.get("span", {})
            if label != "O" and "start" in span and "end" in span:
                spans.append((int(span["start"]), int(span["end"]), label))
        yield text, spans


def read_smartdata_sentences(path: Path) -> Iterator[Sentence]:
    """SmartData as token-level sentences: spaCy's German tokenizer and a rule-based
    sentencizer over each text; a mention becomes the tokens it overlaps."""
    import spacy
    from spacy.training import biluo_to_iob, offsets_to_biluo_tags

    nlp = spacy.blank("de")
    nlp.add_pipe("sentencizer")
    for text, spans in read_smartdata(path):
        if not text.strip():
            continue
        doc = nlp(text)
        ents, taken = [], set()
        for start, end, label in sorted(spans, key=lambda x: (x[0], -(x[1] - x[0]))):
            span = doc.char_span(start, end, label=label, alignment_mode="expand")
            if span is None or taken & set(range(span.start, span.end)):
                continue  # overlapping mentions: keep the first, longest
            taken.update(range(span.start, span.end))
            ents.append((span.start_char, span.end_char, label))
        tags = biluo_to_iob(offsets_to_biluo_tags(doc, ents))
        for sent in doc.sents:
            words = [t.text for t in sent if not t.is_space]
            sent_tags = [tags[t.i] for t in sent if not t.is_space]
            if words:
                yield words, _repair_bio(sent_tags)


READERS = {
    "germeval": read_germeval,
    "conll2003": read_conll2003,
    "europeana": read_europeana,
    "smartdata": read_smartdata_sentences,
}


def iter_sentences(fmt: str, paths: Iterable[Path]) -> Iterator[Sentence]:
    """Sentences of every path in a token-level format (see ``READERS``)."""
    try:
        reader = READERS[fmt]
    except KeyError:
        raise PipelineError(
            f"unknown corpus format {fmt!r}; known: {', '.join(sorted(READERS))}"
        ) from None
    for path in paths:
        yield from reader(Path(path))
