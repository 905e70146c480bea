"""The answer stages without the real model: follow-ups, features, the parameter record, selection, numbering,
the judge and writer hooks, and the whole pipeline over a stand-in model."""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import replace

import numpy as np
import pytest

from qa import Answer, QAError, QuestionError, Retriever, Settings
from qa.answer import answer_figures
from qa.lexical import LexicalIndex
from qa.reader import NO_ANSWER, Reader, ReaderError, load_params, make_reader
from qa.reader.candidates import Sentence, quotable, search_query
from qa.reader.compose import Choice, answer_order, number, reading_order, select, written
from qa.reader.features import (
    ASKS_FOR_LIST,
    BASE_FEATURES,
    QUESTION_FEATURES,
    SENTENCE_FEATURES,
    Words,
    asks,
    coverage,
    derive,
    holds,
    kernel_pool,
    question_features,
    term_share,
    unmatched,
)
from qa.reader.followup import about_last_answer, context_questions, history_questions
from qa.reader.params import LinearModel, ReaderParams
from qa.records import Citation

from .conftest import SEEDS, assert_quotes_exact
from .fakes import CountingEmbedder

STOP = {"the", "a", "an", "of", "to", "in", "did", "what", "which", "who", "and", "was", "is", "he", "it", "there"}


def terms(text: str) -> list[str]:
    return [w for w in re.findall(r"\w+", text.lower()) if w not in STOP]


def cite(doc: str, start: int, end: int | None = None) -> Citation:
    return Citation(doc, doc.title(), f"{doc}.txt", start, start + 10 if end is None else end)


def sentence(text: str, doc: str = "a", start: int = 0, previous: int | None = None, quotable: bool = True,
             rank: int = 1) -> Sentence:
    return Sentence(text, cite(doc, start), cite(doc, 0, 500), rank, 0 if previous is None else 1, quotable,
                    previous, None)


# --- follow-ups ----------------------------------------------------------------------------------------------


def test_history_takes_answers_strings_pairs_and_mappings() -> None:
    answer = Answer("Who wrote to Biden?", "Michael Waltz wrote. [1]", (), (), False, 0.9)
    history = [answer, "  Where?  ", ("Why?", "Because. [2]"), {"question": "When?"}, 42, ""]
    assert history_questions(history) == ["Who wrote to Biden?", "Where?", "Why?", "When?"]
    assert history_questions(None) == []


def test_a_follow_up_leaning_on_a_pronoun_brings_in_the_previous_question() -> None:
    history = ["Which congressman wrote to Biden about the envoy?"]
    assert context_questions("What did he say should happen?", history, terms) == history
    assert context_questions("Which congressman criticised the envoy's Qatar talks?", history, terms) == []
    assert context_questions("What did he say should happen?", [], terms) == []


@pytest.mark.parametrize(("question", "leans"), [
    ("When did the envoy leave his post?", False),  # "his" is the envoy's
    ("When did the Soviet Union pull its troops out of Afghanistan?", False),
    ("At which hotel did Washington and the insurgents sign their accord?", False),
    ("How many people made up the insurgents' delegation that went to Islamabad?", False),
    ("And where did he give his speeches?", True),
    ("And what did their spokesman insist they would not seek?", True),
    ("Did Washington's response slow them down?", True),
    ("Why did that round fall apart?", True),
    ("Who tweeted that day about what the negotiators were aiming for?", True),
    ("How many days before the fall of the government did he send it?", True),
])
def test_a_pronoun_the_question_resolves_itself_does_not_point_back(question: str, leans: bool) -> None:
    history = ["What did China's foreign ministry say about the agreement?"]
    assert context_questions(question, history, terms) == (history if leans else [])


def test_a_question_of_one_key_term_leans_on_the_previous_one_and_one_of_two_stands_alone() -> None:
    bm25_terms = LexicalIndex([]).terms  # the retriever's own: stemmed, question words among the stop words
    history = ["Which countries did the envoy visit?"]
    assert context_questions("What about Pakistan?", history, bm25_terms) == history
    assert context_questions("Where was Khalilzad born?", history, bm25_terms) == []


