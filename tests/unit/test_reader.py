"""The extractive reader: answer types, typed phrases, short answers and the sentences quoted."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.answering.phrases import AnswerType, answer_type, question_focus, typed_phrases
from assistant.answering.reader import compose, has_asked_type, rank_sentences, short_answer
from assistant.models import Passage

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("question", "kind"),
    [
        ("Who is Iraq's new defense minister?", AnswerType.PERSON),
        ("Whom did General Hatami congratulate?", AnswerType.PERSON),
        ("The bridge was designed by whom?", AnswerType.PERSON),
        ("Which company bought the newspaper?", AnswerType.PERSON),
        ("What researcher showed that air is needed for combustion?", AnswerType.PERSON),
        ("When did Iran and Iraq sign the military agreement?", AnswerType.DATE),
        ("In what year was the treaty signed?", AnswerType.DATE),
        ("On which day of the week did the storm hit?", AnswerType.DATE),
        ("When did the y. pestis reach England?", AnswerType.DATE),
        ("How many people were evacuated?", AnswerType.NUMBER),
        ("How much did the city pay for the stadium?", AnswerType.NUMBER),
        ("What percentage of voters backed the plan?", AnswerType.NUMBER),
        ("Where did the summit take place?", AnswerType.PLACE),
        ("Which European country hosted the games?", AnswerType.PLACE),
        ("Name the city where the accord was signed.", AnswerType.PLACE),
        ("What other English towns were sites of settlement?", AnswerType.PLACE),
        ("What did Al-Shammari praise Iran for?", AnswerType.OTHER),
        ("Why did the talks fail?", AnswerType.OTHER),
        # quiz style: the lead-in sentence does not decide, the asking sentence does
        ("A storm hit the coast on Monday. Who was named to lead the recovery?", AnswerType.PERSON),
        ("Officials met in Paris last week. How many countries signed?", AnswerType.NUMBER),
        # a sentence to complete asks for its continuation, not for the relative "who"
        ("A fire was started by a man who was trying to:", AnswerType.OTHER),
        ("The debate was cut short when what happened?", AnswerType.OTHER),
        # the scene-setting "when" clause is not what is asked
        ("When rich countries trade with poor ones, whose wages rise?", AnswerType.PERSON),
    ],
)
def test_answer_type(question: str, kind: AnswerType) -> None:
    assert answer_type(question) is kind


def test_question_focus_takes_the_asking_sentence() -> None:
    q = "Lawmakers agreed on a deal this week. Which measure did they leave out?"
    assert question_focus(q) == "Which measure did they leave out?"


def _phrases(kind: AnswerType, text: str) -> list[str]:
    return [text[s:e] for s, e in typed_phrases(kind, text)]


def test_dates() -> None:
    text = (
        "In July 2017, Iran and Iraq signed a deal; talks resumed on June 12, 2022 and again "
        "last week, as in the 1990s and the 19th century."
    )
    assert _phrases(AnswerType.DATE, text) == [
        "July 2017",
        "June 12, 2022",
        "last week",
        "the 1990s",
        "the 19th century",
    ]


def test_numbers_keep_unit_and_currency_but_not_years() -> None:
    text = (
        "The 2019 plan cost $5 million, took 63 days, cut prices 10 percent and moved 3,000 people."
    )
    assert _phrases(AnswerType.NUMBER, text) == [
        "$5 million",
        "63 days",
        "10 percent",
        "3,000 people",
    ]


def test_names_with_particles_without_titles_and_sentence_words() -> None:
    text = (
        "Hailing the deal, Defense Minister of Iran Brigadier General Amir Hatami congratulated "
        "Najah Hassan Ali Al-Shammari and the Bank of England's governor."
    )
    assert _phrases(AnswerType.PERSON, text) == [
        "Amir Hatami",
        "Najah Hassan Ali Al-Shammari",
        "Bank of England",
    ]


def test_places_follow_a_place_cue_and_datelines_are_skipped() -> None:
    text = "TEHRAN (Tasnim) – Officials from Iraq met Hatami in Baghdad."
    assert _phrases(AnswerType.PLACE, text) == ["Iraq", "Baghdad"]
    assert "Tasnim" not in _phrases(AnswerType.PERSON, text)


def _passage(n: int, text: str, start: int = 0) -> Passage:
    return Passage(
        n=n, chunk_id=f"c{n}", article_id=f"a{n}", text=text, start=start, end=start + len(text)
    )


def test_short_answer_is_a_new_phrase_of_the_asked_type_with_offsets() -> None:
    passages = [
        _passage(
            1,
            "The harbour bridge was opened by the mayor after long delays. "
            "Work on the harbour bridge began in March 2015 and ended in May 2019. "
            "It carries 40,000 cars a day.",
            start=100,
        ),
        _passage(
            2, "The harbour is the oldest in the region and attracts many visitors each year."
        ),
    ]
    q = "When did work on the harbour bridge begin?"
    ranked = rank_sentences(q, passages, None)
    short = short_answer(q, ranked)
    assert short is not None and short.text == "March 2015"
    sentence = ranked[short.sentence]
    assert sentence.text[short.sentence_start : short.sentence_end] == "March 2015"
    assert short.passage.text[short.start : short.end] == "March 2015"
    assert short.article_start == 100 + short.start
    assert compose(q, ranked, short) == [short.sentence]

    q = "How many cars does the harbour bridge carry a day?"
    ranked = rank_sentences(q, passages, None)
    short = short_answer(q, ranked)
    assert short is not None and short.text == "40,000 cars"


def test_short_answer_skips_phrases_the_question_already_has() -> None:
    passages = [_passage(1, "In 2015 the council approved the plan, and building started in 2017.")]
    q = "In 2015 the council approved the plan; when did building start?"
    short = short_answer(q, rank_sentences(q, passages, None))
    assert short is not None and short.text == "2017"


def test_other_questions_get_the_words_the_question_lacks() -> None:
    passages = [
        _passage(
            1,
            "For his part, Al-Shammari praised Iran for supporting Iraq in the fight against "
            "terrorist groups. The two ministers spoke by telephone.",
        )
    ]
    q = "What did Al-Shammari praise Iran for?"
    short = short_answer(q, rank_sentences(q, passages, None))
    assert short is not None and short.text.startswith("supporting Iraq")


def test_has_asked_type() -> None:
    ranked = rank_sentences(
        "x", [_passage(1, "The council approved the harbour plan in 2015.")], None
    )
    assert has_asked_type("When was the harbour plan approved?", ranked)
    assert not has_asked_type("Who approved the harbour plan?", ranked)  # no name at all
    assert not has_asked_type("How many people approved the plan in 2015?", ranked)


def test_nothing_to_read() -> None:
    assert rank_sentences("Who won?", [], None) == []
    assert short_answer("Who won?", []) is None
    assert compose("Who won?", [], None) == []


# --- the seed article with the real bundled embedding model ----------------------------------


@pytest.fixture(scope="module")
def seed_reader(tmp_path_factory: pytest.TempPathFactory):
    from assistant.config import Settings
    from assistant.service import Assistant

    store = tmp_path_factory.mktemp("seed") / "store"
    a = Assistant(Settings(store_dir=store, _env_file=None), chat_model=None)
    assert a.ingest([ROOT / "seeds"]).new == 1

    def read(question: str):
        passages = a.search(question, k=5)
        ranked = rank_sentences(question, passages, a.reading_embedder)
        short = short_answer(question, ranked)
        return ranked, short, compose(question, ranked, short)

    return read


@pytest.mark.slow
@pytest.mark.parametrize(
    ("question", "expected", "in_sentence"),
    [
        (
            "Who is Iraq's new defense minister?",
            "Najah Hassan Ali Al-Shammari",
            "congratulated Najah Hassan Ali Al-Shammari on taking the post",
        ),
        (
            "When did Iran and Iraq sign the military agreement?",
            "July 2017",
            "Iran and Iraq signed an agreement to boost military cooperation",
        ),
        (
            "Who did Hatami congratulate?",
            "Najah Hassan Ali Al-Shammari",
            "General Hatami congratulated Najah Hassan Ali Al-Shammari",
        ),
    ],
)
def test_seed_questions_lead_with_the_right_phrase(
    seed_reader, question: str, expected: str, in_sentence: str
) -> None:
    ranked, short, quoted = seed_reader(question)
    assert short is not None
    assert short.text == expected
    # the offsets point at the phrase in the passage, inside the first quoted sentence
    assert short.passage.text[short.start : short.end] == expected
    assert quoted[0] == short.sentence
    assert in_sentence in ranked[quoted[0]].text
    assert len(quoted) == 1


def test_a_role_names_the_titled_person_only_when_the_title_holds_the_whole_role() -> None:
    from assistant.answering.reader import ScoredSentence, _role_holder
    from assistant.models import Passage

    lead = "Defense Minister of Iran Brigadier General Amir Hatami called for closer ties."
    p = Passage(n=1, chunk_id="c", article_id="a", text=lead, start=0, end=len(lead), score=1.0)
    ranked = [ScoredSentence(p, 0, len(lead))]
    span = _role_holder("Later the defense minister invited his counterpart.", ranked)
    assert span is not None and lead[span[1] : span[2]] == "Amir Hatami"
    assert _role_holder("Later the minister invited his counterpart.", ranked) is None
    assert _role_holder("Later the finance minister invited his counterpart.", ranked) is None
