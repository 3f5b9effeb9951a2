"""Normalization for the model, with an offset map back into the original text.

The model sees :attr:`Normalized.text`; every offset the pipeline writes out points into
the original text. Each step below may change lengths, so each one reports, for every
character it outputs, the span ``[start, end)`` of its input that the character came
from; the spans are composed step by step. A step that changes nothing is skipped and
costs nothing but a scan.

Steps, in order (each switchable in :class:`~pipeline.config.NormalizeConfig`, HTML by
``input.html``): hidden spans -> spaces, HTML tags/entities, mojibake (ftfy), Unicode
NFC, one-to-one character mappings (spaces, quotes, dashes) and removals (zero-width
characters, soft hyphens).
"""

from __future__ import annotations

import html
import html.entities
import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from functools import lru_cache

import numpy as np

from .config import NormalizeConfig

__all__ = ["Normalized", "normalize_text", "to_original", "looks_like_mojibake", "find_html"]


@dataclass
class Normalized:
    """What the model sees and how to get back to the original.

    ``offsets[i]`` is the index in the original text of normalized character ``i``;
    ``offsets[-1] == len(original)``. ``ends[i]`` (``None`` when every character maps to
    exactly one original character) is the exclusive end of the original stretch that
    character ``i`` came from, e.g. the ``;`` of ``&amp;`` or both bytes of ``Ã¤``.
    """

    text: str
    offsets: np.ndarray
    notes: list[str] = field(default_factory=list)
    ends: np.ndarray | None = None


# --------------------------------------------------------------------------- offset maps


def _dtype(n: int) -> type:
    return np.int32 if n < 2**31 - 2 else np.int64


