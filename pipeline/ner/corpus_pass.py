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

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

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


def build_corpus_names(mentions: pd.DataFrame | Iterable[Mapping], min_docs: int = 2) -> CorpusNames:
    """Corpus names from a run's mentions (a table, or mappings, with ``text``,
    ``label``, ``kind``, ``doc_id`` and optionally ``norm_text``, the form the model
    saw, used where present and not empty): every ``name`` form that starts with a
    capital letter, found in at least ``min_docs`` documents, with its majority label
    over documents (one vote per document and label). A form whose documents disagree
    (no label has a strict majority) is left out, as are forms shorter than
    :data:`MIN_CHARS` (two-letter all-caps acronyms excepted). Column operations and
    group counts over the table, no Python work per mention (a run's mentions can be
    millions)."""
    df = mentions if isinstance(mentions, pd.DataFrame) else pd.DataFrame(list(mentions))
    if df.empty or "text" not in df.columns:
        return CorpusNames({}, {})
    form = df["text"]
    if "norm_text" in df.columns:
        nt = df["norm_text"]
        form = nt.where(nt.notna() & (nt.astype(object) != ""), form)
    form = form.astype("string")
    kind = df["kind"] if "kind" in df.columns else pd.Series("name", index=df.index)
    length = form.str.len().fillna(0).to_numpy()
    ok = ((kind == "name").to_numpy()
          & form.str[:1].str.isupper().fillna(False).to_numpy(dtype=bool)
          & ((length >= MIN_CHARS) | ((length == 2) & form.str.isupper().fillna(False).to_numpy(dtype=bool))))
    # integer codes of form, document and label (forms numbered in order of first mention)
    f_code, f_uniq = pd.factorize(form[ok])
    d_code, d_uniq = pd.factorize(df["doc_id"][ok])
    l_code, l_uniq = pd.factorize(df["label"][ok], use_na_sentinel=False)
    doc_str = np.array([str(x) for x in d_uniq], dtype=object)
    d = pd.DataFrame({"f": f_code, "d": d_code, "l": l_code}).drop_duplicates()
    fd = d[["f", "d"]].drop_duplicates()
    n_docs = np.bincount(fd["f"].to_numpy(), minlength=len(f_uniq))
    keep = n_docs >= min_docs
    d = d[keep[d["f"].to_numpy()]]
    if d.empty:
        return CorpusNames({}, {})
    votes = (d.groupby(["f", "l"]).size().rename("n").reset_index()
             .sort_values(["f", "n"], ascending=[True, False], kind="stable"))
    rank = votes.groupby("f").cumcount().to_numpy()
    best = votes[rank == 0].set_index("f")
    second = votes[rank == 1].set_index("f")["n"]  # the runner-up label's votes
    agreed = np.ones(len(f_uniq), dtype=bool)
    agreed[second.index[second.to_numpy() >= best.loc[second.index, "n"].to_numpy()]] = False
    fd = fd[keep[fd["f"].to_numpy()]].sort_values(["f", "d"])
    f_sorted, d_sorted = fd["f"].to_numpy(), fd["d"].to_numpy()
    cuts = np.flatnonzero(np.diff(f_sorted)) + 1
    forms_obj, labels_obj = np.asarray(f_uniq, dtype=object), np.asarray(l_uniq, dtype=object)
    best_label = dict(zip(best.index.tolist(), labels_obj[best["l"].to_numpy()].tolist()))
    labels: dict[str, str] = {}
    out_docs: dict[str, frozenset[str]] = {}
    for f, codes in zip(f_sorted[np.r_[0, cuts]].tolist(), np.split(d_sorted, cuts)):  # forms in order
        if agreed[f]:
            labels[forms_obj[f]] = best_label[f]
            out_docs[forms_obj[f]] = frozenset(doc_str[codes].tolist())
    return CorpusNames(labels, out_docs)
