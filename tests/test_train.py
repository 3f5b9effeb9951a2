"""`pipeline train` on a tiny corpus: the real training code path, a few steps, no vectors."""

import json
import subprocess
import sys

import spacy

from pipeline.ner.corpora import iter_sentences
from pipeline.ner.lexicon import GENITIVE, NONE, PLACE, PLACE_PART, TABLE, token_classes
from pipeline.ner.train import TrainRecipe, train_model

SENTS = [
    ("Angela Merkel besuchte Paris .", "B-PER I-PER O B-LOC O"),
    ("Die Bundesregierung in Berlin schweigt .", "O O O B-LOC O O"),
    ("Siemens baut in München .", "B-ORG O O B-LOC O"),
    ("Der russische Präsident reiste nach Moskau .", "O B-LOCderiv O O O B-LOC O"),
    ("Ein SPD-Sprecher sagte nichts .", "O B-ORGpart O O O"),
    ("Die Olympischen Spiele beginnen .", "O B-OTH I-OTH O O"),
]


def _write_germeval(path, rows, with_index=False):
    lines = []
    for words, tags in rows:
        if with_index:
            lines.append("#\thttp://example.org\t[2014-01-01]")
        for i, (w, t) in enumerate(zip(words.split(), tags.split()), 1):
            lines.append(f"{i}\t{w}\t{t}\tO" if with_index else f"{w}\t{t}")
        lines.append("")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


def test_readers_map_germeval_labels(tmp_path):
    _write_germeval(tmp_path / "dev.tsv", SENTS, with_index=True)
    sents = list(iter_sentences("germeval", [tmp_path / "dev.tsv"]))
    assert len(sents) == len(SENTS)
    assert sents[5][1] == ["O", "B-MISC", "I-MISC", "O", "O"]  # OTH -> MISC
    assert sents[3][1][1] == "B-LOCderiv"


