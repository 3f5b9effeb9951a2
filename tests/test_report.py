"""The HTML report (pipeline/report.py): escaping, highlights, the entity list, bounded
page sizes, and a real headless Chromium rendering the pages."""

from __future__ import annotations

import html
import os
import re
import shutil
import struct
import subprocess
import zlib
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pipeline import Result, run
from pipeline.report import LABEL_COLOURS, highlight, write_report

SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"
TEXTS = {
    "kanzler": f"Bundeskanzler Olaf Scholz (SPD) traf in Berlin Wladimir Putin. {SCRIPT} "
               "Putin sagte, Russland und Deutschland seien Partner. Die Europäische Union widersprach.",
    "wien": f"Angela Merkel besuchte Wien. {IMG} Merkel sprach dort mit Scholz über die Europäische Union.",
    "quotes": 'Der Präsident der Vereinigten Staaten, Joe Biden, sagte in Washington: "Wir & ihr" <b>fett</b>.',
    "leer": "",
}
DATES = {"kanzler": "2023-09-01", "wien": "2023-10-12", "quotes": "2023-10", "leer": None}


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    res = run(TEXTS)
    res.documents["date"] = res.documents["doc_id"].map(DATES)
    run_dir = tmp_path_factory.mktemp("report") / "run"
    res.write(run_dir)
    index = write_report(run_dir)
    return run_dir, index, res


class _Page(HTMLParser):
    """The text inside ``div.text`` (unescaped) and its ``<mark>`` elements."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.depth = 0  # inside div.text when > 0
        self.text: list[str] = []
        self.marks: list[dict] = []
        self.tags: list[str] = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append(tag)
        if tag == "div" and a.get("class") == "text":
            self.depth = 1
        elif self.depth and tag == "div":
            self.depth += 1
        elif self.depth and tag == "mark":
            self.marks.append({**a, "start": len("".join(self.text)), "inner": ""})

    def handle_endtag(self, tag):
        if self.depth and tag == "div":
            self.depth -= 1
        elif self.depth and tag == "mark":
            self.marks[-1]["end"] = len("".join(self.text))

    def handle_data(self, data):
        if self.depth:
            self.text.append(data)


def _parse(path: Path) -> _Page:
    p = _Page()
    p.feed(path.read_text(encoding="utf-8"))
    p.close()
    return p


def _doc_page(run_dir: Path, res: Result, doc_id: str) -> Path:
    n = list(res.documents["doc_id"]).index(doc_id)
    return run_dir / "report" / "docs" / f"{n}.html"


def test_report_files(report):
    run_dir, index, res = report
    assert index == run_dir / "report" / "index.html" and index.is_file()
    assert (run_dir / "report" / "documents.html").is_file()
    pages = sorted(p.name for p in (run_dir / "report" / "docs").iterdir())
    assert pages == sorted(f"{n}.html" for n in range(len(TEXTS)))


def test_document_text_is_escaped(report):
    run_dir, _, res = report
    for page in (run_dir / "report").rglob("*.html"):
        raw = page.read_text(encoding="utf-8").lower()
        assert "<script>alert" not in raw and "<img src=x" not in raw and "<b>fett" not in raw, page
        # the only script is the index's own filter
        assert raw.count("<script") == (1 if page.name == "index.html" else 0), page
        assert "https://" not in raw and "http://" not in raw.replace("http://www.w3.org/2000/svg", ""), page
    kanzler = _doc_page(run_dir, res, "kanzler").read_text(encoding="utf-8")
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in kanzler
    wien = _doc_page(run_dir, res, "wien").read_text(encoding="utf-8")
    assert "&lt;img src=x onerror=alert(1)&gt;" in wien


def test_document_pages_highlight_every_mention(report):
    """The page's text is the document's text exactly, and each mention is a <mark> over
    its own offsets with its label's colour, entity id and canonical name."""
    run_dir, _, res = report
    names = dict(zip(res.entities["entity_id"], res.entities["canonical_name"]))
    for doc in res.documents.itertuples(index=False):
        page = _parse(_doc_page(run_dir, res, doc.doc_id))
        assert "".join(page.text) == doc.text
        m = res.mentions[res.mentions["doc_id"] == doc.doc_id].sort_values("start_char")
        assert len(page.marks) == len(m)  # none of these overlap
        for mark, men in zip(page.marks, m.itertuples(index=False)):
            assert (mark["start"], mark["end"]) == (men.start_char, men.end_char)
            assert mark["data-label"] == men.label
            assert mark["style"] == f"background:{LABEL_COLOURS[men.label]}"
            assert men.entity_id in mark["title"] and names[men.entity_id] in mark["title"]
    labels = set(res.mentions[res.mentions["doc_id"] == "kanzler"]["label"])
    assert {"PER", "LOC", "ORG"} <= labels  # the browser test below looks for these colours


