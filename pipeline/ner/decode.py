"""Greedy decoding of spaCy's entity recognizer, all documents of a batch at once.

spaCy's ``ner`` (``TransitionBasedParser`` with the ``ner`` state type, greedy, as
trained here and in ``de_core_news_sm``) tags a document with one BILUO action per
token. Its loop runs state by state in Cython: for every token of every document it
sets up the state's three context tokens, sums their precomputed hidden vectors,
scores the ~50 actions, asks each action whether it is valid and takes the best. On
our texts that loop costs about 33 µs a token, as much as the whole tok2vec, and most
of it is bookkeeping, not arithmetic (``benchmarks/bench_ner.py --compare-load``).

Every NER action consumes exactly one token, so the documents of a batch advance in
lockstep: step t handles token t of every document that long. :func:`decode` runs
those steps with numpy, one vectorised step for all documents, with the same numbers
as spaCy's loop: the same tok2vec output and precomputed features (computed by the
model's own layers), the same feature tokens (the buffer's first token, the open
entity's first token and the token before, or the padding vector), the same sum
order, maxout, output layer, the same validity rules for documents without preset
entities (no B or U on whitespace, no entity across a sentence start, I and L only
inside an open entity of their label) and the same tie-break (the first best
action). Only the output layer's matrix product may round differently in the last
bit, so an action could differ where two scores tie to 1e-7; on the 1,028 Wikinews texts
and on GermEval dev the entities are identical (``tests/test_ner_model.py`` compares
them with spaCy's).

:func:`vectorise_ner` installs it on a loaded pipeline's ``ner`` when the model is
of that kind; any other recognizer (beam search, another feature set, preset entities
in the documents) keeps spaCy's own loop.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy

log = logging.getLogger("pipeline")

_B, _I, _L, _U, _O, _NONE = range(6)
_ACTIONS = {"B": _B, "I": _I, "L": _L, "U": _U, "O": _O}
# flags of a token, as bits of the row index into the validity table
_LAST, _SPACE, _NEXT_SENT = 1, 2, 4


@dataclass(frozen=True)
class Moves:
    """The recognizer's actions: kind (B/I/L/U/O, or none for actions never valid
    without preset entities) and label index of each class, and the label names."""

    kind: numpy.ndarray  # (n_classes,) int
    label: numpy.ndarray  # (n_classes,) int, -1 for O and label-less actions
    labels: tuple[str, ...]

    @classmethod
    def from_names(cls, names: list[str]) -> "Moves":
        labels: list[str] = []
        kind = numpy.full(len(names), _NONE, dtype=numpy.int64)
        label = numpy.full(len(names), -1, dtype=numpy.int64)
        for i, name in enumerate(names):
            if name == "O":
                kind[i] = _O
                continue
            act, _, lab = name.partition("-")
            if act not in _ACTIONS or act == "O" or not lab:
                continue  # "U-" (label 0) or "M": only valid for preset entities
            if lab not in labels:
                labels.append(lab)
            kind[i], label[i] = _ACTIONS[act], labels.index(lab)
        return cls(kind, label, tuple(labels))

    def validity(self) -> numpy.ndarray:
        """valid[state, flags, class]: state 0 = no entity open, 1 + l = an entity of
        label l open; flags = the token's _LAST | _SPACE | _NEXT_SENT bits. The rules of
        spaCy's ``ner.pyx`` (Begin/In/Last/Unit/Out.is_valid) for tokens without preset
        entity annotation."""
        n_labels = len(self.labels)
        valid = numpy.zeros((1 + n_labels, 8, len(self.kind)), dtype=bool)
        for flags in range(8):
            last, space, next_sent = bool(flags & _LAST), bool(flags & _SPACE), bool(flags & _NEXT_SENT)
            closed = valid[0, flags]
            closed[self.kind == _O] = True
            closed[self.kind == _U] = not space
            closed[self.kind == _B] = not (last or space or next_sent)
            for lab in range(n_labels):
                mine = self.label == lab
                valid[1 + lab, flags, (self.kind == _L) & mine] = True
                valid[1 + lab, flags, (self.kind == _I) & mine] = not (last or next_sent)
        return valid


def decode(cached: numpy.ndarray, bias: numpy.ndarray, W: numpy.ndarray, b: numpy.ndarray,
           lengths: numpy.ndarray, flags: numpy.ndarray, moves: Moves, valid: numpy.ndarray,
           unseen: numpy.ndarray | None = None) -> tuple[numpy.ndarray, numpy.ndarray, numpy.ndarray, numpy.ndarray]:
    """Greedy BILUO decoding of a batch of documents.

    cached: (n_tokens + 1, 3, nO, nP), the lower layer's precomputed features, row 0 the
    padding, row 1 + i the batch's token i (documents concatenated in order).
    bias: (nO, nP); W: (n_classes, nO); b: (n_classes,): the output layer.
    lengths: tokens per document; flags: (n_tokens,) the _LAST/_SPACE/_NEXT_SENT bits.
    valid: ``moves.validity()``.
    unseen: classes never seen in training (scored at the step's minimum, as spaCy does).
    Returns the entities as arrays (document index, start token, end token, label index)
    sorted by document and start.
    """
    empty = numpy.zeros(0, dtype=numpy.int64)
    n_docs = len(lengths)
    if n_docs == 0 or int(lengths.max(initial=0)) == 0:
        return empty, empty, empty, empty
    n_rows, n_feats, n_hidden, n_pieces = cached.shape
    if n_feats != 3:
        raise ValueError(f"the NER decoder needs 3 feature tokens, the model has {n_feats}")
    # each feature's rows with the pieces first, so that maxout is an elementwise maximum of
    # n_pieces contiguous blocks (the same values as spaCy's arg_max over each unit's pieces)
    feats = [numpy.ascontiguousarray(cached[:, f].transpose(0, 2, 1)).reshape(n_rows, -1) for f in range(3)]
    flat_bias = numpy.ascontiguousarray(bias.T).reshape(-1)
    Wt = numpy.ascontiguousarray(W.T)
    n_classes = W.shape[0]
    kind, label = moves.kind, moves.label
    # what each class does to the state: the next state (0 closed, 1 + label open),
    # whether it leaves an entity open, whether it begins one
    next_state = numpy.where((kind == _B) | (kind == _I), label + 1, 0)
    stays_open = ((kind == _B) | (kind == _I)).astype(numpy.int64)
    begins = kind == _B
    # -inf for the classes invalid in (state, flags), as one row per state * 8 + flags
    penalty = numpy.where(valid, numpy.float32(0), numpy.float32(-numpy.inf)).astype(numpy.float32)
    penalty = penalty.reshape(-1, n_classes)

    starts = numpy.zeros(n_docs, dtype=numpy.int64)
    starts[1:] = numpy.cumsum(lengths)[:-1]
    order = numpy.argsort(-lengths, kind="stable")  # the longest first: step t's documents are a prefix
    sorted_len = lengths[order]
    n_steps = int(sorted_len[0])
    row0 = starts[order] + 1  # the cached row of each document's token 0
    # documents still running at step t: the number of sorted lengths > t
    n_active = numpy.searchsorted(-sorted_len, -numpy.arange(n_steps), side="left")
    flag_of_row = numpy.zeros(n_rows, dtype=numpy.int64)
    flag_of_row[1:] = flags
    state8 = numpy.zeros(n_docs, dtype=numpy.int64)  # state * 8
    first = numpy.zeros(n_docs, dtype=numpy.int64)  # cached row of the open entity's first token, or 0
    before = numpy.zeros(n_docs, dtype=numpy.int64)  # cached row of the token before, if open, or 0
    actions = numpy.zeros(n_rows, dtype=numpy.int64)  # the class taken at each cached row
    check_unseen = unseen is not None and bool(unseen.any())
    for t in range(n_steps):
        k = int(n_active[t])
        rows = row0[:k] + t
        hidden = feats[0][rows]
        hidden += feats[1][first[:k]]
        hidden += feats[2][before[:k]]
        hidden += flat_bias
        h = hidden[:, :n_hidden]
        for p in range(1, n_pieces):
            h = numpy.maximum(h, hidden[:, p * n_hidden:(p + 1) * n_hidden])
        scores = h @ Wt
        scores += b
        if check_unseen:
            scores[:, unseen] = scores.min()
        scores += penalty[state8[:k] + flag_of_row[rows]]
        best = scores.argmax(axis=1)
        actions[rows] = best
        state8[:k] = next_state[best] * 8
        keep = stays_open[best]
        first[:k] = numpy.where(begins[best], rows, first[:k]) * keep
        before[:k] = rows * keep
    # entities from the actions: per document, the i-th B pairs with the i-th L (the
    # validity rules allow only B I* L), a U is an entity of one token
    kinds, labels = kind[actions[1:]], label[actions[1:]]
    token_doc = numpy.repeat(numpy.arange(n_docs), lengths)
    token_pos = numpy.arange(len(token_doc)) - starts[token_doc]
    b_at, l_at, u_at = (numpy.flatnonzero(kinds == k) for k in (_B, _L, _U))
    doc = token_doc[numpy.concatenate([l_at, u_at])]
    start = token_pos[numpy.concatenate([b_at, u_at])]
    end = token_pos[numpy.concatenate([l_at, u_at])] + 1
    lab = labels[numpy.concatenate([l_at, u_at])]
    by = numpy.lexsort((start, doc))
    return doc[by], start[by], end[by], lab[by]


def token_flags(docs) -> tuple[numpy.ndarray, numpy.ndarray]:
    """(lengths, flags) of a batch of Docs: each token's _LAST, _SPACE (spaCy's
    IS_SPACE) and _NEXT_SENT (the next token starts a sentence) bits."""
    from spacy.attrs import IS_SPACE, SENT_START

    lengths = numpy.array([len(d) for d in docs], dtype=numpy.int64)
    parts = []
    for doc in docs:
        if not len(doc):
            continue
        arr = doc.to_array([IS_SPACE, SENT_START]).reshape(-1, 2).astype(numpy.int64)
        f = numpy.where(arr[:, 0] != 0, _SPACE, 0)
        f[:-1] |= numpy.where(arr[1:, 1] == 1, _NEXT_SENT, 0)
        f[-1] |= _LAST
        parts.append(f)
    flags = numpy.concatenate(parts) if parts else numpy.zeros(0, dtype=numpy.int64)
    return lengths, flags


def _has_preset_entities(docs) -> bool:
    from spacy.attrs import ENT_IOB

    return any(len(d) and d.to_array(ENT_IOB).any() for d in docs)


class VectorisedNer:
    """A spaCy ``ner`` component with :func:`decode` in place of its loop: what the
    pipeline calls (``__call__``, ``pipe``) goes through the decoder, everything else
    (labels, moves, serialisation) to the wrapped component. Batches with preset
    entities go to spaCy's own ``predict``/``set_annotations``."""

    def __init__(self, ner):
        self.ner = ner
        names = [ner.moves.get_class_name(i) for i in range(ner.moves.n_moves)]
        self.moves = Moves.from_names(names)
        self.valid = self.moves.validity()
        self.label_hashes = [ner.vocab.strings.add(lab) for lab in self.moves.labels]
        unseen = ner.model.attrs.get("unseen_classes") or set()
        self.unseen = None
        if unseen:
            self.unseen = numpy.zeros(len(names), dtype=bool)
            self.unseen[list(unseen)] = True

    def __getattr__(self, name):
        ner = self.__dict__.get("ner")
        if ner is None:  # while unpickling or copying, before __init__'s attributes exist
            raise AttributeError(name)
        return getattr(ner, name)

    def predict(self, docs):
        docs = list(docs)
        if _has_preset_entities(docs):
            return ("spacy", self.ner.predict(docs))
        lengths, flags = token_flags(docs)
        if not lengths.sum():
            return ("ents", [[] for _ in docs])
        model = self.ner.model
        lower, upper = model.get_ref("lower"), model.get_ref("upper")
        cached = lower.predict(model.get_ref("tok2vec").predict(docs))
        doc_i, start, end, lab = decode(cached, lower.get_param("b"), upper.get_param("W"), upper.get_param("b"),
                                        lengths, flags, self.moves, self.valid, self.unseen)
        ents: list[list[tuple[int, int, int]]] = [[] for _ in docs]
        for d, s, e, la in zip(doc_i.tolist(), start.tolist(), end.tolist(), lab.tolist()):
            ents[d].append((s, e, self.label_hashes[la]))
        return ("ents", ents)

    def set_annotations(self, docs, result) -> None:
        kind, value = result
        if kind == "spacy":
            self.ner.set_annotations(docs, value)
            return
        from spacy.tokens import Span

        for doc, spans in zip(docs, value):
            doc.set_ents([Span(doc, s, e, label=lab) for s, e, lab in spans], default="outside")

    def __call__(self, doc):
        self.set_annotations([doc], self.predict([doc]))
        return doc

    def pipe(self, docs, *, batch_size: int = 256):
        from spacy.util import minibatch

        error_handler = self.ner.get_error_handler()
        for batch in minibatch(docs, size=batch_size):
            batch = list(batch)
            try:
                self.set_annotations(batch, self.predict(batch))
            except Exception as exc:  # noqa: BLE001  reported as spaCy's own pipe does
                error_handler(self.ner.name, self.ner, batch, exc)
            yield from batch


