"""Recall benchmark for the name rules: GermEval dev through the pipeline, and a person
recall proxy on the Wikinews quotation gold.

    python benchmarks/bench_recall.py                         # both, with today's config
    python benchmarks/bench_recall.py --set ner.surnames=false   # a rule off
    python benchmarks/bench_recall.py --skip-germeval --corpus-pass  # + the corpus pass

(a) GermEval 2014 dev through the pipeline: one document per sentence (the words joined
    by spaces), normalised and tagged by :class:`pipeline.ner.model.NerTagger` with its
    post-processing, spans mapped back to the original as ``run.process_batch`` does;
    strict outer-level P/R/F1 over PER/LOC/ORG/MISC names, and over all 12 labels. The
    raw model on the gold tokenization is ``bench_ner.py``'s figure; this one includes
    the tokenizer and the rules.
(b) Wikinews (``../shared/data/wikinews-de/``, read at run time, never copied): the
    share of gold speaker spans that contain a PER mention, and of those whose text
    starts with a capitalised word that is not a pronoun or article (speakers are often
    persons: a proxy for person recall). ``--corpus-pass`` adds the corpus-level second
    pass (:mod:`pipeline.ner.corpus_pass`) over all documents of a file and prints its
    time against the NER time.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SHARED = ROOT.parent / "shared"
DEV = SHARED / "data" / "germeval2014" / "NER-de-dev.tsv"
WIKINEWS = SHARED / "data" / "wikinews-de"

_NOT_NAMES = set("""er sie es ich wir ihr man der die das den dem des ein eine einer einen dieser diese
jener jene sein seine ihre ihr wer was beide alle viele""".split())


def tag_texts(tagger, cfg, texts: list[str]):
    """Normalise and tag ``texts``: per text (norm, spans in the normalised text,
    spans in the original) as ``run.process_batch`` computes them."""
    from pipeline.normalize import normalize_text, to_original

    norms = [normalize_text(t, cfg.normalize, html=cfg.input.html) for t in texts]
    out = []
    for norm, tag in zip(norms, tagger.tag([n.text for n in norms])):
        nspans = [(s, e, lab, kind) for s, e, lab, kind, _ in tag.spans]
        ospans = []
        for s, e, lab, kind in nspans:
            os_, oe = to_original(norm, s, e)
            ospans.append((os_, oe, lab, kind))
        out.append((norm, nspans, ospans))
    return out


def bio_char_spans(words: list[str], tags: list[str]) -> list[tuple[int, int, str]]:
    """Gold BIO tags -> character spans in ``" ".join(words)``."""
    starts, pos = [], 0
    for w in words:
        starts.append(pos)
        pos += len(w) + 1
    spans, cur = [], None
    for i, t in enumerate(tags + ["O"]):
        if cur and not (t.startswith("I-") and t[2:] == cur[2]):
            spans.append((starts[cur[0]], starts[cur[1]] + len(words[cur[1]]), cur[2]))
            cur = None
        if t.startswith("B-") or (t.startswith("I-") and cur is None):
            cur = [i, i, t[2:]]
        elif cur and t.startswith("I-"):
            cur[1] = i
    return spans


def prf(tp: int, fp: int, fn: int) -> tuple[float, float, float]:
    p = tp / (tp + fp) if tp + fp else 0.0
    r = tp / (tp + fn) if tp + fn else 0.0
    return p, r, (2 * p * r / (p + r) if p + r else 0.0)


def germeval(tagger, cfg, max_sentences: int | None) -> dict:
    from pipeline.ner.corpora import BASE_LABELS, read_germeval

    sents = list(read_germeval(DEV))[:max_sentences]
    texts = [" ".join(w) for w, _ in sents]
    t0 = time.perf_counter()
    tagged = tag_texts(tagger, cfg, texts)
    secs = time.perf_counter() - t0
    res = {}
    for scope in ("names", "all"):
        tp = fp = fn = 0
        per = {lab: [0, 0, 0] for lab in BASE_LABELS}
        for (words, tags), (_, _, ospans) in zip(sents, tagged):
            gold = set(bio_char_spans(words, tags))
            pred = {(s, e, lab + ("" if kind == "name" else kind)) for s, e, lab, kind in ospans}
            if scope == "names":
                gold = {g for g in gold if g[2] in BASE_LABELS}
                pred = {p for p in pred if p[2] in BASE_LABELS}
            tp += len(gold & pred)
            fp += len(pred - gold)
            fn += len(gold - pred)
            for lab in BASE_LABELS:
                g = {x for x in gold if x[2] == lab}
                p = {x for x in pred if x[2] == lab}
                per[lab][0] += len(g & p)
                per[lab][1] += len(p - g)
                per[lab][2] += len(g - p)
        res[scope] = {"P": prf(tp, fp, fn)[0], "R": prf(tp, fp, fn)[1], "F1": prf(tp, fp, fn)[2],
                      **{lab: prf(*v)[2] for lab, v in per.items()}}
    res["sentences"] = len(sents)
    res["seconds"] = secs
    return res


def wikinews(tagger, cfg, files: list[str], corpus_pass: bool) -> dict:
    from pipeline.normalize import to_original

    arts, speakers = [], {}
    for f in files:
        arts += [json.loads(line) for line in open(WIKINEWS / f"{f}.articles.jsonl", encoding="utf-8")]
        for line in open(WIKINEWS / f"{f}.quotes.jsonl", encoding="utf-8"):
            q = json.loads(line)
            for s, e in q.get("speaker") or []:
                speakers.setdefault(q["id"], set()).add((s, e))
    texts = [a["text"] for a in arts]
    t0 = time.perf_counter()
    tagged = tag_texts(tagger, cfg, texts)
    ner_s = time.perf_counter() - t0
    pass_s = 0.0
    n_added = 0
    if corpus_pass:
        from pipeline.ner.corpus_pass import build_corpus_names

        t0 = time.perf_counter()
        mentions = [{"doc_id": a["id"], "text": norm.text[s:e], "label": lab, "kind": kind}
                    for a, (norm, nspans, _) in zip(arts, tagged) for s, e, lab, kind in nspans]
        names = build_corpus_names(mentions)
        new_tagged = []
        for a, (norm, nspans, ospans) in zip(arts, tagged):
            added = names.find(norm.text, nspans, doc_id=a["id"])
            n_added += len(added)
            extra = [(*to_original(norm, s, e), lab, "name") for s, e, lab in added]
            new_tagged.append((norm, nspans, ospans + extra))
        tagged = new_tagged
        pass_s = time.perf_counter() - t0
    n = hit = n_cap = hit_cap = 0
    n_per = 0
    for a, (_, _, ospans) in zip(arts, tagged):
        pers = [(s, e) for s, e, lab, kind in ospans if lab == "PER" and kind == "name"]
        n_per += len(pers)
        for s, e in speakers.get(a["id"], ()):
            found = any(s <= ps and pe <= e for ps, pe in pers)
            words = a["text"][s:e].split()
            cap = bool(words) and words[0][:1].isupper() and words[0].lower() not in _NOT_NAMES
            n += 1
            hit += found
            n_cap += cap
            hit_cap += found and cap
    return {"articles": len(arts), "speaker_spans": n, "with_PER": hit / n if n else 0.0,
            "capitalised_spans": n_cap, "capitalised_with_PER": hit_cap / n_cap if n_cap else 0.0,
            "PER_mentions": n_per, "corpus_pass_added": n_added,
            "ner_seconds": ner_s, "corpus_pass_seconds": pass_s}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                    help="config override, e.g. ner.surnames=false")
    ap.add_argument("--skip-germeval", action="store_true")
    ap.add_argument("--skip-wikinews", action="store_true")
    ap.add_argument("--max-sentences", type=int, default=None)
    ap.add_argument("--wikinews", default="dev,train", help="files: dev, train or dev,train")
    ap.add_argument("--corpus-pass", action="store_true", help="add the corpus-level second pass")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args(argv)

    from pipeline.api import get_tagger
    from pipeline.config import load_config

    cfg = load_config(overrides=args.set)
    tagger = get_tagger(cfg)
    result = {"overrides": args.set}
    if not args.skip_germeval:
        g = germeval(tagger, cfg, args.max_sentences)
        result["germeval_dev"] = g
        for scope in ("names", "all"):
            r = g[scope]
            print(f"GermEval dev through the pipeline ({scope}): P {100 * r['P']:.1f} R {100 * r['R']:.1f} "
                  f"F1 {100 * r['F1']:.2f}  (PER {100 * r['PER']:.1f} LOC {100 * r['LOC']:.1f} "
                  f"ORG {100 * r['ORG']:.1f} MISC {100 * r['MISC']:.1f})")
        print(f"  {g['sentences']} sentences in {g['seconds']:.1f} s")
    if not args.skip_wikinews:
        w = wikinews(tagger, cfg, args.wikinews.split(","), args.corpus_pass)
        result["wikinews"] = w
        print(f"Wikinews {args.wikinews}: {w['articles']} articles, {w['speaker_spans']} gold speaker spans; "
              f"with a PER mention {100 * w['with_PER']:.1f}%; of the {w['capitalised_spans']} starting with a "
              f"capitalised non-pronoun {100 * w['capitalised_with_PER']:.1f}%; {w['PER_mentions']} PER mentions")
        print(f"  NER {w['ner_seconds']:.1f} s" + (
            f"; corpus pass {w['corpus_pass_seconds']:.2f} s ({100 * w['corpus_pass_seconds'] / w['ner_seconds']:.1f}%"
            f" of NER), {w['corpus_pass_added']} spans added" if args.corpus_pass else ""))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
