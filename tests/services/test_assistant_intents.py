"""The assistant's intent parser on real phrasings: typos, slang, greetings and nonsense."""

from __future__ import annotations

import pytest

from bot.services.assistant_intents import Intent, Question, parse_question

T, L, W, C = Intent.TEACHERS, Intent.LEARNING, Intent.THIS_WEEK, Intent.COULD_TEACH

PHRASINGS = [
    ("who can teach me terraform?", Question(T, "terraform")),
    ("Who knows Terraform", Question(T, "terraform")),
    ("who knows terraform", Question(T, "terraform")),
    ("can anyone teach me k8s?", Question(T, "k8s")),
    ("who can tech me terraform", Question(T, "terraform")),  # typo of "teach"
    ("who cna teach me excel pivot tables please", Question(T, "excel pivot tables")),
    ("Hey, who can teach me about machine learning?", Question(T, "machine learning")),
    ("I want to learn Python", Question(T, "python")),
    ("find me a mentor for SQL", Question(T, "sql")),
    ("who's good at figma", Question(T, "figma")),
    ("who is an expert in c++", Question(T, "c++")),
    ("anyone know node.js?", Question(T, "node.js")),
    ("teach me canva", Question(T, "canva")),
    ("who can help me with react", Question(T, "react")),
    ("can somebody show me how to use notion", Question(T, "notion")),
    ("Who can teach me …?", Question(T, None)),  # the suggested prompt, as sent
    ("<!channel> who can teach me <@U2>?", Question(T, None)),  # Slack markup is dropped
    ("what am i learning", Question(L)),
    ("What am I learnin?", Question(L)),
    ("my wishes", Question(L)),
    ("what are my next steps", Question(L)),
    ("anything on this week", Question(W)),
    ("what's on this week?", Question(W)),
    ("Whats on this week", Question(W)),
    ("is there a lunch n learn this week", Question(W)),
    ("lunch and learn", Question(W)),
    ("what could i teach", Question(C)),
    ("What could I teach?", Question(C)),
    ("what can i teach", Question(C)),
    ("topics in demand", Question(C)),
    ("hi", Question(Intent.GREETING)),
    ("hello there", Question(Intent.GREETING)),
    ("thanks!", Question(Intent.GREETING)),
    ("help", Question(Intent.HELP)),
    ("", Question(Intent.HELP)),
    ("asdfgh qwerty", Question(Intent.UNKNOWN)),
    ("the quarterly numbers look odd", Question(Intent.UNKNOWN)),
]


@pytest.mark.parametrize(("typed", "expected"), PHRASINGS, ids=[typed or "empty" for typed, _ in PHRASINGS])
def test_real_phrasings(typed, expected):
    assert parse_question(typed) == expected


def test_a_topic_keeps_its_own_spelling_while_intent_words_are_corrected():
    # "teams" is one edit from "teach"'s neighbours, but it is the topic: never corrected.
    assert parse_question("who cna tech me microsoft teams").topic == "microsoft teams"


def test_a_very_long_question_is_cut_not_refused():
    assert parse_question("who knows " + "a" * 5000).intent == T
