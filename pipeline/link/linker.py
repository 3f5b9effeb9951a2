"""The linking stage: mentions -> mentions with entity ids, and the entities table.

Steps (each one testable on its own, see ``keys``, ``compare``, ``cluster``, ``aliases``):

1. Keys per *distinct* surface (text, label, kind), not per mention: the surface is the
   normalised span (``norm_text``) where given, titles stripped, name key (Cyrillic and
   Greek transliterated as German writes them), genitive base when attested, derived
   adjective -> place.
2. Within each document: partial names ("Kim", "Putins") -> the full name they belong
   to (``compare.resolve_partials``).
3. Nodes = (scope, label, key) groups of mentions; scope is the whole corpus when
   ``cross_document`` is on, else the document. Virtual nodes stand for places only
   reached through derivs or country aliases, for alias-file canonical names and for
   the entities of a previous run.
4. Edges by comparison level: one function per level (``level(ctx) -> Edges``) in the
   ordered registry :data:`LEVELS`, strongest first (alias file, previous entity,
   country alias, abbreviation, transliteration, bare surnames, middle names, club
   designators, head nouns, fuzzy), each comparing only inside blocks; ``link.levels``
   switches them off and reorders them. Each level's edges go at once into the
   union-find with cannot-link (analyst split, labels, person names, two entities of a
   previous run) before the next level runs, so later levels see the clusters so far.
5. Canonical name (a nominative, correctly cased form the corpus uses), entity id (an
   earlier run's id kept), per mention the rule and score of the link that attached it,
   and the entities' QC flags (``qc``).

The mentions come as parts (:class:`MentionParts`: tables or Parquet files, each
document in one part) and steps 1-3 and 5 read them pass by pass, a part at a time:
what is kept across parts is indexed by distinct surfaces, pairs and nodes, and the
mentions counted by (node, surface); per-mention work stays with its part (in memory,
or as ``.npy`` files with :func:`link_parts`). :func:`link` is the same on one part.
See ``docs/linking-at-scale.md``.
"""

from __future__ import annotations

import itertools
import json
import logging
import re
import tempfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from .. import schemas
from ..config import LinkConfig
from ..errors import ConfigError
from . import compare as C
from .aliases import area_names, area_of, compass_region, countries, inhabitant_place, load_aliases, \
    normalize_aliases, place_adjectives, resolve_aliases_path, split_compass, stem_prefix_match
from .cluster import UnionFind, components, explain
from .qc import qc_flags
from .keys import _fold_adjective, adjective_lemma, clean_surface, fold, genitive_bases, head_genitive_bases, \
    is_abbreviation, n_tokens, name_key, slug, strip_titles, translit_key

log = logging.getLogger("pipeline")

_SEP = "\x1f"
LABEL_ORDER = {lab: i for i, lab in enumerate(schemas.LABELS)}


# --------------------------------------------------------------------------- per surface


class _Surfaces:
    """Key data of each distinct (text, label, kind); arrays indexed by surface code."""

    def __init__(self, texts: list[str], labels: list[str], kinds: list[str]):
        n = len(texts)
        self.text, self.label, self.kind = texts, labels, kinds
        self.kind0 = list(kinds)  # the input's kind (``kind`` turns "deriv" for derived names)
        self.stripped: list[str] = [""] * n
        self.key0: list[str] = [""] * n  # before genitive handling
        derivs = []
        for i, (t, lab, k) in enumerate(zip(texts, labels, kinds)):
            if k == "deriv":
                derivs.append(i)
                self.stripped[i] = t.strip()
                continue
            s = strip_titles(t) if lab == "PER" else t.strip()
            key = name_key(s, lab) or t.strip().casefold() or "?"
            self.stripped[i], self.key0[i] = s, key
        self.deriv_idx = derivs

    def resolve_genitives(self, countries_by_key: dict[str, str],
                          known: set[tuple[str, str]] = frozenset()) -> None:
        """Strip a genitive ending when the base is attested (another name of the same
        label in the corpus or in ``known`` (label, key) pairs such as a previous run's
        entities, a token of a longer person name, or a country name)."""
        n = len(self.text)
        attested: set[tuple[str, str]] = set(known)
        tokens_of_long: set[tuple[str, str]] = set()
        for i in range(n):
            if self.kind[i] == "deriv":
                continue
            attested.add((self.label[i], self.key0[i]))
        for i in range(n):
            lab, key = self.label[i], self.key0[i]
            if self.kind[i] == "deriv" or " " not in key:
                continue
            # a long name in the genitive ("Barack Obamas") lends its base's tokens
            for base in genitive_bases(key):
                if (lab, base) in attested:
                    key = base
                    break
            for tok in key.split(" "):
                tokens_of_long.add((lab, tok))
        self.key = list(self.key0)
        self.genitive = [False] * n
        #: the level that gave a surface another key than its own (None: its own)
        self.form_rule: list[C.Level | None] = [None] * n
        for i in range(n):
            key = self.key0[i]
            lab = self.label[i]
            if self.kind[i] != "deriv" and lab != "PER" and key.endswith("en"):
                # the weak "-n" of a name ending in "-e" ("in den Niederlanden", "der
                # Grünen", "der Linken"): the base when it is attested with the label
                base = key[:-1]
                if len(base.rpartition(" ")[2]) >= 5 and (
                        (lab, base) in attested or (lab == "LOC" and base in countries_by_key)):
                    self.key[i], self.genitive[i], self.form_rule[i] = base, True, C.INFLECTION
                    continue
            if self.kind[i] == "deriv" or (not key.endswith("s") and (lab == "PER" or " " not in key)):
                continue
            # a key that is itself a token of a longer name, or a country, is a real name;
            # so is an acronym in capitals ("ALS" is no genitive of "AL")
            if (lab, key) in tokens_of_long or (lab == "LOC" and key in countries_by_key):
                continue
            if len(self.stripped[i]) <= 5 and self.stripped[i].isupper():
                continue
            bases = genitive_bases(key) if key.endswith("s") else []
            if lab != "PER":  # "des Amtsgerichts Berlin-Charlottenburg"
                bases += head_genitive_bases(key)
            # a base that is a name of its own first ("Dresdens" -> "dresden"), then a word
            # of a longer name (whose key folds adjectives: "Dresdner Frauenkirche" gives
            # "dresd", no name)
            found = next((b for b in bases if (lab, b) in attested or (lab == "LOC" and b in countries_by_key)),
                         None) or next((b for b in bases if (lab, b) in tokens_of_long), None)
            if found is None and lab == "LOC" and " " not in key:
                found = _known_city_base(self.stripped[i], key, bases)  # "Traunsteins"
            if found is not None:
                self.key[i], self.genitive[i] = found, True

    def resolve_articles(self) -> None:
        """A name that starts with an article ("Der Spiegel", "Die Linke", "The
        Independent") takes the key of the name without it where the corpus also uses
        that name for an organisation or a thing: newspapers and parties are named both
        ways, and the model often reads the form with the article as MISC; the label
        vote then gives the two one label."""
        attested = {self.key[i] for i in range(len(self.text))
                    if self.kind[i] != "deriv" and self.label[i] in _ARTICLE_LABELS}
        for i in range(len(self.text)):
            key = self.key[i]
            if self.kind[i] == "deriv" or self.label[i] not in _ARTICLE_LABELS:
                continue
            art, _, rest = key.partition(" ")
            if art in _ARTICLES and len(rest) >= 4 and rest in attested:
                self.key[i], self.form_rule[i] = rest, C.ARTICLE


#: articles a name may start with (folded), and the labels of such names
_ARTICLES = frozenset({"der", "die", "das", "the"})
_ARTICLE_LABELS = frozenset({"ORG", "MISC"})


def _known_city_base(surface: str, key: str, bases: list[str]) -> str | None:
    """The base of a place's genitive that the gazetteer knows as a city or region
    ("Traunsteins" -> "traunstein", "Sachsens" -> "sachsen"), when no mention names it;
    not for a form the gazetteer knows itself ("Paris", not "Pari"), nor for bases under
    five letters."""
    from ..places import is_city_or_region

    if is_city_or_region(surface):  # "Paris", "Athens": a name of its own
        return None
    for b in bases:
        cut = len(key) - len(b)
        if 0 < cut and len(surface) - cut >= 5 and is_city_or_region(surface[:-cut]):
            return b
    return None


def _akey(text: str, label: str) -> str:
    """The key of a name given by an analyst or a previous run (titles stripped for PER)."""
    lab = label or "PER"
    return name_key(strip_titles(text) if lab == "PER" else text, lab)


def _previous_names(previous_entities: pd.DataFrame | None) -> set[tuple[str, str]]:
    """(label, key) of every canonical name and alias of a previous run's entities."""
    if previous_entities is None or not len(previous_entities):
        return set()
    out = set()
    for r in previous_entities.itertuples(index=False):
        for nm in [str(r.canonical_name)] + _as_list(getattr(r, "aliases", None)):
            k = _akey(nm, str(r.label))
            if k:
                out.add((str(r.label), k))
    return out


def _previous_keys(names: list[str], label: str, cur_pairs: set[tuple[str, str]],
                   cur_labels: list[str]) -> dict[str, list[tuple[int, str]]]:
    """The keys a previous entity's names (canonical name first) are registered under:
    {label: [(name index, key), ...]}. Normally its own label and name keys; besides, a
    name met in this run only as a derived form ("Wiener" -> "~wiener") adds that key. When
    none of its keys is met under its own label but they are met under exactly one other
    label (this run's label vote differs), the keys are registered under that label."""
    own = []
    for i, nm in enumerate(names):
        k = _akey(nm, label)
        if k:
            own.append((i, k))
        d = "~" + adjective_lemma(nm)
        if (label, d) in cur_pairs:
            own.append((i, d))
    if not cur_pairs or any((label, k) in cur_pairs for _, k in own):
        return {label: own}
    other: dict[str, list[tuple[int, str]]] = {}
    for lab2 in cur_labels:
        if lab2 == label:
            continue
        for i, nm in enumerate(names):
            for k in (_akey(nm, lab2), "~" + adjective_lemma(nm)):
                if k and (lab2, k) in cur_pairs:
                    other.setdefault(lab2, []).append((i, k))
    if len(other) == 1:
        return other
    return {label: own}


def _mention_frame(mentions: pd.DataFrame) -> pd.DataFrame:
    missing = [c for c in _NEED if c not in mentions.columns]
    if missing:
        raise KeyError(f"link(): mentions lack column(s) {', '.join(missing)}")
    return mentions.reset_index(drop=True)


def _as_list(v: object) -> list[str]:
    if v is None:
        return []
    if isinstance(v, str):
        s = v.strip()
        if s.startswith("["):
            try:
                return [str(x) for x in json.loads(s)]
            except ValueError:
                pass
        return [p.strip() for p in s.replace(";", "|").split("|") if p.strip()]
    if isinstance(v, float) and np.isnan(v):
        return []
    if isinstance(v, Iterable):
        return [str(x) for x in v if x is not None]
    return [str(v)]


# --------------------------------------------------------------------------- context


@dataclass(eq=False)
class Nodes:
    """The nodes table, built once: one node per (scope, label, key); scope is 0 with
    ``cross_document``, else the document. Nodes ``0..NN-1`` are names (and virtual
    names: places only reached through derived forms or country aliases, alias-file
    canonical names, a previous run's names); a previous run's entities follow as nodes
    ``NN..NN+NP-1`` in the union-find. :meth:`frame` shows it as a table."""

    codes: np.ndarray  # sorted node codes: scope * L * K + label code * K + key code
    scope: np.ndarray
    label: list[str]
    key: list[str]
    tkey: list[str]  # transliteration key (derived-form keys "~lemma" kept)
    real: np.ndarray  # reached by a mention (False: a virtual node)
    n_mentions: np.ndarray
    lab_code: dict[str, int]
    key_code: dict[str, int]
    index: dict[int, int]  # node code -> node (only built when there are virtual nodes)

    def __len__(self) -> int:
        return len(self.key)

    def nid(self, s: int, lab: str, key: str) -> int:
        """The node of (scope, label, key) (one that exists)."""
        L, K = len(self.lab_code), len(self.key_code)
        return self.index[s * (L * K) + self.lab_code[lab] * K + self.key_code[key]]

    def frame(self) -> pd.DataFrame:
        """The nodes as a table: scope, label, key, tkey, n_mentions, real."""
        return pd.DataFrame({"scope": self.scope, "label": self.label, "key": self.key, "tkey": self.tkey,
                             "n_mentions": self.n_mentions, "real": self.real})


@dataclass(eq=False)
class Edges:
    """What a comparison level returns: node pairs (``a`` is the node attached to,
    ``b`` the attached one), the level (rule name and default score), a score per edge
    where it varies, and the evidence per edge where it is not simply the attached
    node's mentions: (number of mentions, their five smallest ids). ``force`` skips the
    constraints (analyst merges); ``names`` off skips the person-name check (the names of
    one earlier entity)."""

    a: np.ndarray
    b: np.ndarray
    level: C.Level
    score: np.ndarray | None = None
    evidence: list | None = None
    force: bool = False
    names: bool = True

    def __len__(self) -> int:
        return len(self.a)

    @classmethod
    def none(cls, level: C.Level) -> "Edges":
        return cls(np.empty(0, np.int64), np.empty(0, np.int64), level)


