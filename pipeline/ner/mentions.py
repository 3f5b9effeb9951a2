"""Mention rows from tagged spans, and the corpus-level second pass over a run's
documents.

The tagger gives spans in the normalised text the model saw; :func:`mention_row` maps
one back to the original text (``pipeline.normalize.to_original``) and adds what the
linker needs besides the output columns: ``next_chars`` (to find "Name (ABBR)"
definitions), ``prev_chars`` (the article before a name: "der Deutsche Bundestag" gives
the gender its canonical name is inflected for) and ``norm_text`` (the span as the model
saw it). :func:`corpus_part` runs
:mod:`pipeline.ner.corpus_pass` over one part of a run's documents
(:func:`pipeline.finish.corpus_pass_parts` over all of them).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from .. import schemas
from ..config import Config
from ..normalize import normalize_text, to_original

#: characters after a mention kept for the linker ("Name (ABBR)")
NEXT_CHARS = 4
#: characters before a mention kept for the linker (an article and a quotation mark: "der „")
PREV_CHARS = 6


def mention_row(doc_id: str, text: str, norm, start: int, end: int, label: str, kind: str, sent: int,
                 n: int, title: str | None = None) -> dict[str, Any] | None:
    """One mention row from a span in normalised offsets; None when it maps to nothing."""
    ostart, oend = to_original(norm, start, end)
    surface = text[ostart:oend]
    if oend <= ostart or not surface.strip():
        return None
    return {
        "mention_id": f"{doc_id}#{n:04d}", "doc_id": doc_id, "sentence_index": sent,
        "start_char": ostart, "end_char": oend, "text": surface, "label": label, "kind": kind,
        "title": (title.strip(" ,;:.") or None) if title else None,
        "next_chars": text[oend : oend + NEXT_CHARS],
        "prev_chars": text[max(0, ostart - PREV_CHARS) : ostart],
        # what the model saw: mojibake repaired, entities unescaped, tags and invisible
        # characters gone; the linker keys names on this form
        "norm_text": norm.text[start:end],
    }


def sentence_bounds(norm, starts: list[int]) -> list[tuple[int, int]]:
    """Each sentence as (start, end) offsets into the original text, from the sentence
    starts the tagger found in the text it saw (whitespace at the edges left out)."""
    n = len(norm.text)
    out = []
    for k, a in enumerate(starts):
        b = starts[k + 1] if k + 1 < len(starts) else n
        while b > a and norm.text[b - 1].isspace():
            b -= 1
        out.append(to_original(norm, a, b) if b > a else to_original(norm, a, a))
    return out


def mention_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """The mentions table of mention rows, with the linker's three extra columns."""
    mentions = schemas.conform(pd.DataFrame(rows), "mentions")
    mentions["next_chars"] = [r["next_chars"] for r in rows]
    mentions["prev_chars"] = [r["prev_chars"] for r in rows]
    mentions["norm_text"] = [r["norm_text"] for r in rows]
    return mentions


def corpus_part(docs: pd.DataFrame, mentions: pd.DataFrame, names, cfg: Config
                ) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """The corpus pass over one part of the documents (``doc_id``, ``status``, ``text``)
    whose mentions are ``mentions``: the new mention rows, and the new mention count of
    each document that gained some."""
    from ..read import _DATE_RE

    groups = mentions.groupby("doc_id", sort=False).indices
    # the columns as arrays once: indexing the frame per document costs more than the search
    start_all = mentions["start_char"].to_numpy(dtype="int64")
    end_all = mentions["end_char"].to_numpy(dtype="int64")
    sent_all = mentions["sentence_index"].to_numpy(dtype="int64")
    sent_start_all = mentions["sentence_start"].to_numpy(dtype="float64", na_value=np.nan)
    sent_end_all = mentions["sentence_end"].to_numpy(dtype="float64", na_value=np.nan)
    none = np.zeros(0, dtype="int64")
    added: list[dict[str, Any]] = []
    counts: dict[str, int] = {}
    for doc_id, status, text in zip(docs["doc_id"], docs["status"], docs["text"]):
        if status != "ok":
            continue
        hidden = []
        m = _DATE_RE.match(text) if cfg.input.date_line else None
        if m:
            hidden = [m.span(1)]
        norm = normalize_text(text, cfg.normalize, html=cfg.input.html, hidden_spans=hidden)
        idx = groups.get(doc_id, none)
        starts, ends = start_all[idx], end_all[idx]
        offs = np.asarray(norm.offsets)
        spans = list(zip(np.searchsorted(offs, starts, "left"), np.searchsorted(offs, ends, "left")))
        found = names.find(norm.text, spans, doc_id=doc_id)
        if not found:
            continue
        sents, sent_starts, sent_ends = sent_all[idx], sent_start_all[idx], sent_end_all[idx]
        n = n_before = len(idx)
        for s, e, label in found:
            row = mention_row(doc_id, text, norm, s, e, label, "name", 0, n + 1)
            if row is None:
                continue
            # the sentence of the nearest mention before it, or of the one after it where
            # that sentence holds it (the tagger's sentences are not kept)
            k = int(np.searchsorted(starts, row["start_char"], "right")) - 1  # -1: none before
            row["sentence_index"] = int(sents[k]) if k >= 0 else 0
            if k >= 0 and not np.isnan(sent_ends[k]) and row["end_char"] <= sent_ends[k]:
                row["sentence_start"] = int(sent_starts[k])
                row["sentence_end"] = int(sent_ends[k])
            elif (k + 1 < n_before and not np.isnan(sent_starts[k + 1])
                  and sent_starts[k + 1] <= row["start_char"] and row["end_char"] <= sent_ends[k + 1]):
                row["sentence_index"] = int(sents[k + 1])
                row["sentence_start"] = int(sent_starts[k + 1])
                row["sentence_end"] = int(sent_ends[k + 1])
            n += 1
            added.append(row)
        counts[doc_id] = n
    return added, counts
