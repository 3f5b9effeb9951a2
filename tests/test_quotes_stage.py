"""The quotes stage inside a run: the quotes table, its speakers linked to entities, the
switch that turns it off, and `pipeline evaluate --quotes-gold`."""

from __future__ import annotations

import json

from typer.testing import CliRunner

from pipeline import load, run
from pipeline.cli import app

TEXT = ("Bundeskanzlerin Angela Merkel traf am Montag Emmanuel Macron in Paris. "
        "„Wir stehen an der Seite der Ukraine“, sagte Merkel nach dem Treffen. "
        "Macron erklärte, Europa müsse mehr für seine Verteidigung tun.")


def test_quotes_are_found_and_their_speakers_linked():
    res = run({"a1": TEXT})
    q = res.quotes
    assert len(q) >= 1 and res.manifest["counts"]["quotes"] == len(q)
    direct = q[q["type"] == "direct"].iloc[0]
    assert TEXT[direct["start_char"]:direct["end_char"]].strip("„“\"»«").startswith("Wir stehen")
    assert TEXT[direct["speaker_start"]:direct["speaker_end"]] == "Merkel"
    merkel = res.mentions.loc[res.mentions["text"] == "Angela Merkel", "entity_id"].iloc[0]
    assert direct["speaker_entity_id"] == merkel
    off = run({"a1": TEXT}, config={"quotes": {"enabled": False}})
    assert off.quotes.empty and len(off.mentions) == len(res.mentions)


def test_evaluate_quotes_gold(tmp_path):
    inp = tmp_path / "in.jsonl"
    inp.write_text(json.dumps({"id": "a1", "text": TEXT}, ensure_ascii=False) + "\n", encoding="utf-8")
    out = tmp_path / "run"
    r = CliRunner().invoke(app, ["run", str(inp), "--out", str(out)])
    assert r.exit_code == 0, r.output
    s = TEXT.index("Wir stehen")
    e = TEXT.index("Ukraine") + len("Ukraine")
    sp = TEXT.index("Merkel nach")
    gold = tmp_path / "gold.jsonl"
    gold.write_text(json.dumps({"id": "a1", "type": "Direct", "speaker": [[sp, sp + 6]], "cue": None,
                                "quote": [[s, e]], "addressee": None}) + "\n", encoding="utf-8")
    r = CliRunner().invoke(app, ["evaluate", str(out), "--quotes-gold", str(gold)])
    assert r.exit_code == 0, r.output
    report = json.loads((out / "evaluation.json").read_text(encoding="utf-8"))["quotes"]
    assert report["overall"]["recall"] == 1.0
    assert len(load(out).quotes) >= 1
