"""Reading hostile inputs: symlinks out of the folder, FIFOs and devices, unreadable
folders, names that are not UTF-8, unbalanced CSV quotes, ``--glob`` with ``**``,
duplicated DataFrame columns, codecs that are not text encodings. Nothing may hang,
crash, leak a file from outside the input folder or disappear without a row."""

from __future__ import annotations

import logging
import os
import socket
import threading

import pandas as pd
import pyarrow as pa
import pytest

from pipeline.config import load_config
from pipeline.errors import ConfigError, EnvironmentProblem, InputError
from pipeline.read import (check_input, count_documents, documents_from_texts, glob_match, input_fingerprint,
                           iter_documents)

SECRET = "GEHEIM-7f3a9c-Passwort"


def _cfg(**over):
    return load_config(overrides={"input": over} if over else None).input


def _docs(path, cfg=None):
    return {d.doc_id: d for d in iter_documents(path, cfg or _cfg())}


def _within(seconds, fn, *args):
    """fn(*args), failing (instead of hanging the test run) when it blocks, as opening
    a FIFO for reading does."""
    box: dict = {}

    def target():
        try:
            box["value"] = fn(*args)
        except BaseException as exc:  # noqa: BLE001 - handed to the test
            box["error"] = exc

    t = threading.Thread(target=target, daemon=True)
    t.start()
    t.join(seconds)
    assert not t.is_alive(), f"{fn.__name__} blocked for {seconds} s"
    if "error" in box:
        raise box["error"]
    return box["value"]


# --------------------------------------------------------------------------- symlinks


@pytest.fixture
def linked(tmp_path):
    (tmp_path / "secret.txt").write_text(SECRET, encoding="utf-8")
    d = tmp_path / "in"
    d.mkdir()
    (d / "a.txt").write_text("Olaf Scholz in Berlin.", encoding="utf-8")
    (d / "leak.txt").symlink_to(tmp_path / "secret.txt")
    (d / "rel_leak.txt").symlink_to("../secret.txt")
    (d / "inner.txt").symlink_to("a.txt")  # inside the folder: fine
    (d / "dangling.txt").symlink_to(tmp_path / "gone.txt")
    (d / "loop.txt").symlink_to("loop.txt")
    (tmp_path / "elsewhere").mkdir()
    (tmp_path / "elsewhere" / "x.txt").write_text(SECRET, encoding="utf-8")
    (d / "linked_dir").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    return d


def test_symlink_outside_the_folder_is_refused_and_never_read(linked):
    docs = _docs(linked)
    assert sorted(docs) == ["a.txt", "dangling.txt", "inner.txt", "leak.txt", "linked_dir/", "loop.txt",
                            "rel_leak.txt"]
    for name in ["leak.txt", "rel_leak.txt"]:
        d = docs[name]
        assert d.status == "error" and d.text == ""
        assert "outside the input folder" in d.error and "input.follow_outside_symlinks = true" in d.error
    assert all(SECRET not in d.text for d in docs.values())
    assert (docs["inner.txt"].status, docs["inner.txt"].text) == ("ok", "Olaf Scholz in Berlin.")


def test_follow_outside_symlinks_reads_them(linked):
    docs = _docs(linked, _cfg(follow_outside_symlinks=True))
    assert docs["leak.txt"].status == "ok" and docs["leak.txt"].text == SECRET
    assert docs["rel_leak.txt"].text == SECRET
    assert docs["linked_dir/"].status == "error"  # folders are still not followed
    assert _cfg().follow_outside_symlinks is False


def test_broken_links_and_linked_folders_are_error_rows(linked):
    docs = _docs(linked)
    assert docs["dangling.txt"].status == "error"
    assert docs["dangling.txt"].error.startswith("broken symbolic link: its target")
    assert "gone.txt" in docs["dangling.txt"].error
    assert docs["loop.txt"].status == "error" and docs["loop.txt"].error.startswith("cannot follow")
    d = docs["linked_dir/"]
    assert d.status == "error" and d.error.startswith("symbolic link to a folder, not followed")
    assert not any(i.startswith("linked_dir/x") for i in docs)
    assert count_documents(linked, _cfg()) == len(docs)


