"""spaCy's floret vectors looked up for a batch of words with whole-array operations.

A floret table (``Vectors`` in ``floret`` mode: the bundled model's static vectors) gives
a word the mean of the rows its character n-grams hash to: the word itself padded with
``bow``/``eow`` ("<Berlin>"), then each of its n-grams of ``minn`` to ``maxn`` characters,
each hashed ``hash_count`` times by MurmurHash3_x64_128 of its UTF-8 bytes.
``Vectors.get_batch`` builds these n-grams and hashes them one by one in Python: about
35 hash calls per word, the larger part of embedding a word the first time it is seen
(every word of a worker's first batches). :func:`floret_rows` computes the same row
numbers with numpy, the n-grams of all the words at once and the hash over all n-grams
of one byte length at a time; :func:`get_batch` then takes their mean with the same
``ops.reduce_mean`` over the same rows in the same order, so the vectors are bit for bit
``Vectors.get_batch``'s (``tests/test_ner_model.py`` checks the rows against spaCy's
hashes on words of every script and length).

:func:`fast_static_vectors` wraps the ``static_vectors`` layers of a pipeline's
``tok2vec`` so that inference uses it; training, tables in other modes and big-endian
machines (whose MurmurHash reads blocks in another byte order) keep spaCy's code.
"""

from __future__ import annotations

import sys

import numpy

_C1 = numpy.uint64(0x87C37B91114253D5)
_C2 = numpy.uint64(0x4CF5AD432745937F)
_F1 = numpy.uint64(0xFF51AFD7ED558CCD)
_F2 = numpy.uint64(0xC4CEB9FE1A85EC53)
_LOW = numpy.uint64(0xFFFFFFFF)


def _rotl(x: numpy.ndarray, r: int) -> numpy.ndarray:
    return (x << numpy.uint64(r)) | (x >> numpy.uint64(64 - r))


def _fmix(k: numpy.ndarray) -> numpy.ndarray:
    k = k ^ (k >> numpy.uint64(33))
    k = k * _F1
    k = k ^ (k >> numpy.uint64(33))
    k = k * _F2
    return k ^ (k >> numpy.uint64(33))


def murmur3_x64_128(data: numpy.ndarray, seed: int) -> tuple[numpy.ndarray, numpy.ndarray]:
    """MurmurHash3_x64_128 (Austin Appleby's reference, little-endian blocks) of each row
    of ``data``, a (n, length) uint8 array of keys of one byte length: the two 64-bit
    halves, each an array of n."""
    n, length = data.shape
    h1 = numpy.full(n, seed, dtype=numpy.uint64)
    h2 = h1.copy()
    nblocks = length // 16
    with numpy.errstate(over="ignore"):
        if nblocks:
            blocks = numpy.ascontiguousarray(data[:, :nblocks * 16]).view("<u8").astype(numpy.uint64)
            for i in range(nblocks):
                k1 = _rotl(blocks[:, 2 * i] * _C1, 31) * _C2
                h1 = h1 ^ k1
                h1 = (_rotl(h1, 27) + h2) * numpy.uint64(5) + numpy.uint64(0x52DCE729)
                k2 = _rotl(blocks[:, 2 * i + 1] * _C2, 33) * _C1
                h2 = h2 ^ k2
                h2 = (_rotl(h2, 31) + h1) * numpy.uint64(5) + numpy.uint64(0x38495AB5)
        tail = data[:, nblocks * 16:].astype(numpy.uint64)
        rest = length & 15
        if rest > 8:
            k2 = numpy.zeros(n, dtype=numpy.uint64)
            for i in range(rest - 1, 7, -1):
                k2 ^= tail[:, i] << numpy.uint64(8 * (i - 8))
            h2 = h2 ^ (_rotl(k2 * _C2, 33) * _C1)
        if rest:
            k1 = numpy.zeros(n, dtype=numpy.uint64)
            for i in range(min(rest, 8) - 1, -1, -1):
                k1 ^= tail[:, i] << numpy.uint64(8 * i)
            h1 = h1 ^ (_rotl(k1 * _C1, 31) * _C2)
        h1 = h1 ^ numpy.uint64(length)
        h2 = h2 ^ numpy.uint64(length)
        h1 = h1 + h2
        h2 = h2 + h1
        h1 = _fmix(h1)
        h2 = _fmix(h2)
        h1 = h1 + h2
        h2 = h2 + h1
    return h1, h2