def test_overlapping_mentions_do_not_break_the_text():
    text = "Die Deutsche Bank AG in <Frankfurt>"
    spans = [(4, 17, "ORG", "a"), (4, 12, "MISC", "nested"), (13, 20, "ORG", "crossing"),
             (24, 35, "LOC", "c"), (30, 99, "LOC", "outside"), (5, 5, "PER", "empty")]
    out, skipped = highlight(text, spans)
    p = _Page()
    p.feed(f'<div class="text">{out}</div>')
    assert "".join(p.text) == text
    assert [(m["start"], m["end"], m["title"]) for m in p.marks] == [(4, 17, "a"), (24, 35, "c")]
    assert skipped == 4


def test_index_lists_entities_and_links(report):
    run_dir, index, res = report
    page = index.read_text(encoding="utf-8")
    rows = re.findall(r'<tr id="e\d+" data-label="(\w+)">(.*?)</tr>', page, flags=re.S)
    assert len(rows) == len(res.entities)
    listed = "".join(r for _, r in rows)
    for e in res.entities.itertuples(index=False):
        assert html.escape(e.entity_id) in listed and html.escape(e.canonical_name) in listed
    # most mentions first
    counts = [int(re.search(r'<td class="num">(\d+)</td>', r).group(1)) for _, r in rows]
    assert counts == sorted(counts, reverse=True)
    merged = res.links[res.links["decision"] == "merged"]
    assert len(merged)  # Scholz -> Olaf Scholz at least
    for lk in merged.itertuples(index=False):
        row = next(r for _, r in rows if f">{html.escape(lk.entity_a)}<" in r)
        assert f"{html.escape(lk.name_a)} ⟷ {html.escape(lk.name_b)}" in row and lk.rule in row
    assert f"<b>{len(res.documents)}</b>documents" in page and f"<b>{len(res.mentions)}</b>mentions" in page
    assert "Mentions over time" in page and "Mentions per month" in page
    assert "Co-occurrence network" in page and page.count("<circle") >= 5
    for lab in ("PER", "LOC", "ORG"):
        assert f"Top {lab} entities" in page
    # each speaker's row lists what the entity was quoted saying
    spoken = res.quotes.dropna(subset=["speaker_entity_id"])
    assert len(spoken)  # "Putin sagte, Russland und Deutschland seien Partner."
    for q in spoken.itertuples(index=False):
        row = next(r for _, r in rows if f">{html.escape(q.speaker_entity_id)}<" in r)
        assert html.escape(" ".join(q.text.split())[:60]) in row


def test_no_dates_no_timeline(report, tmp_path):
    _, _, res = report
    plain = Result(**{**res.tables(), "documents": res.documents.assign(date=None)}, manifest=res.manifest)
    page = write_report(tmp_path, plain).read_text(encoding="utf-8")
    assert "Mentions over time" not in page and "Top PER entities" in page


def _scaled(res: Result, copies: int, extra_entities: int) -> Result:
    """``res`` with every document ``copies`` times and ``extra_entities`` more entities."""
    docs = pd.concat([res.documents.assign(doc_id=res.documents["doc_id"] + f"-{k}") for k in range(copies)],
                     ignore_index=True)
    ments = pd.concat([res.mentions.assign(doc_id=res.mentions["doc_id"] + f"-{k}") for k in range(copies)],
                      ignore_index=True)
    ents = res.entities.copy()
    ents["n_mentions"] *= copies
    ents["n_docs"] *= copies
    more = pd.DataFrame({"entity_id": [f"MISC:dummy-{i}" for i in range(extra_entities)], "label": "MISC",
                         "canonical_name": [f"Dummy <{i}>" for i in range(extra_entities)],
                         "aliases": [[f"Dummy {i}"] for i in range(extra_entities)],
                         "n_mentions": 1, "n_docs": 1})
    for col in ("qc_flags", "roles", "affiliations"):
        more[col] = [[] for _ in range(extra_entities)]
    from pipeline import schemas

    ents = schemas.conform(pd.concat([ents, more], ignore_index=True), "entities")
    return Result(documents=docs, mentions=ments, entities=ents, cooccurrences=res.cooccurrences,
                  links=res.links, quotes=res.quotes, manifest=res.manifest)