def test_a_symlink_named_as_the_input_is_read(tmp_path):
    (tmp_path / "real.txt").write_text(SECRET, encoding="utf-8")
    link = tmp_path / "named.txt"
    link.symlink_to(tmp_path / "real.txt")
    check_input(link, _cfg())
    [doc] = list(iter_documents(link, _cfg()))
    assert (doc.doc_id, doc.status, doc.text) == ("named.txt", "ok", SECRET)
    dangling = tmp_path / "dangling.txt"
    dangling.symlink_to(tmp_path / "nope.txt")
    with pytest.raises(InputError, match=r"input not found: .*dangling.txt \(a broken symbolic link\)"):
        check_input(dangling, _cfg())


def test_fingerprint_with_broken_links_and_error_rows(linked):
    f1 = input_fingerprint(linked, _cfg())
    assert f1 == input_fingerprint(linked, _cfg())
    (linked / "dangling.txt").unlink()
    assert input_fingerprint(linked, _cfg()) != f1


# --------------------------------------------------------------------------- special files


def test_fifo_in_a_folder_is_refused_without_opening_it(tmp_path):
    (tmp_path / "a.txt").write_text("Angela Merkel", encoding="utf-8")
    os.mkfifo(tmp_path / "pipe.txt")
    docs = _within(20, _docs, tmp_path)
    assert docs["a.txt"].status == "ok"
    assert docs["pipe.txt"].status == "error"
    assert docs["pipe.txt"].error == "a named pipe (FIFO), not read (only regular files are documents)"
    assert _within(20, input_fingerprint, tmp_path, _cfg())
    assert count_documents(tmp_path, _cfg()) == 2


def test_fifo_as_the_input_is_an_input_error(tmp_path):
    fifo = tmp_path / "pipe.txt"
    os.mkfifo(fifo)
    for fn in (check_input, iter_documents, input_fingerprint, count_documents):
        with pytest.raises(InputError, match=r"is a named pipe \(FIFO\), not a file or folder"):
            _within(20, fn, fifo, _cfg())
    os.mkfifo(tmp_path / "t.csv")  # a table name does not open it either
    with pytest.raises(InputError, match="named pipe"):
        _within(20, check_input, tmp_path / "t.csv", _cfg())


def test_devices_and_sockets_are_refused(tmp_path):
    (tmp_path / "null.txt").symlink_to("/dev/null")
    docs = _docs(tmp_path, _cfg(follow_outside_symlinks=True))
    assert docs["null.txt"].error == "a character device, not read (only regular files are documents)"
    with pytest.raises(InputError, match="is a character device"):
        check_input("/dev/null", _cfg())
    sock_path = tmp_path / "s.txt"
    if len(os.fsencode(sock_path)) >= 100:
        pytest.skip("socket path too long for AF_UNIX")
    s = socket.socket(socket.AF_UNIX)
    try:
        s.bind(os.fspath(sock_path))
        docs = _docs(tmp_path)
    finally:
        s.close()
    assert docs["s.txt"].error == "a socket, not read (only regular files are documents)"


# --------------------------------------------------------------------------- folders


@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root reads everything")
def test_unreadable_subfolder_chmod(tmp_path):
    (tmp_path / "a.txt").write_text("x", encoding="utf-8")
    locked = tmp_path / "locked"
    locked.mkdir()
    (locked / "b.txt").write_text("y", encoding="utf-8")
    locked.chmod(0)
    try:
        docs = _docs(tmp_path)
    finally:
        locked.chmod(0o755)
    assert docs["locked/"].status == "error" and docs["locked/"].error.startswith("cannot read the folder")


def _deny_scandir(monkeypatch, denied):
    real = os.scandir

    def scandir(path="."):
        if os.path.basename(os.fspath(path)) == denied:
            raise PermissionError(13, "Permission denied", os.fspath(path))
        return real(path)

    monkeypatch.setattr(os, "scandir", scandir)  # what os.walk lists folders with