def test_a_question_that_points_at_the_last_answer_is_read_with_its_quote() -> None:
    from qa.records import AnswerCitation, AnswerSentence

    quote = "Last week, the US envoy said the Taliban wants the lion's share of the power."
    last = Answer("What do the Taliban want?", f"{quote} [1]", (AnswerSentence(quote, 1),),
                  (AnswerCitation(1, cite("a", 0, len(quote)), cite("a", 0, 500)),), False, 0.9)
    assert about_last_answer("Who said that?", [last], terms) == f"Who said “{quote}”?"
    assert about_last_answer("when was this", ["What do the Taliban want?", last], terms) == f"when was “{quote}”"
    assert about_last_answer("Who said that?", [last.to_dict()], terms) == f"Who said “{quote}”?"  # as JSON
    assert about_last_answer("Who said that?", [("What do the Taliban want?", last)], terms) is not None
    # no quoted answer to point at: a question string, an abstention, no history
    assert about_last_answer("Who said that?", ["What do the Taliban want?"], terms) is None
    assert about_last_answer("Who said that?", [replace(last, abstained=True, sentences=())], terms) is None
    assert about_last_answer("Who said that?", None, terms) is None
    # "that" not at the end, a relative "that", or a question that names enough to stand alone
    assert about_last_answer("Did he say that the talks failed?", [last], terms) is None
    assert about_last_answer("Who chaired the delegation that?", [last], terms) is None
    assert about_last_answer("Which Pakistani army general met the envoy in Rawalpindi after that?", [last],
                             terms) is None


def test_a_chain_of_follow_ups_reaches_back_to_the_question_that_stands_alone() -> None:
    history = ["Who signed the accord in Doha?", "Which foreign minister floated new ideas?",
               "To whom did he send a letter?"]
    assert context_questions("And what did he ask of him?", history, terms) == history[1:]


def test_the_search_query_drops_the_oldest_context_to_stay_under_the_limit() -> None:
    assert search_query("When?", ["Who came?", "Where to?"]) == "Who came? Where to? When?"
    long = "x" * 1500
    assert search_query("When?", [long, long]) == f"{long} When?"
    assert search_query("When?", ["y" * 2500]) == "When?"


# --- features ------------------------------------------------------------------------------------------------


def unit(*rows: list[float]) -> np.ndarray:
    matrix = np.array(rows, dtype=np.float32)
    return matrix / np.linalg.norm(matrix, axis=1, keepdims=True)


def test_kernels_count_the_words_near_each_centre_weighted_by_the_question_words() -> None:
    question = Words(unit([1, 0, 0], [0, 1, 0]), np.array([3.0, 1.0], dtype=np.float32))
    same = Words(unit([1, 0, 0], [0, 1, 0]), np.ones(2, dtype=np.float32))
    far = Words(unit([0, 0, 1]), np.ones(1, dtype=np.float32))
    near_one = kernel_pool(question, same, (1.0, 0.0), 0.1)
    assert near_one[0] == pytest.approx(np.log(2.0), abs=1e-3)  # each question word meets itself once
    assert near_one[1] == pytest.approx(np.log(2.0), abs=1e-3)  # and the other word at cosine 0
    assert kernel_pool(question, far, (1.0, 0.0), 0.1)[0] == pytest.approx(0.0, abs=1e-6)
    assert kernel_pool(question, Words.empty(3), (1.0, 0.0), 0.1).tolist() == [0.0, 0.0]


def test_coverage_and_unmatched_weigh_rare_question_words_more() -> None:
    question = Words(unit([1, 0, 0], [0, 1, 0]), np.array([3.0, 1.0], dtype=np.float32))
    first_only = Words(unit([1, 0, 0]), np.ones(1, dtype=np.float32))
    assert coverage(question, first_only) == pytest.approx(0.75)
    assert unmatched(question, first_only, 0.6) == pytest.approx(0.25)
    assert unmatched(question, Words.empty(3), 0.6) == pytest.approx(1.0)
    assert term_share({"waltz": 3.0, "letter": 1.0}, frozenset({"letter"})) == pytest.approx(0.25)
    assert term_share({}, frozenset({"x"})) == 0.0


