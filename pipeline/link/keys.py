"""String -> key functions used by the linker. Pure functions, no pandas, no spaCy.

Keys are *comparison values*, never rewrites of the text: the original surface string
of every mention is kept in the mentions table, keys only decide what may be linked.

Levels of folding (each one a comparison level in :mod:`pipeline.link.compare`):

``name_key``      case, ß/ss, umlaut transliteration (ä/ae), other diacritics,
                  hyphens vs spaces, punctuation; for non-person names also the
                  adjective endings of non-final tokens ("Demokratischen Volksrepublik
                  Korea" == "Demokratische Volksrepublik Korea").
``translit_key``  a phonetic-ish folding on top of ``name_key`` for the spelling
                  variants German, English and other transliterations of Cyrillic (and
                  Korean) names produce: Sergej/Sergei/Sergey, Dmitri/Dmitrij/Dmitry,
                  Juri/Yuri, Lawrow/Lavrov/Lavroff, sch/sh, tsch/ch, w/v, j/y, ck/k.
``genitive_bases``  candidate base keys of a German genitive ("Putins" -> "putin");
                  the linker only uses one when the base is attested.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

# --------------------------------------------------------------------------- basic folding

_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "ẞ": "ss", "æ": "ae", "œ": "oe"})
# hyphens, dashes, slashes, underscores and dots separate tokens ("Jong-un", "Sojus-2")
_SEPARATORS = re.compile(r"[\s\-‐‑‒–—―/_.·:;,+&]+")
# everything else that is not a letter or digit is dropped ("Klaus'", "„Tass“")
_DROP = re.compile(r"[^\w ]+|_")
_WS = re.compile(r"\s+")

#: adjective endings folded on non-final tokens of non-person names (longest first)
ADJ_ENDINGS = ("em", "en", "er", "es", "e")


#: invisible format characters that make look-alike surfaces (soft hyphen, zero-width
#: space/joiners, word joiner, directional marks, BOM)
_INVISIBLE = re.compile("[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180e\u200b-\u200f"
                        "\u202a-\u202e\u2060-\u2064\u2066-\u206f\ufeff]")


def clean_surface(text: str) -> str:
    """The displayed form of a surface: NFC, invisible characters dropped, runs of white
    space (no-break spaces, line breaks left by removed tags) one space, ends stripped.

    >>> clean_surface("Mer\u00adkel") == clean_surface("Merkel")
    True
    >>> clean_surface("Emmanuel\n Macron")
    'Emmanuel Macron'
    """
    if not text.isascii():
        text = _INVISIBLE.sub("", unicodedata.normalize("NFC", text))
    return " ".join(text.split())


# --------------------------------------------------------------------------- other scripts

#: Russian/Ukrainian Cyrillic -> German transliteration (Duden style: в->w, ж->sch, з->s,
#: ч->tsch, ш->sch, щ->schtsch, х->ch, ц->z, ю->ju, я->ja, ь/ъ dropped); е, ё, с, й and the
#: Ukrainian letters depend on their context and are handled in :func:`cyrillic_to_german`
_CYR_DE = {
    "а": "a", "б": "b", "в": "w", "г": "g", "д": "d", "е": "e", "ж": "sch", "з": "s", "и": "i",
    "й": "i", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o", "п": "p", "р": "r", "с": "s",
    "т": "t", "у": "u", "ф": "f", "х": "ch", "ц": "z", "ч": "tsch", "ш": "sch", "щ": "schtsch",
    "ъ": "", "ы": "y", "ь": "", "э": "e", "ю": "ju", "я": "ja", "ё": "jo",
    # Ukrainian, Belarusian, South Slavic letters
    "і": "i", "ї": "ji", "є": "je", "ґ": "g", "ў": "u", "ј": "j", "љ": "lj", "њ": "nj",
    "ђ": "dj", "ћ": "c", "џ": "dsch", "ѓ": "g", "ќ": "k", "ѕ": "s",
}
_CYR_VOWELS = frozenset("аеёиоуыэюяієї")
_CYR_UKRAINIAN = frozenset("ієїґ")
_CYRILLIC = re.compile("[\u0400-\u04ff]")
_GREEK = re.compile("[\u0370-\u03ff\u1f00-\u1fff]")
#: Greek -> Latin as German news writes Greek names ("Mitsotakis", "Varoufakis")
_GREEK_DIGRAPHS = (("ου", "u"), ("αυ", "av"), ("ευ", "ev"), ("γγ", "ng"), ("γκ", "gk"),
                   ("μπ", "mp"), ("ντ", "nt"), ("τσ", "ts"), ("τζ", "tz"))
_GREEK_LAT = str.maketrans({
    "α": "a", "β": "v", "γ": "g", "δ": "d", "ε": "e", "ζ": "z", "η": "i", "θ": "th", "ι": "i",
    "κ": "k", "λ": "l", "μ": "m", "ν": "n", "ξ": "x", "ο": "o", "π": "p", "ρ": "r", "σ": "s",
    "ς": "s", "τ": "t", "υ": "y", "φ": "f", "χ": "ch", "ψ": "ps", "ω": "o",
})


def cyrillic_to_german(text: str) -> str:
    """German (Duden-style) transliteration of the Cyrillic letters of a lower-case text.

    е is "je" at the start of a word and after a vowel, ь or ъ ("Jelzin", "Andrejewitsch");
    ё is "o" after ж/ч/ш/щ ("Gorbatschow"), else "jo"; с between vowels is "ss"
    ("Wassili"); a final -ий/-ый is "-i"/"-y" ("Juri", "Dmitri"). A word with a Ukrainian
    letter (і, ї, є, ґ) takes г -> h and и -> y.

    >>> cyrillic_to_german("владимир путин")
    'wladimir putin'
    >>> cyrillic_to_german("михаил горбачёв")
    'michail gorbatschow'
    """
    out = []
    for word in re.split(r"(\W+)", text):
        if not word or not _CYRILLIC.search(word):
            out.append(word)
            continue
        ukr = any(c in _CYR_UKRAINIAN for c in word)
        n = len(word)
        buf = []
        for i, c in enumerate(word):
            prev = word[i - 1] if i else ""
            nxt = word[i + 1] if i + 1 < n else ""
            if c == "е" and not ukr and (not prev or prev in _CYR_VOWELS or prev in "ьъ"):
                buf.append("je")
            elif c == "ё":
                buf.append("o" if prev in ("ж", "ч", "ш", "щ") else "jo")
            elif c == "с" and prev in _CYR_VOWELS and nxt in _CYR_VOWELS:
                buf.append("ss")
            elif c == "й" and i == n - 1 and prev in ("и", "ы") and not ukr:
                buf.append("")  # -ий -> -i, -ый -> -y
            elif ukr and c == "г":
                buf.append("h")
            elif ukr and c == "и":
                buf.append("y")
            else:
                buf.append(_CYR_DE.get(c, c))
        out.append("".join(buf))
    return "".join(out)


def greek_to_latin(text: str) -> str:
    """Latin transcription of the Greek letters of a lower-case text without accents."""
    for a, b in _GREEK_DIGRAPHS:
        text = text.replace(a, b)
    return text.translate(_GREEK_LAT)


def _other_scripts(text: str) -> str:
    """ASCII for letters of scripts the tables above do not cover (Arabic, Hebrew, CJK,
    ...) and Latin letters without a decomposition (ł, ø, đ, ı), with ``anyascii``."""
    try:
        from anyascii import anyascii
    except ImportError:  # pragma: no cover - a dependency; without it such names keep their letters
        return text
    return "".join(c if c.isascii() or not c.isalpha() else anyascii(c).lower() for c in text)


@lru_cache(maxsize=1 << 18)
def fold(text: str) -> str:
    """Casefold, transliterate umlauts/ß, strip other diacritics, unify separators.
    Cyrillic and Greek letters are transliterated as German writes them, letters of
    other scripts with ``anyascii``, so every key (and id) is ASCII.

    >>> fold("Kim Jong-un")
    'kim jong un'
    >>> fold("Östlichen Wirtschaftsforum")
    'oestlichen wirtschaftsforum'
    >>> fold("Владимир Путин")
    'wladimir putin'
    """
    s = unicodedata.normalize("NFKC", text).casefold().translate(_UMLAUTS)
    if not s.isascii():
        if _CYRILLIC.search(s):
            s = cyrillic_to_german(s)
        s = "".join(c for c in unicodedata.normalize("NFKD", s) if not unicodedata.combining(c))
        s = unicodedata.normalize("NFKC", s).casefold().translate(_UMLAUTS)
        if _GREEK.search(s):
            s = greek_to_latin(s)
        if not s.isascii():
            s = _other_scripts(s)
    s = _SEPARATORS.sub(" ", s)
    s = _DROP.sub("", s)
    return _WS.sub(" ", s).strip()


def _fold_adjective(token: str) -> str:
    if not token.isalpha():
        return token
    for end in ADJ_ENDINGS:
        if token.endswith(end) and len(token) - len(end) >= 3:
            return token[: -len(end)]
    return token


def name_key(text: str, label: str = "PER") -> str:
    """The normalised matching key of a name (titles must already be stripped).

    For labels other than PER the adjective endings of non-final tokens are folded, so
    inflected multiword names share a key. Person names keep every token as it is
    (given names like "Steffen" are not adjectives).
    """
    key = fold(text)
    if label != "PER" and " " in key:
        toks = key.split(" ")
        key = " ".join([_fold_adjective(t) for t in toks[:-1]] + [toks[-1]])
    return key


# --------------------------------------------------------------------------- titles

#: titles, functions and forms of address that never belong to a person's name
TITLES = frozenset(
    fold(t)
    for t in """
    Herr Herrn Frau Fräulein Dr Prof Professor Professorin Mr Mrs Ms Miss Sir Lord Lady Dame
    Präsident Präsidentin Präsidenten Vizepräsident Vizepräsidentin Staatspräsident
    Staatspräsidentin Ministerpräsident Ministerpräsidentin Bundespräsident
    Bundespräsidentin Kanzler Kanzlerin Bundeskanzler Bundeskanzlerin Vizekanzler
    Vizekanzlerin Minister Ministerin Premierminister Premierministerin Premier
    Regierungschef Regierungschefin Staatschef Staatschefin Machthaber Diktator Führer
    König Königin Kaiser Kaiserin Prinz Prinzessin Fürst Fürstin Herzog Herzogin Papst
    Kardinal Bischof Pfarrer Rabbi Imam Scheich Emir Sultan Kronprinz Kronprinzin
    Sprecher Sprecherin Pressesprecher Pressesprecherin Regierungssprecher
    Regierungssprecherin Chef Chefin Direktor Direktorin Generaldirektor Generalsekretär
    Generalsekretärin Vorsitzender Vorsitzende Parteichef Parteichefin General Generalin
    Oberst Major Leutnant Hauptmann Admiral Marschall Feldmarschall Kommandeur Senator
    Senatorin Abgeordneter Abgeordnete Bürgermeister Bürgermeisterin Oberbürgermeister
    Oberbürgermeisterin Gouverneur Gouverneurin Botschafter Botschafterin Gesandter
    Richter Richterin Staatsanwalt Staatsanwältin Kommissar Kommissarin Kosmonaut
    Kosmonautin Astronaut Astronautin Trainer Trainerin Kapitän Autor Autorin Reporter
    Reporterin Korrespondent Korrespondentin Fotograf Fotografin Genosse Genossin
    Oppositionsführer Oppositionsführerin Oppositionspolitiker Oppositionspolitikerin
    Diplomat Diplomatin Unternehmer Unternehmerin Milliardär Oligarch
    """.split()
)

#: a leading token ending in one of these is a (compound) title: "Außenminister",
#: "Kreml-Sprecher", "Verteidigungsministerin", "Konzernchef", "Nordkorea-Machthaber"
TITLE_SUFFIXES = tuple(
    fold(s)
    for s in """minister ministerin sprecher sprecherin chef chefin präsident präsidentin
    kanzler kanzlerin machthaber führer führerin direktor direktorin sekretär sekretärin
    botschafter botschafterin vorsitzender vorsitzende kommissar kommissarin general
    gouverneur gouverneurin bürgermeister bürgermeisterin berater beraterin""".split()
)

_TOKEN_SPLIT = re.compile(r"\s+")


def _is_title(token: str) -> bool:
    t = fold(token)
    if not t:
        return True
    if t in TITLES:
        return True
    # compounds: "Kreml-Sprecher" folds to "kreml sprecher"; "Außenminister" ends in one
    last = t.split(" ")[-1]
    return last in TITLES or any(last.endswith(s) and len(last) > len(s) for s in TITLE_SUFFIXES)


@lru_cache(maxsize=1 << 16)
def strip_titles(text: str) -> str:
    """Remove leading titles/forms of address from a person span, keeping the name.

    >>> strip_titles("Kreml-Sprecher Dmitri Peskow")
    'Dmitri Peskow'
    >>> strip_titles("Herrn Dr. Müller")
    'Müller'

    A span made only of title words is returned unchanged (nothing else to link on).
    """
    toks = [t for t in _TOKEN_SPLIT.split(text.strip()) if t]
    i = 0
    while i < len(toks) - 1 and _is_title(toks[i]):
        i += 1
    return " ".join(toks[i:]) if i else text.strip()


# --------------------------------------------------------------------------- genitive

_NO_GENITIVE_S_AFTER = ("s", "x", "z")  # ß is already folded to "ss"


def genitive_bases(key: str, short: bool = False) -> list[str]:
    """Candidate base keys if ``key`` is a German genitive, best first.

    ``-s`` is a candidate unless the base would end in s/ß/x/z (those names take an
    apostrophe, "Klaus'", which :func:`fold` removes already); ``-ens`` likewise; ``-es``
    after a consonant ("Bundestages" -> "bundestag"), also after s/ß/x/z ("Hauses" ->
    "haus", "Kreuzes" -> "kreuz"). Only
    the final token is inflected. The caller accepts a candidate only when the base is
    attested (another mention of the corpus, or a known country name). ``short``: "-es"
    also on four-letter bases ("Amtes" -> "amt" inside a longer name; on a name of its
    own too many foreign names end so: "Hughes", "Jones").

    >>> genitive_bases("kim jong uns")
    ['kim jong un']
    >>> genitive_bases("strauss")
    []
    """
    if not key or key[-1] != "s":
        return []
    head, _, last = key.rpartition(" ")
    prefix = head + " " if head else ""
    out = []
    for end in ("ens", "s", "es"):
        if last.endswith(end) and len(last) - len(end) >= 2:
            base = last[: -len(end)]
            if not base[-1].isalpha():
                continue
            if end == "es":
                # -es after a consonant on longer words ("Bundestages", "Staates"), and
                # after s/ß/x/z, which take no bare -s ("Hauses", "Kreuzes", "Flusses")
                if base[-1] in "aeiouy" or len(base) < (4 if short or base.endswith(_NO_GENITIVE_S_AFTER) else 5):
                    continue
            elif base.endswith(_NO_GENITIVE_S_AFTER):
                continue
            out.append(prefix + base)
    return out


def head_genitive_bases(key: str) -> list[str]:
    """Candidate base keys of a name whose first word is a noun in the genitive and the
    rest follows it ("amtsgerichts berlin charlottenburg" -> "amtsgericht berlin
    charlottenburg", "bundesministeriums fur wirtschaft"), for names other than persons;
    the caller accepts one only when it is attested."""
    first, sep, rest = key.partition(" ")
    if not sep or len(first) < 6:
        return []
    return [f"{b} {rest}" for b in genitive_bases(first, short=True)]


# --------------------------------------------------------------------------- transliteration

# ordered (pattern, replacement) rules; "\x01" protects German "tsch" from the "ch" rule
_TRANSLIT_RULES: tuple[tuple[re.Pattern[str], str], ...] = tuple(
    (re.compile(p), r)
    for p, r in (
        (r"ae", "a"), (r"oe", "o"), (r"ue", "u"),  # Pjöngjang/Pyongyang, Müller/Muller
        # German tsch = English ch (Tschaikowski/Chaikovsky); German ch = English kh
        (r"tsch", "\x01"), (r"sch", "sh"), (r"zh", "sh"),  # Schukow/Zhukov
        (r"kh", "ch"), ("\x01", "ch"),  # Chodorkowski/Khodorkovsky
        (r"ck", "k"), (r"ph", "f"), (r"w", "v"), (r"[jy]", "i"), (r"x", "ks"),
        (r"ts", "s"), (r"z", "s"),  # Zar/Tsar, Selenski/Zelensky
        (r"([a-z])\1+", r"\1"),  # doubled letters (not digits: A4 / A44): Dmitrij -> dmitrii -> dmitri
        (r"of$", "ov"),  # -off/-ow/-ov
    )
)


@lru_cache(maxsize=1 << 18)
def translit_token(token: str) -> str:
    """Phonetic-ish folding of one folded token (see module docstring)."""
    t = token
    for pat, rep in _TRANSLIT_RULES:
        t = pat.sub(rep, t)
    return t


def translit_key(key: str) -> str:
    """Transliteration key of a folded name key.

    >>> translit_key("sergej lawrow") == translit_key("sergei lavrov")
    True
    """
    return " ".join(translit_token(t) for t in key.split(" ")) if key else key


# --------------------------------------------------------------------------- adjectives

_ADJ_INFLECTION = ("en", "em", "er", "es", "e")


def adjective_lemma(text: str) -> str:
    """Uninflected, folded form of a derived adjective ("Nordkoreanischen" -> "nordkoreanisch").

    Keeps the hyphenated prefix ("US-amerikanischen" -> "us amerikanisch").
    """
    k = fold(text)
    for end in _ADJ_INFLECTION:
        if k.endswith(end) and len(k) - len(end) >= 3 and (
            k[: -len(end)].endswith(("isch", "sch", "lich", "ig"))
        ):
            return k[: -len(end)]
    return k


_DESCENT = "staemmig"
_EXILE = "exil"


def adjective_candidates(text: str) -> list[str]:
    """Lookup candidates for a derived word: its lemma, then the lemma of its last
    hyphen component ("deutsch-russischen" -> "russisch"), then a city adjective with
    "-er" removed ("Berliner" -> "berlin")."""
    lemma = adjective_lemma(text)
    out = [lemma]
    if " " in lemma:
        out.append(lemma.rsplit(" ", 1)[1])
    # the place's adjective inside a longer one: "russischstämmig", "türkischstämmige"
    # (of that descent), "exilkubanisch" (in exile from there)
    joined = lemma.replace(" ", "")
    if joined.endswith(_DESCENT) and len(joined) - len(_DESCENT) >= 4:
        out.append(joined[: -len(_DESCENT)])
    if joined.startswith(_EXILE) and len(joined) - len(_EXILE) >= 5:
        out.append(joined[len(_EXILE):])
    k = fold(text)
    if k.endswith("er") and len(k) > 5 and not lemma.endswith("isch"):
        out.append(k[:-2])
    return list(dict.fromkeys(out))


_ADJ_SUFFIXES = ("ianisch", "anisch", "esisch", "ländisch", "aendisch", "isch", "lich", "sch")


def adjective_stem(lemma: str) -> str:
    """Strip the derivational suffix: "koreanisch" -> "kore", "japanisch" -> "japan"."""
    last = lemma.rsplit(" ", 1)[-1]
    for suf in _ADJ_SUFFIXES:
        suf = fold(suf)
        if last.endswith(suf) and len(last) - len(suf) >= 3:
            return last[: -len(suf)]
    return last


# --------------------------------------------------------------------------- ids

_SLUG_DROP = re.compile(r"[^a-z0-9]+")


def slug(text: str) -> str:
    """ASCII slug for entity ids: "Kim Jong Un" -> "kim-jong-un", "Östliches ..." -> "oestliches-..."."""
    s = _SLUG_DROP.sub("-", fold(text)).strip("-")
    return s or "x"


def n_tokens(text: str) -> int:
    """Tokens of a surface string, hyphen parts counted ("Kim Jong-un" -> 3)."""
    k = fold(text)
    return k.count(" ") + 1 if k else 0


def is_abbreviation(text: str) -> bool:
    """An all-caps short form such as "EEF", "KCNA", "UN", "G7" (2-10 chars)."""
    t = text.strip()
    letters = [c for c in t if c.isalpha()]
    return 2 <= len(t) <= 10 and len(letters) >= 1 and all(c.isupper() for c in letters) and all(
        c.isalnum() or c in "-&." for c in t
    )