def test_unreadable_subfolder_is_an_error_row(tmp_path, monkeypatch):
    (tmp_path / "in" / "locked" / "deeper").mkdir(parents=True)
    (tmp_path / "in" / "a.txt").write_text("Olaf Scholz", encoding="utf-8")
    (tmp_path / "in" / "locked" / "b.txt").write_text("y", encoding="utf-8")
    _deny_scandir(monkeypatch, "locked")
    docs = _docs(tmp_path / "in")
    assert sorted(docs) == ["a.txt", "locked/"]
    d = docs["locked/"]
    assert d.status == "error" and d.error == "cannot read the folder: Permission denied; its files are not read"
    assert d.source == os.path.join(tmp_path / "in", "locked/")


def test_unreadable_input_folder_is_an_environment_error(tmp_path, monkeypatch):
    (tmp_path / "in").mkdir()
    _deny_scandir(monkeypatch, "in")
    with pytest.raises(EnvironmentProblem, match="cannot read the input folder .*in: Permission denied"):
        list(iter_documents(tmp_path / "in", _cfg()))
    assert EnvironmentProblem.exit_code == 3


def test_hidden_folders_are_skipped_with_a_warning(tmp_path, caplog):
    (tmp_path / "a.txt").write_text("x", encoding="utf-8")
    for hidden in [".git", "sub/.cache"]:
        (tmp_path / hidden).mkdir(parents=True)
        (tmp_path / hidden / "h.txt").write_text("y", encoding="utf-8")
    (tmp_path / ".hidden_file.txt").write_text("z", encoding="utf-8")  # hidden files are read
    with caplog.at_level(logging.WARNING, logger="pipeline"):
        docs = _docs(tmp_path)
    assert sorted(docs) == [".hidden_file.txt", "a.txt"]
    [rec] = [r for r in caplog.records if "hidden folder" in r.getMessage()]
    assert rec.levelno == logging.WARNING
    assert "skipped 2 hidden folder(s)" in rec.getMessage() and ".git/" in rec.getMessage()
    assert "sub/.cache/" in rec.getMessage()


def test_files_not_matching_the_glob_have_no_rows(tmp_path):
    (tmp_path / "a.txt").write_text("x", encoding="utf-8")
    (tmp_path / "b.md").write_text("y", encoding="utf-8")
    os.mkfifo(tmp_path / "c.pipe")
    (tmp_path / "d.bin").symlink_to("/etc/hostname")
    assert list(_docs(tmp_path)) == ["a.txt"]


# --------------------------------------------------------------------------- names


def _bytes_name(folder, name: bytes, content: bytes = b"Angela Merkel in Berlin.") -> str:
    raw = os.path.join(os.fsencode(folder), name)
    try:
        with open(raw, "wb") as fh:
            fh.write(content)
    except OSError:
        pytest.skip("the file system refuses names that are not UTF-8")
    return os.fsdecode(raw)


def test_file_names_that_are_not_utf8(tmp_path):
    d = tmp_path / "in"
    (d / "sub").mkdir(parents=True)
    _bytes_name(d, b"caf\xe9.txt")
    os.mkdir(os.path.join(os.fsencode(d), b"ordn\xfcr"))
    _bytes_name(os.path.join(os.fsencode(d), b"ordn\xfcr"), b"x.txt")
    (d / "ok.txt").write_text("Olaf Scholz", encoding="utf-8")
    cfg = _cfg()
    check_input(d, cfg)
    docs = _docs(d)
    assert sorted(docs) == ["caf\\xe9.txt", "ok.txt", "ordn\\xfcr/x.txt"]
    for doc_id in ["caf\\xe9.txt", "ordn\\xfcr/x.txt"]:
        doc = docs[doc_id]
        assert doc.status == "ok" and doc.text == "Angela Merkel in Berlin."
        assert doc.notes == ["path is not valid UTF-8; its invalid bytes are written as \\xNN in doc_id"]
    assert docs["ok.txt"].notes == []
    for doc in docs.values():  # everything a writer sees is valid UTF-8
        for value in (doc.doc_id, doc.source, doc.text, *doc.notes):
            value.encode("utf-8")
    table = pa.table({"doc_id": list(docs), "source": [d.source for d in docs.values()]})
    pd.DataFrame(table.to_pandas()).to_csv(tmp_path / "t.csv")  # no UnicodeEncodeError
    assert len(input_fingerprint(d, cfg)) == 64
    assert count_documents(d, cfg) == 3


