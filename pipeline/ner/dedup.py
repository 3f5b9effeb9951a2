"""Embed each distinct word of a batch once.

The embedding layer of a spaCy ``Tok2Vec`` built from ``MultiHashEmbed`` (spaCy's, and
the bundled model's variant with lexicon classes and longer affixes) is a function of
the token alone: hashed lexical attributes (NORM, PREFIX, SUFFIX, SHAPE, the lexicon
class, affixes), the static vector of its ORTH, then a Maxout with layer normalisation
applied to each row. The context only enters in the encoder that follows. A batch of
news text (10,000 tokens) has about a third as many distinct (ORTH, NORM) pairs as
tokens, so at inference :func:`dedup_embeddings` runs the embedding layer on one
made-up document of the batch's distinct words and gathers the rows back: the same
numbers (each row is computed by the same operations; ``tests/test_ner_model.py``
checks the vectors and entities against the plain layer), about a third of the work.

Across batches, the rows of the words already embedded are kept in a bounded cache
(:class:`EmbeddingCache`, ``ner.embed_cache_words`` rows, emptied when full): news
vocabulary is Zipfian, so after the first batches most words of a batch are cached and
only the new ones are embedded. A row does not depend on the other rows it is computed
with, provided the matrix multiply sees enough rows (OpenBLAS takes another kernel, which
rounds differently, for a handful of rows), so the new words are embedded at least
``MIN_ROWS`` at a time: the output of a batch is then the same whatever the worker
embedded before (``tests/test_ner_model.py``), and runs with any number of workers
give the same tables. Because that is a property of the machine's BLAS, it is checked
when the model loads (:func:`_rows_independent`); where it fails, the tagger empties the
cache at each call (a run's batch), which keeps a batch's vectors a function of the
batch alone.

Training is untouched: the wrapper calls the original layer whenever ``is_train``.
"""

from __future__ import annotations

import logging

import numpy

log = logging.getLogger("pipeline")

#: embedding layers whose rows depend on their own token only (spaCy's MultiHashEmbed
#: and the bundled de_news.MultiHashEmbedLexicon.v1 both start with a feature extractor)
_PER_TOKEN_PREFIXES = ("extract_features>>", "extract_features_lexicon>>")


#: new words are embedded at least this many rows at a time (padded with repeats)
MIN_ROWS = 64


class EmbeddingCache:
    """Embedding rows by (ORTH, NORM), at most ``capacity`` of them; emptied when a batch's
    new words would not fit (memory stays bounded whatever the corpus)."""

    def __init__(self, capacity: int, across_calls: bool = False):
        self.capacity = capacity
        #: whether the rows may serve later calls of the tagger (later batches of a run):
        #: only where the machine's matrix multiply gives a row the same numbers whatever
        #: rows it is computed with (checked when the model loads: :func:`_rows_independent`)
        self.across_calls = across_calls
        self.index: dict[tuple[int, int], int] = {}
        self.rows: numpy.ndarray | None = None

    def __len__(self) -> int:
        return len(self.index)

    def lookup(self, keys: list[tuple[int, int]]) -> numpy.ndarray:
        """The row of each key in :attr:`rows`, -1 where it is not cached."""
        get = self.index.get
        return numpy.fromiter((get(k, -1) for k in keys), dtype=numpy.int64, count=len(keys))

    def clear(self) -> None:
        self.index.clear()

    def make_room(self, n: int) -> None:
        """Empty the cache unless ``n`` more rows fit."""
        if len(self.index) + n > self.capacity:
            self.clear()

    def add(self, keys: list[tuple[int, int]], rows: numpy.ndarray) -> numpy.ndarray:
        """Store ``rows``, one per key not cached yet (after ``make_room``); returns
        their positions in :attr:`rows`."""
        start, end = len(self.index), len(self.index) + len(keys)
        if end > self.capacity:
            raise ValueError(f"{len(keys)} rows do not fit in the cache; call make_room first")
        if self.rows is None or end > len(self.rows):
            size = min(self.capacity, max(end, 2 * (0 if self.rows is None else len(self.rows))))
            grown = numpy.empty((size, rows.shape[1]), dtype=rows.dtype)
            if self.rows is not None:
                grown[:start] = self.rows[:start]
            self.rows = grown
        self.rows[start:end] = rows
        self.index.update(zip(keys, range(start, end)))
        return numpy.arange(start, end)


def dedup_embeddings(nlp, cache_words: int = 50_000) -> bool:
    """Wrap the per-token embedding layer of ``nlp``'s ``tok2vec`` so that inference
    embeds each distinct (ORTH, NORM) of a batch once, and keeps the rows of up to
    ``cache_words`` words for the next batches (0: no cache). Returns whether it was
    wrapped (a pipeline without such a layer is left as it is)."""
    if "tok2vec" not in nlp.pipe_names:
        return False
    model = nlp.get_pipe("tok2vec").model
    if not model.layers:
        return False
    embed = model.layers[0]
    if embed.name.startswith("dedup("):
        return True
    if not embed.name.startswith(_PER_TOKEN_PREFIXES) or not embed.name.endswith("ragged2list"):
        return False
    cache = EmbeddingCache(cache_words, across_calls=cache_words > 0 and _rows_independent(embed, nlp.vocab))
    model.layers[0] = _wrap(embed, cache)
    return True


