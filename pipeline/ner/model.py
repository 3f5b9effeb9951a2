"""NER model selection and tagging. The only module where spaCy Docs exist.

``NerTagger.from_config(cfg.ner)`` loads the model once: ``"bundled"`` (shipped in the
package), the name of an installed spaCy package (``de_core_news_sm``) or a path. Only
the components NER needs run, plus a rule-based sentencizer for ``sentence_index``.
"""

from __future__ import annotations

import bisect
import logging
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

from ..config import NerConfig
from ..errors import ModelNotFoundError
from .cpu import Gemm, use_cpu_ops
from .decode import vectorise_ner
from .dedup import dedup_embeddings, embedding_cache
from .encode import fuse_encoder
from .floret import fast_static_vectors
from .postprocess import (
    Span,
    Work,
    WorkLimitExceeded,
    bracket_abbreviations,
    compass_regions,
    complete_names,
    credit_lines,
    extend_surnames,
    drop_common_nouns,
    drop_sentence_adverbs,
    drop_unplaced_derivs,
    extend_particle_names,
    join_place_names,
    harmonize_labels,
    label_by_form,
    map_label,
    merge_person_fragments,
    part_prefix_candidates,
    person_titles,
    propagate,
    refine_spans,
    split_compound,
    split_roles,
    trim_spans,
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
    import spacy

    if spacy.util.is_package(name):
        return name, "package"
    if "/" in name or name.startswith("."):
        raise ModelNotFoundError(f"model path not found: {name}")
    raise ModelNotFoundError(
        f"spaCy model {name!r} is not installed. Install it with:\n"
        f"    python -m spacy download {name}\n"
        "or pass --model bundled (the default) or a path to a spaCy pipeline folder."
    )


def load_model(name: str = "bundled", *, gemm: Gemm = "numpy", blas_threads: int = 1,
               decoder: str = "vectorised", embed_cache_words: int = 50_000):
    """Load a spaCy pipeline with only NER, the tok2vec layers it listens to, and a
    sentencizer, on the CPU ops chosen by ``gemm``/``blas_threads`` (see ``cpu.py``).
    ``decoder="vectorised"`` decodes the entities of a batch at once where the model
    allows (``decode.py``), ``"spacy"`` keeps spaCy's loop. ``embed_cache_words``: the
    embedding rows kept across batches (``dedup.py``).
    Raises ModelNotFoundError with install instructions."""
    import spacy

    from . import lexicon  # registers the bundled model's lexicon feature layer

    target, source = _resolve(name)
    use_cpu_ops(gemm, blas_threads)
    # a model folder's lookups are read here, the lexicon's table as a plain dict (quick)
    lookups = Path(target) / "vocab" / "lookups.bin" if source != "package" else None
    if lookups is not None and not lookups.is_file():
        lookups = None
    try:
        nlp = spacy.load(target, exclude=["lookups"] if lookups is not None else [])
        if lookups is not None:
            lexicon.load_lookups(nlp.vocab, lookups)
    except Exception as exc:  # noqa: BLE001  a package or folder that is not a spaCy pipeline
        raise ModelNotFoundError(
            f"model {name!r} cannot be loaded as a spaCy pipeline ({type(exc).__name__}: "
            f"{str(exc).splitlines()[0] if str(exc) else ''}); pass --model bundled (the default), "
            "an installed spaCy model such as de_core_news_sm, or a pipeline folder") from None
    if "ner" not in nlp.pipe_names:
        raise ModelNotFoundError(f"model {name!r} has no 'ner' component (it has: {nlp.pipe_names})")
    needed = {"ner"}
    for pipe_name, proc in nlp.pipeline:
        listeners = getattr(proc, "listener_map", {})
        if "ner" in listeners:
            needed.add(pipe_name)
    nlp.select_pipes(enable=[n for n in nlp.pipe_names if n in needed])
    # each distinct word embedded once per batch, and not again while cached: the same vectors
    dedup_embeddings(nlp, embed_cache_words)
    fast_static_vectors(nlp)  # floret vectors looked up with numpy: the same vectors
    keep_tokenizations(nlp)  # more of a run's text spans tokenized once: the same tokens
    fuse_encoder(nlp)  # the window encoder in place, with numpy: the same vectors
    if decoder == "vectorised":
        vectorise_ner(nlp)  # all documents of a batch decoded at once: the same entities
    elif decoder != "spacy":
        raise ValueError(f"decoder must be 'vectorised' or 'spacy', not {decoder!r}")
    if "sentencizer" not in nlp.pipe_names:
        nlp.add_pipe("sentencizer", last=True)
    else:
        nlp.enable_pipe("sentencizer")
    nlp.meta["_source"] = source
    nlp.meta["_path"] = str(Path(nlp.path).resolve()) if nlp.path else str(target)
    return nlp


#: the text spans (between spaces) whose tokens spaCy's tokenizer keeps for their next
#: occurrence; spaCy stops adding at 10,000, a few news articles' worth. About 60 bytes a
#: span: at most about 6 MB a process.
TOKENIZER_CACHE_SPANS = 100_000


def keep_tokenizations(nlp) -> None:
    """Let the tokenizer remember up to :data:`TOKENIZER_CACHE_SPANS` spans instead of
    spaCy's 10,000 (its cache only ever grows to that size; its entries are what the
    affix rules gave, so the tokens are the same). On 850 Wikinews articles the tokenizer
    takes about a tenth less time (0.76-0.79 s against 0.86-0.91 s)."""
    tok = nlp.tokenizer
    if hasattr(tok, "max_cache_size"):
        tok.max_cache_size = max(int(tok.max_cache_size), TOKENIZER_CACHE_SPANS)


def _model_name(meta: dict) -> str:
    """A model's name as spaCy packages it: the language first ("de_news_ner")."""
    name = meta.get("name", "?")
    if meta.get("lang") and not name.startswith(meta["lang"] + "_"):
        name = f"{meta['lang']}_{name}"
    return name


def peek_model_info(name: str = "bundled") -> ModelInfo | None:
    """The :class:`ModelInfo` of a model folder (the bundled model or a path) read from its
    ``meta.json`` without loading it (a run whose workers load the model need not load it
    in the driver too); None for an installed package or a folder without NER labels in
    its meta, which must be loaded to be described. Raises ModelNotFoundError as loading
    would for a model that is missing."""
    import json
    from importlib.metadata import version

    target, source = _resolve(name)
    if source == "package":
        return None
    path = Path(target)
    try:
        meta = json.loads((path / "meta.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    labels = (meta.get("labels") or {}).get("ner")
    if not labels:
        return None
    return ModelInfo(name=_model_name(meta), version=str(meta.get("version", "?")), path=str(path.resolve()),
                     spacy_version=version("spacy"), labels=tuple(sorted(labels)), source=source)


def model_info(nlp) -> ModelInfo:
    import spacy

    meta = nlp.meta
    return ModelInfo(
        name=_model_name(meta),
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


#: a run of more than this many non-space characters gets a space inserted before the
#: model sees it: spaCy's tokenizer splits prefixes and suffixes off a run one at a time,
#: rescanning the rest each time, so its time grows with the square of the run (12,000
#: "=" took 35 s). Words, names and URLs are shorter and are never touched.
MAX_RUN_CHARS = 100
_LONG_RUN = re.compile(r"(?<!\S)\S{%d,}" % (MAX_RUN_CHARS + 1))
#: a text's work budget is ner.max_work_per_char times its length, but at least this
#: many characters' worth (short texts have fixed costs)
MIN_BUDGET_CHARS = 1000


def break_long_runs(text: str, max_run: int = MAX_RUN_CHARS) -> tuple[str, list[int]]:
    """``text`` with a space inserted into every run of more than ``max_run`` non-space
    characters, so that no piece of it is longer, cutting where a letter or digit meets
    something else if the run allows. Returns the new text and the ascending positions of
    the inserted spaces in it (``_back`` maps offsets into the new text back)."""
    if len(text) <= max_run:
        return text, []
    long_run = _LONG_RUN if max_run == MAX_RUN_CHARS else re.compile(r"(?<!\S)\S{%d,}" % (max_run + 1))
    parts: list[str] = []
    inserted: list[int] = []
    pos = 0
    for m in long_run.finditer(text):
        a, z = m.span()
        while z - a > max_run:
            cut = a + max_run
            for k in range(a + max_run, a + max_run // 2, -1):
                if not (text[k - 1].isalnum() and text[k].isalnum()):
                    cut = k
                    break
            parts.append(text[pos:cut])
            parts.append(" ")
            inserted.append(cut + len(inserted))
            pos = a = cut
    if not inserted:
        return text, []
    parts.append(text[pos:])
    return "".join(parts), inserted


def _back(inserted: list[int], x: int) -> int:
    """An offset into ``break_long_runs``'s text -> the offset into the text it was given."""
    return x - bisect.bisect_left(inserted, x) if inserted else x


@dataclass
class Tagged:
    """NER output for one text: spans in the text the model saw, and sentence starts.
    ``error`` says why a text was not tagged (its work budget ran out); its spans are then
    empty and it should be reported as an error document."""

    spans: list[tuple[int, int, str, str, int]]  # start, end, label, kind, sentence_index
    n_sentences: int
    error: str | None = None
    #: one entry per span: the role words right before a person span ("Grünen-Kandidatin",
    #: "Bundeskanzlerin"), else None (see ``postprocess.person_titles``)
    titles: list[str | None] = field(default_factory=list)
    #: where each sentence starts, in the text the model saw
    sent_starts: list[int] = field(default_factory=list)


@dataclass
class _Piece:
    """A tokenized piece of text ``index`` starting at ``offset`` in it."""

    index: int
    offset: int
    inserted: list[int]  # spaces break_long_runs inserted, as positions in doc.text
    doc: Any


class NerTagger:
    """Holds a loaded model; ``tag(texts)`` yields one :class:`Tagged` per text.

    Work per text is bounded and linear in its length: texts are cut into chunks of at
    most ``max_chunk_chars`` characters, long runs without spaces are broken for the
    tokenizer, and the tokenized chunks go to the model in batches of at most
    ``batch_tokens`` tokens (a chunk with more is cut finer), so memory depends on
    ``batch_tokens``, not on the length of a text or on ``batch_size``. Each text has a
    budget of ``max_work_per_char`` work units per character (characters tokenized,
    tokens tagged, steps of post-processing); a text that needs more gets
    :attr:`Tagged.error` and the others go on.
    """

    def __init__(self, nlp, cfg: NerConfig):
        self.nlp = nlp
        self.cfg = cfg
        self.info = model_info(nlp)

    @classmethod
    def from_config(cls, cfg: NerConfig) -> "NerTagger":
        return cls(load_model(cfg.model, gemm=cfg.gemm, blas_threads=cfg.blas_threads, decoder=cfg.decoder,
                              embed_cache_words=cfg.embed_cache_words), cfg)

    def budget(self, n_chars: int) -> int:
        """The work units a text of ``n_chars`` characters may use."""
        return int(self.cfg.max_work_per_char * max(n_chars, MIN_BUDGET_CHARS))

    def tag(self, texts: Sequence[str]) -> Iterator[Tagged]:
        # where the machine's BLAS could round a cached row differently from a fresh one,
        # the embedding cache serves one call (a run's batch) only (dedup.py)
        cache = embedding_cache(self.nlp)
        if cache is not None and not cache.across_calls:
            cache.clear()
        works = [Work(self.budget(len(t))) for t in texts]
        errors: list[str | None] = [None] * len(texts)
        results: list[list[tuple[int, int, str, str]]] = [[] for _ in texts]
        sent_starts: list[list[int]] = [[] for _ in texts]
        done = 0  # texts before this one are yielded
        for group in self._batches(texts, works, errors):
            # pieces come in text order: every text before the group's last is complete
            # once the group is tagged, and is yielded then (progress per document)
            last = group[-1].index
            group = [p for p in group if errors[p.index] is None]
            docs = self.nlp.pipe([p.doc for p in group], batch_size=max(1, len(group)))
            for piece, doc in zip(group, docs):
                i, offset, ins = piece.index, piece.offset, piece.inserted
                for sent in doc.sents:
                    if sent.text.strip():
                        sent_starts[i].append(offset + _back(ins, sent.start_char))
                for ent in doc.ents:
                    mapped = map_label(ent.label_)
                    if mapped is None:
                        continue
                    label, kind = mapped
                    if (kind == "deriv" and not self.cfg.derivs) or (kind == "part" and not self.cfg.parts):
                        continue
                    results[i].append((offset + _back(ins, ent.start_char), offset + _back(ins, ent.end_char),
                                       label, kind))
            for i in range(done, last):
                yield self._tagged(texts[i], results[i], sent_starts[i], works[i], errors[i])
                results[i], sent_starts[i] = [], []  # yielded: its spans need not stay
            done = max(done, last)
        for i in range(done, len(texts)):
            yield self._tagged(texts[i], results[i], sent_starts[i], works[i], errors[i])

    def _tagged(self, text: str, spans: list, sent_starts: list[int], work: Work, error: str | None) -> Tagged:
        """One text's result from the model's spans and sentence starts: the rules of
        :meth:`_postprocess` applied, or its error."""
        if error is None:
            try:
                spans = self._postprocess(text, spans, work)
            except WorkLimitExceeded as exc:
                error = self._budget_error(text, exc)
        if error is not None:
            return Tagged(spans=[], n_sentences=0, error=error)
        starts = sent_starts or [0]
        return Tagged(
            spans=[(s, e, lab, kind, _sentence_of(starts, s)) for s, e, lab, kind in spans],
            n_sentences=len(sent_starts),
            titles=person_titles(text, spans, is_title),
            sent_starts=list(starts),
        )

    def _budget_error(self, text: str, exc: WorkLimitExceeded) -> str:
        return (f"work budget exceeded: more than {exc.limit:,} work units for {len(text):,} characters "
                f"(ner.max_work_per_char = {self.cfg.max_work_per_char:g}); the text is unlike prose "
                "(e.g. long runs of symbols); raise ner.max_work_per_char to process it")

    def _batches(self, texts: Sequence[str], works: list[Work], errors: list[str | None]) -> Iterator[list[_Piece]]:
        """Pieces grouped into model batches of at most ``batch_tokens`` tokens and
        ``batch_size`` pieces, made lazily so that only one batch of Docs is alive."""
        group: list[_Piece] = []
        n_tokens = 0
        for piece in self._pieces(texts, works, errors):
            if group and (n_tokens + len(piece.doc) > self.cfg.batch_tokens or len(group) >= self.cfg.batch_size):
                yield group
                group, n_tokens = [], 0
            group.append(piece)
            n_tokens += len(piece.doc)
        if group:
            yield group

    def _pieces(self, texts: Sequence[str], works: list[Work], errors: list[str | None]) -> Iterator[_Piece]:
        for i, text in enumerate(texts):
            try:
                yield from self._text_pieces(i, text, works[i])
            except WorkLimitExceeded as exc:
                errors[i] = self._budget_error(text, exc)

    def _text_pieces(self, i: int, text: str, work: Work) -> Iterator[_Piece]:
        """Chunks of ``text``, tokenized; a chunk with more than ``batch_tokens`` tokens
        (dense text: symbols, markup) is cut into smaller chunks and tokenized again."""
        limit = self.cfg.batch_tokens
        todo = chunk_text(text, self.cfg.max_chunk_chars)[::-1]
        while todo:
            offset, chunk = todo.pop()
            model_text, inserted = break_long_runs(chunk)
            work.charge(len(model_text))
            doc = self.nlp.make_doc(model_text)
            if len(doc) > limit and len(chunk) > 1:
                max_chars = max(1, min(len(chunk) - 1, len(chunk) * limit * 9 // (10 * len(doc))))
                todo.extend((offset + o, c) for o, c in reversed(chunk_text(chunk, max_chars)))
                continue
            work.charge(len(doc))
            yield _Piece(i, offset, inserted, doc)

    def _postprocess(self, text: str, spans: list[Span], work: Work | None = None) -> list[Span]:
        work = work or Work()
        spans = refine_spans(text, sorted(set(spans)), is_title=is_title, country=is_country, work=work)
        if self.cfg.surnames:
            spans = split_roles(text, spans, is_title)
            spans = merge_person_fragments(text, spans, work)
        spans = complete_names(text, spans, work)
        spans = extend_particle_names(text, spans)
        spans = join_place_names(text, sorted(spans), joined_place_names(), work)
        if self.cfg.surnames:
            spans = extend_surnames(text, spans, is_title=is_title, country=is_country, work=work)
        spans = credit_lines(text, spans, is_place=is_known_place)
        spans = compass_regions(text, spans)
        spans = bracket_abbreviations(text, spans, _abbreviation_defines())
        if self.cfg.propagate:
            spans = propagate(text, spans, work)
            if self.cfg.parts:
                spans = part_prefix_candidates(text, spans, work)
        spans = label_by_form(text, spans, _abbreviation_defines(), is_country)
        spans = harmonize_labels(text, spans)
        spans = drop_common_nouns(text, spans)
        spans = drop_sentence_adverbs(text, spans)
        known = {text[s:e] for s, e, _, k in spans if k == "name"}
        out: list[Span] = []
        for span in spans:
            out.extend(split_compound(text, span, known, work, is_title, is_place_name))
        # strip whitespace and punctuation the model may have included at the edges
        clean = []
        for s, e, label, kind in out:
            while s < e and not text[s].isalnum():
                s += 1
            while e > s and not (text[e - 1].isalnum() or text[e - 1] in ".'"):
                e -= 1
            if e > s:
                clean.append((s, e, label, kind))
        clean = trim_spans(text, clean)
        if self.cfg.derivs_need_place:  # after the split: "römisch-katholischen"
            clean = drop_unplaced_derivs(text, clean, derives_from_place)
        return sorted(set(clean))


def _abbreviation_defines():
    from ..link.compare import abbreviation_defines

    return abbreviation_defines


@lru_cache(maxsize=1 << 16)
def is_title(token: str) -> bool:
    """A title or function word that is never part of a person's name (linker lexicon).
    Cached: the rules ask it for the same words again and again."""
    from ..link.keys import _is_title

    return _is_title(token)


def derives_from_place(word: str, place_names: Sequence[str]) -> bool:
    """Whether a lower-case derived adjective comes from a known place or one the
    document names (:func:`pipeline.link.aliases.derives_from_place`). What needs no
    document is cached by the word alone."""
    if _derives_from_known_place(word):
        return True
    if not place_names:
        return False
    from ..link.aliases import derives_from_place as derives, place_adjectives
    from ..link.keys import name_key

    return derives(word, place_adjectives(), [name_key(n, "LOC") for n in place_names])


@lru_cache(maxsize=1 << 16)
def _derives_from_known_place(word: str) -> bool:
    from ..link.aliases import derives_from_place as derives, place_adjectives

    return derives(word, place_adjectives())


@lru_cache(maxsize=1)
def joined_place_names():
    """A trie of the country and region names whose words a lower-case word joins
    ("Bosnien und Herzegowina", "Rio de Janeiro"), for :func:`postprocess.join_place_names`."""
    from ..link.aliases import area_names
    from .postprocess import _Trie

    return _Trie(n for n in set(area_names().values()) if re.search(r" [a-zäöüß]+ [A-ZÄÖÜ]", n))


@lru_cache(maxsize=1 << 16)
def is_place_name(form: str) -> bool:
    """A country, a region (top-level ISO 3166-2) or a place of the adjective table
    ("Europa", "Bayern", "Nahost" not): what the first element of a compound may name."""
    from ..link.aliases import area_names, countries
    from ..link.keys import name_key

    if form in _adjective_places():
        return True
    key = name_key(form, "LOC")
    # regions of fewer than five letters name too many first elements ("Mon", "Nord")
    return key in countries().by_key or (len(key) >= 5 and key in area_names())


@lru_cache(maxsize=1 << 12)
def is_known_place(form: str) -> bool:
    """A place name :func:`is_place_name` knows, or a city or region of the gazetteer."""
    from ..places import is_city_or_region

    return is_place_name(form) or is_city_or_region(form)


@lru_cache(maxsize=1)
def _adjective_places() -> frozenset[str]:
    from ..link.aliases import place_adjectives

    return frozenset(place_adjectives().table.values())


@lru_cache(maxsize=1 << 16)
def is_country(form: str) -> bool:
    """A country name in German (CLDR via the linker), or its genitive. Cached likewise."""
    from ..link.aliases import countries
    from ..link.keys import name_key

    table = countries().by_key
    if name_key(form, "LOC") in table:
        return True
    return len(form) > 3 and form.endswith("s") and name_key(form[:-1], "LOC") in table


def _sentence_of(starts: list[int], pos: int) -> int:
    return max(0, bisect.bisect_right(starts, pos) - 1)
