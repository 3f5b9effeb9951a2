"""The stages after tagging go part by part (pipeline/finish.py): the run's tables do not
depend on how its mentions are cut into parts, and the per-part counts add up to those
of the whole table."""

from __future__ import annotations

import pandas as pd
import pytest

from pipeline import load
from pipeline.config import load_config
from pipeline.places import ground_places
from pipeline.tables import cooccurrences, entity_attributes

from .conftest import SEEDS

TABLES = ("documents", "mentions", "entities", "cooccurrences", "links", "quotes")


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """The seeds twice as a JSONL table whose ids are not in sorted order, so the
    documents table's order (the input's) is not the order of the ids."""
    import json

    path = tmp_path_factory.mktemp("corpus") / "articles.jsonl"
    texts = [p.read_text(encoding="utf-8") for p in sorted(SEEDS.glob("*.txt"))] * 2
    with open(path, "w", encoding="utf-8") as fh:
        for i, text in enumerate(texts):
            fh.write(json.dumps({"id": f"{'zyxwvutsrqponm'[i]}-{i}", "text": text}, ensure_ascii=False) + "\n")
    return path


@pytest.fixture(scope="module")
def whole(corpus, tmp_path_factory):
    """A run with one batch, linked as one part."""
    from pipeline.api import run_to_dir

    out, _ = run_to_dir(corpus, tmp_path_factory.mktemp("whole") / "out", {"output": {"batch_docs": 100}})
    return load(out)


def _by_doc(parts_of: list[list[str]], mentions: pd.DataFrame) -> list[pd.DataFrame]:
    return [mentions[mentions["doc_id"].isin(ids)].reset_index(drop=True) for ids in parts_of]


@pytest.mark.parametrize("batch_docs,part_mentions", [(3, 1), (3, 40), (4, 1_000_000)])
def test_the_tables_do_not_depend_on_how_the_run_is_cut_into_parts(corpus, whole, tmp_path, batch_docs,
                                                                   part_mentions):
    from pipeline.api import run_to_dir

    out, manifest = run_to_dir(corpus, tmp_path / "out", {"output": {"batch_docs": batch_docs},
                                                          "run": {"part_mentions": part_mentions}})
    cut = load(out)
    for t in TABLES:
        pd.testing.assert_frame_equal(getattr(cut, t), getattr(whole, t), obj=t)
    assert manifest["counts"]["mentions"] == len(whole.mentions) > 0
    assert manifest["counts"]["quotes"] == len(whole.quotes)
    # nothing of the parts is left behind
    assert not (out / ".work").exists()


def test_mentions_come_in_the_order_of_the_documents_then_by_position(whole):
    docs = whole.documents["doc_id"].tolist()
    m = whole.mentions
    pos = m["doc_id"].map({d: i for i, d in enumerate(docs)})
    assert docs != sorted(docs)  # the input's order, not the ids'
    assert pos.notna().all() and pos.is_monotonic_increasing
    for _, g in m.groupby("doc_id"):
        assert g["start_char"].is_monotonic_increasing


def test_counts_over_parts_are_those_over_the_whole_table(whole):
    m = whole.mentions
    ids = whole.documents["doc_id"].tolist()
    for parts_of in ([ids[:3], ids[3:]], [[d] for d in ids], [ids[::2], ids[1::2]]):
        parts = _by_doc(parts_of, m)
        ents = whole.entities.drop(columns=["roles", "affiliations"])
        # parts read one at a time (max_rows=1), a few together, all together (the default)
        for max_rows in (1, 30, 250_000):
            pd.testing.assert_frame_equal(cooccurrences(parts, max_rows), cooccurrences(m))
            pd.testing.assert_frame_equal(entity_attributes(ents, parts, max_rows), entity_attributes(ents, m))
            pd.testing.assert_frame_equal(ground_places(whole.entities, parts, max_rows),
                                          ground_places(whole.entities, m))


def test_parts_on_disk_count_like_frames(whole, tmp_path):
    m = whole.mentions
    ids = whole.documents["doc_id"].tolist()
    paths = []
    for i, part in enumerate(_by_doc([ids[:4], ids[4:7], ids[7:]], m)):
        paths.append(tmp_path / f"p{i}.parquet")
        part.to_parquet(paths[-1])
    pd.testing.assert_frame_equal(cooccurrences(paths), whole.cooccurrences)
    ents = whole.entities.drop(columns=["roles", "affiliations"])
    pd.testing.assert_frame_equal(entity_attributes(ents, paths), entity_attributes(ents, m))


def test_finalize_links_a_table_in_memory(whole):
    """``run.finalize`` links one table in memory: its mentions by document id, every
    entity id in the entities table, the co-occurrences those of its mentions."""
    import importlib

    run = importlib.import_module("pipeline.run")
    cfg = load_config()
    linked, entities, co, links = run.finalize(whole.mentions.drop(columns=["entity_id"]), cfg)
    assert len(linked) == len(whole.mentions)
    assert linked["doc_id"].is_monotonic_increasing
    assert set(linked["entity_id"]) == set(entities["entity_id"])
    pd.testing.assert_frame_equal(co, cooccurrences(linked))
    tables, _ = run.run_in_memory([], cfg)
    assert tables["mentions"].empty and tables["entities"].empty and tables["quotes"].empty


@pytest.mark.parametrize("workers", [1, 2])
def test_a_run_stopped_after_linking_resumes_to_the_same_tables(corpus, whole, tmp_path, monkeypatch, workers):
    """A run that fails in the quotations stage (with workers, begun while the driver
    still counts co-occurrences) leaves its per-part files in the work folder;
    ``--resume`` redoes the stages after tagging over them, to the tables of an
    uninterrupted run, and leaves no part behind."""
    import importlib

    from pipeline.api import run_to_dir

    run_mod = importlib.import_module("pipeline.run")
    cfg = {"output": {"batch_docs": 3}, "run": {"part_mentions": 40, "workers": workers}}

    def boom(*a, **k):
        raise KeyboardInterrupt

    with monkeypatch.context() as m:
        m.setattr(run_mod, "quote_parts", boom)
        with pytest.raises(KeyboardInterrupt):
            run_to_dir(corpus, tmp_path / "out", cfg)
    work = tmp_path / "out" / ".work"
    assert list(work.glob("mentions-*.parquet")) and list(work.glob("corpus-*.parquet"))
    out, _ = run_to_dir(corpus, tmp_path / "out", cfg, resume=True)
    again = load(out)
    for t in TABLES:
        pd.testing.assert_frame_equal(getattr(again, t), getattr(whole, t), obj=t)
    assert not work.exists()


def test_the_corpus_pass_counts_the_votes_a_batch_brought_like_those_of_its_checkpoint(tmp_path):
    """A batch tagged in this run brings its corpus-pass votes (checkpoint_batch); one
    resumed from its checkpoint has them counted from the file: the same votes."""
    from pipeline.api import get_tagger
    from pipeline.finish import corpus_votes_task
    from pipeline.read import iter_documents
    from pipeline.run import checkpoint_batch

    cfg = load_config()
    batch = list(iter_documents(SEEDS, cfg.input))
    result = checkpoint_batch(0, batch, cfg, str(tmp_path), get_tagger(cfg))
    assert len(result["votes"]) > 0
    from_file = corpus_votes_task(str(tmp_path / "batch-000000.mentions.parquet"))
    pd.testing.assert_frame_equal(result["votes"], from_file)
    off = load_config(overrides=["ner.corpus_pass=false"])
    assert checkpoint_batch(1, batch, off, str(tmp_path), get_tagger(off))["votes"] is None