def _rows_independent(embed, vocab) -> bool:
    """Whether ``embed`` gives words the same rows, bit for bit, computed among other
    words at other positions, for MIN_ROWS rows and more (each new set of words is
    embedded at least MIN_ROWS at a time). True with OpenBLAS and BLIS on the machines
    measured (a handful of rows does differ); where it is not, the cache serves one call
    of the tagger (one batch) only, so that a batch's vectors never depend on what the
    process tagged before."""
    from spacy.tokens import Doc

    words = [f"Wort{i}" for i in range(3 * MIN_ROWS)] + ["Berlin", "Angela", "Merkel", "und", ",", ".", "3"]
    whole = embed.predict([Doc(vocab, words=words)])[0]
    for start, n in ((0, MIN_ROWS), (37, MIN_ROWS + 9), (len(words) - MIN_ROWS, MIN_ROWS), (11, 2 * MIN_ROWS + 5)):
        part = embed.predict([Doc(vocab, words=words[start:start + n])])[0]
        if not numpy.array_equal(part, whole[start:start + n]):
            log.info("embedding rows depend on the rows computed with them here: the embedding "
                     "cache serves one batch at a time")
            return False
    return True


def embedding_cache(nlp) -> EmbeddingCache | None:
    """The embedding cache of ``nlp``'s wrapped tok2vec, if any (None for anything that is
    not such a pipeline). It lives in the wrapper layer's attrs, so it goes with the model."""
    if "tok2vec" not in getattr(nlp, "pipe_names", ()):
        return None
    layers = nlp.get_pipe("tok2vec").model.layers
    return layers[0].attrs.get(_CACHE_ATTR) if layers else None


_CACHE_ATTR = "embedding_cache"


def _register_cache_serializers() -> None:
    """A cache is saved as its settings, not its rows (thinc serialises model attrs).
    Registered when a model is wrapped, so that importing this module imports no thinc."""
    import srsly
    from thinc.api import deserialize_attr, serialize_attr

    @serialize_attr.register(EmbeddingCache)
    def _serialize(_, value: EmbeddingCache, name: str, model) -> bytes:
        return srsly.msgpack_dumps({"capacity": value.capacity, "across_calls": value.across_calls})

    @deserialize_attr.register(EmbeddingCache)
    def _deserialize(_, value: bytes, name: str, model) -> EmbeddingCache:
        return EmbeddingCache(**srsly.msgpack_loads(value))


def _unique_pairs(pairs: numpy.ndarray) -> tuple[numpy.ndarray, numpy.ndarray]:
    """The distinct rows of an (n, 2) array, sorted, and the position of each row among
    them: ``numpy.unique(pairs, axis=0, return_inverse=True)``, in numeric order, by one
    sort on both columns (``unique`` sorts the rows as 16-byte strings: five times slower
    on a batch's 35,000 tokens)."""
    order = numpy.lexsort((pairs[:, 1], pairs[:, 0]))
    ordered = pairs[order]
    first = numpy.ones(len(ordered), dtype=bool)
    first[1:] = (ordered[1:, 0] != ordered[:-1, 0]) | (ordered[1:, 1] != ordered[:-1, 1])
    inverse = numpy.empty(len(ordered), dtype=numpy.intp)
    inverse[order] = numpy.cumsum(first) - 1
    return ordered[first], inverse


def _wrap(embed, cache: EmbeddingCache):
    from spacy.attrs import NORM, ORTH
    from spacy.tokens import Doc
    from thinc.api import Model

    _register_cache_serializers()

    def embed_words(vocab, pairs: numpy.ndarray) -> numpy.ndarray:
        """The embedding rows of (ORTH, NORM) pairs, computed on one made-up document of
        at least MIN_ROWS words."""
        n = len(pairs)
        if n < MIN_ROWS:
            pairs = pairs[numpy.arange(MIN_ROWS) % n]
        words = [vocab.strings[o] for o in pairs[:, 0].tolist()]  # a token's text is its ORTH
        made_up = Doc(vocab, words=words, spaces=[False] * len(words))
        for tok, norm in zip(made_up, pairs[:, 1].tolist()):
            if tok.norm != norm:
                tok.norm_ = vocab.strings[norm]
        return embed.predict([made_up])[0][:n]

    def forward(model, docs, is_train: bool):
        if is_train or not docs:
            return embed(docs, is_train)
        keys = [doc.to_array([ORTH, NORM]).reshape(-1, 2) for doc in docs]
        flat = numpy.concatenate(keys) if keys else numpy.zeros((0, 2), dtype="uint64")
        if len(flat) == 0:
            return embed(docs, is_train)
        uniq, inverse = _unique_pairs(flat)
        vocab = docs[0].vocab
        cache = model.attrs[_CACHE_ATTR]  # not a closure: a deserialised model gets a new one
        if len(uniq) > cache.capacity:  # no cache, or more words than it holds
            rows = embed_words(vocab, uniq)
        else:
            cache.make_room(len(uniq))
            pairs = list(zip(*uniq.T.tolist()))
            where = cache.lookup(pairs)
            new = numpy.flatnonzero(where < 0)
            if len(new):
                where[new] = cache.add([pairs[i] for i in new.tolist()], embed_words(vocab, uniq[new]))
            rows = cache.rows[where]
        out, start = [], 0
        for k in keys:
            out.append(rows[inverse[start:start + len(k)]])
            start += len(k)
        return out, lambda d_out: []

    return Model(f"dedup({embed.name})", forward, layers=[embed], attrs={_CACHE_ATTR: cache},
                 dims={"nO": embed.get_dim("nO")} if embed.has_dim("nO") else {})


__all__ = ["EmbeddingCache", "dedup_embeddings", "embedding_cache"]