def test_what_a_question_asks_for_and_what_a_sentence_holds_beyond_the_question() -> None:
    assert asks("In which year did Trump promise it?")["year"] and asks("How many troops stayed?")["number"]
    assert asks("Who led the delegation?")["who"] and not asks("Why did the talks collapse?")["who"]
    assert holds("It was his election pledge in 2016.", "Which year did Trump pledge it?")["year"]
    assert not holds("Trump pledged it in 2016.", "Did Trump pledge it in 2016?")["year"]
    assert holds("The team met General Bajwa.", "Who did the team meet?")["name"]
    assert not holds("Talks collapsed quickly.", "Who did the team meet?")["name"]
    assert holds("Rebels took eight capitals.", "How many capitals fell?")["number"]


def test_numbers_and_names_the_question_gives_that_an_article_or_passage_never_writes() -> None:
    texts = ["Andretti won the 1967 Daytona 500 in a Ford.", "He led 112 laps.",
             "Kurt Busch won the 2,024-mile race in 2024.", "Busch crossed the line first."]
    places = [("a", 1), ("a", 1), ("b", 2), ("b", 3)]
    columns = {name: np.zeros(len(texts)) for name in BASE_FEATURES}
    derived = derive(columns, texts, "Who won the 2024 Daytona 500 for Ford?", places)
    assert derived["numbers_unmatched_article"].tolist() == [0.5, 0.5, 0.5, 0.5]  # "2024" / "500"
    assert derived["numbers_unmatched_passage"].tolist() == [0.5, 0.5, 0.5, 1.0]
    # "Daytona" and "Ford" (not the first word, "Who"); the second article writes neither
    assert derived["names_unmatched_article"].tolist() == [0.0, 0.0, 1.0, 1.0]
    asked = derive(columns, texts, "When did Kurt Busch's team win?", places)
    assert asked["names_unmatched_passage"].tolist() == [1.0, 1.0, 0.0, 0.5]  # "Busch's" is Busch
    assert not derive(columns, texts, "who won it?", places)["numbers_unmatched_article"].any()


def test_question_features_read_the_best_candidate_and_handle_none() -> None:
    columns = {name: np.array([0.1, 0.9, 0.5]) for name in SENTENCE_FEATURES}
    basics = {"standout": 1.0, "top_z": 2.0, "follow_up": 0.0, "log_question_terms": 1.5}
    row = question_features(basics, columns, np.array([5.0, 1.0, 3.0]), np.array([False, True, True]))
    assert set(row) == set(QUESTION_FEATURES)
    assert row["best_logit"] == 3.0 and row["margin"] == 2.0 and row["best_cosine"] == 0.5
    assert row["most_cosine"] == 0.9 and row["standout"] == 1.0
    empty = question_features(basics, columns, np.zeros(3), np.zeros(3, dtype=bool))
    assert set(empty) == set(QUESTION_FEATURES) and empty["best_unmatched_passage"] == 1.0


# --- the parameter record ------------------------------------------------------------------------------------


def test_a_linear_model_applies_its_standardisation_and_weights() -> None:
    model = LinearModel(("a", "b"), (1.0, 0.0), (2.0, 1.0), (1.0, -1.0), 0.5)
    assert model.logits(np.array([[3.0, 1.0]])).tolist() == [0.5]  # (3-1)/2*1 + 1*-1 + 0.5
    assert model.select({"b": np.array([7.0]), "a": np.array([5.0])}).tolist() == [[5.0, 7.0]]
    assert LinearModel.from_dict(model.to_dict()) == model
    with pytest.raises(QAError):
        LinearModel.from_dict({**model.to_dict(), "weights": [1.0]})


