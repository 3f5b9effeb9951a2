"""Corpus-level second pass: names the model found in several documents of a run are
tagged where they occur in the others.

The model gives no confidence per span; agreement across documents stands in for one: a
name form found as a ``name`` span in at least ``min_docs`` documents, with the label most
of them give it, is looked up in every document's normalised text with one trie built
once (:class:`pipeline.ner.postprocess._Trie`: linear in the text, whatever the number of
names), and tagged where it stands between word boundaries (a genitive ``s`` or
apostrophe included) and overlaps no span the model found. Pure functions on strings and
spans: no spaCy here.

    names = build_corpus_names(mentions)          # once per run, from all its mentions
    for doc in batch:                             # then per document, batch by batch
        new = names.find(doc.norm_text, doc.spans, doc_id=doc.doc_id)

``find`` returns ``(start, end, label)`` in the normalised text; map them to the original
with :func:`pipeline.normalize.to_original` as ``run.process_batch`` does.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from .postprocess import _DETERMINERS, Work, _is_boundary, _preceding_word, _Trie

#: shortest form looked up (two characters only for all-caps acronyms such as "EU")
MIN_CHARS = 3


@dataclass
class CorpusNames:
    """Name forms agreed on by several documents: form -> (label, documents found in)."""

    labels: dict[str, str]
    docs: dict[str, frozenset[str]]
    _trie: _Trie | None = field(default=None, repr=False)

    def __len__(self) -> int:
        return len(self.labels)

    def find(self, text: str, spans: Iterable[Sequence] = (), doc_id: str | None = None,
             work: Work | None = None) -> list[tuple[int, int, str]]:
        """New ``(start, end, label)`` spans in ``text`` (a document's normalised text):
        occurrences of corpus names that overlap none of ``spans`` (the model's spans of
        this document, ``(start, end, ...)`` in the same text). Names found in ``doc_id``
        itself are left to the in-document rules. Linear in ``len(text)``."""
        if not self.labels:
            return []
        if self._trie is None:
            self._trie = _Trie(self.labels)
        occupied = bytearray(len(text) + 1)
        for sp in spans:
            occupied[sp[0]:sp[1]] = b"\x01" * (sp[1] - sp[0])
        out = []
        for s, e in self._trie.finditer(text, work or Work()):
            form = text[s:e]
            if doc_id is not None and doc_id in self.docs[form]:
                continue
            if not _is_boundary(text, s - 1) or (s > 0 and text[s - 1] == "-"):
                continue
            if e < len(text) and text[e] in "s'’" and _is_boundary(text, e + 1):
                e += 1
            elif not _is_boundary(text, e) or (e < len(text) and text[e] == "-"):
                continue
            if any(occupied[s:e]):
                continue
            if self.labels[form] == "PER" and _preceding_word(text, s).lower() in _DETERMINERS:
                continue  # "der Koch"
            out.append((s, e, self.labels[form]))
        return out


def build_corpus_names(mentions: Iterable[Mapping], min_docs: int = 2) -> CorpusNames:
    """Corpus names from a run's mentions (mappings or DataFrame rows with ``text``,
    ``label``, ``kind``, ``doc_id`` and optionally ``norm_text``, the form the model
    saw, used when present): every ``name`` form that starts with a capital letter, found
    in at least ``min_docs`` documents, with its majority label over documents (one vote
    per document and label). A form whose documents disagree (no label has a strict
    majority) is left out, as are forms shorter than :data:`MIN_CHARS` (two-letter
    all-caps acronyms excepted)."""
    if hasattr(mentions, "to_dict"):  # a DataFrame
        mentions = mentions.to_dict("records")
    votes: dict[str, Counter] = {}
    docs: dict[str, set[str]] = {}
    for m in mentions:
        if m.get("kind", "name") != "name":
            continue
        form = m.get("norm_text") or m["text"]
        if not isinstance(form, str) or not form[:1].isupper():
            continue
        if len(form) < MIN_CHARS and not (len(form) == 2 and form.isupper()):
            continue
        doc = str(m["doc_id"])
        docs.setdefault(form, set()).add(doc)
        votes.setdefault(form, Counter())[(doc, m["label"])] = 1  # one vote per document and label
    labels: dict[str, str] = {}
    out_docs: dict[str, frozenset[str]] = {}
    for form, ds in docs.items():
        if len(ds) < min_docs:
            continue
        by_label = Counter(label for (_, label) in votes[form])
        (best, n), *rest = by_label.most_common()
        if rest and rest[0][1] >= n:
            continue
        labels[form] = best
        out_docs[form] = frozenset(ds)
    return CorpusNames(labels, out_docs)
