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
