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
    # with the places the tagger knows: a place name as the first element, else no mention
    from pipeline.ner.model import is_place_name

    text = "Europawahl und Bundespräsidentenwahl und Kremlsprecher"
    k = text.index("Kreml")
    assert split_compound(text, (0, 10, "ORG", "part"), is_place=is_place_name) == [(0, 6, "LOC", "part")]
    assert split_compound(text, (15, 36, "ORG", "part"), is_place=is_place_name) == []
    assert split_compound(text, (k, k + 13, "ORG", "part"), known={"Kreml"}, is_place=is_place_name) == [
        (k, k + 5, "ORG", "part")]


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


# --------------------------------------------------------------------------- persons in a document (issue 18)

def _names(text, spans):
    return [(text[s:e], lab, kind) for s, e, lab, kind in spans]


def test_a_surname_alone_after_the_full_name_is_that_person():
    from pipeline.ner.postprocess import extend_surnames

    text = "Maria Muster sprach in Bremen. Später sagte Muster, Musters Plan gelte. Der Koch kochte."
    spans = [(0, 12, "PER", "name"), (23, 29, "LOC", "name")]
    assert _names(text, extend_surnames(text, spans)) == [
        ("Maria Muster", "PER", "name"), ("Bremen", "LOC", "name"),
        ("Muster", "PER", "name"), ("Musters", "PER", "name")]


def test_a_surname_of_two_persons_or_of_another_label_is_left_alone():
    from pipeline.ner.postprocess import extend_surnames

    text = "Hans Weber und Lena Weber kamen. Weber sprach."
    spans = [(0, 10, "PER", "name"), (15, 25, "PER", "name")]
    assert extend_surnames(text, spans) == spans
    text = "Paris Hilton kam nach Paris. In Paris regnete es."
    spans = [(0, 12, "PER", "name"), (22, 27, "LOC", "name"), (32, 37, "LOC", "name")]
    assert extend_surnames(text, spans) == spans


def test_a_surname_model_read_as_another_label_becomes_the_person():
    from pipeline.ner.postprocess import extend_surnames

    text = "Jonas Brenk gewann. Brenk jubelte. Jonas Brenk dankte."
    spans = [(0, 11, "PER", "name"), (20, 25, "ORG", "name"), (35, 46, "PER", "name")]
    assert _names(text, extend_surnames(text, spans))[1] == ("Brenk", "PER", "name")
    # as often another label as the person: the text does not say, nothing changes
    assert extend_surnames(text, spans[:2]) == spans[:2]


def test_particles_belong_to_the_surname_and_fragments_of_a_full_name_merge():
    from pipeline.ner.postprocess import extend_surnames, merge_person_fragments

    text = "Ursula von der Leyen reiste. Von der Leyen lachte, und von der Leyen sprach."
    got = _names(text, extend_surnames(text, [(0, 20, "PER", "name")]))
    assert got == [("Ursula von der Leyen", "PER", "name"), ("Von der Leyen", "PER", "name"),
                   ("von der Leyen", "PER", "name")]
    text = "Rafael van der Vaart spielte. Dann traf Rafael van der Vaart erneut."
    s = text.index("Rafael van der Vaart erneut")
    spans = [(0, 20, "PER", "name"), (s, s + 14, "PER", "name"), (s + 15, s + 20, "ORG", "name")]
    assert _names(text, merge_person_fragments(text, spans)) == [
        ("Rafael van der Vaart", "PER", "name"), ("Rafael van der Vaart", "PER", "name")]


def test_role_words_and_parties_glued_before_a_name_leave_it():
    from pipeline.ner.postprocess import person_titles, split_roles

    text = "Grünen-Kandidatin Maria Muster sprach. Grünen Maria Muster lachte."
    got = split_roles(text, [(0, 30, "ORG", "name"), (39, 58, "ORG", "name")])
    assert _names(text, got) == [("Grünen-Kandidatin", "ORG", "part"), ("Maria Muster", "PER", "name"),
                                 ("Grünen", "ORG", "name"), ("Maria Muster", "PER", "name")]
    assert person_titles(text, got) == [None, "Grünen-Kandidatin", None, None]
    # a lower-case or function word before a name is no head to cut off
    text = "Profiles of The Dave Band"
    assert split_roles(text, [(0, 25, "MISC", "name")]) == [(0, 25, "MISC", "name")]


