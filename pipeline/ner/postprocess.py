"""Pure span post-processing on (text, spans): no spaCy here.

A span is ``(start, end, label, kind)`` with offsets into the text the model saw.
"""

from __future__ import annotations

import bisect
import re
from collections import Counter
from collections.abc import Iterable

from ..link.compare import TRADE_HEADS

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


def split_compound(text: str, span: Span, known: Iterable[str] = (), work: Work | None = None,
                   is_title=None, is_place=None) -> list[Span]:
    """Narrow ``part`` spans to the name inside a compound and split coordinated derivs.

    - ``Kreml-Sprecher`` (part) -> ``Kreml``: every hyphen segment but the last (the head),
      and none of a role compound's role prefix: ``XYZ-Ko-Chefin`` -> ``XYZ``; a lower-case
      first part where it is a known name or an organisation's short form (``dpa-Meldung``
      -> ``dpa``, ``ödp-Kreisverbandes`` -> ``ödp``); a name span
      that is such a role compound (``SPD-Chef``, not a person) becomes a part.
    - ``Kremlsprecher`` (part, no hyphen) -> ``Kreml`` when a name found in the same
      document is a prefix of it, ``Europawahl`` -> ``Europa`` (LOC) when a place name is
      (``is_place``: a country, region or continent); a capitalised compound with neither
      is no mention ("Bundespräsidentenwahl", "Mondlandung": the model's false parts, and
      the name of a part is never the whole word).
    - ``russisch-nordkoreanischen`` (deriv) -> two derivs when every segment is a
      lower-case ``-isch`` adjective; ``US-amerikanischen`` stays one deriv.
    """
    start, end, label, kind = span
    s = text[start:end]
    if kind == "name" and label != "PER" and "-" in s.strip("-") and " " not in s:
        segs = s.split("-")
        k = _role_tail(segs, is_title)
        if k is not None and segs[0][:1].isupper() and segs[0].lower() not in ROLE_PREFIXES:
            kind = "part"  # "SPD-Chef" as a name: the party is a part of a role word
    if kind == "part":
        known = known if isinstance(known, (set, frozenset, dict)) else set(known)
        if "-" in s.strip("-"):
            segs = s.rstrip("-").split("-")
            k = _role_tail(segs, is_title)
            head = "-".join(segs[:k]) if k else s.rstrip("-").rsplit("-", 1)[0]
            # a lower-case head too where it is a name of the document or an
            # organisation's short form ("dpa-Meldung", "ödp-Kreisverbandes")
            if head and (head[0].isupper() or head in known
                         or (label == "ORG" and head.isalpha() and head.islower() and 2 <= len(head) <= 4)):
                return [(start, start + len(head), label, kind)]
            return [span]
        # the longest known name that is a prefix followed by at least 3 more characters,
        # the first of them lower case: look its prefixes up rather than every name
        (work or Work()).charge(len(s))
        for k in range(len(s) - 3, 1, -1):
            if s[k].islower() and s[:k] in known:
                return [(start, start + k, label, kind)]
        # the whole word as a part (not a name already cut out of it, "Kongo" in "Kongobecken")
        if is_place is not None and s[:1].isupper() and s.isalpha() and not s.isupper() \
                and _is_boundary(text, end):
            for k in range(len(s) - 3, 2, -1):
                if s[k].islower() and is_place(s[:k]):
                    return [(start, start + k, "LOC", kind)]
            return []
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


def _whole_name_end(text: str, s: int, e: int) -> int | None:
    """The end of a name found at ``[s, e)`` taken as whole words, extended over a
    genitive ``-s`` or an apostrophe ("Putins", "Macron's"); None when the match starts
    or ends inside a word."""
    if not _is_boundary(text, s - 1):
        return None
    if e < len(text) and text[e] in "s'’" and _is_boundary(text, e + 1):
        return e + 1
    return e if _is_boundary(text, e) else None

def _occupied(text: str, spans: Iterable[Span]) -> bytearray:
    """One byte per character of ``text``, 1 where one of ``spans`` covers it: new spans
    are checked against it so that they never overlap one the text already has."""
    occupied = bytearray(len(text) + 1)
    for s, e, *_ in spans:
        occupied[s:e] = b"\x01" * (e - s)
    return occupied


