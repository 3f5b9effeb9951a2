"""A corpus of nasty inputs run end to end through the CLI: every document is
accounted for with the right status and message, and offsets slice the original."""

import pandas as pd
from typer.testing import CliRunner

from pipeline.cli import app

runner = CliRunner()


def _make(tmp_path):
    c = tmp_path / "corpus"
    (c / "sub").mkdir(parents=True)
    (c / "utf8.txt").write_text("Angela Merkel besuchte Paris.", encoding="utf-8")
    (c / "bom.txt").write_bytes("\ufeffOlaf Scholz reiste nach Rom.".encode("utf-8"))
    (c / "cp1252.txt").write_bytes("Präsident Müller traf Angela Merkel in München.".encode("cp1252"))
    (c / "mojibake.txt").write_text("Der PrÃ¤sident Olaf Scholz lÃ¤sst grÃ¼ÃŸen aus MÃ¼nchen.", encoding="utf-8")
    (c / "html.txt").write_text("<p>Gewinne &amp; Verluste:</p><p>Angela Merkel und Olaf Scholz trafen sich "
                                "am Montag in Berlin.</p>", encoding="utf-8")
    (c / "empty.txt").write_bytes(b"")
    (c / "blank.txt").write_text("  \n\t\n", encoding="utf-8")
    (c / "binary.txt").write_bytes(bytes(range(256)) * 40)
    long_text = ("Angela Merkel besuchte Paris. " * 40 + "\n\n") * 300  # 360 KB: 8 chunks of <= 50,000
    (c / "sub" / "long.txt").write_text(long_text, encoding="utf-8")
    return c


def test_nasty_corpus_end_to_end(tmp_path):
    corpus = _make(tmp_path)
    out = tmp_path / "out"
    r = runner.invoke(app, ["run", str(corpus), "--out", str(out), "--format", "parquet"])
    assert r.exit_code == 1, r.output  # one document failed
    assert "failed 1" in r.stdout and "binary.txt" in r.stdout
    docs = pd.read_parquet(out / "documents.parquet").set_index("doc_id")
    assert sorted(docs.index) == sorted(["utf8.txt", "bom.txt", "cp1252.txt", "mojibake.txt", "html.txt",
                                         "empty.txt", "blank.txt", "binary.txt", "sub/long.txt"])
    status = docs["status"].to_dict()
    assert status["binary.txt"] == "error" and "control bytes" in docs.at["binary.txt", "error"]
    assert status["empty.txt"] == status["blank.txt"] == "empty"
    assert all(status[d] == "ok" for d in ["utf8.txt", "bom.txt", "cp1252.txt", "mojibake.txt", "html.txt", "sub/long.txt"])
    assert docs.at["bom.txt", "encoding"] == "utf-8-sig" and docs.at["bom.txt", "text"].startswith("Olaf")
    assert docs.at["cp1252.txt", "encoding"] == "cp1252" and "Müller" in docs.at["cp1252.txt", "text"]
    assert docs.at["mojibake.txt", "notes"] == "mojibake repaired"
    assert docs.at["html.txt", "notes"] == "html stripped"

    m = pd.read_parquet(out / "mentions.parquet")
    for row in m.itertuples():
        assert docs.at[row.doc_id, "text"][row.start_char:row.end_char] == row.text

    def found(doc):
        return set(m.loc[m["doc_id"] == doc, "text"])

    assert {"Angela Merkel", "München"} <= found("cp1252.txt")
    assert "MÃ¼nchen" in found("mojibake.txt")  # repaired for the model, original offsets kept
    assert {"Angela Merkel", "Olaf Scholz", "Berlin"} <= found("html.txt")  # tags stripped for the model
    long_merkel = m[(m["doc_id"] == "sub/long.txt") & (m["text"] == "Angela Merkel")]
    assert len(long_merkel) == 40 * 300  # chunked, nothing lost at chunk borders
    assert docs.at["sub/long.txt", "n_sentences"] == 40 * 300  # sentences counted across chunks


SECRET = "GEHEIM-Zugangsdaten-4711"


def _all_output_bytes(out):
    return b"".join(p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file())