def test_the_shipped_parameters_name_every_feature_and_record_their_training() -> None:
    params = load_params()
    assert params.ranker.names == SENTENCE_FEATURES and params.abstainer.names == QUESTION_FEATURES
    assert 0.0 < params.threshold < 1.0 and params.max_sentences == 2
    assert {"command", "data", "split", "held_out_figures"} <= set(params.training)
    assert ReaderParams.from_dict(json.loads(json.dumps(params.to_dict()))) == params


def test_malformed_parameters_are_one_line_errors(tmp_path) -> None:
    bad = tmp_path / "params.json"
    bad.write_text('{"ranker": {}}', encoding="utf-8")
    with pytest.raises(QAError, match="malformed"):
        load_params(bad)
    with pytest.raises(QAError, match="cannot read"):
        load_params(tmp_path / "missing.json")


# --- selection and numbering ---------------------------------------------------------------------------------


def test_the_best_sentence_alone_when_the_runner_up_is_far_less_likely() -> None:
    sentences = [sentence("Envoy visited Qatar in July.", start=0), sentence("Talks stalled over prisoners.", start=40)]
    chosen = select(sentences, np.array([0.2, 0.9]), second=0.5)
    assert [c.sentence.text for c in chosen] == ["Talks stalled over prisoners."]
    assert len(select(sentences, np.array([0.6, 0.9]), second=0.5)) == 2


def test_sentences_alike_but_for_their_figures_are_not_each_others_copies() -> None:
    sentences = [sentence("The death toll rose to 17 on Friday, officials said.", start=0),
                 sentence("The death toll rose to 14 on Friday, officials said.", start=0, doc="b"),
                 sentence("The death toll rose to 17 on Friday, officials say.", start=0, doc="c")]
    similarity = np.full((3, 3), 0.97)
    [chosen, *rest] = select(sentences, np.array([0.9, 0.5, 0.4]), similarity, limit=1)
    assert [cited.doc_id for cited in chosen.also] == ["c"]  # "14" is another claim, not another copy of "17"


def test_a_sentence_that_points_back_brings_the_one_before_it_within_the_limit() -> None:
    sentences = [sentence("He will travel to a series of five countries.", start=0),
                 sentence("They are Qatar, Pakistan and Norway.", start=50, previous=0),
                 sentence("Bulgaria hosted NATO allies.", start=90, doc="b")]
    chosen = select(sentences, np.array([0.3, 0.9, 0.85]), limit=2, second=0.5)
    assert [c.sentence.citation.start for c in chosen] == [0, 50]


@pytest.mark.parametrize(("question", "wants_list"), [
    ("Which five countries was the envoy scheduled to visit?", True),
    ("What are the five countries on his tour?", True),
    ("In which two countries did Khalilzad help shape new administrations?", True),
    ("Apart from the United States, which countries' ministers would attend?", True),
    ("Since when has the Pentagon been withdrawing troops from five military bases?", False),
    ("What was the purpose of the envoy's stops in the two European countries?", False),
    ("How many soldiers died in three provinces?", False),
])
def test_a_list_is_preferred_only_when_the_counted_things_are_what_is_asked(question: str, wants_list: bool) -> None:
    """Seen on the seeds: "Since when ... from five military bases?" was answered with the sentence naming
    the envoy's five countries."""
    assert bool(ASKS_FOR_LIST.search(question)) is wants_list


def test_short_sentences_the_headline_and_questions_are_not_quotable() -> None:
    title = "Space shuttle Challenger exploded 39 years ago"
    assert quotable("The shuttle broke apart 73 seconds after liftoff.", title, 4)
    assert not quotable("It did.", title, 4)
    assert not quotable(f" {title} ", title, 4)
    assert not quotable("What happened in the Challenger launch?", title, 4)
    assert not quotable('He asked: "Who signed off on the launch?"', title, 4)
    assert quotable('"Who signed off on the launch?" the panel asked.', title, 4)  # says who asked: reported


