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
    """One real run over seeds/ written to disk by ``api.run_to_dir``, the function
    ``pipeline run`` calls (shared by several tests)."""
    from pipeline.api import run_to_dir

    out, manifest = run_to_dir(SEEDS, tmp_path_factory.mktemp("seeds-run") / "out")
    return out, manifest
