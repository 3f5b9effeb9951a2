"""Fixtures of the linker tests (helpers live in link_helpers.py)."""

from __future__ import annotations

import pytest
from .link_helpers import make_cfg

from pipeline.config import LinkConfig


@pytest.fixture
def link_cfg() -> LinkConfig:
    return make_cfg()
