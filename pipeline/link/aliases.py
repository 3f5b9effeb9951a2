"""Known aliases: country names (CLDR/pycountry), place adjectives, the analyst alias file.

Everything here is built from maintained, general resources, never from the texts:

* German country names: ``babel.Locale('de').territories`` (CLDR) for the usual short
  name, plus pycountry's ISO 3166 names, official names and common names *translated to
  German* with pycountry's own gettext catalogues ("Demokratische Volksrepublik Korea",
  "Russische Föderation", "Vereinigte Staaten von Amerika"), plus alpha-2/alpha-3 codes
  for all-caps mentions ("USA", "US"). A key that two countries share is dropped.
* A few common German names of former states and of official names that neither source
  has (``EXTRA_STATE_NAMES``) — a general table, not taken from any text.
* Place adjectives: ``data/de_place_adjectives.csv`` (generated, see
  ``data/generate_place_adjectives.py``).
"""

from __future__ import annotations

import csv
import gettext
import logging
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

import pandas as pd

from .keys import _fold_adjective, adjective_candidates, adjective_stem, fold, name_key

log = logging.getLogger("pipeline")

DATA = Path(__file__).with_name("data")
ADJECTIVES_CSV = DATA / "de_place_adjectives.csv"

#: CLDR "territories" that are not countries
_NOT_COUNTRIES = {"EU", "EZ", "UN", "QO", "XA", "XB", "ZZ"}

#: German names of states missing from CLDR/pycountry-de (former states, everyday
#: official forms). Key: ISO-like code; the first name is the canonical German name.
EXTRA_STATE_NAMES: dict[str, list[str]] = {
    "SU": ["Sowjetunion", "UdSSR", "Union der Sozialistischen Sowjetrepubliken"],
    "DD": ["Deutsche Demokratische Republik", "DDR"],
    "YU": ["Jugoslawien"],
    "CS": ["Tschechoslowakei"],
    # not "Amerika": German news uses it for the continent as well as for the USA
    "US": ["Vereinigte Staaten von Amerika"],
    "GB": ["Großbritannien", "UK"],
    "RU": ["Russische Föderation"],
    "KR": ["Republik Korea"],
    "KP": ["Demokratische Volksrepublik Korea", "DVRK"],
    "CN": ["Volksrepublik China", "VR China"],
    "DE": ["Bundesrepublik Deutschland"],
    "NL": ["Holland"],
    "CZ": ["Tschechische Republik"],
    "BY": ["Weißrussland"],
    "MD": ["Moldawien"],
}


@dataclass(frozen=True)
class Countries:
    """Folded name key -> country code, and code -> canonical German (CLDR) name."""

    by_key: dict[str, str]
    by_code_upper: dict[str, str]  # "USA" -> "US" (only for all-caps mentions)
    names: dict[str, str]

    def code(self, key: str, surface: str | None = None) -> str | None:
        """The country code of a mention, by its name key, else by an all-caps code."""
        c = self.by_key.get(key)
        if c is None and surface is not None and surface.isupper():
            c = self.by_code_upper.get(surface.strip())
        return c

    def canonical_key(self, code: str) -> str:
        return name_key(self.names[code], "LOC")


def _uninvert(name: str) -> str:
    """ISO style "Korea, Republik" -> "Republik Korea"."""
    if ", " in name and "(" not in name:
        a, b = name.split(", ", 1)
        return f"{b} {a}"
    return name


@lru_cache(maxsize=1)
def countries() -> Countries:
    """Build the country alias table once (babel + pycountry, German)."""
    from babel import Locale

    names: dict[str, str] = {
        c: n for c, n in Locale("de").territories.items()
        if len(c) == 2 and c.isalpha() and c not in _NOT_COUNTRIES
    }
    variants: dict[str, set[str]] = {c: {n} for c, n in names.items()}
    upper: dict[str, set[str]] = {}
    try:
        import pycountry

        try:
            de = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=["de"]).gettext
        except OSError:  # catalogue missing: English names are of little use here
            de = None
        for c in pycountry.countries:
            code = c.alpha_2
            if code not in names:
                continue
            for attr in ("name", "official_name", "common_name"):
                v = getattr(c, attr, None)
                if v and de is not None:
                    t = de(v)
                    variants[code].update({t, _uninvert(t)})
            upper.setdefault(c.alpha_3, set()).add(code)
            upper.setdefault(c.alpha_2, set()).add(code)
    except ImportError:  # pragma: no cover - pycountry is a dependency
        log.warning("pycountry not installed: official country names are not linked")
    for code, extra in EXTRA_STATE_NAMES.items():
        if code not in names:
            names[code] = extra[0]
        variants.setdefault(code, set()).update(extra)
    upper.setdefault("UK", set()).add("GB")
    by_key: dict[str, set[str]] = {}
    for code, vs in variants.items():
        for v in vs:
            by_key.setdefault(name_key(v, "LOC"), set()).add(code)
    return Countries(
        by_key={k: next(iter(v)) for k, v in by_key.items() if len(v) == 1 and k},
        by_code_upper={k: next(iter(v)) for k, v in upper.items() if len(v) == 1},
        names=names,
    )


