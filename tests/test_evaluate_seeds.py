"""Quality on the gold seed articles (the README quotes these figures)."""

import pytest

from pipeline.evaluate import evaluate_run

from .conftest import GOLD


@pytest.mark.skipif(not GOLD.exists(), reason="../shared/eval/seeds-gold is not beside the checkout")
def test_seed_quality_bars(seeds_run):
    out, _ = seeds_run
    report = evaluate_run(out, GOLD)
    names = report["name"]
    assert names["ner"]["strict"]["micro"]["f1"] >= 0.93
    # the sources of attribution lines ("Quelle: Sputnik", "(Laut RT, Sputnik)") are found
    assert names["ner"]["strict"]["ORG"]["recall"] >= 0.9
    assert names["linking"]["bcubed"]["f1"] >= 0.95
    assert not [e for e in names["linking"]["mixed_entities"] if e.get("mixes_per")]