class _EdgeLog:
    """Every edge offered to the union-find, in order, with its decision."""

    def __init__(self) -> None:
        self.a: list[np.ndarray] = []
        self.b: list[np.ndarray] = []
        self.rule: list[str] = []
        self.score: list[np.ndarray] = []
        self.status: list[np.ndarray] = []
        self.reason: list = []
        self.evidence: dict[int, list] = {}
        self._n = 0

    def apply(self, uf: UnionFind, e: Edges) -> np.ndarray:
        """Offer the edges to the union-find at once; returns their status."""
        if len(e.a) == 0:
            return np.empty(0, np.int8)
        a = np.asarray(e.a, dtype=np.int64)
        b = np.asarray(e.b, dtype=np.int64)
        status, reasons = uf.apply_edges(a, b, force=e.force, names=e.names)
        if e.evidence is not None:
            for i, ev in enumerate(e.evidence):
                self.evidence[self._n + i] = ev
        self._n += len(a)
        self.a.append(a)
        self.b.append(b)
        self.rule.extend([e.level.name] * len(a))
        self.score.append(np.full(len(a), e.level.score) if e.score is None else np.asarray(e.score, float))
        self.status.append(status)
        self.reason.extend(reasons)
        return status

    def arrays(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(a, b, score, status) of all edges."""
        cat = lambda xs: np.concatenate(xs) if xs else np.empty(0, np.int64)  # noqa: E731
        return (cat(self.a), cat(self.b), np.concatenate(self.score) if self.score else np.empty(0),
                cat(self.status).astype(np.int8) if self.status else np.empty(0, np.int8))


class MentionParts:
    """The mentions to link, as parts: DataFrames or Parquet files (schema 'mentions'),
    each document wholly inside one part (a checkpoint batch, a Dask partition).

    The linker reads the parts pass by pass, one at a time, and keeps per part a few
    work arrays with one entry per mention (surface, document, node codes, in-document
    links): in memory, or with ``spill_dir`` as ``.npy`` files in that folder. What it
    holds across parts is indexed by distinct surfaces and names, so with ``spill_dir``
    its memory follows the distinct names and one part, not the mentions of the corpus.
    """

    def __init__(self, parts: Iterable[pd.DataFrame | str | Path], spill_dir: str | Path | None = None):
        self.parts = [p if isinstance(p, pd.DataFrame) else Path(p) for p in parts]
        self.spill = Path(spill_dir) if spill_dir is not None else None
        self._mem: list[dict[str, np.ndarray]] = [{} for _ in self.parts]
        self._names: list[list[str] | None] = [None] * len(self.parts)
        self.out_sizes: list[int] | None = None  # after merged(): the sizes of the parts joined

    def __len__(self) -> int:
        return len(self.parts)

    def columns(self, i: int) -> list[str]:
        if self._names[i] is None:
            p = self.parts[i]
            self._names[i] = (list(p.columns) if isinstance(p, pd.DataFrame)
                              else list(pq.ParquetFile(p).schema_arrow.names))
        return self._names[i]

    def n_rows(self) -> int:
        """The number of mentions in all parts (Parquet files: from their metadata)."""
        return sum(len(p) if isinstance(p, pd.DataFrame) else pq.ParquetFile(p).metadata.num_rows
                   for p in self.parts)

    def read(self, i: int, columns: Iterable[str] | None = None) -> pd.DataFrame:
        """Part ``i`` with those of ``columns`` it has (None: all), index 0..n-1."""
        p = self.parts[i]
        cols = None if columns is None else [c for c in columns if c in self.columns(i)]
        if isinstance(p, pd.DataFrame):
            return p if cols is None else p[cols]
        return pd.read_parquet(p, columns=cols).reset_index(drop=True)

    def put(self, i: int, **arrays: np.ndarray) -> None:
        """Keep work arrays of part ``i``."""
        if self.spill is None:
            self._mem[i].update(arrays)
            return
        for name, a in arrays.items():
            np.save(self.spill / f"{i:05d}-{name}.npy", a, allow_pickle=a.dtype == object)

    def get(self, i: int, name: str) -> np.ndarray:
        """A work array of part ``i``."""
        if self.spill is None:
            return self._mem[i][name]
        return np.load(self.spill / f"{i:05d}-{name}.npy", allow_pickle=True)

    def merged(self) -> "MentionParts":
        """All parts as one (for per-document linking, whose nodes follow documents); its
        linked mentions are handed out again as the original parts."""
        frames = [self.read(i) for i in range(len(self))]
        out = MentionParts([pd.concat(frames, ignore_index=True)])
        out.out_sizes = [len(f) for f in frames]
        return out


_NEED = ["mention_id", "doc_id", "start_char", "end_char", "text", "label", "kind"]


def _scan_surfaces(P: MentionParts) -> tuple["_Surfaces", int]:
    """The first pass over the parts: the distinct surfaces (surface text, label, kind)
    in order of first mention, and per part each mention's surface code ``s`` and
    document code ``d`` (documents numbered in order of first mention). Returns
    (surfaces, number of documents).

    The surface text is ``norm_text`` (the span as the model saw it: mojibake repaired,
    HTML entities unescaped, tags and invisible characters gone) where that column is
    present and not empty, else ``text``; cleaned by :func:`clean_surface` (once per
    distinct value). A span that cleans to nothing keeps its text. ``mentions.text``
    itself is never changed."""
    index: dict[tuple[str, str, str], int] = {}
    texts: list[str] = []
    labels: list[str] = []
    kinds: list[str] = []
    clean_of: dict[object, str] = {}
    hashes: list[np.ndarray] = []
    n_docs = 0
    for i in range(len(P)):
        missing = [c for c in _NEED if c not in P.columns(i)]
        if missing:
            raise KeyError(f"link(): mentions lack column(s) {', '.join(missing)}")
        m = P.read(i, ["text", "norm_text", "label", "kind", "doc_id"])
        col = m["text"]
        if "norm_text" in m.columns:
            norm = m["norm_text"]
            ok = norm.notna().to_numpy() & (norm.fillna("").astype(str).str.strip() != "").to_numpy()
            col = norm.where(ok, col)
        codes, uniq = pd.factorize(col, use_na_sentinel=True)
        clean = []
        for u in np.asarray(uniq, dtype=object).tolist():
            c = clean_of.get(u)
            if c is None:
                c = clean_of[u] = clean_surface(str(u)) or str(u)
            clean.append(c)
        t_code, t_uniq = pd.factorize(pd.Series(clean + [""], dtype=object), sort=False)
        t = t_code[codes].astype(np.int64)  # code -1 (a missing text) -> the final "" entry
        l_code, l_uniq = pd.factorize(m["label"].astype(str), sort=False)
        k_code, k_uniq = pd.factorize(m["kind"].astype(str), sort=False)
        nl, nk = max(len(l_uniq), 1), max(len(k_uniq), 1)
        s_loc, s_uniq = pd.factorize((t * nl + l_code) * nk + k_code, sort=False)
        t_obj = np.asarray(t_uniq, dtype=object)
        l_obj, k_obj = np.asarray(l_uniq, dtype=object), np.asarray(k_uniq, dtype=object)
        glob = np.empty(len(s_uniq), dtype=np.int32)
        for j, c in enumerate(np.asarray(s_uniq, dtype=np.int64).tolist()):
            key = (t_obj[c // (nl * nk)], l_obj[(c // nk) % nl], k_obj[c % nk])
            g = index.get(key)
            if g is None:
                g = index[key] = len(texts)
                texts.append(key[0])
                labels.append(key[1])
                kinds.append(key[2])
            glob[j] = g
        d_code, d_uniq = pd.factorize(m["doc_id"], sort=False)
        if len(P) > 1:
            hashes.append(pd.util.hash_array(np.asarray(d_uniq, dtype=object)))
        P.put(i, s=glob[s_loc], d=(d_code + n_docs).astype(np.int32))
        n_docs += len(d_uniq)
    if hashes:
        h = np.concatenate(hashes)
        if len(np.unique(h)) != len(h):
            raise ValueError("link: a document's mentions are spread over several parts; "
                             "each document must lie wholly in one part")
    return _Surfaces(texts, labels, kinds), n_docs


@dataclass(eq=False)
class _InDocument:
    """What the pass within documents (:func:`_in_documents`) found: the (label, key)
    pairs of the mentions after their in-document links, in order of first mention; the
    surface of each pair's first mention; the distinct (scope, pair) rows; the short
    forms used alone for full names; and the abbreviations the corpus defines."""

    lk_pairs: list[tuple[str, str]]
    first_s: list[int]
    pair_scope: pd.DataFrame
    short_forms: dict[str, set[str]]
    abbr_global: list
    articles: np.ndarray  # (surfaces, 5): mentions after "der", "die", "das", "den", "des"


def _in_documents(P: MentionParts, S: "_Surfaces", cfg: LinkConfig, node_label_u: list[str],
                  node_key_u: list[str], is_deriv_u: np.ndarray, forbidden_pairs: set,
                  mapper: Callable | None = None) -> _InDocument:
    """The pass within documents, part by part: partial names ("Kim", "Putins") -> the
    full name they belong to (``compare.resolve_partials``) and abbreviations defined in
    the text ("Long Form (LF)", with ``link.abbreviations``). Per part it keeps each
    mention's pair code ``p``, its partial-name level (``partial``: 0 none, 1 one
    candidate, 2 several), whether it is a short form attached in its document
    (``abbr``), its bracket affiliation (``aff``) and, without ``cross_document``, its
    scope (the document in sorted order).

    Each part is worked on its own (:func:`_in_document_task`), by ``mapper`` where given
    (the run's workers: a part read from its Parquet file there, its work arrays written
    to the spill folder, which must then be on storage the workers share); the parts'
    pairs are numbered here, in part order, so the codes are those of one process."""
    use_abbr = bool(cfg.abbreviations)
    # surfaces that look like an abbreviation ("UNO", "EU")
    abbr_u = np.array([use_abbr and (len(t) <= 10 or len(t.strip()) <= 10) and is_abbreviation(t) for t in S.text],
                      dtype=bool)
    cols = ["start_char", "prev_chars"] + (["end_char", "next_chars", "mention_id"] if use_abbr else []) + \
        ([] if cfg.cross_document else ["doc_id"])
    spill = None if P.spill is None else str(P.spill)
    args = []
    for i in range(len(P)):
        src = P.parts[i] if isinstance(P.parts[i], pd.DataFrame) else str(P.parts[i])
        sd = (None, None) if spill is not None else (P.get(i, "s"), P.get(i, "d"))
        args.append((i, src, [c for c in cols if c in P.columns(i)], spill, *sd))
    common = (_SurfaceText(S.text, S.stripped), cfg, np.asarray(node_label_u, dtype=object),
              np.asarray(node_key_u, dtype=object), is_deriv_u, abbr_u, forbidden_pairs)
    pair_index: dict[str, int] = {}
    lk_pairs: list[tuple[str, str]] = []
    first_s: list[int] = []
    short_forms: dict[str, set[str]] = {}  # full key -> translit keys used alone for it
    defs: dict[tuple[str, str], dict[str, list]] = {}
    scopes: list[pd.DataFrame] = []
    articles = np.zeros(len(S.text) * len(_ARTICLES_BEFORE), dtype=np.int64)
    # one part is worked on here: a task would only add the trip to a worker and back
    for i, r in enumerate((mapper if mapper is not None and len(args) > 1 else _local_map)(
            _in_document_task, args, common)):
        glob = np.empty(len(r["pairs"]), dtype=np.int32)
        for j, (x, s0) in enumerate(zip(r["pairs"], r["first_s"])):
            g = pair_index.get(x)
            if g is None:
                g = pair_index[x] = len(lk_pairs)
                lk_pairs.append(tuple(x.split(_SEP, 1)))
                first_s.append(s0)
            glob[j] = g
        local = r["p"] if r["p"] is not None else np.load(_spilled(spill, i, "plocal"))
        p = glob[local] if len(local) else np.zeros(0, dtype=np.int32)
        if r["partial"] is not None:  # in memory
            P.put(i, p=p, partial=r["partial"], abbr=r["abbr"], aff=r["aff"])
        else:
            P.put(i, p=p)
        np.add.at(articles, r["articles"][0], r["articles"][1])
        for k, v in r["short_forms"].items():
            short_forms.setdefault(k, set()).update(v)
        for key, longs_ in r["defs"].items():
            into = defs.setdefault(key, {})
            for lk, (n, ids) in longs_.items():
                ev = into.setdefault(lk, [0, []])
                ev[0] += n
                ev[1] = sorted(ev[1] + ids)[:5]
        if not cfg.cross_document:  # one part (see build_context)
            P.put(i, scope=r["scope"])
            scopes.append(pd.DataFrame({"s": r["scope"], "p": p}).drop_duplicates())
    if cfg.cross_document:
        pair_scope = pd.DataFrame({"s": np.zeros(len(lk_pairs), dtype=np.int64),
                                   "p": np.arange(len(lk_pairs), dtype=np.int64)})
    else:
        pair_scope = (pd.concat(scopes, ignore_index=True) if scopes
                      else pd.DataFrame({"s": [], "p": []}, dtype=np.int64))
    # definitions that hold across documents: every definition of the short form in the
    # corpus gives one long form
    abbr_global = []
    for (lab, sk), longs_ in sorted(defs.items()):
        if len(longs_) == 1:
            (lk, ev), = longs_.items()
            abbr_global.append((lab, sk, lk, (ev[0], tuple(ev[1]))))
    return _InDocument(lk_pairs=lk_pairs, first_s=first_s, pair_scope=pair_scope, short_forms=short_forms,
                       abbr_global=abbr_global, articles=articles.reshape(-1, len(_ARTICLES_BEFORE)))


@dataclass(frozen=True)
class _SurfaceText:
    """The surface texts a part's abbreviations need (what a worker is sent of them)."""

    text: list[str]
    stripped: list[str]


def _local_map(fn: Callable, args: list, common: tuple = ()) -> Iterable:
    """``fn(*a, *common)`` for each of ``args``, lazily, in order."""
    return (fn(*a, *common) for a in args)


def _spilled(spill: str, i: int, name: str) -> str:
    return str(Path(spill) / f"{i:05d}-{name}.npy")


def _in_document_task(i: int, src, cols: list[str], spill: str | None, s, d, S: _SurfaceText, cfg: LinkConfig,
                      lab_u: np.ndarray, key_u: np.ndarray, is_deriv_u: np.ndarray, abbr_u: np.ndarray,
                      forbidden_pairs: set) -> dict:
    """The pass within documents over part ``i`` (``src``: its Parquet file or frame; its
    surface and document codes ``s``, ``d``, or None to read them from ``spill``).
    Returns the part's distinct (label, key) pairs in order of first mention (as
    "label<SEP>key", with the surface of each one's first mention), its short forms and
    abbreviation definitions, the articles before its names (``articles``: codes
    surface * 5 + article, :data:`_ARTICLES_BEFORE`, and their counts), and per mention
    the local pair code, partial-name level, short-form flag and affiliation; with
    ``spill`` those arrays are written there (``plocal``, ``partial``, ``abbr``, ``aff``)
    instead of returned."""
    if spill is not None:
        s, d = np.load(_spilled(spill, i, "s")), np.load(_spilled(spill, i, "d"))
    m = src[cols] if isinstance(src, pd.DataFrame) else pd.read_parquet(src, columns=cols).reset_index(drop=True)
    n = len(s)
    start = m["start_char"].astype("int64").to_numpy()
    lab_m, key_m, is_deriv = lab_u[s], key_u[s], is_deriv_u[s]
    partial = np.zeros(n, dtype=np.int8)
    short_forms: dict[str, set[str]] = {}
    tk: dict[str, str] = {}
    per_mask = (lab_m == "PER") & ~is_deriv
    if per_mask.any():
        idx = np.nonzero(per_mask)[0]
        pk = key_m[idx]
        for k in set(pk.tolist()):
            tk[k] = translit_key(k)
        per = pd.DataFrame({
            "doc": d[idx], "key": pk, "tkey": [tk[k] for k in pk],
            "ntok": [k.count(" ") + 1 for k in pk], "start": start[idx], "row": idx,
        })
        best = C.resolve_partials(per, forbidden_pairs)
        if len(best):
            hit = per.merge(best, on=["doc", "key"])
            rows = hit["row"].to_numpy()
            key_m[rows] = hit["target"].to_numpy(dtype=object)
            partial[rows] = np.where(hit["n_candidates"].to_numpy() == 1, 1, 2)
            # short forms that may stand for the name in other documents: the surname,
            # and a family name written first when it was used alone for it (Kim for
            # Kim Jong Un, Xi for Xi Jinping); a given name used alone ("Klaus") is not
            # carried over
            for k, t in set(zip(best["key"], best["target"])):
                if " " in k:
                    continue
                toks = t.split(" ")
                if k == toks[-1] or (k == toks[0] and (len(toks) >= 3 or len(k) <= 2)):
                    short_forms.setdefault(t, set()).add(tk[k])
    abbr_m = np.zeros(n, dtype=bool)
    affiliation = np.full(n, None, dtype=object)
    defs: dict[tuple[str, str], dict[str, list]] = {}
    if cfg.abbreviations and "next_chars" in m.columns:
        _abbreviations(m, S, abbr_u, s, is_deriv, lab_m, key_m, d, abbr_m, affiliation, defs)
    articles = _articles_before(m, s, lab_m, is_deriv)
    lk_loc, lk_uniq = pd.factorize(pd.Series(lab_m + _SEP + key_m, dtype=object), sort=False)
    first = np.unique(lk_loc, return_index=True)[1]
    scope = None
    if not cfg.cross_document:
        scope = pd.factorize(pd.Series(_shared_objects(m["doc_id"].astype(str))), sort=True)[0].astype(np.int64)
    out = {"pairs": np.asarray(lk_uniq, dtype=object).tolist(), "first_s": [int(x) for x in s[first]],
           "short_forms": short_forms, "defs": defs, "scope": scope, "articles": articles,
           "p": lk_loc.astype(np.int32), "partial": partial, "abbr": abbr_m, "aff": affiliation}
    if spill is not None:
        for name, a in (("plocal", out["p"]), ("partial", partial), ("abbr", abbr_m), ("aff", affiliation)):
            np.save(_spilled(spill, i, name), a, allow_pickle=a.dtype == object)
        out.update(p=None, partial=None, abbr=None, aff=None)
    return out


#: the definite articles counted before names (their order is their code)
_ARTICLES_BEFORE = ("der", "die", "das", "den", "des")
_ARTICLE_BEFORE = re.compile("(?:^|\\W)(der|die|das|den|des)\\s+[„“\"»«‚']?$", re.IGNORECASE)
_ARTICLE_CODE = {a: i for i, a in enumerate(_ARTICLES_BEFORE)}


def _articles_before(m: pd.DataFrame, s: np.ndarray, lab_m: np.ndarray, is_deriv: np.ndarray
                     ) -> tuple[np.ndarray, np.ndarray]:
    """The definite articles right before a part's non-person names, from the optional
    ``prev_chars`` column: (codes surface * 5 + article, counts)."""
    none = (np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64))
    if "prev_chars" not in m.columns:
        return none
    idx = np.nonzero(~is_deriv & (lab_m != "PER"))[0]
    if not len(idx):
        return none
    prev = m["prev_chars"].to_numpy(dtype=object)[idx]
    code = np.full(len(idx), -1, dtype=np.int64)
    for j, x in enumerate(prev.tolist()):
        if isinstance(x, str) and x:
            hit = _ARTICLE_BEFORE.search(x)
            if hit:
                code[j] = _ARTICLE_CODE[hit.group(1).casefold()]
    ok = code >= 0
    u, n = np.unique(s[idx[ok]].astype(np.int64) * len(_ARTICLES_BEFORE) + code[ok], return_counts=True)
    return u, n.astype(np.int64)