def floret_rows(words: list[str], *, minn: int, maxn: int, hash_count: int, seed: int, bow: str, eow: str,
                n_rows: int) -> tuple[numpy.ndarray, numpy.ndarray]:
    """The table rows of each word, as ``Vectors.get_batch`` (floret mode) lists them:
    (rows of all words, concatenated; the number of rows of each word). An empty word
    has none."""
    hash_count = min(hash_count, 4)
    padded = [bow + w + eow if w else "" for w in words]
    encoded = [p.encode("utf8") for p in padded]
    n_words = len(words)
    n_chars = numpy.fromiter(map(len, padded), dtype=numpy.int64, count=n_words)
    n_bytes = numpy.fromiter(map(len, encoded), dtype=numpy.int64, count=n_words)
    buf = numpy.frombuffer(b"".join(encoded), dtype=numpy.uint8)
    byte_start = numpy.concatenate([[0], numpy.cumsum(n_bytes)])
    # the byte offset of every character, and after each word's last one its end: the
    # words lie end to end in buf, so a word's end is the next word's first character
    char_pos = numpy.append(numpy.flatnonzero((buf & 0xC0) != 0x80), len(buf))
    char_start = numpy.concatenate([[0], numpy.cumsum(n_chars)])[:-1]
    # each word's n-grams in spaCy's order: the word itself, then those of minn
    # characters by position, minn + 1, ... (the first byte and end byte of each, placed
    # at the word's offset plus its rank: no sort)
    sizes = range(minn, maxn + 1)
    counts = [numpy.where(n_chars > 0, numpy.maximum(n_chars - size + 1, 0), 0) for size in sizes]
    per_word = (n_chars > 0).astype(numpy.int64) + sum(counts)
    offset = numpy.concatenate([[0], numpy.cumsum(per_word)])
    total = int(offset[-1])
    lo = numpy.empty(total, dtype=numpy.int64)
    hi = numpy.empty(total, dtype=numpy.int64)
    has = numpy.flatnonzero(n_chars > 0)
    lo[offset[has]] = byte_start[has]
    hi[offset[has]] = byte_start[has + 1]
    before = (n_chars > 0).astype(numpy.int64)  # the n-grams each word has placed so far
    for size, count in zip(sizes, counts):
        n = int(count.sum())
        if n:
            w = numpy.repeat(numpy.arange(n_words), count)
            local = numpy.arange(n) - numpy.repeat(numpy.cumsum(count) - count, count)
            at = offset[w] + before[w] + local
            c = char_start[w] + local
            lo[at] = char_pos[c]
            hi[at] = char_pos[c + size]
        before += count
    # hashed by byte length: the n-grams of one length as the rows of one array
    length = hi - lo
    by_length = numpy.argsort(length, kind="stable")
    bounds = numpy.flatnonzero(numpy.diff(length[by_length])) + 1
    hashes = numpy.empty((total, 4), dtype=numpy.uint64)
    for at in numpy.split(by_length, bounds) if total else []:
        size = int(length[at[0]])
        h1, h2 = murmur3_x64_128(buf[lo[at, None] + numpy.arange(size)], seed)
        hashes[at] = numpy.stack([h1 & _LOW, h1 >> numpy.uint64(32), h2 & _LOW, h2 >> numpy.uint64(32)], axis=1)
    rows = (hashes[:, :hash_count] % numpy.uint64(n_rows)).astype(numpy.int64).reshape(-1)
    per_word = per_word * hash_count
    return rows, per_word


def get_batch(vectors, keys) -> numpy.ndarray:
    """``vectors.get_batch(keys)`` for a floret table, the rows found by :func:`floret_rows`."""
    from thinc.backends import get_array_ops

    ops = get_array_ops(vectors.data)
    keys = numpy.asarray(keys, dtype=numpy.uint64)
    uniq, inverse = numpy.unique(keys, return_inverse=True)
    strings = vectors.strings
    words = [strings.as_string(k) for k in uniq.tolist()]
    if not any(words):
        return ops.xp.zeros((len(keys), vectors.data.shape[1]))
    rows, lengths = floret_rows(words, minn=vectors.minn, maxn=vectors.maxn, hash_count=vectors.hash_count,
                                seed=vectors.hash_seed, bow=vectors.bow, eow=vectors.eow,
                                n_rows=vectors.data.shape[0])
    # the mean of each word's rows, a few hundred words at a time: their rows stay in the
    # processor's cache between the gather and the sum (the rows of all the words of a
    # batch at once are some 100 MB); each mean is its own word's, whatever the chunk
    rows = rows.astype(numpy.int32)
    lengths = lengths.astype(numpy.int32)
    ends = numpy.cumsum(lengths)
    means = numpy.empty((len(words), vectors.data.shape[1]), dtype=vectors.data.dtype)
    for a in range(0, len(words), _CHUNK_WORDS):
        b = min(a + _CHUNK_WORDS, len(words))
        lo, hi = int(ends[a - 1]) if a else 0, int(ends[b - 1])
        means[a:b] = ops.reduce_mean(vectors.data[rows[lo:hi]], lengths[a:b])
    return ops.as_contig(means[inverse.reshape(-1)])


#: words whose vectors are averaged at a time (their rows: about 4 MB)
_CHUNK_WORDS = 256


def _fast_forward(model, docs, is_train: bool):
    from spacy.ml.staticvectors import forward as spacy_forward
    from spacy.vectors import Mode, Vectors

    vectors = docs[0].vocab.vectors if docs else None
    if is_train or not isinstance(vectors, Vectors) or vectors.mode != Mode.floret or not sum(map(len, docs)):
        return spacy_forward(model, docs, is_train)
    from spacy.attrs import ORTH
    from thinc.types import Ragged

    key_attr = getattr(vectors, "attr", ORTH)
    keys = model.ops.flatten([doc.to_array(key_attr) for doc in docs])
    W = model.ops.as_contig(model.get_param("W"))
    V = model.ops.as_contig(get_batch(vectors, keys))
    out = Ragged(model.ops.gemm(V, W, trans2=True), model.ops.asarray1i([len(doc) for doc in docs]))
    return out, lambda d_out: []


def fast_static_vectors(nlp) -> int:
    """Replace the forward of the ``static_vectors`` layers of ``nlp``'s ``tok2vec`` so
    that inference looks floret vectors up with :func:`get_batch`; the number replaced.
    Nothing on a big-endian machine."""
    if sys.byteorder != "little" or "tok2vec" not in nlp.pipe_names:
        return 0
    from spacy.ml.staticvectors import forward as spacy_forward

    n = 0
    for layer in nlp.get_pipe("tok2vec").model.walk():
        if layer.name == "static_vectors" and layer._func is spacy_forward:  # noqa: SLF001
            layer._func = _fast_forward  # noqa: SLF001  thinc keeps a layer's forward here
            n += 1
    return n


__all__ = ["fast_static_vectors", "floret_rows", "get_batch", "murmur3_x64_128"]
