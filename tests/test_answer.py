"""Composing answers without the real model: selection, numbering, near-duplicates, follow-ups, abstention."""

from __future__ import annotations

import re
import shutil

import numpy as np
import pytest

from qa import Answer, QuestionError, Retriever
from qa import answer as answering
from qa.answer import (
    Candidate,
    Choice,
    context_questions,
    expected_kind,
    history_questions,
    holds_kind,
    number_choices,
    overlap,
    reading_order,
    select_sentences,
    term_weights,
)
from qa.lexical import LexicalIndex
from qa.records import Citation

from .conftest import SEEDS
from .fakes import CountingEmbedder

STOP = {"the", "a", "an", "of", "to", "in", "did", "what", "which", "who", "and", "was", "is", "he", "it", "there"}


def terms(text: str) -> list[str]:
    return [w for w in re.findall(r"\w+", text.lower()) if w not in STOP]


def cite(doc: str, start: int, end: int | None = None) -> Citation:
    return Citation(doc, doc.title(), f"{doc}.txt", start, start + 10 if end is None else end)


def candidate(text: str, score: float, doc: str = "a", start: int = 0) -> Candidate:
    return Candidate(text, cite(doc, start), cite(doc, 0, 500), score, score, frozenset(terms(text)))


# --- selection -------------------------------------------------------------------------------------------


def test_only_the_best_sentence_when_the_others_score_far_below() -> None:
    chosen = select_sentences([candidate("Envoy visited Qatar in July.", 0.5),
                               candidate("Talks stalled over prisoners and violence.", 0.9),
                               candidate("Kabul released nearly six hundred prisoners.", 0.6)], margin=0.1)
    assert [c.candidate.text for c in chosen] == ["Talks stalled over prisoners and violence."]


def test_close_runners_up_join_up_to_the_limit_best_first() -> None:
    texts = ["Alpha beta gamma.", "Delta epsilon zeta.", "Eta theta iota.", "Kappa lambda mu."]
    candidates = [candidate(t, 1.0 - i * 0.01) for i, t in enumerate(texts)]
    assert [c.candidate.text for c in select_sentences(candidates, margin=0.1)] == texts[:3]
    assert [c.candidate.text for c in select_sentences(candidates, limit=2, margin=0.1)] == texts[:2]


def test_a_runner_up_must_add_at_least_two_new_terms() -> None:
    chosen = select_sentences([candidate("Envoy visited Qatar and Pakistan.", 1.0),
                               candidate("Envoy visited Qatar, Pakistan and Norway.", 0.99),
                               candidate("Norway and Bulgaria hosted NATO allies.", 0.98)], margin=0.1)
    assert [c.candidate.text for c in chosen] == ["Envoy visited Qatar and Pakistan.",
                                                  "Norway and Bulgaria hosted NATO allies."]


def test_the_same_sentence_in_another_article_is_quoted_once_and_listed_in_also() -> None:
    candidates = [candidate("The envoy will update NATO allies.", 1.0, "a", 40),
                  candidate("The Envoy will update NATO allies!", 0.97, "b", 7),
                  candidate("The envoy will update NATO allies.", 0.95, "a", 400),  # repeated in its own article
                  candidate("Prisoner swaps stalled in Doha last week.", 0.96, "c", 3)]
    chosen = select_sentences(candidates, margin=0.1)
    assert [c.candidate.citation.doc_id for c in chosen] == ["a", "c"]
    assert chosen[0].also == (cite("b", 7),)
    assert chosen[1].also == ()


def test_near_duplicates_by_cosine() -> None:
    candidates = [candidate("Khalilzad flew to Doha on Tuesday.", 1.0, "a"),
                  candidate("On Tuesday Khalilzad travelled to Doha.", 0.99, "b"),
                  candidate("Khalilzad spoke to reporters in Doha.", 0.98, "c"),
                  candidate("Baradar led the insurgent delegation.", 0.97, "d")]
    similarity = np.eye(4)
    similarity[0, 1] = similarity[1, 0] = 0.95  # the same report: quoted once, cited in `also`
    similarity[0, 2] = similarity[2, 0] = 0.85  # too close to add anything, but not the same sentence
    chosen = select_sentences(candidates, similarity, margin=0.1)
    assert [c.candidate.citation.doc_id for c in chosen] == ["a", "d"]
    assert [c.doc_id for c in chosen[0].also] == ["b"]