def _spread(a: int, b: int, m: int) -> tuple[np.ndarray, np.ndarray]:
    """Map ``m`` output characters onto the input stretch ``[a, b)`` proportionally.

    Starts and ends stay non-decreasing; with ``a == b`` (pure insertion) every output
    character maps to the empty stretch at ``a``.
    """
    k = np.arange(m, dtype=np.int64)
    n = b - a
    if n == 0:
        s = np.full(m, a, dtype=np.int64)
        return s, s.copy()
    s = a + (k * n) // m
    e = np.maximum(s + 1, a + ((k + 1) * n) // m)
    return s, e


_WINDOW = 16  # the longest stretch a repair may replace (either side)
_RESYNC = 3  # characters that must agree again after a repaired stretch
_DIFF_WINDOW = 256  # the most characters (either side) difflib aligns at once


def _equal_run(a: str, b: str, i: int, j: int) -> tuple[int, int]:
    """Advance ``i``/``j`` over the characters ``a`` and ``b`` have in common there."""
    n, m = len(a), len(b)
    step = 64
    while i + step <= n and j + step <= m and a[i : i + step] == b[j : j + step]:
        i += step
        j += step
    while i < n and j < m and a[i] == b[j]:
        i += 1
        j += 1
    return i, j


def _resync(a: str, b: str, i: int, j: int) -> tuple[int, int] | None:
    """The nearest ``(i2, j2)`` (fewest skipped characters, preferring to skip in ``a``)
    from which ``a`` and ``b`` agree again, or both end."""
    n, m = len(a), len(b)
    for d in range(1, 2 * _WINDOW + 1):
        for k in range(min(d, _WINDOW, n - i), -1, -1):
            ll = d - k
            if ll > _WINDOW or j + ll > m:
                continue
            ii, jj = i + k, j + ll
            if ii == n and jj == m:
                return ii, jj
            if ii < n and jj < m and a[ii : ii + _RESYNC] == b[jj : jj + _RESYNC]:
                # a repair never makes an ASCII letter or digit out of something else, so a
                # resync point that would skip one in ``b`` is a chance match: look further
                if not any(c < "\x80" and c.isalnum() for c in b[j:jj]):
                    return ii, jj
    return None


class _Builder:
    """Collects the output of one step as kept input stretches and replacements."""

    __slots__ = ("src", "parts", "starts", "ends", "pos", "changed")

    def __init__(self, src: str):
        self.src = src
        self.parts: list[str] = []
        self.starts: list[np.ndarray] = []
        self.ends: list[np.ndarray] = []
        self.pos = 0
        self.changed = False

    def keep_until(self, b: int) -> None:
        if b > self.pos:
            self.parts.append(self.src[self.pos : b])
            s = np.arange(self.pos, b, dtype=np.int64)
            self.starts.append(s)
            self.ends.append(s + 1)
            self.pos = b

    def replace(self, a: int, b: int, new: str) -> None:
        """Replace input ``[a, b)`` (``a >= pos``) by ``new``."""
        self.keep_until(a)
        if new:
            s, e = _spread(a, b, len(new))
            self.parts.append(new)
            self.starts.append(s)
            self.ends.append(e)
        self.pos = max(self.pos, b)
        self.changed = True

    def align(self, base: int, seg: str, new: str) -> None:
        """Replace ``src[base:base+len(seg)]`` (== ``seg``) by ``new``, aligning the two so
        that characters the change left alone keep their own offsets.

        A repair (mojibake, NFC) never makes or removes an ASCII letter or digit, so when
        both sides hold the same sequence of them, each is an anchor that maps to itself
        and only the stretches between anchors are aligned (:meth:`_align_stretch`); a
        chance match of repeated characters can then never pull an anchor out of place.
        """
        ia = [k for k, c in enumerate(seg) if c < "\x80" and c.isalnum()]
        ib = [k for k, c in enumerate(new) if c < "\x80" and c.isalnum()]
        if not ia or len(ia) != len(ib) or any(seg[x] != new[y] for x, y in zip(ia, ib)):
            self._align_stretch(base, seg, new)
            return
        pa = pb = 0
        for x, y in zip(ia, ib):
            if seg[pa:x] != new[pb:y]:
                self._align_stretch(base + pa, seg[pa:x], new[pb:y])
            self.keep_until(base + x + 1)  # the anchor, one to one
            pa, pb = x + 1, y + 1
        if seg[pa:] != new[pb:]:
            self._align_stretch(base + pa, seg[pa:], new[pb:])

    def _align_stretch(self, base: int, seg: str, new: str) -> None:
        """Align one stretch (see :meth:`align`).

        Repairs are short and local, so a greedy walk is enough: copy the equal run, then
        find the nearest point where both strings agree again for ``_RESYNC`` characters
        and map the differing stretch in between as one replacement. difflib only serves
        as a fallback when no such point is near.
        """
        n, m = len(seg), len(new)
        i = j = 0
        while True:
            i, j = _equal_run(seg, new, i, j)
            self.keep_until(base + i)
            if i == n or j == m:
                if i < n or j < m:
                    self.replace(base + i, base + n, new[j:])
                return
            nxt = _resync(seg, new, i, j)
            if nxt is None:
                # difflib is quadratic: give it a bounded window, keep its alignment up to
                # the last stretch it found equal, and go on greedily from there
                wa, wb = min(n, i + _DIFF_WINDOW), min(m, j + _DIFF_WINDOW)
                ops = SequenceMatcher(None, seg[i:wa], new[j:wb]).get_opcodes()
                last = len(ops) - 1
                if wa < n or wb < m:
                    while last >= 0 and ops[last][0] != "equal":
                        last -= 1
                for tag, i1, i2, j1, j2 in ops[: last + 1]:
                    if tag == "equal":
                        self.keep_until(base + i + i2)
                    else:
                        self.replace(base + i + i1, base + i + i2, new[j + j1 : j + j2])
                if wa == n and wb == m:
                    return
                if last < 0:  # nothing equal in the window: map it as one stretch
                    self.replace(base + i, base + wa, new[j:wb])
                    i, j = wa, wb
                else:
                    i, j = i + ops[last][2], j + ops[last][4]
                continue
            i2, j2 = nxt
            if i2 - i > 1 and j2 - j > 1:
                # several repairs close together ("Ã© Ã¼"): align inside the stretch
                sm = SequenceMatcher(None, seg[i:i2], new[j:j2], autojunk=False)
                for tag, a1, a2, b1, b2 in sm.get_opcodes():
                    if tag == "equal":
                        self.keep_until(base + i + a2)
                    else:
                        self.replace(base + i + a1, base + i + a2, new[j + b1 : j + b2])
            else:
                self.replace(base + i, base + i2, new[j:j2])
            i, j = i2, j2

    def result(self) -> tuple[str, np.ndarray, np.ndarray] | None:
        if not self.changed:
            return None
        self.keep_until(len(self.src))
        if not self.parts:
            empty = np.zeros(0, dtype=np.int64)
            return "", empty, empty
        return "".join(self.parts), np.concatenate(self.starts), np.concatenate(self.ends)


class _OffsetMap:
    """The composition of every step's map; identity until a step changes something."""

    def __init__(self, original_len: int):
        self.n_orig = original_len
        self.starts: np.ndarray | None = None  # len(text) + 1, last = n_orig
        self.ends: np.ndarray | None = None  # len(text)

    def compose(self, s: np.ndarray, e: np.ndarray) -> None:
        if self.starts is None:
            starts, ends = s, e  # identity: starts[i] = i, ends[i] = i + 1
        else:
            starts = self.starts[s]
            last = np.maximum(e - 1, 0)
            ends = np.where(e > s, self.ends[last] if len(self.ends) else starts, starts)
        dt = _dtype(self.n_orig)
        self.starts = np.append(starts, self.n_orig).astype(dt, copy=False)
        self.ends = np.asarray(ends).astype(dt, copy=False)

    def finish(self, text_len: int) -> tuple[np.ndarray, np.ndarray | None]:
        if self.starts is None:
            return np.arange(text_len + 1, dtype=_dtype(self.n_orig)), None
        ends = self.ends
        if np.array_equal(ends, self.starts[:-1] + 1):
            ends = None
        return self.starts, ends


# --------------------------------------------------------------------------- HTML

#: tags whose removal separates text (replaced by a newline rather than nothing)
BLOCK_TAGS = frozenset(
    "address article aside blockquote br dd div dl dt figcaption figure footer form h1 h2 h3 "
    "h4 h5 h6 header hr li main nav ol p pre section table tbody td tfoot th thead title tr "
    "ul html body head".split()
)
HTML_TAGS = BLOCK_TAGS | frozenset(
    "a abbr b bdi bdo big caption center cite code col colgroup data del dfn em font i iframe "
    "img input ins kbd label link mark meta noscript option picture q s samp select small "
    "source span strike strong sub sup time tt u var video audio button wbr".split()
)

# What a left-to-right scan finds, in the order tried at each position: a comment, a
# script/style element, a declaration, a tag, an entity. Comments and script/style bodies
# run to a closing string that may be far away or missing; a regex like ``<!--.*?-->``
# rescans the rest of the text for every unclosed opener (8,000 ``<!--`` take seconds),
# so those openers are matched here alone and their ends found by :class:`_NextFinder`.
_HTML_START = re.compile(
    r"(?P<comment><!--)"
    r"|<(?P<rawname>script|style)\b"
    r"|(?P<decl><![A-Za-z][^<>]*>)"
    r"|(?P<tag></?(?P<name>[A-Za-z][A-Za-z0-9]{0,15})(?:\s[^<>]*)?/?>)"
    r"|(?P<entity>&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});)",
    re.IGNORECASE,
)
_TAG_AT = re.compile(r"</?(?P<name>[A-Za-z][A-Za-z0-9]{0,15})(?:\s[^<>]*)?/?>", re.IGNORECASE)
_RAW_CLOSE = {name: re.compile(rf"</{name}\s*>", re.IGNORECASE) for name in ("script", "style")}


class _NextFinder:
    """``find(pos)``: the first match of a pattern at or after ``pos``, for positions that
    only grow. A match found (or its absence) answers every later query it still lies
    after, so the text is scanned about once in all."""

    __slots__ = ("text", "search", "at", "found")

    def __init__(self, text: str, search):
        self.text, self.search = text, search
        self.at = -1  # position of the last search
        self.found: tuple[int, int] | None = None  # its result: (start, end) or None

    def find(self, pos: int) -> tuple[int, int] | None:
        if self.at < 0 or pos < self.at or (self.found is not None and self.found[0] < pos):
            self.at, self.found = pos, self.search(self.text, pos)
        return self.found


def _find_str(needle: str):
    def search(text: str, pos: int) -> tuple[int, int] | None:
        i = text.find(needle, pos)
        return None if i < 0 else (i, i + len(needle))
    return search


def _find_re(rx: re.Pattern):
    def search(text: str, pos: int) -> tuple[int, int] | None:
        m = rx.search(text, pos)
        return None if m is None else m.span()
    return search


def _html_items(text: str) -> Iterator[tuple[str, int, int, str]]:
    """``(kind, start, end, detail)`` for every comment, script/style element, declaration,
    tag and entity, as ``re.finditer`` would find them with lazy patterns for comments
    (``<!--.*?-->``) and script/style elements (up to the first matching end tag) tried
    first, but in linear time. ``detail`` is the tag name (lower case) or the entity."""
    comment_end = _NextFinder(text, _find_str("-->"))
    gt = _NextFinder(text, _find_str(">"))
    raw_end = {name: _NextFinder(text, _find_re(rx)) for name, rx in _RAW_CLOSE.items()}
    pos = 0
    while True:
        m = _HTML_START.search(text, pos)
        if m is None:
            return
        a = m.start()
        if m.group("comment"):
            end = comment_end.find(a + 4)
            if end is not None:
                pos = end[1]
                yield "comment", a, pos, ""
            else:
                pos = a + 1  # unclosed: nothing else can start with "<!--"
            continue
        if m.group("rawname"):
            name = m.group("rawname").lower()
            opened = gt.find(m.end())
            end = raw_end[name].find(opened[1]) if opened is not None else None
            if end is not None:
                pos = end[1]
                yield "raw", a, pos, name
                continue
            t = _TAG_AT.match(text, a)  # an unclosed <script ...> is an ordinary tag
            if t is None:
                pos = a + 1
                continue
            pos = t.end()
            yield "tag", a, pos, t.group("name").lower()
            continue
        pos = m.end()
        if m.group("decl"):
            yield "decl", a, pos, ""
        elif m.group("tag"):
            yield "tag", a, pos, m.group("name").lower()
        else:
            yield "entity", a, pos, m.group("entity")


def _is_html(kind: str, detail: str) -> bool:
    if kind == "tag":
        return detail in HTML_TAGS
    if kind == "entity":
        return detail[1] == "#" or detail[1:] in html.entities.html5
    return True


def find_html(text: str) -> bool:
    """Whether ``text`` holds HTML tags, comments or entities (``&amp;``, ``&#228;``)."""
    if "<" not in text and "&" not in text:
        return False
    return any(_is_html(kind, detail) for kind, _, _, detail in _html_items(text))


def _strip_html(text: str):
    if "<" not in text and "&" not in text:
        return None
    b = _Builder(text)
    for kind, a, z, detail in _html_items(text):
        if not _is_html(kind, detail):
            continue
        if kind == "entity":
            b.replace(a, z, html.unescape(detail))
        elif kind == "raw" or (kind == "tag" and detail in BLOCK_TAGS):
            b.replace(a, z, "\n")
        else:
            b.replace(a, z, "")
    return b.result()


# --------------------------------------------------------------------------- mojibake

# UTF-8 read as Latin-1/cp1252: a lead byte U+00C2..U+00F4 followed by a continuation
# byte shown as U+0080..U+00BF or its cp1252 glyph, or "Â"/"Ã" before a space (a lost
# U+00A0 byte, as in "Ã " for "à").
_CONT = "\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192\u02c6\u02dc" \
        "\u2013\u2014\u2018-\u201e\u2020-\u2022\u2026\u2030\u2039\u203a\u20ac\u2122"
_MOJI_HINT = re.compile(f"[\u00c2-\u00f4][{_CONT}]|[\u00c2\u00c3] ")
_CHUNK = 4000


@lru_cache(maxsize=1)
def _ftfy_config():
    from ftfy import TextFixerConfig

    # encoding repairs only: quotes, widths, ligatures, line breaks and NFC are ours
    return TextFixerConfig(
        unescape_html=False, remove_terminal_escapes=False, fix_latin_ligatures=False,
        fix_character_width=False, uncurl_quotes=False, fix_line_breaks=False,
        fix_surrogates=False, remove_control_chars=False, normalization=None, explain=False,
    )


_SAFE_CUT = (re.compile(r"(?<=[\x21-\x7f]) "), re.compile(r"[\x00-\x1f\x21-\x7f]"))


def _line_chunks(text: str, a: int, z: int) -> Iterable[tuple[int, int]]:
    """Cut the line ``text[a:z]`` into pieces of about ``_CHUNK`` characters, cutting only
    after a space that follows an ASCII character or else after an ASCII character, so a
    mojibake sequence (non-ASCII characters, perhaps a space for a lost U+00A0) is never
    cut apart. A line without ASCII is cut anyway, between characters that cannot belong
    to one sequence if it can: ftfy and the alignment must only see bounded pieces."""
    while z - a > 2 * _CHUNK:
        for rx in _SAFE_CUT:
            m = rx.search(text, a + _CHUNK, a + 2 * _CHUNK)
            if m:
                cut = m.end()
                break
        else:
            cut = _forced_cut(text, a + 2 * _CHUNK)
        yield a, cut
        a = cut
    yield a, z


_CONT_CHARS = frozenset(chr(c) for c in range(0x80, 0x2200) if re.match(f"[{_CONT}]", chr(c))) | {" "}


def _forced_cut(text: str, c: int) -> int:
    """A cut at or a little before ``c``: before a character that is no continuation byte
    (nor a space, a lost U+00A0) and not right after a lead byte; else ``c`` itself."""
    for k in range(c, c - 8, -1):
        if text[k] not in _CONT_CHARS and not ("\u00c2" <= text[k - 1] <= "\u00f4"):
            return k
    return c


def _fix_segment(seg: str) -> str:
    from ftfy import fix_text

    try:
        return fix_text(seg, _ftfy_config())
    except Exception:  # ftfy must never take a document down; keep the segment as is
        return seg


def _suspicious_chunks(text: str) -> Iterable[tuple[int, int]]:
    """The line pieces that hold a mojibake-looking character pair."""
    done = -1
    for m in _MOJI_HINT.finditer(text):
        if m.start() < done:
            continue
        a = text.rfind("\n", 0, m.start()) + 1
        z = text.find("\n", m.end())
        z = len(text) if z < 0 else z
        done = z
        for ca, cz in _line_chunks(text, a, z):
            if _MOJI_HINT.search(text, ca, cz):
                yield ca, cz


def looks_like_mojibake(text: str) -> bool:
    """Cheap pre-check (a regex) then ftfy's badness measure on the suspicious lines."""
    from ftfy.badness import is_bad

    for a, z in _suspicious_chunks(text):
        try:
            if is_bad(text[a:z]):
                return True
        except Exception:
            continue
    return False


def _fix_mojibake(text: str):
    if not _MOJI_HINT.search(text):
        return None
    b = _Builder(text)
    for a, z in _suspicious_chunks(text):
        seg = text[a:z]
        fixed = _fix_segment(seg)
        if fixed != seg:
            b.align(a, seg, fixed)
    return b.result()


# --------------------------------------------------------------------------- NFC

# ASCII characters never compose with what precedes them and are never changed, so NFC
# of the whole text equals NFC applied to each non-ASCII run plus the character before it.
_NON_ASCII_RUN = re.compile(r"[\x00-\x7f]?[^\x00-\x7f]+")
_NFC_PIECE = 1000


_MAX_MARKS = 64  # longer runs of combining marks are normalized in pieces of this size


@lru_cache(maxsize=1)
def _long_mark_run() -> re.Pattern:
    """Runs of more than ``_MAX_MARKS`` characters with a combining class: CPython sorts
    them by insertion (quadratic), and no text needs them whole."""
    ranges, start, prev = [], None, None
    for c in range(0x300, 0x20000):  # every combining class > 0 lies in this range
        if unicodedata.combining(chr(c)):
            if start is None or c != prev + 1:
                if start is not None:
                    ranges.append((start, prev))
                start = c
            prev = c
    ranges.append((start, prev))
    cls = "".join(f"\\U{a:08x}-\\U{b:08x}" for a, b in ranges)
    return re.compile(f"[{cls}]{{{_MAX_MARKS + 1},}}")


def _nfc_pieces(seg: str) -> Iterable[tuple[int, int]]:
    """Very long runs (e.g. unspaced CJK) are cut before a plain starter (no combining
    class, not a mark, not a Hangul jamo: nothing that composes with what precedes it)
    so that the alignment stays cheap. Runs of combining marks longer than
    ``_MAX_MARKS`` are cut every ``_MAX_MARKS`` marks (only such runs differ from NFC of
    the whole)."""
    a = 0
    for m in _long_mark_run().finditer(seg):
        for cut in range(m.start() + _MAX_MARKS, m.end(), _MAX_MARKS):
            for pa, pz in _starter_pieces(seg, a, cut):
                yield pa, pz
            a = cut
    yield from _starter_pieces(seg, a, len(seg))


def _starter_pieces(seg: str, a: int, z: int) -> Iterable[tuple[int, int]]:
    i = a + 2 * _NFC_PIECE
    while i < z:
        c = seg[i]
        if unicodedata.combining(c) == 0 and not ("\u1100" <= c <= "\u11ff") \
                and not unicodedata.category(c).startswith("M"):
            yield a, i
            a = i
            i += 2 * _NFC_PIECE
        else:
            i += 1
    yield a, z


def _nfc(text: str):
    if unicodedata.is_normalized("NFC", text):
        return None
    b = _Builder(text)
    for m in _NON_ASCII_RUN.finditer(text):
        seg = m.group()
        if unicodedata.is_normalized("NFC", seg):
            continue
        for pa, pz in _nfc_pieces(seg):
            piece = seg[pa:pz]
            new = unicodedata.normalize("NFC", piece)
            if new != piece:
                b.align(m.start() + pa, piece, new)
    return b.result()


# --------------------------------------------------------------------------- characters

SPACES = "\u00a0\u2009\u202f\u2007\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2008\u200a\u205f\u3000\u1680"
LINE_SEPARATORS = "\u2028\u2029"
ZERO_WIDTH = "\u200b\u200c\u200d\ufeff\u2060"
SOFT_HYPHEN = "\u00ad"
DOUBLE_QUOTES = "\u201e\u201c\u201d\u201f\u00ab\u00bb"  # „ “ ” ‟ « »
SINGLE_QUOTES = "\u201a\u2018\u2019\u201b\u2039\u203a"  # ‚ ‘ ’ ‛ ‹ ›
DASHES = "\u2010\u2011\u2012\u2013\u2014\u2015\u2212"  # ‐ ‑ ‒ – — ― −


@lru_cache(maxsize=64)
def _char_tables(spaces: bool, soft_hyphens: bool, quotes: bool, dashes: bool):
    """The replacement table and the regexes that find its characters. Only removals get
    a note: one-for-one replacements (spaces, quotes, dashes) are routine in German news
    and leave every offset as it was."""
    table: dict[int, str | None] = {}
    deleted = ""
    groups: list[tuple[str, str]] = []
    if spaces:
        table.update({ord(c): " " for c in SPACES})
        table.update({ord(c): "\n" for c in LINE_SEPARATORS})
        table.update({ord(c): None for c in ZERO_WIDTH})
        deleted += ZERO_WIDTH
        groups.append(("zero-width characters removed", ZERO_WIDTH))
    if soft_hyphens:
        table[ord(SOFT_HYPHEN)] = None
        deleted += SOFT_HYPHEN
        groups.append(("soft hyphens removed", SOFT_HYPHEN))
    if quotes:
        table.update({ord(c): '"' for c in DOUBLE_QUOTES})
        table.update({ord(c): "'" for c in SINGLE_QUOTES})
    if dashes:
        table.update({ord(c): "-" for c in DASHES})
    any_re = re.compile("[" + re.escape("".join(chr(k) for k in table)) + "]") if table else None
    del_re = re.compile("[" + re.escape(deleted) + "]") if deleted else None
    del_codes = np.array(sorted(ord(c) for c in deleted), dtype=np.uint32)
    group_res = [(note, re.compile("[" + re.escape(chars) + "]")) for note, chars in groups]
    return table, any_re, del_re, del_codes, group_res


def _map_chars(text: str, cfg: NormalizeConfig, notes: list[str]):
    table, any_re, del_re, del_codes, group_res = _char_tables(
        cfg.spaces, cfg.soft_hyphens, cfg.quotes, cfg.dashes)
    if any_re is None or not any_re.search(text):
        return None, text
    notes.extend(note for note, rx in group_res if rx.search(text))
    # str.replace per present character is much faster than str.translate on long texts
    new = text
    for code, repl in table.items():
        c = chr(code)
        if c in new:
            new = new.replace(c, repl or "")
    if del_re is None or not del_re.search(text):
        return None, new  # one-to-one: the offset map does not change
    codes = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype="<u4")
    kept = np.flatnonzero(~np.isin(codes, del_codes))
    return (kept, kept + 1), new


