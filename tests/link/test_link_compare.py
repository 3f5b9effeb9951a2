"""Comparison levels, blocking helpers and the union-find with cannot-link."""

from __future__ import annotations

import numpy as np
import pandas as pd

from pipeline.link import compare as C
from pipeline.link.cluster import UnionFind, components, explain


def test_levels_in_order():
    assert C.compare_names("Sergej Lawrow", "Sergej Lawrow") == C.EXACT
    assert C.compare_names("Kim Jong-un", "Kim Jong Un") == C.KEY
    assert C.compare_names("Sergej Lawrow", "Sergei Lavrov") == C.TRANSLIT
    lv = C.compare_names("Alexandra Ocasio-Cortez", "Alexandria Ocasio-Cortez")
    assert lv is not None and lv.name == "fuzzy" and 0.92 <= lv.score <= 1
    assert C.compare_names("Kim Jong Un", "Kim Jong Il") is None
    assert C.compare_names("Hans Müller", "Jens Müller") is None
    assert C.compare_names("Sojus 2", "Sojus 3", "MISC") is None


def test_fuzzy_guards():
    assert not C.fuzzy_allowed("kim jong un", "kim jong il", "PER")
    assert not C.fuzzy_allowed("anna berg", "anna bergmann x", "PER")
    assert C.fuzzy_allowed("internationale atomenergiebehoerde", "internationale atomenergiebehorde", "ORG")
    assert not C.fuzzy_allowed("short", "shorty", "ORG")


def test_block_key_uses_surname_for_persons_first_token_otherwise():
    assert C.block_key("sergej lawrow", "PER") == C.block_key("sergei lavrov", "PER")
    assert C.block_key("deutsche bank", "ORG") == C.block_key("deutsche telekom", "ORG")


def test_contiguous_parts():
    assert C.contiguous_parts(["kim", "jong", "un"]) == ["kim", "jong", "un", "kim jong", "jong un"]


def test_resolve_partials_prefers_most_frequent_full_name():
    per = pd.DataFrame({
        "doc": ["d"] * 5,
        "key": ["kim jong il", "kim jong un", "kim jong un", "kim", "un"],
        "tkey": ["kim iong il", "kim iong un", "kim iong un", "kim", "un"],
        "ntok": [3, 3, 3, 1, 1], "start": [0, 10, 20, 30, 40],
    })
    best = C.resolve_partials(per).set_index("key")
    assert best.loc["kim", "target"] == "kim jong un"
    assert best.loc["kim", "n_candidates"] == 2
    assert best.loc["un", "target"] == "kim jong un"
    assert best.loc["un", "n_candidates"] == 1
    assert "kim jong il" not in best.index and "kim jong un" not in best.index
    assert len(C.resolve_partials(per, {("kim", "kim jong un")}).query("key == 'kim'").target) == 1
    assert C.resolve_partials(per, {("kim", "kim jong un")}).set_index("key").loc["kim", "target"] == "kim jong il"


def test_group_edges_star():
    a, b = C.group_edges(np.array([0, 0, 1, 0]), np.array([5, 3, 7, 9]))
    assert sorted(zip(a.tolist(), b.tolist())) == [(3, 5), (3, 9)]


def test_fuzzy_edges_only_inside_blocks_and_across_clusters():
    keys = ["alexandra ocasiocortez", "alexandria ocasiocortez", "alexandria ocasiocortez"]
    a, b, s = C.fuzzy_edges(keys, ["PER"] * 3, ["x", "x", "y"], np.array([0, 1, 2]), 90)
    assert list(zip(a.tolist(), b.tolist())) == [(0, 1)] and s[0] >= 0.9
    a, _, _ = C.fuzzy_edges(keys[:2], ["PER"] * 2, ["x", "x"], np.array([0, 0]), 90)
    assert len(a) == 0


def test_union_find_cannot_link():
    uf = UnionFind(4)
    uf.forbid([0], [3])
    assert uf.union(0, 1)
    assert uf.union(2, 3)
    assert not uf.union(1, 2)  # would put 0 and 3 together
    assert uf.find(0) != uf.find(3)
    comp = components(uf.roots())
    assert comp[0] == comp[1] == 0 and comp[2] == comp[3] == 2


def test_explain_walks_from_anchor():
    comp = np.array([0, 0, 0])
    anchor = np.array([1, 1, 2])
    rule, score = explain(3, comp, anchor, np.array([1, 0]), np.array([0, 2]), ["translit", "fuzzy"],
                          np.array([0.9, 0.93]))
    assert rule == ["translit", None, "fuzzy"] and score[2] == 0.93
