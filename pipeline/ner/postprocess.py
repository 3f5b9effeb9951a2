"""Pure span post-processing on (text, spans): no spaCy here.

A span is ``(start, end, label, kind)`` with offsets into the text the model saw.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable

Span = tuple[int, int, str, str]

#: labels of other models -> (our label, kind); None drops the entity
FOREIGN_LABELS: dict[str, tuple[str, str] | None] = {
    "PER": ("PER", "name"), "PERSON": ("PER", "name"),
    "LOC": ("LOC", "name"), "GPE": ("LOC", "name"), "FAC": ("LOC", "name"),
    "ORG": ("ORG", "name"),
    "MISC": ("MISC", "name"), "OTH": ("MISC", "name"), "EVENT": ("MISC", "name"),
    "PRODUCT": ("MISC", "name"), "WORK_OF_ART": ("MISC", "name"), "LAW": ("MISC", "name"),
    "NORP": ("LOC", "deriv"),
}

_ADJ = re.compile(r"^[a-zäöüß]+(isch|ländisch|anisch|esisch)(e|en|er|es|em)?$")
_WORD = re.compile(r"\w", re.UNICODE)


class WorkLimitExceeded(Exception):
    """A text needed more work units than its budget (see :class:`Work`)."""

    def __init__(self, used: int, limit: int):
        super().__init__(f"{used} work units over the limit of {limit}")
        self.used, self.limit = used, limit


class Work:
    """A count of work units (characters scanned, candidates compared) against a limit.

    Every function here takes one (``work=None``: unlimited) and charges what it does
    beyond a linear pass, so that a text whose spans would make some step expensive is
    stopped by a count, not by a clock: the same text fails the same way on any machine.
    """

    __slots__ = ("used", "limit")

    def __init__(self, limit: int | None = None):
        self.used = 0
        self.limit = limit

    def charge(self, units: int) -> None:
        self.used += units
        if self.limit is not None and self.used > self.limit:
            raise WorkLimitExceeded(self.used, self.limit)


_STEP = 0x110000  # a trie edge is keyed node * _STEP + code point: ints, not nested dicts


class _Trie:
    """The words of a text's names, for longest-match scans.

    ``re.compile("|".join(words))`` tries every word in turn at every position, so a
    long text with thousands of names costs text x names; walking a trie costs at most
    the length of the longest match per position. Its edges live in one dict of ints
    (no object per node for the garbage collector to walk).
    """

    def __init__(self, words: Iterable[str]):
        self.edges: dict[int, int] = {}
        self.final: set[int] = set()
        firsts = set()
        for w in words:
            if not w:
                continue
            firsts.add(w[0])
            node = 0
            for c in w:
                key = node * _STEP + ord(c)
                nxt = self.edges.get(key)
                if nxt is None:
                    nxt = self.edges[key] = len(self.edges) + 1
                node = nxt
            self.final.add(node)
        self.first = re.compile("[" + re.escape("".join(sorted(firsts))) + "]") if firsts else None

    def ends(self, text: str, p: int, work: Work) -> list[int]:
        """Ends of the words that start at ``p``, shortest first."""
        out = []
        edges, final = self.edges, self.final
        node, k, n = 0, p, len(text)
        while k < n:
            node = edges.get(node * _STEP + ord(text[k]))
            if node is None:
                break
            k += 1
            if node in final:
                out.append(k)
        work.charge(k - p + 1)
        return out

    def finditer(self, text: str, work: Work) -> Iterable[tuple[int, int]]:
        """``(start, end)`` of the longest word at each position, left to right and not
        overlapping: what ``re.finditer`` finds with the words as an alternation, longest
        first."""
        if self.first is None:
            return
        p = 0
        while True:
            m = self.first.search(text, p)
            if m is None:
                return
            p = m.start()
            ends = self.ends(text, p, work)
            if ends:
                yield p, ends[-1]
                p = ends[-1]
            else:
                p += 1


def map_label(label: str) -> tuple[str, str] | None:
    """Model label -> (PER/LOC/ORG/MISC, name/deriv/part), e.g. ``LOCderiv`` -> (LOC, deriv)."""
    for kind in ("deriv", "part"):
        if label.endswith(kind) and len(label) > len(kind):
            base = FOREIGN_LABELS.get(label[: -len(kind)].upper())
            return (base[0], kind) if base and base[1] == "name" else None
    return FOREIGN_LABELS.get(label.upper())


def split_compound(text: str, span: Span, known: Iterable[str] = (), work: Work | None = None) -> list[Span]:
    """Narrow ``part`` spans to the name inside a compound and split coordinated derivs.

    - ``Kreml-Sprecher`` (part) -> ``Kreml``: every hyphen segment but the last (the head).
    - ``Kremlsprecher`` (part, no hyphen) -> ``Kreml`` when a name found in the same
      document is a prefix of it; otherwise the span is kept whole.
    - ``russisch-nordkoreanischen`` (deriv) -> two derivs when every segment is a
      lower-case ``-isch`` adjective; ``US-amerikanischen`` stays one deriv.
    """
    start, end, label, kind = span
    s = text[start:end]
    if kind == "part":
        if "-" in s.strip("-"):
            head = s.rstrip("-").rsplit("-", 1)[0]
            if head and head[0].isupper():
                return [(start, start + len(head), label, kind)]
            return [span]
        # the longest known name that is a prefix followed by at least 3 more characters,
        # the first of them lower case: look its prefixes up rather than every name
        known = known if isinstance(known, (set, frozenset, dict)) else set(known)
        (work or Work()).charge(len(s))
        for k in range(len(s) - 3, 1, -1):
            if s[k].islower() and s[:k] in known:
                return [(start, start + k, label, kind)]
        return [span]
    if kind == "deriv" and "-" in s:
        parts = s.split("-")
        if len(parts) > 1 and all(_ADJ.match(p) or (i < len(parts) - 1 and re.fullmatch(r"[a-zäöü]+isch", p))
                                  for i, p in enumerate(parts)):
            out = []
            pos = start
            for p in parts:
                out.append((pos, pos + len(p), label, kind))
                pos += len(p) + 1
            return out
    return [span]


def _is_boundary(text: str, i: int) -> bool:
    return i <= 0 or i >= len(text) or not _WORD.match(text[i])


def propagate(text: str, spans: list[Span], work: Work | None = None) -> list[Span]:
    """Tag other exact occurrences of names the model found in the same text.

    Only ``name`` spans of at least 3 characters (2 for all-caps acronyms) that start
    with a capital are propagated; each surface form takes its majority label. A
    following genitive ``s`` or apostrophe is included in the new span (``Putins``).
    Existing spans are never changed and new spans never overlap them.
    """
    labels: dict[str, Counter] = {}
    for s, e, label, kind in spans:
        form = text[s:e]
        if kind != "name" or not form[:1].isupper():
            continue
        if len(form) < 3 and not (len(form) == 2 and form.isupper()):
            continue
        labels.setdefault(form, Counter())[label] += 1
    if not labels:
        return spans
    taken = sorted((s, e) for s, e, _, _ in spans)
    occupied = bytearray(len(text) + 1)
    for s, e in taken:
        occupied[s:e] = b"\x01" * (e - s)
    new: list[Span] = []
    for s, e in _Trie(labels).finditer(text, work or Work()):
        form = text[s:e]
        if not _is_boundary(text, s - 1):
            continue
        if e < len(text) and text[e] in "s'’" and _is_boundary(text, e + 1):
            e += 1
        elif not _is_boundary(text, e):
            continue
        if any(occupied[s:e]):
            continue
        label = labels[form].most_common(1)[0][0]
        new.append((s, e, label, "name"))
        occupied[s:e] = b"\x01" * (e - s)
    return sorted(spans + new)


def complete_names(text: str, spans: list[Span], work: Work | None = None) -> list[Span]:
    """Extend a name span cut short before the rest of a longer name found in the same
    text: with "Kim Jong Un" tagged elsewhere, "Kim Jong" in "Kim Jong Uns Besuch"
    becomes "Kim Jong Uns" (a genitive ``s`` or apostrophe is included, as in
    ``propagate``). Words added after a space must start with a capital ("Jong-un"
    after a hyphen need not), must be free of other spans, and the span takes the
    longer name's majority label.
    """
    labels: dict[str, Counter] = {}
    for s, e, label, kind in spans:
        if kind == "name":
            labels.setdefault(text[s:e], Counter())[label] += 1
    if len(labels) < 2:
        return spans
    work = work or Work()
    # each name under the forms it extends: "Kim Jong Un" under "Kim" and "Kim Jong"
    # ("-" or " " + a capital follows), grouped by length, longest first
    longer_by_form: dict[str, dict[int, set[str]]] = {}
    for longer in labels:
        work.charge(len(longer))
        for k, c in enumerate(longer):
            if k and (c == "-" or c == " " and longer[k + 1:k + 2].isupper()):
                longer_by_form.setdefault(longer[:k], {}).setdefault(len(longer), set()).add(longer)
    occupied = bytearray(len(text) + 1)
    for s, e, _, _ in spans:
        occupied[s:e] = b"\x01" * (e - s)
    out: list[Span] = []
    for s, e, label, kind in spans:
        form = text[s:e]
        by_len = longer_by_form.get(form) if kind == "name" else None
        if by_len:
            best = None
            for n in sorted(by_len, reverse=True):  # the longest that fits wins
                longer = text[s:s + n]
                work.charge(n)
                if longer not in by_len[n]:
                    continue
                end = s + n
                if end < len(text) and text[end] in "s'’" and _is_boundary(text, end + 1):
                    end += 1
                elif not _is_boundary(text, end):
                    continue
                if not any(occupied[e:end]):
                    best, new_end = longer, end
                    break
            if best is not None:
                occupied[e:new_end] = b"\x01" * (new_end - e)
                s, e, label = s, new_end, labels[best].most_common(1)[0][0]
        out.append((s, e, label, kind))
    return sorted(out)


def part_prefix_candidates(text: str, spans: list[Span], work: Work | None = None) -> list[Span]:
    """Find unhyphenated compounds that start with a name of this text (``Kremlsprecher``
    when ``Kreml`` is a name here) and tag the name as a ``part``."""
    names = {text[s:e]: label for s, e, label, kind in spans if kind in ("name", "part") and e - s >= 4}
    if not names:
        return spans
    occupied = bytearray(len(text) + 1)
    for s, e, _, _ in spans:
        occupied[s:e] = b"\x01" * (e - s)
    new = []
    # what re.finditer(r"\b(name|...)([a-zäöüß]{4,})") finds, names longest first
    work = work or Work()
    trie = _Trie(names)
    start = re.compile(r"\b" + trie.first.pattern)
    p = 0
    while True:
        m = start.search(text, p)
        if m is None:
            break
        p = m.start()
        for e in reversed(trie.ends(text, p, work)):
            tail = _LOWER_TAIL.match(text, e)
            if tail:
                if not any(occupied[p : tail.end()]) and _is_boundary(text, tail.end()):
                    new.append((p, e, names[text[p:e]], "part"))
                p = tail.end()
                break
        else:
            p += 1
    return sorted(spans + new)


_LOWER_TAIL = re.compile(r"[a-zäöüß]{4,}")


# --------------------------------------------------------------------------- span refinement

#: lower-case words that may sit inside a person's name
NAME_PARTICLES = frozenset(
    "von vom van der den de del della di da das dos du le la al el bin ibn ben ten ter zu zum zur y e".split()
)
#: class nouns of places and facilities: outside the span, the name is a place
#: ("Flughafen Tegel" -> "Tegel", "Region Amur" -> "Amur"); see the annotation guidelines
PLACE_CLASS_NOUNS = frozenset(
    """Flughafen Hafen Bahnhof Hauptbahnhof Kosmodrom Kosmodroms Weltraumbahnhof Weltraumbahnhofs
    Raumfahrtzentrum Stützpunkt Militärstützpunkt Luftwaffenstützpunkt Atomkraftwerk Kraftwerk
    Region Provinz Bezirk Landkreis Kreis Distrikt Bundesstaat Bundesland Oblast Gouvernement
    Stadt Hauptstadt Gemeinde Dorf Insel Halbinsel Fluss Berg Gebirge Tal Stadion""".split()
)

_TOKEN = re.compile(r"\S+")
#: rule 4 of refine_spans looks up every sub-span of a span: not of longer ones
MAX_SPLIT_TOKENS = 32


def _tokens(text: str, s: int, e: int) -> list[tuple[int, int]]:
    return [(s + m.start(), s + m.end()) for m in _TOKEN.finditer(text[s:e])]


def _preceding_word(text: str, s: int) -> str:
    """The word right before offset ``s`` on the same line, separated by spaces only."""
    head = text[max(0, s - 60):s]
    if not head.endswith((" ", "\t")):
        return ""
    stripped = head.rstrip(" \t")
    if not stripped or stripped.endswith(("\n", "\r")):
        return ""
    return stripped.split()[-1]


def _majority(labels: dict[str, Counter], form: str) -> str | None:
    c = labels.get(form)
    return c.most_common(1)[0][0] if c else None


def refine_spans(text: str, spans: list[Span], *, is_title=None, country=None,
                 work: Work | None = None) -> list[Span]:
    """Fix span boundaries and labels with in-document evidence (general rules only).

    1. a span never crosses a line break;
    2. a leading place class noun is dropped and the rest is a place
       ("Kosmodrom Wostotschny" -> "Wostotschny", LOC); a name right after a class noun
       outside the span is a place too ("Kosmodrom [Wostotschny]");
    3. a person span loses leading titles ("Kremlsprecher Peskow" -> "Peskow"), a lone
       title is dropped, and the span is cut at lower-case words that are not name
       particles ("Kim lud Putin");
    4. a span made of two or more names found elsewhere in the same text is split into
       them ("Kim Jong-un Putin"), each with its majority label (spans of more than
       ``MAX_SPLIT_TOKENS`` words are left whole: every sub-span is looked up);
    5. a leading genitive of a known name ends the name: "Nordkoreas Artilleriegeschosse"
       -> "Nordkoreas";
    6. country names (CLDR, and their genitives) are LOC.

    ``is_title(token) -> bool`` and ``country(text) -> bool`` come from the linker's
    lexicons; either may be None.
    """
    out: list[Span] = []
    for s, e, label, kind in spans:
        pos = s
        for piece in re.split(r"(\n+)", text[s:e]):
            ps, pe = pos, pos + len(piece)
            pos = pe
            if "\n" in piece or not piece.strip():
                continue
            out.append((ps, pe, label, kind))
    spans = out

    out = []
    for s, e, label, kind in spans:
        toks = _tokens(text, s, e)
        if kind == "name" and len(toks) > 1 and text[toks[0][0]:toks[0][1]] in PLACE_CLASS_NOUNS:
            s, label = toks[1][0], "LOC"
            toks = toks[1:]
        elif kind == "name" and label != "LOC" and _preceding_word(text, s) in PLACE_CLASS_NOUNS:
            label = "LOC"  # the class noun just outside the span: "Kosmodrom [Wostotschny]"
        if kind == "name" and label == "PER" and is_title is not None:
            while len(toks) > 1 and is_title(text[toks[0][0]:toks[0][1]]):
                toks = toks[1:]
            s = toks[0][0]
            if len(toks) == 1 and is_title(text[s:e]):
                continue  # a lone title ("Kremlsprecher") is a function, not a name
        if kind == "name" and label == "PER" and len(toks) > 1:
            run: list[tuple[int, int]] = []
            for ts, te in toks + [(e, e)]:
                word = text[ts:te]
                if ts == te or (word[:1].islower() and word not in NAME_PARTICLES):
                    if run:
                        out.append((run[0][0], run[-1][1], label, kind))
                    run = []
                else:
                    run.append((ts, te))
            continue
        out.append((s, e, label, kind))
    spans = out

    labels: dict[str, Counter] = {}
    for s, e, label, kind in spans:
        if kind == "name":
            labels.setdefault(text[s:e], Counter())[label] += 1

    def known(form: str) -> str | None:
        lab = _majority(labels, form)
        if lab is None and len(form) > 3 and form[-1] == "s":
            lab = _majority(labels, form[:-1])
        if lab is None and country is not None and country(form):
            lab = "LOC"
        return lab

    work = work or Work()
    out = []
    for s, e, label, kind in spans:
        toks = _tokens(text, s, e)
        if kind != "name" or len(toks) < 2 or len(toks) > MAX_SPLIT_TOKENS:
            out.append((s, e, label, kind))
            continue
        work.charge(len(toks) * (e - s))
        whole = text[s:e]
        pieces: list[tuple[int, int, str | None]] = []
        i = 0
        while i < len(toks):
            for j in range(len(toks), i, -1):
                form = text[toks[i][0]:toks[j - 1][1]]
                lab = known(form) if form != whole else None
                if lab is not None:
                    pieces.append((toks[i][0], toks[j - 1][1], lab))
                    i = j
                    break
            else:
                pieces.append((toks[i][0], toks[i][1], None))
                i += 1
        n_known = sum(1 for p in pieces if p[2] is not None)
        first = pieces[0]
        genitive_head = (n_known == 1 and first[2] is not None and len(pieces) > 1
                         and text[first[0]:first[1]].endswith("s"))
        if n_known >= 2:
            out.extend((ps, pe, lab or label, kind) for ps, pe, lab in pieces
                       if lab is not None or text[ps:pe][:1].isupper())
        elif genitive_head:
            out.append((first[0], first[1], first[2], kind))
        else:
            out.append((s, e, label, kind))

    if country is not None:
        out = [(s, e, "LOC" if kind == "name" and label != "LOC" and country(text[s:e]) else label, kind)
               for s, e, label, kind in out]
    return sorted(set(out))


def harmonize_labels(text: str, spans: list[Span]) -> list[Span]:
    """One label per name form within a document: each ``name`` span takes the majority
    label of its surface form, a genitive counting with its base form (ties keep the
    model's label). "Kim Jong-un" tagged PER three times and MISC once is PER everywhere;
    "Kims" tagged LOC beside three PER "Kim" is PER."""
    forms = {text[s:e] for s, e, _, kind in spans if kind == "name"}

    def base(form: str) -> str:  # a genitive counts with its base form: Kims -> Kim
        return form[:-1] if len(form) > 3 and form[-1] == "s" and form[:-1] in forms else form

    labels: dict[str, Counter] = {}
    for s, e, label, kind in spans:
        if kind == "name":
            labels.setdefault(base(text[s:e]), Counter())[label] += 1
    out = []
    for s, e, label, kind in spans:
        counts = labels.get(base(text[s:e])) if kind == "name" else None
        if counts and len(counts) > 1:
            (best, n), *rest = counts.most_common()
            if n > counts[label] and (not rest or rest[0][1] < n):
                label = best
        out.append((s, e, label, kind))
    return out
