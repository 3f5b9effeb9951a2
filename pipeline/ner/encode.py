"""The tok2vec's window encoder at inference, with fewer passes over memory.

spaCy's ``MaxoutWindowEncoder`` (the bundled model's and ``de_core_news_sm``'s) is a
stack of residual blocks: window expansion, Maxout (a matrix multiply, then the
largest of each unit's pieces), layer normalisation, dropout. After the matrix
multiplies, thinc's layers spend about as much time again allocating and walking
arrays: its maxout also returns the winning piece of every unit (kept for training),
and every step allocates a new array. :func:`fuse_encoder` wraps the encoder so that
inference runs the same operations on the same weights with numpy, in place:

- the Maxout weights are reordered once so that the multiply writes each piece as a
  contiguous block; the result of the multiply is the same number for every unit and
  piece, only its column moves (checked bit for bit), and the maxout is then an
  elementwise maximum of the blocks, which keeps the first of equal values as thinc's does;
- layer normalisation calls the same numpy mean and variance (given the mean, which
  it would otherwise compute again the same way) and applies the same arithmetic in
  the same order, in place; the residual sum likewise.

The vectors are bit for bit those of thinc's layers (``tests/test_ner_model.py``).
Training and any other encoder are untouched (the wrapper calls the original layer
whenever ``is_train``, and only wraps the structure it knows).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy


@dataclass(frozen=True)
class _Block:
    window: int
    W: numpy.ndarray  # (nP * nO, nI), piece-major rows
    b: numpy.ndarray  # (nP * nO,)
    nO: int
    nP: int
    G: numpy.ndarray  # layer norm scale (nO,)
    beta: numpy.ndarray  # layer norm shift (nO,)


def _is_chain(model) -> bool:
    from thinc.layers.chain import forward as chain_forward

    return model._func is chain_forward  # noqa: SLF001  thinc has no public test for it


def _leaves(model) -> list:
    """The layers of nested ``chain`` combinators, in order."""
    if _is_chain(model):
        return [leaf for layer in model.layers for leaf in _leaves(layer)]
    return [model]


def _blocks(encoder) -> list[_Block] | None:
    """The residual blocks of a ``with_array(residual(expand_window>>maxout>>layernorm
    >>dropout)>>...)`` encoder, or None for any other structure."""
    if not encoder.name.startswith("with_array(") or "pad" not in encoder.attrs or len(encoder.layers) != 1:
        return None
    stack = encoder.layers[0]
    residuals = stack.layers if _is_chain(stack) else [stack]
    blocks = []
    for res in residuals:
        if not res.name.startswith("residual(") or len(res.layers) != 1:
            return None
        leaves = _leaves(res.layers[0])
        names = [leaf.name for leaf in leaves]
        if names not in (["expand_window", "maxout", "layernorm", "dropout"], ["expand_window", "maxout", "layernorm"]):
            return None
        window, maxout, norm = leaves[0], leaves[1], leaves[2]
        if not all(maxout.has_param(p) for p in ("W", "b")) or not all(norm.has_param(p) for p in ("G", "b")):
            return None
        nO, nP, nI = maxout.get_dim("nO"), maxout.get_dim("nP"), maxout.get_dim("nI")
        W = maxout.get_param("W").reshape(nO, nP, nI)
        b = maxout.get_param("b").reshape(nO, nP)
        blocks.append(_Block(window=int(window.attrs["window_size"]),
                             W=numpy.ascontiguousarray(W.transpose(1, 0, 2).reshape(nP * nO, nI)),
                             b=numpy.ascontiguousarray(b.T.reshape(nP * nO)), nO=nO, nP=nP,
                             G=norm.get_param("G"), beta=norm.get_param("b")))
    return blocks or None


def fuse_encoder(nlp) -> bool:
    """Wrap the window encoder of ``nlp``'s ``tok2vec`` with :func:`_fused` for inference;
    returns whether it did (another structure, or thinc's BLIS multiply, is left as it is:
    the bit-for-bit argument above is checked for numpy's)."""
    from thinc.api import Model, NumpyOps, get_current_ops

    if "tok2vec" not in nlp.pipe_names:
        return False
    model = nlp.get_pipe("tok2vec").model
    if len(model.layers) != 2:
        return False
    encoder = model.layers[1]
    if encoder.name.startswith("fused("):
        return True
    ops = get_current_ops()
    if not isinstance(ops, NumpyOps) or ops.use_blis or not isinstance(encoder.ops, NumpyOps) or encoder.ops.use_blis:
        return False
    blocks = _blocks(encoder)
    if blocks is None:
        return False
    pad = int(encoder.attrs["pad"])

    def forward(wrapper, Xs, is_train: bool):
        if is_train:
            return encoder(Xs, is_train)
        return _fused(encoder.ops, Xs, blocks, pad), lambda dY: []

    dims = {"nO": encoder.get_dim("nO")} if encoder.has_dim("nO") else {}
    model.layers[1] = Model(f"fused({encoder.name})", forward, layers=[encoder], dims=dims)
    return True


def _fused(ops, Xs: list, blocks: list[_Block], pad: int) -> list:
    lengths = numpy.asarray([len(x) for x in Xs], dtype="i")
    if not len(Xs) or not lengths.sum():
        return [x for x in Xs]
    X = ops.flatten(Xs, pad=pad)
    for blk in blocks:
        cols = ops.seq2col(X, blk.window)
        Y = ops.gemm(cols, blk.W, trans2=True)
        Y += blk.b
        nO = blk.nO
        best = numpy.maximum(Y[:, :nO], Y[:, nO:2 * nO]) if blk.nP > 1 else Y[:, :nO].copy()
        for p in range(2, blk.nP):
            numpy.maximum(best, Y[:, p * nO:(p + 1) * nO], out=best)
        # thinc's LayerNorm: (X - mu) * var ** -0.5 * G + b, with numpy's mean and var
        mu = best.mean(axis=1, keepdims=True)
        var = best.var(axis=1, keepdims=True, mean=mu) + 1e-08  # the mean var would compute
        scale = var ** (-1.0 / 2.0)
        best -= mu
        best *= scale
        best *= blk.G
        best += blk.beta
        X += best  # the residual connection
    return ops.unflatten(X, lengths, pad=pad)


__all__ = ["fuse_encoder"]