def test_no_candidates_no_choices() -> None:
    assert select_sentences([]) == []


# --- order and numbering -----------------------------------------------------------------------------------


def test_reading_order_groups_an_article_and_keeps_its_order() -> None:
    best, other, earlier = candidate("B.", 1.0, "x", 500), candidate("O.", 0.9, "y", 10), candidate("E.", 0.8, "x", 20)
    ordered = reading_order([Choice(best), Choice(other), Choice(earlier)])
    assert [c.candidate.text for c in ordered] == ["E.", "B.", "O."]


def test_numbers_follow_first_use_and_the_text_quotes_each_sentence() -> None:
    first, second = candidate("Qatar hosted the talks.", 1.0, "a", 5), candidate("Pakistan helped.", 0.9, "b", 9)
    also = (cite("c", 1),)
    text, sentences, citations = number_choices([Choice(first, also), Choice(second), Choice(first)])
    assert text == "Qatar hosted the talks. [1] Pakistan helped. [2] Qatar hosted the talks. [1]"
    assert [(s.text, s.number) for s in sentences] == [("Qatar hosted the talks.", 1), ("Pakistan helped.", 2),
                                                       ("Qatar hosted the talks.", 1)]
    assert [c.number for c in citations] == [1, 2]
    assert citations[0].citation == first.citation and citations[0].passage == first.passage
    assert citations[0].also == also


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


def test_a_chain_of_follow_ups_reaches_back_to_the_question_that_stands_alone() -> None:
    history = ["Who signed the accord in Doha?", "Which foreign minister floated new ideas?",
               "To whom did he send a letter?"]
    assert context_questions("And what did he ask of him?", history, terms) == history[1:]


# --- scoring helpers ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(("question", "kind"), [
    ("In which campaign year did Trump promise it?", "year"),
    ("On what date did Kabul fall?", "date"),
    ("When did the talks begin?", "date"),
    ("How many troops stayed?", "number"),
    ("Who led the delegation?", "name"),
    ("In which garrison city did they meet?", "name"),
    ("Why did the talks collapse?", None),
])
def test_expected_kind(question: str, kind: str | None) -> None:
    assert expected_kind(question) == kind


def test_holds_kind_needs_something_the_question_does_not_already_hold() -> None:
    assert holds_kind("year", "It was his election pledge in 2016.", "Which year did Trump pledge it?")
    assert not holds_kind("year", "Trump pledged it in 2016.", "Did Trump pledge it in 2016, and which year?")
    assert holds_kind("number", "Rebels took eight capitals.", "How many capitals fell?")
    assert holds_kind("date", "Talks began on September 14.", "When did talks begin?")
    assert holds_kind("name", "The team met General Bajwa.", "Who did the team meet?")
    assert not holds_kind("name", "Talks collapsed quickly.", "Who did the team meet?")
    assert not holds_kind(None, "Anything at all in 2016.", "Why?")


def test_rare_question_terms_weigh_more_and_overlap_is_their_share() -> None:
    lexical = LexicalIndex(["taliban"] * 8 + ["taliban waltz", "other"])
    weights = term_weights(["taliban", "waltz", "unknown", "waltz"], lexical.idf)
    assert list(weights) == ["taliban", "waltz", "unknown"]
    assert weights["unknown"] > weights["waltz"] > weights["taliban"] > 0
    assert overlap(weights, frozenset({"taliban", "waltz", "unknown"})) == pytest.approx(1.0)
    assert overlap(weights, frozenset()) == 0.0
    assert overlap(weights, frozenset({"waltz"})) == pytest.approx(weights["waltz"] / sum(weights.values()))


def test_support_rises_with_coverage_and_standout_within_zero_and_one() -> None:
    by_coverage = [answering.Evidence(0.6, c, 0.5).support for c in (-1.0, 0.0, 0.3, 0.6, 2.0)]
    by_standout = [answering.Evidence(0.6, 0.4, s).support for s in (0.0, 0.5, 2.0, 10.0)]
    assert by_coverage == sorted(by_coverage) and by_standout == sorted(by_standout)
    assert all(0.0 <= v <= 1.0 for v in by_coverage + by_standout)


