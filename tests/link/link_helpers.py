"""Helpers of the linker tests: a LinkConfig and a tiny mentions-frame builder."""

from __future__ import annotations

import pandas as pd

from pipeline.config import LinkConfig


def make_cfg(**over) -> LinkConfig:
    base = dict(cross_document=True, link_derivs=True, country_aliases=True, abbreviations=True,
                aliases_file="", fuzzy_threshold=92, previous_entities="")
    base.update(over)
    return LinkConfig(**base)


def mentions(*docs: tuple[str, list]) -> pd.DataFrame:
    """docs: (doc_id, [text | (text, label) | (text, label, kind) | (text, label, kind, next)])."""
    rows = []
    for doc, items in docs:
        pos = 0
        for i, it in enumerate(items):
            it = (it,) if isinstance(it, str) else tuple(it)
            text = it[0]
            label = it[1] if len(it) > 1 else "PER"
            kind = it[2] if len(it) > 2 else "name"
            nxt = it[3] if len(it) > 3 else " "
            rows.append(dict(mention_id=f"{doc}#{i}", doc_id=doc, sentence_index=0, start_char=pos,
                             end_char=pos + len(text), text=text, label=label, kind=kind,
                             next_chars=nxt))
            pos += len(text) + (2 if nxt.startswith(" (") else len(nxt))
    return pd.DataFrame(rows)


def by_text(linked: pd.DataFrame) -> dict[str, set[str]]:
    """surface text -> set of entity ids it received."""
    out: dict[str, set[str]] = {}
    for t, e in zip(linked["text"], linked["entity_id"]):
        out.setdefault(t, set()).add(e)
    return out


def same(linked: pd.DataFrame, *texts: str) -> bool:
    ids = set()
    for t in texts:
        ids |= set(linked.loc[linked["text"] == t, "entity_id"])
    return len(ids) == 1
