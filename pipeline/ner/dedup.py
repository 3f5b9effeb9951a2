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

Training is untouched: the wrapper calls the original layer whenever ``is_train``.
"""

from __future__ import annotations

import logging

import numpy

log = logging.getLogger("pipeline")

#: embedding layers whose rows depend on their own token only (spaCy's MultiHashEmbed
#: and the bundled de_news.MultiHashEmbedLexicon.v1 both start with a feature extractor)
_PER_TOKEN_PREFIXES = ("extract_features>>", "extract_features_lexicon>>")


def dedup_embeddings(nlp) -> bool:
    """Wrap the per-token embedding layer of ``nlp``'s ``tok2vec`` so that inference
    embeds each distinct (ORTH, NORM) of a batch once. Returns whether it was wrapped
    (a pipeline without such a layer is left as it is)."""
    if "tok2vec" not in nlp.pipe_names:
        return False
    model = nlp.get_pipe("tok2vec").model
    if not model.layers:
        return False
    embed = model.layers[0]
    if not embed.name.startswith(_PER_TOKEN_PREFIXES) or not embed.name.endswith("ragged2list"):
        return False
    model.layers[0] = _wrap(embed)
    return True


def _wrap(embed):
    from spacy.attrs import NORM, ORTH
    from spacy.tokens import Doc
    from thinc.api import Model

    def forward(model, docs, is_train: bool):
        if is_train or not docs:
            return embed(docs, is_train)
        keys = [doc.to_array([ORTH, NORM]).reshape(-1, 2) for doc in docs]
        flat = numpy.concatenate(keys) if keys else numpy.zeros((0, 2), dtype="uint64")
        if len(flat) == 0:
            return embed(docs, is_train)
        _, first, inverse = numpy.unique(flat, axis=0, return_index=True, return_inverse=True)
        inverse = inverse.reshape(-1)
        vocab = docs[0].vocab
        words = [vocab.strings[o] for o in flat[first, 0].tolist()]  # a token's text is its ORTH
        made_up = Doc(vocab, words=words, spaces=[False] * len(words))
        for tok, i in zip(made_up, first.tolist()):
            norm = int(flat[i, 1])
            if tok.norm != norm:
                tok.norm_ = vocab.strings[norm]
        rows = embed.predict([made_up])[0]
        out, start = [], 0
        for k in keys:
            out.append(rows[inverse[start:start + len(k)]])
            start += len(k)
        return out, lambda d_out: []

    return Model(f"dedup({embed.name})", forward, layers=[embed], dims={"nO": embed.get_dim("nO")}
                 if embed.has_dim("nO") else {})


__all__ = ["dedup_embeddings"]