def test_subheadings_are_not_quotable_but_fact_lines_and_sentences_are() -> None:
    title = "World Happiness Report 2022"
    for heading in ["Top 10 happiest countries", "What Jimmy Kimmel said about Charlie Kirk", "## Reaction from Kyiv",
                    "# World Happiness Report 2022"]:
        assert not quotable(heading, title, 4, alone_on_its_line=True), heading
    for line in ["Population: 5.5 million people in 2022", "7:30: Shania Twain and her band",
                 "Finland was voted the happiest country in the world.", "He said the list was “a surprise”"]:
        assert quotable(line, title, 4, alone_on_its_line=True), line
    assert quotable("Top 10 happiest countries this year said", title, 4)  # part of a line: a sentence's piece


def test_credits_are_not_quotable() -> None:
    title = "988 suicide line opens"
    for credit in ["Contributing: Anne Godlasky and Alia E. Dastagir, USA TODAY; The Associated Press",
                   "Additional reporting by Jane Doe in Kabul.", "Contributors: the Associated Press"]:
        assert not quotable(credit, title, 4), credit
    assert not quotable("Reporting by Jane Doe; editing by John Roe", title, 4, alone_on_its_line=True)
    assert not quotable("With reporting by AFP, AP, and Reuters", title, 4, alone_on_its_line=True)
    assert quotable("Reporting by the AP found the line was busy for hours.", title, 4)  # a sentence of the story


def test_unquotable_sentences_are_never_picked_and_none_gives_no_choice() -> None:
    assert select([sentence("Headline words here", quotable=False)], np.array([0.99])) == []
    assert select([], np.zeros(0)) == []


def test_the_same_sentence_in_another_article_is_quoted_once_and_listed_in_also() -> None:
    sentences = [sentence("The envoy will update NATO allies.", "a", 40),
                 sentence("The Envoy will update NATO allies!", "b", 7),
                 sentence("Prisoner swaps stalled in Doha last week.", "c", 3)]
    similarity = np.eye(3)
    chosen = select(sentences, np.array([0.9, 0.85, 0.8]), similarity, second=0.5)
    assert [c.sentence.citation.doc_id for c in chosen] == ["a", "c"]
    assert chosen[0].also == (cite("b", 7),) and chosen[1].also == ()


def test_reading_order_groups_an_article_and_keeps_its_order() -> None:
    best, other, earlier = sentence("B.", "x", 500), sentence("O.", "y", 10), sentence("E.", "x", 20)
    ordered = reading_order([Choice(best), Choice(other), Choice(earlier)])
    assert [c.sentence.text for c in ordered] == ["E.", "B.", "O."]


def test_an_answer_leads_with_its_best_sentence_unless_the_next_goes_on_from_it() -> None:
    from dataclasses import replace

    scene = replace(sentence("DALLAS — Sunday marked the 30th anniversary.", "x", 0), position=0)
    fact = replace(sentence("The memorial opened in 1994.", "x", 900), position=6)
    other = sentence("Others remembered it too.", "y", 10)
    ordered = answer_order([Choice(fact), Choice(other), Choice(scene)])
    assert [c.sentence.text for c in ordered] == ["The memorial opened in 1994.",
                                                  "DALLAS — Sunday marked the 30th anniversary.",
                                                  "Others remembered it too."]
    lead = replace(sentence("The envoy visits five countries.", "x", 100), position=2)
    names = replace(sentence("They are Qatar and Norway.", "x", 140), position=3)
    assert [c.sentence for c in answer_order([Choice(names), Choice(lead)])] == [lead, names]


def test_numbers_follow_first_use_and_the_text_quotes_each_sentence() -> None:
    first, second = sentence("Qatar hosted the talks.", "a", 5), sentence("Pakistan helped.", "b", 9)
    also = (cite("c", 1),)
    text, sentences, citations = number([Choice(first, also), Choice(second), Choice(first)])
    assert text == "Qatar hosted the talks. [1] Pakistan helped. [2] Qatar hosted the talks. [1]"
    assert [(s.text, s.number) for s in sentences] == [("Qatar hosted the talks.", 1), ("Pakistan helped.", 2),
                                                       ("Qatar hosted the talks.", 1)]
    assert [c.number for c in citations] == [1, 2] and citations[0].also == also