# --------------------------------------------------------------------------- adjectives


@dataclass(frozen=True)
class PlaceAdjectives:
    """Folded adjective lemma -> German place name."""

    table: dict[str, str] = field(default_factory=dict)
    #: the same keyed without the umlauts derivation adds ("franzosisch"), for inhabitants
    plain: dict[str, str] = field(default_factory=dict)

    def lookup(self, surface: str) -> tuple[str | None, str]:
        """(place name or None, folded lemma) for a derived word."""
        cands = adjective_candidates(surface)
        for c in cands:
            place = self.table.get(c)
            if place:
                return place, cands[0]
        return None, cands[0]

    def demonym(self, surface: str) -> str | None:
        """The place of an inhabitant noun, through the adjective it shares a stem with:
        "Franzosen"/"Französin" -> französisch -> Frankreich, "Briten" -> Vereinigtes
        Königreich, "Chinesen" -> China, "Kanadierin" -> Kanada, "Israelis" -> Israel.
        Feminine "-in"/"-innen" and plural or genitive endings are dropped, then the
        noun's "-ier"/"-er"/"-e"/"-i" is replaced by "-isch" (the umlaut the adjective
        may add is ignored); None when no adjective of the table fits."""
        k = fold(surface)
        if not k or " " in k or len(k) < 4:
            return None
        forms = [k]
        for end in ("innen", "in"):
            if k.endswith(end) and len(k) - len(end) >= 4:
                forms.append(k[: -len(end)])
        for f in list(forms):
            for end in ("ern", "ers", "en", "es", "n", "s"):
                if f.endswith(end) and len(f) - len(end) >= 4:
                    forms.append(f[: -len(end)])
        plain = self.plain
        for f in dict.fromkeys(forms):
            for end in ("ier", "er", "e", "i", ""):
                if f.endswith(end) and len(f) - len(end) >= 3:
                    adj = f[: len(f) - len(end)] + "isch"
                    place = self.table.get(adj) or plain.get(_DEUMLAUT.sub(_first, adj))
                    if place:
                        return place
        return None


def _first(m: re.Match) -> str:
    return m.group(0)[0]


#: compass words that name a part of a place ("süditalienisch": Süditalien), folded,
#: longest first, with their German spelling
COMPASS_WORDS: tuple[tuple[str, str], ...] = (
    ("nordost", "Nordost"), ("nordwest", "Nordwest"), ("suedost", "Südost"), ("suedwest", "Südwest"),
    ("nord", "Nord"), ("sued", "Süd"), ("ost", "Ost"), ("west", "West"), ("zentral", "Zentral"),
    ("mittel", "Mittel"),
)


def split_compass(key: str) -> tuple[str, str] | None:
    """A folded word that starts with a compass word: (the compass word as German writes
    it, the rest): "sueditalienisch" -> ("Süd", "italienisch"), "ostberliner" -> ("Ost",
    "berliner"); None without one, or with fewer than five letters after it."""
    for folded, written in COMPASS_WORDS:
        if key.startswith(folded) and len(key) - len(folded) >= 5:
            rest = key[len(folded):].lstrip(" -")
            if len(rest) >= 5 and " " not in rest:
                return written, rest
    return None


def compass_region(compass: str, place: str) -> str | None:
    """The name of a compass part of a one-word place: ("Süd", "Italien") -> "Süditalien";
    None for a place of several words ("Vereinigte Staaten")."""
    if not place or " " in place or "-" in place:
        return None
    return compass + place[:1].lower() + place[1:]


@lru_cache(maxsize=1)
def area_names() -> dict[str, str]:
    """Folded key -> German name of every country (:func:`countries`) and top-level ISO
    3166-2 subdivision (its German name where pycountry has one, and its local name):
    the areas a derived adjective may come from without the corpus naming them
    ("kretisch", "somalisch", "saarländisch")."""
    from ..places import _regions

    ctry = countries()
    out = {k: ctry.names[c] for k, c in ctry.by_key.items()}
    for name, _region in _regions({}):
        k = name_key(name, "LOC")
        if k:
            out.setdefault(k, name)
    return out


