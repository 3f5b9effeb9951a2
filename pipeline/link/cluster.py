"""Union-find over name nodes with cannot-link constraints, and link explanations.

A *node* is one (scope, label, key) group of mentions; edges between nodes carry the
comparison level (rule) and score that justified them. :class:`UnionFind` merges nodes
in the order edges are given (so stronger levels go first) and refuses a union that
would put two nodes of a cannot-link pair (analyst ``split``) into one cluster.
:func:`explain` then walks each cluster from its canonical node and records, for every
node, the rule and score of the edge through which it was reached.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterable

import numpy as np


class UnionFind:
    """Array-backed union-find (path halving, union by size) with cannot-link tags.

    ``forbid(a_nodes, b_nodes)`` registers a constraint: no cluster may ever contain a
    node of ``a_nodes`` together with a node of ``b_nodes``.
    """

    def __init__(self, n: int):
        self.parent = list(range(n))
        self.size = [1] * n
        # root -> set of (constraint id, side); only roots of constrained clusters appear
        self.tags: dict[int, set[tuple[int, int]]] = {}
        self._n_constraints = 0

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

    def union(self, a: int, b: int) -> bool:
        """Merge the clusters of a and b; False if already one or if forbidden."""
        ra, rb = self.find(a), self.find(b)
        if ra == rb:
            return False
        tags = self.tags
        if tags:
            ta, tb = tags.get(ra), tags.get(rb)
            if ta and tb and any((cid, 1 - side) in tb for cid, side in ta):
                return False
        if self.size[ra] < self.size[rb] or (self.size[ra] == self.size[rb] and rb < ra):
            ra, rb = rb, ra
        self.parent[rb] = ra
        self.size[ra] += self.size[rb]
        if tags and rb in tags:
            tags.setdefault(ra, set()).update(tags.pop(rb))
        return True

    def roots(self) -> np.ndarray:
        """Root of every node (fully compressed)."""
        return np.fromiter((self.find(i) for i in range(len(self.parent))), dtype=np.int64,
                           count=len(self.parent))

    def union_edges(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Apply edges in order; returns a bool mask of the edges that merged clusters."""
        out = np.zeros(len(a), dtype=bool)
        union = self.union
        for i, (x, y) in enumerate(zip(a.tolist(), b.tolist())):
            out[i] = union(x, y)
        return out


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