# --------------------------------------------------------------------------- the stage


def _hide(text: str, spans: Iterable[Sequence[int]]) -> str:
    n = len(text)
    clean = sorted((max(0, int(a)), min(n, int(b))) for a, b in spans)
    out, pos = [], 0
    for a, b in clean:
        a = max(a, pos)
        if b <= a:
            continue
        out.append(text[pos:a])
        out.append(" " * (b - a))
        pos = b
    if not out:
        return text
    out.append(text[pos:])
    return "".join(out)


def normalize_text(
    text: str,
    cfg: NormalizeConfig,
    *,
    html: str = "keep",
    hidden_spans: Iterable[Sequence[int]] = (),
) -> Normalized:
    """Normalize ``text`` for the model and keep a map back to ``text``.

    ``html="strip"`` removes tags and decodes entities; ``hidden_spans`` (e.g. the
    leading ``date 2023-09`` line) become spaces of the same length.
    """
    text = text or ""
    omap = _OffsetMap(len(text))
    notes: list[str] = []
    cur = _hide(text, hidden_spans) if hidden_spans else text

    def apply(step, note: str) -> None:
        nonlocal cur
        res = step(cur)
        if res is None:
            return
        new, s, e = res
        omap.compose(s, e)
        if note and new != cur:
            notes.append(note)
        cur = new

    if cur:
        if html == "strip":
            apply(_strip_html, "html stripped")
        if cfg.mojibake:
            apply(_fix_mojibake, "mojibake repaired")
        if cfg.unicode_nfc:
            apply(_nfc, "unicode normalized (NFC)")
        maps, new = _map_chars(cur, cfg, notes)
        if maps is not None:
            omap.compose(*maps)
        cur = new
    offsets, ends = omap.finish(len(cur))
    return Normalized(text=cur, offsets=offsets, notes=notes, ends=ends)


def to_original(norm: Normalized, start: int, end: int) -> tuple[int, int]:
    """Map the normalized span ``[start, end)`` to ``(ostart, oend)`` in the original.

    The original slice covers exactly the source of the span's characters: the start of
    its first character and the end of its last one (so ``&amp;`` maps to all five
    characters, and a removed soft hyphen after the span is not swallowed).
    """
    n = len(norm.text)
    start = min(max(int(start), 0), n)
    end = min(max(int(end), start), n)
    ostart = int(norm.offsets[start])
    if end == start:
        return ostart, ostart
    if norm.ends is not None:
        oend = int(norm.ends[end - 1])
    else:
        oend = int(norm.offsets[end - 1]) + 1
    return ostart, max(oend, ostart)