def test_an_answer_needs_both_relevance_and_support() -> None:
    assert answering.Evidence(0.8, 0.7, 3.0).answers
    assert not answering.Evidence(answering.THRESHOLD - 0.01, 0.7, 3.0).answers  # off topic
    assert not answering.Evidence(0.8, 0.2, 0.0).answers  # on topic, but the question's key words go unmet
    assert answering.Evidence(0.8, 0.2, 0.0, follow_up=True).answers  # carries an earlier question's topic
    assert not answering.Evidence(answering.THRESHOLD - 0.01, 0.7, 3.0, follow_up=True).answers
    assert answering.Evidence(answering.THRESHOLD - 0.01, 0.7, 3.0).confidence == 0.0
    assert answering.Evidence(0.8, 0.7, 3.0).confidence == answering.Evidence(0.8, 0.7, 3.0).support


def test_standout_is_the_lead_of_the_best_score_in_standard_deviations() -> None:
    scores = np.array([1.0, 3.0, 2.0, 2.0])
    assert answering.standout(scores) == pytest.approx(1.0 / np.std(scores))
    assert answering.standout(np.array([2.0, 2.0, 1.0])) == 0.0  # a tie at the top
    assert answering.standout(np.ones(5)) == 0.0 and answering.standout(np.array([4.0])) == 0.0


# --- the whole path with a stand-in model ------------------------------------------------------------------


@pytest.fixture(scope="module")
def fake_retriever(tmp_path_factory: pytest.TempPathFactory) -> Retriever:
    corpus = tmp_path_factory.mktemp("corpus")
    for article in SEEDS.glob("*.txt"):
        shutil.copy(article, corpus / article.name)
    return Retriever.from_folder(corpus, embedder=CountingEmbedder())


def test_answers_quote_their_cited_spans_exactly(fake_retriever: Retriever) -> None:
    answer = fake_retriever.ask("They are Qatar, Pakistan, Norway, Bulgaria and of course Afghanistan.")
    assert not answer.abstained and 1 <= len(answer.sentences) <= 3
    for sentence in answer.sentences:
        citation = answer.citations[sentence.number - 1].citation
        assert fake_retriever.article(citation.doc_id).text[citation.start : citation.end] == sentence.text
    assert answer.text == " ".join(f"{s.text} [{s.number}]" for s in answer.sentences)
    assert "Norway, Bulgaria" in answer.text


def test_nothing_relevant_abstains_with_the_closest_passages(fake_retriever: Retriever) -> None:
    answer = fake_retriever.ask("zzz qqq xxyy")
    assert answer.abstained and answer.sentences == () and answer.citations == ()
    assert answer.text == answering.NO_ANSWER
    assert 0.0 <= answer.confidence < 0.5
    assert [hit.rank for hit in answer.closest] == [1, 2, 3]


def test_empty_questions_are_refused(fake_retriever: Retriever) -> None:
    with pytest.raises(QuestionError):
        fake_retriever.ask("   ")


def test_answer_figures_on_a_tiny_set(fake_retriever: Retriever) -> None:
    questions = [
        {"question": "They are Qatar, Pakistan, Norway, Bulgaria and of course Afghanistan.",
         "answers": ["Norway, Bulgaria"], "kind": "direct"},
        {"question": "zzz qqq xxyy", "answers": [], "kind": "unanswerable"},
        {"question": "And what about Norway, Bulgaria and Afghanistan?", "answers": ["NORWAY, BULGARIA"],
         "kind": "followup", "history": ["Which five countries did Zalmay Khalilzad visit?"]},
    ]
    figures = answering.answer_figures(fake_retriever, questions)
    assert figures["abstained_unanswerable"] == 1.0
    assert figures["answered_answerable"] == 1.0
    assert figures["answer_holds_gold"] == 1.0
    assert set(figures) == {"abstained_unanswerable", "answered_answerable", "answer_holds_gold",
                            "followup_holds_gold", "followup_holds_gold_without_history",
                            "answerable_questions", "unanswerable_questions"}
    assert (figures["answerable_questions"], figures["unanswerable_questions"]) == (2, 1)


def test_answer_figures_leave_out_follow_up_rows_without_follow_ups(fake_retriever: Retriever) -> None:
    done = []
    figures = answering.answer_figures(fake_retriever, [{"question": "zzz qqq xxyy", "answers": []}],
                                       progress=lambda count, total: done.append((count, total)))
    assert "followup_holds_gold" not in figures and figures["abstained_unanswerable"] == 1.0
    assert done == [(1, 1)]