def test_a_role_compound_of_several_parts_gives_the_name_part_only():
    text = "Die XYZ-Ko-Chefin und die Baden-Württemberg-Chefin sprachen."
    assert split_compound(text, (4, 17, "ORG", "name")) == [(4, 7, "ORG", "part")]
    assert split_compound(text, (4, 17, "ORG", "part")) == [(4, 7, "ORG", "part")]
    s = text.index("Baden")
    got = split_compound(text, (s, s + len("Baden-Württemberg-Chefin"), "LOC", "part"))
    assert [text[a:b] for a, b, _, _ in got] == ["Baden-Württemberg"]


def test_a_given_name_and_a_surname_are_not_split_into_two_persons():
    text = "Meghan Markle kam. Meghan lachte. Markle auch."
    spans = [(0, 13, "PER", "name"), (19, 25, "PER", "name"), (34, 40, "PER", "name")]
    assert _refine(text, spans) == [("Meghan Markle", "PER"), ("Meghan", "PER"), ("Markle", "PER")]
    # a name of the text found as another label does not cut a person either
    text = "Lena Meyer-Landrut sang. Lena tanzte, Meyer-Landrut lachte."
    spans = [(0, 18, "PER", "name"), (25, 29, "PER", "name"), (38, 51, "ORG", "name")]
    assert _refine(text, spans)[0] == ("Lena Meyer-Landrut", "PER")
    # the whole name found elsewhere is never split
    text = "Emmanuel Macron kam. Emmanuel Macron ging. Emmanuel sprach. Macron schwieg."
    spans = [(0, 15, "PER", "name"), (21, 36, "PER", "name"), (42, 50, "PER", "name"), (60, 66, "PER", "name")]
    assert [f for f, _ in _refine(text, spans)][:2] == ["Emmanuel Macron", "Emmanuel Macron"]


def test_two_persons_side_by_side_are_split_by_what_the_text_knows():
    from pipeline.ner.postprocess import extend_surnames

    text = "Anna Berg traf Paul Stein und Anna Lind. Bevor Anna Stein traf, sprach sie."
    s = text.index("Anna Stein")
    spans = [(0, 9, "PER", "name"), (15, 25, "PER", "name"), (30, 39, "PER", "name"), (s, s + 10, "PER", "name")]
    got = _names(text, extend_surnames(text, spans))
    assert ("Anna", "PER", "name") in got and ("Anna Stein", "PER", "name") not in got


# --------------------------------------------------------------------------- labels from the form

from pipeline.link.compare import abbreviation_defines  # noqa: E402
from pipeline.ner.postprocess import label_by_form  # noqa: E402


def _spans_of(text: str, *names: tuple[str, str]) -> list:
    out, pos = [], 0
    for form, label in names:
        s = text.index(form, pos)
        out.append((s, s + len(form), label, "name"))
        pos = s + len(form)
    return out


def _labels(text, spans, **kw):
    return {text[s:e]: lab for s, e, lab, _ in label_by_form(text, spans, **kw)}


def test_event_names_are_misc_whatever_the_model_read():
    text = "Die Olympischen Spiele 2008 und die Fußball-Weltmeisterschaft, dazu die Deutsche Bank."
    spans = _spans_of(text, ("Olympischen Spiele 2008", "ORG"), ("Fußball-Weltmeisterschaft", "LOC"),
                      ("Deutsche Bank", "ORG"))
    assert _labels(text, spans) == {"Olympischen Spiele 2008": "MISC", "Fußball-Weltmeisterschaft": "MISC",
                                    "Deutsche Bank": "ORG"}


