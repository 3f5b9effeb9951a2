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

from .postprocess import _DETERMINERS, Work, _is_boundary, _preceding_word, _Trie, is_sentence_adverb

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

    def for_part(self, mentions: pd.DataFrame | Iterable[Mapping]) -> "CorpusNames":
        """These names with ``docs`` the documents of ``mentions`` (one part of a run's
        mentions, or all of them) in which the model found each form itself: what
        :meth:`find` needs to search those documents. Work in the part's mentions only:
        the names' search structure is built once and shared by every part's copy, and
        forms are looked up in the names, not the names hashed per part (a run's names
        grow with its size, so either would make the pass quadratic)."""
        if self._trie is None and self.labels:
            self._trie = _Trie(self.labels)
        f = _name_forms(mentions)
        known = self.labels
        docs: dict[str, set[str]] = {}
        for form, doc_id in zip(f["form"].tolist(), f["doc_id"].tolist()):
            if form in known:
                docs.setdefault(form, set()).add(str(doc_id))
        return CorpusNames(self.labels, {form: frozenset(ids) for form, ids in docs.items()}, self._trie)

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
            if doc_id is not None and doc_id in self.docs.get(form, ()):
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
            if self.labels[form] == "PER" and is_sentence_adverb(text, s, e):
                continue  # "Kurz nach Mitternacht"
            out.append((s, e, self.labels[form]))
        return out


def _name_forms(mentions: pd.DataFrame | Iterable[Mapping]) -> pd.DataFrame:
    """The mentions that may become corpus names, as (form, doc_id, label): ``name``
    mentions whose form (``norm_text`` where present and not empty, else ``text``)
    starts with a capital letter and has at least :data:`MIN_CHARS` characters (two for
    an all-caps acronym). Column operations, no Python work per mention."""
    df = mentions if isinstance(mentions, pd.DataFrame) else pd.DataFrame(list(mentions))
    if df.empty or "text" not in df.columns:
        return pd.DataFrame({"form": pd.Series([], dtype=object), "doc_id": pd.Series([], dtype=object),
                             "label": pd.Series([], dtype=object), "initial": pd.Series([], dtype=bool)})
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
    # the first word of its sentence (the sentence may start with a line break or a quote)
    if "start_char" in df.columns and "sentence_start" in df.columns:
        lead = (pd.to_numeric(df["start_char"], errors="coerce")
                - pd.to_numeric(df["sentence_start"], errors="coerce")).to_numpy(dtype="float64", na_value=np.nan)
        initial = (lead >= 0) & (lead <= _LEAD_CHARS)
    else:
        initial = np.zeros(len(df), dtype=bool)
    return pd.DataFrame({"form": form[ok].astype(object).to_numpy(), "doc_id": df["doc_id"][ok].to_numpy(),
                         "label": df["label"][ok].astype(object).to_numpy(), "initial": initial[ok]})


#: characters a sentence may hold before its first word (line breaks, a quotation mark)
_LEAD_CHARS = 3


def corpus_votes(mentions: pd.DataFrame | Iterable[Mapping]) -> pd.DataFrame:
    """The documents per name form and label of a run's mentions, or of one part of
    them: a row per (form, label) with ``n`` (documents giving the form that label), plus
    a row per form with ``n`` its documents whatever the label. Forms in
    order of first mention. A document lies in one part, so the votes of the parts
    summed (:func:`names_from_votes`) are those of the whole run. ``total`` marks the
    per-form rows."""
    f = _name_forms(mentions)
    d = f[["form", "doc_id", "label"]].drop_duplicates()
    votes = d.groupby(["form", "label"], sort=False, dropna=False).size().rename("n").reset_index()
    totals = (d[["form", "doc_id"]].drop_duplicates().groupby("form", sort=False).size()
              .rename("n").reset_index().assign(label=None, total=True))
    # the documents where the form stands inside a sentence, not only as its first word
    mid = f.loc[~f["initial"].to_numpy(dtype=bool), ["form", "doc_id"]].drop_duplicates().groupby("form").size()
    totals["mid"] = totals["form"].map(mid).fillna(0).astype("int64")
    votes = votes.assign(total=False, mid=0)
    return pd.concat([totals, votes], ignore_index=True)[["form", "label", "n", "total", "mid"]]


def names_from_votes(parts_votes: Iterable[pd.DataFrame], min_docs: int = 2) -> CorpusNames:
    """Corpus names from the :func:`corpus_votes` of a run's mention parts (in part
    order): every form found in at least ``min_docs`` documents, with the label a strict
    majority of its documents give it (a form whose documents disagree is left out).
    The names' ``docs`` are empty: :meth:`CorpusNames.for_part` adds those of a part."""
    v = [p for p in parts_votes if len(p)]
    if not v:
        return CorpusNames({}, {})
    v = pd.concat(v, ignore_index=True)
    form_order = pd.unique(v["form"].to_numpy(dtype=object))
    is_total = v["total"].to_numpy(dtype=bool)
    total = v[is_total].groupby("form", sort=False)["n"].sum()
    keep = total[total >= min_docs]
    # a one-word form the model found only as the first word of sentences, never inside
    # one, is an adverb it misread there as a person ("Unterdessen"), not spread further
    if "mid" in v.columns:
        mid = v[is_total].groupby("form", sort=False)["mid"].sum()
        first_only = set(mid.index[(mid.to_numpy() == 0)]) & {f for f in keep.index if " " not in f}
    else:
        first_only = set()
    lv = v[~is_total & v["form"].isin(keep.index)]
    if lv.empty:
        return CorpusNames({}, {})
    lv = lv.groupby(["form", "label"], sort=False, dropna=False)["n"].sum().reset_index()
    lv = lv.sort_values(["form", "n"], ascending=[True, False], kind="stable")
    rank = lv.groupby("form", sort=False).cumcount().to_numpy()
    best = lv[rank == 0].set_index("form")
    second = lv[rank == 1].set_index("form")["n"]
    tied = set(second.index[second.to_numpy() >= best.loc[second.index, "n"].to_numpy()].tolist())
    best_label = best["label"].to_dict()
    labels = {f: best_label[f] for f in form_order if f in best_label and f not in tied
              and not (f in first_only and best_label[f] == "PER")}
    return CorpusNames(labels, {})


def build_corpus_names(mentions: pd.DataFrame | Iterable[Mapping], min_docs: int = 2) -> CorpusNames:
    """Corpus names from a run's mentions (a table, or mappings, with ``text``,
    ``label``, ``kind``, ``doc_id`` and optionally ``norm_text``, the form the model
    saw, used where present and not empty): every ``name`` form that starts with a
    capital letter, found in at least ``min_docs`` documents, with its majority label
    over documents (one vote per document and label). A form whose documents disagree
    (no label has a strict majority) is left out, as are forms shorter than
    :data:`MIN_CHARS` (two-letter all-caps acronyms excepted). Column operations and
    group counts over the table, no Python work per mention (a run's mentions can be
    millions). The same as :func:`names_from_votes` over the votes of its parts, with
    the documents of every mention."""
    df = mentions if isinstance(mentions, pd.DataFrame) else pd.DataFrame(list(mentions))
    return names_from_votes([corpus_votes(df)], min_docs).for_part(df)