def test_sentences_that_follow_each_other_in_a_passage_are_one_source() -> None:
    lead = replace(sentence("The envoy visits five countries.", "x", 100), position=2)
    names = replace(sentence("They are Qatar and Norway.", "x", 133), position=3)
    elsewhere = replace(sentence("Talks resumed.", "x", 400), position=9)
    wire = (Citation("w", "W", "w.txt", 10, 42), Citation("v", "V", "v.txt", 0, 32))
    wire_names = (Citation("w", "W", "w.txt", 43, 69), Citation("v", "V", "v.txt", 300, 326))
    text, sentences, citations = number([Choice(lead, wire), Choice(names, wire_names), Choice(elsewhere)])
    assert text == "The envoy visits five countries. They are Qatar and Norway. [1] Talks resumed. [2]"
    assert [s.number for s in sentences] == [1, 1, 2]
    assert [(c.citation.start, c.citation.end) for c in citations] == [(100, 143), (400, 410)]
    # a wire copy that has both sentences together is one span; one that has them apart keeps the first's
    assert [(c.doc_id, c.start, c.end) for c in citations[0].also] == [("w", 10, 69), ("v", 0, 32)]
    _, _, apart = number([Choice(elsewhere), Choice(lead)])  # the same passage, not next to each other
    assert len(apart) == 2


def test_written_sentences_cite_citation_numbers_and_drop_unknown_quotes() -> None:
    _, sentences, _ = number([Choice(sentence("Qatar hosted.", "a", 5)), Choice(sentence("Oslo too.", "b", 9))])

    def writer(question, quotes):
        assert quotes == ["Qatar hosted.", "Oslo too."]
        return [("Qatar and Oslo hosted.", (1, 2)), ("Made up.", (7,)), ("  ", (1,))]

    (only,) = written(writer, "Who hosted?", sentences)
    assert only.text == "Qatar and Oslo hosted." and only.numbers == (1, 2)
    assert written(None, "Who hosted?", sentences) == ()


# --- the whole pipeline with a stand-in model ----------------------------------------------------------------


@pytest.fixture(scope="module")
def fake_retriever(tmp_path_factory: pytest.TempPathFactory) -> Retriever:
    corpus = tmp_path_factory.mktemp("corpus")
    for article in SEEDS.glob("*.txt"):
        shutil.copy(article, corpus / article.name)
    return Retriever.from_folder(corpus, embedder=CountingEmbedder())


def check_quotes(retriever: Retriever, answer: Answer) -> None:
    assert_quotes_exact(retriever, answer)
    assert answer.text.startswith(NO_ANSWER) == answer.abstained


def always(probability: float) -> Reader:
    params = load_params()
    return Reader("test", replace(params, threshold=probability))


def test_answers_quote_their_cited_spans_exactly(fake_retriever: Retriever) -> None:
    answer = always(0.0).answer(fake_retriever, "They are Qatar, Pakistan, Norway, Bulgaria and of course Afghanistan.")
    assert not answer.abstained and 1 <= len(answer.sentences) <= 2 and answer.reader == "test"
    check_quotes(fake_retriever, answer)
    assert "Norway, Bulgaria" in answer.text


def test_an_abstention_names_the_words_of_the_question_no_article_holds(fake_retriever: Retriever) -> None:
    from qa.reader.pipeline import abstention_text

    assert fake_retriever.unknown_words("Where was Khalilzd born, and what did the envoys visit?") == ["Khalilzd", "born"]
    assert fake_retriever.unknown_words("¿Qué países visitó el enviado?") == ["Qué", "países", "visitó", "el", "enviado"]
    assert fake_retriever.unknown_words("What did he say?") == []  # stop words are never unknown
    answer = always(1.01).answer(fake_retriever, "Where was Khalilzd born?")
    assert answer.abstained and answer.text == "The articles don't say. No article holds “Khalilzd” or “born”."
    assert abstention_text([]) == NO_ANSWER
    assert abstention_text(["a"]) == f"{NO_ANSWER} No article holds “a”."
    assert abstention_text(list("abcdefg")) == f"{NO_ANSWER} No article holds “a”, “b”, “c”, “d”, “e” or 2 more."


