"""What a question typed in the assistant pane asks for: a small, deterministic parser.

No AI service: a handful of phrase patterns over the question, after common typos of the words that
carry the intent are corrected ("who can tech me terraform" -> "who can teach me terraform"). The
topic is cut from the words as typed, never from the corrected ones, so a topic is not "fixed"
into another. Plain Python, no Slack or database: tested on a table of real phrasings.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass

from rapidfuzz import fuzz, process

MAX_QUESTION_LENGTH = 500  # longer text is cut: a question, not an essay


class Intent(enum.StrEnum):
    TEACHERS = "teachers"  # who can teach me <topic>?
    LEARNING = "learning"  # my wishes, pairings and next steps
    THIS_WEEK = "this_week"  # this week's Lunch 'n' Learn sessions
    COULD_TEACH = "could_teach"  # topics in demand that I could teach
    GREETING = "greeting"
    HELP = "help"
    UNKNOWN = "unknown"


@dataclass(frozen=True)
class Question:
    intent: Intent
    topic: str | None = None  # for TEACHERS: the topic as typed (None: the question named none)


# Words that carry an intent, for typo correction. Short words are only fixed from the table below:
# at three letters almost anything is one edit away from something.
_VOCABULARY = (
    "teach",
    "teaches",
    "teacher",
    "learn",
    "learning",
    "knows",
    "anyone",
    "anybody",
    "someone",
    "somebody",
    "mentor",
    "week",
    "lunch",
    "could",
    "would",
    "wishes",
    "pairing",
    "pairings",
    "sessions",
    "happening",
    "demand",
    "hello",
    "thanks",
    "what",
    "which",
    "there",
    "anything",
)
_SHORT_TYPOS = {"cna": "can", "waht": "what", "wat": "what", "whta": "what", "teh": "the", "u": "you"}
_MIN_FIX_LENGTH = 4
_FIX_SCORE = 80

_GREETING = re.compile(
    r"^(hi|hii+|hello|hey|heya|hiya|yo|howdy|morning|good (morning|afternoon|evening)|thanks|thank you|"
    r"thx|cheers|ta)( there| flipside| all)?$"
)
_HELP = re.compile(r"^(help|\?+|what can you do|what do you do|how does this work|commands|menu)$")
_COULD_TEACH = re.compile(
    r"\b((could|can|should|might) i teach|in demand|what (could|can) i (offer|help with)|"
    r"how (could|can) i help|who (could|can) i teach|what do people want to learn)\b"
)
_LEARNING = re.compile(
    r"\b(am i learning|i am learning|i'm learning|im learning|my (wish|wishes|pairing|pairings|mentor|"
    r"mentors|learning|matches|match|status|topics)|next steps?|what'?s next|where am i)\b"
)
_THIS_WEEK = re.compile(
    r"\b(this week|lunch ?(n|and|'n'|&|n')? ?learns?|lunchnlearn|sessions?|what'?s on|whats on|"
    r"anything on|events?|happening)\b"
)
# "Who can teach me" and its kin: the words before the topic. The topic is what follows.
_ASKER = r"(who|anyone|anybody|someone|somebody|who else)"
_TEACHER_PREFIXES = tuple(
    re.compile(r"\b" + pattern)
    for pattern in (
        _ASKER + r"( here)? (can|could|would|will|is able to|wants to)? ?(teach|show|help|mentor|train)"
        r"( me| us)?( with| about| on| in)?\b",
        r"(can|could|would|will) (anyone|anybody|someone|somebody|you find someone to|you find me someone to)"
        r" (teach|show|help|mentor|train)( me| us)?( with| about| on| in)?\b",
        _ASKER + r" (knows?|understands?|is (good|great|an expert|experienced) (at|in|with)|"
        r"(is|are) (good|great) (at|with)|does|uses|has (experience|done) (with|in)?|teaches|mentors)\b",
        r"(i('d| would)? (want|like|need|wanna)( to)? learn|teach me|help me (learn|with)|"
        r"(find|get) me (a |an )?(mentor|teacher|someone|somebody)( who knows)?( for| in| on| about)?|"
        r"(a |any )?(mentor|teacher)s? (for|in|on)|i want a (mentor|teacher)( for| in| on)?)\b",
    )
)
_TOPIC_LEAD = re.compile(
    r"^((about|some|a bit of|a little|more about|how to use|how to do|the basics of)\s+)+"
)
_TOPIC_TAIL = re.compile(r"(\s+(please|pls|plz|to me|for me|here|at work|today|anyone|thanks))+$")
_TOKEN = re.compile(r"[^\s]+")


def parse_question(text: str) -> Question:
    """The intent of `text` and, for "who can teach me …", the topic as typed."""
    typed = _normalise(text)
    if not typed:
        return Question(Intent.HELP)
    words = typed.split(" ")
    fixed = " ".join(_fix(word) for word in words)
    if _GREETING.match(fixed):
        return Question(Intent.GREETING)
    if _HELP.match(fixed):
        return Question(Intent.HELP)
    if _COULD_TEACH.search(fixed):
        return Question(Intent.COULD_TEACH)
    for prefix in _TEACHER_PREFIXES:
        found = prefix.search(fixed)
        if found:
            return Question(Intent.TEACHERS, _topic_after(words, fixed, found.end()))
    if _LEARNING.search(fixed):
        return Question(Intent.LEARNING)
    if _THIS_WEEK.search(fixed):
        return Question(Intent.THIS_WEEK)
    return Question(Intent.UNKNOWN)


def _normalise(text: str) -> str:
    lowered = (text or "")[:MAX_QUESTION_LENGTH].casefold().replace("’", "'").replace("…", " ")
    # Punctuation that ends a question or separates words, but not what names topics: c++, c#, .net,
    # node.js, ci/cd. Slack's own markup (<@U1>, <!here>, links) is dropped with its brackets.
    lowered = re.sub(r"<[^>]*>", " ", lowered)
    lowered = re.sub(r"[?!,;:\"()\[\]{}*_~`]+", " ", lowered)
    lowered = re.sub(r"(?<!\w)\.+|\.+(?!\w)", " ", lowered)  # dots that end words, not node.js
    lowered = re.sub(r"\bwho'?s\b", "who is", lowered)
    lowered = re.sub(r"\bwhat'?s\b", "what's", lowered)
    return " ".join(lowered.split())


def _fix(word: str) -> str:
    if word in _SHORT_TYPOS:
        return _SHORT_TYPOS[word]
    if len(word) < _MIN_FIX_LENGTH or word in _VOCABULARY:
        return word
    best = process.extractOne(word, _VOCABULARY, scorer=fuzz.ratio, score_cutoff=_FIX_SCORE)
    return best[0] if best else word


def _topic_after(words: list[str], fixed: str, end: int) -> str | None:
    """The words as typed after the first `end` characters of the corrected text."""
    consumed = len(_TOKEN.findall(fixed[:end]))
    topic = " ".join(words[consumed:])
    topic = _TOPIC_TAIL.sub("", _TOPIC_LEAD.sub("", topic)).strip(" .'-")
    return topic or None
