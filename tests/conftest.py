"""Shared fixtures. Pipeline tests use the real bundled model, loaded once per session."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SEEDS = REPO / "seeds"
SHARED = REPO.parent / "shared"
GOLD = SHARED / "eval" / "seeds-gold" / "mentions.jsonl"


@pytest.fixture(scope="session")
def cfg():
    from pipeline.config import load_config

    return load_config()


@pytest.fixture(scope="session")
def tagger(cfg):
    from pipeline.api import get_tagger

    return get_tagger(cfg)


@pytest.fixture(scope="session")
def seeds_run(tmp_path_factory):
    """One real CLI-equivalent run over seeds/ written to disk (shared by several tests)."""
    from pipeline.api import get_tagger
    from pipeline.config import load_config
    from pipeline.read import input_fingerprint, iter_documents
    from pipeline.run import prepare_out_dir, run_to_dir

    cfg = load_config()
    out = tmp_path_factory.mktemp("seeds-run") / "out"
    prepare_out_dir(out, SEEDS, force=False, resume=False)
    manifest = run_to_dir(iter_documents(SEEDS, cfg.input), cfg, out,
                          input_desc={"kind": "path", "path": str(SEEDS),
                                      "fingerprint": input_fingerprint(SEEDS, cfg.input)},
                          tagger=get_tagger(cfg))
    return out, manifest