def test_single_file_with_a_non_utf8_name(tmp_path):
    name = _bytes_name(tmp_path, b"gr\xfc\xdfe.txt")
    [doc] = list(iter_documents(name, _cfg()))
    assert doc.doc_id == "gr\\xfc\\xdfe.txt" and doc.status == "ok"
    doc.source.encode("utf-8")
    assert len(input_fingerprint(name, _cfg())) == 64


def test_table_with_a_non_utf8_name(tmp_path):
    name = _bytes_name(tmp_path, b"t\xe4b.csv", b'id,text\n1,Olaf Scholz\n2,"kaputt\n')
    docs = list(iter_documents(name, _cfg()))
    assert [(d.doc_id, d.status) for d in docs] == [("1", "ok"), ("t\\xe4b.csv:line 3", "error")]
    for d in docs:
        d.source.encode("utf-8")
        d.doc_id.encode("utf-8")


def test_json_ids_with_lone_surrogates_are_escaped(tmp_path):
    fp = tmp_path / "t.jsonl"
    fp.write_text('{"id": "a\\udcff", "text": "Olaf Scholz"}\n', encoding="utf-8")
    [doc] = list(iter_documents(fp, _cfg()))
    assert doc.doc_id == "a\\udcff" and doc.doc_id.encode("utf-8")


# --------------------------------------------------------------------------- CSV quotes


def _csv(tmp_path, body: str, name="t.csv"):
    fp = tmp_path / name
    fp.write_text(body, encoding="utf-8")
    return fp


def test_unbalanced_quote_does_not_swallow_the_rows_after_it(tmp_path):
    fp = _csv(tmp_path, 'id,text\n1,Olaf Scholz\n2,"Angela Merkel sagt\n3,Emmanuel Macron\n'
                        '4,"Joe ""Biden"" sagt"\n5,Wladimir Putin\n')
    check_input(fp, _cfg())
    docs = list(iter_documents(fp, _cfg()))
    got = [(d.doc_id, d.status, d.text) for d in docs]
    assert got == [("1", "ok", "Olaf Scholz"), ("t.csv:line 3", "error", ""), ("3", "ok", "Emmanuel Macron"),
                   ("4", "ok", 'Joe "Biden" sagt'), ("5", "ok", "Wladimir Putin")]
    err = docs[1]
    assert err.source.endswith("t.csv:line 3")
    assert err.error.startswith("malformed CSV at line 3: ',' expected after '\"' in a row running to line 5")
    assert "unbalanced quote" in err.error


def test_unbalanced_quote_running_to_the_end_of_the_file(tmp_path):
    fp = _csv(tmp_path, 'id,text\n1,"kaputt\n2,Olaf Scholz\n3,Angela Merkel\n')
    docs = list(iter_documents(fp, _cfg()))
    assert [(d.doc_id, d.status) for d in docs] == [("t.csv:line 2", "error"), ("2", "ok"), ("3", "ok")]
    assert "unexpected end of data in a row running to line 4" in docs[0].error
    assert all("Scholz" not in d.text for d in docs if d.doc_id != "2")


def test_unbalanced_quote_with_strict_fails(tmp_path):
    fp = _csv(tmp_path, 'id,text\n1,Olaf Scholz\n2,"kaputt\n3,Angela Merkel\n')
    with pytest.raises(InputError, match=r"t.csv: malformed CSV at line 3.*input.strict is on") as exc:
        check_input(fp, _cfg(strict=True))  # before anything is read or written
    assert "read as rows of their own" not in str(exc.value)
    with pytest.raises(InputError, match="malformed CSV at line 3"):
        list(iter_documents(fp, _cfg(strict=True)))
    with pytest.raises(InputError, match="malformed CSV at line 3"):
        check_input(fp, _cfg(strict=True, id_col=""))  # no id column: still scanned
    check_input(fp, _cfg())  # not strict: reported as error documents later


