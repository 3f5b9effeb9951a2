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


def map_label(label: str) -> tuple[str, str] | None:
    """Model label -> (PER/LOC/ORG/MISC, name/deriv/part), e.g. ``LOCderiv`` -> (LOC, deriv)."""
    for kind in ("deriv", "part"):
        if label.endswith(kind) and len(label) > len(kind):
            base = FOREIGN_LABELS.get(label[: -len(kind)].upper())
            return (base[0], kind) if base and base[1] == "name" else None
    return FOREIGN_LABELS.get(label.upper())


def split_compound(text: str, span: Span, known: Iterable[str] = ()) -> list[Span]:
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
        for name in sorted(known, key=len, reverse=True):
            if len(name) >= 2 and s.startswith(name) and len(s) > len(name) + 2 and s[len(name)].islower():
                return [(start, start + len(name), label, kind)]
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


def propagate(text: str, spans: list[Span]) -> list[Span]:
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
    pattern = re.compile("|".join(re.escape(f) for f in sorted(labels, key=len, reverse=True)))
    for m in pattern.finditer(text):
        s, e = m.start(), m.end()
        if not _is_boundary(text, s - 1):
            continue
        if e < len(text) and text[e] in "s'’" and _is_boundary(text, e + 1):
            e += 1
        elif not _is_boundary(text, e):
            continue
        if any(occupied[s:e]):
            continue
        label = labels[m.group()].most_common(1)[0][0]
        new.append((s, e, label, "name"))
        occupied[s:e] = b"\x01" * (e - s)
    return sorted(spans + new)


def part_prefix_candidates(text: str, spans: list[Span]) -> list[Span]:
    """Find unhyphenated compounds that start with a name of this text (``Kremlsprecher``
    when ``Kreml`` is a name here) and tag the name as a ``part``."""
    names = {text[s:e]: label for s, e, label, kind in spans if kind in ("name", "part") and e - s >= 4}
    if not names:
        return spans
    occupied = bytearray(len(text) + 1)
    for s, e, _, _ in spans:
        occupied[s:e] = b"\x01" * (e - s)
    new = []
    pattern = re.compile(r"\b(" + "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True)) + r")([a-zäöüß]{4,})")
    for m in pattern.finditer(text):
        s, e = m.start(1), m.end(1)
        if not any(occupied[s : m.end()]) and _is_boundary(text, m.end()):
            new.append((s, e, names[m.group(1)], "part"))
    return sorted(spans + new)