@lru_cache(maxsize=1)
def area_keys() -> list[str]:
    """The keys of :func:`area_names`, sorted (for :func:`stem_prefix_match`)."""
    return sorted(area_names())


def area_of(lemma: str) -> str | None:
    """The key of the one country or region whose name an adjective's stem starts
    ("somalisch" -> "somalia"), for stems of five letters or more: shorter ones ("kind"
    of "kindisch") start too many names of the world's regions."""
    if len(adjective_stem(lemma)) < 5:
        return None
    return stem_prefix_match(lemma, area_keys())


def derives_from_place(surface: str, adjs: PlaceAdjectives, doc_keys: Iterable[str] = ()) -> bool:
    """Whether a lower-case derived adjective comes from a place: one of the adjective
    table (also after a compass word, "süditalienisch", or as the end of a compound,
    "sowjetrussisch"), or one whose stem starts a country's, a region's or a place of the
    document's name (``doc_keys``: folded LOC name keys). "katholisch", "fanatisch",
    "tektonisch" come from none."""
    place, lemma = adjs.lookup(surface)
    if place is not None:
        return True
    parts = lemma.split(" ")  # the members of "europäisch-westlich"
    if any(p in adjs.table for p in parts):
        return True
    last = parts[-1]
    cut = split_compass(last)
    if cut is not None and adjs.table.get(cut[1]):
        return True
    # a compound ending in a place adjective of 8+ letters: "sowjetrussisch"
    for i in range(3, len(last) - 7):
        if last[i:] in adjs.table:
            return True
    doc = sorted(set(doc_keys))
    for lem in dict.fromkeys([lemma, last, cut[1] if cut else last]):
        # an area the text need not name, or a place the document names
        if area_of(lem) or (doc and stem_prefix_match(lem, doc)):
            return True
    return False


@lru_cache(maxsize=4)
def place_adjectives(path: str | None = None) -> PlaceAdjectives:
    p = Path(path) if path else ADJECTIVES_CSV
    table: dict[str, str] = {}
    with p.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            table[fold(row["adjective"])] = row["place"]
    plain: dict[str, str] = {}
    for adj, place in table.items():
        plain.setdefault(_DEUMLAUT.sub(_first, adj), place)
    return PlaceAdjectives(table, plain)


def stem_prefix_match(lemma: str, sorted_keys: list[str]) -> str | None:
    """Fallback for adjectives not in the table: strip ending and -isch/-anisch/-esisch and
    find the one place key (already in the corpus) that starts with the stem.

    A hyphenated lemma keeps its first parts ("baden wuerttembergisch" -> "baden
    wuerttemberg"), and the stem is also tried without the umlaut derivation adds
    ("niedersaechsisch" -> "niedersachs" -> Niedersachsen, "preussisch" -> Preußen).
    ``sorted_keys`` must be sorted; returns None unless exactly one key matches.
    """
    import bisect

    stem = adjective_stem(lemma)
    if len(stem) < 4:
        return None
    # the first parts as place keys fold them (non-final adjective endings: "baden" -> "bad")
    head = " ".join(_fold_adjective(t) for t in lemma.split(" ")[:-1]) + " " if " " in lemma else ""
    stems = [stem]
    plain = _DEUMLAUT.sub(_first, stem)
    if plain != stem and len(plain) >= 4:
        stems.append(plain)
    hits: set[str] = set()
    for st in dict.fromkeys(stems):
        full = head + st
        i = bisect.bisect_left(sorted_keys, full)
        while i < len(sorted_keys) and sorted_keys[i].startswith(full):
            k = sorted_keys[i]
            if k.count(" ") == full.count(" ") and len(k) - len(full) <= 4:
                hits.add(k)
            i += 1
            if len(hits) > 1:
                return None
    return hits.pop() if len(hits) == 1 else None


#: umlauts (folded) that derivation adds: Sachsen -> sächsisch,
#: Elsass -> elsässisch, Rom -> römisch
_DEUMLAUT = re.compile("ae|oe|ue")


# --------------------------------------------------------------------------- alias file

ALIAS_COLUMNS = ["canonical_name", "alias", "label", "action"]