def test_page_sizes_stay_bounded(report, tmp_path):
    """Many documents and entities: the index holds no document text and at most
    max_entities rows (and says so); a document page grows with its own text only."""
    _, _, res = report
    big_text = ("Olaf Scholz traf Wladimir Putin in Berlin. " + SCRIPT + " ") * 2000
    big = res.documents.iloc[[0]].assign(doc_id="big", text=big_text, n_chars=len(big_text))
    m0 = res.mentions[res.mentions["doc_id"] == "kanzler"].head(3)
    step = len(big_text) // 2000
    big_m = pd.concat([m0.assign(doc_id="big", start_char=m0["start_char"] + i * step,
                                 end_char=m0["end_char"] + i * step,
                                 mention_id=[f"big#{i}-{j}" for j in range(len(m0))]) for i in range(0, 2000, 10)],
                      ignore_index=True)
    small = _scaled(res, copies=500, extra_entities=3000)
    scaled = Result(**{**small.tables(), "documents": pd.concat([small.documents, big], ignore_index=True),
                       "mentions": pd.concat([small.mentions, big_m], ignore_index=True)}, manifest=res.manifest)
    index = write_report(tmp_path, scaled, max_entities=1000)
    page = index.read_text(encoding="utf-8")
    assert len(re.findall(r'<tr id="e\d+"', page)) == 1000
    assert f"the 1,000 entities with the most mentions, of {len(scaled.entities):,}" in page
    assert "seien Partner" not in page and "besuchte" not in page  # no document text
    assert index.stat().st_size < 1_500_000
    assert (tmp_path / "report" / "documents.html").stat().st_size < 400 * len(scaled.documents) + 20_000
    n_by_doc = scaled.mentions.groupby("doc_id").size()
    for n, doc in enumerate(scaled.documents.itertuples(index=False)):
        size = (tmp_path / "report" / "docs" / f"{n}.html").stat().st_size
        assert size < 20_000 + 6 * len(doc.text) + 400 * int(n_by_doc.get(doc.doc_id, 0)), doc.doc_id
    big_page = _parse(tmp_path / "report" / "docs" / f"{len(scaled.documents) - 1}.html")
    assert "".join(big_page.text) == big_text and len(big_page.marks) == len(big_m)


def test_rewriting_removes_stale_document_pages(report, tmp_path):
    _, _, res = report
    write_report(tmp_path, _scaled(res, copies=3, extra_entities=0))
    (tmp_path / "report" / "notes.txt").write_text("mine")
    write_report(tmp_path, res)
    assert len(list((tmp_path / "report" / "docs").iterdir())) == len(res.documents)
    assert (tmp_path / "report" / "notes.txt").read_text() == "mine"


# ------------------------------------------------------------------ a real browser

def _chromium() -> str:
    exe = shutil.which("chromium")
    if exe is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed; CI installs it (apt-get install -y chromium)")
        pytest.skip("chromium is not installed (apt-get install -y chromium)")
    return exe


def _browse(url: str, tmp_path: Path, *args: str) -> subprocess.CompletedProcess:
    exe = _chromium()
    profile = tmp_path / f"profile-{len(list(tmp_path.iterdir()))}"
    return subprocess.run([exe, "--headless", "--no-sandbox", "--disable-gpu", "--enable-logging=stderr",
                           "--v=0", f"--user-data-dir={profile}", "--window-size=1200,800", *args, url],
                          capture_output=True, text=True, timeout=120)


def _console(stderr: str) -> list[str]:
    """The page's console messages (uncaught errors, CSP refusals, console.*) in Chromium's log."""
    return [ln for ln in stderr.splitlines() if ":CONSOLE" in ln or "Uncaught" in ln]