def test_company_heads_and_clubs_are_org_with_their_short_forms_in_the_document():
    text = "Tesla Motors baut. Tesla wächst. Hannover 96 siegt, Hannover jubelt. In Berlin 2 Grad."
    spans = _spans_of(text, ("Tesla Motors", "PER"), ("Tesla", "PER"), ("Hannover 96", "LOC"),
                      ("Hannover", "LOC"), ("Berlin", "LOC"))
    assert _labels(text, spans) == {"Tesla Motors": "ORG", "Tesla": "ORG", "Hannover 96": "ORG",
                                    "Hannover": "ORG", "Berlin": "LOC"}
    # a longer company name gives its first word too, unless that is an adjective
    text = "Tesla übernahm die Tesla Grohmann Automation. Die Deutsche Telekom AG wächst, sagte die Deutsche."
    spans = _spans_of(text, ("Tesla", "PER"), ("Tesla Grohmann Automation", "PER"),
                      ("Deutsche Telekom AG", "ORG"), ("Deutsche", "PER"))
    labels = {text[s:e]: lab for s, e, lab, _ in label_by_form(text, sorted(spans))}
    assert labels == {"Tesla": "ORG", "Tesla Grohmann Automation": "ORG", "Deutsche Telekom AG": "ORG",
                      "Deutsche": "PER"}
    # a short form alone, without its long form in the document, keeps the model's label
    text = "Hannover jubelt."
    assert _labels(text, _spans_of(text, ("Hannover", "LOC"))) == {"Hannover": "LOC"}


def test_a_class_noun_before_a_name_makes_it_an_organisation_but_not_a_country():
    text = "Die Nachrichtenagentur Xinhua meldet, die Liberale Partei Kanadas verliert."
    spans = _spans_of(text, ("Xinhua", "LOC"), ("Kanadas", "LOC"))
    assert _labels(text, spans, country=lambda f: f in {"Kanada", "Kanadas"}) == {"Xinhua": "ORG", "Kanadas": "LOC"}
    assert _labels(text, spans) == {"Xinhua": "ORG", "Kanadas": "ORG"}  # without the country lexicon


def test_an_abbreviation_defined_in_brackets_takes_the_long_forms_label_in_the_document():
    text = "Der Internationale Währungsfonds (IWF) warnt. Der IWF sagt, die Europäische Union (EZB) nicht."
    spans = _spans_of(text, ("Internationale Währungsfonds", "ORG"), ("IWF", "MISC"), ("IWF", "MISC"),
                      ("Europäische Union", "ORG"), ("EZB", "MISC"))
    out = label_by_form(text, spans, abbreviation=abbreviation_defines)
    assert [lab for *_, lab, _ in out] == ["ORG", "ORG", "ORG", "ORG", "MISC"]  # EZB is not derivable
    # the model read the defining bracket right and a later use wrong: the later one
    # follows; an English acronym of the German name ("Interamerikanische" -> "Inter-American")
    text = "Die Interamerikanische Entwicklungsbank (IADB) warnt. Die IADB sagt es."
    spans = _spans_of(text, ("Interamerikanische Entwicklungsbank", "ORG"), ("IADB", "ORG"), ("IADB", "MISC"))
    out = label_by_form(text, spans, abbreviation=abbreviation_defines)
    assert [lab for *_, lab, _ in out] == ["ORG", "ORG", "ORG"]


def test_a_one_word_person_mostly_after_an_article_is_a_common_noun():
    from pipeline.ner.postprocess import drop_common_nouns

    text = ("Das Verhalten des Bären ist neu. Man will den Bären betäuben, denn Bären fressen Honig. "
            "Karl Höcker lachte, der Höckers Vorgesetzter war. Der Höckers Sohn kam. Blair kam. "
            "Den Schub, den Blair erreichen will, gibt es nicht, den Blair nicht.")
    spans = []
    for form in ("Bären", "Karl Höcker", "Höckers", "Blair"):
        start = 0
        while (i := text.find(form, start)) >= 0:
            if not (form == "Höckers" and text[i - 6:i] == "Karl "):
                spans.append((i, i + len(form), "PER", "name"))
            start = i + len(form)
    kept = {text[s:e] for s, e, _, _ in drop_common_nouns(text, sorted(spans))}
    # "Bären" follows an article 2 of 3 times; "Höckers" is Karl Höcker's genitive;
    # "Blair" follows "den" once after a comma (a relative pronoun) and once not: 1 of 3
    assert kept == {"Karl Höcker", "Höckers", "Blair"}
    # a single occurrence is never judged
    one = "Der Hacker kam."
    assert drop_common_nouns(one, [(4, 10, "PER", "name")]) == [(4, 10, "PER", "name")]


