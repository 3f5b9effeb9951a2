"""Reading inputs: decoding, binary and empty files, tables, ids, strict mode, date lines."""

from __future__ import annotations

import json
import os
import random

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipeline.config import load_config
from pipeline.errors import ConfigError, InputError, PipelineError
from pipeline.read import RawDoc, check_input, documents_from_texts, input_fingerprint, iter_documents

CP1252_TEXT = "Präsident Müller sagte: „Das Maß ist voll“"
MOJIBAKE = "Der PrÃ¤sident lÃ¤sst grÃ¼ÃŸen"
HTML = "<p>Angela Merkel &amp; Olaf Scholz</p>"


def _cfg(**over):
    return load_config(overrides={"input": over} if over else None).input


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    root = tmp_path_factory.mktemp("corpus")
    (root / "a_utf8.txt").write_bytes("Olaf Scholz traf Emmanuel Macron in Paris.".encode())
    (root / "b_bom.txt").write_bytes(b"\xef\xbb\xbf" + "Die Grünen in Köln.".encode())
    (root / "c_cp1252.txt").write_bytes(CP1252_TEXT.encode("cp1252"))
    (root / "d_latin1.txt").write_bytes("Die Straße in Köln ist größer als üblich, sagte Jürgen.".encode("latin-1"))
    (root / "e_mojibake.txt").write_text(MOJIBAKE, encoding="utf-8")
    (root / "f_html.txt").write_text(HTML, encoding="utf-8")
    (root / "g_empty.txt").write_bytes(b"")
    (root / "h_blank.txt").write_bytes(b"  \n\t\r\n  \n")
    rng = random.Random(7)
    (root / "i_binary.txt").write_bytes(bytes(rng.randrange(256) for _ in range(4000)) + b"\x00\x00")
    (root / "j_date.txt").write_text(" date 2023-09 Putin nimmt Kim Jong-uns Einladung an\n\nText.", encoding="utf-8")
    nested = root / "sub" / "deeper"
    nested.mkdir(parents=True)
    (nested / "k_nested.txt").write_text("Wladimir Putin in Wostotschny.", encoding="utf-8")
    (root / "sub" / "ignored.md").write_text("not matched by *.txt", encoding="utf-8")
    hidden = root / ".cache"
    hidden.mkdir()
    (hidden / "x.txt").write_text("hidden folders are skipped", encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def docs(corpus):
    return {d.doc_id: d for d in iter_documents(corpus, _cfg())}


def test_ids_are_relative_paths_sorted(corpus):
    ids = [d.doc_id for d in iter_documents(corpus, _cfg())]
    assert ids == sorted(ids)
    assert "sub/deeper/k_nested.txt" in ids
    assert "sub/ignored.md" not in ids and not any(i.startswith(".cache") for i in ids)
    assert len(ids) == 11


def test_utf8_and_bom(docs, corpus):
    a = docs["a_utf8.txt"]
    assert (a.status, a.encoding, a.notes, a.error) == ("ok", "utf-8", [], None)
    assert a.source == str(corpus / "a_utf8.txt")
    b = docs["b_bom.txt"]
    assert b.encoding == "utf-8-sig" and b.text == "Die Grünen in Köln."  # BOM dropped


def test_cp1252_and_latin1_are_detected(docs):
    c = docs["c_cp1252.txt"]
    assert c.status == "ok" and c.text == CP1252_TEXT
    assert c.encoding == "cp1252" and "decoded as cp1252 (detected)" in c.notes
    d = docs["d_latin1.txt"]
    assert d.status == "ok" and d.text == "Die Straße in Köln ist größer als üblich, sagte Jürgen."
    assert any(n.startswith("decoded as ") and n.endswith("(detected)") for n in d.notes)


def test_mojibake_and_html_are_noted_not_changed(docs):
    e = docs["e_mojibake.txt"]
    assert e.text == MOJIBAKE and e.notes == ["mojibake"]
    f = docs["f_html.txt"]
    assert f.text == HTML and f.notes == ["html"]
    assert docs["a_utf8.txt"].notes == []


def test_html_keep_adds_no_note(corpus):
    doc = next(iter_documents(corpus / "f_html.txt", _cfg(html="keep")))
    assert doc.notes == [] and doc.text == HTML


def test_empty_and_blank(docs):
    for name in ("g_empty.txt", "h_blank.txt"):
        assert (docs[name].status, docs[name].text, docs[name].error) == ("empty", "", None)


def test_binary_file_is_an_error(docs):
    i = docs["i_binary.txt"]
    assert i.status == "error" and i.text == ""
    assert i.error.startswith("not valid text: ") and "control bytes" in i.error and "NUL" in i.error


def test_control_ratio_threshold(tmp_path):
    text = "a" * 90 + "\x01" * 10  # 10 % control bytes, no NUL
    (tmp_path / "x.txt").write_bytes(text.encode())
    doc = next(iter_documents(tmp_path / "x.txt", _cfg()))
    assert doc.status == "error" and doc.error == "not valid text: 10% control bytes (a binary file?)"
    doc = next(iter_documents(tmp_path / "x.txt", _cfg(max_control_ratio=0.2)))
    assert doc.status == "ok" and doc.text == text


def test_date_line(docs):
    j = docs["j_date.txt"]
    assert j.date == "2023-09" and j.text.startswith(" date 2023-09 Putin")
    (a, b), = j.hidden_spans
    assert j.text[a:b] == "date 2023-09"
    assert docs["a_utf8.txt"].date is None and docs["a_utf8.txt"].hidden_spans == []


@pytest.mark.parametrize("text,date", [
    ("date 2023-09-14\nText", "2023-09-14"),
    ("\n  date 2023-09 Text", "2023-09"),
    ("date 2023-13 Text", None),  # no month 13
    ("date 2023-09x Text", None),
    ("Text date 2023-09 Text", None),  # only at the start
])
def test_date_line_forms(text, date):
    doc = next(documents_from_texts([text], cfg=_cfg()))
    assert doc.date == date
    assert bool(doc.hidden_spans) == (date is not None)


def test_date_line_off():
    doc = next(documents_from_texts([" date 2023-09 Text"], cfg=_cfg(date_line=False)))
    assert doc.date is None and doc.hidden_spans == []


def test_only_a_date_line_is_empty():
    doc = next(documents_from_texts([" date 2023-09 \n"], cfg=_cfg()))
    assert doc.status == "empty" and doc.date == "2023-09"


def test_seeds_date_lines():
    from pathlib import Path

    seeds = Path(__file__).resolve().parents[1] / "seeds"
    if not seeds.is_dir():
        pytest.skip("no seeds folder")
    by_id = {d.doc_id: d for d in iter_documents(seeds, _cfg())}
    assert by_id["000_99d2ea78304a5c42.txt"].date == "2023-09"
    assert by_id["000_99d2ea78304a5c42.txt"].hidden_spans == [(1, 13)]
    assert by_id["001_d581cd30f8ac7a67.txt"].date is None
    assert all(d.status == "ok" and d.encoding == "utf-8" for d in by_id.values())


def test_long_file(tmp_path):
    para = "Der russische Präsident Wladimir Putin traf Kim Jong Un in Wostotschny. " * 30 + "\n\n"
    text = para * (2_000_000 // len(para) + 1)
    (tmp_path / "long.txt").write_text(text, encoding="utf-8")
    doc = next(iter_documents(tmp_path / "long.txt", _cfg()))
    assert doc.status == "ok" and len(doc.text) == len(text) and doc.notes == []


def test_long_cp1252_file(tmp_path):
    text = (CP1252_TEXT + "\n") * 60_000  # ~2.6 MB
    (tmp_path / "long.txt").write_bytes(text.encode("cp1252"))
    doc = next(iter_documents(tmp_path / "long.txt", _cfg()))
    assert doc.status == "ok" and doc.encoding == "cp1252" and doc.text == text


def test_mostly_utf8_with_a_stray_byte(tmp_path):
    body = "Präsident Müller in Köln. " * 20
    (tmp_path / "x.txt").write_bytes(body.encode() + b"caf\xe9 " + body.encode())
    doc = next(iter_documents(tmp_path / "x.txt", _cfg()))
    assert doc.status == "ok" and doc.encoding == "utf-8"
    assert "Präsident" in doc.text and "caf\ufffd" in doc.text
    assert any("invalid UTF-8" in n for n in doc.notes)


def test_forced_encoding(tmp_path):
    (tmp_path / "x.txt").write_bytes(CP1252_TEXT.encode("cp1252"))
    doc = next(iter_documents(tmp_path / "x.txt", _cfg(encoding="cp1252")))
    assert (doc.status, doc.encoding, doc.text, doc.notes) == ("ok", "cp1252", CP1252_TEXT, [])
    doc = next(iter_documents(tmp_path / "x.txt", _cfg(encoding="utf-8")))
    assert doc.status == "error" and doc.error.startswith("undecodable at byte 2 as utf-8")
    with pytest.raises(ConfigError, match="unknown encoding"):
        _cfg(encoding="no-such-codec")
    unchecked = _cfg().model_copy(update={"encoding": "no-such-codec"})  # read checks again
    with pytest.raises(InputError, match="unknown encoding"):
        check_input(tmp_path / "x.txt", unchecked)


def test_utf16_with_bom(tmp_path):
    (tmp_path / "x.txt").write_bytes("Grüße aus Köln".encode("utf-16"))
    doc = next(iter_documents(tmp_path / "x.txt", _cfg()))
    assert (doc.status, doc.text, doc.encoding) == ("ok", "Grüße aus Köln", "utf-16")


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root reads everything")
def test_unreadable_file(tmp_path):
    fp = tmp_path / "locked.txt"
    fp.write_text("geheim", encoding="utf-8")
    fp.chmod(0)
    try:
        doc = next(iter_documents(tmp_path, _cfg()))
    finally:
        fp.chmod(0o644)
    assert doc.status == "error" and doc.error.startswith("cannot read the file: ")


def test_check_input_errors(tmp_path):
    with pytest.raises(InputError, match="input not found"):
        check_input(tmp_path / "nope", _cfg())
    (tmp_path / "x.docx").write_bytes(b"PK")
    with pytest.raises(InputError, match="unknown input type"):
        check_input(tmp_path / "x.docx", _cfg())
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(InputError, match=r"no files matching '\*.txt' .*the folder is empty"):
        check_input(empty, _cfg())
    (empty / "a.md").write_text("x", encoding="utf-8")
    with pytest.raises(InputError, match=r"found e.g. a.md; set input.glob"):
        check_input(empty, _cfg())
    check_input(empty, _cfg(glob="*.md"))  # no error
    assert issubclass(InputError, PipelineError)


def test_glob_with_folder(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    (tmp_path / "a" / "x.txt").write_text("A", encoding="utf-8")
    (tmp_path / "b" / "x.txt").write_text("B", encoding="utf-8")
    assert [d.doc_id for d in iter_documents(tmp_path, _cfg(glob="a/*.txt"))] == ["a/x.txt"]


# --------------------------------------------------------------------------- tables


def _write_jsonl(path, lines):
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def test_jsonl(tmp_path):
    fp = _write_jsonl(tmp_path / "t.jsonl", [
        json.dumps({"id": "a", "text": "Olaf Scholz in Berlin."}),
        '{"id": "b", "text": "kaputt" "x"}',  # line 2: bad JSON
        "[1, 2]",  # line 3: not an object
        "",  # blank lines are not documents
        json.dumps({"id": "c", "text": None}),  # line 5
        json.dumps({"id": "d", "text": 42}),  # line 6
        json.dumps({"id": 7, "text": "Zahl als id", "extra": True}),  # line 7
        json.dumps({"id": "e", "body": "kein text"}),  # line 8
        json.dumps({"text": "ohne id"}),  # line 9
        json.dumps({"id": "f", "text": MOJIBAKE}),  # line 10
    ])
    check_input(fp, _cfg())
    out = list(iter_documents(fp, _cfg()))
    got = [(d.doc_id, d.status, d.error) for d in out]
    assert got == [
        ("a", "ok", None),
        ("t.jsonl:line 2", "error", "malformed JSON at line 2: Expecting ',' delimiter"),
        ("t.jsonl:line 3", "error", "line 3: expected a JSON object, got a list"),
        ("c", "empty", None),
        ("d", "error", "line 6: 'text' is a number, expected a string"),
        ("7", "ok", None),
        ("e", "error", "line 8: no 'text' field (fields: 'id', 'body')"),
        ("t.jsonl:line 9", "ok", None),
        ("f", "ok", None),
    ]
    assert out[0].source == f"{fp}:line 1" and out[0].encoding is None
    assert out[7].notes == ["no 'id' value; id made from the line number"]
    assert out[8].notes == ["mojibake"]


def test_jsonl_strict_raises_with_line_number(tmp_path):
    fp = _write_jsonl(tmp_path / "t.jsonl", [json.dumps({"id": "a", "text": "x"}), "{broken"])
    it = iter_documents(fp, _cfg(strict=True))
    assert next(it).doc_id == "a"
    with pytest.raises(InputError, match=r"malformed JSON at line 2: .*strict"):
        next(it)


def test_jsonl_without_id_column_numbers_rows(tmp_path):
    fp = _write_jsonl(tmp_path / "t.jsonl", [json.dumps({"text": t}) for t in ("eins", "zwei")])
    with pytest.raises(InputError, match=r"no id column 'id'; the columns are: 'text'.*id_col = \"\""):
        check_input(fp, _cfg())
    assert [d.doc_id for d in iter_documents(fp, _cfg(id_col=""))] == ["row-000001", "row-000002"]


def test_missing_text_column_lists_columns(tmp_path):
    fp = _write_jsonl(tmp_path / "t.jsonl", [json.dumps({"id": "a", "body": "x", "title": "y"})])
    with pytest.raises(InputError, match=r"no text column 'text'; the columns are: 'id', 'body', 'title'"):
        check_input(fp, _cfg())
    with pytest.raises(InputError, match="no text column"):
        iter_documents(fp, _cfg())  # checked at once, not on the first next()
    assert [d.text for d in iter_documents(fp, _cfg(text_col="body"))] == ["x"]
    csv_fp = tmp_path / "t.csv"
    csv_fp.write_text("id,body\na,x\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"the columns are: 'id', 'body'"):
        check_input(csv_fp, _cfg())
    pq_fp = tmp_path / "t.parquet"
    pq.write_table(pa.table({"id": ["a"], "inhalt": ["x"]}), pq_fp)
    with pytest.raises(InputError, match=r"the columns are: 'id', 'inhalt'"):
        check_input(pq_fp, _cfg())


def test_duplicate_ids(tmp_path):
    fp = _write_jsonl(tmp_path / "t.jsonl", [json.dumps({"id": i, "text": f"Text {n}"})
                                             for n, i in enumerate(["a", "b", "a", "c", "a", "b"])])
    with pytest.raises(InputError, match=r"duplicate document ids in column 'id': 'a', 'b' .*suffix"):
        check_input(fp, _cfg())
    out = list(iter_documents(fp, _cfg(duplicate_ids="suffix")))
    assert [d.doc_id for d in out] == ["a", "b", "a~2", "c", "a~3", "b~2"]
    assert out[2].notes == ["duplicate id 'a' renamed to 'a~2'"]
    check_input(fp, _cfg(duplicate_ids="suffix"))


def test_duplicate_ids_list_is_capped(tmp_path):
    fp = _write_jsonl(tmp_path / "t.jsonl", [json.dumps({"id": f"d{n % 25}", "text": "x"}) for n in range(50)])
    with pytest.raises(InputError, match=r"'d19' and 5 more") as exc:
        check_input(fp, _cfg())
    assert "'d20'" not in str(exc.value)


def test_csv(tmp_path):
    fp = tmp_path / "t.csv"
    fp.write_bytes(
        b"\xef\xbb\xbfid,text,lang\n"
        b'a,"Olaf Scholz, Kanzler",de\n'
        b"b,zu,viele,felder\n"  # line 3: four fields
        b'c,"zwei\nZeilen",de\n'  # lines 4-5
        b"d,,de\n"  # line 6: empty text
        + "e,Grüße aus Köln,de\n".encode("cp1252")  # line 7: not UTF-8
        + b"f,kurz\n"  # line 8: two fields
    )
    check_input(fp, _cfg())
    out = list(iter_documents(fp, _cfg()))
    got = [(d.doc_id, d.status, d.error) for d in out]
    assert got == [
        ("a", "ok", None),
        ("b", "error", "malformed CSV at line 3: expected 3 fields, got 4"),
        ("c", "ok", None),
        ("d", "empty", None),
        ("e", "ok", None),
        ("f", "error", "malformed CSV at line 8: expected 3 fields, got 2"),
    ]
    assert out[0].text == "Olaf Scholz, Kanzler" and out[2].text == "zwei\nZeilen"
    assert out[2].source == f"{fp}:line 4"
    assert out[4].text == "Grüße aus Köln" and out[4].notes == ["line 7 is not UTF-8; decoded as cp1252"]
    with pytest.raises(InputError, match="malformed CSV at line 3"):
        list(iter_documents(fp, _cfg(strict=True)))


def test_parquet_streams_row_groups(tmp_path):
    fp = tmp_path / "t.parquet"
    n = 1000
    table = pa.table({"id": [f"p{i}" for i in range(n)], "text": [None if i == 3 else f"Text {i}" for i in range(n)]})
    pq.write_table(table, fp, row_group_size=100)
    check_input(fp, _cfg())
    out = list(iter_documents(fp, _cfg()))
    assert len(out) == n and out[999].doc_id == "p999" and out[999].text == "Text 999"
    assert out[3].status == "empty" and out[4].source == f"{fp}:row 5"
    nums = list(iter_documents(fp, _cfg(id_col="")))
    assert nums[0].doc_id == "row-000001" and nums[-1].doc_id == "row-001000"


def test_parquet_non_string_text_column(tmp_path):
    fp = tmp_path / "t.parquet"
    pq.write_table(pa.table({"id": ["a"], "text": [1]}), fp)
    with pytest.raises(InputError, match="holds int64, not strings"):
        check_input(fp, _cfg())


def test_input_fingerprint(corpus, tmp_path):
    cfg = _cfg()
    f1 = input_fingerprint(corpus, cfg)
    assert f1 == input_fingerprint(corpus, cfg) and len(f1) == 64
    d = tmp_path / "d"
    d.mkdir()
    (d / "a.txt").write_text("eins", encoding="utf-8")
    before = input_fingerprint(d, cfg)
    (d / "a.txt").write_text("zwei!", encoding="utf-8")
    assert input_fingerprint(d, cfg) != before
    t = _write_jsonl(tmp_path / "t.jsonl", [json.dumps({"id": "a", "text": "x"})])
    ft = input_fingerprint(t, cfg)
    _write_jsonl(t, [json.dumps({"id": "a", "text": "y"})])
    assert input_fingerprint(t, cfg) != ft


# --------------------------------------------------------------------------- memory


def test_documents_from_texts_list_dict_dataframe():
    cfg = _cfg()
    out = list(documents_from_texts(["Olaf Scholz", "", None, 3], cfg=cfg))
    assert [(d.doc_id, d.status) for d in out] == [
        ("row-000001", "ok"), ("row-000002", "empty"), ("row-000003", "empty"), ("row-000004", "error")]
    assert out[3].error == "text is a number, expected a string"
    assert isinstance(out[0], RawDoc) and out[0].source == "texts[0]" and out[0].encoding is None
    out = list(documents_from_texts({"x": "A", "y": HTML}, cfg=cfg))
    assert [d.doc_id for d in out] == ["x", "y"] and out[1].notes == ["html"]
    df = pd.DataFrame({"id": [10, 11], "text": ["Merkel", float("nan")]})
    out = list(documents_from_texts(df, cfg=cfg))
    assert [(d.doc_id, d.status, d.source) for d in out] == [
        ("10", "ok", "dataframe:row 1"), ("11", "empty", "dataframe:row 2")]
    with pytest.raises(InputError, match=r"no id column 'id'; the columns are: 'text'"):
        documents_from_texts(pd.DataFrame({"text": ["x"]}), cfg=cfg)
    assert [d.doc_id for d in documents_from_texts(pd.DataFrame({"text": ["x"]}), cfg=_cfg(id_col=""))] == ["row-000001"]


def test_documents_from_texts_duplicates():
    with pytest.raises(InputError, match=r"duplicate document ids: 'a'"):
        documents_from_texts(["x", "y"], ids=["a", "a"], cfg=_cfg())
    out = list(documents_from_texts(["x", "y", "z"], ids=["a", "a", "a~2"], cfg=_cfg(duplicate_ids="suffix")))
    assert [d.doc_id for d in out] == ["a", "a~2", "a~2~2"]
    assert len({d.doc_id for d in out}) == 3


def test_read_error_becomes_error_document(tmp_path, monkeypatch):
    (tmp_path / "a.txt").write_text("x", encoding="utf-8")
    real_open = os.open

    def deny(path, *args, **kwargs):  # root reads everything: make this one file unreadable
        if os.fspath(path).endswith("a.txt"):
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real_open(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", deny)
    doc = next(iter_documents(tmp_path, _cfg()))
    assert (doc.doc_id, doc.status, doc.error) == ("a.txt", "error", "cannot read the file: Permission denied")


def test_undecodable_bytes(tmp_path):
    rng = random.Random(3)
    (tmp_path / "x.txt").write_bytes(bytes(rng.randrange(128, 256) for _ in range(4000)))
    doc = next(iter_documents(tmp_path / "x.txt", _cfg()))
    assert doc.status == "error" and doc.error.startswith("undecodable at byte 0: not UTF-8")


def test_lone_surrogates_from_json_are_replaced(tmp_path):
    fp = _write_jsonl(tmp_path / "t.jsonl", ['{"id": "a", "text": "Kim \\ud800 Jong Un"}'])
    doc = next(iter_documents(fp, _cfg()))
    assert doc.status == "ok" and doc.text == "Kim \ufffd Jong Un"
    assert doc.notes == ["lone surrogates replaced by U+FFFD"]
    doc.text.encode("utf-8")  # writable


def test_double_star_glob(corpus):
    ids = [d.doc_id for d in iter_documents(corpus, _cfg(glob="**/*.txt"))]
    assert ids == [d.doc_id for d in iter_documents(corpus, _cfg())]


# --------------------------------------------------------------------------- properties

from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from pipeline.read import decode_bytes  # noqa: E402

_PROPS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@_PROPS
@given(st.binary(max_size=600))
def test_property_any_bytes_decode_or_explain(data):
    text, enc, notes, error = decode_bytes(data, _cfg())
    if error is not None:
        assert text is None and error.startswith(("not valid text", "undecodable at byte"))
    elif text is not None:
        assert isinstance(text, str) and enc
        text.encode("utf-8")  # writable


@_PROPS
@given(st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc")), max_size=300))
def test_property_utf8_round_trips(text):
    got, enc, notes, error = decode_bytes(text.encode("utf-8"), _cfg())
    if not text.strip():  # becomes an "empty" document later
        assert error is None and (got is None or not got.strip())
        return
    assert error is None and notes == []
    assert got == (text[1:] if text.startswith("\ufeff") else text)
    assert enc == ("utf-8-sig" if text.startswith("\ufeff") else "utf-8")


@_PROPS
@given(st.lists(st.one_of(
    st.text(max_size=30),
    st.builds(lambda i, t: json.dumps({"id": i, "text": t}), st.sampled_from(["a", "b", 1]),
              st.one_of(st.none(), st.text(max_size=30), st.integers())),
), min_size=1, max_size=15))
def test_property_jsonl_never_loses_a_line(tmp_path, lines):
    fp = tmp_path / "t.jsonl"
    fp.write_text("\n".join(line.replace("\n", " ").replace("\r", " ") for line in lines) + "\n",
                  encoding="utf-8", errors="surrogatepass")
    if not any(line.startswith("{") for line in lines):
        return
    try:
        out = list(iter_documents(fp, _cfg(duplicate_ids="suffix")))
    except InputError:
        return  # no object line among the first: reported as a whole
    n_records = sum(1 for raw in fp.read_bytes().split(b"\n") if raw.strip())
    assert len(out) == n_records
    assert len({d.doc_id for d in out}) == len(out)
    assert all(d.status in ("ok", "empty", "error") and (d.status != "error" or d.error) for d in out)


def test_short_cp1252_german_is_not_taken_for_a_baltic_codepage():
    from pipeline.config import load_config
    from pipeline.read import decode_bytes

    cfg = load_config().input
    for text in ["Präsident Müller traf Angela Merkel in München.", "Größe: 3 m² – „Maß“ für 20 €"]:
        decoded, enc, notes, err = decode_bytes(text.encode("cp1252"), cfg)
        assert (decoded, enc, err) == (text, "cp1252", None)
    koi8 = "Привет, как дела? Это русский текст в кодировке KOI8-R.".encode("koi8_r")
    decoded, enc, _, _ = decode_bytes(koi8, cfg)
    assert enc != "cp1252"


def test_count_documents_when_cheap(tmp_path):
    import pandas as pd

    from pipeline.config import load_config
    from pipeline.read import count_documents

    cfg = load_config().input
    (tmp_path / "d" / "sub").mkdir(parents=True)
    for name in ["a.txt", "sub/b.txt", "c.md"]:
        (tmp_path / "d" / name).write_text("x", encoding="utf-8")
    assert count_documents(tmp_path / "d", cfg) == 2  # the glob is *.txt
    assert count_documents(tmp_path / "d" / "a.txt", cfg) == 1
    pd.DataFrame({"id": ["1", "2", "3"], "text": ["a", "b", "c"]}).to_parquet(tmp_path / "t.parquet")
    assert count_documents(tmp_path / "t.parquet", cfg) == 3
    (tmp_path / "t.jsonl").write_text('{"id": "1", "text": "a"}\n', encoding="utf-8")
    assert count_documents(tmp_path / "t.jsonl", cfg) is None