@dataclass(eq=False)
class LinkContext:
    """What the comparison levels and the final step read: the mention parts (with their
    per-part work arrays), the surfaces, the nodes table, the constraints (the
    union-find, analyst splits) and the data behind the virtual nodes. Built once by
    :func:`build_context`; the levels read it (and the union-find's current clusters),
    they do not change it. Nothing in it has one entry per mention of the corpus: that
    lives in the parts."""

    cfg: LinkConfig
    P: MentionParts
    S: _Surfaces
    n_docs: int
    ctry: object | None  # aliases.Countries, None with country_aliases off
    adjs: object  # aliases.PlaceAdjectives
    # per surface
    is_deriv_u: np.ndarray
    mkey_u: list[str]
    deriv_rule_u: list
    # pairs, nodes and what lies behind the virtual ones
    lk_pairs: list[tuple[str, str]]
    pair_nodes: pd.DataFrame  # distinct (s: scope, p: pair, node) of the mentions
    nodes: Nodes
    groups: pd.DataFrame  # mentions counted by (node, s: surface, pt: partial name, ml: model label)
    model_labels: np.ndarray  # ml code -> model label (None: missing)
    display: dict[tuple[str, str], str]
    forced_canonical: dict[tuple[str, str], str]
    alias_hits: list[tuple[int, str]]
    country_of_pair: dict[int, str]
    prev_rows: list[dict]
    prev_edges: list[tuple[int, int]]
    short_forms: dict[str, set[str]]
    abbr_global: list
    articles: np.ndarray  # per surface, mentions after "der", "die", "das", "den", "des"
    forbidden_pairs: set[tuple[str, str]]
    uf: UnionFind

    @property
    def NN(self) -> int:
        return len(self.nodes)

    @property
    def NP(self) -> int:
        return len(self.prev_rows)

    @property
    def total(self) -> int:
        return self.NN + self.NP

    def pair_rows(self) -> list[tuple[int, int, int]]:
        """(scope, pair, node) of each (scope, label+key pair) an alias-file merge or a
        country alias concerns."""
        wanted = {p for p, ck in self.alias_hits if self.lk_pairs[p][1] != ck} | set(self.country_of_pair)
        if not wanted:
            return []
        pn = self.pair_nodes
        pn = pn[np.isin(pn["p"].to_numpy(), np.fromiter(wanted, dtype=np.int64))]
        return list(zip(pn["s"].tolist(), pn["p"].tolist(), pn["node"].tolist()))

    @cached_property
    def org_surfaces(self) -> dict[int, str]:
        """Each real organisation node's most frequent surface ("VW", "Daimler AG"; its key
        is folded and stemmed): read by the legal-form, trade-head and acronym levels,
        counted once."""
        nodes = [i for i in range(self.NN) if self.nodes.label[i] == "ORG" and self.nodes.real[i]]
        g = self.groups[self.groups["node"].isin(nodes)].groupby(["node", "s"], as_index=False)["n"].sum()
        g = g.sort_values(["node", "n", "s"], ascending=[True, False, True]).drop_duplicates("node")
        return {int(i): self.S.text[int(k)] for i, k in zip(g["node"], g["s"])}

    def node_docs(self, nodes: np.ndarray) -> dict[int, frozenset]:
        """The documents (codes) each of ``nodes`` is mentioned in (a pass over the parts)."""
        want = np.asarray(nodes, dtype=np.int64)
        frames = []
        for i in range(len(self.P)):
            node, d = self.P.get(i, "node"), self.P.get(i, "d")
            sel = np.isin(node, want)
            frames.append(pd.DataFrame({"node": node[sel], "doc": d[sel]}).drop_duplicates())
        nd = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame({"node": [], "doc": []})
        return nd.groupby("node")["doc"].apply(frozenset).to_dict()


