"""Comparison levels (Splink style): named, ordered, each with a fixed score.

Pairwise view (``compare_names``) for tests and for analysts; the linker itself uses
the vectorised edge builders below, which only compare names that share a blocking key
so work grows about linearly with the number of distinct names.

========================  ======  ===================================================
level                     score   meaning
========================  ======  ===================================================
``exact``                 1.00    same surface string as the canonical name
``key``                   0.98    same normalised key (case, ß/ss, ä/ae, hyphens, ...)
``genitive``              0.95    German genitive of an attested base ("Putins")
``alias_file``            1.00    analyst alias file, action=merge
``previous_entity``       1.00    matches a name of an entity of an earlier run
``country_alias``         0.95    CLDR/pycountry country name, code or official name
``abbreviation``          0.90    "Long Form (LF)" defined in the same text
``translit``              0.90    same transliteration key (Sergej/Sergei, -ow/-ov)
``deriv``                 0.90    derived adjective of a place (table); 0.70 by stem
``partial_name``          0.90    part of exactly one full name in the document
                          0.60    part of several: the most frequent one is taken
``surname``               0.75    bare surname, one full name with it in the corpus
``middle_names``          0.85    "Angela Merkel" / the one "Angela ... Merkel" of the corpus
``club_prefix``           0.90    "FC Bayern München" / "Bayern München" (club designators)
``head_noun``             0.70    bare head noun, one "place adjective/code + head" name
                                  of its label in the corpus, mentioned together in
                                  documents ("Bundestag" / "Deutscher Bundestag")
``fuzzy``                 ratio   rapidfuzz ratio >= threshold, names >= 8 chars
``singleton``             1.00    the entity's only mention
========================  ======  ===================================================
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd

from .keys import fold, name_key, translit_key

log = logging.getLogger("pipeline")


@dataclass(frozen=True)
class Level:
    name: str
    score: float


EXACT = Level("exact", 1.0)
KEY = Level("key", 0.98)
GENITIVE = Level("genitive", 0.95)
#: the weak "-n" of a name ending in "-e": "Niederlanden" -> "Niederlande", "Grünen" -> "Grüne"
INFLECTION = Level("inflection", 0.95)
#: a name with its article and without: "Der Spiegel" -> "Spiegel", "Die Linke" -> "Linke"
ARTICLE = Level("article", 0.9)
ALIAS_FILE = Level("alias_file", 1.0)
PREVIOUS = Level("previous_entity", 1.0)
COUNTRY = Level("country_alias", 0.95)
ABBREVIATION = Level("abbreviation", 0.9)
TRANSLIT = Level("translit", 0.9)
SPACING = Level("spacing", 0.9)
DERIV = Level("deriv", 0.9)
DERIV_STEM = Level("deriv", 0.7)
PARTIAL = Level("partial_name", 0.9)
PARTIAL_AMBIGUOUS = Level("partial_name", 0.6)
SURNAME = Level("surname", 0.75)
HEAD = Level("head_noun", 0.7)
ACRONYM = Level("acronym", 0.8)
MIDDLE_NAMES = Level("middle_names", 0.85)
CLUB = Level("club_prefix", 0.9)
LEGAL_FORM = Level("legal_form", 0.9)
TRADE_HEAD = Level("trade_head", 0.75)
FUZZY = "fuzzy"
SINGLETON = Level("singleton", 1.0)

#: names shorter than this (folded key) never take the fuzzy level
FUZZY_MIN_CHARS = 8
#: larger fuzzy blocks are skipped (a common surname with hundreds of given names)
FUZZY_MAX_BLOCK = 400


def fuzzy_allowed(a: str, b: str, label: str) -> bool:
    """Guards of the fuzzy level on two folded keys.

    Persons: same number of tokens; every differing token pair has both tokens of at
    least 4 characters and the same initial (so "kim jong un" / "kim jong il" and
    "hans mueller" / "jens mueller" never qualify). All labels: digits must be equal
    ("sojus 2" / "sojus 3").
    """
    if len(a) < FUZZY_MIN_CHARS or len(b) < FUZZY_MIN_CHARS:
        return False
    if [c for c in a if c.isdigit()] != [c for c in b if c.isdigit()]:
        return False
    if label == "PER":
        ta, tb = a.split(" "), b.split(" ")
        if len(ta) != len(tb):
            return False
        for x, y in zip(ta, tb):
            if x != y and (len(x) < 4 or len(y) < 4 or x[0] != y[0]):
                return False
    return True


def compare_names(a: str, b: str, label: str = "PER", fuzzy_threshold: float = 92) -> Level | None:
    """The first (strongest) comparison level two names of one label meet, or None.

    Name-to-name levels only; partial names, derivs and aliases need context (the
    document, the corpus) and are decided by the linker.
    """
    if a == b:
        return EXACT
    ka, kb = name_key(a, label), name_key(b, label)
    if ka == kb:
        return KEY
    if translit_key(ka) == translit_key(kb):
        return TRANSLIT
    if fuzzy_allowed(ka, kb, label):
        from rapidfuzz import fuzz

        r = fuzz.ratio(ka, kb)
        if r >= fuzzy_threshold:
            return Level(FUZZY, round(r / 100.0, 4))
    return None


# --------------------------------------------------------------------------- blocking


def block_key(key: str, label: str) -> str:
    """Blocking key: transliteration key of the last token (persons: the surname) or of
    the first token (other labels)."""
    toks = key.split(" ")
    return translit_key(toks[-1] if label == "PER" else toks[0])


def contiguous_parts(tokens: list[str]) -> list[str]:
    """All contiguous token sequences shorter than the name ("a b c" -> a, b, c, a b, b c)."""
    n = len(tokens)
    return [" ".join(tokens[i:j]) for size in range(1, n) for i in range(n - size + 1)
            for j in (i + size,)]


# --------------------------------------------------------------------------- partial names


def resolve_partials(per: pd.DataFrame, forbidden: set[tuple[str, str]] | None = None) -> pd.DataFrame:
    """Within-document partial-name level.

    ``per``: one row per PER name/part mention with columns doc, key, tkey (translit key
    of key), ntok, start. A mention whose translit key equals a contiguous part of a
    longer full name of the same document (a surname "Putin", a family name "Kim", a
    given name, "Jong Un") is linked to that full name. With several candidates (Kim
    Jong Un and Kim Jong Il) the full name mentioned most often in the document wins,
    then the one mentioned first; the link then gets the lower score. ``forbidden``
    holds (short key, full key) pairs that must not link (analyst splits).

    Returns one row per linked (doc, key): doc, key, target, n_candidates.
    """
    cols = ["doc", "key", "target", "n_candidates"]
    full = per[per["ntok"] >= 2]
    if len(full) == 0:
        return pd.DataFrame(columns=cols)
    fstat = (full.groupby(["doc", "key"], sort=False, observed=True)
             .agg(count=("start", "size"), first=("start", "min")).reset_index())
    ufull = pd.unique(fstat["key"])
    parts_rows = [(fk, p) for fk in ufull for p in contiguous_parts(translit_key(fk).split(" "))]
    parts = pd.DataFrame(parts_rows, columns=["key", "part"]).drop_duplicates()
    cand = fstat.merge(parts, on="key").rename(columns={"key": "target"})
    short = per[["doc", "key", "tkey"]].drop_duplicates()
    hits = short.merge(cand, left_on=["doc", "tkey"], right_on=["doc", "part"])
    hits = hits[hits["key"] != hits["target"]]
    if forbidden and len(hits):
        bad = [(k, t) in forbidden for k, t in zip(hits["key"], hits["target"])]
        hits = hits[~np.asarray(bad, dtype=bool)]
    if len(hits) == 0:
        return pd.DataFrame(columns=cols)
    hits = hits.drop_duplicates(["doc", "key", "target"])
    n = hits.groupby(["doc", "key"], sort=False)["target"].transform("size")
    hits = hits.assign(n_candidates=n.to_numpy())
    hits = hits.sort_values(["doc", "key", "count", "first", "target"],
                            ascending=[True, True, False, True, True], kind="stable")
    best = hits.drop_duplicates(["doc", "key"])[cols].reset_index(drop=True)
    # a partial of a partial ("Kim" -> "Kim Jong" -> "Kim Jong Un"): follow the chain
    nxt = dict(zip(zip(best["doc"], best["key"]), best["target"]))
    targets = []
    for d, t in zip(best["doc"], best["target"]):
        seen = 0
        while (d, t) in nxt and seen < 5:
            t = nxt[(d, t)]
            seen += 1
        targets.append(t)
    best["target"] = targets
    return best


# --------------------------------------------------------------------------- edges


def group_edges(group: np.ndarray, nodes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Edges joining every node to the first (smallest) node of its group (a star)."""
    if len(nodes) == 0:
        return np.empty(0, np.int64), np.empty(0, np.int64)
    df = pd.DataFrame({"g": group, "n": nodes}).drop_duplicates().sort_values(["g", "n"])
    first = df.groupby("g", sort=False)["n"].transform("min").to_numpy()
    mask = first != df["n"].to_numpy()
    return first[mask].astype(np.int64), df["n"].to_numpy()[mask].astype(np.int64)