def test_a_class_noun_of_a_thing_makes_misc_and_a_company_noun_makes_a_one_word_person_org():
    text = "Die Raumstation ISS und die Raumfähre Discovery; bei 20 Grad Celsius kaufte der Rüstungskonzern Diehl ein."
    spans = _spans_of(text, ("ISS", "LOC"), ("Discovery", "ORG"), ("Celsius", "PER"), ("Diehl", "PER"))
    assert _labels(text, spans) == {"ISS": "MISC", "Discovery": "MISC", "Celsius": "MISC", "Diehl": "ORG"}
    # a person after a genitive company noun is not touched ("des Konzerns Peter Löscher")
    text = "Der Chef des Konzerns Löscher sprach."
    assert _labels(text, _spans_of(text, ("Löscher", "PER"))) == {"Löscher": "PER"}


def test_a_class_noun_once_names_the_thing_everywhere_in_the_document():
    text = "Die Kartoffelsorte Amflora ist neu. Amflora wächst schnell. Amflora bleibt."
    spans = _spans_of(text, ("Amflora", "MISC"), ("Amflora", "ORG"), ("Amflora", "ORG"))
    assert [lab for _, _, lab, _ in label_by_form(text, spans)] == ["MISC", "MISC", "MISC"]
    # two class nouns that disagree decide nothing beyond their own spans
    text = "Die Raumstation Mir und die Agentur Mir; Mir bleibt."
    spans = _spans_of(text, ("Mir", "LOC"), ("Mir", "LOC"), ("Mir", "LOC"))
    assert [lab for _, _, lab, _ in label_by_form(text, spans)] == ["MISC", "ORG", "LOC"]


def test_lower_case_derived_adjectives_need_a_place():
    """The model reads "katholischen" as a derived place; no place is found for it, so it
    is no mention. "russische" and a capitalised "Traindorfer" stay."""
    from pipeline.ner.model import derives_from_place
    from pipeline.ner.postprocess import drop_unplaced_derivs

    text = "Die russische und die katholischen Traindorfer sahen wakandische Hütten in Wakanda."
    def at(word, label, kind):
        s = text.index(word)
        return (s, s + len(word), label, kind)
    spans = [at("russische", "LOC", "deriv"), at("katholischen", "LOC", "deriv"),
             at("Traindorfer", "LOC", "deriv"), at("wakandische", "LOC", "deriv"), at("Wakanda", "LOC", "name")]
    kept = drop_unplaced_derivs(text, spans, derives_from_place)
    assert [text[s:e] for s, e, _, _ in kept] == ["russische", "Traindorfer", "wakandische", "Wakanda"]
    # without the document's place, "wakandische" goes too
    kept = drop_unplaced_derivs(text, spans[:4], derives_from_place)
    assert [text[s:e] for s, e, _, _ in kept] == ["russische", "Traindorfer"]


def test_a_common_word_opening_a_sentence_before_a_preposition_is_no_person():
    """"Kurz nach Mitternacht" beside "Sebastian Kurz": the adverb; "Kurz sagte" and a
    "Kurz" inside the sentence stay the person; a surname that is no common word stays."""
    from pipeline.ner.postprocess import drop_sentence_adverbs

    text = "Kurz nach Mitternacht kam Sebastian Kurz. Kurz sagte, Kurz darauf gehe er. Merkel nach dem Treffen."
    def at(word, start=0):
        s = text.index(word, start)
        return (s, s + len(word), "PER", "name")
    spans = [at("Kurz"), at("Sebastian Kurz"), at("Kurz", 42), at("Kurz", 54), at("Merkel")]
    kept = drop_sentence_adverbs(text, spans)
    assert [s for s, _, _, _ in kept] == [spans[1][0], 42, 54, spans[4][0]]
    # the same word opening a sentence before "darauf": an adverb
    text2 = "Es regnete. Kurz darauf kam die Sonne."
    s = text2.index("Kurz")
    assert drop_sentence_adverbs(text2, [(s, s + 4, "PER", "name")]) == []


def test_a_person_cut_after_a_capitalised_particle_takes_the_rest_of_the_name():
    from pipeline.ner.postprocess import extend_particle_names

    text = "Alexander Van der Bellen traf Nguyen Van Thieu, Maria Van und Peter De der Firma."
    def at(word):
        s = text.index(word)
        return (s, s + len(word), "PER", "name")
    spans = [at("Alexander Van"), at("Nguyen Van"), at("Maria Van"), at("Peter De")]
    got = [text[s:e] for s, e, _, _ in extend_particle_names(text, spans)]
    # "Maria Van und ...": no capitalised word after the particles; "Peter De der Firma":
    # "Firma" is taken only as the person's last word where no span holds it, and it does here
    assert got[:3] == ["Alexander Van der Bellen", "Nguyen Van Thieu", "Maria Van"]
    firma = text.index("Firma")
    assert [text[s:e] for s, e, _, _ in extend_particle_names(text, spans[3:] + [(firma, firma + 5, "ORG", "name")])] \
        == ["Peter De", "Firma"]


