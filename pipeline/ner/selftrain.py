"""Self-training for `pipeline train`: teacher models label raw news-like text, and the
spans a majority of them agree on become extra (silver) training data for the model
that ships.

The teachers are trained on the gold corpora alone, each with its own spaCy config and
seed (``[selftrain] teachers`` in ``configs/train.toml``). On every raw sentence a span
(start, end, label) that at least ``min_votes`` teachers predict is an entity; a token
that no teacher puts in any entity is outside (O); a token that some teacher puts in a
span the majority does not back is *missing*: spaCy's NER learns nothing about it, so
a disputed name is neither taught as an entity nor as O.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

from ..errors import ConfigError, InputError

log = logging.getLogger("pipeline")

SpanKey = tuple[int, int, str]


def silver_lines(sources: Iterable[dict[str, Any]], data_dir: Path, min_words: int) -> Iterator[str]:
    """Raw lines of each source with at least ``min_words`` whitespace-separated words;
    ``max_lines`` (0 = all) counts the lines kept."""
    from .train import _raw_lines

    for src in sources:
        path = data_dir / src["path"]
        if not path.exists():
            raise InputError(f"self-training text not found: {path} (set --data to the corpora folder)")
        limit, kept = int(src.get("max_lines", 0)), 0
        for line in _raw_lines(path, 0):
            if len(line.split()) < min_words:
                continue
            yield line
            kept += 1
            if limit and kept >= limit:
                break


def vote(predictions: Sequence[set[SpanKey]], n_tokens: int, min_votes: int
         ) -> tuple[list[SpanKey], list[int], list[int]]:
    """Combine the teachers' spans of one sentence.

    Returns (entities, outside token indices, missing token indices): the spans backed
    by ``min_votes`` teachers or more; the tokens no teacher puts in any span; the other
    tokens that no backed span covers.
    """
    counts = Counter(span for spans in predictions for span in spans)
    # backed spans can overlap when min_votes is half the teachers or fewer: the one
    # with more votes wins, then the longer, then the earlier; the rest become missing
    backed = sorted((span for span, n in counts.items() if n >= min_votes),
                    key=lambda s: (-counts[s], s[0] - s[1], s))
    taken: set[int] = set()
    kept: list[SpanKey] = []
    for start, end, label in backed:
        if taken.isdisjoint(range(start, end)):
            kept.append((start, end, label))
            taken.update(range(start, end))
    kept.sort()
    touched = {i for span in counts for i in range(span[0], span[1])}
    outside = [i for i in range(n_tokens) if i not in touched]
    missing = sorted(touched - taken)
    return kept, outside, missing


def build_silver(teacher_dirs: Sequence[Path], lines: Sequence[str], out: Path, *,
                 min_votes: int, batch_size: int = 256) -> dict[str, int]:
    """Label ``lines`` with every teacher, vote, and write a DocBin to ``out`` (one
    sentence per Doc; disputed tokens stored as missing NER annotation)."""
    import spacy
    from spacy.tokens import DocBin, Span

    if not 1 <= min_votes <= len(teacher_dirs):
        raise ConfigError(f"[selftrain] min_votes must be between 1 and the number of teachers "
                          f"({len(teacher_dirs)}), not {min_votes}")
    make_doc = spacy.load(teacher_dirs[0]).make_doc
    docs = [make_doc(text) for text in lines]
    predictions: list[list[set[SpanKey]]] = []
    for path in teacher_dirs:
        nlp = spacy.load(path)
        predictions.append([{(e.start, e.end, e.label_) for e in doc.ents}
                            for doc in nlp.pipe((make_doc(t) for t in lines), batch_size=batch_size)])
    db = DocBin(attrs=["ORTH", "SENT_START", "ENT_IOB", "ENT_TYPE"], store_user_data=False)
    stats = {"sentences": 0, "tokens": 0, "entities": 0, "missing_tokens": 0}
    for i, doc in enumerate(docs):
        ents, outside, missing = vote([p[i] for p in predictions], len(doc), min_votes)
        doc.set_ents([Span(doc, s, e, label=lab) for s, e, lab in ents],
                     missing=[doc[j:j + 1] for j in missing], outside=[doc[j:j + 1] for j in outside])
        for j, token in enumerate(doc):
            token.is_sent_start = j == 0
        db.add(doc)
        stats["sentences"] += 1
        stats["tokens"] += len(doc)
        stats["entities"] += len(ents)
        stats["missing_tokens"] += len(missing)
    out.parent.mkdir(parents=True, exist_ok=True)
    db.to_disk(out)
    return stats


def teacher_key(config_path: Path, seed: int, inputs: Iterable[Path | None],
                overrides: dict[str, Any]) -> str:
    """A cache key for a teacher: its spaCy config, seed, config overrides (step
    limits, ...) and the bytes of its inputs (training DocBin, lexicon, vectors), so that
    a changed recipe never reuses a stale teacher."""
    h = hashlib.sha256()
    h.update(Path(config_path).read_bytes())
    h.update(json.dumps({"seed": seed, "overrides": overrides}, sort_keys=True, default=str).encode())
    for path in inputs:
        if path is not None and Path(path).exists():
            h.update(Path(path).read_bytes())
    return h.hexdigest()[:12]


__all__ = ["silver_lines", "vote", "build_silver", "teacher_key"]
