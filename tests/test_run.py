"""End to end on seeds/: the output contract (names, dtypes, slices) and the manifest."""

import json

import pandas as pd
import pyarrow.parquet as pq

from pipeline import schemas
from pipeline.write import read_table

from .conftest import SEEDS


def test_all_tables_and_manifest_are_written(seeds_run):
    out, manifest = seeds_run
    for table in ("documents", "mentions", "entities", "cooccurrences"):
        assert (out / f"{table}.csv").exists() and (out / f"{table}.parquet").exists()
        assert pq.read_schema(out / f"{table}.parquet").equals(schemas.arrow_schema(table))
        header = (out / f"{table}.csv").read_text(encoding="utf-8").splitlines()[0]
        assert header == ",".join(schemas.columns(table))
    saved = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert saved["counts"]["documents"] == 5 == saved["counts"]["documents_ok"]
    assert saved["model"]["name"] and saved["model"]["path"]
    assert len(saved["config_hash"]) == 64 and saved["input"]["fingerprint"]
    assert set(saved["timings_s"]) >= {"read", "normalize", "ner", "link", "write"}
    assert not (out / ".work").exists()


def test_every_mention_slices_its_document(seeds_run):
    out, _ = seeds_run
    docs = read_table(out, "documents").set_index("doc_id")
    mentions = read_table(out, "mentions")
    assert len(mentions) > 200
    for m in mentions.itertuples():
        assert docs.at[m.doc_id, "text"][m.start_char:m.end_char] == m.text
    assert set(mentions["label"]) <= set(schemas.LABELS)
    assert set(mentions["kind"]) <= set(schemas.KINDS)
    assert mentions["entity_id"].notna().all()
    assert mentions["mention_id"].is_unique


def test_documents_table_keeps_original_text_and_date(seeds_run):
    out, _ = seeds_run
    docs = read_table(out, "documents").set_index("doc_id")
    assert sorted(docs.index) == sorted(p.name for p in SEEDS.glob("*.txt"))
    for name in docs.index:
        assert docs.at[name, "text"] == (SEEDS / name).read_text(encoding="utf-8")
    assert docs.at["000_99d2ea78304a5c42.txt", "date"] == "2023-09"
    assert docs.at["001_d581cd30f8ac7a67.txt", "date"] is None
    mentions = read_table(out, "mentions")
    counts = mentions.groupby("doc_id").size()
    assert (docs.loc[counts.index, "n_mentions"] == counts).all()
    assert (docs["n_sentences"] > 5).all()


def test_entities_and_cooccurrences_are_consistent(seeds_run):
    out, _ = seeds_run
    mentions = read_table(out, "mentions")
    entities = read_table(out, "entities").set_index("entity_id")
    assert set(mentions["entity_id"]) == set(entities.index)
    per_entity = mentions.groupby("entity_id").agg(n=("mention_id", "size"), d=("doc_id", "nunique"))
    assert (entities.loc[per_entity.index, "n_mentions"] == per_entity["n"]).all()
    assert (entities.loc[per_entity.index, "n_docs"] == per_entity["d"]).all()
    for eid, group in mentions.groupby("entity_id"):
        assert set(group["text"]) <= set(entities.at[eid, "aliases"])
    co = read_table(out, "cooccurrences")
    assert (co["entity_a"] < co["entity_b"]).all()
    assert (co["n_sentences"] <= co["n_docs"] * 1000).all() and (co["n_docs"] >= 1).all()


def test_variants_are_linked_on_the_seeds(seeds_run):
    """Spot-check of linking behaviour the product promises (genitives, surnames,
    hyphen variants, derived adjectives); the full score is in test_evaluate_seeds."""
    out, _ = seeds_run
    m = read_table(out, "mentions")

    def entity_of(text):
        ids = set(m.loc[m["text"] == text, "entity_id"])
        assert len(ids) == 1, (text, ids)
        return ids.pop()

    assert entity_of("Putins") == entity_of("Putin") == entity_of("Wladimir Putin")
    assert entity_of("Kim Jong-un") == entity_of("Kim Jong Un")
    assert entity_of("Kim Jong Il") != entity_of("Kim Jong Un")
    assert entity_of("Russlands") == entity_of("Russland")
    russ = m[(m["kind"] == "deriv") & m["text"].str.startswith("russisch")]
    assert len(russ) > 5 and set(russ["entity_id"]) == {entity_of("Russland")}


def test_csv_and_parquet_hold_the_same_rows(seeds_run):
    out, _ = seeds_run
    for table in ("mentions", "entities", "documents"):
        a = schemas.from_arrow(pq.read_table(out / f"{table}.parquet"), table)
        b = pd.read_csv(out / f"{table}.csv", keep_default_na=False)
        assert len(a) == len(b)
