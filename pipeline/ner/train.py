"""`pipeline train`: build the bundled NER model reproducibly from corpora on disk.

Steps: (1) read the labelled corpora named in ``configs/train.toml`` and write spaCy
DocBins, (2) train floret subword vectors on raw German text plus the training text,
(3) run ``spacy train`` with ``configs/ner.cfg``, (4) package the best model with a
``meta.json`` that states its sources, licences and scores.
"""

from __future__ import annotations

import gzip
import json
import logging
import random
import shutil
import tomllib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import ConfigError, InputError
from .corpora import ALL_MODEL_LABELS, Sentence, iter_sentences
from .cpu import use_cpu_ops
from .lexicon import SOURCES as LEXICON_SOURCES
from .lexicon import build_lexicon, lexicon_attributions, write_lexicon

log = logging.getLogger("pipeline")

ATTRIBUTIONS = {
    "germeval": {
        "name": "GermEval 2014 NER (NoSta-D)",
        "url": "https://sites.google.com/site/germeval2014ner/",
        "license": "CC BY 4.0",
        "author": "Benikova, Biemann, Reznicek (LREC 2014); Benikova et al. (KONVENS 2014)",
    },
    "conll2003": {
        "name": "DFKI MobIE",
        "url": "https://github.com/DFKI-NLP/MobIE",
        "license": "CC BY 4.0",
        "author": "Hennig, Truong, Gabryszak (KONVENS 2021)",
    },
    "smartdata": {
        "name": "DFKI SmartData corpus v1",
        "url": "https://github.com/DFKI-NLP/smartdata-corpus",
        "license": "CC BY 4.0",
        "author": "Schiersch et al. (LREC 2018)",
    },
    "europeana": {
        "name": "Europeana Newspapers NER (German)",
        "url": "https://github.com/EuropeanaNewspapers/ner-corpora",
        "license": "CC0 1.0",
        "author": "Neudecker (LREC 2016)",
    },
}
RAW_ATTRIBUTION = {
    "name": "raw-de (ELTeC, GerDraCor, Bundesgesetze, LER courts, Common Voice, NTREX-128, UD German-GSD)",
    "license": "public domain / CC0 1.0 / CC BY 4.0 / CC BY-SA 4.0 (see each SOURCE.md)",
    "use": "unlabelled text for the floret static vectors only",
}