def test_stray_quote_in_a_quoted_field_is_reported(tmp_path):
    # "Das "Wort" ist" used to become 'Das Wort" ist"' silently
    fp = _csv(tmp_path, 'id,text\n1,"Das "Wort" ist"\n2,ok\n3,5" Zoll\n')
    docs = list(iter_documents(fp, _cfg()))
    assert [(d.doc_id, d.status, d.text) for d in docs] == [
        ("t.csv:line 2", "error", ""), ("2", "ok", "ok"), ("3", "ok", '5" Zoll')]  # a quote inside a field is text


def test_legit_multiline_fields_still_work(tmp_path):
    article = 'Erster Absatz, mit Komma.\n\n2,"Zweiter Absatz" sieht aus wie eine Zeile\nDritter, "Absatz".'
    body = 'id,text\n' + '1,"' + article.replace('"', '""') + '"\n2,Olaf Scholz\n3,"Zwei\r\nZeilen"\n'
    fp = _csv(tmp_path, body)
    check_input(fp, _cfg(strict=True))
    docs = list(iter_documents(fp, _cfg(strict=True)))
    assert [(d.doc_id, d.status) for d in docs] == [("1", "ok"), ("2", "ok"), ("3", "ok")]
    assert docs[0].text == article and docs[2].text == "Zwei\r\nZeilen"
    assert docs[1].source.endswith("t.csv:line 6")


def test_wrong_width_multiline_row_releases_the_lines_after_it(tmp_path):
    # a runaway quote that closes cleanly at a later quote still has the wrong width
    fp = _csv(tmp_path, 'id,text,lang\n1,"kaputt,de\n2,Olaf Scholz,de\n3,"\n4,Merkel,de\n')
    docs = list(iter_documents(fp, _cfg()))
    assert [(d.doc_id, d.status) for d in docs] == [
        ("1", "error"), ("2", "ok"), ("t.csv:line 4", "error"), ("4", "ok")]
    assert docs[0].error.startswith("malformed CSV at line 2: expected 3 fields, got 2 in a row running to line 4")


def test_duplicate_ids_in_swallowed_rows_are_found(tmp_path):
    fp = _csv(tmp_path, 'id,text\n1,"kaputt\n2,a\n2,b\n')
    with pytest.raises(InputError, match="duplicate document ids in column 'id': '2'"):
        check_input(fp, _cfg())


def test_csv_header_with_an_unbalanced_quote(tmp_path):
    fp = _csv(tmp_path, 'id,"text\n1,a\n2,b\n')
    with pytest.raises(InputError, match="cannot read the CSV header.*unbalanced quote"):
        check_input(fp, _cfg())


def test_csv_work_stays_linear(tmp_path):
    from pipeline.read import _csv_reader, _csv_records, _open_text_lines

    n = 4000
    bodies = {
        "one runaway": ["1,\"kaputt"] + [f"{i},Zeile {i}" for i in range(2, n)],
        "every line": [f"{i},\"kaputt {i}" for i in range(1, n)],
        "every other": [(f"{i},\"kaputt" if i % 2 else f"{i},ok") for i in range(1, n)],
        "escaped quotes": [(f"{i},\"\"\"kaputt" if i % 2 else f"{i},\"\"\"\"x") for i in range(1, n)],
    }
    for name, rows in bodies.items():
        fp = _csv(tmp_path, "id,text\n" + "\n".join(rows) + "\n")
        with _open_text_lines(fp) as lines:
            next(_csv_reader(lines, fp))
            records = list(_csv_records(lines, fp, 2))
        assert len(records) == n - 1, name  # every line is a row, none swallowed
        assert lines.reads <= 2 * n, (name, lines.reads)  # each line read at most twice


# --------------------------------------------------------------------------- glob


