"""link_parts: the linker over mention parts gives the tables of link() on all mentions."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from .link_helpers import make_cfg, mentions

from pipeline.link import link, link_parts

FIX = Path(__file__).with_name("fixtures")


def mini() -> pd.DataFrame:
    return pd.read_json(FIX / "mini.jsonl", lines=True, dtype={"doc_id": str})


def split_by_doc(df: pd.DataFrame, n_parts: int) -> list[pd.DataFrame]:
    """The mentions in n_parts consecutive parts, each document wholly in one."""
    doc = pd.factorize(df["doc_id"], sort=False)[0]
    cut = doc * n_parts // (doc.max() + 1)
    return [df[cut == k].reset_index(drop=True) for k in range(n_parts) if (cut == k).any()]


def write_parts(parts: list[pd.DataFrame], folder: Path) -> list[Path]:
    folder.mkdir()
    paths = []
    for k, p in enumerate(parts):
        paths.append(folder / f"in-{k}.parquet")
        p.to_parquet(paths[-1], index=False)
    return paths


def linked_by_parts(df, n_parts, tmp_path, cfg, **kw):
    res = link_parts(write_parts(split_by_doc(df, n_parts), tmp_path / "in"), cfg, tmp_path / "out",
                     return_links=True, **kw)
    out = pd.concat([pd.read_parquet(p) for p in res["parts"]], ignore_index=True)
    return res, out


def as_written(df: pd.DataFrame) -> pd.DataFrame:
    """A table as it reads back from Parquet (the parts are compared after writing)."""
    return pd.read_parquet(__import__("io").BytesIO(df.to_parquet(index=False)))


def assert_same_tables(df, n_parts, tmp_path, cfg, **kw):
    whole, ents, links = link(df, cfg, return_links=True, **kw)
    res, out = linked_by_parts(df, n_parts, tmp_path, cfg, **kw)
    assert len(res["parts"]) == n_parts and res["mentions"] == len(df)
    pd.testing.assert_frame_equal(out, as_written(whole))
    pd.testing.assert_frame_equal(res["entities"].reset_index(drop=True), ents.reset_index(drop=True))
    pd.testing.assert_frame_equal(res["links"], links)
    return out, res


@pytest.mark.parametrize("n_parts", [2, 6])
def test_parts_give_the_tables_of_one_link(tmp_path, n_parts):
    df = mini()
    out, res = assert_same_tables(df, n_parts, tmp_path, make_cfg())
    # the mini corpus links across documents, so the parts really had to be joined
    assert (out.groupby("entity_id")["doc_id"].nunique() > 1).any()
    assert set(res["links"]["rule"]) >= {"surname", "translit"}
    # the work arrays were temporary; only the linked parts stay
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [f"part-{k:05d}.parquet" for k in range(n_parts)]


def test_parts_with_previous_entities_and_aliases(tmp_path):
    df = mini()
    _, prev = link(df[df["doc_id"].isin(df["doc_id"].unique()[:3])], make_cfg())
    aliases = pd.DataFrame([{"canonical_name": "Nordkorea", "alias": "DVRK", "label": "LOC", "action": "merge"}])
    assert_same_tables(df, 3, tmp_path, make_cfg(), previous_entities=prev, aliases=aliases)


def test_parts_without_cross_document_linking(tmp_path):
    assert_same_tables(mini(), 3, tmp_path, make_cfg(cross_document=False))


def test_relinking_a_run_by_parts(seeds_run, tmp_path):
    """The linked mentions of a real run (model_label, norm_text-free) linked again."""
    out_dir, _ = seeds_run
    df = pd.read_parquet(out_dir / "mentions.parquet")
    assert df["doc_id"].nunique() >= 3
    assert_same_tables(df, 3, tmp_path, make_cfg())


def test_a_document_in_two_parts_is_refused(tmp_path):
    m = mentions(("d1", ["Anna Berg", "Berg"]), ("d2", ["Anna Berg"]))
    parts = [m.iloc[:1].reset_index(drop=True), m.iloc[1:].reset_index(drop=True)]
    with pytest.raises(ValueError, match="several parts"):
        link_parts(write_parts(parts, tmp_path / "in"), make_cfg(), tmp_path / "out")


def test_no_mentions(tmp_path):
    empty = mentions(("d1", ["Anna Berg"])).iloc[:0]
    res = link_parts(write_parts([empty], tmp_path / "in"), make_cfg(), tmp_path / "out")
    assert res["parts"] == [] and len(res["entities"]) == 0 and res["mentions"] == 0


def test_existing_parts_in_the_output_folder_are_never_overwritten(tmp_path):
    paths = write_parts([mentions(("d1", ["Anna Berg"]))], tmp_path / "in")
    out = tmp_path / "out"
    out.mkdir()
    (out / "part-00000.parquet").write_text("the user's file")
    with pytest.raises(FileExistsError, match="part-00000.parquet"):
        link_parts(paths, make_cfg(), out)
    assert (out / "part-00000.parquet").read_text() == "the user's file"
    assert sorted(p.name for p in out.iterdir()) == ["part-00000.parquet"]


def test_a_failing_link_leaves_no_parts(tmp_path, monkeypatch):
    import pipeline.link.linker as linker

    df = mini()
    paths = write_parts(split_by_doc(df, 3), tmp_path / "in")
    real = linker._mention_part
    calls = []

    def fail_on_the_second(ctx, R, i):
        calls.append(i)
        if len(calls) == 2:
            raise RuntimeError("disk full")
        return real(ctx, R, i)

    monkeypatch.setattr(linker, "_mention_part", fail_on_the_second)
    with pytest.raises(RuntimeError, match="disk full"):
        link_parts(paths, make_cfg(), tmp_path / "out")
    assert list((tmp_path / "out").iterdir()) == []


def test_parts_written_with_an_index_read_as_any_other(tmp_path):
    """A Parquet part that stores a pandas index (here: the mention ids) links like one
    without."""
    df = mini()
    whole, _ = link(df, make_cfg())
    (tmp_path / "in").mkdir()
    paths = []
    for k, p in enumerate(split_by_doc(df, 2)):
        paths.append(tmp_path / "in" / f"in-{k}.parquet")
        p.set_index(p["mention_id"].rename("idx")).to_parquet(paths[-1])
    res = link_parts(paths, make_cfg(), tmp_path / "out")
    out = pd.concat([pd.read_parquet(p) for p in res["parts"]], ignore_index=True)
    pd.testing.assert_frame_equal(out, as_written(whole))


def _elsewhere(calls: list):
    """A mapper that runs each task on copies of its arguments made through pickle, as
    a Dask worker receives them (so a task may not rely on the caller's objects)."""
    import pickle

    def mapper(fn, args, common=()):
        calls.append(fn.__name__)
        shared = pickle.loads(pickle.dumps(common))
        return [fn(*pickle.loads(pickle.dumps(a)), *shared) for a in args]

    return mapper


@pytest.mark.parametrize("abbreviations", [True, False])
def test_the_pass_within_documents_on_workers_gives_the_same_tables(tmp_path, abbreviations):
    df = mini()
    cfg = make_cfg(abbreviations=abbreviations)
    whole, ents, links = link(df, cfg, return_links=True)
    calls: list = []
    res, out = linked_by_parts(df, 3, tmp_path, cfg, mapper=_elsewhere(calls))
    assert calls == ["_in_document_task"]  # the tasks wrote their arrays to the spill folder
    pd.testing.assert_frame_equal(out, as_written(whole))
    pd.testing.assert_frame_equal(res["entities"].reset_index(drop=True), ents.reset_index(drop=True))
    pd.testing.assert_frame_equal(res["links"], links)
    # in memory (the arrays come back instead)
    mem = link_parts(split_by_doc(df, 4), cfg, None, return_links=True, mapper=_elsewhere(calls))
    assert calls == ["_in_document_task"] * 2
    pd.testing.assert_frame_equal(pd.concat(mem["linked"], ignore_index=True), whole)
    pd.testing.assert_frame_equal(mem["links"], links)