def test_a_place_name_joined_by_a_lower_case_word_is_one_place():
    from pipeline.ner.model import joined_place_names
    from pipeline.ner.postprocess import join_place_names

    text = "Bosnien und Herzegowina, Bosnien und Kroatien, Trinidad und Tobago sowie Dar es Salaam."
    def at(word, label="LOC", start=0):
        s = text.index(word, start)
        return (s, s + len(word), label, "name")
    spans = [at("Bosnien"), at("Herzegowina"), at("Bosnien", start=10), at("Kroatien"), at("Tobago"),
             at("Dar", "ORG")]
    got = [(text[s:e], lab) for s, e, lab, _ in join_place_names(text, sorted(spans), joined_place_names())]
    # "Bosnien und Kroatien" is no name; "Trinidad und Tobago" had its second half found;
    # "Dar" read as an organisation is left as the model read it
    assert got == [("Bosnien und Herzegowina", "LOC"), ("Bosnien", "LOC"), ("Kroatien", "LOC"),
                   ("Trinidad und Tobago", "LOC"), ("Dar", "ORG")]


def test_a_person_the_model_saw_in_few_of_its_occurrences_is_a_misread_noun():
    """"Gelb" tagged once in a football report where it occurs four times more: no
    person anywhere; "Müller" tagged twice of three stays and is filled in."""
    from pipeline.ner.postprocess import propagate

    text = ("Müller sah Gelb. Dann sah Schmidt Gelb, auch Weber sah Gelb. Müller lachte. "
            "Kurz vor Schluss sah Becker Gelb, Müller nicht. Wieder Gelb.")
    def all_at(word):
        out, k = [], text.find(word)
        while k >= 0:
            out.append((k, k + len(word), "PER", "name"))
            k = text.find(word, k + 1)
        return out
    gelb, mueller = all_at("Gelb"), all_at("Müller")
    got = propagate(text, sorted([gelb[0]] + mueller[:2]))
    assert sorted(got) == sorted(mueller)
    # seen in two of its five occurrences: filled in
    assert len(propagate(text, sorted(gelb[:2] + mueller[:2]))) == len(gelb) + len(mueller)


def test_a_place_the_model_saw_once_among_many_occurrences_is_a_misread_noun():
    from pipeline.ner.postprocess import propagate

    text = "Er schoss aufs Tor. Das Tor fiel spät, ein Tor für Bremen. Im Tor stand Wiese, Bremen jubelte."
    first = text.index("Tor")
    b = [i for i in range(len(text)) if text.startswith("Bremen", i)]
    spans = [(first, first + 3, "LOC", "name"), (b[0], b[0] + 6, "LOC", "name")]
    got = [text[s:e] for s, e, _, _ in propagate(text, spans)]
    assert got == ["Bremen", "Bremen"]
    # an organisation is filled in however rarely the model saw it (it misses them more)
    spans = [(first, first + 3, "ORG", "name")]
    assert [text[s:e] for s, e, _, _ in propagate(text, spans)] == ["Tor"] * 4


def test_a_form_the_model_read_under_two_labels_is_a_name_and_is_filled_in():
    """"Kreml" read once as a person and once as a place among six: the model is unsure of
    its label, not of its being a name; all six are mentions."""
    from pipeline.ner.postprocess import propagate

    text = "Kreml sagt ja. Der Kreml. Im Kreml. Vom Kreml. Zum Kreml. Dem Kreml."
    ks = [i for i in range(len(text)) if text.startswith("Kreml", i)]
    spans = [(ks[0], ks[0] + 5, "PER", "name"), (ks[1], ks[1] + 5, "LOC", "name")]
    assert len(propagate(text, spans)) == 6


def _credits(text, spans=()):
    from pipeline.ner.model import is_known_place
    from pipeline.ner.postprocess import credit_lines

    return [(text[s:e], lab) for s, e, lab, _ in credit_lines(text, list(spans), is_place=is_known_place)]


