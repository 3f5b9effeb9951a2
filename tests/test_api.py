"""The Python API: run(texts | mapping | DataFrame | path) -> Result, load(dir)."""

import pandas as pd
import pytest

from pipeline import Result, load, run
from pipeline.errors import InputError, OutputExistsError

from .conftest import SEEDS


def test_run_on_texts_returns_typed_tables():
    res = run(["Angela Merkel traf Emmanuel Macron in Paris.", "", "Merkels Besuch endete."])
    assert isinstance(res, Result)
    assert list(res.documents["status"]) == ["ok", "empty", "ok"]
    assert list(res.documents["doc_id"]) == ["row-000001", "row-000002", "row-000003"]
    m = res.mentions
    assert {"Angela Merkel", "Paris"} <= set(m["text"])
    merkel = set(m.loc[m["text"].isin(["Angela Merkel", "Merkels"]), "entity_id"])
    assert len(merkel) == 1  # genitive in another document joins the full name
    assert "documents" in repr(res) and "entities" in repr(res)
    assert res.mentions["start_char"].dtype == "int64"


def test_canonical_names_take_the_gender_the_articles_in_the_text_show():
    """The article before a name reaches the linker: "der Deutsche Bundestag" is shown as
    "Deutscher Bundestag", "das Rote Kreuz" as "Rotes Kreuz"; "die Europäische Union" keeps
    its form."""
    res = run({"a": "Der Deutsche Bundestag hat abgestimmt. Im Deutschen Bundestag gab es Streit. "
                    "Das Rote Kreuz half, die Europäische Union zahlte."})
    names = set(res.entities["canonical_name"])
    assert {"Deutscher Bundestag", "Rotes Kreuz", "Europäische Union"} <= names, names
    assert "prev_chars" not in res.mentions.columns  # the linker's column is not output


def test_sources_of_an_attribution_line_are_found_and_carried_into_the_text():
    """"Quelle: Sputnik" names an organisation the model does not know; the article's
    other "Sputnik" (in "Laut Sputnik ...") then gets it too, and the byline's author
    and the photographer are persons."""
    res = run({"a": "Laut Sputnik besichtigten Putin und Kim den Weltraumbahnhof.\n"
                    "Quelle: Sputnik © Artem Geodakjan\n\nMinh Duc (Laut RT, Sputnik)"})
    got = {(t, lab) for t, lab in zip(res.mentions["text"], res.mentions["label"])}
    assert {("Sputnik", "ORG"), ("RT", "ORG"), ("Artem Geodakjan", "PER"), ("Minh Duc", "PER")} <= got
    assert (res.mentions["text"] == "Sputnik").sum() == 3
    assert res.mentions.loc[res.mentions["text"] == "Sputnik", "entity_id"].nunique() == 1


def test_run_on_mapping_and_dataframe():
    res = run({"a": "Olaf Scholz reiste nach Rom.", "b": "Scholz kam zurück."})
    assert list(res.documents["doc_id"]) == ["a", "b"]
    df = pd.DataFrame({"id": ["x"], "text": ["Die Lufthansa streikt in Frankfurt."]})
    res = run(df)
    assert set(res.mentions["text"]) >= {"Lufthansa", "Frankfurt"}


def test_run_on_a_path_and_write_load_round_trip(tmp_path):
    res = run(SEEDS)
    assert len(res.documents) == 5
    res.write(tmp_path / "r")
    with pytest.raises(OutputExistsError):
        res.write(tmp_path / "r")
    back = load(tmp_path / "r")
    for name in ("documents", "mentions", "entities", "cooccurrences"):
        pd.testing.assert_frame_equal(getattr(res, name), getattr(back, name))
    assert back.manifest["counts"]["documents"] == 5
    assert not res.entity("Wladimir Putin").empty


def test_config_as_dict_and_bad_input():
    res = run(["Der russische Präsident sprach."], config={"ner": {"derivs": False}})
    assert (res.mentions["kind"] != "deriv").all()
    with pytest.raises(InputError):
        run("/no/such/folder")


def test_pipeline_run_stays_the_function_after_the_submodule_is_imported():
    import importlib
    import types

    import pipeline

    importlib.import_module("pipeline.run")
    assert callable(pipeline.run) and not isinstance(pipeline.run, types.ModuleType)


def test_entity_and_kwic_find_names_in_any_case_and_show_their_context():
    from pipeline import run

    res = run({"a": "Angela Merkel traf Emmanuel Macron in Paris. Danach flog Merkel nach Berlin zurück.",
               "b": "In Berlin lobte Merkel die Zusammenarbeit."})
    merkel = res.mentions.loc[res.mentions["text"] == "Angela Merkel", "entity_id"].iloc[0]
    for q in ("angela merkel", "MERKEL", merkel):
        assert set(res.entity(q)["entity_id"]) == {merkel}
    k = res.kwic("merkel", width=20)
    assert len(k) == len(res.entity("merkel")) >= 3
    texts = dict(zip(res.documents["doc_id"], res.documents["text"]))
    for r in k.itertuples():
        assert r.mention in r.sentence and r.sentence in texts[r.doc_id]
        assert len(r.left) <= 20 and len(r.right) <= 20
    assert k["doc_id"].tolist() == sorted(k["doc_id"])
    # roles seen before a person's mentions, and entities by mention count
    assert res.entities["n_mentions"].is_monotonic_decreasing


def test_run_to_dir_is_what_the_cli_runs(seeds_run, tmp_path):
    """``api.run_to_dir`` checks first, counts the documents for a progress display,
    reports them as they finish and writes the tables ``pipeline run`` writes."""
    from typer.testing import CliRunner

    from pipeline.api import run_to_dir
    from pipeline.cli import app

    out, manifest = seeds_run
    assert manifest["counts"]["documents"] == 5 and load(out).manifest == manifest
    cli_out = tmp_path / "cli"
    assert CliRunner().invoke(app, ["run", str(SEEDS), "--out", str(cli_out)]).exit_code == 0
    for t in ("documents", "mentions", "entities", "cooccurrences", "links", "quotes"):
        pd.testing.assert_frame_equal(getattr(load(out), t), getattr(load(cli_out), t), obj=t)
    totals, done = [], []
    again, m2 = run_to_dir(SEEDS, tmp_path / "api", {"output": {"formats": ["parquet"]}},
                           on_total=totals.append, on_progress=lambda n, w: done.append(n))
    assert again == tmp_path / "api" and totals == [5] and sum(done) == 5
    assert m2["config"]["output"]["formats"] == ["parquet"] and not (again / "mentions.csv").exists()
    with pytest.raises(InputError, match="input not found"):
        run_to_dir(tmp_path / "missing", tmp_path / "x")
    with pytest.raises(OutputExistsError):
        run_to_dir(SEEDS, again)  # a run is there: force or resume
    assert not (tmp_path / "x").exists()


def test_threads_asking_for_the_same_model_share_one_load():
    """A Dask worker loads its model in a thread as it starts while its first batch may
    already ask for it: the second caller waits for that load instead of loading again."""
    import threading

    from pipeline.api import _tagger, tagger_for
    from pipeline.config import load_config

    key = load_config(overrides=["ner.batch_size=777"]).ner.model_dump_json()  # not loaded yet
    misses = _tagger.cache_info().misses
    got = []
    threads = [threading.Thread(target=lambda: got.append(tagger_for(key))) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(got) == 3 and got[0] is got[1] is got[2]
    assert _tagger.cache_info().misses == misses + 1
