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
from collections.abc import Iterable, Sequence
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
                sm = SequenceMatcher(None, seg[i:], new[j:])
                for tag, i1, i2, j1, j2 in sm.get_opcodes():
                    if tag == "equal":
                        self.keep_until(base + i + i2)
                    else:
                        self.replace(base + i + i1, base + i + i2, new[j + j1 : j + j2])
                return
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

_HTML_RE = re.compile(
    r"(?P<comment><!--.*?-->)"
    r"|(?P<raw><(?P<rawname>script|style)\b[^>]*>.*?</(?P=rawname)\s*>)"
    r"|(?P<decl><![A-Za-z][^<>]*>)"
    r"|(?P<tag></?(?P<name>[A-Za-z][A-Za-z0-9]{0,15})(?:\s[^<>]*)?/?>)"
    r"|(?P<entity>&(?:#[0-9]{1,7}|#[xX][0-9a-fA-F]{1,6}|[A-Za-z][A-Za-z0-9]{1,31});)",
    re.DOTALL | re.IGNORECASE,
)


def _is_html(m: re.Match) -> bool:
    if m.group("tag"):
        return m.group("name").lower() in HTML_TAGS
    if m.group("entity"):
        ent = m.group("entity")
        return ent[1] == "#" or ent[1:] in html.entities.html5
    return True


def find_html(text: str) -> bool:
    """Whether ``text`` holds HTML tags, comments or entities (``&amp;``, ``&#228;``)."""
    if "<" not in text and "&" not in text:
        return False
    return any(_is_html(m) for m in _HTML_RE.finditer(text))


def _strip_html(text: str):
    if "<" not in text and "&" not in text:
        return None
    b = _Builder(text)
    for m in _HTML_RE.finditer(text):
        if not _is_html(m):
            continue
        a, z = m.span()
        if m.group("entity"):
            b.replace(a, z, html.unescape(m.group()))
        elif m.group("tag") and m.group("name").lower() in BLOCK_TAGS:
            b.replace(a, z, "\n")
        elif m.group("raw"):
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
    cut apart."""
    while z - a > 2 * _CHUNK:
        for rx in _SAFE_CUT:
            m = rx.search(text, a + _CHUNK, a + 2 * _CHUNK)
            if m:
                break
        else:
            break
        yield a, m.end()
        a = m.end()
    yield a, z


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


def _nfc_pieces(seg: str) -> Iterable[tuple[int, int]]:
    """Very long runs (e.g. unspaced CJK) are cut before a plain starter (no combining
    class, not a mark, not a Hangul jamo: nothing that composes with what precedes it)
    so that the alignment stays cheap."""
    a = 0
    i = 2 * _NFC_PIECE
    while i < len(seg):
        c = seg[i]
        if unicodedata.combining(c) == 0 and not ("\u1100" <= c <= "\u11ff") \
                and not unicodedata.category(c).startswith("M"):
            yield a, i
            a = i
            i += 2 * _NFC_PIECE
        else:
            i += 1
    yield a, len(seg)


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
