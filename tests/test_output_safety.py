"""The output folder policy: nothing outside a run's own files is ever deleted or
changed, whatever the flags; a failed --force run leaves the previous run as it was;
every failure outside a document is one line and a documented exit code."""

from __future__ import annotations

import errno
import hashlib
import os
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from pipeline import load
from pipeline.cli import app
from pipeline.errors import OutputLockedError, OutputPathError
from pipeline.outdir import RunFolder, check_out_dir

runner = CliRunner()


def _snapshot(root: Path) -> dict[str, str]:
    """Every file under root (relative path -> sha256), to prove nothing changed."""
    out = {}
    for p in sorted(root.rglob("*")):
        if p.is_file() and ".pipeline.lock" not in p.name:
            out[p.relative_to(root).as_posix()] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


@pytest.fixture()
def proj(tmp_path):
    """proj/in/ with two short articles, and an unrelated file of the user's in proj/."""
    proj = tmp_path / "proj"
    (proj / "in").mkdir(parents=True)
    (proj / "in" / "a.txt").write_text("Angela Merkel traf Emmanuel Macron in Paris.", encoding="utf-8")
    (proj / "in" / "b.txt").write_text("Der Kreml in Moskau schwieg.", encoding="utf-8")
    (proj / "notes.md").write_text("my notes", encoding="utf-8")
    return proj


def _run(*args: str):
    r = runner.invoke(app, ["run", *map(str, args)])
    assert r.exception is None or isinstance(r.exception, SystemExit), r.output
    return r


def _previous_run(proj: Path) -> Path:
    out = proj / "runs" / "one"
    r = _run(proj / "in", "--out", out)
    assert r.exit_code == 0, r.output
    return out


@pytest.mark.parametrize("out", ["PROJ", "IN", "EMPTY", "CWD", "ROOT"])
def test_force_never_targets_the_input_its_ancestors_or_the_current_folder(proj, monkeypatch, out):
    monkeypatch.chdir(proj / "in")
    target = {"PROJ": proj, "IN": proj / "in", "EMPTY": "", "CWD": ".", "ROOT": "/"}[out]
    before = _snapshot(proj)
    r = _run(proj / "in", "--out", target, "--force")
    assert r.exit_code == 2, r.output
    assert r.output.startswith("error: ") and "Traceback" not in r.output
    assert _snapshot(proj) == before


def test_force_refuses_a_folder_that_holds_no_run(proj):
    other = proj / "photos"
    other.mkdir()
    (other / "cat.jpg").write_bytes(b"\xff\xd8 not really a jpeg")
    before = _snapshot(proj)
    r = _run(proj / "in", "--out", other, "--force")
    assert r.exit_code == 2 and "holds no pipeline run" in r.output
    assert _snapshot(proj) == before


@pytest.mark.parametrize("bad", [
    ["--model", "not_installed_model_xyz"],
    ["--model", "spacy"],  # a package that is not a spaCy pipeline
    ["--set", "ner.blas_threads=false"],
    ["--set", "input.encoding=rot13"],
    ["--set", "ner.batch_size=100000000"],
    ["--entities", "MISSING"],
    ["--entities", "BROKEN"],
    ["--set", "link.aliases_file=BADALIAS"],
    ["--config", "FOLDER"],
    ["--config", "LATIN1"],
])
def test_a_failed_force_run_leaves_the_previous_run_unchanged(proj, bad):
    out = _previous_run(proj)
    (out / "my-annotations.txt").write_text("keep me", encoding="utf-8")
    broken = proj / "entities.parquet"
    broken.write_bytes(b"PAR1 truncated")
    bad_alias = proj / "aliases.csv"
    bad_alias.write_text("canonical_name,alias,label,action\nAngela Merkel,Merkel,PERSON,merge\n"
                         "X,,PER,merge\nA,B,ORG,join\n", encoding="utf-8")
    latin1 = proj / "c.toml"
    latin1.write_bytes("# Größe\n[ner]\nbatch_size = 8\n".encode("latin-1"))
    subs = {"MISSING": str(proj / "nope.parquet"), "BROKEN": str(broken), "FOLDER": str(proj / "in"),
            "LATIN1": str(latin1), "BADALIAS": str(bad_alias)}
    def sub(a: str) -> str:
        for k, v in subs.items():
            a = a.replace(k, v)
        return a

    args = [sub(a) for a in bad]
    before = _snapshot(proj)
    r = _run(proj / "in", "--out", out, "--force", *args)
    assert r.exit_code == 2, r.output
    assert r.output.startswith("error: ") and "Traceback" not in r.output
    assert _snapshot(proj) == before
    assert len(load(out).documents) == 2
    if "BADALIAS" in bad[-1]:
        # every bad row is listed, with its line number
        assert ":2:" in r.output and ":3:" in r.output and ":4:" in r.output