def _read_png(path: Path) -> np.ndarray:
    """An 8-bit, non-interlaced RGB or RGBA PNG (what Chromium writes) as an (h, w, c) array."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    pos, idat, header = 8, [], None
    while pos < len(data):
        (length,), ctype = struct.unpack(">I", data[pos:pos + 4]), data[pos + 4:pos + 8]
        chunk = data[pos + 8:pos + 8 + length]
        if ctype == b"IHDR":
            header = struct.unpack(">IIBBBBB", chunk)
        elif ctype == b"IDAT":
            idat.append(chunk)
        pos += 12 + length
    w, h, depth, colour, _, _, interlace = header
    assert depth == 8 and colour in (2, 6) and interlace == 0, header
    bpp = 3 if colour == 2 else 4
    raw = np.frombuffer(zlib.decompress(b"".join(idat)), dtype=np.uint8).reshape(h, 1 + w * bpp)
    out = np.zeros((h, w * bpp), dtype=np.uint8)
    prev = np.zeros(w * bpp, dtype=np.int32)
    for y in range(h):
        f, line = raw[y, 0], raw[y, 1:].astype(np.int32)
        if f == 0:
            cur = line
        elif f == 2:
            cur = (line + prev) % 256
        elif f == 1:  # Sub: a running sum per channel
            cur = np.cumsum(line.reshape(w, bpp), axis=0).reshape(-1) % 256
        else:  # Average and Paeth depend on the reconstructed left byte: one pass
            ln, pv = line.tolist(), prev.tolist()
            res = [0] * len(ln)
            for i in range(len(ln)):
                a = res[i - bpp] if i >= bpp else 0
                b = pv[i]
                if f == 3:
                    res[i] = (ln[i] + (a + b) // 2) & 255
                else:
                    c = pv[i - bpp] if i >= bpp else 0
                    p = a + b - c
                    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                    res[i] = (ln[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
            cur = np.array(res, dtype=np.int32)
        out[y] = cur
        prev = cur
    return out.reshape(h, w, bpp)[:, :, :3]


def _pixels(img: np.ndarray, hex_colour: str, tol: int = 2) -> tuple[int, int]:
    """How many pixels have the colour, and the longest horizontal run of them: a
    highlighted name is wider than the small label badges of the same colour."""
    rgb = np.array([int(hex_colour[i:i + 2], 16) for i in (1, 3, 5)])
    hit = (np.abs(img.astype(int) - rgb).max(axis=2) <= tol).astype(np.int8)
    edges = np.diff(np.pad(hit, ((0, 0), (1, 1))), axis=1)
    _, starts = np.nonzero(edges == 1)
    _, ends = np.nonzero(edges == -1)  # same row-major order as the starts
    return int(hit.sum()), int((ends - starts).max()) if len(starts) else 0


def test_console_check_catches_errors(tmp_path):
    """The console check used below can fail: a page with an error is caught."""
    bad = tmp_path / "bad.html"
    bad.write_text("<!DOCTYPE html><p>x</p><script>undefined_function()</script>")
    proc = _browse(bad.as_uri(), tmp_path, "--dump-dom")
    assert any("undefined_function" in ln for ln in _console(proc.stderr)), proc.stderr[-2000:]


def test_chromium_renders_highlights_without_errors(report, tmp_path):
    run_dir, _, res = report
    page = _doc_page(run_dir, res, "kanzler")
    shot = tmp_path / "kanzler.png"
    proc = _browse(page.as_uri(), tmp_path, f"--screenshot={shot}")
    assert proc.returncode == 0 and shot.is_file(), proc.stderr[-2000:]
    assert _console(proc.stderr) == []
    img = _read_png(shot)
    assert img.shape[:2] == (800, 1200)
    for label in ("PER", "LOC", "ORG"):  # Wladimir Putin, Deutschland, Europäische Union
        n, run = _pixels(img, LABEL_COLOURS[label])
        assert n > 1000 and run >= 70, (label, n, run)
    assert _pixels(img, LABEL_COLOURS["MISC"]) == (0, 0)  # no MISC mention in this document
    # the live DOM after scripts ran: the injected markup is text, never an element
    for doc_id, needle in (("kanzler", "&lt;script&gt;alert(1)&lt;/script&gt;"),
                           ("wien", "&lt;img src=x onerror=alert(1)&gt;")):
        proc = _browse(_doc_page(run_dir, res, doc_id).as_uri(), tmp_path, "--dump-dom")
        assert proc.returncode == 0 and _console(proc.stderr) == [], proc.stderr[-2000:]
        assert needle in proc.stdout
        assert "<img" not in proc.stdout and "<script" not in proc.stdout


def test_chromium_runs_the_entity_filter(report, tmp_path):
    """index.html#q=NAME opens the list filtered by the inline script, without errors."""
    run_dir, index, res = report
    proc = _browse(index.as_uri() + "#q=merkel", tmp_path, "--dump-dom")
    assert proc.returncode == 0 and _console(proc.stderr) == [], proc.stderr[-2000:]
    rows = re.findall(r'<tr id="e\d+" data-label="\w+"( style="display: none;")?>(.*?)</tr>', proc.stdout, re.S)
    visible = [r for hidden, r in rows if not hidden]
    assert len(rows) == len(res.entities) and len(visible) == 1 and "Angela Merkel" in visible[0]
    assert '<span id="shown">1</span>' in proc.stdout