def test_tiny_training_run_produces_a_loadable_model(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    _write_germeval(data / "train.tsv", SENTS * 3)
    _write_germeval(data / "dev.tsv", SENTS, with_index=True)
    recipe = tmp_path / "train.toml"
    from pipeline.config import configs_dir

    recipe.write_text(
        f'[model]\nname = "tiny"\nversion = "0.0.1"\nspacy_config = "{(configs_dir() / "ner.cfg").as_posix()}"\n'
        '[[train]]\nformat = "germeval"\npath = "train.tsv"\n'
        '[[dev]]\nformat = "germeval"\npath = "dev.tsv"\n[vectors]\nenabled = false\n'
        '[lexicon]\nenabled = true\n',
        encoding="utf-8")
    assert TrainRecipe.from_file(recipe).name == "tiny"
    out = tmp_path / "model"
    meta = train_model(recipe, data, out, tmp_path / "work", max_steps=6, vectors=False)
    nlp = spacy.load(out)
    assert "ner" in nlp.pipe_names
    assert {"PER", "LOC", "ORG", "MISC", "LOCderiv", "ORGpart"} <= set(nlp.get_pipe("ner").labels)
    saved = json.loads((out / "meta.json").read_text(encoding="utf-8"))
    assert saved["name"] == "tiny" and meta["version"] == "0.0.1"
    assert any("CC BY 4.0" in s.get("license", "") for s in saved["sources"])
    assert saved["training"]["train_sentences"] == len(SENTS) * 3
    # the place lexicon is saved inside the model and feeds the token-to-vector layer
    table = nlp.vocab.lookups.get_table(TABLE)
    assert table.get("München") & PLACE and table.get("Haag") & (PLACE | PLACE_PART)
    doc = nlp.make_doc("Sie baut in Münchens Norden .")
    classes = list(token_classes(doc, table))
    assert classes[2] == NONE and classes[3] & GENITIVE and classes[3] & PLACE
    assert any("GeoNames" in s.get("name", "") for s in saved["sources"])
    # a plain spacy.load in a fresh interpreter finds the lexicon layer via entry points
    code = ("import sys, spacy; nlp = spacy.load(sys.argv[1]); "
            "nlp('Sie reist nach Bozen .'); print('ok')")
    done = subprocess.run([sys.executable, "-c", code, str(out)], capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout.strip() == "ok", done.stderr


def _write_smartdata(path):
    import gzip

    docs = [
        {"id": "a", "text": {"string": "Siemens eröffnet ein Werk in Görlitz. Joe Kaeser kommt."},
         "conceptMentions": {"array": [
             {"span": {"start": 0, "end": 7}, "type": "organization-company"},
             {"span": {"start": 29, "end": 36}, "type": "location-city"},
             {"span": {"start": 38, "end": 48}, "type": "person"},
             {"span": {"start": 38, "end": 41}, "type": "person"},  # overlaps: dropped
             {"span": {"start": 8, "end": 16}, "type": "trigger"},  # not an entity type
         ]}},
        {"id": "b", "text": "Keine Namen hier.", "conceptMentions": None},
    ]
    with gzip.open(path, "wt", encoding="utf-8") as fh:
        for doc in docs:  # concatenated, pretty-printed JSON objects as in SmartData v1
            fh.write(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")


def test_smartdata_reader_gives_bio_sentences(tmp_path):
    _write_smartdata(tmp_path / "sd.json.gz")
    sents = list(iter_sentences("smartdata", [tmp_path / "sd.json.gz"]))
    tagged = [[(w, t) for w, t in zip(words, tags) if t != "O"] for words, tags in sents]
    assert tagged == [
        [("Siemens", "B-ORG"), ("Görlitz", "B-LOC")],
        [("Joe", "B-PER"), ("Kaeser", "I-PER")],
        [],
    ]
    assert sents[2][0] == ["Keine", "Namen", "hier", "."]


def test_vector_text_weights_training_text_and_adds_corpora(tmp_path):
    from pipeline.ner.train import build_vectors

    data = tmp_path / "data"
    (data / "raw").mkdir(parents=True)
    _write_smartdata(data / "sd.json.gz")
    (data / "raw" / "a.txt").write_text("Ein Satz aus einem Roman.\n\nNoch einer.\n", encoding="utf-8")
    recipe = TrainRecipe(
        name="t", version="0", spacy_config=tmp_path / "ner.cfg", seed=0, train=[], dev=[],
        vectors={"dim": 8, "bucket": 100, "epochs": 1, "min_count": 1, "train_text_repeat": 2,
                 "corpora": [{"format": "smartdata", "path": "sd.json.gz"}],
                 "sources": [{"path": "raw", "max_lines": 0}]})
    vec_dir = build_vectors(recipe, data, ["Merkel besucht Paris ."], tmp_path)
    lines = (tmp_path / "vectors-text.txt").read_text(encoding="utf-8").splitlines()
    assert lines[:2] == ["Merkel besucht Paris ."] * 2
    assert "Siemens eröffnet ein Werk in Görlitz ." in lines
    assert lines[-2:] == ["Ein Satz aus einem Roman .", "Noch einer ."]
    nlp = spacy.load(vec_dir)
    assert nlp.vocab.vectors.mode == "floret" and nlp.vocab.vectors.shape == (100, 8)


def test_meta_sources_say_what_each_corpus_was_used_for(tmp_path):
    from pipeline.ner.train import _sources

    recipe = TrainRecipe(
        name="t", version="0", spacy_config=tmp_path / "ner.cfg", seed=0,
        train=[{"format": "germeval", "path": "g.tsv"}, {"format": "smartdata", "path": "sd.json.gz"}],
        dev=[], vectors={"corpora": [{"format": "europeana", "path": "e.bio"}]})
    with_vectors = _sources(recipe, vectors=True)
    uses = {s["path"]: s["use"] for s in with_vectors if "path" in s}
    assert uses["g.tsv"] == uses["sd.json.gz"] == "labelled training data"
    assert "no labels" in uses["e.bio"]
    assert all(s.get("license") for s in with_vectors)
    # without vectors, the vector-only text is not credited
    assert {s.get("path") for s in _sources(recipe, vectors=False)} == {"g.tsv", "sd.json.gz"}


def test_repeat_weights_a_corpus_in_the_training_data(tmp_path):
    import pytest

    from pipeline.errors import ConfigError
    from pipeline.ner.train import _repeated

    _write_germeval(tmp_path / "a.tsv", SENTS)
    _write_germeval(tmp_path / "b.tsv", SENTS[:2])
    entries = [{"format": "germeval", "path": "a.tsv", "repeat": 3}, {"format": "germeval", "path": "b.tsv"}]
    got = list(_repeated(entries, tmp_path))
    assert len(got) == 3 * len(SENTS) + 2
    assert got[: len(SENTS)] == got[len(SENTS): 2 * len(SENTS)]
    with pytest.raises(ConfigError):
        list(_repeated([{"format": "germeval", "path": "a.tsv", "repeat": 0}], tmp_path))


def test_finetune_stage_goes_on_from_the_first_model_on_its_own_corpora(tmp_path):
    data = tmp_path / "data"
    data.mkdir()
    _write_germeval(data / "train.tsv", SENTS * 3)
    _write_germeval(data / "news.tsv", SENTS[:3] * 2)
    _write_germeval(data / "dev.tsv", SENTS, with_index=True)
    recipe = tmp_path / "train.toml"
    from pipeline.config import configs_dir

    recipe.write_text(
        f'[model]\nname = "tiny"\nspacy_config = "{(configs_dir() / "ner.cfg").as_posix()}"\n'
        '[[train]]\nformat = "germeval"\npath = "train.tsv"\n'
        '[[dev]]\nformat = "germeval"\npath = "dev.tsv"\n[vectors]\nenabled = false\n'
        '[finetune]\nenabled = true\nmax_steps = 4\neval_frequency = 2\n'
        '[[finetune.train]]\nformat = "germeval"\npath = "news.tsv"\n',
        encoding="utf-8")
    work, out = tmp_path / "work", tmp_path / "model"
    train_model(recipe, data, out, work, max_steps=4, vectors=False)
    stage_two = spacy.load(work / "spacy-output-finetune" / "model-last")
    assert (work / "finetune.spacy").exists()
    # the second stage started from the first one's weights and trained them further
    first = spacy.load(work / "spacy-output" / "model-best")
    w1 = first.get_pipe("ner").model.get_ref("upper").get_param("W")
    w2 = stage_two.get_pipe("ner").model.get_ref("upper").get_param("W")
    assert w1.shape == w2.shape and not (w1 == w2).all()
    nlp = spacy.load(out)
    assert {"PER", "LOC", "ORG", "MISC"} <= set(nlp.get_pipe("ner").labels)
    recipe.write_text(recipe.read_text(encoding="utf-8").split("[[finetune.train]]")[0], encoding="utf-8")
    import pytest
    from pipeline.errors import ConfigError

    with pytest.raises(ConfigError, match="finetune"):
        train_model(recipe, data, out, work, max_steps=4, vectors=False)


def test_oversample_repeats_the_sentences_with_a_label(tmp_path):
    import pytest

    from pipeline.errors import ConfigError
    from pipeline.ner.train import _repeated

    _write_germeval(tmp_path / "a.tsv", SENTS)
    entry = {"format": "germeval", "path": "a.tsv", "repeat": 2, "oversample": {"labels": ["ORG"], "extra": 2}}
    got = list(_repeated([entry], tmp_path))
    with_org = [s for s in SENTS if "B-ORG " in s[1] + " "]  # "Siemens baut ..." only, not ORGpart
    assert len(with_org) == 1
    assert len(got) == 2 * (len(SENTS) + 2 * len(with_org))
    assert sum(words[0] == "Siemens" for words, _ in got) == 6
    assert sum(words[1] == "SPD-Sprecher" for words, _ in got) == 2
    with pytest.raises(ConfigError, match="oversample"):
        list(_repeated([entry | {"oversample": {"extra": 1}}], tmp_path))


def test_vote_keeps_agreed_spans_and_leaves_disputed_tokens_unannotated():
    from pipeline.ner.selftrain import vote

    a = {(0, 2, "PER"), (3, 4, "LOC"), (6, 7, "ORG")}
    b = {(0, 2, "PER"), (3, 4, "ORG")}  # same span, other label: disputed
    c = {(0, 1, "PER"), (3, 4, "LOC")}
    ents, outside, missing = vote([a, b], 8, min_votes=2)
    assert ents == [(0, 2, "PER")]
    assert missing == [3, 6] and outside == [2, 4, 5, 7]
    # three teachers, majority of two: LOC wins on token 3; the lone (0, 1) loses
    ents, outside, missing = vote([a, b, c], 8, min_votes=2)
    assert ents == [(0, 2, "PER"), (3, 4, "LOC")] and missing == [6]
    # a low threshold can back overlapping spans: the first is kept, the rest missing
    ents, _, missing = vote([a, c], 8, min_votes=1)
    assert (0, 2, "PER") in ents and (0, 1, "PER") not in ents and 1 not in missing


def test_silver_docs_carry_the_teachers_entities_and_outside_tokens(tmp_path):
    from spacy.tokens import DocBin

    from pipeline.ner.model import bundled_model_path
    from pipeline.ner.selftrain import build_silver

    lines = ["Angela Merkel traf Emmanuel Macron in Paris .", "Das Wetter war schön ."]
    stats = build_silver([bundled_model_path()] * 2, lines, tmp_path / "s.spacy", min_votes=2)
    docs = list(DocBin().from_disk(tmp_path / "s.spacy").get_docs(spacy.blank("de").vocab))
    assert stats["sentences"] == 2 and stats["missing_tokens"] == 0
    assert {(e.text, e.label_) for e in docs[0].ents} >= {("Angela Merkel", "PER"), ("Paris", "LOC")}
    assert all(t.ent_iob_ == "O" for t in docs[1])  # annotated as outside, not missing
    assert [t.is_sent_start for t in docs[0]][:2] == [True, False]


def test_selftrain_recipe_trains_teachers_once_and_adds_silver_data(tmp_path, caplog):
    import logging

    from spacy.tokens import DocBin

    data = tmp_path / "data"
    (data / "raw").mkdir(parents=True)
    _write_germeval(data / "train.tsv", SENTS * 3)
    _write_germeval(data / "dev.tsv", SENTS, with_index=True)
    (data / "raw" / "news.txt").write_text(
        "Olaf Scholz reiste gestern nach Rom .\nzu kurz\n\nSiemens baut ein Werk in Görlitz .\n"
        "Die Bahn streikt wieder in Berlin .\n", encoding="utf-8")
    recipe = tmp_path / "train.toml"
    from pipeline.config import configs_dir

    cfg = (configs_dir() / "ner.cfg").as_posix()
    recipe.write_text(
        f'[model]\nname = "tiny"\nspacy_config = "{cfg}"\n'
        '[[train]]\nformat = "germeval"\npath = "train.tsv"\n'
        '[[dev]]\nformat = "germeval"\npath = "dev.tsv"\n[vectors]\nenabled = false\n'
        f'[selftrain]\nenabled = true\nmin_words = 4\nrepeat = 2\n'
        f'teachers = [{{ spacy_config = "{cfg}", seed = 0 }}, {{ spacy_config = "{cfg}", seed = 1 }}]\n'
        'sources = [{ path = "raw", max_lines = 2 }]\n',
        encoding="utf-8")
    work, out = tmp_path / "work", tmp_path / "model"
    meta = train_model(recipe, data, out, work, max_steps=4, vectors=False)
    teachers = sorted((work / "teachers").iterdir())
    assert len(teachers) == 2 and all((t / "model-best" / "meta.json").exists() for t in teachers)
    silver = list(DocBin().from_disk(work / "trainset" / "silver.spacy").get_docs(spacy.blank("de").vocab))
    # the short line is skipped and max_lines counts the kept ones
    assert [d.text for d in silver] == ["Olaf Scholz reiste gestern nach Rom .", "Siemens baut ein Werk in Görlitz ."]
    assert (work / "trainset" / "train.spacy").read_bytes() == (work / "train.spacy").read_bytes()
    # repeat = 2: the silver data goes into training twice
    assert sorted(p.name for p in (work / "trainset").iterdir()) == ["silver-2.spacy", "silver.spacy", "train.spacy"]
    st = meta["training"]["selftrain"]
    assert st["sentences"] == 2 and st["min_votes"] == 2 and len(st["teachers"]) == 2
    assert any("self-training" in s["use"] for s in meta["sources"])
    # a second run finds both teachers in the cache and does not train them again
    stamps = [(t / "model-best" / "meta.json").stat().st_mtime_ns for t in teachers]
    with caplog.at_level(logging.INFO, logger="pipeline"):
        train_model(recipe, data, out, work, max_steps=4, vectors=False)
    assert [(t / "model-best" / "meta.json").stat().st_mtime_ns for t in teachers] == stamps
    assert sum("cached" in r.message for r in caplog.records) == 2
    # a teacher the recipe cannot find is a config error
    recipe.write_text(recipe.read_text(encoding="utf-8").replace(f'"{cfg}", seed = 1', '"nope.cfg", seed = 1'),
                      encoding="utf-8")
    import pytest
    from pipeline.errors import ConfigError

    with pytest.raises(ConfigError, match="teacher"):
        train_model(recipe, data, out, work, max_steps=4, vectors=False)


def test_vectors_ship_as_float16_and_are_widened_when_the_model_runs(tmp_path):
    import numpy

    data = tmp_path / "data"
    data.mkdir()
    _write_germeval(data / "train.tsv", SENTS * 3)
    _write_germeval(data / "dev.tsv", SENTS, with_index=True)
    recipe = tmp_path / "train.toml"
    from pipeline.config import configs_dir

    recipe.write_text(
        f'[model]\nname = "tiny"\nversion = "0.0.1"\nspacy_config = "{(configs_dir() / "ner.cfg").as_posix()}"\n'
        '[[train]]\nformat = "germeval"\npath = "train.tsv"\n'
        '[[dev]]\nformat = "germeval"\npath = "dev.tsv"\n'
        '[vectors]\nenabled = true\ndim = 8\nbucket = 100\nepochs = 1\nmin_count = 1\nthreads = 1\n'
        'store_float16 = true\nsources = []\n[lexicon]\nenabled = false\n',
        encoding="utf-8")
    out = tmp_path / "model"
    meta = train_model(recipe, data, out, tmp_path / "work", max_steps=4)
    assert meta["training"]["vectors_dtype"] == "float16"
    assert meta["training"]["blas"] and all(isinstance(b, str) and b for b in meta["training"]["blas"])
    assert numpy.load(out / "vocab" / "vectors").dtype == numpy.float16  # half the bytes on disk
    trained = numpy.load(tmp_path / "work" / "vectors" / "vocab" / "vectors")
    assert trained.dtype == numpy.float32
    nlp = spacy.load(out)
    assert nlp.vocab.vectors.data.dtype == numpy.float16
    nlp("Angela Merkel besuchte Paris .")  # BLAS needs float32: the feature layer widens them first
    assert nlp.vocab.vectors.data.dtype == numpy.float32
    assert numpy.array_equal(nlp.vocab.vectors.data, trained.astype(numpy.float16).astype(numpy.float32))
