"""Union-find over name nodes with cannot-link constraints, and link explanations.

A *node* is one (scope, label, key) group of mentions; edges between nodes carry the
comparison level (rule) and score that justified them. :class:`UnionFind` merges nodes
in the order edges are given (so stronger levels go first) and refuses, at union time, a
union that would put incompatible nodes into one cluster, so transitive closure can never
join what no single comparison would: two nodes of a cannot-link pair (analyst
``split``), two labels, or two person full names that no comparison level explains
("Gerhard Schröder" / "Kristina Schröder"). Each root keeps a small signature (its label
and its distinct full-name keys), so a check costs a few string comparisons.
:func:`explain` then walks each cluster from its canonical node and records, for every
node, the rule and score of the edge through which it was reached.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable

import numpy as np


#: reasons a union is refused (the ``reason`` column of the links table)
REFUSED_SPLIT = "analyst_split"
REFUSED_LABEL = "label_mismatch"
REFUSED_NAMES = "person_names"
REFUSED_PREVIOUS = "previous_entities"


class UnionFind:
    """Array-backed union-find (path halving, union by size) with constraints.

    ``forbid(a_nodes, b_nodes)`` registers a constraint: no cluster may ever contain a
    node of ``a_nodes`` together with a node of ``b_nodes``. ``labels`` (one small int per
    node, -1 = any) forbids clusters with two labels; ``names`` (node -> full-name key of
    a person) with ``compatible(x, y)`` forbids clusters holding two full names that are
    not compatible; ``owners`` (node -> index of an earlier run's entity, -1 = none)
    forbids clusters holding two earlier entities. ``refusal`` holds the reason of the
    last refused union.
    """

    def __init__(self, n: int, labels: list[int] | None = None,
                 names: dict[int, str] | None = None, compatible=None,
                 owners: list[int] | None = None):
        self.parent = list(range(n))
        self.size = [1] * n
        # root -> set of (constraint id, side); only roots of constrained clusters appear
        self.tags: dict[int, set[tuple[int, int]]] = {}
        self._n_constraints = 0
        self.label = list(labels) if labels is not None else None
        # root -> tuple of the distinct person full-name keys of its cluster
        self.names: dict[int, tuple[str, ...]] = {i: (k,) for i, k in (names or {}).items()}
        self._compatible = compatible
        self._compat_cache: dict[tuple[str, str], bool] = {}
        # root -> the earlier run's entity its cluster holds (-1: none); two never merge,
        # so every id written before stays an entity of its own
        self.owner = list(owners) if owners is not None else None
        self.refusal: str | None = None

    def forbid(self, a_nodes: Iterable[int], b_nodes: Iterable[int]) -> None:
        cid = self._n_constraints
        self._n_constraints += 1
        for side, nodes in ((0, a_nodes), (1, b_nodes)):
            for x in nodes:
                r = self.find(x)
                self.tags.setdefault(r, set()).add((cid, side))

    def find(self, x: int) -> int:
        parent = self.parent
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def _names_ok(self, na: tuple[str, ...], nb: tuple[str, ...]) -> bool:
        cache, comp = self._compat_cache, self._compatible
        for x in na:
            for y in nb:
                if x == y:
                    continue
                k = (x, y) if x < y else (y, x)
                ok = cache.get(k)
                if ok is None:
                    ok = cache[k] = bool(comp(x, y))
                if not ok:
                    return False
        return True

    def union(self, a: int, b: int, force: bool = False, names: bool = True) -> bool:
        """Merge the clusters of a and b; False if already one or if forbidden (then
        ``refusal`` says why). ``force`` (analyst merges) skips the label, name and
        earlier-entity checks, never an analyst split; ``names=False`` (the names of one
        earlier entity) skips the person-name check only."""
        self.refusal = None
        check_names = names
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return False
        tags = self.tags
        if tags:
            ta, tb = tags.get(ra), tags.get(rb)
            if ta and tb and any((cid, 1 - side) in tb for cid, side in ta):
                self.refusal = REFUSED_SPLIT
                return False
        lab = self.label
        names = self.names
        own = self.owner
        if own is not None and own[ra] >= 0 and own[rb] >= 0 and own[ra] != own[rb] and not force:
            self.refusal = REFUSED_PREVIOUS
            return False
        if not force:
            if lab is not None and lab[ra] != lab[rb] and lab[ra] >= 0 and lab[rb] >= 0:
                self.refusal = REFUSED_LABEL
                return False
            if check_names and names and self._compatible is not None:
                na, nb = names.get(ra), names.get(rb)
                if na and nb and not self._names_ok(na, nb):
                    self.refusal = REFUSED_NAMES
                    return False
        if self.size[ra] < self.size[rb] or (self.size[ra] == self.size[rb] and rb < ra):
            ra, rb = rb, ra
        self.parent[rb] = ra
        self.size[ra] += self.size[rb]
        if tags and rb in tags:
            tags.setdefault(ra, set()).update(tags.pop(rb))
        if lab is not None and lab[ra] < 0:
            lab[ra] = lab[rb]
        if own is not None and own[ra] < 0:
            own[ra] = own[rb]
        if names and rb in names:
            nb = names.pop(rb)
            na = names.get(ra)
            names[ra] = nb if not na else tuple(dict.fromkeys(na + nb))
        return True

    def roots(self) -> np.ndarray:
        """Root of every node (fully compressed)."""
        return np.fromiter((self.find(i) for i in range(len(self.parent))), dtype=np.int64,
                           count=len(self.parent))

    def union_edges(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Apply edges in order; returns a bool mask of the edges that merged clusters."""
        return self.apply_edges(a, b)[0] == 1

    def apply_edges(self, a: np.ndarray, b: np.ndarray, force: bool = False, names: bool = True
                    ) -> tuple[np.ndarray, list[str | None]]:
        """Apply edges in order. Returns (status per edge: 1 merged, 0 already one
        cluster, -1 refused; the refusal reason per edge, None where not refused)."""
        out = np.zeros(len(a), dtype=np.int8)
        reasons: list[str | None] = [None] * len(a)
        union = self.union
        for i, (x, y) in enumerate(zip(a.tolist(), b.tolist())):
            if union(x, y, force, names):
                out[i] = 1
            elif self.refusal is not None:
                out[i] = -1
                reasons[i] = self.refusal
        return out, reasons


def components(roots: np.ndarray) -> np.ndarray:
    """Deterministic component ids: the smallest node id in each component."""
    n = len(roots)
    smallest = np.full(n, n, dtype=np.int64)
    np.minimum.at(smallest, roots, np.arange(n, dtype=np.int64))
    return smallest[roots]


def explain(
    n_nodes: int,
    comp: np.ndarray,
    anchor: np.ndarray,
    edges_a: np.ndarray,
    edges_b: np.ndarray,
    edge_rule: list[str],
    edge_score: np.ndarray,
) -> tuple[list[str | None], np.ndarray]:
    """For every node: the rule/score of the edge through which a breadth-first walk from
    its cluster's ``anchor`` node reaches it (anchor nodes and lone nodes get None / 1.0).

    Only edges inside one component count. Neighbours are visited strongest edge first,
    then by node id, so explanations are deterministic.
    """
    rule: list[str | None] = [None] * n_nodes
    score = np.ones(n_nodes, dtype=np.float64)
    if len(edges_a) == 0:
        return rule, score
    adj: dict[int, list[tuple[float, int, int]]] = {}
    for i, (x, y) in enumerate(zip(edges_a.tolist(), edges_b.tolist())):
        if comp[x] != comp[y] or x == y:
            continue
        s = float(edge_score[i])
        adj.setdefault(x, []).append((-s, y, i))
        adj.setdefault(y, []).append((-s, x, i))
    starts = sorted({int(anchor[comp[x]]) for x in adj})
    seen = set()
    for start in starts:
        if start in seen:
            continue
        seen.add(start)
        queue = deque([start])
        while queue:
            x = queue.popleft()
            for _, y, i in sorted(adj.get(x, ())):
                if y in seen:
                    continue
                seen.add(y)
                rule[y] = edge_rule[i]
                score[y] = float(edge_score[i])
                queue.append(y)
    return rule, score
