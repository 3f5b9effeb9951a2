"""Span post-processing (pure functions, no model)."""

from pipeline.ner.postprocess import map_label, part_prefix_candidates, propagate, split_compound


def test_map_label_subtypes_and_foreign_labels():
    assert map_label("LOCderiv") == ("LOC", "deriv")
    assert map_label("ORGpart") == ("ORG", "part")
    assert map_label("MISCpart") == ("MISC", "part")
    assert map_label("PER") == ("PER", "name")
    assert map_label("PERSON") == ("PER", "name")  # OntoNotes-style models
    assert map_label("GPE") == ("LOC", "name")
    assert map_label("CARDINAL") is None
    assert map_label("DATE") is None


def test_part_span_covers_only_the_name():
    text = "Kreml-Sprecher Peskow und Nordkorea-Machthaber Kim"
    assert split_compound(text, (0, 14, "ORG", "part")) == [(0, 5, "ORG", "part")]
    s = text.index("Nordkorea-")
    assert split_compound(text, (s, s + 20, "LOC", "part")) == [(s, s + 9, "LOC", "part")]


def test_unhyphenated_part_needs_a_known_name():
    text = "Kremlsprecher Peskow"
    assert split_compound(text, (0, 13, "ORG", "part"), known={"Kreml"}) == [(0, 5, "ORG", "part")]
    assert split_compound(text, (0, 13, "ORG", "part"), known=set()) == [(0, 13, "ORG", "part")]


def test_coordinated_derivs_are_split_but_lexicalised_ones_are_not():
    text = "des russisch-nordkoreanischen Gipfels mit US-amerikanischen Truppen"
    s = text.index("russisch")
    got = split_compound(text, (s, s + len("russisch-nordkoreanischen"), "LOC", "deriv"))
    assert [text[a:b] for a, b, _, _ in got] == ["russisch", "nordkoreanischen"]
    u = text.index("US-")
    assert split_compound(text, (u, u + len("US-amerikanischen"), "LOC", "deriv")) == [
        (u, u + len("US-amerikanischen"), "LOC", "deriv")]


def test_propagate_adds_other_occurrences_and_genitive():
    text = "Putin traf Kim. Später sprach Kim mit Putins Beratern. Kimchi ist kein Name."
    spans = [(0, 5, "PER", "name"), (11, 14, "PER", "name")]
    got = propagate(text, spans)
    forms = [text[s:e] for s, e, _, _ in got]
    assert forms == ["Putin", "Kim", "Kim", "Putins"]
    assert all(label == "PER" for _, _, label, _ in got)


def test_propagate_never_overlaps_existing_spans_and_skips_short_forms():
    text = "Kim Jong Un und Kim. Er sagte es."
    spans = [(0, 10, "PER", "name"), (16, 19, "PER", "name"), (21, 23, "PER", "name")]
    got = propagate(text, spans)
    assert got == sorted(spans)  # "Er" (2 chars, not an acronym) is not propagated


def test_part_prefix_candidates_tags_compounds_of_known_names():
    text = "Der Kreml schweigt. Kremlsprecher Peskow sagte nichts."
    got = part_prefix_candidates(text, [(4, 9, "ORG", "name")])
    assert (20, 25, "ORG", "part") in got


# ---- refine_spans: boundary and label fixes from in-document evidence ----------------
from pipeline.ner.model import is_country, is_title  # noqa: E402
from pipeline.ner.postprocess import refine_spans  # noqa: E402


def _refine(text, spans):
    return [(text[s:e], label) for s, e, label, _ in refine_spans(text, spans, is_title=is_title, country=is_country)]


def test_span_never_crosses_a_line_break():
    text = "Quelle: Reuters\nAnna Berg sprach."
    assert _refine(text, [(8, 25, "ORG", "name")]) == [("Reuters", "ORG"), ("Anna Berg", "ORG")]


def test_place_class_noun_is_dropped_and_rest_is_a_place():
    text = "Er landete am Flughafen Tegel."
    s = text.index("Flughafen")
    assert _refine(text, [(s, s + len("Flughafen Tegel"), "ORG", "name")]) == [("Tegel", "LOC")]


def test_a_name_right_after_a_place_class_noun_is_a_place():
    text = "Start vom Kosmodrom Baikonur. Die Region\nAmur und Stadion Nord."
    b = text.index("Baikonur")
    a = text.index("Amur")
    n = text.index("Nord")
    got = _refine(text, [(b, b + 8, "ORG", "name"), (a, a + 4, "PER", "name"), (n, n + 4, "ORG", "name")])
    # the class noun on the line before does not count
    assert got == [("Baikonur", "LOC"), ("Amur", "PER"), ("Nord", "LOC")]