def test_hostile_folder_end_to_end(tmp_path):
    """Links out of the folder, broken links, a FIFO, a linked folder, a name that is not
    UTF-8 and a hidden folder: every one is a row (or a warning), none leaks or hangs."""
    import os

    (tmp_path / "secret.txt").write_text(SECRET, encoding="utf-8")
    (tmp_path / "secret_dir").mkdir()
    (tmp_path / "secret_dir" / "s.txt").write_text(SECRET, encoding="utf-8")
    c = tmp_path / "corpus"
    (c / ".git").mkdir(parents=True)
    (c / ".git" / "h.txt").write_text(SECRET, encoding="utf-8")
    (c / "ok.txt").write_text("Angela Merkel besuchte Paris.", encoding="utf-8")
    (c / "leak.txt").symlink_to(tmp_path / "secret.txt")
    (c / "inner.txt").symlink_to("ok.txt")
    (c / "dangling.txt").symlink_to(tmp_path / "gone.txt")
    (c / "linked").symlink_to(tmp_path / "secret_dir", target_is_directory=True)
    os.mkfifo(c / "pipe.txt")
    with open(os.path.join(os.fsencode(c), b"M\xfcnchen.txt"), "wb") as fh:
        fh.write("Olaf Scholz reiste nach München.".encode())
    out = tmp_path / "out"
    r = runner.invoke(app, ["run", str(c), "--out", str(out), "--format", "csv,parquet"])
    assert r.exit_code == 1, r.output  # some documents failed, no traceback
    assert "Traceback" not in r.output
    docs = pd.read_parquet(out / "documents.parquet").set_index("doc_id")
    assert sorted(docs.index) == ["M\\xfcnchen.txt", "dangling.txt", "inner.txt", "leak.txt", "linked/", "ok.txt",
                                  "pipe.txt"]
    status = docs["status"].to_dict()
    assert status == {"M\\xfcnchen.txt": "ok", "dangling.txt": "error", "inner.txt": "ok", "leak.txt": "error",
                      "linked/": "error", "ok.txt": "ok", "pipe.txt": "error"}
    assert "outside the input folder" in docs.at["leak.txt", "error"]
    assert "named pipe" in docs.at["pipe.txt", "error"]
    assert SECRET.encode() not in _all_output_bytes(out)
    m = pd.read_parquet(out / "mentions.parquet")
    assert "Olaf Scholz" in set(m.loc[m["doc_id"] == "M\\xfcnchen.txt", "text"])
    docs_csv = pd.read_csv(out / "documents.csv", keep_default_na=False)
    assert "M\\xfcnchen.txt" in set(docs_csv["doc_id"])


def test_csv_with_an_unbalanced_quote_end_to_end(tmp_path):
    fp = tmp_path / "t.csv"
    fp.write_text('id,text\n1,Angela Merkel besuchte Paris.\n2,"Kaputt: Olaf Scholz sagt\n'
                  '3,Emmanuel Macron traf Olaf Scholz in Berlin.\n4,"Joe Biden, ""der Präsident"""\n',
                  encoding="utf-8")
    out = tmp_path / "out"
    r = runner.invoke(app, ["run", str(fp), "--out", str(out), "--format", "parquet"])
    assert r.exit_code == 1, r.output
    docs = pd.read_parquet(out / "documents.parquet").set_index("doc_id")
    assert docs["status"].to_dict() == {"1": "ok", "t.csv:line 3": "error", "3": "ok", "4": "ok"}
    assert docs.at["t.csv:line 3", "error"].startswith("malformed CSV at line 3")
    m = pd.read_parquet(out / "mentions.parquet")
    assert {"Emmanuel Macron", "Berlin"} <= set(m.loc[m["doc_id"] == "3", "text"])

    r = runner.invoke(app, ["run", str(fp), "--out", str(tmp_path / "strict"), "--format", "parquet", "--strict"])
    assert r.exit_code == 2, r.output
    assert "malformed CSV at line 3" in r.output and "Traceback" not in r.output
    assert not (tmp_path / "strict" / "documents.parquet").exists()


# --------------------------------------------------------------------------- issue 17: bounded work per document
# (block added for bounded work; other blocks of this file belong to other parts of issue 17)


def test_inputs_that_used_to_explode_end_to_end(tmp_path):
    """Runs without spaces, unclosed markup in bulk and dense symbols: each is an ordinary
    document now (the timings and memory are in benchmarks/bench_nasty.py), and names
    next to them are still found at the right offsets."""
    c = tmp_path / "corpus"
    c.mkdir()
    inputs = {
        "equals.txt": "=" * 12_000,
        "emoji.txt": "\U0001f600" * 12_000,
        "comments.txt": "<!--" * 8_000,
        "scripts.txt": "<script>" * 8_000,
        "abc.txt": "a < b > c " * 5_000,
        "marks.txt": "a" + "\u0301\u0316" * 3_000,
        "glued.txt": "Angela Merkel besuchte Paris. " + "=" * 5_000 + " Olaf Scholz traf Emmanuel Macron in Berlin. "
                     + "<!--" * 2_000 + "\n\nWladimir Putin sprach in Moskau.",
    }
    for name, text in inputs.items():
        (c / name).write_text(text, encoding="utf-8")
    out = tmp_path / "out"
    r = runner.invoke(app, ["run", str(c), "--out", str(out), "--format", "parquet"])
    assert r.exit_code == 0, r.output
    docs = pd.read_parquet(out / "documents.parquet").set_index("doc_id")
    assert (docs["status"] == "ok").all(), docs[["status", "error"]]
    m = pd.read_parquet(out / "mentions.parquet")
    for row in m.itertuples():
        assert docs.at[row.doc_id, "text"][row.start_char:row.end_char] == row.text
    glued = set(m.loc[m["doc_id"] == "glued.txt", "text"])
    assert {"Angela Merkel", "Paris", "Emmanuel Macron", "Berlin", "Wladimir Putin", "Moskau"} <= glued