def load_aliases(path: str | Path | None) -> pd.DataFrame:
    """Read the analyst alias CSV (canonical_name, alias, label[, action]).

    ``action`` is ``merge`` (default) or ``split``. A missing or empty path gives an
    empty table; a file lacking required columns raises ``ValueError`` naming them.
    """
    if path is None or str(path) == "":
        return pd.DataFrame(columns=ALIAS_COLUMNS)
    p = Path(path)
    if not p.exists():
        log.warning("aliases file %s not found; no analyst aliases used", p)
        return pd.DataFrame(columns=ALIAS_COLUMNS)
    df = pd.read_csv(p, dtype=str, keep_default_na=False, comment="#", skipinitialspace=True)
    return normalize_aliases(df, where=str(p))


def normalize_aliases(df: pd.DataFrame | None, where: str = "aliases") -> pd.DataFrame:
    """Check columns and fill defaults (action=merge, label='' = any label)."""
    if df is None or len(df) == 0:
        return pd.DataFrame(columns=ALIAS_COLUMNS)
    df = df.copy()
    df.columns = [str(c).strip().lower() for c in df.columns]
    missing = [c for c in ("canonical_name", "alias") if c not in df.columns]
    if missing:
        raise ValueError(f"{where}: missing column(s) {', '.join(missing)}; "
                         f"expected {', '.join(ALIAS_COLUMNS)}")
    for c in ("label", "action"):
        if c not in df.columns:
            df[c] = ""
    df = df[ALIAS_COLUMNS].fillna("").astype(str)
    for c in ALIAS_COLUMNS:
        df[c] = df[c].str.strip()
    df["action"] = df["action"].str.lower().replace("", "merge")
    df["label"] = df["label"].str.upper()
    bad = sorted(set(df["action"]) - {"merge", "split"})
    if bad:
        raise ValueError(f"{where}: unknown action(s) {', '.join(bad)} (use merge or split)")
    return df[(df["canonical_name"] != "") & (df["alias"] != "")].reset_index(drop=True)


def resolve_aliases_path(value: str) -> Path | None:
    """``LinkConfig.aliases_file`` -> path; relative paths are taken from the configs folder
    (the same rule as ``Config.resolve_path`` without a base_dir)."""
    if not value:
        return None
    p = Path(value).expanduser()
    if not p.is_absolute():
        from ..config import configs_dir

        p = configs_dir() / p
    return p


#: inhabitant / city-adjective endings -> what the place name ends in instead, tried in
#: order ("Niederländer" -> Niederlande, "Italiener" -> Italien, "Wiener" -> Wien,
#: "Bremer" -> Bremen, "Münchner" -> München, "Palästinenser" -> Palästina)
_INHABITANT_ENDINGS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("aender", ("and", "ande")), ("ianer", ("ien", "ia")), ("aner", ("a", "", "anien")),
    ("enser", ("ina", "a")), ("ier", ("ien",)), ("ner", ("en", "n")),
    ("er", ("", "en", "n", "e")), ("e", ("en", "land", "ien")),
)


def inhabitant_place(surface: str, places: set[str] | frozenset[str] | dict,
                     exclude: str | None = None) -> str | None:
    """The key of a known place (in ``places``) an inhabitant or city-adjective form
    derives from: "Wiener"/"wiener" -> "wien", "Österreichers" -> "oesterreich",
    "Niederländer" -> "niederlande", "Erlanger" -> "erlangen", "Wittenberger" ->
    "wittenberge"; None when no known place
    fits (``exclude``: a key not to return, the form's own key). The
    genitive/plural "-s"/"-n" and the feminine "-in"/"-innen" are dropped first; a name of
    up to three words changes in its last ("New Yorker" -> "new york")."""
    k = fold(surface)
    if not k or k.count(" ") > 2 or len(k) < 5:
        return None
    forms = [k]
    if k.endswith(("erin", "erinnen")):  # Kielerin, Österreicherinnen
        forms.append(k[: k.rindex("erin") + 2])
    if k.endswith(("ers", "ern")):
        forms.append(k[:-1])
    if k.endswith(("en", "es", "em")):  # Griechen, Franzosen -> "-e" forms
        forms.append(k[:-1])
    for f in forms:
        for end, repls in _INHABITANT_ENDINGS:
            if f.endswith(end) and len(f) - len(end) >= 3:
                base = f[: -len(end)]
                # the umlaut the form may add: Darmstädter -> Darmstadt
                for b in dict.fromkeys([base, _DEUMLAUT.sub(_first, base)]):
                    for r in repls:
                        if b + r in places and b + r != exclude:
                            return b + r
    return None