def test_a_run_that_fails_midway_leaves_the_previous_run_loadable(proj, monkeypatch):
    out = _previous_run(proj)
    before = _snapshot(out)
    import sys

    run_mod = sys.modules["pipeline.run"]  # `pipeline.run` itself is the API function

    def boom(*a, **k):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(run_mod, "link_run", boom)
    r = _run(proj / "in", "--out", out, "--force")
    assert r.exit_code == 3 and "No space left" in r.output, r.output
    after = {k: v for k, v in _snapshot(out).items() if not k.startswith(".work/")}
    assert after == before
    assert len(load(out).mentions) > 0


def test_force_replaces_only_the_files_a_run_writes(proj):
    out = _previous_run(proj)
    (out / "my-annotations.txt").write_text("keep me", encoding="utf-8")
    r = _run(proj / "in", "--out", out, "--force", "--format", "csv")
    assert r.exit_code == 0, r.output
    names = sorted(p.name for p in out.iterdir())
    assert "my-annotations.txt" in names
    assert not any(n.endswith(".parquet") for n in names)  # stale formats are removed
    assert (out / "my-annotations.txt").read_text(encoding="utf-8") == "keep me"
    assert not (out / ".work").exists()


def test_a_second_run_on_a_locked_folder_is_refused_with_the_holders_pid(proj):
    out = proj / "runs" / "locked"
    with RunFolder(out):
        r = _run(proj / "in", "--out", out)
        assert r.exit_code == 2 and f"pid {os.getpid()}" in r.output, r.output
        with pytest.raises(OutputLockedError):
            with RunFolder(out):
                pass
    assert _run(proj / "in", "--out", out, "--force").exit_code == 0


def test_output_paths_that_can_never_work(proj, tmp_path, monkeypatch):
    a_file = proj / "notes.md"
    r = _run(proj / "in", "--out", a_file)
    assert r.exit_code == 2 and "existing file" in r.output
    r = _run(proj / "in", "--out", "/proc/pipeline-run")
    assert r.exit_code == 2 and "system folder" in r.output
    r = _run(proj / "in", "--out", a_file / "sub")
    assert r.exit_code == 2 and "is a file" in r.output
    # a read-only parent: the environment refuses (root may write anywhere, so simulate it)
    real_mkdir = Path.mkdir

    def refuse(self, *a, **k):
        if "readonly" in str(self):
            raise PermissionError(errno.EACCES, "Permission denied", str(self))
        return real_mkdir(self, *a, **k)

    monkeypatch.setattr(Path, "mkdir", refuse)
    r = _run(proj / "in", "--out", tmp_path / "readonly" / "out")
    assert r.exit_code == 3 and "Permission denied" in r.output, r.output


def test_check_out_dir_writes_nothing(tmp_path):
    target = tmp_path / "new" / "deeper"
    assert check_out_dir(target) == target.resolve()
    assert not (tmp_path / "new").exists()
    with pytest.raises(OutputPathError):
        check_out_dir(tmp_path, tmp_path / "x" / "input.jsonl")  # an ancestor of the input


def _interrupted_run(corpus: Path, out: Path, after: int) -> None:
    """A run killed after ``after`` documents were read: its checkpoints stay in out/.work."""
    from pipeline.api import get_tagger
    from pipeline.config import load_config
    from pipeline.read import input_fingerprint, iter_documents
    from pipeline.run import run_to_dir

    cfg = load_config(overrides=["output.batch_docs=2"])

    def docs():
        for i, d in enumerate(iter_documents(corpus, cfg.input)):
            if i == after:
                raise KeyboardInterrupt
            yield d

    desc = {"kind": "path", "path": str(corpus), "fingerprint": input_fingerprint(corpus, cfg.input)}
    with pytest.raises(KeyboardInterrupt):
        run_to_dir(docs(), cfg, out, input_desc=desc, tagger=get_tagger(cfg))