def test_a_follow_up_of_a_question_the_articles_do_not_answer_is_not_answered(fake_retriever: Retriever) -> None:
    from qa.reader.followup import follows_an_abstention
    from qa.reader.pipeline import FOLLOWS_AN_ABSTENTION

    reader = always(0.0)  # answers anything it is asked
    declined = always(1.01).answer(fake_retriever, "How many troops did Germany keep in Norway?")
    answered = reader.answer(fake_retriever, "Which five countries did Zalmay Khalilzad visit?")
    assert declined.abstained and not answered.abstained
    answer = reader.answer(fake_retriever, "When did that happen?", [declined])
    assert answer.abstained and answer.text == f"{NO_ANSWER} {FOLLOWS_AN_ABSTENTION}" and answer.confidence == 0.0
    assert answer.closest  # the passages the widened question found, to look at
    assert not reader.answer(fake_retriever, "When did that happen?", [declined, answered]).abstained
    assert not reader.answer(fake_retriever, "Which five countries did Zalmay Khalilzad visit?", [declined]).abstained
    assert follows_an_abstention("Why?", [declined.to_dict()], terms)  # history as JSON
    assert not follows_an_abstention("Why?", ["How many troops did Germany keep in Norway?"], terms)  # questions only


def test_an_answer_below_the_unsure_level_is_marked_unsure(fake_retriever: Retriever) -> None:
    question = "They are Qatar, Pakistan, Norway, Bulgaria and of course Afghanistan."
    reader = always(0.0)
    learned = reader.score(fake_retriever, question).probability
    below = replace(reader, params=replace(reader.params, unsure=learned + 0.01))
    answer = below.answer(fake_retriever, question)
    assert answer.unsure and not answer.abstained and answer.to_dict()["unsure"] is True
    assert not replace(reader, params=replace(reader.params, unsure=learned)).answer(fake_retriever, question).unsure


def test_abstaining_lists_the_closest_passages(fake_retriever: Retriever) -> None:
    answer = always(1.01).answer(fake_retriever, "They are Qatar, Pakistan, Norway, Bulgaria.")
    assert answer.abstained and answer.sentences == () and answer.citations == () and answer.text == NO_ANSWER
    assert [hit.rank for hit in answer.closest] == [1, 2, 3] and 0.0 <= answer.confidence <= 1.0


def test_a_judge_sees_the_question_and_the_chosen_evidence_and_can_decline(fake_retriever: Retriever) -> None:
    seen = []

    def judge(question, evidence):
        seen.append((question, list(evidence)))
        return 0.0

    reader = replace(always(0.5), judge=judge, combine=lambda learned, judged: judged)
    answer = reader.answer(fake_retriever, "They are Qatar, Pakistan, Norway, Bulgaria and of course Afghanistan.")
    assert answer.abstained and answer.confidence == 0.0
    (question, evidence), = seen
    assert question.startswith("They are Qatar") and any("Norway, Bulgaria" in e for e in evidence)
    trusting = replace(reader, judge=lambda q, e: 1.0)
    assert not trusting.answer(fake_retriever, "They are Qatar, Pakistan, Norway and Bulgaria.").abstained


def test_the_judge_is_not_asked_where_the_reader_is_sure_enough(fake_retriever: Retriever) -> None:
    asked = []
    question = "They are Qatar, Pakistan, Norway, Bulgaria and of course Afghanistan."
    reader = replace(always(0.5), judge=lambda q, e: asked.append(q) or 0.0, threshold=0.5,
                     combine=lambda learned, judged: 1.0 if judged is None else judged)
    assert reader.answer(fake_retriever, question).abstained and len(asked) == 1  # judge_below: never sure
    sure = replace(reader, judge_below=0.0)
    answer = sure.answer(fake_retriever, question)
    assert not answer.abstained and answer.confidence == 1.0 and len(asked) == 1  # not asked again
    doubtful = replace(reader, judge_below=1.01)
    assert doubtful.answer(fake_retriever, question).abstained and len(asked) == 2