def test_attribution_lines_name_their_sources_and_photographers():
    assert _credits("Quelle: Sputnik © Artem Geodakjan") == [("Sputnik", "ORG"), ("Artem Geodakjan", "PER")]
    assert _credits("    Quelle: AFP, dpa, AP") == [("AFP", "ORG"), ("dpa", "ORG"), ("AP", "ORG")]
    assert _credits("Foto: Getty Images") == [("Getty Images", "ORG")]
    # a byline before a bracket of sources is the author; a place before one is a dateline
    assert _credits("Minh Duc (Laut RT, Sputnik)") == [("Minh Duc", "PER"), ("RT", "ORG"), ("Sputnik", "ORG")]
    assert _credits("New York (AP)") == [("AP", "ORG")]
    # without a cue a bracket of sources holds acronyms only
    assert _credits("Der Kanzler reiste ab. (AFP, dpa)") == [("AFP", "ORG"), ("dpa", "ORG")]
    assert _credits("Mehr zum Thema (Update)") == []
    # the photographer after an agency and "/", also in capitals and over the model's reading
    assert _credits("Bild: REUTERS/Fabrizio Bensch") == [("REUTERS", "ORG"), ("Fabrizio Bensch", "PER")]
    text = "Foto: APA/HANS KLAUS TECHT"
    assert _credits(text, [(10, 26, "ORG", "name")]) == [("APA", "ORG"), ("HANS KLAUS TECHT", "PER")]
    # a source of two words is a person or a firm: left to the model, unless an
    # institution's word tells ("Bank")
    assert _credits("Quelle: Hans Müller") == []
    assert _credits("Quelle: Deutsche Bank") == [("Deutsche Bank", "ORG")]


def test_a_credit_with_a_word_that_is_no_name_adds_nothing_and_the_model_keeps_its_spans():
    assert _credits("Foto: privat") == []
    assert _credits("Kommentar (0)") == []
    assert _credits("Fotostrecke (12 Bilder)") == []
    # running text is no credit line
    assert _credits("Die Quelle: ein Bericht der Regierung.") == []
    text = "Quelle: Sputnik"
    assert _credits(text, [(8, 15, "MISC", "name")]) == [("Sputnik", "MISC")]


def test_a_capitalised_adjective_before_a_compass_noun_is_a_region():
    from pipeline.ner.postprocess import compass_regions

    def regions(text, spans=()):
        return [(text[s:e], lab) for s, e, lab, _ in compass_regions(text, list(spans))]

    assert regions("Er lebt im Fernen Osten Russlands.") == [("Fernen Osten", "LOC")]
    assert regions("Der Krieg im Nahen Osten geht weiter.") == [("Nahen Osten", "LOC")]
    # a span of one of its words grows to the name; one reaching further stays
    text = "im Mittleren Westen der USA"
    assert regions(text, [(13, 19, "LOC", "name")]) == [("Mittleren Westen", "LOC")]
    text = "das Festival Wilder Westen Open Air"
    assert regions(text, [(13, 35, "MISC", "name")]) == [("Wilder Westen Open Air", "MISC")]
    # an article or a preposition opening a sentence, a lower-case adjective: no name
    assert regions("Den Osten kennt er. Im Norden regnet es.") == []
    assert regions("Er fuhr in den fernen Osten.") == []


def test_an_abbreviation_in_brackets_after_a_name_takes_its_label():
    from pipeline.link.compare import abbreviation_defines
    from pipeline.ner.postprocess import bracket_abbreviations

    def abbrs(text, spans):
        return [(text[s:e], lab) for s, e, lab, _ in bracket_abbreviations(text, spans, abbreviation_defines)]

    text = "am Östlichen Wirtschaftsforum (EEF) in Wladiwostok"
    assert abbrs(text, [(3, 29, "MISC", "name")]) == [("Östlichen Wirtschaftsforum", "MISC"), ("EEF", "MISC")]
    text = "Der Bundesgerichtshof (BGH) in Karlsruhe"
    assert abbrs(text, [(4, 21, "ORG", "name")])[-1] == ("BGH", "ORG")
    # letters the name does not give, a bracket that is no abbreviation, a short name
    assert len(abbrs("die Europäische Union (UNO) tagte", [(4, 21, "ORG", "name")])) == 1
    assert len(abbrs("die Europäische Union (Brüssel) tagte", [(4, 21, "ORG", "name")])) == 1
    assert len(abbrs("Iran (IR) droht", [(0, 4, "LOC", "name")])) == 1