@pytest.mark.parametrize("damage", ["batch", "state"])
def test_resume_redoes_a_damaged_checkpoint(proj, tmp_path, damage):
    corpus = proj / "in"
    for i in range(4):
        (corpus / f"c{i}.txt").write_text(f"Olaf Scholz sprach mit Joe Biden in Berlin ({i}).", encoding="utf-8")
    ref = tmp_path / "ref"
    assert _run(corpus, "--out", ref, "--set", "output.batch_docs=2").exit_code == 0
    out = tmp_path / "out"
    _interrupted_run(corpus, out, after=5)
    work = out / ".work"
    assert (work / "batch-000001.mentions.parquet").exists() and not (out / "manifest.json").exists()
    if damage == "batch":  # killed while the file was written by something that is not us
        (work / "batch-000001.mentions.parquet").write_bytes(b"PAR1\x00\x00truncated")
    else:
        (work / "state.json").write_text('{"config_hash": "x", "inp', encoding="utf-8")
    r = _run(corpus, "--out", out, "--set", "output.batch_docs=2", "--resume")
    assert r.exit_code == 0, r.output
    a, b = load(ref), load(out)
    for name in ("documents", "mentions", "entities"):
        pd.testing.assert_frame_equal(getattr(a, name), getattr(b, name))


def test_a_partial_config_keeps_the_default_alias_file(tmp_path):
    from pipeline.config import load_config

    f = tmp_path / "c.toml"
    f.write_text("[ner]\nbatch_size = 8\n", encoding="utf-8")
    cfg = load_config(f)
    assert cfg.resolve_path(cfg.link.aliases_file).is_file()
    g = tmp_path / "d.toml"
    (tmp_path / "mine.csv").write_text("canonical_name,alias\nA,B\n", encoding="utf-8")
    g.write_text('[link]\naliases_file = "mine.csv"\n', encoding="utf-8")
    assert load_config(g).resolve_path(load_config(g).link.aliases_file) == (tmp_path / "mine.csv").resolve()


@pytest.mark.parametrize("item,where", [
    ("ner.blas_threads=false", "ner.blas_threads"),
    ("ner.derivs=1", "ner.derivs"),
    ("input.encoding=base64", "input.encoding"),
    ("input.encoding=klingon", "input.encoding"),
    ("output.batch_docs=10000000", "output.batch_docs"),
])
def test_config_values_are_checked_by_type_and_meaning(item, where):
    from pipeline.config import load_config
    from pipeline.errors import ConfigError

    with pytest.raises(ConfigError) as err:
        load_config(overrides=[item, "ner.batch_size=0"])
    assert where in str(err.value) and "ner.batch_size" in str(err.value)  # all listed at once


def test_result_write_replaces_only_a_run_and_never_leaves_stale_tables(tmp_path):
    from pipeline import run

    res = run(["Angela Merkel besuchte Paris."])
    out = tmp_path / "r"
    res.write(out)
    res.write(out, formats=("csv",), force=True)
    assert not list(out.glob("*.parquet"))
    assert load(out).mentions["text"].tolist() == res.mentions["text"].tolist()
    foreign = tmp_path / "foreign"
    foreign.mkdir()
    (foreign / "x.txt").write_text("x", encoding="utf-8")
    with pytest.raises(OutputPathError):
        res.write(foreign, force=True)
    assert (foreign / "x.txt").read_text(encoding="utf-8") == "x"


def test_terminal_polish_aliases_flag_format_case_and_ctrl_c(proj, monkeypatch):
    import hashlib
    import json
    import sys

    aliases = proj / "mine.csv"
    aliases.write_text("canonical_name,alias,label,action\nAngela Merkel,Kanzlerin Merkel,PER,merge\n", encoding="utf-8")
    out = proj / "runs" / "a"
    r = _run(proj / "in", "--out", out, "--aliases", aliases, "--format", "CSV")
    assert r.exit_code == 0, r.output
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["aliases_sha256"] == hashlib.sha256(aliases.read_bytes()).hexdigest()
    assert manifest["config"]["output"]["formats"] == ["csv"]

    def interrupted(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(sys.modules["pipeline.run"], "run_to_dir", interrupted)
    monkeypatch.setattr(sys, "argv", ["pipeline", "run", str(proj / "in"), "--out", str(proj / "runs" / "b")])
    r = _run(proj / "in", "--out", proj / "runs" / "b")
    assert r.exit_code == 130 and "--resume" in r.output


def test_a_new_run_removes_the_previous_runs_report_pages_but_not_the_users_files(proj):
    out = _previous_run(proj)
    r = runner.invoke(app, ["report", str(out)])
    assert r.exit_code == 0, r.output
    report = out / "report"
    assert (report / "index.html").exists() and (report / "docs" / "0.html").exists()
    (report / "notes.txt").write_text("mine", encoding="utf-8")
    r = _run(proj / "in", "--out", out, "--force")
    assert r.exit_code == 0, r.output
    # the old pages described tables that are gone; the user's file stays
    assert not (report / "index.html").exists() and not (report / "docs").exists()
    assert (report / "notes.txt").read_text(encoding="utf-8") == "mine"
    assert load(out).manifest["counts"]["documents"] == 2