def build_context(mentions: pd.DataFrame | MentionParts, cfg: LinkConfig, *,
                  previous_entities: pd.DataFrame | None = None,
                  aliases: pd.DataFrame | None = None, mapper: Callable | None = None) -> LinkContext:
    """Steps 1-3 of the module docstring on non-empty mentions (a table or
    :class:`MentionParts`): keys per surface, partial names, abbreviations defined in the
    text, the nodes table, and the union-find with its constraints (no edge applied
    yet). Without ``cross_document`` the parts are first joined into one (its nodes are
    per document anyway). ``mapper`` (the run's workers) does the pass within documents
    part by part (:func:`_in_documents`)."""
    P = mentions if isinstance(mentions, MentionParts) else MentionParts([_mention_frame(mentions)])
    if not cfg.cross_document and len(P) > 1:
        P = P.merged()
    if aliases is None:
        aliases = load_aliases(resolve_aliases_path(cfg.aliases_file))
    aliases = normalize_aliases(aliases)
    ctry = countries() if cfg.country_aliases else None
    adjs = place_adjectives()

    S, n_docs = _scan_surfaces(P)
    # one label per name key, by the votes of its mentions; before genitives (so "Obamas"
    # tagged LOC finds "Obama") and again after them ("Bundestages" -> "Bundestag")
    _vote_labels(S, P, S.key0)
    S.resolve_genitives(ctry.by_key if ctry else {}, _previous_names(previous_entities))
    S.resolve_articles()
    _vote_labels(S, P, S.key)
    U = len(S.text)

    # ---- derivs -> place key (node key) ------------------------------------------------
    node_key_u = list(S.key)  # node key per surface (before partial names)
    node_label_u = list(S.label)
    mkey_u = list(S.key)  # the mention's own key (output column `key`)
    deriv_rule_u: list[C.Level | None] = [None] * U
    display: dict[tuple[str, str], str] = {}  # (label, key) of virtual nodes -> name
    loc_set = {S.key[i] for i in range(U) if S.label[i] == "LOC" and S.kind[i] != "deriv"}
    if cfg.link_derivs:
        _derived_names(S, adjs, loc_set, ctry)
        # a name that became a derived form is no place of its own for the others
        # ("Genfer" written as a name and as an adjective: both go to Genf)
        loc_set = {S.key[i] for i in range(U) if S.label[i] == "LOC" and S.kind[i] != "deriv"}
    if S.deriv_idx:
        loc_keys = sorted(loc_set)
        known_places = loc_set | (set(ctry.by_key) if ctry is not None else set())
        loc_names = _LocNames(S, ctry)
        for i in S.deriv_idx:
            place, lemma = adjs.lookup(S.text[i])
            mkey_u[i] = lemma
            if not cfg.link_derivs:
                node_key_u[i], deriv_rule_u[i] = "~" + lemma, None
                display[(S.label[i], "~" + lemma)] = lemma
                continue
            if place is not None:
                pk = name_key(place, "LOC")
                node_key_u[i], node_label_u[i], deriv_rule_u[i] = pk, "LOC", C.DERIV
                display.setdefault(("LOC", pk), place)
                continue
            hit = stem_prefix_match(lemma, loc_keys)
            if hit is None or hit == S.key0[i]:  # a form tagged as a place is not its own place
                hit = inhabitant_place(S.text[i], known_places, exclude=S.key0[i])
            if hit is None:
                hit = _place_of_form(S.text[i], lemma, S.key0[i], adjs, known_places, loc_names, display)
            if hit is not None and ctry is not None and hit in ctry.by_key and hit not in loc_set:
                code = ctry.by_key[hit]
                display.setdefault(("LOC", ctry.canonical_key(code)), ctry.names[code])
                hit = ctry.canonical_key(code)
            if hit is not None:
                node_key_u[i], node_label_u[i], deriv_rule_u[i] = hit, "LOC", C.DERIV_STEM
            else:
                node_key_u[i] = "~" + lemma
                display[(S.label[i], "~" + lemma)] = lemma
    is_deriv_u = np.asarray(S.kind, dtype=object) == "deriv"

    # ---- analyst splits (cannot-link), needed before partial names -------------------------
    splits = aliases[aliases["action"] == "split"]
    merges = aliases[aliases["action"] == "merge"]

    forbidden_pairs: set[tuple[str, str]] = set()
    for r in splits.itertuples(index=False):
        a, b = _akey(r.alias, r.label), _akey(r.canonical_name, r.label)
        forbidden_pairs.update({(a, b), (b, a)})

    # ---- within documents: partial names, abbreviations defined in the text ---------------
    D = _in_documents(P, S, cfg, node_label_u, node_key_u, is_deriv_u, forbidden_pairs, mapper)
    lk_pairs, pair_scope = D.lk_pairs, D.pair_scope

    # ---- nodes: (scope, label, key) of the mentions, then the virtual ones ------------------
    extra_triples: list[tuple[int, str, str]] = []
    country_of_pair: dict[int, str] = {}
    if ctry is not None:
        country_key_of_pair: dict[int, str] = {}
        # all-caps code mentions ("USA", "US") need the surface: that of the pair's first mention
        for p, (lab, key) in enumerate(lk_pairs):
            if lab != "LOC" or key.startswith("~"):
                continue
            s0 = D.first_s[p]
            code = ctry.code(key, S.stripped[s0] if not is_deriv_u[s0] else None)
            if code is not None:
                country_of_pair[p] = code
                ck = ctry.canonical_key(code)
                display.setdefault(("LOC", ck), ctry.names[code])
                country_key_of_pair[p] = ck
        for s, p in zip(pair_scope["s"].tolist(), pair_scope["p"].tolist()):
            if p in country_key_of_pair:
                extra_triples.append((s, "LOC", country_key_of_pair[p]))

    alias_targets: list[tuple[str, str, str, str]] = []  # (label or "", alias key, canon key, canon)
    for r in merges.itertuples(index=False):
        lab = r.label
        alias_targets.append((lab, _akey(r.alias, lab), _akey(r.canonical_name, lab), r.canonical_name))
    forced_canonical: dict[tuple[str, str], str] = {}
    alias_hits: list[tuple[int, str]] = []  # (label+key pair, canonical key)
    if alias_targets:
        by_key: dict[str, list[int]] = {}
        for p, (lab, key) in enumerate(lk_pairs):
            by_key.setdefault(key, []).append(p)
        for lab, ak, ck, canon in alias_targets:
            for p in by_key.get(ak, []):
                plab = lk_pairs[p][0]
                if lab and plab != lab:
                    continue
                forced_canonical[(plab, ck)] = canon
                display.setdefault((plab, ck), canon)
                alias_hits.append((p, ck))
        if alias_hits:
            hp = pd.DataFrame(alias_hits, columns=["p", "ck"]).merge(pair_scope, on="p")
            for s, p, ck in zip(hp["s"].tolist(), hp["p"].tolist(), hp["ck"].tolist()):
                extra_triples.append((s, lk_pairs[p][0], ck))

    # previous run's entities: (label, key) of each name -> its row (unique keys only)
    prev_rows: list[dict] = []
    prev_key_to_row: dict[tuple[str, str], int] = {}
    if previous_entities is not None and len(previous_entities):
        by_lk: dict[tuple[str, str], list[tuple[int, bool]]] = {}
        cur_pairs = set(lk_pairs)
        cur_labels = sorted({lab for lab, _ in lk_pairs})
        for j, r in enumerate(previous_entities.reset_index(drop=True).itertuples(index=False)):
            lab = str(r.label)
            prev_rows.append({"entity_id": str(r.entity_id), "label": lab,
                              "canonical_name": str(r.canonical_name),
                              "aliases": _as_list(getattr(r, "aliases", None))})
            names = list(dict.fromkeys([str(r.canonical_name)] + prev_rows[-1]["aliases"]))
            for lab2, keys in _previous_keys(names, lab, cur_pairs, cur_labels).items():
                if lab2 != lab:  # this run's votes give its names another label: the
                    prev_rows[-1]["label"] = lab = lab2  # entity keeps its id, not its label
                for i_name, k in keys:
                    by_lk.setdefault((lab2, k), []).append((j, i_name == 0))
        for lk_, hits in sorted(by_lk.items()):
            ids = sorted({j for j, _ in hits})
            if len(ids) > 1:  # a name two previous entities share: only a canonical name counts
                ids = sorted({j for j, is_c in hits if is_c})
            if len(ids) == 1:
                prev_key_to_row[lk_] = ids[0]
        if cfg.cross_document:
            extra_triples.extend((0, lab, k) for lab, k in prev_key_to_row)

    # deriv place nodes are ordinary triples (the place key) already; all labels/keys:
    all_labels = sorted(set(lk_p[0] for lk_p in lk_pairs) | {t[1] for t in extra_triples},
                        key=lambda x: (LABEL_ORDER.get(x, 99), x))
    all_keys = sorted(set(lk_p[1] for lk_p in lk_pairs) | {t[2] for t in extra_triples})
    lab_code = {lab: i for i, lab in enumerate(all_labels)}
    key_code = {k: i for i, k in enumerate(all_keys)}
    L, K = len(all_labels), len(all_keys)
    pair_lab = np.array([lab_code[p[0]] for p in lk_pairs], dtype=np.int64)
    pair_key = np.array([key_code[p[1]] for p in lk_pairs], dtype=np.int64)
    ps_s, ps_p = pair_scope["s"].to_numpy(dtype=np.int64), pair_scope["p"].to_numpy(dtype=np.int64)
    pair_codes = ps_s * (L * K) + pair_lab[ps_p] * K + pair_key[ps_p]
    extra_codes = np.array([s * (L * K) + lab_code[lab] * K + key_code[k] for s, lab, k in extra_triples],
                           dtype=np.int64)
    node_codes = np.unique(np.concatenate([pair_codes, extra_codes]))
    NN = len(node_codes)
    node_scope = node_codes // (L * K)
    node_label = [all_labels[i] for i in ((node_codes // K) % L).tolist()]
    node_key = [all_keys[i] for i in (node_codes % K).tolist()]
    pair_node = np.searchsorted(node_codes, pair_codes)
    node_real = np.zeros(NN, dtype=bool)
    node_real[pair_node] = True
    node_index = ({int(c): i for i, c in enumerate(node_codes.tolist())}
                  if extra_triples else {})

    # ---- the node pass: each mention's node; mentions by node, surface, model label ---------
    groups, model_labels, n_mentions = _node_pass(P, cfg, node_codes, pair_lab * K + pair_key, L * K)

    def nid(s: int, lab: str, key: str) -> int:
        return node_index[s * (L * K) + lab_code[lab] * K + key_code[key]]

    # ---- previous entities: one extra node each -----------------------------------------
    # (the key map was built before the nodes; with cross_document its names are virtual
    # nodes, so transliteration/surname/fuzzy levels reach them like any other name)
    prev_edges: list[tuple[int, int]] = []
    if prev_key_to_row:
        if cfg.cross_document:
            for (lab, k), j in prev_key_to_row.items():
                prev_edges.append((NN + j, nid(0, lab, k)))
        else:
            for i in range(NN):
                j = prev_key_to_row.get((node_label[i], node_key[i]))
                if j is not None:
                    prev_edges.append((NN + j, i))
    NP = len(prev_rows)
    total = NN + NP

    # ---- constrained clustering: one label per cluster, compatible person names -----------
    lab_index = {lab: i for i, lab in enumerate(all_labels)}
    node_lab_code = [lab_index[lab] for lab in node_label] + \
        [lab_index.get(r["label"], -1) for r in prev_rows]
    tkeys = [translit_key(k) if not k.startswith("~") else k for k in node_key]
    full_names = {i: tkeys[i] for i in range(NN) if node_label[i] == "PER" and " " in tkeys[i]}
    thr = float(cfg.fuzzy_threshold)
    uf = UnionFind(total, labels=node_lab_code, names=full_names,
                   compatible=lambda x, y: C.names_compatible(x, y, thr),
                   owners=([-1] * NN + list(range(NP))) if NP else None)
    if forbidden_pairs:
        _register_splits(uf, splits, node_label, node_key, _akey)

    nodes = Nodes(codes=node_codes, scope=node_scope, label=node_label, key=node_key, tkey=tkeys,
                  real=node_real, n_mentions=n_mentions, lab_code=lab_code, key_code=key_code, index=node_index)
    return LinkContext(
        cfg=cfg, P=P, S=S, n_docs=n_docs, ctry=ctry, adjs=adjs, is_deriv_u=is_deriv_u, mkey_u=mkey_u,
        deriv_rule_u=deriv_rule_u, lk_pairs=lk_pairs,
        pair_nodes=pair_scope.assign(node=pair_node), nodes=nodes, groups=groups, model_labels=model_labels,
        display=display, forced_canonical=forced_canonical, alias_hits=alias_hits,
        country_of_pair=country_of_pair, prev_rows=prev_rows, prev_edges=prev_edges,
        short_forms=D.short_forms, abbr_global=D.abbr_global, articles=D.articles,
        forbidden_pairs=forbidden_pairs, uf=uf)


def _node_pass(P: MentionParts, cfg: LinkConfig, node_codes: np.ndarray, pair_code: np.ndarray,
               scope_mult: int) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """The node pass, part by part: each mention's node (kept as ``node``), and the
    mentions counted by (node, surface, partial name or not, model label): the table the
    final step chooses names from. Returns (that table, the model labels, mentions per
    node)."""
    NN = len(node_codes)
    n_mentions = np.zeros(NN, dtype=np.int64)
    ml_index: dict[str, int] = {}
    frames = []
    for i in range(len(P)):
        p = P.get(i, "p")
        code = pair_code[p]
        if not cfg.cross_document:
            code = P.get(i, "scope") * scope_mult + code
        node = np.searchsorted(node_codes, code).astype(np.int32)
        P.put(i, node=node)
        n_mentions += np.bincount(node, minlength=NN)
        m = P.read(i, ["label", "model_label"])
        ml = m["label"]
        if "model_label" in m.columns:  # mentions of an earlier run linked again
            ml = m["model_label"].where(m["model_label"].notna(), m["label"])
        ml_code, ml_uniq = pd.factorize(ml, use_na_sentinel=True)
        to_glob = np.array([ml_index.setdefault(schemas._as_str(v), len(ml_index))
                            for v in np.asarray(ml_uniq, dtype=object).tolist()] + [-1], dtype=np.int64)
        frames.append(pd.DataFrame({"node": node, "s": P.get(i, "s"), "pt": P.get(i, "partial") > 0,
                                    "ml": to_glob[ml_code]})
                      .groupby(["node", "s", "pt", "ml"], sort=False).size().rename("n").reset_index())
    groups = (pd.concat(frames, ignore_index=True).groupby(["node", "s", "pt", "ml"], sort=False)["n"].sum()
              .reset_index())
    model_labels = np.array(list(ml_index) + [None], dtype=object)  # code -1 -> None
    return groups, model_labels, n_mentions



# --------------------------------------------------------------------------- comparison levels

#: A comparison level: ``level(ctx) -> Edges``. It reads the context (and the clusters
#: the earlier levels made, ``ctx.uf.roots()``) and proposes edges; :func:`link` offers
#: them to the union-find before it calls the next level.
LevelFn = Callable[[LinkContext], Edges]

#: the comparison levels under versioned names, in their default order (strongest
#: first); ``link.levels`` picks and orders them
LEVELS: dict[str, LevelFn] = {}


def register_level(name: str) -> Callable[[LevelFn], LevelFn]:
    """Decorator: register a comparison level under ``name`` ("translit.v1"); the
    registration order is the default order."""
    def deco(fn: LevelFn) -> LevelFn:
        if name in LEVELS:
            raise ValueError(f"comparison level {name!r} is registered twice")
        LEVELS[name] = fn
        return fn
    return deco


def resolve_levels(names: Iterable[str] | None) -> list[tuple[str, LevelFn]]:
    """The levels ``link.levels`` names, in its order (None: all, in the registry's
    order). An unknown or repeated name raises :class:`ConfigError` listing the known
    ones."""
    if names is None:
        return list(LEVELS.items())
    names = list(names)
    problems = [f"link.levels: unknown comparison level {nm!r}; known levels: {', '.join(LEVELS)}"
                for nm in names if nm not in LEVELS]
    problems += [f"link.levels: {nm!r} is listed twice" for nm in sorted({x for x in names if names.count(x) > 1})]
    if problems:
        raise ConfigError(problems)
    return [(nm, LEVELS[nm]) for nm in names]


@register_level("alias_file.v1")
def alias_file_level(ctx: LinkContext) -> Edges:
    """Analyst merges (alias file): each alias's node -> its canonical name's node,
    forced past the constraints."""
    targets: dict[int, list[str]] = {}
    for p, ck in ctx.alias_hits:
        if ctx.lk_pairs[p][1] != ck:
            targets.setdefault(p, []).append(ck)
    if not targets:
        return Edges.none(C.ALIAS_FILE)
    a_l, b_l = [], []
    for s, p, nd in ctx.pair_rows():
        for ck in targets.get(p, ()):
            a_l.append(ctx.nodes.nid(s, ctx.lk_pairs[p][0], ck))
            b_l.append(nd)
    return Edges(np.array(a_l), np.array(b_l), C.ALIAS_FILE, force=True)


@register_level("previous_entity.v1")
def previous_entity_level(ctx: LinkContext) -> Edges:
    """A previous run's entity -> the nodes of its names (no person-name check: they
    were one entity before)."""
    if not ctx.prev_edges:
        return Edges.none(C.PREVIOUS)
    pa_, pb_ = zip(*ctx.prev_edges)
    return Edges(np.array(pa_), np.array(pb_), C.PREVIOUS, names=False)


@register_level("country_alias.v1")
def country_alias_level(ctx: LinkContext) -> Edges:
    """A country's names and codes ("USA", "Vereinigte Staaten") -> its canonical node."""
    if not ctx.country_of_pair:
        return Edges.none(C.COUNTRY)
    a_l, b_l = [], []
    for s, p, nd in ctx.pair_rows():
        code = ctx.country_of_pair.get(p)
        if code is not None:
            t = ctx.nodes.nid(s, "LOC", ctx.ctry.canonical_key(code))
            if t != nd:
                a_l.append(t)
                b_l.append(nd)
    return Edges(np.array(a_l), np.array(b_l), C.COUNTRY)


@register_level("abbreviation.v1")
def abbreviation_level(ctx: LinkContext) -> Edges:
    """Across documents: a short form -> the one long form every definition in the
    corpus gives it (within the defining document the short form is attached before
    the nodes are built, with ``link.abbreviations``)."""
    if not (ctx.abbr_global and ctx.cfg.cross_document):
        return Edges.none(C.ABBREVIATION)
    nodes = ctx.nodes
    K = len(nodes.key_code)
    a_l, b_l, ev_l = [], [], []
    for lab, sk, lk, ev in ctx.abbr_global:
        if lab in nodes.lab_code and sk in nodes.key_code and lk in nodes.key_code:
            x, y = _node_of(nodes.codes, nodes.lab_code[lab] * K + nodes.key_code[lk]), \
                _node_of(nodes.codes, nodes.lab_code[lab] * K + nodes.key_code[sk])
            if x is not None and y is not None:
                a_l.append(x)
                b_l.append(y)
                ev_l.append(ev)
    return Edges(np.array(a_l), np.array(b_l), C.ABBREVIATION, evidence=ev_l)


@register_level("translit.v1")
def translit_level(ctx: LinkContext) -> Edges:
    """Same (scope, label, transliteration key): Sergej/Sergei, -ow/-ov, ä/ae."""
    nodes = ctx.nodes
    grp = pd.Series([f"{s}{_SEP}{lab}{_SEP}{t}" for s, lab, t in
                     zip(nodes.scope.tolist(), nodes.label, nodes.tkey)])
    g_code = pd.factorize(grp)[0]
    a, b = C.group_edges(g_code, np.arange(len(nodes)))
    return Edges(a, b, C.TRANSLIT)


@register_level("spacing.v1")
def spacing_level(ctx: LinkContext) -> Edges:
    """Same (scope, label, transliteration key) but for spaces and hyphens, for names
    other than persons: German writes a compound with or without a hyphen
    ("Bermuda-Dreieck" / "Bermudadreieck", "Fußball-Weltmeisterschaft" /
    "Fußballweltmeisterschaft") and codes with or without a space ("A 4" / "A4")."""
    nodes = ctx.nodes
    squeezed = [None if lab == "PER" else f"{sc}{_SEP}{lab}{_SEP}{t.replace(' ', '')}"
                for sc, lab, t in zip(nodes.scope.tolist(), nodes.label, nodes.tkey)]
    spaced = {q for q, t in zip(squeezed, nodes.tkey) if q is not None and " " in t}
    if not spaced:
        return Edges.none(C.SPACING)
    # the names with a space or hyphen and the names written in one word they meet
    cand = np.array([i for i, q in enumerate(squeezed) if q in spaced], dtype=np.int64)
    grp = pd.factorize(pd.Series([squeezed[i] for i in cand.tolist()], dtype=object))[0]
    a, b = C.group_edges(grp, cand)
    if len(a):
        # a space that one name has and the other lacks must follow a word as written: a
        # key folds adjective-like endings ("State Oil" -> "stat oil"), and "stat" + "oil"
        # is another firm ("Statoil"); "Deutscher Fußball-Bund" / "Deutsche Fußballbund"
        # differ after "fussball", written so
        g = ctx.groups[["node", "s"]]
        g = g[g["node"].isin(cand)].drop_duplicates()
        written: dict[int, set[str]] = {}
        for i, s_ in zip(g["node"].tolist(), g["s"].tolist()):
            written.setdefault(int(i), set()).update(translit_key(fold(ctx.S.stripped[s_])).split(" "))
        keep = np.array([_spaces_as_written(nodes.tkey[x], nodes.tkey[y], written.get(x, set()), written.get(y, set()))
                         for x, y in zip(a.tolist(), b.tolist())], dtype=bool)
        a, b = a[keep], b[keep]
    return Edges(a, b, C.SPACING)


def _spaces_as_written(x: str, y: str, written_x: set[str], written_y: set[str]) -> bool:
    """Whether each space one key has and the other lacks follows a token written so in
    that key's names (see :func:`spacing_level`)."""
    def cuts(t: str) -> dict[int, str]:
        out, n = {}, 0
        for tok in t.split(" ")[:-1]:
            n += len(tok)
            out[n] = tok
        return out

    cx, cy = cuts(x), cuts(y)
    return (all(tok in written_x for p, tok in cx.items() if p not in cy)
            and all(tok in written_y for p, tok in cy.items() if p not in cx))


@register_level("surname.v1")
def surname_level(ctx: LinkContext) -> Edges:
    """A bare surname (or a short form used alone for a full name in some document)
    -> the one full person name with it, where its cluster holds no full name yet."""
    nodes, uf, short_forms, forbidden_pairs = ctx.nodes, ctx.uf, ctx.short_forms, ctx.forbidden_pairs
    node_key, node_label, node_scope, tkeys = nodes.key, nodes.label, nodes.scope, nodes.tkey
    roots = uf.roots()
    ntok_node = np.array([k.count(" ") + 1 for k in node_key], dtype=np.int64)
    is_per = np.array([lab == "PER" for lab in node_label], dtype=bool)
    full_nodes = np.nonzero(is_per & (ntok_node >= 2))[0]
    if not len(full_nodes):
        return Edges.none(C.SURNAME)
    sf_s, sf_t, sf_r, sf_n = [], [], [], []
    for i in full_nodes.tolist():
        forms = {tkeys[i].rsplit(" ", 1)[-1]} | short_forms.get(node_key[i], set())
        for f in forms:
            sf_s.append(node_scope[i]); sf_t.append(f); sf_r.append(roots[i]); sf_n.append(i)
    sf = pd.DataFrame({"s": sf_s, "t": sf_t, "r": sf_r, "n": sf_n})
    nroots = sf.groupby(["s", "t"])["r"].transform("nunique")
    sf = sf[nroots.to_numpy() == 1].sort_values("n").drop_duplicates(["s", "t"])
    comp_has_full = np.zeros(ctx.total, dtype=bool)
    comp_has_full[roots[full_nodes]] = True
    bare = np.nonzero(is_per & (ntok_node == 1) & ~comp_has_full[roots[:len(nodes)]])[0]
    if not (len(bare) and len(sf)):
        return Edges.none(C.SURNAME)
    bq = pd.DataFrame({"s": node_scope[bare], "t": [tkeys[i] for i in bare], "b": bare})
    hit = bq.merge(sf, on=["s", "t"])
    ok = [(node_key[x], node_key[y]) not in forbidden_pairs
          for x, y in zip(hit["b"].tolist(), hit["n"].tolist())]
    hit = hit[np.asarray(ok, dtype=bool)]
    return Edges(hit["n"].to_numpy(), hit["b"].to_numpy(), C.SURNAME)


@register_level("middle_names.v1")
def middle_names_level(ctx: LinkContext) -> Edges:
    """Across documents: a person name with middle names -> the same name without
    them (:func:`compare.middle_name_pairs`)."""
    if not ctx.cfg.cross_document:
        return Edges.none(C.MIDDLE_NAMES)
    node_key = ctx.nodes.key
    mp = [(a, b) for a, b in C.middle_name_pairs(ctx.nodes.tkey, ctx.nodes.label)
          if (node_key[a], node_key[b]) not in ctx.forbidden_pairs]
    if not mp:
        return Edges.none(C.MIDDLE_NAMES)
    return Edges(np.array([b for _, b in mp]), np.array([a for a, _ in mp]), C.MIDDLE_NAMES)


@register_level("club_prefix.v1")
def club_prefix_level(ctx: LinkContext) -> Edges:
    """Across documents: club designators ("FC Bayern München" / "Bayern München"):
    each designated name with its bare form and with its other designations, and with
    its short form without the town or year ("Rapid" / "SK Rapid Wien", "Schalke" / "FC
    Schalke 04") where no other club of the run has that short form."""
    if not ctx.cfg.cross_document:
        return Edges.none(C.CLUB)
    node_key, node_label = ctx.nodes.key, ctx.nodes.label
    club = {}
    for i in range(len(node_key)):
        if node_label[i] == "ORG" and " " in node_key[i]:
            ck = C.club_key(node_key[i])
            if ck is not None:
                club[i] = ck
    if not club:
        return Edges.none(C.CLUB)
    org_nodes = {node_key[i]: i for i in range(len(node_key)) if node_label[i] == "ORG"}
    members, groups = list(club), list(club.values())
    for ck in set(groups):
        if ck in org_nodes:
            members.append(org_nodes[ck])
            groups.append(ck)
    # the club's short form without its town or year ("Rapid" of "SK Rapid Wien", "Schalke"
    # of "FC Schalke 04"), where it is an organisation of the run and no other club's
    places = {node_key[i] for i in range(len(node_key)) if node_label[i] == "LOC"}
    shorts: dict[str, set[str]] = {}
    cores = set(club.values())
    for ck in cores | {k for k in org_nodes if k.count(" ") == 1}:  # "Borussia Dortmund" counts too
        toks = ck.split(" ")
        if len(toks) == 2 and (toks[1] in places or toks[1].isdigit()):
            shorts.setdefault(toks[0], set()).add(ck)
    # one-word organisations under the key a word has inside a longer name ("schalk")
    one_word = {_fold_adjective(k): i for k, i in org_nodes.items() if " " not in k}
    for short, cks in shorts.items():
        if len(cks) == 1 and short in one_word and next(iter(cks)) in cores:
            members.append(one_word[short])
            groups.append(next(iter(cks)))
    a, b = C.group_edges(pd.factorize(pd.Series(groups, dtype=object))[0],
                         np.asarray(members, dtype=np.int64))
    return Edges(a, b, C.CLUB)


@register_level("legal_form.v1")
def legal_form_level(ctx: LinkContext) -> Edges:
    """Across documents: a company name with its legal form and without it ("Daimler AG"
    / "Daimler", "Google Inc." / "Google"), and its forms with different legal forms
    ("Siemens AG" / "Siemens AG & Co. KG"): the legal form designates, it does not name
    (organisations only; "Motors" in "Tesla Motors" is part of the name)."""
    if not ctx.cfg.cross_document:
        return Edges.none(C.LEGAL_FORM)
    node_key, node_label = ctx.nodes.key, ctx.nodes.label
    base = {}
    for i, name in ctx.org_surfaces.items():
        b = C.legal_form_base(name) if " " in node_key[i] else None
        if b is not None:
            base[i] = name_key(b, "ORG")
    if not base:
        return Edges.none(C.LEGAL_FORM)
    wanted = set(base.values())
    members, groups = list(base), list(base.values())
    for i in range(len(node_key)):
        if node_label[i] == "ORG" and node_key[i] in wanted:
            members.append(i)
            groups.append(node_key[i])
    a, b = C.group_edges(pd.factorize(pd.Series(groups, dtype=object))[0],
                         np.asarray(members, dtype=np.int64))
    return Edges(a, b, C.LEGAL_FORM)


@register_level("trade_head.v1")
def trade_head_level(ctx: LinkContext) -> Edges:
    """Across documents: a company name's short form without its trade word ("Tesla" /
    "Tesla Motors", "Lufthansa" / "Lufthansa Airlines") -> the one such name of the
    corpus, where the two appear together in at least :data:`compare.HEAD_MIN_SHARED_DOCS`
    documents or that share of the short form's (the trade word is part of the name,
    unlike a legal form: "BMW" and "BMW Group" seen apart stay apart)."""
    if not ctx.cfg.cross_document:
        return Edges.none(C.TRADE_HEAD)
    node_key, node_label = ctx.nodes.key, ctx.nodes.label
    org = [i for i in range(len(node_key)) if node_label[i] == "ORG" and ctx.nodes.real[i]]
    short: dict[str, list[int]] = {}
    for i, name in ctx.org_surfaces.items():
        words = name.split()
        if " " in node_key[i] and len(words) > 1 and words[-1] in C.TRADE_HEADS:
            short.setdefault(name_key(" ".join(words[:-1]), "ORG"), []).append(i)
    by_key = {node_key[i]: i for i in org if node_key[i] in short}
    pairs = [(by_key[k], longs[0]) for k, longs in short.items()
             if k in by_key and len({ctx.uf.find(x) for x in longs}) == 1]
    if not pairs:
        return Edges.none(C.TRADE_HEAD)
    return _seen_together(ctx.node_docs, pairs, C.TRADE_HEAD)


@register_level("head_noun.v1")
def head_noun_level(ctx: LinkContext) -> Edges:
    """Across documents, with ``link.head_nouns``: "Bundestag" / "Deutscher Bundestag",
    "Dollar" / "US-Dollar" (:func:`_head_noun_edges`)."""
    if not (ctx.cfg.head_nouns and ctx.cfg.cross_document):
        return Edges.none(C.HEAD)
    return _head_noun_edges(ctx.nodes.key, ctx.nodes.label, ctx.node_docs, len(ctx.nodes),
                            ctx.adjs, ctx.ctry, ctx.forbidden_pairs)


@register_level("fuzzy.v1")
def fuzzy_level(ctx: LinkContext) -> Edges:
    """Spelling variants of long names (rapidfuzz ratio >= ``link.fuzzy_threshold``;
    0 switches it off), compared only inside blocks and across clusters."""
    thr = float(ctx.cfg.fuzzy_threshold)
    none = Edges.none(C.Level(C.FUZZY, 0.0))
    if not 0 < thr <= 100:
        return none
    nodes = ctx.nodes
    node_key, node_label, node_scope = nodes.key, nodes.label, nodes.scope
    roots = ctx.uf.roots()
    cand = [i for i in range(len(nodes)) if len(node_key[i]) >= C.FUZZY_MIN_CHARS
            and not node_key[i].startswith("~")]
    if not cand:
        return none
    keys_c = [node_key[i] for i in cand]
    labs_c = [node_label[i] for i in cand]
    blocks = [f"{node_scope[i]}{_SEP}{node_label[i]}{_SEP}{C.block_key(node_key[i], node_label[i])}"
              for i in cand]
    fa, fb, fs = C.fuzzy_edges(keys_c, labs_c, blocks, roots[np.asarray(cand)], thr)
    if not len(fa):
        return none
    cand_arr = np.asarray(cand)
    return Edges(cand_arr[fa], cand_arr[fb], C.Level(C.FUZZY, 0.0), score=fs)


@register_level("acronym.v1")
def acronym_level(ctx: LinkContext) -> Edges:
    """Across documents, with ``link.abbreviations``: an organisation's acronym that no
    text defines ("VW", "UNO") -> the long form it abbreviates by the initials of its
    words and compound parts (:func:`compare.acronym_of`) that is mentioned together with
    it most often, in at least :data:`compare.ACRONYM_MIN_SHARED_DOCS` documents and that
    share of the acronym's (counted by the long forms' clusters, after the other levels);
    none where two long forms tie, nor where the acronym's cluster already holds a long
    form it abbreviates (an "EU" defined as "Europäische Union" never joins "Europäische
    Universität")."""
    if not (ctx.cfg.abbreviations and ctx.cfg.cross_document):
        return Edges.none(C.ACRONYM)
    return _acronym_edges(ctx)


def _acronym_edges(ctx: LinkContext) -> Edges:
    disp = ctx.org_surfaces  # "VW", "Volkswagen"
    org = sorted(disp)
    acr = [i for i in org if is_abbreviation(disp[i])
           and 2 <= sum(c.isalpha() for c in disp[i]) <= C.ACRONYM_MAX_LETTERS]
    if not acr:
        return Edges.none(C.ACRONYM)
    letter = {i: fold(disp[i])[:1] for i in acr}
    wanted = set(letter.values())
    long_rows = [(i, f) for i in org if not is_abbreviation(disp[i])
                 for f in C.acronym_initials(disp[i]) if f in wanted]
    if not long_rows:
        return Edges.none(C.ACRONYM)
    codes = {f: k for k, f in enumerate(sorted(wanted))}
    acr_nodes = np.array(acr, dtype=np.int64)
    acr_first = pd.Series([codes[letter[i]] for i in acr], index=acr_nodes)
    long_nodes = np.array(sorted({i for i, _ in long_rows}), dtype=np.int64)
    long_first = pd.DataFrame({"l": [i for i, _ in long_rows], "f": [codes[f] for _, f in long_rows]})
    # documents of each acronym, and the (acronym, long form, document) triples of one
    # first letter, part by part (a document lies in one part)
    triples, n_docs = [], []
    for p in range(len(ctx.P)):
        node, d = ctx.P.get(p, "node"), ctx.P.get(p, "d")
        sa, sl = np.isin(node, acr_nodes), np.isin(node, long_nodes)
        if not sa.any():
            continue
        a = pd.DataFrame({"a": node[sa], "d": d[sa]}).drop_duplicates()
        n_docs.append(a["a"].value_counts())
        if not sl.any():
            continue
        a["f"] = acr_first.loc[a["a"].to_numpy()].to_numpy()
        lf = pd.DataFrame({"l": node[sl], "d": d[sl]}).drop_duplicates().merge(long_first, on="l")
        triples.append(a.merge(lf, on=["d", "f"])[["a", "l", "d"]].drop_duplicates())
    if not triples:
        return Edges.none(C.ACRONYM)
    t = pd.concat(triples, ignore_index=True)
    pairs = t[["a", "l"]].drop_duplicates()
    ok = np.array([C.acronym_of(disp[int(a)], disp[int(l)]) for a, l in zip(pairs["a"], pairs["l"])], dtype=bool)
    t = t.merge(pairs[ok], on=["a", "l"])
    if t.empty:
        return Edges.none(C.ACRONYM)
    # counted by the long forms' clusters (the levels before have joined their spellings)
    root = {i: ctx.uf.find(i) for i in org}
    t["r"] = t["l"].map(root)
    shared = t[["a", "r", "d"]].drop_duplicates().groupby(["a", "r"]).size()
    docs_of = pd.concat(n_docs).groupby(level=0).sum()
    best_node = t.groupby(["a", "r", "l"]).size().reset_index(name="n") \
        .sort_values(["a", "r", "n", "l"], ascending=[True, True, False, True]).drop_duplicates(["a", "r"]) \
        .set_index(["a", "r"])["l"]
    cand: dict[int, list[tuple[int, int]]] = {}
    for (a, r), n in shared.items():
        if n >= C.ACRONYM_MIN_SHARED_DOCS and n >= C.ACRONYM_MIN_SHARED_SHARE * docs_of.get(a, 0):
            cand.setdefault(int(a), []).append((int(n), int(best_node[(a, r)])))
    members: dict[int, list[int]] = {}
    for i in org:
        if i not in letter:
            members.setdefault(root[i], []).append(i)
    a_l, b_l = [], []
    for a, found in cand.items():
        found.sort(reverse=True)
        if len(found) > 1 and found[0][0] == found[1][0]:
            continue  # two long forms as often: neither
        if any(C.acronym_of(disp[a], disp[m]) for m in members.get(root[a], [])):
            continue  # already with a long form of it (a definition, a country's name)
        a_l.append(found[0][1])
        b_l.append(a)
    return Edges(np.array(a_l, dtype=np.int64), np.array(b_l, dtype=np.int64), C.ACRONYM)


# --------------------------------------------------------------------------- link


def link(
    mentions: pd.DataFrame,
    cfg: LinkConfig,
    *,
    previous_entities: pd.DataFrame | None = None,
    aliases: pd.DataFrame | None = None,
    return_links: bool = False,
) -> tuple[pd.DataFrame, pd.DataFrame] | tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """mentions (schema 'mentions', entity_id/key/link_rule/link_score empty) -> (mentions
    with those four columns filled, entities table (schema 'entities')).

    ``aliases``: the analyst alias table (canonical_name, alias, label, action); None
    loads ``cfg.aliases_file``. ``previous_entities``: an earlier run's entities table;
    its ids are kept for the names it lists. An optional ``next_chars`` column (the
    characters after each mention) enables abbreviations defined in the text.

    An optional ``norm_text`` column (the span as the model saw it) is what keys, aliases
    and canonical names are built from; ``text`` is kept as it is.

    The mentions carry two extra columns: ``model_label`` (the NER label; ``label`` is the
    entity's voted label) and ``affiliation`` (the bracket after a person's name, "SPÖ");
    the entities carry ``qc_flags`` (:func:`qc.qc_flags`). With ``previous_entities``
    every earlier entity keeps its id (two of them never merge), also where this run's
    label vote gives it another label.
    ``return_links=True`` adds a third table, the links (see :data:`LINK_COLUMNS`): every
    edge that joined two nodes and every edge a constraint refused.

    This is :func:`link_parts` on one part held in memory: the same tables.
    """
    if mentions is None or len(mentions) == 0:
        resolve_levels(cfg.levels)
        empty = schemas.empty("mentions").assign(model_label=pd.Series(dtype=object),
                                                 affiliation=pd.Series(dtype=object))
        return (empty, schemas.empty("entities")) + ((_empty_links(),) if return_links else ())
    res = link_parts([mentions], cfg, None, previous_entities=previous_entities, aliases=aliases,
                     return_links=return_links)
    return (res["linked"][0], res["entities"]) + ((res["links"],) if return_links else ())


def link_parts(
    parts: Iterable[str | Path | pd.DataFrame],
    cfg: LinkConfig,
    out_dir: str | Path | None,
    *,
    previous_entities: pd.DataFrame | None = None,
    aliases: pd.DataFrame | None = None,
    return_links: bool = False,
    mapper: Callable | None = None,
) -> dict:
    """:func:`link` over mention parts (Parquet files or tables, each document wholly in
    one part), with memory that follows the distinct names and one part: the linker
    reads the parts pass by pass, keeps its per-mention work arrays in a temporary
    folder inside ``out_dir`` and writes the linked mentions of part ``k`` to
    ``out_dir/part-<k>.parquet`` (five digits). The linked mentions, concatenated in
    part order, are the table :func:`link` gives on all mentions at once, row for row,
    and so are the entities and links.

    Returns {"parts": the written paths, "entities": the entities table, "links": the
    links table (None unless ``return_links``), "mentions": the number of mentions}.
    ``out_dir`` may exist but must not hold ``part-*.parquet`` files already (they are
    never overwritten: FileExistsError).

    With ``out_dir`` None the parts are tables and everything stays in memory; the
    linked parts are returned as the list ``"linked"`` (this is what :func:`link` and a
    run use: the per-mention work then exists for one part at a time).

    ``mapper`` (``Engine.map`` of a run: ``mapper(fn, args, common)`` returns
    ``[fn(*a, *common) for a in args]``) does the pass within documents (partial names,
    abbreviations, affiliations) on the run's workers, a task per part; the tables are
    the same.
    """
    if out_dir is None:
        P = MentionParts([_mention_frame(p) if isinstance(p, pd.DataFrame) else p for p in parts])
        n = P.n_rows()
        linked: list[pd.DataFrame] = []
        if n == 0:
            resolve_levels(cfg.levels)
            return {"linked": [], "parts": [], "entities": schemas.empty("entities"),
                    "links": _empty_links() if return_links else None, "mentions": 0}
        ents, links = _link(P, cfg, linked.append, previous_entities, aliases, return_links, mapper)
        return {"linked": linked, "parts": [], "entities": ents, "links": links, "mentions": n}
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    taken = sorted(out_dir.glob("part-*.parquet"))
    if taken:
        raise FileExistsError(f"link_parts: {out_dir} already holds {taken[0].name}"
                              f"{f' and {len(taken) - 1} more parts' if len(taken) > 1 else ''}; "
                              "give an empty or new folder (nothing there is overwritten)")
    written: list[Path] = []

    def write(df: pd.DataFrame) -> None:
        path = out_dir / f"part-{len(written):05d}.parquet"
        tmp = path.with_name(path.name + ".tmp")
        pq.write_table(pa.Table.from_pandas(df, preserve_index=False), tmp)
        tmp.replace(path)
        written.append(path)

    with tempfile.TemporaryDirectory(prefix=".link-work-", dir=out_dir) as work:
        P = MentionParts(parts, spill_dir=work)
        n = P.n_rows()
        if n == 0:
            resolve_levels(cfg.levels)
            return {"parts": [], "entities": schemas.empty("entities"),
                    "links": _empty_links() if return_links else None, "mentions": 0}
        try:
            ents, links = _link(P, cfg, write, previous_entities, aliases, return_links, mapper)
        except BaseException:  # no half-written output: the parts written so far go again
            for path in written:
                path.unlink(missing_ok=True)
            raise
    return {"parts": written, "entities": ents, "links": links, "mentions": n}


def _link(P: MentionParts, cfg: LinkConfig, sink: Callable[[pd.DataFrame], None], previous_entities,
          aliases, return_links: bool, mapper: Callable | None = None) -> tuple[pd.DataFrame, pd.DataFrame | None]:
    """The linker over parts: context, levels, names and ids; ``sink`` receives the linked
    mentions part by part. Returns (entities, links or None)."""
    levels = resolve_levels(cfg.levels)
    ctx = build_context(P, cfg, previous_entities=previous_entities, aliases=aliases, mapper=mapper)

    # ---- edges, level by level in their order, each level's edges applied at once ---------
    edges = _EdgeLog()
    for name, level in levels:
        status = edges.apply(ctx.uf, level(ctx))
        if len(status):
            log.debug("level %s merged %d clusters", name, int((status == 1).sum()))
    comp = components(ctx.uf.roots())

    # ---- entities ------------------------------------------------------------------------
    ea_, eb_, escore_, estat_ = edges.arrays()
    R = _finish(ctx, comp, ea_, eb_, edges.rule, escore_)
    keep = np.nonzero(estat_ != 0)[0] if (return_links and len(estat_)) else np.empty(0, np.int64)
    link_nodes = np.unique(np.concatenate([ea_[keep], eb_[keep]])) if len(keep) else np.empty(0, np.int64)
    link_nodes = link_nodes[link_nodes < ctx.NN]

    # ---- join back, part by part -------------------------------------------------------------
    n_docs = np.zeros(ctx.total, dtype=np.int64)
    first_ids: list[pd.DataFrame] = []
    for i in range(len(ctx.P)):
        out, comp_m, mids = _mention_part(ctx, R, i)
        d = ctx.P.get(i, "d")
        cd = np.unique(comp_m.astype(np.int64) * max(ctx.n_docs, 1) + d)
        n_docs += np.bincount(cd // max(ctx.n_docs, 1), minlength=ctx.total)
        if len(link_nodes):
            node = ctx.P.get(i, "node")
            sel = np.isin(node, link_nodes)
            first_ids.append(pd.DataFrame({"node": node[sel], "mid": mids[sel]})
                             .sort_values(["node", "mid"]).groupby("node").head(5))
        if ctx.P.out_sizes is None:
            sink(out)
        else:
            for a, b in zip(np.cumsum([0] + ctx.P.out_sizes[:-1]).tolist(), np.cumsum(ctx.P.out_sizes).tolist()):
                sink(out.iloc[a:b].reset_index(drop=True))
        del out
    ents = _entities(ctx, R, n_docs)
    if not return_links:
        return ents, None
    ids = (pd.concat(first_ids, ignore_index=True).sort_values(["node", "mid"]).groupby("node")["mid"]
           .agg(lambda x: list(x[:5])).to_dict()) if first_ids else {}
    links = _links_table(ctx, R, ids, ea_, eb_, edges.rule, escore_, estat_, edges.reason, edges.evidence)
    return ents, links



def _head_noun_edges(node_key, node_label, node_docs, NN, adjs, ctry, forbidden_pairs) -> Edges:
    """The head-noun level (:func:`compare.head_pairs`), kept only where the two names
    appear together in at least :data:`compare.HEAD_MIN_SHARED_DOCS` documents or in that
    share of the bare noun's documents (so a generic "Union" never joins the one "X
    Union" of a corpus it is never seen with)."""
    codes = set(ctry.by_code_upper) if ctry is not None else set()

    def is_modifier(tok: str) -> bool:
        return tok in adjs.table or (len(tok) <= 3 and tok.upper() in codes)

    pairs = C.head_pairs(node_key[:NN], node_label[:NN], is_modifier)
    pairs = [(a, b) for a, b in pairs if (node_key[a], node_key[b]) not in forbidden_pairs]
    if not pairs:
        return Edges.none(C.HEAD)
    return _seen_together(node_docs, pairs, C.HEAD)


def _seen_together(node_docs, pairs: list[tuple[int, int]], level: C.Level) -> Edges:
    """Edges attaching each bare name to its longer name, of the (bare, longer) node
    ``pairs`` whose two names appear together in at least
    :data:`compare.HEAD_MIN_SHARED_DOCS` documents or that share of the bare name's
    (``node_docs``: :meth:`LinkContext.node_docs`)."""
    docs = node_docs(np.fromiter({x for p in pairs for x in p}, dtype=np.int64))
    a_l, b_l = [], []
    for bare, long in pairs:
        db, dl = docs.get(bare, frozenset()), docs.get(long, frozenset())
        shared = len(db & dl)
        if shared >= C.HEAD_MIN_SHARED_DOCS or (db and shared >= C.HEAD_MIN_SHARED_SHARE * len(db)):
            a_l.append(long)
            b_l.append(bare)
    return Edges(np.array(a_l, dtype=np.int64), np.array(b_l, dtype=np.int64), level)


def _register_splits(uf: UnionFind, splits: pd.DataFrame, node_label, node_key, akey) -> None:
    by_key: dict[str, list[int]] = {}
    for i, k in enumerate(node_key):
        by_key.setdefault(k, []).append(i)
    for r in splits.itertuples(index=False):
        a, b = akey(r.alias, r.label), akey(r.canonical_name, r.label)
        na = [i for i in by_key.get(a, []) if not r.label or node_label[i] == r.label]
        nb = [i for i in by_key.get(b, []) if not r.label or node_label[i] == r.label]
        if na and nb:
            uf.forbid(na, nb)


def _node_of(node_codes: np.ndarray, code: int) -> int | None:
    """Node index of a (scope 0) node code, or None."""
    i = int(np.searchsorted(node_codes, code))
    return i if i < len(node_codes) and int(node_codes[i]) == code else None


#: columns of the links table (``link(..., return_links=True)``)
LINK_COLUMNS = ["entity_a", "entity_b", "name_a", "name_b", "label_a", "label_b", "rule", "score",
                "decision", "reason", "n_evidence", "evidence"]


def _empty_links() -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype="int64" if c == "n_evidence" else
                                      "float64" if c == "score" else object) for c in LINK_COLUMNS})




def _links_table(ctx: LinkContext, R: "_Resolution", ids: dict[int, list[str]], ea, eb, erule, escore,
                 estat, ereason, eevid) -> pd.DataFrame:
    """Every edge that joined two clusters (decision "merged") or that a constraint refused
    ("refused", with the reason), with the node names (the node's most frequent surface),
    entity ids, rule, score and the evidence: the number of mentions behind the edge and
    up to five of their ids (``ids``: the five smallest mention ids of each node; the
    attached node's mentions; for an abbreviation, the mentions of its definitions)."""
    keep = np.nonzero(estat != 0)[0] if len(estat) else np.empty(0, np.int64)
    if len(keep) == 0:
        return _empty_links()
    NN, prev_rows, comp, eid_of = ctx.NN, ctx.prev_rows, R.comp, R.eid_of
    node_label, node_key = ctx.nodes.label, ctx.nodes.key
    nodes = np.unique(np.concatenate([ea[keep], eb[keep]]))
    nodes = nodes[nodes < NN]
    G = ctx.groups
    g = G[np.isin(G["node"].to_numpy(), nodes)]
    g = pd.DataFrame({"node": g["node"].to_numpy(), "text": np.asarray(ctx.S.text, dtype=object)[g["s"].to_numpy()],
                      "n": g["n"].to_numpy()})
    count = {int(i): int(ctx.nodes.n_mentions[i]) for i in nodes.tolist() if ctx.nodes.n_mentions[i]}
    top = (g.groupby(["node", "text"])["n"].sum().reset_index()
           .sort_values(["node", "n", "text"], ascending=[True, False, True])
           .drop_duplicates("node").set_index("node")["text"].to_dict())

    def name(i: int) -> str:
        if i >= NN:
            return str(prev_rows[i - NN]["canonical_name"])
        return top.get(i, node_key[i].lstrip("~"))

    def label(i: int) -> str:
        return str(prev_rows[i - NN]["label"]) if i >= NN else node_label[i]

    def _eid(i: int) -> str:
        # a previous run's entity that no mention of this run reaches keeps its own id
        got = eid_of.get(int(comp[i]))
        if got is None and i >= NN:
            got = str(prev_rows[i - NN]["entity_id"])
        return got if got is not None else ""

    rows = []
    for e in keep.tolist():
        a, b = int(ea[e]), int(eb[e])
        ev = eevid.get(e)
        if ev is None:
            src = b if b < NN and b in count else a
            ev_n, ev_ids = count.get(src, 0), ids.get(src, [])
        else:  # (number of mentions, their five smallest ids)
            ev_n, ev_ids = ev[0], list(ev[1])
        rows.append({
            "entity_a": _eid(a), "entity_b": _eid(b),
            "name_a": name(a), "name_b": name(b), "label_a": label(a), "label_b": label(b),
            "rule": erule[e], "score": float(escore[e]),
            "decision": "merged" if estat[e] == 1 else "refused", "reason": ereason[e],
            "n_evidence": int(ev_n), "evidence": list(ev_ids),
        })
    return pd.DataFrame(rows, columns=LINK_COLUMNS)


@dataclass(eq=False)
class _Resolution:
    """Step 5's decisions, by node and by component (a component's id is its smallest
    node): what the join back writes into each mention part and the entities table."""

    comp: np.ndarray  # node -> component
    canon: dict[int, str]
    eid_of: dict[int, str]
    label_of: dict[int, str]
    prev_aliases: dict[int, list[str]]
    comps: np.ndarray  # the components mentions reach, sorted
    canon_c: np.ndarray  # by component id
    eid_c: np.ndarray
    anchor: np.ndarray
    single_c: np.ndarray  # components of one mention
    nrule: np.ndarray  # by node: the rule that attached it to its anchor (None: none)
    nscore: np.ndarray
    # by surface, built once for the join back: stripped text, genitive, voted label, the
    # mention's key, a derived form's rule and score
    stripped_u: np.ndarray
    genitive_u: np.ndarray
    # by surface: the name and score of the level that gave its key (inflection, article)
    form_rule_u: np.ndarray
    form_score_u: np.ndarray
    label_u: np.ndarray
    mkey_u: np.ndarray
    drule_u: np.ndarray
    dscore_u: np.ndarray


def _finish(ctx: LinkContext, comp: np.ndarray, ea: np.ndarray, eb: np.ndarray, erule: list[str],
            escore: np.ndarray) -> _Resolution:
    """Step 5: canonical names, entity ids and the explanation of each node's link, from
    the mentions counted by node and surface (``ctx.groups``)."""
    S, G = ctx.S, ctx.groups
    NN, NP, prev_rows = ctx.NN, ctx.NP, ctx.prev_rows
    node_label, node_key, node_real = ctx.nodes.label, ctx.nodes.key, ctx.nodes.real
    display, forced_canonical, ctry, country_of_pair = ctx.display, ctx.forced_canonical, ctx.ctry, ctx.country_of_pair
    total = NN + NP
    g_node, g_s, g_n = G["node"].to_numpy(), G["s"].to_numpy(), G["n"].to_numpy()
    g_comp = comp[g_node]
    stripped_u = np.asarray(S.stripped, dtype=object)
    g_stripped = stripped_u[g_s]
    g_deriv = ctx.is_deriv_u[g_s]
    gen_u = np.asarray(S.genitive, dtype=bool)

    # canonical name candidates: every form the corpus uses, in tiers: names (0), then a
    # genitive shown as its attested base ("Putins" -> "Putin", 1), then partial names (2);
    # derived forms ("niedersächsischen") only where nothing else names the entity (below)
    tier = np.where(G["pt"].to_numpy(), 2, np.where(gen_u[g_s], 1, 0))
    cmask = ~g_deriv & (g_stripped != "")
    cdf = pd.DataFrame({"comp": g_comp[cmask], "surface": g_stripped[cmask], "node": g_node[cmask],
                        "tier": tier[cmask], "scode": g_s[cmask], "n": g_n[cmask]})
    cdf = cdf.groupby(["comp", "surface", "node", "tier", "scode"], sort=False)["n"].sum().rename("freq").reset_index()
    if len(cdf):
        gen_rows = cdf["tier"].to_numpy() == 1
        if gen_rows.any():
            cdf.loc[gen_rows, "surface"] = [_genitive_base_surface(S.stripped[c], S.key0[c], S.key[c])
                                            for c in cdf.loc[gen_rows, "scode"].tolist()]
        us = pd.unique(cdf["surface"])
        ntok = {s: n_tokens(s) for s in us}
        hyph = {s: int("-" in s) for s in us}
        lower = {s: int(not any(ch.isupper() for ch in s)) for s in us}
        cdf["ntok"] = cdf["surface"].map(ntok)
        cdf["hyphen"] = cdf["surface"].map(hyph)
        cdf["lower"] = cdf["surface"].map(lower)
        # a name in capitals ("LONDON" of a dateline) where the entity also has it in
        # ordinary case: the ordinary form (acronyms of four letters or fewer keep theirs)
        shouting = {s_ for s_ in us if s_.isupper() and any(len(t) >= 5 for t in s_.split(" "))}
        if shouting:
            plain = {(c, s_.casefold()) for c, s_ in zip(cdf["comp"], cdf["surface"]) if s_ not in shouting}
            cdf["shout"] = [int(s_ in shouting and (c, s_.casefold()) in plain)
                            for c, s_ in zip(cdf["comp"], cdf["surface"])]
        else:
            cdf["shout"] = 0
        labs = np.asarray(node_label, dtype=object)[cdf["node"].to_numpy()]
        # inflected adjectives inside non-person names ("Östlichen Wirtschaftsforum")
        cdf["oblique"] = [0 if lab == "PER" else _oblique(s) for s, lab in zip(cdf["surface"], labs)]
        # an inflected form whose key a known nominative name shares (a place from the
        # adjective table, a country) is shown in that nominative form ("Ferner Osten")
        if display:
            keys_c = np.asarray(node_key, dtype=object)[cdf["node"].to_numpy()]
            known = [display.get((lab, k)) if ob else None
                     for lab, k, ob in zip(labs, keys_c, cdf["oblique"].tolist())]
            repl = np.array([kn is not None for kn in known], dtype=bool)
            if repl.any():
                cdf.loc[repl, "surface"] = [kn for kn in known if kn is not None]
                cdf.loc[repl, "oblique"] = 0
        # an adjective in "-er"/"-es" where the same name is also written with "-e": the
        # "-e" form is a nominative whatever the noun's gender ("Europäische Zentralbank",
        # not the dative "Europäischer Zentralbank")
        forms_of = cdf.groupby("comp", sort=False)["surface"].agg(set).to_dict()
        weak = [_weak_variant(s_) if lab != "PER" else s_ for s_, lab in zip(cdf["surface"], labs)]
        cdf["strong"] = [int(w != s_ and w in forms_of[c]) for w, s_, c in zip(weak, cdf["surface"], cdf["comp"])]
        ctry_names = set(ctry.names.values()) if ctry is not None else set()
        is_cn = cdf["surface"].isin(ctry_names).to_numpy()
        has_code = np.zeros(total, dtype=bool)
        if country_of_pair:
            pn = ctx.pair_nodes
            code_rows = np.isin(pn["p"].to_numpy(), np.fromiter(country_of_pair.keys(), dtype=np.int64))
            has_code[comp[pn["node"].to_numpy()[code_rows]]] = True
        country_comp = has_code[cdf["comp"].to_numpy()]
        cdf["cldr"] = is_cn.astype(int)
        cdf["rank_tok"] = np.where(country_comp, 0, cdf["ntok"].to_numpy())
        cdf = cdf.sort_values(["comp", "tier", "cldr", "lower", "shout", "rank_tok", "oblique", "strong", "freq",
                               "hyphen", "surface", "node"],
                              ascending=[True, True, False, True, True, False, True, True, False, True, True, True],
                              kind="stable")
        best = cdf.drop_duplicates("comp")
        # only inflected forms in the corpus: their adjectives in the nominative where safe
        # ("Vereinten Nationen" -> "Vereinte Nationen")
        names = best["surface"].tolist()
        tokens = _corpus_tokens(S.stripped)
        if (best["oblique"].to_numpy() > 0).any():
            names = [_nominative(nm, tokens) if ob else nm
                     for nm, ob in zip(names, best["oblique"].tolist())]
        # "Deutsche Bundestag" -> "Deutscher Bundestag" where the articles show the gender
        names = _citation_forms(names, best["comp"].to_numpy(),
                                np.asarray(node_label, dtype=object)[best["node"].to_numpy()],
                                g_comp, g_s, S.stripped, tokens, ctx.articles, ctx.is_deriv_u)
        canon = dict(zip(best["comp"].tolist(), names))
        anchor_of = dict(zip(best["comp"].tolist(), best["node"].tolist()))
    else:
        canon, anchor_of = {}, {}
    # entities named only by derived forms: the most frequent form, uninflected
    ddf = pd.DataFrame({"comp": g_comp[g_deriv], "surface": g_stripped[g_deriv], "n": g_n[g_deriv]})
    deriv_canon: dict[int, str] = {}
    if len(ddf):
        ddf = ddf.groupby(["comp", "surface"], sort=False)["n"].sum().rename("freq").reset_index()
        ddf["surface"] = [_uninflected_adjective(x) for x in ddf["surface"].tolist()]
        ddf = ddf.groupby(["comp", "surface"], sort=False)["freq"].sum().reset_index()
        ddf["lower"] = [int(not any(ch.isupper() for ch in x)) for x in ddf["surface"].tolist()]
        ddf = ddf.sort_values(["comp", "freq", "lower", "surface"], ascending=[True, False, True, True],
                              kind="stable").drop_duplicates("comp")
        deriv_canon = dict(zip(ddf["comp"].tolist(), ddf["surface"].tolist()))

    comps = np.unique(g_comp)
    anchor = np.arange(total, dtype=np.int64)  # indexed by component id (= a node id)
    comp_nodes: dict[int, list[int]] = {}
    # virtual / unnamed components and forced canonical names
    virt = np.nonzero(~node_real[:NN])[0]
    for i in virt.tolist():
        comp_nodes.setdefault(int(comp[i]), []).append(i)
    label_of: dict[int, str] = {}
    eid_of: dict[int, str] = {}
    prev_aliases: dict[int, list[str]] = {}
    for j in range(NP):
        c = int(comp[NN + j])
        if c in eid_of:
            log.warning("previous entities %s and %s now one cluster; keeping %s",
                        eid_of[c], prev_rows[j]["entity_id"], eid_of[c])
            continue
        eid_of[c] = prev_rows[j]["entity_id"]
        canon[c] = prev_rows[j]["canonical_name"]
        # the label this run's mentions vote for (the id stays what it was)
        label_of[c] = node_label[anchor_of[c]] if c in anchor_of else prev_rows[j]["label"]
        anchor_of[c] = NN + j
        prev_aliases[c] = prev_rows[j]["aliases"]
    for c, nodes in comp_nodes.items():
        if c in eid_of:
            continue
        forced = [(node_key[i], forced_canonical[(node_label[i], node_key[i])]) for i in nodes
                  if (node_label[i], node_key[i]) in forced_canonical]
        if forced:
            k, name = min(forced)
            canon[c] = name
            anchor_of[c] = min(i for i in nodes if node_key[i] == k)
        elif c not in canon:
            i = min(nodes)
            canon[c] = ((deriv_canon.get(c) if node_key[i].startswith("~") else None)
                        or display.get((node_label[i], node_key[i])) or deriv_canon.get(c, node_key[i]))
            anchor_of[c] = i
    for c in comps.tolist():
        if c not in canon:  # only own-deriv nodes ("~lemma")
            i = int(c)
            own = node_key[i].startswith("~")  # no place known: the form itself
            canon[c] = ((deriv_canon.get(c) if own else None) or display.get((node_label[i], node_key[i]))
                        or deriv_canon.get(c) or node_key[i].lstrip("~"))
            anchor_of[c] = i
        anchor[c] = anchor_of[c]
        if c not in label_of:
            a = anchor_of[c]
            label_of[c] = node_label[a]

    # link explanations: BFS from the anchor over the edges inside each component
    nrule, nscore = explain(total, comp, anchor, ea, eb, erule, escore)

    # ---- entity ids ---------------------------------------------------------------------
    used = set(eid_of.values()) | {r["entity_id"] for r in prev_rows}  # never reuse an id
    new = [c for c in comps.tolist() if c not in eid_of]
    base = {c: f"{label_of[c]}:{slug(canon[c])}" for c in new}
    for c in sorted(new, key=lambda c: (base[c], c)):
        b = base[c]
        eid, k = b, 1
        while eid in used:
            k += 1
            eid = f"{b}-{k}"
        used.add(eid)
        eid_of[c] = eid

    canon_c = np.full(total, None, dtype=object)
    eid_c = np.full(total, None, dtype=object)
    for c in comps.tolist():
        canon_c[c], eid_c[c] = canon[c], eid_of[c]
    comp_size = np.bincount(g_comp, weights=g_n, minlength=total)
    return _Resolution(comp=comp, canon=canon, eid_of=eid_of, label_of=label_of, prev_aliases=prev_aliases,
                       comps=comps, canon_c=canon_c, eid_c=eid_c, anchor=anchor, single_c=comp_size == 1,
                       nrule=np.asarray(nrule, dtype=object), nscore=np.asarray(nscore),
                       stripped_u=stripped_u, genitive_u=gen_u,
                       form_rule_u=np.asarray([lv.name if lv is not None else None for lv in S.form_rule],
                                              dtype=object),
                       form_score_u=np.asarray([lv.score if lv is not None else 1.0 for lv in S.form_rule]),
                       label_u=np.asarray(S.label, dtype=object),
                       mkey_u=np.asarray(ctx.mkey_u, dtype=object),
                       drule_u=np.asarray([lv.name if lv is not None else None for lv in ctx.deriv_rule_u],
                                          dtype=object),
                       dscore_u=np.asarray([lv.score if lv is not None else 1.0 for lv in ctx.deriv_rule_u]))


def _mention_part(ctx: LinkContext, R: _Resolution, i: int) -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """The linked mentions of part ``i`` (the mentions' rule and score, strongest reason
    first; the entity id; the voted label; the key); returns (the table, each mention's
    component, its mention id)."""
    P = ctx.P
    m = P.read(i)
    s, node = P.get(i, "s"), P.get(i, "node")
    partial, abbr_m = P.get(i, "partial"), P.get(i, "abbr")
    n = len(m)
    comp_m = R.comp[node]
    stripped = R.stripped_u[s]
    canon_m = R.canon_c[comp_m]
    anchor_m = R.anchor[comp_m]
    gen_m = R.genitive_u[s]
    is_deriv = ctx.is_deriv_u[s]
    drule, dscore = R.drule_u[s], R.dscore_u[s]
    # the rule of each mention, strongest reason first: later assignments win, so they are
    # made from the weakest (key) to the strongest (singleton)
    rules = np.full(n, C.KEY.name, dtype=object)
    scores = np.full(n, C.KEY.score, dtype=np.float64)
    exact = stripped == canon_m
    rules[exact], scores[exact] = C.EXACT.name, C.EXACT.score
    rules[gen_m], scores[gen_m] = C.GENITIVE.name, C.GENITIVE.score
    frule = R.form_rule_u[s]
    fm = pd.notna(frule)
    rules[fm], scores[fm] = frule[fm], R.form_score_u[s][fm]
    nr = R.nrule[node]
    via = (node != anchor_m) & pd.notna(nr)
    rules[via], scores[via] = nr[via], R.nscore[node[via]]
    dv = is_deriv & pd.notna(drule)
    rules[dv], scores[dv] = drule[dv], dscore[dv]
    rules[abbr_m], scores[abbr_m] = C.ABBREVIATION.name, C.ABBREVIATION.score
    for code, lv in ((1, C.PARTIAL), (2, C.PARTIAL_AMBIGUOUS)):
        pm = partial == code
        rules[pm], scores[pm] = lv.name, lv.score
    single = R.single_c[comp_m]
    rules[single], scores[single] = C.SINGLETON.name, C.SINGLETON.score

    # object columns: conform() iterates over values, which is slow on Arrow-backed strings
    obj = lambda a: pd.Series(a, dtype=object)  # noqa: E731  (pandas 3 would infer str)
    own = {"label", "entity_id", "key", "link_rule", "link_score", "model_label", "affiliation"}
    cols = {c: (obj(_shared_objects(m[c])) if m[c].dtype.kind not in "iuf" else m[c].reset_index(drop=True))
            for c in schemas.columns("mentions") if c in m.columns and c not in own}
    # the voted label of the entity's name key (derived forms keep theirs)
    cols.update(label=obj(R.label_u[s]), entity_id=obj(R.eid_c[comp_m]), key=obj(R.mkey_u[s]),
                link_rule=obj(rules), link_score=pd.Series(scores))
    model_label = m["label"]
    if "model_label" in m.columns:  # mentions of an earlier run linked again
        model_label = m["model_label"].where(m["model_label"].notna(), m["label"])
    cols["model_label"] = obj(_shared_objects(model_label))
    cols["affiliation"] = obj(P.get(i, "aff"))
    mids = m["mention_id"].astype(str).to_numpy(dtype=object)
    return _conform_fast(cols, "mentions"), comp_m, mids


def _entities(ctx: LinkContext, R: _Resolution, n_docs: np.ndarray) -> pd.DataFrame:
    """The entities table (with QC flags) from the mentions counted by node and surface,
    and the documents counted per component in the join back."""
    S, G = ctx.S, ctx.groups
    g_comp = R.comp[G["node"].to_numpy()]
    g_s, g_n = G["s"].to_numpy(), G["n"].to_numpy()
    comps = R.comps
    n_mentions = np.bincount(g_comp, weights=g_n, minlength=ctx.total).astype(np.int64)
    texts = np.asarray(S.text, dtype=object)
    al_df = (pd.DataFrame({"comp": g_comp, "text": texts[g_s]}).drop_duplicates()
             .sort_values(["comp", "text"], kind="stable"))
    cuts = np.flatnonzero(np.diff(al_df["comp"].to_numpy())) + 1
    al = dict(zip(al_df["comp"].to_numpy()[np.r_[0, cuts]].tolist(),
                  np.split(al_df["text"].to_numpy(dtype=object), cuts)))
    cl = comps.tolist()
    ents = pd.DataFrame({
        "entity_id": [R.eid_of[c] for c in cl],
        "label": [R.label_of[c] for c in cl],
        "canonical_name": [R.canon[c] for c in cl],
        "aliases": [sorted(set(al[c].tolist()) | set(R.prev_aliases.get(c, ()))) for c in cl],
        "n_mentions": n_mentions[comps],
        "n_docs": n_docs[comps],
    }).sort_values("entity_id", kind="stable")
    ents = schemas.conform(ents, "entities")
    # quality flags from the same counts: one row per (entity, surface, model label)
    q = pd.DataFrame({
        "entity_id": R.eid_c[g_comp], "label": R.label_u[g_s],
        "kind": np.asarray(S.kind0, dtype=object)[g_s], "key": R.mkey_u[g_s],
        "model_label": ctx.model_labels[G["ml"].to_numpy()], "n": g_n,
    })
    ents["qc_flags"] = qc_flags(q, ents)
    return ents



def _conform_fast(cols: dict[str, pd.Series], table: str) -> pd.DataFrame:
    """:func:`schemas.conform` for a dict of equally long columns, with the same result.

    Object columns must already hold only ``str`` or None (as :func:`_shared_objects` and
    the linker's own arrays do) and are taken as they are; other string columns are
    converted once per distinct value."""
    n = len(next(iter(cols.values())))
    out = {}
    for name, t, nullable in schemas.TABLES[table]:
        col = cols.get(name)
        if col is None:
            if not nullable:
                raise KeyError(f"table {table!r} lacks required column {name!r}")
            col = pd.Series(np.full(n, None, dtype=object), dtype=object)
        col = pd.Series(col).reset_index(drop=True)
        if t == schemas.INT:
            col = pd.to_numeric(col, errors="coerce").astype("Int64") if nullable else col.astype("int64")
        elif t == schemas.FLOAT:
            col = pd.to_numeric(col, errors="coerce").astype("float64")
        elif t == schemas.LIST:
            col = col.map(lambda v: list(v) if v is not None else [])
        elif col.dtype != object:
            codes, uniq = pd.factorize(col, use_na_sentinel=True)
            conv = np.array([schemas._as_str(v) for v in uniq] + [None], dtype=object)
            col = pd.Series(conv[codes], dtype=object)  # code -1 (missing) -> the final None
        out[name] = col
    return pd.DataFrame(out)


def _shared_objects(col: pd.Series) -> np.ndarray:
    """Object array of a column with one Python object per distinct value (memory)."""
    codes, uniq = pd.factorize(col, use_na_sentinel=True)
    arr = np.asarray(uniq, dtype=object)
    if len(arr) and pd.api.types.infer_dtype(arr, skipna=False) != "string":
        arr = np.array([schemas._as_str(v) for v in arr], dtype=object)
    out = arr[codes] if len(arr) else np.full(len(col), None, dtype=object)
    if (codes < 0).any():
        out[codes < 0] = None
    return out


def _genitive_base_surface(surface: str, key0: str, key: str) -> str:
    """The surface of a genitive without its ending ("Putins" -> "Putin"), when the
    ending removed from the key is also the surface's last letters."""
    end = key0[len(key):] if key0.startswith(key) else ""
    if end and surface.casefold().endswith(end) and len(surface) > len(end):
        return surface[: -len(end)]
    return surface


#: derivational suffixes of adjectives (folded): a token "<stem><suffix>en" is an
#: inflected adjective whose nominative ends in "-e"
_ADJ_STEM_SUFFIXES = ("isch", "lich", "ig", "igt", "al", "ell", "iv", "aer", "ar", "bar", "sam", "haft")
#: past participles used as adjectives ("Vereinten", "Verbundenen" no: -t only)
_PARTICIPLE = re.compile(r"^(?:ver|ge|be|er|ent|zer)[a-z]{2,}t$")
#: ordinal stems ("Zweiten Weltkrieg")
_ORDINALS = frozenset("erst zweit dritt viert fuenft sechst siebt acht neunt zehnt".split())


def _corpus_tokens(surfaces: list[str]) -> frozenset[str]:
    """Capitalised tokens of the corpus's surfaces (to check that a form is attested)."""
    out = set()
    for s in surfaces:
        for t in s.split(" "):
            if t[:1].isupper():
                out.add(t)
    return frozenset(out)


def _nominative(surface: str, tokens: frozenset[str]) -> str:
    """Non-final adjectives of an inflected name in the nominative "-e" form: "Vereinten
    Nationen" -> "Vereinte Nationen", "Internationalen Währungsfonds" -> "Internationale
    Währungsfonds" (the form after "der/die/das"). Only a capitalised token followed by a
    capitalised one, ending in -en/-em, whose stem ends in an adjective suffix (-isch,
    -lich, -ig, -al, ...), that is a participle ("Vereinten"), an ordinal ("Zweiten") or a
    plain adjective ("Kalten"), or whose "-e" form is a token of the corpus; other tokens
    ("Baden", "Garten") are kept."""
    toks = surface.split(" ")
    out = list(toks)
    for i, t in enumerate(toks[:-1]):
        if not (t[:1].isupper() and t.isalpha() and toks[i + 1][:1].isupper()):
            continue
        if not t.endswith(("en", "em")) or len(t) < 5:
            continue
        stem = fold(t[:-2])
        if (stem.endswith(_ADJ_STEM_SUFFIXES) or _PARTICIPLE.match(stem) or stem in _ORDINALS
                or stem in _PLAIN_ADJECTIVES or t[:-1] in tokens):
            out[i] = t[:-1]
    return " ".join(out)


def _uninflected_adjective(surface: str) -> str:
    """A derived adjective without its inflection, its case kept: "niedersächsischen" ->
    "niedersächsisch"; other forms ("Dänen") unchanged."""
    k = fold(surface)
    lemma = adjective_lemma(surface)
    cut = len(k) - len(lemma)
    if 0 < cut <= 2 and surface[-cut:].casefold() == k[-cut:]:
        return surface[:-cut]
    return surface


def _weak_variant(surface: str) -> str:
    """The surface with its non-final words' "-er"/"-es" endings as "-e" ("Europäischer
    Zentralbank" -> "Europäische Zentralbank"); the surface itself where there are none."""
    toks = surface.split(" ")
    if len(toks) < 2:
        return surface
    head = [t[:-1] if len(t) > 4 and t[:1].isupper() and t.endswith(("er", "es")) else t for t in toks[:-1]]
    return " ".join(head + toks[-1:])


#: adjectives without a derivational suffix that open names ("Rotes Kreuz", "Kalter Krieg")
_PLAIN_ADJECTIVES = frozenset(
    "alt arm blau braun dunkel fern frei frueh gelb gross gruen gut heilig hell hinter hoch hoh jung kalt "
    "klein kurz lang mittler nah neu nieder ober rot schoen schwarz still suess tief tot unter vorder warm "
    "weiss wild".split())


#: adjective suffixes no other language's words end in
_SURE_ADJ_SUFFIXES = ("isch", "lich", "igt", "aer", "bar", "sam", "haft", "deutsch")


def _adjective_stem(stem: str, inflected: bool) -> bool:
    """Whether a folded stem ("europaeisch", "rot", "zweit", "vereinigt") is an
    adjective's. A suffix other languages' words also end in ("international", but
    "Delaware", "Finale", "Executive") counts only where the word is ``inflected`` (its
    "-en" form is attested)."""
    if (stem.endswith(_SURE_ADJ_SUFFIXES) or _PARTICIPLE.match(stem) or stem in _ORDINALS
            or stem in _PLAIN_ADJECTIVES):
        return True
    return inflected and stem.endswith(_ADJ_STEM_SUFFIXES)


def _adjective_e(token: str, tokens: frozenset[str]) -> bool:
    """A capitalised adjective in the weak "-e" form ("Deutsche", "Rote", "Zweite");
    ``tokens``: the corpus's capitalised tokens (:func:`_corpus_tokens`)."""
    return (len(token) >= 4 and token[:1].isupper() and token.isalpha() and token.endswith("e")
            and _adjective_stem(fold(token[:-1]), token + "n" in tokens))


def _head_of(name: str, tokens: frozenset[str]) -> int | None:
    """The index of the noun after a name's opening "-e" adjectives ("Deutsche Rote
    Kreuz" -> 2); None where the name opens with none."""
    toks = name.split(" ")
    i = 0
    while i < len(toks) - 1 and _adjective_e(toks[i], tokens) and toks[i + 1][:1].isupper():
        i += 1
    return i or None


#: the gender of common head nouns of names, by the end of the (folded) noun: German grammar,
#: for names whose articles tell nothing ("im Zweiten Weltkrieg", "des Statistischen
#: Bundesamtes"); the longest end wins; feminine ends keep the "-e" as they are
_HEAD_GENDER = {
    **dict.fromkeys("krieg bund verband tag rat hof fonds preis dienst kongress verein rundfunk sender konzern "
                    "ozean fluss wald berg platz park markt turm dom palast bahnhof hafen kanal golf kreis bezirk "
                    "staat senat osten westen norden sueden orient gipfel pokal orden ausschuss gerichtshof "
                    "flughafen vertrag pakt plan frieden ball geist stuhl".split(), "m"),
    **dict.fromkeys("reich amt haus kreuz meer gebirge gericht institut zentrum komitee parlament forum tribunal "
                    "museum theater werk buero ministerium abkommen gesetz programm netzwerk kommando bistum "
                    "festival fernsehen".split(), "n"),
    **dict.fromkeys("ung heit keit schaft tion sion taet partei union bank bahn zeitung kommission agentur "
                    "organisation gesellschaft kirche republik heirat liga".split(), "f"),
}
_HEAD_ENDS = sorted(_HEAD_GENDER, key=len, reverse=True)


def _head_gender(noun: str) -> str | None:
    """"m", "n" or "f" for a head noun by its end ("Weltkrieg" m, "Bundesamt" n,
    "Fußball-Bund" m), None where the table does not know it."""
    k = fold(noun.rpartition("-")[2])
    for end in _HEAD_ENDS:
        if k.endswith(end) and (len(k) == len(end) or len(end) >= 3):
            return _HEAD_GENDER[end]
    return None


def _gender_votes(surface: str, head: str, counts: np.ndarray, tokens: frozenset[str]) -> tuple[int, int, int]:
    """(masculine, neuter, feminine or plural) votes of the articles before one surface
    of an entity whose name's head noun is ``head``: "der/das/die" before the "-e" form
    ("der Deutsche Bundestag": masculine), "den" before the "-en" form or the noun alone
    where the noun ends in no "-n" ("den Deutschen Bundestag", "den Bundestag":
    masculine; "den Vereinten Nationen" may be a dative plural), "das"/"die" before the
    noun alone. "der" before the noun alone may be a feminine dative and counts for none."""
    der, die, das, den = (int(x) for x in counts[:4])
    toks = surface.split(" ")
    if len(toks) >= 2 and toks[1][:1].isupper():
        if _adjective_e(toks[0], tokens):
            return der, das, die
        if toks[0].endswith("en") and _adjective_stem(fold(toks[0][:-2]), True):
            noun = next((t for t in toks[1:] if not (t.endswith("en") and _adjective_stem(fold(t[:-2]), True))),
                        toks[-1])
            return (0 if noun.endswith("n") else den), 0, 0
        return 0, 0, 0
    if surface == head:
        return (0 if head.endswith("n") else den), das, die
    return 0, 0, 0


def _citation_forms(names: list[str], comps: np.ndarray, labels: np.ndarray, g_comp: np.ndarray,
                    g_s: np.ndarray, stripped: list[str], tokens: frozenset[str], articles: np.ndarray,
                    is_deriv_u: np.ndarray) -> list[str]:
    """Non-person names that open with adjectives in "-e" (the form after "der/die/das":
    "Deutsche Bundestag") in the citation form, strong for the head noun's gender, where
    the articles before the entity's mentions show it (:func:`_gender_votes`, a majority
    over the other two): masculine "Deutscher Bundestag", neuter "Rotes Kreuz"; where no
    article tells, the gender of a common head noun (:func:`_head_gender`: "Zweiter
    Weltkrieg", "Statistisches Bundesamt"); feminine and plural names, and names whose
    gender neither shows, keep the "-e". A
    name whose noun the corpus only shows in the genitive, after "des" ("des Statistischen
    Bundesamtes"), is shown without the genitive ending ("Statistische Bundesamt").
    ``names[i]`` is the name of component ``comps[i]``; ``tokens``: the corpus's
    capitalised tokens (:func:`_corpus_tokens`)."""
    want: dict[int, int] = {}
    heads: dict[int, int] = {}
    runs: dict[int, int] = {}  # the index of the last word of the nouns after the adjectives
    for i, (c, nm, lab) in enumerate(zip(comps.tolist(), names, labels.tolist())):
        h = _head_of(nm, tokens) if lab != "PER" else None
        if h is not None:
            want[c], heads[c] = i, h
            toks = nm.split(" ")
            # the run of capitalised words after the adjectives: a compound written apart
            # ("Deutsche Fußball Liga" is a Liga), up to a lower-case word ("für")
            runs[c] = h + sum(1 for _ in itertools.takewhile(lambda t: t[:1].isupper() or t[:1].isdigit(),
                                                             toks[h + 1:]))
    if not want:
        return names
    sel = np.isin(g_comp, np.fromiter(want, dtype=np.int64))
    pairs = pd.DataFrame({"c": g_comp[sel], "s": g_s[sel]}).drop_duplicates()
    votes = {c: np.zeros(3, dtype=np.int64) for c in want}
    genitive = {c: 0 for c in want}  # "des" before the names with the run's last word, less other articles
    for c, s_ in zip(pairs["c"].tolist(), pairs["s"].tolist()):
        if is_deriv_u[s_] or not articles[s_].any():
            continue
        toks = names[want[c]].split(" ")
        votes[c] += _gender_votes(stripped[s_], toks[heads[c]], articles[s_], tokens)
        if toks[runs[c]] in stripped[s_].split(" "):
            genitive[c] += int(articles[s_][4]) - int(articles[s_][:4].sum())
    out = list(names)
    for c, i in want.items():
        toks = names[i].split(" ")
        h, r = heads[c], runs[c]
        # the noun in the genitive is the run's only word, or the second after a first one
        # in no genitive ("Deutschen Fußball Verbands", not "Königlichen Rats Irans")
        if genitive[c] > 0 and (r == h or (r == h + 1 and not toks[h].endswith("s"))):
            toks[r] = _genitive_noun_base(toks[r], tokens)
            out[i] = " ".join(toks)
        m, n, f = votes[c].tolist()
        ending = "r" if m > n + f else "s" if n > m + f else ""
        if not (m or n or f):  # no article tells: the gender of the run's last noun the table knows
            genders = [g for g in map(_head_gender, toks[h:r + 1]) if g is not None]
            ending = {"m": "r", "n": "s"}.get(genders[-1] if genders else "", "")
        if ending:
            out[i] = " ".join([t + ending for t in toks[:h]] + toks[h:])
    return out


def _genitive_noun_base(word: str, tokens: frozenset[str]) -> str:
    """A noun in the genitive without its ending: "Bundesamtes" -> "Bundesamt",
    "Fußball-Verbands" -> "Fußball-Verband"; "-es" loses only the "s" where the corpus
    writes the word so ("Gebirges" -> "Gebirge")."""
    if word.endswith("es") and len(word) >= 6 and word[-3] not in "aeiouäöüy":
        return word[:-1] if word[:-1] in tokens else word[:-2]
    if (word.endswith("s") and len(word) >= 5 and word[-2] not in "sxzß"
            and not fold(word).endswith(_S_NOMINATIVES)):
        return word[:-1]
    return word


#: ends of nouns whose nominative ends in "s" (their genitive is the same): "Fonds",
#: "Zirkus", "Kosmos", "Ergebnis"
_S_NOMINATIVES = ("fonds", "us", "os", "is", "as")


def _oblique(surface: str) -> int:
    """Count of non-final tokens with an oblique adjective ending (-en/-em)."""
    toks = fold(surface).split(" ")
    return sum(1 for t in toks[:-1] if t.endswith(("en", "em")) and len(t) > 4)


#: labels a name given as an inhabitant or place-adjective form can carry
_DERIVED_NAME_LABELS = frozenset({"LOC", "MISC"})


class _LocNames:
    """A place key -> a name to show for it: a LOC name of the run with that key, else the
    country's German name (made when first asked)."""

    def __init__(self, S: _Surfaces, ctry):
        self.S, self.ctry, self._names = S, ctry, None

    def get(self, key: str) -> str | None:
        if self._names is None:
            S = self.S
            self._names = {}
            for i in range(len(S.text)):
                if S.label[i] == "LOC" and S.kind[i] != "deriv" and S.stripped[i]:
                    self._names.setdefault(S.key[i], S.stripped[i])
        name = self._names.get(key)
        if name is None and self.ctry is not None and key in self.ctry.by_key:
            name = self.ctry.names[self.ctry.by_key[key]]
        return name


def _place_of_form(text: str, lemma: str, own_key: str, adjs, known_places: set[str],
                   loc_names: _LocNames, display: dict) -> str | None:
    """The place key of a derived form that neither the adjective table, a place of the
    run by its stem nor an inhabitant ending gives (in this order; ``display`` gets the
    name of a place the run does not name):

    1. an inhabitant noun through its adjective: "Französin" -> Frankreich, "Briten";
    2. a compass part of a place: "süditalienischen" -> Süditalien, "Ostberliner" ->
       Ostberlin (the key such a name has, so that it meets the name where a text uses it);
    3. a country or region whose name the stem starts (five letters at least), though the
       run never names it: "somalischen" -> Somalia, "kretischen" -> Kreta.
    """
    place = adjs.demonym(text)
    if place is not None and name_key(place, "LOC") != own_key:
        pk = name_key(place, "LOC")
        display.setdefault(("LOC", pk), place)
        return pk
    last = lemma.rsplit(" ", 1)[-1]
    cut = split_compass(last)
    if cut is not None:
        compass, rest = cut
        base = adjs.table.get(rest) or adjs.demonym(rest)
        if base is None:
            k = inhabitant_place(rest, known_places)
            base = loc_names.get(k) if k is not None else None
        region = compass_region(compass, base) if base else None
        if region is not None and name_key(region, "LOC") != own_key:
            pk = name_key(region, "LOC")
            display.setdefault(("LOC", pk), region)
            return pk
    k = area_of(lemma)
    if k is not None and k != own_key:
        display.setdefault(("LOC", k), area_names()[k])
        return k
    return None


def _derived_names(S: _Surfaces, adjs, loc_set: set[str], ctry) -> None:
    """Name mentions that are derived forms of a known place ("Wiener", "wiener",
    "Erlanger", "griechisch", "Österreichers", labelled LOC or MISC) become derived forms:
    they attach to the place instead of forming a place of their own."""
    places = loc_set | (set(ctry.by_key) if ctry is not None else set())
    for i in range(len(S.text)):
        if S.kind[i] == "deriv" or S.label[i] not in _DERIVED_NAME_LABELS:
            continue
        t, k = S.stripped[i], S.key0[i]
        if not t or " " in t or (ctry is not None and k in ctry.by_key):
            continue  # several words, or a country name itself
        place, _ = adjs.lookup(t)
        if place is None and inhabitant_place(t, places, exclude=k) is None:
            continue
        S.kind[i] = "deriv"
        S.deriv_idx.append(i)


def _vote_labels(S: _Surfaces, P: MentionParts, keys: list[str]) -> None:
    """One label per name key: where the surfaces of a key carry several labels, all
    take the label of most documents, then most mentions (then the schema's label order);
    ``S.label`` is changed in place (the model's label stays in the mentions' ``label``
    input column, written out as ``model_label``). A place and an organisation of one
    name that both hold a fair share (each at least three documents and a quarter of
    them) are kept apart: a city and its club. The votes are counted part by part
    (a document lies in one part, so its votes too)."""
    U = len(S.text)
    su = pd.DataFrame({"k": keys, "l": S.label, "i": np.arange(U)})
    su = su[np.asarray(S.kind, dtype=object) != "deriv"]
    multi = su.groupby("k", sort=False)["l"].transform("nunique").to_numpy() > 1
    if not multi.any():
        return
    mask_u = np.zeros(U, dtype=bool)
    mask_u[su["i"].to_numpy()[multi]] = True
    k_u, k_uniq = pd.factorize(pd.Series(keys, dtype=object), sort=False)
    l_u, l_uniq = pd.factorize(pd.Series(S.label, dtype=object), sort=False)
    stats = []
    for i in range(len(P)):
        s, d = P.get(i, "s"), P.get(i, "d")
        rows = mask_u[s]
        sc = s[rows]
        df = pd.DataFrame({"k": k_u[sc], "l": l_u[sc], "d": d[rows]})
        stats.append(df.groupby(["k", "l"], sort=False).agg(docs=("d", "nunique"), n=("d", "size")))
    st = pd.concat(stats).groupby(level=[0, 1], sort=False).sum().reset_index()
    st["k"] = np.asarray(k_uniq, dtype=object)[st["k"].to_numpy()]
    st["l"] = np.asarray(l_uniq, dtype=object)[st["l"].to_numpy()]
    st["order"] = st["l"].map(lambda x: LABEL_ORDER.get(x, 99))
    st = st.sort_values(["k", "docs", "n", "order", "l"], ascending=[True, False, False, True, True],
                        kind="stable")
    winner: dict[str, str] = {}
    for k, g in st.groupby("k", sort=False):
        labs, docs = g["l"].tolist(), g["docs"].tolist()
        if set(labs[:2]) == {"LOC", "ORG"} and docs[1] >= 3 and docs[1] >= 0.25 * sum(docs):
            continue
        winner[k] = labs[0]
    for i in np.nonzero(mask_u)[0].tolist():
        w = winner.get(keys[i])
        if w is not None:
            S.label[i] = w


def _abbreviations(m, S, abbr_u, s_code, is_deriv, lab_m, key_m, doc, abbr_m, affiliation, defs) -> None:
    """"Long Form (LF)" in one part: a mention followed by " (" and then an all-caps mention.

    The bracket defines an abbreviation only when its letters are derivable from the
    long form (:func:`compare.abbreviation_defines`), both carry one label and the long
    form is not a person; after a person the bracket is an ``affiliation`` of that
    mention ("Werner Faymann (SPÖ)"). In the defining document the short form's
    mentions take the long form's key (``abbr_m`` marks them). Each definition is added
    to ``defs``: {(label, short key): {long key: [number of mentions, their five smallest
    ids]}}, from which :func:`_in_documents` keeps those that hold across documents.
    """
    nc = m["next_chars"].fillna("").astype(str)
    gap = np.where(nc.str.startswith(" (").to_numpy(), 2, np.where(nc.str.startswith("(").to_numpy(), 1, 0))
    is_abbr = abbr_u[s_code] & ~is_deriv
    longs = np.nonzero((gap > 0) & ~is_abbr & ~is_deriv)[0]
    shorts = np.nonzero(is_abbr)[0]
    if len(longs) == 0 or len(shorts) == 0:
        return
    end = m["end_char"].astype("int64").to_numpy()
    st = m["start_char"].astype("int64").to_numpy()
    L = pd.DataFrame({"doc": doc[longs], "pos": end[longs] + gap[longs], "lr": longs})
    R = pd.DataFrame({"doc": doc[shorts], "pos": st[shorts], "sr": shorts})
    hit = L.merge(R, on=["doc", "pos"])
    if len(hit) == 0:
        return
    lrs, srs = hit["lr"].to_numpy(), hit["sr"].to_numpy()
    mid_l = m["mention_id"].take(lrs).astype(str).tolist()
    mid_s = m["mention_id"].take(srs).astype(str).tolist()
    local: set[tuple[int, str, str]] = set()  # (doc, label, short key) -> long key below
    local_target: dict[tuple[int, str, str], str] = {}
    for h, (lr, sr) in enumerate(zip(lrs.tolist(), srs.tolist())):
        short = S.text[s_code[sr]]
        if lab_m[lr] == "PER":
            affiliation[lr] = short.strip()
            continue
        if lab_m[lr] != lab_m[sr] or key_m[lr] == key_m[sr]:
            continue
        if not C.abbreviation_defines(short, S.stripped[s_code[lr]]):
            continue
        lab, sk, lk = lab_m[lr], key_m[sr], key_m[lr]
        ev = defs.setdefault((lab, sk), {}).setdefault(lk, [0, []])
        ev[0] += 2
        ev[1] = sorted(ev[1] + [mid_l[h], mid_s[h]])[:5]
        t = (int(doc[sr]), lab, sk)
        if t not in local:
            local.add(t)
            local_target[t] = lk
    if local_target:
        cand = np.nonzero(pd.Series(key_m).isin({k for _, _, k in local_target}).to_numpy() & ~is_deriv)[0]
        for r in cand.tolist():
            t = local_target.get((int(doc[r]), lab_m[r], key_m[r]))
            if t is not None:
                key_m[r] = t
                abbr_m[r] = True
