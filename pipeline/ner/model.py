"""NER model selection and tagging. The only module where spaCy Docs exist.

``NerTagger.from_config(cfg.ner)`` loads the model once: ``"bundled"`` (shipped in the
package), the name of an installed spaCy package (``de_core_news_sm``) or a path. Only
the components NER needs run, plus a rule-based sentencizer for ``sentence_index``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..config import NerConfig
from ..errors import ModelNotFoundError
from .cpu import Gemm, use_cpu_ops
from .postprocess import (
    Span,
    complete_names,
    harmonize_labels,
    map_label,
    part_prefix_candidates,
    propagate,
    refine_spans,
    split_compound,
)

log = logging.getLogger("pipeline")

BUNDLED_NAME = "de_news_ner"
MODELS_DIR = Path(__file__).resolve().parents[1] / "models"


def bundled_model_path() -> Path:
    return MODELS_DIR / BUNDLED_NAME


@dataclass(frozen=True)
class ModelInfo:
    """What `pipeline info` and the run manifest say about the active model."""

    name: str
    version: str
    path: str
    spacy_version: str
    labels: tuple[str, ...]
    source: str  # bundled | package | path


def _resolve(name: str) -> tuple[str | Path, str]:
    import spacy

    if name == "bundled":
        path = bundled_model_path()
        if not (path / "meta.json").exists():
            raise ModelNotFoundError(
                f"the bundled model is missing at {path}; rebuild it with `pipeline train` "
                "or choose another with --model"
            )
        return path, "bundled"
    as_path = Path(name).expanduser()
    if as_path.exists():
        if not (as_path / "config.cfg").exists():
            raise ModelNotFoundError(f"{as_path} is not a spaCy pipeline folder (no config.cfg)")
        return as_path, "path"
    if spacy.util.is_package(name):
        return name, "package"
    if "/" in name or name.startswith("."):
        raise ModelNotFoundError(f"model path not found: {name}")
    raise ModelNotFoundError(
        f"spaCy model {name!r} is not installed. Install it with:\n"
        f"    python -m spacy download {name}\n"
        "or pass --model bundled (the default) or a path to a spaCy pipeline folder."
    )


def load_model(name: str = "bundled", *, gemm: Gemm = "numpy", blas_threads: int = 1):
    """Load a spaCy pipeline with only NER, the tok2vec layers it listens to, and a
    sentencizer, on the CPU ops chosen by ``gemm``/``blas_threads`` (see ``cpu.py``).
    Raises ModelNotFoundError with install instructions."""
    import spacy

    from . import lexicon  # noqa: F401  registers the bundled model's lexicon feature layer

    target, source = _resolve(name)
    use_cpu_ops(gemm, blas_threads)
    nlp = spacy.load(target)
    if "ner" not in nlp.pipe_names:
        raise ModelNotFoundError(f"model {name!r} has no 'ner' component (it has: {nlp.pipe_names})")
    needed = {"ner"}
    for pipe_name, proc in nlp.pipeline:
        listeners = getattr(proc, "listener_map", {})
        if "ner" in listeners:
            needed.add(pipe_name)
    nlp.select_pipes(enable=[n for n in nlp.pipe_names if n in needed])
    if "sentencizer" not in nlp.pipe_names:
        nlp.add_pipe("sentencizer", last=True)
    else:
        nlp.enable_pipe("sentencizer")
    nlp.meta["_source"] = source
    nlp.meta["_path"] = str(Path(nlp.path).resolve()) if nlp.path else str(target)
    return nlp


def model_info(nlp) -> ModelInfo:
    import spacy

    meta = nlp.meta
    name = meta.get("name", "?")
    if meta.get("lang") and not name.startswith(meta["lang"] + "_"):
        name = f"{meta['lang']}_{name}"
    return ModelInfo(
        name=name,
        version=str(meta.get("version", "?")),
        path=meta.get("_path", ""),
        spacy_version=spacy.__version__,
        labels=tuple(sorted(nlp.get_pipe("ner").labels)),
        source=meta.get("_source", "?"),
    )


_BREAKS = [re.compile(r"\n\s*\n"), re.compile(r"\n"), re.compile(r"(?<=[.!?])\s+"), re.compile(r"\s+")]


def chunk_text(text: str, max_chars: int) -> list[tuple[int, str]]:
    """Cut ``text`` into ``(offset, chunk)`` pieces of at most ``max_chars`` characters,
    preferring paragraph, then line, then sentence, then word boundaries."""
    if len(text) <= max_chars:
        return [(0, text)]
    out: list[tuple[int, str]] = []
    pos = 0
    while pos < len(text):
        if len(text) - pos <= max_chars:
            out.append((pos, text[pos:]))
            break
        window = text[pos : pos + max_chars]
        cut = 0
        for pattern in _BREAKS:
            ends = [m.end() for m in pattern.finditer(window) if m.end() > max_chars // 4]
            if ends:
                cut = ends[-1]
                break
        if cut <= 0:
            cut = max_chars  # no whitespace at all: hard cut
        out.append((pos, text[pos : pos + cut]))
        pos += cut
    return out


@dataclass
class Tagged:
    """NER output for one text: spans in the text the model saw, and sentence starts."""

    spans: list[tuple[int, int, str, str, int]]  # start, end, label, kind, sentence_index
    n_sentences: int


class NerTagger:
    """Holds a loaded model; ``tag(texts)`` yields one :class:`Tagged` per text."""

    def __init__(self, nlp, cfg: NerConfig):
        self.nlp = nlp
        self.cfg = cfg
        self.info = model_info(nlp)

    @classmethod
    def from_config(cls, cfg: NerConfig) -> "NerTagger":
        return cls(load_model(cfg.model, gemm=cfg.gemm, blas_threads=cfg.blas_threads), cfg)

    def tag(self, texts: Sequence[str]) -> Iterator[Tagged]:
        pieces: list[tuple[int, int]] = []  # (text index, chunk offset)
        chunk_texts: list[str] = []
        for i, text in enumerate(texts):
            for offset, chunk in chunk_text(text, self.cfg.max_chunk_chars):
                pieces.append((i, offset))
                chunk_texts.append(chunk)
        results: list[list[tuple[int, int, str, str]]] = [[] for _ in texts]
        sent_starts: list[list[int]] = [[] for _ in texts]
        docs = self.nlp.pipe(chunk_texts, batch_size=self.cfg.batch_size)
        for (i, offset), doc in zip(pieces, docs):
            for sent in doc.sents:
                if sent.text.strip():
                    sent_starts[i].append(offset + sent.start_char)
            for ent in doc.ents:
                mapped = map_label(ent.label_)
                if mapped is None:
                    continue
                label, kind = mapped
                if (kind == "deriv" and not self.cfg.derivs) or (kind == "part" and not self.cfg.parts):
                    continue
                results[i].append((offset + ent.start_char, offset + ent.end_char, label, kind))
        for i, text in enumerate(texts):
            spans = self._postprocess(text, results[i])
            starts = sent_starts[i] or [0]
            yield Tagged(
                spans=[(s, e, lab, kind, _sentence_of(starts, s)) for s, e, lab, kind in spans],
                n_sentences=len(sent_starts[i]),
            )

    def _postprocess(self, text: str, spans: list[Span]) -> list[Span]:
        spans = refine_spans(text, sorted(set(spans)), is_title=is_title, country=is_country)
        spans = complete_names(text, spans)
        if self.cfg.propagate:
            spans = propagate(text, spans)
            if self.cfg.parts:
                spans = part_prefix_candidates(text, spans)
        spans = harmonize_labels(text, spans)
        known = {text[s:e] for s, e, _, k in spans if k == "name"}
        out: list[Span] = []
        for span in spans:
            out.extend(split_compound(text, span, known))
        # strip whitespace and punctuation the model may have included at the edges
        clean = []
        for s, e, label, kind in out:
            while s < e and not text[s].isalnum():
                s += 1
            while e > s and not (text[e - 1].isalnum() or text[e - 1] in ".'"):
                e -= 1
            if e > s:
                clean.append((s, e, label, kind))
        return sorted(set(clean))


def is_title(token: str) -> bool:
    """A title or function word that is never part of a person's name (linker lexicon)."""
    from ..link.keys import _is_title

    return _is_title(token)


def is_country(form: str) -> bool:
    """A country name in German (CLDR via the linker), or its genitive."""
    from ..link.aliases import countries
    from ..link.keys import name_key

    table = countries().by_key
    if name_key(form, "LOC") in table:
        return True
    return len(form) > 3 and form.endswith("s") and name_key(form[:-1], "LOC") in table


def _sentence_of(starts: list[int], pos: int) -> int:
    import bisect

    return max(0, bisect.bisect_right(starts, pos) - 1)