def fuzzy_edges(
    keys: list[str], labels: list[str], blocks: list[str], roots: np.ndarray, threshold: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Fuzzy level inside blocks: pairs of nodes (indices into ``keys``) of one block, of
    different clusters, with rapidfuzz ratio >= threshold and :func:`fuzzy_allowed`.

    Returns (a, b, score) with score in [0, 1].
    """
    from rapidfuzz import fuzz, process

    a_out, b_out, s_out = [], [], []
    df = pd.DataFrame({"b": blocks, "r": roots, "i": np.arange(len(keys))})
    n_roots = df.groupby("b", sort=True)["r"].transform("nunique")
    df = df[n_roots.to_numpy() > 1]
    skipped = 0
    for _, idx in df.groupby("b", sort=True)["i"]:
        idx = idx.to_numpy()
        if len(idx) > FUZZY_MAX_BLOCK:
            skipped += 1
            continue
        ks = [keys[i] for i in idx]
        mat = process.cdist(ks, ks, scorer=fuzz.ratio, score_cutoff=threshold, dtype=np.uint8,
                            workers=1)
        ii, jj = np.nonzero(np.triu(mat, 1))
        for x, y in zip(ii.tolist(), jj.tolist()):
            p, q = idx[x], idx[y]
            if roots[p] == roots[q] or not fuzzy_allowed(keys[p], keys[q], labels[p]):
                continue
            a_out.append(p)
            b_out.append(q)
            s_out.append(fuzz.ratio(keys[p], keys[q]) / 100.0)
    if skipped:
        log.info("fuzzy level skipped %d blocks larger than %d names", skipped, FUZZY_MAX_BLOCK)
    return (np.asarray(a_out, dtype=np.int64), np.asarray(b_out, dtype=np.int64),
            np.asarray(s_out, dtype=np.float64))


# --------------------------------------------------------------------------- person names


def names_compatible(a: str, b: str, threshold: float = 92) -> bool:
    """Whether two person full-name keys (translit keys, 2+ tokens) may name one person.

    True when a comparison level explains the difference: equal keys; one name's tokens
    an ordered subsequence of the other's with the same last token ("neil armstrong" /
    "neil alden armstrong", "van der bellen" / "alexander van der bellen"); or the fuzzy
    level (same token count, :func:`fuzzy_allowed`, ratio >= ``threshold``). So
    "gerhard schroder" / "kristina schroder" and "kim jong un" / "kim jong il" are not.
    """
    if a == b:
        return True
    ta, tb = a.split(" "), b.split(" ")
    if len(ta) > len(tb):
        ta, tb = tb, ta
    if ta[-1] == tb[-1] and len(ta) < len(tb):
        it = iter(tb)
        if all(t in it for t in ta):
            return True
    if len(ta) == len(tb) and 0 < threshold <= 100 and fuzzy_allowed(a, b, "PER"):
        from rapidfuzz import fuzz

        return fuzz.ratio(a, b) >= threshold
    return False


# --------------------------------------------------------------------------- abbreviations

#: words that may stand between the content words of a long form
_FUNCTION_WORDS = frozenset("der die das des dem den und fuer fur of the and for in im am an "
                            "zu zur zum von vom e v ev de du la le et y".split())

#: German stems of words frequent in organisation names -> the English word, so an
#: acronym of the English name ("Östliches Wirtschaftsforum (EEF)", "Vereinte Nationen
#: (UN)", "Internationaler Währungsfonds (IMF)") is derivable from the German long form
_EN_GLOSS: dict[str, str] = {
    "oestlich": "eastern", "westlich": "western", "noerdlich": "northern", "suedlich": "southern",
    "wirtschaft": "economic", "forum": "forum", "vereint": "united", "nation": "nations",
    "international": "international", "national": "national", "welt": "world",
    "gesundheit": "health", "organisation": "organization", "waehrung": "monetary",
    "fonds": "fund", "handel": "trade", "bank": "bank", "europaeisch": "european",
    "zentral": "central", "atom": "atomic", "energie": "energy", "agentur": "agency",
    "rat": "council", "gericht": "court", "sicherheit": "security", "union": "union",
    "zusammenarbeit": "cooperation", "entwicklung": "development", "ernaehrung": "food",
    "landwirtschaft": "agriculture", "arbeit": "labour", "kinder": "children",
    "hilfswerk": "fund", "program": "programme", "umwelt": "environment", "fluechtling": "refugees",
    "hochkommissar": "high commissioner", "kommission": "commission", "verteidigung": "defence",
    "raumfahrt": "space", "luftfahrt": "aviation", "vertrag": "treaty", "nordatlantik": "north atlantic",
    "gemeinschaft": "community", "staaten": "states", "amerikanisch": "american",
    "afrikanisch": "african", "asiatisch": "asian", "arabisch": "arab", "liga": "league",
    "partei": "party", "bewegung": "movement", "front": "front", "armee": "army",
    "befreiung": "liberation", "demokratisch": "democratic", "republikanisch": "republican",
    "sozialistisch": "socialist", "kommunistisch": "communist", "islamisch": "islamic",
    "staat": "state", "nachrichten": "news", "presse": "press", "rundfunk": "broadcasting",
    "raumstation": "space station", "unterstuetzung": "assistance", "truppe": "force",
    "streitkraefte": "forces", "institut": "institute", "universitaet": "university", "verband": "association",
    "gesellschaft": "society", "stiftung": "foundation", "polizei": "police", "inter": "inter",
}
_GLOSS_RE = re.compile("|".join(sorted(map(re.escape, _EN_GLOSS), key=len, reverse=True)))


def _gloss(words: list[str]) -> list[str]:
    """English words for the known German stems in ``words`` (compounds split), in order;
    a word without a known stem is kept."""
    out: list[str] = []
    for w in words:
        found = [_EN_GLOSS[x] for x in _GLOSS_RE.findall(w)]
        out.extend(found) if found else out.append(w)
    return " ".join(out).split(" ")


def _derivable(letters: str, words: list[str]) -> bool:
    """The acronym's first letter starts the first word and the others follow in order
    (inside words too: German compounds, "Währungsfonds" gives W and F); the long form
    has no more content words than the acronym has letters plus one."""
    if not words or not words[0].startswith(letters[0]):
        return False
    content = [w for w in words if w not in _FUNCTION_WORDS]
    if len(content) > len(letters) + 1:
        return False
    rest = iter(" ".join(words)[1:])
    return all(c in rest for c in letters[1:])


def _long_form_words(long: str, hyphens: bool = False) -> list[str]:
    """The folded words of a long form (split at hyphens too with ``hyphens``), leading
    function words dropped while another word follows ("der Vereinten Nationen")."""
    words = [w for x in fold(long).split(" ") for w in (x.split("-") if hyphens else [x]) if w]
    while words and words[0] in _FUNCTION_WORDS and len(words) > 1:
        words = words[1:]
    return words


@lru_cache(maxsize=1 << 16)
def abbreviation_defines(short: str, long: str) -> bool:
    """Whether "LONG (SHORT)" reads as the definition of an abbreviation: the letters of
    SHORT are derivable from LONG (initials of its words or word parts, German compound
    parts allowed) or from the English name its German words translate to.

    >>> abbreviation_defines("IWF", "Internationalen Währungsfonds")
    True
    >>> abbreviation_defines("EEF", "Östlichen Wirtschaftsforum")
    True
    >>> abbreviation_defines("OSZE", "Europa")
    False
    """
    letters = "".join(c for c in fold(short) if c.isalpha())
    if len(letters) < 2:
        return False
    words = _long_form_words(long)
    if _derivable(letters, words):
        return True
    return _derivable(letters, _gloss(words))


#: an acronym the corpus never defines joins a long form it abbreviates only where the two
#: are mentioned together in at least this many documents, and in this share of the
#: acronym's documents
ACRONYM_MIN_SHARED_DOCS = 2
ACRONYM_MIN_SHARED_SHARE = 0.2
#: acronyms of at most this many letters ("VW", "DFB", "UNO"); longer ones are words
ACRONYM_MAX_LETTERS = 6


#: inside a word, an acronym's letter stands for a compound part of at least this many
#: letters ("Volks|wagen" gives W; "Bundestag" gives no N nor D)
_PART_MIN_CHARS = 3


def _letters_at_parts(letters: str, words: list[str]) -> bool:
    """The acronym's letters in order at the starts of the content words or of compound
    parts of at least :data:`_PART_MIN_CHARS` letters, the first at the first word's start,
    no longer word left out: stricter than :func:`_derivable`, which takes any later
    letter. A search over the few ways to place at most a handful of letters."""
    words = [w for w in words if w not in _FUNCTION_WORDS]
    if not words or not words[0].startswith(letters[0]):
        return False

    def place(li: int, wi: int, pos: int) -> bool:
        if li == len(letters):
            return all(len(w) <= _PART_MIN_CHARS for w in words[wi + 1:])
        c = letters[li]
        for j in range(wi + 1, len(words)):  # a later word's initial (short words skipped)
            if words[j].startswith(c) and place(li + 1, j, 0):
                return True
            if len(words[j]) > _PART_MIN_CHARS:
                break
        w = words[wi]  # a compound part inside the word of the last letter
        k = w.find(c, pos + _PART_MIN_CHARS)
        while k >= 0 and len(w) - k >= _PART_MIN_CHARS:
            if place(li + 1, wi, k):
                return True
            k = w.find(c, k + 1)
        return False

    return place(1, 0, 0)


@lru_cache(maxsize=1 << 16)
def acronym_of(short: str, long: str) -> bool:
    """Whether SHORT is an acronym of LONG by its word and compound-part initials, in
    German or in the English its words translate to; stricter than
    :func:`abbreviation_defines` (which reads a definition the text gives), for names
    only seen together.

    >>> acronym_of("VW", "Volkswagen"), acronym_of("EZB", "Europäische Zentralbank")
    (True, True)
    >>> acronym_of("UN", "Vereinte Nationen"), acronym_of("BND", "Bundestag")
    (True, False)
    """
    letters = "".join(c for c in fold(short) if c.isalpha())
    if len(letters) < 2:
        return False
    words = _long_form_words(long, hyphens=True)
    return _letters_at_parts(letters, words) or _letters_at_parts(letters, _gloss(words))


def acronym_initials(long: str) -> set[str]:
    """The letters an acronym of ``long`` can start with: its first content word's, and
    that of its English gloss ("Vereinte Nationen" -> "v", "u" for "UN")."""
    words = _long_form_words(long)
    if not words:
        return set()
    return {words[0][:1], _gloss(words)[0][:1]} - {""}


# --------------------------------------------------------------------------- head nouns

#: documents (at least) in which a bare head noun and its modified name must appear
#: together, or this share of the bare noun's documents
HEAD_MIN_SHARED_DOCS = 2
HEAD_MIN_SHARED_SHARE = 0.25


def head_pairs(keys: list[str], labels: list[str], is_modifier) -> list[tuple[int, int]]:
    """Candidate (bare, modified) node pairs of the head-noun level: a one-token key
    ``h`` of a non-person label and the only key of that label that is ``h`` preceded by
    modifiers only (``is_modifier(token)``: a place adjective or a country code, "deutsch
    bundestag", "us dollar"). A head with two such names ("europaeisch union", "afrikanisch
    union") gets none."""
    bare: dict[tuple[str, str], int] = {}
    mods: dict[tuple[str, str], list[int]] = {}
    for i, (k, lab) in enumerate(zip(keys, labels)):
        if lab == "PER" or not k or k.startswith("~"):
            continue
        if " " not in k:
            bare[(lab, k)] = i
            continue
        toks = k.split(" ")
        if all(is_modifier(t) for t in toks[:-1]):
            mods.setdefault((lab, toks[-1]), []).append(i)
    return [(bare[h], nodes[0]) for h, nodes in mods.items() if h in bare and len(nodes) == 1]


# --------------------------------------------------------------------------- middle names


def middle_name_pairs(keys: list[str], labels: list[str]) -> list[tuple[int, int]]:
    """(short, long) person nodes: a two-token name and the only longer name of the
    corpus with the same first and last token ("jose zapatero" / "jose luis rodriguez
    zapatero", "angela merkel" / "angela dorothea merkel"). Keys are transliteration keys."""
    short: dict[tuple[str, str], int] = {}
    longer: dict[tuple[str, str], list[int]] = {}
    for i, (k, lab) in enumerate(zip(keys, labels)):
        if lab != "PER" or k.startswith("~"):
            continue
        toks = k.split(" ")
        if len(toks) == 2:
            short[(toks[0], toks[1])] = i
        elif len(toks) > 2 and len(toks[0]) > 1 and any(len(t) > 1 for t in toks[1:-1]):
            # middle initials alone tell people apart (George W. / George H. W. Bush): no
            longer.setdefault((toks[0], toks[-1]), []).append(i)
    return [(i, longer[fl][0]) for fl, i in short.items() if len(longer.get(fl, ())) == 1]


# --------------------------------------------------------------------------- clubs

#: designators of sports clubs that a name may carry or drop ("FC Bayern München")
CLUB_TOKENS = frozenset("fc sc sv tsv vfl vfb vfr fsv ssv sg tsg bsc ac as afc cf cd sd ud rc sk fk bv spvgg ec ehc "
                        "ssc kfc hsv".split())


#: trade words closing a company name, part of the name ("Tesla Motors", "BMW Group"): they
#: make a name ORG (``ner.postprocess.label_by_form``) and may be left out where the name
#: is mentioned along with its short form (the ``trade_head.v1`` level)
TRADE_HEADS = frozenset(
    "Group Holding Holdings Motors Airlines Airways Pharma Pharmaceuticals Technologies Systems Software "
    "Automation Industries Electronics Entertainment Communications Solutions Logistics Records Studios".split())
#: legal forms closing a company name (folded key tokens): "Daimler AG", "Google Inc.",
#: "Siemens AG & Co. KG"
LEGAL_FORM_TOKENS = frozenset("ag gmbh se kg kgaa ohg ug inc corp corporation ltd plc llc co sa nv bv ab".split())


def legal_form_base(name: str) -> str | None:
    """A company name without the legal forms that close it ("Daimler AG" -> "Daimler",
    "Siemens AG & Co. KG" -> "Siemens"); None when it has none or nothing else."""
    toks = name.split()
    j = len(toks)
    while j > 1 and (fold(toks[j - 1]).strip(".,& ") in LEGAL_FORM_TOKENS or toks[j - 1] in ("&", ",")):
        j -= 1
    return " ".join(toks[:j]).rstrip(",") if j < len(toks) else None


def club_key(key: str) -> str | None:
    """The key of a club name without its designators ("fc bayern muenchen" -> "bayern
    muenchen", "1 fsv mainz 05" -> "mainz 05"; a number only before a designator, so "1
    bundesliga" and "2 bundesliga" stay apart); None when nothing is dropped or fewer
    than two tokens remain ("fc koeln")."""
    toks = key.split(" ")
    i, j = 0, len(toks)
    if j > 1 and toks[0].isdigit() and toks[1] in CLUB_TOKENS:  # "1. FC Köln", never "1. Bundesliga"
        i = 1
    while i < j and toks[i] in CLUB_TOKENS:
        i += 1
    while j > i and toks[j - 1] in CLUB_TOKENS:
        j -= 1
    if (i, j) == (0, len(toks)) or j - i < 2:
        return None
    return " ".join(toks[i:j])