def propagate(text: str, spans: list[Span], work: Work | None = None) -> list[Span]:
    """Tag other exact occurrences of names the model found in the same text.

    Only ``name`` spans of at least 3 characters (2 for all-caps acronyms) that start
    with a capital are propagated; each surface form takes its majority label. A
    following genitive ``s`` or apostrophe is included in the new span (``Putins``).
    Existing spans are never changed and new spans never overlap them, but for a
    one-word person or place the model found in at most a third of its three or more
    occurrences: a noun it misread, dropped.
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
    occupied = _occupied(text, spans)
    new: list[Span] = []
    for s, e in _Trie(labels).finditer(text, work or Work()):
        form = text[s:e]
        e = _whole_name_end(text, s, e)
        if e is None:
            continue
        if any(occupied[s:e]):
            continue
        label = labels[form].most_common(1)[0][0]
        new.append((s, e, label, "name"))
        occupied[s:e] = b"\x01" * (e - s)
    # a one-word person or place the model saw in at most a third of its occurrences is a
    # noun it misread ("Tattoos", "Gelb" and "Tor" in a football report): the model finds
    # a surname or a place name nearly everywhere it occurs (organisations it misses more
    # often). Neither the rest nor the model's own spans of it stay. A form it saw under
    # two labels ("Kreml" as a person and a place), the head of a compound counted
    # ("Kreml-Sprecher"), is a name whose label it doubts.
    added = Counter((_propagated_form(text, sp, labels), sp[2]) for sp in new if sp[2] in _RARE_LABELS)
    seen: dict[str, Counter] = {}
    for s, e, lab, _ in spans:
        seen.setdefault(text[s:e].split("-", 1)[0], Counter())[lab] += 1
    rare = {(f, lab) for (f, lab), n in added.items()
            if " " not in f and n >= 3 and len(seen[f]) < 2 and n >= 2 * seen[f].total()}
    if rare:
        new = [sp for sp in new if (_propagated_form(text, sp, labels), sp[2]) not in rare]
        spans = [sp for sp in spans if not (sp[3] == "name" and (text[sp[0]:sp[1]], sp[2]) in rare)]
    return sorted(spans + new)


#: labels whose one-word names the model rarely misses where they occur
_RARE_LABELS = frozenset({"PER", "LOC"})


#: lower-case function words a name never ends with ("Die Rechte und", "Institut der")
_TRAILING_FUNCTION_WORDS = frozenset("und oder sowie der die das des dem den für von vom zu zur zum mit in im an am "
                                     "auf aus bei beim nach über unter wie ein eine einer".split())
_LETTER = re.compile(r"[^\W\d_]")


def trim_spans(text: str, spans: list[Span]) -> list[Span]:
    """Spans cut back to a name: lower-case function words at the end go ("Die Rechte
    und" -> "Die Rechte", "Demokratischen Partei für das" -> "Demokratischen Partei"),
    with the whitespace and punctuation before them; a span without a letter is no name
    ("16.03.2016", "2:31:37")."""
    out = []
    for s, e, label, kind in spans:
        while True:
            cut = text.rfind(" ", s, e)
            if cut <= s or text[cut + 1:e] not in _TRAILING_FUNCTION_WORDS:
                break
            e = cut
            while e > s and not text[e - 1].isalnum():
                e -= 1
        if e > s and _LETTER.search(text, s, e):
            out.append((s, e, label, kind))
    return out


# --------------------------------------------------------------------------- names the model leaves out

#: a capitalised adjective before a compass noun: a region's name ("im Fernen Osten",
#: "den Nahen Osten", "im Mittleren Westen", "im Hohen Norden")
_COMPASS_NAME = re.compile(r"\b([A-ZÄÖÜ][a-zäöüß]{2,}(?:e|en|er|es|em)) (Osten|Westen|Norden|Süden)\b")
#: an abbreviation in brackets right after a name: "Östlichen Wirtschaftsforum (EEF)"
_BRACKET_ABBR = re.compile(r"[ \t]*\(([A-ZÄÖÜ][A-ZÄÖÜa-zäöü0-9&-]{1,9})\)")


def compass_regions(text: str, spans: list[Span]) -> list[Span]:
    """A capitalised adjective before "Osten"/"Westen"/"Norden"/"Süden" inside a sentence
    is a region's name, a place ("im Fernen Osten", "im Nahen Osten"); the adjective must
    be no common word ("Den Osten", "Im Norden" at a sentence start are none). A span of
    either word alone becomes the whole name; one that reaches further stays."""
    out = list(spans)
    for m in _COMPASS_NAME.finditer(text):
        s, e = m.span()
        if _is_common_word(m.group(1)) or _sentence_start(text, s):
            continue
        inside = [sp for sp in out if sp[0] < e and sp[1] > s]
        if any(sp[0] < s or sp[1] > e for sp in inside):
            continue
        out = [sp for sp in out if sp not in inside] + [(s, e, "LOC", "name")]
    return sorted(out) if out != spans else spans


def bracket_abbreviations(text: str, spans: list[Span], defines) -> list[Span]:
    """An abbreviation in brackets right after a name it abbreviates is a name with that
    name's label ("Östlichen Wirtschaftsforum (EEF)", "Internationaler Währungsfonds
    (IWF)"; ``defines(short, long)``: :func:`pipeline.link.compare.abbreviation_defines`),
    where the model did not tag it; the article's other uses of it follow by
    propagation."""
    occupied = None
    new = []
    for s, e, label, kind in spans:
        if kind != "name" or (" " not in text[s:e] and len(text[s:e]) < 8):  # a long form, not "Iran (IR)"
            continue
        m = _BRACKET_ABBR.match(text, e)
        if m is None:
            continue
        a, b = m.span(1)
        short = m.group(1)
        if sum(c.isupper() for c in short) < 2:
            continue
        if occupied is None:
            occupied = _occupied(text, spans)
        if any(occupied[a:b]):
            continue
        if defines(short, text[s:e]):
            new.append((a, b, label, "name"))
    return sorted(spans + new) if new else spans


# --------------------------------------------------------------------------- credit lines

#: the cue of a credit, a word of its own anywhere on a line ("... Flüchtlinge. Foto: Holger
#: Hollemann", "aussehen.Foto: Bahn", "| Quelle: DGAP"), or "©" at a line's start ("©
#: dpa-infocom GmbH"); the list after it decides (a sentence is no list of names)
_CREDIT_CUE = re.compile(r"(?:(?<![^\W\d_])(?P<cue>Quellen?|Fotos?|Bild(?:er)?|Grafik|Video|Karte|Mit Material von)"
                         r"[ \t]*:|^[ \t]*(?P<copy>©|\([cC]\))(?=[ \t]*[\w(]))[ \t]*", re.MULTILINE)
#: a further cue inside a credit line ("Foto: Kay Nietfeld Bild: dpa-infocom GmbH")
_CREDIT_NEXT_CUE = re.compile(r"[ \t]+(?:Quellen?|Fotos?|Bild(?:er)?|Grafik|Video|Karte)[ \t]*:[ \t]*")
_PHOTO_CUES = frozenset({"Foto", "Fotos", "Bild", "Bilder"})
#: a line ending in a bracket of sources: "Minh Duc (Laut RT, Sputnik)", "(AFP, dpa)"; the
#: words before the bracket, when they are the whole line, may be the author
_CREDIT_BRACKET = re.compile(r"^[ \t]*(?P<by>[^()\n]{0,200}?)[ \t]*\([ \t]*"
                             r"(?P<cue>(?:[Ll]aut|Quellen?:|[Mm]it Material von)[ \t]+)?"
                             r"(?P<list>[^()\n]{1,80}?)[ \t]*\)[ \t]*$", re.MULTILINE)
#: an author's line: "Von Peter Heusch", "von ALEXANDER MÜLLER", "Text: Anna Berg"
_BYLINE = re.compile(r"^[ \t]*(?:[Vv]on|Text:|Autor:|Autorin:)[ \t]+"
                     r"(?P<by>[A-ZÄÖÜ][\w'’-]+(?:[ \t]+[A-ZÄÖÜ][\w'’.-]+){1,2})[ \t]*$", re.MULTILINE)
_CREDIT_DATE = re.compile(r"\d{1,2}\.\d{1,2}\.(?:\d{4}|\d{2})?")
_CREDIT_SEP = re.compile(r"\s*(?:,|;|/|&|\bund\b|©)\s*")
#: words of a credit that name no source
_CREDIT_FILLERS = frozenset(
    "archiv archivbild privat screenshot screenshots symbolbild symbolfoto montage collage handout illustration "
    "grafik karte video foto fotos bild bilder text quelle quellen material agenturen agentur pressebild "
    "hersteller red redaktion".split())
#: words that make a credit an organisation rather than a photographer ("Getty Images",
#: "dpa-infocom GmbH")
_CREDIT_ORG_WORDS = frozenset("images image press presse news media agency agentur online tv photo photos "
                              "pictures picture stock alliance verlag zeitung gmbh ag se kg inc ltd llc plc "
                              "corp group gruppe".split())
#: endings of institutions' words, which make a credit no person ("Deutsche Bahn", "Stadt Wien")
_CREDIT_ORG_ENDINGS = ("bahn", "bank", "stadt", "land", "polizei", "feuerwehr", "ministerium", "amt", "universität",
                       "museum", "verband", "verein", "institut", "klinik", "klinikum", "verlag", "werke", "partei",
                       "regierung", "gemeinde", "kirche", "bistum", "zoo", "theater", "oper", "festival", "heer",
                       "präsidium", "direktion", "behörde", "dienst", "zentrum", "schule", "gericht", "kammer")
_CREDIT_TOKEN = re.compile(r"[A-ZÄÖÜ][\w'’.-]*\w|[A-ZÄÖÜ]|[a-zäöü]{2,6}-[\w-]*\w", re.UNICODE)


def credit_lines(text: str, spans: list[Span], is_place=None) -> list[Span]:
    """Sources and authors in attribution lines, annotated like running text: a credit
    "Quelle: X, Y" / "Foto: X" (to the end of its line) gives X
    and Y as organisations (one word, an acronym, or words such as "Images", "GmbH":
    "Getty Images"); a name of two or three words first in a photo credit, after "©" or
    after an agency and "/" is the photographer, a person also where the model read an
    organisation ("Foto: Holger Hollemann", "© Artem Geodakjan", "dpa/Michael
    Kappeler"); the cue word itself is no name. A line ending in a bracket of sources
    ("(AFP, dpa)", "(Laut RT, Sputnik)") gives them too, and the two or three
    capitalised words before the bracket, when they are the whole line, as its author
    ("Minh Duc", not where ``is_place(words)`` says they are a place, "New York (AP)");
    so are the two or three names of a line "Von Peter Heusch" ("von ALEXANDER MÜLLER").
    Without a cue ("Laut", "Quelle:") a bracket counts only where its items are acronyms
    ("(AFP, dpa)"; "(Update)" is none). A credit the model tagged keeps the model's span;
    a list with a word that is no name ("Foto: privat", "(Teil 2)") adds nothing."""
    occupied: bytearray | None = None  # the spans the text has (made when a credit is found)

    def free(s: int, e: int) -> bool:
        nonlocal occupied
        if occupied is None:
            occupied = _occupied(text, spans)
        return not any(occupied[s:e])

    new: list[Span] = []
    relabel: dict[tuple[int, int], str] = {}
    cue_words: set[tuple[int, int]] = set()

    def add(items: list[tuple[int, int, str]]) -> None:
        for s, e, lab in items:
            if lab == "DROP":
                cue_words.add((s, e))
            elif free(s, e):
                new.append((s, e, lab.rstrip("!"), "name"))
            elif lab.endswith("!"):
                relabel[(s, e)] = lab.rstrip("!")

    done = 0  # the end of the last credit line read (a further cue on it was read with it)
    for m in _CREDIT_CUE.finditer(text):
        if m.start() < done:
            continue
        line_end = text.find("\n", m.end())
        line_end = done = len(text) if line_end < 0 else line_end
        a, photo = m.end(), m.group("copy") is not None or m.group("cue") in _PHOTO_CUES
        cue = m.span("cue") if m.group("cue") else None
        for nxt in list(_CREDIT_NEXT_CUE.finditer(text, a, line_end)) + [None]:
            b = nxt.start() if nxt is not None else line_end
            while b > a and text[b - 1] in " \t.":
                b -= 1
            items = _credit_items(text, a, b, acronyms_only=False, photo=photo, is_place=is_place) if b > a else []
            if items:
                add(items)
                if cue is not None:  # a credit's cue is no name ("Bild" before a headline may be)
                    cue_words.add(cue)
            if nxt is not None:
                word = nxt.group(0).strip(" \t:")
                w0 = nxt.start() + nxt.group(0).index(word)
                a, photo, cue = nxt.end(), word in _PHOTO_CUES, (w0, w0 + len(word))
    for m in _CREDIT_BRACKET.finditer(text):
        items = _credit_items(text, m.start("list"), m.end("list"), acronyms_only=m.group("cue") is None,
                              is_place=is_place)
        if not items:
            continue
        add(items)
        by = m.group("by")
        toks = by.split()
        if (2 <= len(toks) <= 3 and all(_CREDIT_TOKEN.fullmatch(t) and not t.isupper() for t in toks)
                and not any(t.casefold() in _CREDIT_ORG_WORDS or t.casefold() in _CREDIT_FILLERS for t in toks)
                and not (is_place is not None and (is_place(by) or any(is_place(t) for t in toks)))):
            add([(m.start("by"), m.start("by") + len(by), "PER")])
    for m in _BYLINE.finditer(text):
        by = m.group("by")
        toks = by.split()
        if (len({t.isupper() for t in toks}) == 1
                and not any(t.casefold() in _CREDIT_ORG_WORDS or t.casefold().endswith(_CREDIT_ORG_ENDINGS)
                            for t in toks)
                and not (is_place is not None and is_place(by))):
            add([(m.start("by"), m.end("by"), "PER!" if by.isupper() else "PER")])
    if relabel or cue_words:
        spans = [(s, e, relabel.get((s, e), lab), kind) for s, e, lab, kind in spans if (s, e) not in cue_words]
    return sorted(spans + new) if new or cue_words else spans


def _credit_items(text: str, a: int, b: int, acronyms_only: bool, photo: bool = False, is_place=None
                  ) -> list[tuple[int, int, str]]:
    """The sources of a credit list ``text[a:b]`` as (start, end, label); empty where one
    of its items is no name. A name of two or three words first in a ``photo`` credit,
    after "©" or after a source and "/" is the photographer ("© Artem Geodakjan", "dpa/Michael Kappeler", "APA/HANS
    KLAUS TECHT"; not a place, "Bad Tölz", nor an institution, "Polizeipräsidium München"); one in
    capitals is labelled ``"PER!"``: it overrides the model's reading."""
    out = []
    pos = a
    person_slot = photo  # "Foto: Holger Hollemann"
    # a dated credit ("(red, 12.5.2016)", "(APA, 12.5.2016)"): its date is skipped and a
    # filler word in it ("red": the newsroom) is no name, also where the model read one
    dated = bool(_CREDIT_DATE.search(text, a, b))
    for sep in list(_CREDIT_SEP.finditer(text, a, b)) + [None]:
        e = sep.start() if sep is not None else b
        item = text[pos:e]
        if item.strip():
            s0 = pos + len(item) - len(item.lstrip())
            e0 = s0 + len(item.strip())
            form = text[s0:e0]
            toks = form.split()
            lower_acronym = form.isalpha() and form.islower() and 2 <= len(form) <= 4
            if dated and (_CREDIT_DATE.fullmatch(form) or form.casefold() in _CREDIT_FILLERS):
                if not _CREDIT_DATE.fullmatch(form):
                    out.append((s0, e0, "DROP"))
                if sep is not None:
                    pos = sep.end()
                continue
            if acronyms_only:
                ok = (form.isalpha() and form.isupper() and 2 <= len(form) <= 6) or lower_acronym
            else:
                ok = (1 <= len(toks) <= 4 and all(_CREDIT_TOKEN.fullmatch(t) for t in toks)) or lower_acronym
            if not ok or any(t.casefold() in _CREDIT_FILLERS for t in toks):
                return []
            org_word = any(t.casefold() in _CREDIT_ORG_WORDS or t.casefold().endswith(_CREDIT_ORG_ENDINGS)
                           for t in toks)
            if len(toks) == 1 and len(form) < 3 and not form.isupper() and not lower_acronym:
                pass  # "© We": a word, not a source
            elif len(toks) == 1 or org_word:
                out.append((s0, e0, "ORG"))
            elif (person_slot and len(toks) <= 3 and all(len(t) >= 2 for t in toks)
                  and len({t.isupper() for t in toks}) == 1  # "LTV Sachsen" is no name in capitals
                  and not (is_place is not None and is_place(form))):
                # the model reads a name in capitals as an organisation: overruled
                out.append((s0, e0, "PER!" if form.isupper() else "PER"))
            # other names of two or more words may be people or firms ("Deutsche
            # Bank", "Fabrizio Bensch" without an agency before it): left to the model
        person_slot = sep is not None and ("©" in sep.group(0) or ("/" in sep.group(0) and bool(out)))
        if sep is not None:
            pos = sep.end()
    if acronyms_only and not dated and not any(text[s:e].isupper() for s, e, _ in out):
        return []
    return out


def _propagated_form(text: str, span: Span, labels: dict) -> str:
    """The name form a propagated span copies (its text, without the genitive it took)."""
    form = text[span[0]:span[1]]
    return form if form in labels else form[:-1]


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
    occupied = _occupied(text, spans)
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


_PARTICLE_TAIL = re.compile(r"(?: (?:[a-z]{1,4}))* [A-ZÄÖÜ][\w'’-]*")


def extend_particle_names(text: str, spans: list[Span]) -> list[Span]:
    """A person's span that ends in a capitalised name particle is cut short: "Alexander
    Van" in "Alexander Van der Bellen", "Nguyen Van" in "Nguyen Van Thieu", "Alexander De"
    in "Alexander De Croo". It takes the rest of the name: lower-case particles, then one
    capitalised word, where no other span holds them."""
    starts = sorted(s for s, _, _, _ in spans)
    out = []
    for s, e, label, kind in spans:
        if label == "PER" and kind == "name":
            last = text[s:e].rsplit(" ", 1)[-1]
            if last[:1].isupper() and last.lower() in NAME_PARTICLES and len(last) >= 2 and " " in text[s:e]:
                m = _PARTICLE_TAIL.match(text, e)
                k = bisect.bisect_right(starts, s)  # the next span's start
                if m and all(w in NAME_PARTICLES for w in m.group(0).split()[:-1]) \
                        and (k == len(starts) or starts[k] >= m.end()) and _is_boundary(text, m.end()):
                    e = m.end()
        out.append((s, e, label, kind))
    return out


_JOIN_AFTER = re.compile(r" (?:[a-zäöüß]+ ){1,3}[A-ZÄÖÜ]")
_JOIN_BEFORE = re.compile(r"[A-ZÄÖÜ][\w.’'-]* (?:[a-zäöüß]+ ){1,3}$")


def join_place_names(text: str, spans: list[Span], places: "_Trie | None", work: Work | None = None) -> list[Span]:
    """A place name of several words joined by lower-case words that the model cut into
    pieces becomes one place: "Bosnien und Herzegowina" (read as "Bosnien" and
    "Herzegowina"), "Trinidad und Tobago", "Dar es Salaam". ``places``: a trie of such
    names (countries and regions, :func:`pipeline.ner.model.joined_place_names`). Only
    where the model found part of the name and every span it overlaps lies inside it."""
    if places is None or not spans:
        return spans
    work = work or Work()
    starts = [sp[0] for sp in spans]
    # such a name holds a place the model found: it starts there or a few words before
    cands = set()
    for s0, e0, label, _ in spans:
        # a lower-case word and a capitalised one after it, or before it
        if label != "LOC" or not (_JOIN_AFTER.match(text, e0) or _JOIN_BEFORE.search(text, max(0, s0 - 60), s0)):
            continue
        p, words = s0, 0
        while True:
            cands.add(p)
            q = text.rfind(" ", max(0, p - 40), max(0, p - 1))
            if q < 0 or words == 3:
                break
            p, words = q + 1, words + 1
    found = []
    first = places.first
    for p in sorted(cands):
        if first is not None and first.match(text, p) and _is_boundary(text, p - 1):
            ends = [e for e in places.ends(text, p, work) if _is_boundary(text, e)]
            if ends:
                found.append((p, ends[-1]))
    out, drop = [], set()
    taken = -1
    for s, e in found:
        if s < taken:
            continue
        lo = bisect.bisect_left(starts, s)
        while lo > 0 and spans[lo - 1][1] > s:
            lo -= 1
        hi = bisect.bisect_left(starts, e)
        inside = list(range(lo, hi))
        if inside and all(spans[i][0] >= s and spans[i][1] <= e and spans[i][2] == "LOC" for i in inside) \
                and not any(spans[i][:2] == (s, e) for i in inside):
            drop.update(inside)
            out.append((s, e, "LOC", "name"))
            taken = e
    if not out:
        return spans
    return sorted([sp for i, sp in enumerate(spans) if i not in drop] + out)


def part_prefix_candidates(text: str, spans: list[Span], work: Work | None = None) -> list[Span]:
    """Find unhyphenated compounds that start with a name of this text (``Kremlsprecher``
    when ``Kreml`` is a name here) and tag the name as a ``part``."""
    names = {text[s:e]: label for s, e, label, kind in spans if kind in ("name", "part") and e - s >= 4}
    if not names:
        return spans
    occupied = _occupied(text, spans)
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
       them ("Kim Jong-un Putin"), each with its majority label, when the whole form is
       found nowhere else, each part is found with one label only, and a person span
       does not start with a lone given name ("Meghan Markle" stays whole; see
       ``_may_split``); spans of more than ``MAX_SPLIT_TOKENS`` words are left whole
       (every sub-span is looked up);
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
        if n_known >= 2 and _may_split(text, whole, label, pieces, labels, country):
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


def _may_split(text: str, whole: str, label: str, pieces: list[tuple[int, int, str | None]],
               labels: dict[str, Counter], country=None) -> bool:
    """Whether rule 4 of :func:`refine_spans` may split ``whole`` into ``pieces``: the
    whole form is found nowhere else in the text, every known piece is found elsewhere
    as a name of one label only (or is a country), and a person span does not start with
    a lone known given name ("Meghan Markle", "Lena Meyer-Landrut" and, after a chunk
    boundary cut one mention, "Emmanuel Macron" are names, not two names)."""
    if sum(labels.get(whole, Counter()).values()) > 1:
        return False
    for ps, pe, lab in pieces:
        if lab is None:
            continue
        form = text[ps:pe]
        found = labels.get(form) or (labels.get(form[:-1]) if form.endswith("s") else None)
        if found is None:
            if country is None or not country(form):
                return False
        elif len(found) > 1:
            return False
    ps, pe, lab = pieces[0]
    return not (label == "PER" and lab == "PER" and " " not in text[ps:pe])


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


# --------------------------------------------------------------------------- labels from the name's form

#: last words (or word endings) of event names: "Olympische Spiele", "Fußball-Weltmeisterschaft",
#: "Berlinale" is left to the model; these are MISC whatever the model read
EVENT_HEADS = ("spiele", "sommerspiele", "winterspiele", "meisterschaft", "meisterschaften", "olympiade",
               "festspiele", "festival", "cup", "open", "grand prix", "marathon", "rallye", "weltcup", "contest")
#: last words of company names: legal forms and trade heads ("Tesla Motors", "Air Berlin Airlines")
COMPANY_HEADS = frozenset("AG GmbH SE KG KGaA Inc Inc. Corp Corp. Corporation Ltd Ltd. plc PLC".split()) | TRADE_HEADS
#: endings of an adjective opening a company name ("Deutsche Telekom AG"), never its short form
_ADJECTIVE_ENDINGS = ("e", "er", "en", "es", "em")
#: endings of a class noun right before a name that make it an organisation
#: ("Nachrichtenagentur Xinhua", "Autobauer Opel", "Zeitung Le Monde")
ORG_CLASS_ENDINGS = ("agentur", "konzern", "konzerns", "hersteller", "herstellers", "zeitung", "zeitschrift",
                     "magazin", "magazins", "sender", "senders", "verein", "vereins", "partei", "unternehmen",
                     "unternehmens", "firma", "autobauer", "gesellschaft", "notenbank", "zentralbank", "behörde",
                     "organisation", "gewerkschaft", "miliz", "klub", "club", "clubs", "klubs", "fluglinie")
#: endings of a class noun right before a name that make it a thing, MISC: vehicles,
#: products, varieties, works of reference, units ("Raumstation ISS", "Raumfähre
#: Discovery", "Kartoffelsorte Amflora", "Enzyklopädie Wikipedia", "Grad Celsius")
MISC_CLASS_ENDINGS = ("raumstation", "fähre", "shuttle", "modul", "sonde", "rakete", "satellit", "teleskop",
                      "sorte", "enzyklopädie", "betriebssystem", "browser", "software", "grad")
#: nominative company nouns that make a one-word "person" after them ORG ("Rüstungskonzern Diehl")
_COMPANY_NOUNS = ("konzern", "unternehmen", "hersteller", "firma", "autobauer", "automarke", "marke")
_NUMBER = re.compile(r"^\d{2,4}$")


def _is_event(form: str) -> bool:
    words = form.replace("-", " ").split()
    if len(words) > 1 and _NUMBER.match(words[-1]):
        words = words[:-1]  # "Olympische Sommerspiele 2008"
    if not words:
        return False
    last = words[-1].lower()
    if len(words) > 1 and (" ".join(words[-2:]).lower() in EVENT_HEADS or last in EVENT_HEADS):
        return True
    return any(last.endswith(h) and len(last) > len(h) + 2 for h in _EVENT_ENDINGS)


_EVENT_ENDINGS = ("spiele", "meisterschaft", "meisterschaften", "festival", "festspiele")


def _class_label(before: str, label: str, form: str, country=None) -> str | None:
    """The label the class noun ``before`` a name gives it (rule 4 of :func:`label_by_form`),
    or None."""
    if before in PLACE_CLASS_NOUNS:
        return "LOC"  # "Kosmodrom Wostotschny": refine_spans made it a place; here for the document
    if not before[:1].isupper():
        return None
    noun = before.lower()
    if noun.endswith(MISC_CLASS_ENDINGS):
        return "MISC"
    if label in ("LOC", "MISC") and noun.endswith(ORG_CLASS_ENDINGS) and not (country is not None and country(form)):
        return "ORG"
    if label == "PER" and len(form.split()) == 1 and noun.endswith(_COMPANY_NOUNS):
        return "ORG"
    return None


def label_by_form(text: str, spans: list[Span], abbreviation=None, country=None) -> list[Span]:
    """Labels the form of a name decides, whatever the model read (general rules only):

    1. an event name is MISC: its last word is an event noun ("Olympischen Spiele",
       "Fußball-Weltmeisterschaft", "Olympische Sommerspiele 2008");
    2. a company name is ORG: its last word is a legal form or trade head ("Tesla
       Motors", "Siemens AG");
    3. a place with a number is a club, ORG ("Hannover 96", "1899 Hoffenheim");
    4. a name right after a place class noun is LOC ("Kosmodrom Wostotschny"), right
       after the class noun of a thing MISC ("Raumstation ISS",
       "Raumfähre Discovery", "Kartoffelsorte Amflora", "Grad Celsius"); a place or misc
       name right after an organisation's class noun is ORG ("Nachrichtenagentur
       Xinhua", "Autobauer Opel"), unless it is a country (``country(form) -> bool``),
       which is an attribute there ("Partei Kanadas"), and so is a one-word "person"
       right after a company noun ("Rüstungskonzern Diehl"); the label a class noun gives
       holds for the same name everywhere in the document;
    5. the short form of a name that rule 2 or 3 made ORG, in the same document, is ORG
       too ("Tesla" beside "Tesla Motors" or "Tesla Grohmann Automation", not an
       adjective such as "Deutsche"; "Hoffenheim" beside "1899 Hoffenheim");
    6. an abbreviation defined in brackets right after a long form that is not a person
       takes the long form's label everywhere in the document ("Interamerikanische
       Entwicklungsbank (IADB)"); ``abbreviation(short, long) -> bool`` decides whether
       the bracket defines it (the linker's :func:`pipeline.link.compare.abbreviation_defines`).
    """
    out: list[Span] = []
    short_org: set[str] = set()
    by_class: dict[str, set[str]] = {}
    for s, e, label, kind in spans:
        if kind == "name":
            form = text[s:e]
            words = form.split()
            if _is_event(form):
                label = "MISC"
            elif len(words) > 1 and words[-1] in COMPANY_HEADS:
                label = "ORG"
                if len(words) == 2 or not words[0].endswith(_ADJECTIVE_ENDINGS):
                    short_org.add(words[0])  # "Tesla" of "Tesla Grohmann Automation", not "Deutsche"
            elif label == "LOC" and len(words) == 2 and sum(bool(_NUMBER.match(w)) for w in words) == 1:
                label = "ORG"
                short_org.add(words[1] if _NUMBER.match(words[0]) else words[0])
            elif (cls := _class_label(_preceding_word(text, s), label, form, country)) is not None:
                label = cls
                by_class.setdefault(form, set()).add(cls)
        out.append((s, e, label, kind))
    # a class noun once in the document names the thing everywhere there
    relabel: dict[str, str] = {f: next(iter(labs)) for f, labs in by_class.items() if len(labs) == 1}
    if abbreviation is not None:
        for (s1, e1, l1, k1), (s2, e2, l2, k2) in zip(out, out[1:]):
            if (k1 == k2 == "name" and l1 != "PER" and text[e1:s2] == " ("
                    and text[e2:e2 + 1] == ")" and text[s2:e2].isupper() and abbreviation(text[s2:e2], text[s1:e1])):
                relabel[text[s2:e2]] = l1
    if short_org or relabel:
        def new_label(form: str, label: str) -> str:
            if form in relabel:
                return relabel[form]
            base = form[:-1] if form.endswith("s") and form[:-1] in short_org else form
            return "ORG" if base in short_org and label in ("LOC", "PER", "MISC") else label
        out = [(s, e, new_label(text[s:e], label) if kind == "name" else label, kind) for s, e, label, kind in out]
    return out


def _after_article(text: str, s: int) -> bool:
    """Whether the word at ``s`` follows a determiner that does not follow a comma."""
    word = _preceding_word(text, s)
    if word.lower() not in _DETERMINERS:
        return False
    at = text.rfind(word, 0, s)
    return not text[max(0, at - 3):at].rstrip(" \t").endswith(",")


def drop_common_nouns(text: str, spans: list[Span]) -> list[Span]:
    """A one-word "person" that mostly follows an article in the document is a common
    noun ("der Hacker", "des Bären"): German puts no article before a person's name in
    news prose. Its spans in the document are dropped when it occurs at least twice and
    more than half of them directly follow an article or another determiner (not one
    right after a comma, a relative pronoun: ", den Blair erreichen will"), unless the
    word (or its genitive base) is part of a longer person's name in the document ("der
    Höckers Vorgesetzter" beside "Karl Höcker")."""
    seen: dict[str, list[int]] = {}
    name_words: set[str] = set()
    for s, e, label, kind in spans:
        form = text[s:e]
        if kind == "name" and label == "PER" and " " in form:
            name_words.update(form.split())
        elif kind == "name" and label == "PER" and "-" not in form:
            c = seen.setdefault(form, [0, 0])
            c[0] += 1
            c[1] += _after_article(text, s)
    common = {f for f, (n, det) in seen.items()
              if n >= 2 and det * 2 > n and f not in name_words and not (f.endswith("s") and f[:-1] in name_words)}
    if not common:
        return spans
    return [sp for sp in spans if not (sp[3] == "name" and sp[2] == "PER" and text[sp[0]:sp[1]] in common)]


def drop_unplaced_derivs(text: str, spans: list[Span], derives_from_place) -> list[Span]:
    """A lower-case place adjective ("russische", LOC deriv) stays a mention only where a
    place is found it derives from: ``derives_from_place(word, place_names)`` with the
    document's LOC names. The model also reads adjectives of religion, politics or style
    as derived places ("katholischen", "rechtspopulistische", "satirischen"); they would
    become places of their own. Capitalised derived forms ("Traindorfer", "Kanadier")
    are kept: the inhabitants and adjectives of small places no list holds look alike."""
    places = None
    out = []
    for sp in spans:
        s, e, label, kind = sp
        if kind == "deriv" and label == "LOC" and text[s:s + 1].islower():
            if places is None:
                places = tuple(sorted({text[a:b] for a, b, lab, k in spans if lab == "LOC" and k == "name"}))
            if not derives_from_place(text[s:e], places):
                continue
        out.append(sp)
    return out


#: words after which a sentence's first word is used as an adverb, not a name: "Kurz
#: nach Mitternacht", "Lange vor der Wahl", "Kurz darauf" (prepositions and adverbs of time)
_ADVERBIAL_NEXT = frozenset("nach vor darauf danach zuvor davor vorher bevor nachdem ehe hinter".split())


def drop_sentence_adverbs(text: str, spans: list[Span]) -> list[Span]:
    """A one-word person at the start of a sentence whose lower-case form is a common German
    word (spaCy's German stop words: "kurz", "lange", "gleich") and that a preposition or
    an adverb of time follows is that word, not the person of that name found elsewhere:
    "Kurz nach Mitternacht" beside "Sebastian Kurz"; "Kurz sagte" stays."""
    return [sp for sp in spans if not (sp[2] == "PER" and sp[3] == "name" and is_sentence_adverb(text, sp[0], sp[1]))]


def is_sentence_adverb(text: str, s: int, e: int) -> bool:
    """Whether the word at [s, e) is such an adverb (see :func:`drop_sentence_adverbs`)."""
    return _is_common_word(text[s:e]) and _sentence_start(text, s) and _next_word(text, e) in _ADVERBIAL_NEXT


def _is_common_word(form: str) -> bool:
    from spacy.lang.de.stop_words import STOP_WORDS

    return " " not in form and form[:1].isupper() and form.lower() in STOP_WORDS


def _next_word(text: str, e: int) -> str:
    m = _TOKEN.match(text, e + 1) if e < len(text) and text[e] == " " else None
    return m.group(0).rstrip(",.;:") if m else ""


# --------------------------------------------------------------------------- persons in a document

#: role nouns the linker's title list lacks, matched as the end of a word's last hyphen
#: segment ("Grünen-Kandidatin", "Spitzenkandidat", "CDU-Politikerin")
ROLE_ENDINGS = ("kandidat", "kandidatin", "politiker", "politikerin", "abgeordnete", "abgeordneter",
                "abgeordneten", "vorsitzende", "vorsitzender", "vorsitzenden", "chef", "chefin",
                "sprecher", "sprecherin", "funktionär", "funktionärin", "mitglied")
#: first segments of role compounds that are not names ("Ko-Chefin", "Vize-Präsident")
ROLE_PREFIXES = frozenset("ko co vize ex interims alt stellvertretende stellvertretender".split())
#: a capitalised word right after one of these is a common noun, not a surname ("der Koch")
_DETERMINERS = frozenset("der die das den dem des ein eine einen einem einer eines kein keine "
                         "keinen keinem keiner".split())
_NO_GENITIVE_S = ("s", "ß", "x", "z")
_FUNCTION_WORDS = _DETERMINERS | {"the", "a", "an", "of", "and", "und", "le", "la", "les", "el"}


def is_role(word: str, is_title=None) -> bool:
    """A title, function or role word that is never part of a name: the linker's title
    lexicon (``is_title``) or a word ending in one of :data:`ROLE_ENDINGS`."""
    word = word.strip(",;:()\"'„“”")
    if not word or not word[:1].isupper():
        return False
    if is_title is not None and is_title(word):
        return True
    last = word.rsplit("-", 1)[-1].lower()
    return last.endswith(ROLE_ENDINGS)


def _role_tail(segments: list[str], is_title=None) -> int | None:
    """The index of the first hyphen segment from which a compound is a role
    ("XYZ-Ko-Chefin" -> 1), or None. Segments before the last must be role prefixes."""
    if len(segments) < 2 or not is_role(segments[-1][:1].upper() + segments[-1][1:], is_title):
        return None
    k = len(segments) - 1
    while k > 1 and segments[k - 1].lower() in ROLE_PREFIXES:
        k -= 1
    return k


def _name_tokens(form: str) -> list[str]:
    return form.split()


def _is_name_word(tok: str) -> bool:
    return tok[:1].isupper() or tok in NAME_PARTICLES


def _full_persons(text: str, spans: list[Span], is_title=None) -> dict[str, int]:
    """Person names of two or more words found in the text -> their count."""
    out: Counter = Counter()
    for s, e, label, kind in spans:
        if label != "PER" or kind != "name":
            continue
        toks = _name_tokens(text[s:e])
        if len(toks) >= 2 and toks[0][:1].isupper() and toks[-1][:1].isupper() and all(map(_is_name_word, toks)) \
                and not any(is_role(t, is_title) for t in toks):
            out[" ".join(toks)] += 1
    return out


def _surname_forms(full: str) -> list[str]:
    """The forms a full name is referred to by alone: the last word, and with the
    particles before it ("Ursula von der Leyen" -> "von der Leyen", "Leyen")."""
    toks = _name_tokens(full)
    last = toks[-1]
    if len(last) < 3 or last.endswith(".") or not last[:1].isupper() or last.isupper():
        return []  # an initial or an acronym ("Victor FB") is no surname
    forms = [last]
    k = len(toks) - 1
    while k > 1 and toks[k - 1] in NAME_PARTICLES:
        k -= 1
    if k < len(toks) - 1:
        forms.insert(0, " ".join(toks[k:]))
    return forms


def _same_person(a: str, b: str) -> bool:
    """Two given-name words of the same person: equal, or one the other's initial."""
    a, b = a.rstrip("."), b.rstrip(".")
    return a == b or (len(a) == 1 and b.startswith(a)) or (len(b) == 1 and a.startswith(b))


def _sentence_start(text: str, s: int) -> bool:
    k = s - 1
    while k >= 0 and text[k] in " \t\"„“”'‚‘(":
        k -= 1
    return k < 0 or text[k] in ".!?:\n\r"


def split_roles(text: str, spans: list[Span], is_title=None) -> list[Span]:
    """Take role words, party names and titles glued before a person's name out of its
    span: "Grünen-Kandidatin Maria Muster" (one ORG span) -> the part "Grünen-Kandidatin"
    (narrowed to "Grünen" by :func:`split_compound`) and "Maria Muster" (PER);
    "Grünen Maria Muster" -> "Grünen" (the span's label) and "Maria Muster" (PER).

    The rest after the head (whose last word is capitalised) is a person when it is a
    person name of two or more words found in the text, or the head is a role word and
    the rest is two to four capitalised words. Two passes: a name freed from a role word in
    the first counts as found in the second.
    """
    return _split_roles_once(text, _split_roles_once(text, spans, is_title), is_title)


def _split_roles_once(text: str, spans: list[Span], is_title=None) -> list[Span]:
    full = _full_persons(text, spans, is_title)
    out: list[Span] = []
    for s, e, label, kind in spans:
        toks = _tokens(text, s, e)
        if kind != "name" or len(toks) < 2:
            out.append((s, e, label, kind))
            continue
        words = [text[a:b] for a, b in toks]
        cut = None
        for i in range(1, len(toks)):
            tail = words[i:]
            if not tail[0][:1].isupper() or not all(map(_is_name_word, tail)) or not tail[-1][:1].isupper():
                continue
            head_role = is_role(words[i - 1], is_title)
            tail_s = " ".join(tail)
            bare = tail_s[:-1] if tail_s.endswith(("s", "'", "’")) else tail_s
            if not words[i - 1][:1].isupper() or words[i - 1].lower() in _FUNCTION_WORDS:
                continue  # "Profiles of U2 and The Band": the head ends in a function word
            # a role word alone is evidence only as the whole head ("GNU General Public License")
            if tail_s in full or bare in full or (head_role and i == 1 and 2 <= len(tail) <= 4):
                if label == "PER" and not head_role:
                    continue  # a person's span led by a non-role word: leave it to the other rules
                cut = i
                break
        if cut is None:
            out.append((s, e, label, kind))
            continue
        hs, he = toks[0][0], toks[cut - 1][1]
        head = text[hs:he]
        last_head = words[cut - 1]
        if is_role(last_head, is_title):
            segs = last_head.split("-")
            k = _role_tail(segs, is_title)
            if cut == 1 and k is not None and segs[0][:1].isupper() and segs[0].lower() not in ROLE_PREFIXES:
                out.append((hs, he, label if label != "PER" else "ORG", "part"))  # "Grünen-Kandidatin"
            # a role word alone is a function, not a name: it leaves the spans (see person_titles)
        elif head[:1].isupper():
            out.append((hs, he, label if label != "PER" else "ORG", kind))
        out.append((toks[cut][0], e, "PER", "name"))
    return sorted(set(out))


def merge_person_fragments(text: str, spans: list[Span], work: Work | None = None) -> list[Span]:
    """Where an occurrence of a person name of two or more words found in the text is
    covered by several spans, or by spans of another label, that lie wholly inside it
    ("Rafael van der" PER + "Vaart" ORG, or "Emmanuel" + "Macron" cut by a chunk
    boundary), they become that one person span (a genitive ``s`` or apostrophe is
    included)."""
    full = _full_persons(text, spans)
    if not full:
        return spans
    spans = sorted(spans)
    starts = [s for s, _, _, _ in spans]
    import bisect

    drop: set[int] = set()
    new: list[Span] = []
    for s, e in _Trie(full).finditer(text, work or Work()):
        e = _whole_name_end(text, s, e)
        if e is None:
            continue
        i = bisect.bisect_left(starts, s)
        if i > 0 and spans[i - 1][1] > s:
            continue  # a span crosses the start
        j = i
        while j < len(spans) and spans[j][0] < e:
            j += 1
        inside = spans[i:j]
        if not inside or any(x[1] > e for x in inside) or any(x[3] != "name" for x in inside):
            continue
        if len(inside) == 1 and inside[0][2] == "PER":
            continue  # one person span: complete_names' business
        drop.update(range(i, j))
        new.append((s, e, "PER", "name"))
    if not new:
        return spans
    return sorted([x for k, x in enumerate(spans) if k not in drop] + new)


def extend_surnames(text: str, spans: list[Span], *, is_title=None, country=None,
                    work: Work | None = None) -> list[Span]:
    """Document-level name consistency: once a person's full name (two or more words) is
    found in the text, its surname alone, and its genitive, is that person anywhere in
    the text ("Maria Muster ... sagte Muster ... Musters Plan").

    The surname is the last word, with the particles before it when the text has them
    ("von der Leyen"). A surname is left alone when it belongs to two persons (different
    given names), is the given name of another person, is a country, or is found as a
    name of another label at least as often as the person is. Found spans of the form
    take the label PER; new spans never overlap found ones, and an occurrence right
    after a determiner ("der Koch") or after another capitalised word that is not a
    title, or at the start of a sentence when the text also has the word in lower case,
    is not taken.
    """
    full = _full_persons(text, spans, is_title)
    # "Kim Putin" beside "Kim Jong Un" and "Wladimir Putin": two persons, not a third one
    n_first = Counter(f.split()[0] for f in full)
    firsts_of_last: dict[str, set[str]] = {}
    for f in full:
        firsts_of_last.setdefault(f.split()[-1], set()).add(f.split()[0])
    pairs = {f for f in full if len(f.split()) == 2 and n_first[f.split()[0]] > 1
             and any(not _same_person(g, f.split()[0]) for g in firsts_of_last[f.split()[-1]])}
    full = {f: n for f, n in full.items() if f not in pairs}
    if not full:
        return spans
    owners: dict[str, set[str]] = {}
    votes: dict[str, Counter] = {}
    given = {f.split()[0] for f in full}
    for f, n in full.items():
        for form in _surname_forms(f):
            # "von der Leyen" is "Von der Leyen" at the start of a sentence
            for variant in {form, form[:1].upper() + form[1:]}:
                owners.setdefault(variant, set()).add(f.split()[0])
                votes.setdefault(variant, Counter())["PER"] += n
    if not owners:
        return spans

    def base(form: str) -> str | None:
        if form in owners:
            return form
        if len(form) > 3 and form[-1] in "'’" and form[:-1] in owners:
            return form[:-1]
        if len(form) > 3 and form[-1] == "s" and form[:-1] in owners and not form[:-1].endswith(_NO_GENITIVE_S):
            return form[:-1]
        return None

    for s, e, label, kind in spans:
        b = base(text[s:e]) if kind == "name" else None
        if b is not None:
            votes[b][label] += 1
    ok: set[str] = set()
    for form, who in owners.items():
        firsts = sorted(who)
        if any(not _same_person(firsts[0], w) for w in firsts[1:]):
            continue
        if form in given or (country is not None and country(form)):
            continue
        v = votes[form]
        if sum(n for lab, n in v.items() if lab != "PER") >= v["PER"]:
            continue
        ok.add(form)
    if not ok:
        return spans
    out = [(s, e, "PER" if kind == "name" and base(text[s:e]) in ok else label, kind) for s, e, label, kind in spans]
    out = _split_two_persons(text, out, ok, owners, given, full)
    occupied = _occupied(text, out)
    lower_words = None
    new: list[Span] = []
    for s, e in _Trie(ok).finditer(text, work or Work()):
        if not _is_boundary(text, s - 1) or (s > 0 and text[s - 1] == "-"):
            continue  # inside a word or the end of a compound ("Volta-Kongo-Sprachen")
        form = text[s:e]
        if e < len(text) and text[e] in "'’" and _is_boundary(text, e + 1):
            e += 1
        elif (e < len(text) and text[e] == "s" and _is_boundary(text, e + 1)
              and not form.endswith(_NO_GENITIVE_S)):
            e += 1
        elif not _is_boundary(text, e) or (e < len(text) and text[e] == "-"):
            continue
        if any(occupied[s:e]):
            continue
        prev = _preceding_word(text, s).strip("\"„“”'‚‘(")
        if prev.lower() in _DETERMINERS:
            continue
        if _sentence_start(text, s):
            if lower_words is None:
                lower_words = set(re.findall(r"\b[a-zäöüß]+\b", text))
            if form.lower() in lower_words:
                continue
        elif prev[:1].isupper() and not prev.endswith((".", ",", ":", ";")) and not is_role(prev, is_title):
            continue  # "Hans Muster": another name of which this is a part
        new.append((s, e, "PER", "name"))
        occupied[s:e] = b"\x01" * (e - s)
    return sorted(out + new)


def _split_two_persons(text: str, spans: list[Span], ok: set[str], owners: dict[str, set[str]],
                       given: set[str], full: dict[str, int]) -> list[Span]:
    """A person span of two words "A B" found once, where B is the surname of a person
    whose given name is not A and A is the given name of another person of the text, is
    two persons ("bevor Kim Putin traf" with "Kim Jong Un" and "Wladimir Putin")."""
    out: list[Span] = []
    for s, e, label, kind in spans:
        words = text[s:e].split(" ")
        if label == "PER" and kind == "name" and len(words) == 2 and text[s:e] not in full:
            a, b = words
            b_base = b[:-1] if b not in ok and b.endswith("s") and b[:-1] in ok else b
            if b_base in ok and a in given and not any(_same_person(a, g) for g in owners[b_base]):
                out.append((s, s + len(a), "PER", "name"))
                out.append((e - len(b), e, "PER", "name"))
                continue
        out.append((s, e, label, kind))
    return out


def person_titles(text: str, spans: list[Span], is_title=None) -> list[str | None]:
    """The role words right before each person span, on the same line ("Grünen-Kandidatin"
    for "Grünen-Kandidatin Maria Muster", "Bundeskanzlerin Dr." for "Bundeskanzlerin Dr.
    Maria Muster"), or None; one entry per span, in the order of ``spans``. A part span
    the role word contains ("Grünen" of "Grünen-Kandidatin") does not stop it."""
    out: list[str | None] = []
    for s, e, label, kind in spans:
        if label != "PER" or kind != "name":
            out.append(None)
            continue
        words: list[str] = []
        pos = s
        while len(words) < 3:
            w = _preceding_word(text, pos)
            if not w or not is_role(w, is_title):
                break
            words.insert(0, w)
            pos = text.rindex(w, 0, pos)
        out.append(" ".join(words) or None)
    return out