@dataclass
class TrainRecipe:
    """What `configs/train.toml` says: corpora, vector settings, model name."""

    name: str
    version: str
    spacy_config: Path
    seed: int
    train: list[dict[str, Any]]
    dev: list[dict[str, Any]]
    vectors: dict[str, Any] = field(default_factory=dict)
    pretrain: dict[str, Any] = field(default_factory=dict)
    lexicon: dict[str, Any] = field(default_factory=dict)
    finetune: dict[str, Any] = field(default_factory=dict)
    selftrain: dict[str, Any] = field(default_factory=dict)
    gemm: str = "numpy"
    blas_threads: int = 1

    @classmethod
    def from_file(cls, path: Path) -> "TrainRecipe":
        try:
            raw = tomllib.loads(Path(path).read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ConfigError(f"{path}: {exc}") from exc
        model = raw.get("model", {})
        problems = [f"{path}: missing [[{k}]] corpora" for k in ("train", "dev") if not raw.get(k)]
        if problems:
            raise ConfigError(problems)
        return cls(
            name=model.get("name", "de_news_ner"),
            version=model.get("version", "0.0.0"),
            spacy_config=Path(path).parent / model.get("spacy_config", "ner.cfg"),
            seed=int(model.get("seed", 0)),
            train=list(raw["train"]),
            dev=list(raw["dev"]),
            vectors=dict(raw.get("vectors", {})),
            pretrain=dict(raw.get("pretrain", {})),
            lexicon=dict(raw.get("lexicon", {})),
            finetune=dict(raw.get("finetune", {})),
            selftrain=dict(raw.get("selftrain", {})),
            gemm=str(model.get("gemm", "numpy")),
            blas_threads=int(model.get("blas_threads", 1)),
        )


def sentences_from(entries: Iterable[dict[str, Any]], data_dir: Path) -> Iterator[Sentence]:
    for entry in entries:
        path = data_dir / entry["path"]
        if not path.exists():
            raise InputError(f"training corpus not found: {path} (set --data to the corpora folder)")
        limit = int(entry.get("max_sentences", 0))
        for i, sent in enumerate(iter_sentences(entry["format"], [path])):
            if limit and i >= limit:
                break
            yield sent


def _repeated(entries: Iterable[dict[str, Any]], data_dir: Path) -> Iterator[Sentence]:
    """Each corpus ``repeat`` times (its weight against the other corpora); with
    ``oversample = {labels = [...], extra = k}`` its sentences that contain one of those
    labels (exactly: ``ORG`` is not ``ORGpart``) come ``k`` more times in each repeat."""
    for entry in entries:
        repeat = int(entry.get("repeat", 1))
        if repeat < 1:
            raise ConfigError(f"training corpus {entry['path']}: repeat must be >= 1, not {repeat}")
        over = dict(entry.get("oversample", {}))
        labels, extra = set(over.get("labels", ())), int(over.get("extra", 1 if over else 0))
        if extra < 0 or (extra and not labels):
            raise ConfigError(f"training corpus {entry['path']}: oversample needs labels and extra >= 0")
        sents = list(sentences_from([entry], data_dir))
        picked = [s for s in sents if labels & {t[2:] for t in s[1] if t.startswith("B-")}] if extra else []
        for _ in range(repeat):
            yield from sents
            for _ in range(extra):
                yield from picked


def to_docbin(sentences: Iterable[Sentence], out: Path, per_doc: int = 1) -> int:
    """Write sentences as a spaCy DocBin (``per_doc`` sentences per Doc); return the count."""
    import spacy
    from spacy.tokens import Doc, DocBin
    from spacy.training import iob_to_biluo, biluo_tags_to_spans

    vocab = spacy.blank("de").vocab
    db = DocBin(attrs=["ORTH", "SENT_START", "ENT_IOB", "ENT_TYPE"], store_user_data=False)
    n = 0
    buf_words: list[str] = []
    buf_tags: list[str] = []
    buf_starts: list[bool] = []

    def flush() -> None:
        if not buf_words:
            return
        doc = Doc(vocab, words=buf_words, sent_starts=buf_starts)
        doc.ents = biluo_tags_to_spans(doc, iob_to_biluo(buf_tags))
        db.add(doc)
        buf_words.clear(), buf_tags.clear(), buf_starts.clear()

    for i, (words, tags) in enumerate(sentences):
        buf_words.extend(words)
        buf_tags.extend(tags)
        buf_starts.extend([True] + [False] * (len(words) - 1))
        n += 1
        if (i + 1) % per_doc == 0:
            flush()
    flush()
    out.parent.mkdir(parents=True, exist_ok=True)
    db.to_disk(out)
    return n


def _raw_lines(path: Path, max_lines: int) -> Iterator[str]:
    files = sorted(p for p in (path.iterdir() if path.is_dir() else [path])
                   if p.name.endswith((".txt", ".txt.gz")) and p.name not in ("laws-included.txt",))
    n = 0
    for f in files:
        opener = gzip.open if f.name.endswith(".gz") else open
        with opener(f, "rt", encoding="utf-8") as fh:
            for line in fh:
                line = line.strip()
                if line:
                    yield line
                    n += 1
                    if max_lines and n >= max_lines:
                        return


def build_vectors(recipe: TrainRecipe, data_dir: Path, train_text: Iterable[str], work: Path) -> Path:
    """Train floret vectors and convert them into a spaCy vectors folder."""
    import floret
    import spacy

    v = recipe.vectors
    tok = spacy.blank("de").tokenizer
    text_file = work / "vectors-text.txt"
    n_tokens = 0
    train_text = list(train_text)
    with open(text_file, "w", encoding="utf-8") as out:
        # the labelled training text is news: `train_text_repeat` copies weight it up
        # against the mostly literary and legal raw text
        for _ in range(max(1, int(v.get("train_text_repeat", 1)))):
            for line in train_text:
                out.write(line + "\n")
                n_tokens += line.count(" ") + 1
        # the text (not the labels) of other corpora, e.g. news from MobIE and SmartData
        for entry in v.get("corpora", []):
            for words, _ in sentences_from([entry], data_dir):
                out.write(" ".join(words) + "\n")
                n_tokens += len(words)
        for src in v.get("sources", []):
            for line in _raw_lines(data_dir / src["path"], int(src.get("max_lines", 0))):
                words = [t.text for t in tok(line)]
                out.write(" ".join(words) + "\n")
                n_tokens += len(words)
    log.info("floret: %s tokens of text", f"{n_tokens:,}")
    model = floret.train_unsupervised(
        str(text_file),
        model="cbow",
        mode="floret",
        dim=int(v.get("dim", 64)),
        bucket=int(v.get("bucket", 40000)),
        minn=int(v.get("minn", 4)),
        maxn=int(v.get("maxn", 5)),
        hashCount=int(v.get("hash_count", 2)),
        epoch=int(v.get("epochs", 3)),
        minCount=int(v.get("min_count", 3)),
        thread=int(v.get("threads", 1)),
        verbose=0,
    )
    floret_path = work / "vectors.floret"
    model.save_floret_vectors(str(floret_path))
    vec_dir = work / "vectors"
    from spacy.training.initialize import convert_vectors

    nlp = spacy.blank("de")
    convert_vectors(nlp, floret_path, truncate=0, prune=-1, mode="floret")
    nlp.to_disk(vec_dir)
    (work / "vectors-stats.json").write_text(json.dumps({"tokens": n_tokens}), encoding="utf-8")
    return vec_dir


def build_pretrain_text(recipe: "TrainRecipe", data_dir: Path, train_text: Iterable[str], out: Path) -> int:
    """Write the raw-text JSONL (``{"text": ...}`` per line) for ``spacy pretrain``."""
    n = 0
    with open(out, "w", encoding="utf-8") as fh:
        for line in train_text:
            fh.write(json.dumps({"text": line}, ensure_ascii=False) + "\n")
            n += line.count(" ") + 1
        for src in recipe.pretrain.get("sources", []):
            for line in _raw_lines(data_dir / src["path"], int(src.get("max_lines", 0))):
                fh.write(json.dumps({"text": line}, ensure_ascii=False) + "\n")
                n += line.count(" ") + 1
    return n


def pretrain_tok2vec(recipe: "TrainRecipe", data_dir: Path, train_text: Iterable[str], work: Path,
                     vectors_dir: Path | None) -> Path:
    """Run ``spacy pretrain`` (character objective) and return the last epoch's weights."""
    from spacy.training.pretrain import pretrain
    from spacy.util import load_config

    text_path = work / "pretrain-text.jsonl"
    n_words = build_pretrain_text(recipe, data_dir, train_text, text_path)
    log.info("pretrain: %s words of raw text", f"{n_words:,}")
    epochs = int(recipe.pretrain.get("max_epochs", 4))
    overrides = {"paths.raw_text": str(text_path), "pretraining.max_epochs": epochs,
                 "system.seed": recipe.seed}
    if vectors_dir is not None:
        overrides["paths.vectors"] = str(vectors_dir)
    else:
        overrides["components.tok2vec.model.embed.include_static_vectors"] = False
    config = load_config(recipe.spacy_config, overrides=overrides, interpolate=False).interpolate()
    out = work / "pretrain"
    out.mkdir(parents=True, exist_ok=True)
    pretrain(config, out, silent=False)
    weights = sorted(out.glob("model*.bin"), key=lambda p: p.stat().st_mtime)
    if not weights:
        raise InputError(f"spacy pretrain wrote no weights into {out}")
    return weights[-1]


def train_model(
    recipe_path: Path,
    data_dir: Path,
    out_dir: Path,
    work_dir: Path,
    *,
    max_steps: int | None = None,
    vectors: bool | None = None,
    pretrain: bool | None = None,
    overrides: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Run the whole training recipe; return the packaged model's meta."""
    from spacy.cli.train import train as spacy_train
    from spacy.util import fix_random_seed

    recipe = TrainRecipe.from_file(recipe_path)
    use_cpu_ops(recipe.gemm, recipe.blas_threads)
    fix_random_seed(recipe.seed)
    random.seed(recipe.seed)
    work_dir.mkdir(parents=True, exist_ok=True)

    train_sents = list(sentences_from(recipe.train, data_dir))
    dev_sents = list(sentences_from(recipe.dev, data_dir))
    n_train = len(train_sents)
    # a corpus with `repeat = k` goes into the training DocBin k times (its weight against
    # the other corpora); the vector text below still has one copy of each sentence
    n_seen = to_docbin(_repeated(recipe.train, data_dir), work_dir / "train.spacy")
    n_dev = to_docbin(dev_sents, work_dir / "dev.spacy")
    log.info("corpora: %d train (%d with repeats) / %d dev sentences", n_train, n_seen, n_dev)

    cfg_overrides: dict[str, Any] = {
        "paths.train": str(work_dir / "train.spacy"),
        "paths.dev": str(work_dir / "dev.spacy"),
        "system.seed": recipe.seed,
    }
    use_vectors = recipe.vectors.get("enabled", False) if vectors is None else vectors
    if use_vectors:
        vec_dir = work_dir / "vectors"
        if not (vec_dir / "vocab" / "vectors").exists():
            vec_dir = build_vectors(recipe, data_dir, (" ".join(w) for w, _ in train_sents), work_dir)
        cfg_overrides["paths.vectors"] = str(vec_dir)
    else:
        cfg_overrides["components.tok2vec.model.embed.include_static_vectors"] = False
    if recipe.lexicon.get("enabled", False):
        table = build_lexicon(recipe.lexicon.get("sources", LEXICON_SOURCES),
                              home_countries=recipe.lexicon.get("home_countries", ()),
                              home_min_population=int(recipe.lexicon.get("home_min_population", 15000)))
        lexicon_path = write_lexicon(table, work_dir / "lexicon.json")
        log.info("name lexicon: %s words", f"{len(table):,}")
        cfg_overrides["paths.lexicon"] = str(lexicon_path)
    use_pretrain = recipe.pretrain.get("enabled", False) if pretrain is None else pretrain
    if use_pretrain:
        weights = work_dir / "pretrain" / "final.bin"
        if not weights.exists():
            last = pretrain_tok2vec(recipe, data_dir, (" ".join(w) for w, _ in train_sents), work_dir,
                                    Path(cfg_overrides["paths.vectors"]) if use_vectors else None)
            shutil.copy(last, weights)
        cfg_overrides["paths.init_tok2vec"] = str(weights)
    if max_steps is not None:
        cfg_overrides["training.max_steps"] = max_steps
        cfg_overrides["training.eval_frequency"] = max(1, min(500, max_steps // 2))
    cfg_overrides.update(overrides or {})
    silver_stats = None
    if recipe.selftrain.get("enabled", False):
        silver_stats = self_train_data(recipe, recipe_path, data_dir, work_dir, cfg_overrides)
        cfg_overrides["paths.train"] = str(work_dir / "trainset")

    train_out = work_dir / "spacy-output"
    spacy_train(recipe.spacy_config, output_path=train_out, overrides=cfg_overrides)
    best = train_out / "model-best"
    if recipe.finetune.get("enabled", False):
        best = finetune_model(best, recipe, data_dir, work_dir, cfg_overrides)

    return package_model(best, out_dir, recipe, recipe_path, n_train=n_train, n_dev=n_dev,
                         vectors=bool(use_vectors), pretrained=bool(use_pretrain), dev_sents=dev_sents,
                         selftrain=silver_stats)


def self_train_data(recipe: TrainRecipe, recipe_path: Path, data_dir: Path, work_dir: Path,
                    overrides: dict[str, Any]) -> dict[str, Any]:
    """Train the ``[selftrain]`` teachers on the gold corpora (each cached in
    ``work/teachers/<key>`` under a hash of its config, seed and inputs), let them label
    the raw text, and lay out ``work/trainset/`` (gold + silver DocBins) for the model
    that ships. Returns what goes into meta.json."""
    from spacy.cli.train import train as spacy_train

    from .selftrain import build_silver, silver_lines, teacher_key

    st = recipe.selftrain
    teachers = list(st.get("teachers", []))
    sources = list(st.get("sources", []))
    if not teachers or not sources:
        raise ConfigError("[selftrain] is enabled but names no teachers or no sources")
    min_votes = int(st.get("min_votes", len(teachers) // 2 + 1))
    repeat = int(st.get("repeat", 1))
    if repeat < 1:
        raise ConfigError(f"[selftrain] repeat must be >= 1, not {repeat}")
    gold = Path(overrides["paths.train"])
    lexicon = Path(overrides["paths.lexicon"]) if overrides.get("paths.lexicon") else None
    vectors = Path(overrides["paths.vectors"]) / "vocab" / "vectors" if overrides.get("paths.vectors") else None
    teacher_dirs, described = [], []
    for t in teachers:
        cfg = Path(recipe_path).parent / t.get("spacy_config", "ner.cfg")
        seed = int(t.get("seed", recipe.seed))
        if not cfg.exists():
            raise ConfigError(f"[selftrain] teacher config not found: {cfg}")
        key = teacher_key(cfg, seed, [gold, lexicon, vectors], overrides)
        out = work_dir / "teachers" / key
        if not (out / "model-best" / "meta.json").exists():
            log.info("self-training: teacher %s (seed %d) -> %s", cfg.name, seed, out)
            spacy_train(cfg, output_path=out, overrides=overrides | {"system.seed": seed})
        else:
            log.info("self-training: teacher %s (seed %d) cached in %s", cfg.name, seed, out)
        teacher_dirs.append(out / "model-best")
        described.append({"spacy_config": cfg.name, "seed": seed})
    lines = list(silver_lines(sources, data_dir, int(st.get("min_words", 4))))
    trainset = work_dir / "trainset"
    if trainset.exists():
        shutil.rmtree(trainset)
    trainset.mkdir(parents=True)
    shutil.copy(gold, trainset / "train.spacy")
    stats = build_silver(teacher_dirs, lines, trainset / "silver.spacy", min_votes=min_votes)
    for i in range(2, repeat + 1):  # the silver data's weight against the gold corpora
        shutil.copy(trainset / "silver.spacy", trainset / f"silver-{i}.spacy")
    log.info("self-training: %(sentences)d silver sentences, %(entities)d entities, "
             "%(missing_tokens)d disputed tokens", stats)
    return {"teachers": described, "min_votes": min_votes, "repeat": repeat,
            "sources": [{"path": s["path"], "max_lines": int(s.get("max_lines", 0))} for s in sources],
            **stats}


def finetune_model(best: Path, recipe: TrainRecipe, data_dir: Path, work_dir: Path,
                   overrides: dict[str, Any]) -> Path:
    """Second stage: go on training the stage-one model (both components sourced from
    it) on ``[[finetune.train]]`` corpora only, at a low constant learning rate, and
    return the best checkpoint of that stage (which may be its first evaluation, so a
    stage that only hurts on dev keeps close to stage one)."""
    from spacy.cli.train import train as spacy_train
    from spacy.util import load_config

    ft = recipe.finetune
    entries = list(ft.get("train", []))
    if not entries:
        raise ConfigError("[finetune] is enabled but names no [[finetune.train]] corpora")
    n = to_docbin(_repeated(entries, data_dir), work_dir / "finetune.spacy")
    steps = int(ft.get("max_steps", 1000))
    log.info("fine-tuning on %d sentences for up to %d steps", n, steps)
    config = load_config(recipe.spacy_config, interpolate=False)
    for name in config["nlp"]["pipeline"]:
        config["components"][name] = {"source": str(best.resolve())}
    config["training"]["max_steps"] = steps
    config["training"]["eval_frequency"] = int(ft.get("eval_frequency", 200))
    config["training"]["patience"] = int(ft.get("patience", 600))
    config["training"]["optimizer"]["learn_rate"] = float(ft.get("learn_rate", 0.0005))
    config["training"]["batcher"]["size"] = int(ft.get("batch_words", 1000))
    cfg_path = work_dir / "finetune.cfg"
    config.to_disk(cfg_path)
    out = work_dir / "spacy-output-finetune"
    # the components come whole from stage one: no overrides of their settings
    keep = {k: v for k, v in overrides.items() if not k.startswith("components.")}
    spacy_train(cfg_path, output_path=out, overrides=keep | {"paths.train": str(work_dir / "finetune.spacy")})
    return out / "model-best"


def package_model(best: Path, out_dir: Path, recipe: TrainRecipe, recipe_path: Path, *,
                  n_train: int, n_dev: int, vectors: bool, pretrained: bool,
                  dev_sents: list[Sentence] | None = None,
                  selftrain: dict[str, Any] | None = None) -> dict[str, Any]:
    """Copy a trained spaCy pipeline to ``out_dir`` with our meta.json (sources,
    licences, scores) and a pruned string store."""
    import spacy

    nlp = spacy.load(best)
    half = vectors and bool(recipe.vectors.get("store_float16", False))
    if half:
        embed = nlp.config["components"].get("tok2vec", {}).get("model", {}).get("embed", {})
        if embed.get("@architectures") != "de_news.MultiHashEmbedLexicon.v1":
            raise ConfigError("[vectors] store_float16 needs the de_news.MultiHashEmbedLexicon.v1 embed layer, "
                              "which widens the vectors back to float32 when the model runs")
        half_vectors(nlp)
    nlp.meta.update(
        {
            "name": recipe.name,
            "lang": "de",
            "version": recipe.version,
            "description": "German news NER (PER, LOC, ORG, MISC and GermEval deriv/part subtypes), "
            "trained by `pipeline train` from open corpora.",
            "license": "CC BY 4.0 (inherits from GermEval 2014 training data)",
            "author": "pipeline project",
            "labels": {"ner": sorted(nlp.get_pipe("ner").labels)},
            "sources": _sources(recipe, vectors),
            "training": {
                "recipe": str(recipe_path),
                "spacy_config": str(recipe.spacy_config),
                "seed": recipe.seed,
                "train_sentences": n_train,
                "dev_sentences": n_dev,
                "vectors": vectors,
                **({"vectors_dtype": "float16"} if half else {}),
                "blas": blas_kernels(),
                "pretrained_tok2vec": pretrained,
                **({"selftrain": selftrain} if selftrain else {}),
            },
        }
    )
    if dev_sents:
        nlp.meta["scores_outer_4label"] = {"dev": score_outer(nlp, dev_sents),
                                           "note": "strict span + label, GermEval 2014 outer level"}
    if half:
        half_vectors(nlp)  # scoring ran on them widened back to float32
    if out_dir.exists():
        shutil.rmtree(out_dir)
    nlp.to_disk(out_dir)
    prune_strings(nlp, out_dir)
    return nlp.meta


def blas_kernels() -> list[str]:
    """The BLAS libraries and the kernels they picked for this CPU (threadpoolctl), e.g.
    ``openblas 0.3.31.188.0 Haswell``. The same seed gives the same weights only on the
    same kernels: OpenBLAS picks them by CPU (``OPENBLAS_CORETYPE`` overrides)."""
    from threadpoolctl import threadpool_info

    return [" ".join(str(i.get(k) or "") for k in ("internal_api", "version", "architecture")).strip()
            for i in threadpool_info() if i.get("user_api") == "blas"]


def half_vectors(nlp) -> None:
    """Round the static vectors to float16: half the size on disk (40k x 64 floret
    vectors: 10.2 -> 5.1 MB). The model's feature layer widens them back to float32 the
    first time it runs (``pipeline.ner.lexicon``), so the model scores what it ships."""
    import numpy

    data = nlp.vocab.vectors.data
    if data is not None and data.size:
        nlp.vocab.vectors.data = numpy.asarray(data, dtype="float16")


def _sources(recipe: TrainRecipe, vectors: bool) -> list[dict[str, Any]]:
    """Attributions of every corpus the model was built from, and what it was used for."""
    out = [ATTRIBUTIONS.get(e["format"], {"name": e["path"]}) | {"path": e["path"], "use": "labelled training data"}
           for e in recipe.train]
    if vectors:
        out += [ATTRIBUTIONS.get(e["format"], {"name": e["path"]})
                | {"path": e["path"], "use": "text only (no labels) for the floret static vectors"}
                for e in recipe.vectors.get("corpora", [])]
        out.append(RAW_ATTRIBUTION)
    if recipe.selftrain.get("enabled", False):
        out.append(RAW_ATTRIBUTION | {"use": "unlabelled text, labelled by teacher models for self-training: "
                                      + ", ".join(s["path"] for s in recipe.selftrain.get("sources", []))})
    if recipe.lexicon.get("enabled", False):
        out += [a | {"use": "name lexicon (an input feature, stored as hashes in vocab/lookups.bin)"}
                for a in lexicon_attributions(recipe.lexicon.get("sources", LEXICON_SOURCES))]
    return out


def score_outer(nlp, sentences: list[Sentence], labels=("PER", "LOC", "ORG", "MISC")) -> dict[str, Any]:
    """Strict span + label P/R/F1 per label on gold-tokenized sentences (GermEval outer
    level); subtype labels (LOCderiv, ...) are left out of the 4-label score."""
    from spacy.tokens import Doc
    from spacy.training import biluo_tags_to_spans, iob_to_biluo

    tp: dict[str, int] = {lab: 0 for lab in labels}
    fp, fn = dict(tp), dict(tp)
    docs = (Doc(nlp.vocab, words=words) for words, _ in sentences)
    for (words, tags), doc in zip(sentences, nlp.pipe(docs)):
        gold_doc = Doc(nlp.vocab, words=words)
        gold = {(s.start, s.end, s.label_) for s in biluo_tags_to_spans(gold_doc, iob_to_biluo(tags))
                if s.label_ in tp}
        pred = {(e.start, e.end, e.label_) for e in doc.ents if e.label_ in tp}
        for _, _, lab in gold & pred:
            tp[lab] += 1
        for _, _, lab in pred - gold:
            fp[lab] += 1
        for _, _, lab in gold - pred:
            fn[lab] += 1

    def prf(t: int, p: int, n: int) -> dict[str, float]:
        pr = t / (t + p) if t + p else 0.0
        rc = t / (t + n) if t + n else 0.0
        return {"p": round(pr, 4), "r": round(rc, 4), "f": round(2 * pr * rc / (pr + rc), 4) if pr + rc else 0.0}

    out = {lab: prf(tp[lab], fp[lab], fn[lab]) for lab in labels}
    out["micro"] = prf(sum(tp.values()), sum(fp.values()), sum(fn.values()))
    return out


def prune_strings(nlp, model_dir: Path) -> None:
    """Keep only the strings inference needs (a blank German vocab plus the labels).

    The saved string store otherwise lists every training word (2+ MB); features are
    hashed, so predictions do not depend on it (checked in tests/test_ner_model.py).
    """
    import spacy

    keep = set(spacy.blank(nlp.lang).vocab.strings)
    for _, proc in nlp.pipeline:
        keep |= set(getattr(proc, "labels", ()))
    (Path(model_dir) / "vocab" / "strings.json").write_text(
        json.dumps(sorted(keep), ensure_ascii=False), encoding="utf-8")


__all__ = ["TrainRecipe", "train_model", "to_docbin", "build_vectors", "ALL_MODEL_LABELS"]