def test_a_writer_adds_own_words_sentences_and_the_quotes_stay(fake_retriever: Retriever) -> None:
    reader = replace(always(0.0), writer=lambda q, quotes: [("Five countries.", (1,))])
    answer = reader.answer(fake_retriever, "They are Qatar, Pakistan, Norway, Bulgaria and of course Afghanistan.")
    assert answer.written[0].text == "Five countries." and answer.written[0].numbers == (1,)
    check_quotes(fake_retriever, answer)


def test_format_errors_are_summed_over_the_reading_models() -> None:
    class Part:
        format_errors = 2

    assert replace(always(0.5), parts=(Part(), Part(), object())).format_errors() == 4
    assert always(0.5).format_errors() == 0


def test_empty_questions_are_refused(fake_retriever: Retriever) -> None:
    with pytest.raises(QuestionError):
        fake_retriever.ask("   ")


def test_readers_are_chosen_by_name_and_unknown_ones_are_one_line_errors(fake_retriever: Retriever) -> None:
    assert make_reader("extractive").name == "extractive"
    with pytest.raises(ReaderError, match="unknown reader 'oracle'"):
        make_reader("oracle")
    with pytest.raises(ReaderError):
        fake_retriever.ask("Who?", reader="oracle")
    assert Settings.from_env({"QA_READER": "strict"}).reader == "strict"
    assert fake_retriever.reader() is fake_retriever.reader("extractive")  # built once, kept warm


def test_answer_figures_per_reader_on_a_tiny_set(fake_retriever: Retriever) -> None:
    questions = [
        {"question": "They are Qatar, Pakistan, Norway, Bulgaria and of course Afghanistan.",
         "answers": ["Norway, Bulgaria"]},
        {"question": "zzz qqq xxyy", "answers": []},
        {"question": "And what about Norway, Bulgaria and Afghanistan?", "answers": ["NORWAY, BULGARIA"],
         "history": ["Which five countries did Zalmay Khalilzad visit?"]},
    ]
    done = []
    figures = answer_figures(fake_retriever, questions, progress=lambda n, total: done.append(n), reader=always(0.0))
    assert figures["answered_answerable"] == 1.0 and figures["answer_holds_gold"] == 1.0
    assert figures["abstained_unanswerable"] == 0.0  # this reader never abstains
    assert {"followup_holds_gold", "followup_holds_gold_without_history", "median_seconds",
            "format_errors"} <= set(figures)
    assert (figures["answerable_questions"], figures["unanswerable_questions"]) == (2, 1) and done == [1, 2, 3]
    # every answer given: the unanswerable question's is the wrong one, sure or unsure as the level puts it
    reader = always(0.0)
    all_unsure = answer_figures(fake_retriever, questions, reader=replace(reader, params=replace(reader.params, unsure=1.01)))
    assert all_unsure["unsure_answers"] == 1.0 and all_unsure["unsure_wrong"] == 1 / 3 and "sure_wrong" not in all_unsure
    all_sure = answer_figures(fake_retriever, questions, reader=replace(reader, params=replace(reader.params, unsure=0.0)))
    assert all_sure["unsure_answers"] == 0.0 and all_sure["sure_wrong"] == 1 / 3 and "unsure_wrong" not in all_sure
    from qa.evaluation import format_readers

    answerable_only = answer_figures(fake_retriever, questions[:1], reader=always(0.0))
    assert "abstained_unanswerable" not in answerable_only  # a share of no questions is not a 0
    assert "abstained" in format_readers({"always": answerable_only})[0]
    assert format_readers({"always": answerable_only})[1].split()[1] == "-"