@pytest.fixture
def tree(tmp_path):
    for rel in ["a.txt", "b.md", "sub/c.txt", "sub/x/d.txt", "sub/x/y/e.txt", "other/sub/f.txt", "other/g.txt",
                "A.TXT"]:
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("Olaf Scholz", encoding="utf-8")
    return tmp_path


@pytest.mark.parametrize("pattern,expected", [
    ("*.txt", ["a.txt", "other/g.txt", "other/sub/f.txt", "sub/c.txt", "sub/x/d.txt", "sub/x/y/e.txt"]),
    ("**/*.txt", ["a.txt", "other/g.txt", "other/sub/f.txt", "sub/c.txt", "sub/x/d.txt", "sub/x/y/e.txt"]),
    ("sub/**/*.txt", ["sub/c.txt", "sub/x/d.txt", "sub/x/y/e.txt"]),
    ("sub/*.txt", ["sub/c.txt"]),  # from the input folder: other/sub/f.txt is not taken
    ("sub/**", ["sub/c.txt", "sub/x/d.txt", "sub/x/y/e.txt"]),
    ("**/sub/*.txt", ["other/sub/f.txt", "sub/c.txt"]),
    ("sub/*/*.txt", ["sub/x/d.txt"]),
    ("*/*.txt", ["other/g.txt", "sub/c.txt"]),
    ("*.TXT", ["A.TXT"]),  # case-sensitive
    ("?.md", ["b.md"]),
    ("[ab].*", ["a.txt", "b.md"]),
])
def test_glob_semantics(tree, pattern, expected):
    assert list(_docs(tree, _cfg(glob=pattern))) == expected
    assert count_documents(tree, _cfg(glob=pattern)) == len(expected)


def test_glob_match_edge_cases():
    assert glob_match("sub/a.txt", "./sub/*.txt") and glob_match("sub/a.txt", "/sub/*.txt")
    assert not glob_match("sub", "sub/**")  # a trailing ** takes at least one segment
    assert glob_match("a/b/c/d.txt", "a/**/**/d.txt") and glob_match("a/d.txt", "a/**/**/d.txt")
    assert not glob_match("sub/x/a.txt", "sub/*.txt")  # * does not cross /


# --------------------------------------------------------------------------- in memory


def test_dataframe_with_two_text_columns_is_refused():
    df = pd.DataFrame([["1", "Olaf Scholz", "Angela Merkel"]], columns=["id", "text", "text"])
    with pytest.raises(InputError, match=r"DataFrame: 2 columns are named 'text'.*input.text_col"):
        documents_from_texts(df, cfg=_cfg())
    df = pd.DataFrame([["1", "2", "Olaf Scholz"]], columns=["id", "id", "text"])
    with pytest.raises(InputError, match=r"2 columns are named 'id'"):
        documents_from_texts(df, cfg=_cfg())
    assert [d.doc_id for d in documents_from_texts(df, ids=["x"], cfg=_cfg())] == ["x"]  # ids given: fine


# --------------------------------------------------------------------------- encodings


@pytest.mark.parametrize("codec", ["rot13", "base64", "zlib", "hex", "bz2", "uu", "quopri"])
def test_codecs_that_are_not_text_encodings_are_refused(tmp_path, codec):
    (tmp_path / "a.txt").write_text("x", encoding="utf-8")
    with pytest.raises(ConfigError, match="not a text encoding"):
        _cfg(encoding=codec)
    unchecked = _cfg().model_copy(update={"encoding": codec})  # read checks again
    with pytest.raises(InputError, match=f"input.encoding = '{codec}' is not a text encoding"):
        check_input(tmp_path, unchecked)
    with pytest.raises(InputError, match="not a text encoding"):
        iter_documents(tmp_path, unchecked)


def test_undefined_codec_and_codec_errors(tmp_path):
    (tmp_path / "a.txt").write_bytes(b"xn--abc-")
    with pytest.raises(InputError, match="not a text encoding"):
        check_input(tmp_path, _cfg().model_copy(update={"encoding": "undefined"}))
    [doc] = list(iter_documents(tmp_path, _cfg(encoding="idna")))  # raises plain UnicodeError
    assert doc.status == "error" and doc.error.startswith("undecodable as idna")
