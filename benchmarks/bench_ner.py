"""NER benchmark: GermEval 2014 dev accuracy and single-process throughput.

    python benchmarks/bench_ner.py                              # bundled model
    python benchmarks/bench_ner.py --model de_core_news_sm      # an installed package
    python benchmarks/bench_ner.py --model path/to/model --runs 3 --json bench.json
    python benchmarks/bench_ner.py --also conll2003:../shared/data/mobie/dev.conll2003   # + another corpus
    python benchmarks/bench_ner.py --model blank --max-sentences 200 --min-words 20000 --runs 1   # smoke test

(a) Accuracy: entity precision/recall/F1, strict span + label, OUTER GermEval level
    (``pipeline.ner.corpora.read_germeval``; OTH is MISC). The main table scores the
    four labels PER/LOC/ORG/MISC only: gold ``deriv``/``part`` spans and predictions of
    subtype labels are left out of it (a gold ``LOCderiv`` predicted as ``LOC`` is a false
    positive there). The subtypes get a second table, and a last line gives the micro
    score over all 12 labels (the GermEval 2014 outer-level setting). The model runs on
    the gold tokenization: one ``Doc(nlp.vocab, words=words)`` per sentence, fed to
    ``nlp.pipe`` (which skips the tokenizer for Docs).
(b) Throughput: the seed articles repeated to at least ``--min-words`` whitespace words,
    ``nlp.pipe(texts, batch_size=...)`` in one process with only the components NER
    needs (``ner`` and the ``tok2vec`` it listens to), ``--runs`` timed runs after one
    untimed warm-up batch; each run and the median are printed, plus the model size on
    disk.

Model labels are mapped with ``--label-map`` (``PERSON=PER,GPE=LOC`` or a JSON file);
labels that map to none of PER/LOC/ORG/MISC and their ``deriv``/``part`` subtypes are
ignored. ``--label-map foreign`` uses ``pipeline.ner.postprocess.FOREIGN_LABELS``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from pipeline.ner.corpora import ALL_MODEL_LABELS, BASE_LABELS, iter_sentences  # noqa: E402
from pipeline.ner.model import model_info  # noqa: E402

DEFAULT_MODEL = REPO / "pipeline" / "models" / "de_news_ner"
DEFAULT_DEV = REPO.parent / "shared" / "data" / "germeval2014" / "NER-de-dev.tsv"
DEFAULT_SEEDS = REPO / "seeds"
SUBTYPE_LABELS = tuple(lab for lab in ALL_MODEL_LABELS if lab not in BASE_LABELS)


# ----------------------------------------------------------------------------- model


def load_nlp(name: str):
    """Load a model by path, package name, ``bundled`` or ``blank`` (an untrained NER
    on spacy.blank("de"), for smoke tests of the code paths only)."""
    import spacy

    if name == "blank":
        nlp = spacy.blank("de")
        ner = nlp.add_pipe("ner")
        for lab in ALL_MODEL_LABELS:
            ner.add_label(lab)
        nlp.initialize()
        return nlp, None
    if name == "bundled":
        name = str(DEFAULT_MODEL)
    path = Path(name).expanduser()
    if path.exists():
        nlp = spacy.load(path)
        return nlp, path
    if not spacy.util.is_package(name):
        sys.exit(f"model not found: {name!r} (neither a path nor an installed spaCy package)")
    nlp = spacy.load(name)
    pkg_path = spacy.util.get_package_path(name)
    return nlp, Path(nlp.path) if getattr(nlp, "path", None) else pkg_path


def ner_components(nlp) -> list[str]:
    """``ner`` plus the components whose listeners it uses (its tok2vec/transformer)."""
    if "ner" not in nlp.pipe_names:
        sys.exit(f"the model has no 'ner' component (it has {nlp.pipe_names})")
    needed = {"ner"}
    for name, proc in nlp.pipeline:
        if "ner" in getattr(proc, "listener_map", {}):
            needed.add(name)
    return [n for n in nlp.pipe_names if n in needed]


def dir_size_mb(path: Path | None) -> float | None:
    if path is None or not path.exists():
        return None
    total = sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
    return total / 1e6


def parse_label_map(spec: str | None, model_labels) -> dict[str, str]:
    """Model label -> one of ALL_MODEL_LABELS (others are dropped)."""
    mapping: dict[str, str] = {}
    if spec == "foreign":
        from pipeline.ner.postprocess import map_label

        for lab in model_labels:
            mapped = map_label(lab)
            if mapped:
                base, kind = mapped
                mapping[lab] = base + ("" if kind == "name" else kind)
        return mapping
    if spec:
        if Path(spec).exists():
            raw = json.loads(Path(spec).read_text(encoding="utf-8"))
        else:
            raw = dict(item.split("=", 1) for item in spec.split(",") if item.strip())
        mapping.update({k.strip(): v.strip() for k, v in raw.items()})
    out = {}
    for lab in model_labels:
        target = mapping.get(lab, lab)
        if target in ALL_MODEL_LABELS:
            out[lab] = target
    return out


# -------------------------------------------------------------------------- accuracy


def bio_spans(tags: list[str]) -> set[tuple[int, int, str]]:
    """(start token, end token, label) of a repaired IOB2 sequence."""
    spans = set()
    start, label = None, None
    for i, tag in enumerate(tags + ["O"]):
        if tag.startswith("I-") and label == tag[2:]:
            continue
        if label is not None:
            spans.add((start, i, label))
            start, label = None, None
        if tag.startswith(("B-", "I-")):
            start, label = i, tag[2:]
    return spans


def prf(tp: int, fp: int, fn: int) -> dict:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    f = 2 * p * r / (p + r) if p + r else 0.0
    return {"precision": p, "recall": r, "f1": f, "tp": tp, "fp": fp, "fn": fn, "support": tp + fn}


def score(golds: list[set], preds: list[set], labels: tuple[str, ...]) -> dict:
    tp, fp, fn = Counter(), Counter(), Counter()
    keep = set(labels)
    for g, p in zip(golds, preds):
        g = {s for s in g if s[2] in keep}
        p = {s for s in p if s[2] in keep}
        for s in g & p:
            tp[s[2]] += 1
        for s in p - g:
            fp[s[2]] += 1
        for s in g - p:
            fn[s[2]] += 1
    table = {lab: prf(tp[lab], fp[lab], fn[lab]) for lab in labels}
    table["micro"] = prf(sum(tp.values()), sum(fp.values()), sum(fn.values()))
    return table


def evaluate_dev(nlp, components: list[str], label_map: dict[str, str], dev: Path,
                 batch_size: int, max_sentences: int | None, fmt: str = "germeval") -> dict:
    from spacy.tokens import Doc

    sentences = []
    for words, tags in iter_sentences(fmt, [dev]):
        sentences.append((words, tags))
        if max_sentences and len(sentences) >= max_sentences:
            break
    golds = [bio_spans(tags) for _, tags in sentences]
    docs = (Doc(nlp.vocab, words=words) for words, _ in sentences)
    t0 = time.perf_counter()
    with nlp.select_pipes(enable=components):
        try:
            out = list(nlp.pipe(docs, batch_size=batch_size))
        except (TypeError, ValueError):  # very old spaCy: no Doc input to nlp.pipe
            out = []
            for words, _ in sentences:
                doc = Doc(nlp.vocab, words=words)
                for _, proc in nlp.pipeline:
                    doc = proc(doc)
                out.append(doc)
    seconds = time.perf_counter() - t0
    preds = []
    dropped = Counter()
    for doc, (words, _) in zip(out, sentences):
        if len(doc) != len(words):
            raise RuntimeError("the model changed the gold tokenization")
        spans = set()
        for ent in doc.ents:
            lab = label_map.get(ent.label_)
            if lab is None:
                dropped[ent.label_] += 1
            else:
                spans.add((ent.start, ent.end, lab))
        preds.append(spans)
    n_words = sum(len(w) for w, _ in sentences)
    # a corpus without some label (MobIE has no MISC) is scored on the labels it has
    present = tuple(lab for lab in BASE_LABELS if any(s[2] == lab for g in golds for s in g))
    return {
        "path": str(dev),
        "format": fmt,
        "labels": present,
        "sentences": len(sentences),
        "words": n_words,
        "seconds": seconds,
        "base": score(golds, preds, present),
        "subtypes": score(golds, preds, SUBTYPE_LABELS),
        "all": score(golds, preds, ALL_MODEL_LABELS)["micro"],
        "dropped_predictions": dict(dropped),
    }


# ------------------------------------------------------------------------ throughput


def throughput(nlps: dict[str, object], components: list[str], seeds: Path, min_words: int, runs: int,
               batch_size: int) -> dict:
    """Time ``nlp.pipe`` over the seeds repeated to ``min_words``. ``nlps`` maps a label
    (the CPU ops, e.g. ``numpy``/``blis``) to a loaded pipeline; with several, the runs
    alternate between them so that machine noise hits all alike. The first is the main
    figure."""
    base = [p.read_text(encoding="utf-8") for p in sorted(seeds.glob("*.txt"))]
    if not base:
        sys.exit(f"no *.txt files in {seeds}")
    base_words = sum(len(t.split()) for t in base)
    reps = -(-min_words // base_words)
    texts = base * reps
    n_words = base_words * reps
    times: dict[str, list[float]] = {label: [] for label in nlps}
    for nlp in nlps.values():
        for _ in nlp.pipe(base, batch_size=batch_size):  # warm-up, untimed
            pass
    for i in range(runs):
        for label, nlp in nlps.items():
            disabled = [n for n in nlp.pipe_names if n not in components]
            with nlp.select_pipes(disable=disabled):
                t0 = time.perf_counter()
                n_ents = 0
                for doc in nlp.pipe(texts, batch_size=batch_size):
                    n_ents += len(doc.ents)
                dt = time.perf_counter() - t0
            times[label].append(dt)
            print(f"  run {i + 1}/{runs} [{label}]: {n_words / dt:10,.0f} words/s  ({dt:.2f} s, {n_ents} entities)",
                  flush=True)
    by_ops = {}
    for label, ts in times.items():
        wps = [n_words / t for t in ts]
        by_ops[label] = {"seconds": ts, "words_per_s": wps, "median_words_per_s": statistics.median(wps)}
    main_label = next(iter(nlps))
    return {
        "texts": len(texts),
        "words": n_words,
        "batch_size": batch_size,
        "components": components,
        "ops": main_label,
        **by_ops[main_label],
        "by_ops": by_ops,
    }


# ---------------------------------------------------------------------------- output


def pct(x: float) -> str:
    return f"{100 * x:.1f}"


def md_scores(table: dict, labels) -> list[str]:
    lines = ["| label | P | R | F1 | support |", "|---|---:|---:|---:|---:|"]
    for lab in list(labels) + ["micro"]:
        s = table[lab]
        name = "**micro**" if lab == "micro" else lab
        lines.append(f"| {name} | {pct(s['precision'])} | {pct(s['recall'])} | {pct(s['f1'])} | {s['support']} |")
    return lines


def markdown(result: dict) -> str:
    lines = [f"### NER benchmark: `{result['model']}`", ""]
    dev = result.get("dev")
    if dev:
        lines += [
            f"GermEval 2014 dev, outer level, strict span + label, gold tokenization "
            f"({dev['sentences']} sentences, {dev['words']} tokens); P/R/F1 in %.",
            "",
            *md_scores(dev["base"], dev["labels"]),
            "",
            "Subtypes (deriv/part):",
            "",
            *md_scores(dev["subtypes"], [lab for lab in SUBTYPE_LABELS if dev["subtypes"][lab]["tp"]
                                          + dev["subtypes"][lab]["fp"] + dev["subtypes"][lab]["fn"]]),
            "",
            f"All 12 labels (GermEval outer, micro): P {pct(dev['all']['precision'])} "
            f"R {pct(dev['all']['recall'])} F1 {pct(dev['all']['f1'])}",
            "",
        ]
    for extra in result.get("also", []):
        lines += [
            f"`{extra['path']}` ({extra['format']}, {extra['sentences']} sentences, {extra['words']} tokens), "
            "strict span + label, gold tokenization; P/R/F1 in %.",
            "",
            *md_scores(extra["base"], extra["labels"]),
            "",
        ]
    tp = result.get("throughput")
    size = result.get("size_mb")
    size_s = f"{size:.1f}" if size is not None else "n/a"
    if tp:
        lines += [
            "| model | size on disk (MB) | words/s (median) | runs | words per run | batch size |",
            "|---|---:|---:|---:|---:|---:|",
            f"| `{result['model']}` | {size_s} | {tp['median_words_per_s']:,.0f} | {len(tp['seconds'])} "
            f"| {tp['words']:,} | {tp['batch_size']} |",
            "",
            f"Single process, components: {', '.join(tp['components'])}; spaCy {result['spacy_version']}, "
            f"Python {result['python']}, {result['cpu_count']} CPUs; CPU matrix multiplies: {tp['ops']}.",
        ]
        others = [k for k in tp["by_ops"] if k != tp["ops"]]
        for other in others:
            med = tp["by_ops"][other]["median_words_per_s"]
            lines.append(f"Same runs, interleaved, with {other}: median {med:,.0f} words/s; "
                         f"{tp['ops']}/{other} = {tp['median_words_per_s'] / med:.2f}x.")
    else:
        lines.append(f"Model size on disk: {size_s} MB")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default=str(DEFAULT_MODEL),
                    help="model path, installed package name, 'bundled' or 'blank' (default: %(default)s)")
    ap.add_argument("--label-map", default=None,
                    help="'SRC=DST,...', a JSON file, or 'foreign' (pipeline.ner.postprocess mapping)")
    ap.add_argument("--dev", type=Path, default=DEFAULT_DEV, help="GermEval 2014 dev TSV")
    ap.add_argument("--also", action="append", default=[], metavar="FORMAT:PATH",
                    help="also score on another corpus read by pipeline.ner.corpora, e.g. "
                         "conll2003:../shared/data/mobie/dev.conll2003 (repeatable)")
    ap.add_argument("--seeds", type=Path, default=DEFAULT_SEEDS, help="folder of *.txt for throughput")
    ap.add_argument("--min-words", type=int, default=200_000, help="words per throughput run")
    ap.add_argument("--runs", type=int, default=5, help="timed throughput runs")
    ap.add_argument("--batch-size", type=int, default=64, help="nlp.pipe batch size (throughput)")
    ap.add_argument("--eval-batch-size", type=int, default=256, help="nlp.pipe batch size (dev sentences)")
    ap.add_argument("--max-sentences", type=int, default=None, help="only the first N dev sentences")
    ap.add_argument("--skip-accuracy", action="store_true")
    ap.add_argument("--skip-throughput", action="store_true")
    ap.add_argument("--gemm", choices=["numpy", "blis"], default="numpy",
                    help="CPU matrix multiplies (pipeline/ner/cpu.py; the pipeline's default: numpy)")
    ap.add_argument("--blas-threads", type=int, default=1, help="BLAS threads for numpy (0: one per core)")
    ap.add_argument("--compare-gemm", action="store_true",
                    help="also time the model with the other gemm, runs interleaved, and print the ratio")
    ap.add_argument("--json", type=Path, default=None, help="also write the results here")
    ap.add_argument("--compare-load", action="store_true",
                    help="also load the model as the pipeline does (pipeline.ner.model.load_model: each "
                         "distinct word of a batch embedded once, fused encoder, vectorised decoder; the "
                         "embedding cache across batches off, since the timed runs repeat the same texts), "
                         "score and time it alternated with the plain spaCy load, and print the ratio")
    args = ap.parse_args(argv)

    import spacy

    from pipeline.ner.cpu import use_cpu_ops

    if args.compare_gemm:  # models take the ops current when they are built
        other = "blis" if args.gemm == "numpy" else "numpy"
        use_cpu_ops(other, args.blas_threads)
        other_nlp, _ = load_nlp(args.model)
    use_cpu_ops(args.gemm, args.blas_threads)
    nlp, model_path = load_nlp(args.model)
    components = ner_components(nlp)
    labels = nlp.get_pipe("ner").labels
    label_map = parse_label_map(args.label_map, labels)
    result: dict = {
        "model": args.model,
        "model_path": str(model_path) if model_path else None,
        "model_name": model_info(nlp).name,
        "model_version": nlp.meta.get("version"),
        "size_mb": dir_size_mb(model_path),
        "spacy_version": spacy.__version__,
        "python": platform.python_version(),
        "cpu_count": os.cpu_count(),
        "components": components,
        "label_map": label_map,
    }
    result["gemm"], result["blas_threads"] = args.gemm, args.blas_threads
    print(f"model {args.model} ({result['model_name']} {result['model_version']}); NER components: "
          f"{', '.join(components)}; size "
          f"{'n/a' if result['size_mb'] is None else format(result['size_mb'], '.1f') + ' MB'}", flush=True)
    unmapped = sorted(set(labels) - set(label_map))
    if unmapped:
        print(f"model labels ignored (not mapped to our labels): {', '.join(unmapped)}", flush=True)

    fast = None
    if args.compare_load:
        from pipeline.ner.model import load_model

        fast = load_model(args.model, gemm=args.gemm, blas_threads=args.blas_threads, embed_cache_words=0)
    if not args.skip_accuracy:
        print(f"accuracy on {args.dev} ...", flush=True)
        result["dev"] = evaluate_dev(nlp, components, label_map, args.dev, args.eval_batch_size, args.max_sentences)
        if fast is not None:
            result["dev_pipeline_load"] = evaluate_dev(fast, components, label_map, args.dev, args.eval_batch_size,
                                                       args.max_sentences)
            same = result["dev_pipeline_load"]["all"] == result["dev"]["all"]
            print(f"pipeline load: all-label micro F1 {pct(result['dev_pipeline_load']['all']['f1'])} "
                  f"({'the same counts as' if same else 'DIFFERENT from'} the plain load)", flush=True)
        result["also"] = []
        for spec in args.also:
            fmt, _, path = spec.partition(":")
            if not path or not Path(path).exists():
                sys.exit(f"--also {spec!r}: expected FORMAT:PATH of an existing file")
            print(f"accuracy on {path} ({fmt}) ...", flush=True)
            result["also"].append(evaluate_dev(nlp, components, label_map, Path(path), args.eval_batch_size,
                                               args.max_sentences, fmt=fmt))
    if not args.skip_throughput:
        print(f"throughput: seeds repeated to >= {args.min_words:,} words, {args.runs} runs", flush=True)
        nlps = {args.gemm: nlp}
        if args.compare_gemm:
            nlps[other] = other_nlp
        if fast is not None:
            nlps["pipeline load"] = fast
        result["throughput"] = throughput(nlps, components, args.seeds, args.min_words, args.runs, args.batch_size)
        print(f"  median: {result['throughput']['median_words_per_s']:,.0f} words/s", flush=True)
        for label, r in result["throughput"]["by_ops"].items():
            print(f"  {label}: median {r['median_words_per_s']:,.0f} words/s, "
                  f"{r['median_words_per_s'] / result['throughput']['median_words_per_s']:.2f}x", flush=True)

    print()
    print(markdown(result))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(result, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        print(f"results written to {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