def supports(ner) -> bool:
    """Whether ``ner`` is a greedy spaCy entity recognizer the decoder reproduces."""
    from spacy.pipeline import EntityRecognizer

    if not isinstance(ner, EntityRecognizer) or ner.cfg.get("beam_width", 1) != 1:
        return False
    model = ner.model
    if not {"tok2vec", "lower", "upper"} <= set(model.ref_names) or not model.attrs.get("has_upper", True):
        return False
    lower = model.get_ref("lower")
    if lower.name != "precomputable_affine" or not lower.has_dim("nF") or lower.get_dim("nF") != 3:
        return False
    if model.get_ref("upper").name != "linear":
        return False
    names = [ner.moves.get_class_name(i) for i in range(ner.moves.n_moves)]
    return "O" in names and all(n == "O" or n[:2] in ("B-", "I-", "L-", "U-") for n in names)


def vectorise_ner(nlp) -> bool:
    """Install the vectorised decoder on ``nlp``'s ``ner`` if it supports it; returns
    whether it did."""
    if "ner" not in nlp.pipe_names:
        return False
    ner = nlp.get_pipe("ner")
    if isinstance(ner, VectorisedNer):
        return True
    if not supports(ner):
        log.debug("ner: spaCy's own decoder (the model is not a greedy 3-feature BILUO recognizer)")
        return False
    # spaCy has no public call to swap a component object in place (replace_pipe builds a
    # new one from a factory); the wrapper keeps the name, position and listeners
    components = nlp._components
    i = next(i for i, (name, _) in enumerate(components) if name == "ner")
    components[i] = ("ner", VectorisedNer(ner))
    return True


__all__ = ["Moves", "VectorisedNer", "decode", "token_flags", "vectorise_ner", "supports"]