def test_titles_leave_person_spans_and_lowercase_words_cut_them():
    text = "Regierungssprecher Jan Brandt sagte, Brandt lud Olga Weiß ein."
    s = text.index("Regierungssprecher")
    got = _refine(text, [(s, s + len("Regierungssprecher Jan Brandt"), "PER", "name")])
    assert got == [("Jan Brandt", "PER")]
    s = text.index("Brandt lud")
    got = _refine(text, [(s, s + len("Brandt lud Olga Weiß"), "PER", "name")])
    assert got == [("Brandt", "PER"), ("Olga Weiß", "PER")]
    # name particles stay inside
    text = "Ursula von der Leyen kam."
    assert _refine(text, [(0, 20, "PER", "name")]) == [("Ursula von der Leyen", "PER")]


def test_span_of_two_known_names_is_split_with_their_labels():
    text = "Olga Weiß traf Bremen. Dann Olga Weiß Bremen erneut."
    spans = [(0, 9, "PER", "name"), (15, 21, "LOC", "name"), (28, 44, "PER", "name")]
    assert _refine(text, spans) == [("Olga Weiß", "PER"), ("Bremen", "LOC"), ("Olga Weiß", "PER"), ("Bremen", "LOC")]


def test_full_name_is_not_split_by_a_known_surname():
    text = "Brandt sagte, Jan Brandt komme."
    spans = [(0, 6, "PER", "name"), (14, 24, "PER", "name")]
    assert _refine(text, spans) == [("Brandt", "PER"), ("Jan Brandt", "PER")]


def test_leading_genitive_of_a_known_name_ends_the_span():
    text = "Bremen wächst. Bremens Bürgermeisterin sprach."
    spans = [(0, 6, "LOC", "name"), (15, 38, "PER", "name")]
    assert _refine(text, spans) == [("Bremen", "LOC"), ("Bremens", "LOC")]


def test_country_names_and_their_genitives_are_loc():
    text = "Frankreich und Italiens Regierung"
    spans = [(0, 10, "ORG", "name"), (15, 23, "ORG", "name")]
    assert _refine(text, spans) == [("Frankreich", "LOC"), ("Italiens", "LOC")]


def test_one_label_per_form_within_a_document():
    from pipeline.ner.postprocess import harmonize_labels

    text = "Lena Ost kam. Lena Ost ging. Lena Ost blieb. Bremen, Bremen"
    spans = [(0, 8, "PER", "name"), (14, 22, "MISC", "name"), (29, 37, "PER", "name"),
             (45, 51, "LOC", "name"), (53, 59, "ORG", "name")]
    got = harmonize_labels(text, spans)
    assert [label for _, _, label, _ in got] == ["PER", "PER", "PER", "LOC", "ORG"]  # a tie changes nothing


def test_a_lone_title_is_not_a_person():
    text = "Das sagte der Regierungssprecher am Montag."
    s = text.index("Regierungssprecher")
    assert _refine(text, [(s, s + len("Regierungssprecher"), "PER", "name")]) == []


def test_leading_genitive_when_the_genitive_itself_is_known():
    text = "Bremens Hafen wächst. Bremens Bürgermeisterin sprach."
    spans = [(0, 7, "LOC", "name"), (22, 45, "PER", "name")]
    assert _refine(text, spans) == [("Bremens", "LOC"), ("Bremens", "LOC")]


def test_a_genitive_takes_the_label_of_its_base_form():
    from pipeline.ner.postprocess import harmonize_labels

    text = "Lena kam. Lena ging. Lenas Hund bellte."
    spans = [(0, 4, "PER", "name"), (10, 14, "PER", "name"), (21, 26, "LOC", "name")]
    assert [label for _, _, label, _ in harmonize_labels(text, spans)] == ["PER", "PER", "PER"]


def test_a_name_cut_short_is_completed_from_a_longer_name_in_the_text():
    from pipeline.ner.postprocess import complete_names

    text = "Kim Jong Un reiste ab. Kim Jong Uns Besuch endet. Kim Jong bleibt."
    full = (0, 11, "PER", "name")
    cut = (23, 31, "PER", "name")  # "Kim Jong" of "Kim Jong Uns"
    tail = (50, 58, "PER", "name")  # "Kim Jong" followed by a lower-case word
    out = complete_names(text, [full, cut, tail])
    assert [text[s:e] for s, e, _, _ in out] == ["Kim Jong Un", "Kim Jong Uns", "Kim Jong"]
    # a hyphenated rest, and the label of the longer name
    text = "Kim Jong-un kam. Dann sprach Kim Jong-un."
    out = complete_names(text, [(0, 11, "PER", "name"), (29, 37, "LOC", "name")])
    assert [(text[s:e], lab) for s, e, lab, _ in out] == [("Kim Jong-un", "PER"), ("Kim Jong-un", "PER")]


def test_completing_a_name_never_swallows_another_span():
    from pipeline.ner.postprocess import complete_names

    text = "Wladimir Putin kam. Wladimir Putin Kim."
    spans = [(0, 14, "PER", "name"), (20, 28, "PER", "name"), (29, 34, "PER", "name"), (35, 38, "PER", "name")]
    # "Wladimir" + "Putin" would complete to the known name, but "Putin" is its own span
    assert complete_names(text, spans) == sorted(spans)