def test_photo_credits_after_a_caption_and_several_credits_on_one_line():
    # a credit after the caption's sentence; the first name of a photo credit is the photographer
    assert _credits("Er hilft Flüchtlingen. Foto: Holger Hollemann") == [("Holger Hollemann", "PER")]
    assert _credits("ein. Foto: Kay Nietfeld Bild: dpa-infocom GmbH") == [
        ("Kay Nietfeld", "PER"), ("dpa-infocom GmbH", "ORG")]
    assert _credits("© dpa-infocom GmbH") == [("dpa-infocom GmbH", "ORG")]
    # institutions are no photographers
    assert _credits("Foto: Deutsche Bahn") == [("Deutsche Bahn", "ORG")]
    # the cue word is no name, whatever the model read
    text = "Foto: Picture Alliance"
    assert _credits(text, [(0, 4, "MISC", "name")]) == [("Picture Alliance", "ORG")]
    # a cue inside a sentence is none
    assert _credits("Die Quelle: Merkel sagte es.") == []


def test_spans_lose_trailing_function_words_and_need_a_letter():
    from pipeline.ner.postprocess import trim_spans

    def trim(text):
        return [text[s:e] for s, e, _, _ in trim_spans(text, [(0, len(text), "ORG", "name")])]

    assert trim("Die Rechte und") == ["Die Rechte"]
    assert trim("Demokratischen Partei für das") == ["Demokratischen Partei"]
    assert trim("Bundesverband, der") == ["Bundesverband"]
    # names with inner or final capitalised words keep them
    assert trim("Bosnien und Herzegowina") == ["Bosnien und Herzegowina"]
    assert trim("Frankfurt am Main") == ["Frankfurt am Main"]
    assert trim("16.03.2016") == [] and trim("2:31:37") == []
    assert trim("Hannover 96") == ["Hannover 96"]


def test_an_authors_line_names_a_person():
    assert _credits("Titel\nvon ALEXANDER MÜLLER\nText") == [("ALEXANDER MÜLLER", "PER")]
    assert _credits("Von Peter Heusch") == [("Peter Heusch", "PER")]
    # a place or an institution is no author; a place the model found stays one
    assert _credits("Von Deutsche Bahn") == [] and _credits("Von Bad Tölz") == []
    assert _credits("Von Berlin Hbf", [(4, 14, "LOC", "name")]) == [("Berlin Hbf", "LOC")]
    # a sentence is no author's line
    assert _credits("Von Berlin aus fuhr er weiter.") == []


def test_a_lower_case_first_part_of_a_compound_is_narrowed_where_it_is_a_name():
    text = "eine dpa-Meldung, der ödp-Kreisverband und pro-indonesischen Kräfte"

    def narrowed(word, label, known=()):
        i = text.index(word)
        return [text[a:b] for a, b, _, _ in split_compound(text, (i, i + len(word), label, "part"), known)]

    assert narrowed("dpa-Meldung", "ORG") == ["dpa"]
    assert narrowed("ödp-Kreisverband", "ORG") == ["ödp"]
    # a lower-case prefix of another label only where the document names it
    assert narrowed("pro-indonesischen", "MISC") == ["pro-indonesischen"]
    assert narrowed("pro-indonesischen", "MISC", {"pro"}) == ["pro"]


def test_a_dated_credit_names_its_agency_and_not_its_newsroom():
    # Der Standard closes articles with "(red, 12.5.2016)" or "(APA, 12.5.2016)"
    text = "Das ist so. (red, 12.5.2016)"
    assert _credits(text, [(13, 16, "ORG", "name")]) == []
    assert _credits("Text. (APA, 12.5.2016)") == [("APA", "ORG")]
    # a person's credit is left to the model; a date in running text is no credit
    assert _credits("(Karin Riss, 12.5.2016)", [(1, 11, "PER", "name")]) == [("Karin Riss", "PER")]
    assert _credits("Er kam (am 12.5.) an.") == []


def test_the_cue_word_stays_a_name_where_no_credit_follows_it():
    # the tabloid quoted before a headline, not a photo credit
    text = "Bild: Merkel tritt zurück"
    assert _credits(text, [(0, 4, "ORG", "name")]) == [("Bild", "ORG")]
