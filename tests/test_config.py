"""Configuration: defaults, merges, --set overrides, validation, hash."""

import pytest

from pipeline.config import configs_dir, load_config, parse_overrides
from pipeline.errors import ConfigError


def test_defaults_come_from_default_toml():
    cfg = load_config()
    assert (configs_dir() / "default.toml").exists()
    assert cfg.ner.model == "bundled"
    assert cfg.output.formats == ["csv", "parquet"]


def test_file_merge_and_set_overrides(tmp_path):
    f = tmp_path / "c.toml"
    f.write_text('[ner]\nbatch_size = 7\n[output]\nformats = ["parquet"]\n', encoding="utf-8")
    cfg = load_config(f, ["ner.batch_size=9", "link.fuzzy_threshold=80"])
    assert cfg.ner.batch_size == 9  # --set wins over the file
    assert cfg.output.formats == ["parquet"]
    assert cfg.link.fuzzy_threshold == 80
    assert cfg.base_dir == str(configs_dir())  # relative paths of the file are made absolute


def test_every_problem_is_reported_at_once(tmp_path):
    with pytest.raises(ConfigError) as err:
        load_config(overrides=["ner.batch_size=0", "ner.nope=1", "nosection.x=1"])
    msg = str(err.value)
    assert "nope" in msg and "nosection" in msg
    with pytest.raises(ConfigError) as err:
        load_config(overrides=["ner.batch_size=0", "input.html=maybe"])
    assert "ner.batch_size" in str(err.value) and "input.html" in str(err.value)


def test_malformed_set_and_missing_file():
    with pytest.raises(ConfigError, match="section.key=value"):
        parse_overrides(["batch_size"])
    with pytest.raises(ConfigError, match="not found"):
        load_config("/nonexistent/x.toml")


def test_hash_is_stable_and_changes_with_settings():
    a, b = load_config(), load_config()
    assert a.hash() == b.hash()
    assert load_config(overrides=["ner.batch_size=3"]).hash() != a.hash()
    assert load_config(overrides=["output.formats=csv"]).output.formats == ["csv"]


def test_zero_workers_means_one_per_available_core(monkeypatch):
    import os

    from pipeline.config import load_config

    monkeypatch.setattr(os, "sched_getaffinity", lambda pid: {0, 1, 2}, raising=False)
    assert load_config(overrides=["run.workers=0"]).run.workers == 3
    assert load_config(overrides=["run.workers=2"]).run.workers == 2
    with pytest.raises(ConfigError):
        load_config(overrides=["run.workers=-1"])


def test_workers_default_to_auto_and_take_a_number_or_auto():
    from pipeline.config import load_config

    assert load_config().run.workers == "auto"
    assert load_config(overrides=["run.workers=auto"]).run.workers == "auto"
    assert load_config(overrides=["run.workers=4"]).run.workers == 4
    with pytest.raises(ConfigError):
        load_config(overrides=["run.workers=many"])
