"""Predicates: a claim of the shape "Term verbs object" ("Signifiers communicate where the action
should take place", "Experts learn through repeated perceptual exposure") is asked about its
predicate: "What do signifiers communicate?", "How do experts learn?". Only for a present-tense
verb whose base form is known, after a subject that names a thing (not a pronoun or a clause)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from .. import language, quality
from .candidates import Candidate, Setting
from .sentences import AUX, Sentence, lower_first, unemphasised, wordset

_WORD = re.compile(r"[\w’'-]+")
_MANNER = re.compile(r"^(?:through|via|using)\b", re.IGNORECASE)
_SUBJECT_WORDS = frozenset({"of", "the", "a", "an", "and"})
MAX_ANSWER_WORDS = 16
_NOT_AN_OBJECT = wordset(
    "better more less well best most if us them you me him her it not almost very quite always never often still"
    " also only just care place part advantage sense"
)
_NOBODY = wordset("nobody everyone everybody someone somebody anyone anybody none nothing everything")
_GENERIC_SUBJECTS_MORE = ("people", "humans", "someone", "users", "things", "we")
_GENERIC_SUBJECTS = frozenset(
    ["paper", "author", "authors", "study", "article", "book", "post", "chapter", "talk", "video", "section", "work"]
)
_PREPOSITIONS = frozenset(
    [
        "at",
        "in",
        "on",
        "for",
        "to",
        "from",
        "into",
        "onto",
        "over",
        "under",
        "after",
        "before",
        "during",
        "about",
        "around",
        "across",
        "along",
        "among",
        "against",
        "behind",
        "below",
        "beneath",
        "beside",
        "between",
        "beyond",
        "near",
        "off",
        "out",
        "since",
        "toward",
        "towards",
        "until",
        "upon",
        "within",
        "without",
        "up",
        "down",
        "away",
        "back",
    ]
)


_LIGHT = wordset(
    "become seem remain appear take get go come like want need say tell think feel look reveal show mean let"
)
_OF = wordset("of as like than")
# Verbs whose object follows a particle: "depend on X" is asked "What does ... depend on?".
_PHRASAL = frozenset(
    tuple(pair.split(":"))
    for pair in wordset(
        "depend:on rely:on focus:on lead:to belong:to refer:to contribute:to apply:to respond:to consist:of"
        " result:in lie:in correspond:to converge:to reduce:to amount:to"
    )
)


def _specific(words: list[str]) -> bool:
    """Whether a subject names something particular: a rare word, an acronym, a name or a number
    ("attention residue", "DP", "Wilshire 5000"), not an everyday one ("the process", "players")."""
    content = [w for w in words if w not in ("the", "a", "an", "of", "and")]
    return any(language.zipf(w) < 4.6 or not w.isalpha() for w in content)


def _verb_like(word: str) -> bool:
    """A word that reads as a finite verb (a known verb or its -s form, a verb in -ate)."""
    return word in language.VERBS or word[:-1] in language.VERBS or word[:-2] in language.VERBS or word.endswith("ate")


def _base(verb: str) -> tuple[str, bool] | None:
    """The base form of a present-tense verb and whether it was singular ("communicates")."""
    if verb in AUX or verb in ("was", "were", "been", "being"):
        return None  # "X is Y" is a definition's business, not a predicate's
    if verb in language.VERBS:
        return verb, False  # a base form only from the list: "daylight", "query" are nouns too
    if verb.endswith("ies"):
        base = verb[:-3] + "y"
    elif verb.endswith(("sses", "shes", "ches", "xes", "zes", "oes")):
        base = verb[:-2]
    elif verb.endswith("s") and not verb.endswith("ss"):
        base = verb[:-1]
    else:
        return None
    if base in language.VERBS:
        return base, True  # only known verbs: "differences", "posts" are plural nouns too
    return None


def _split(text: str) -> tuple[str, str, str, str, tuple[str, bool]] | None:
    """Subject (one to four words), an optional adverb, a present-tense verb and the rest."""
    tokens = text.split()
    for size in range(1, 5):
        if len(tokens) < size + 3:
            return None
        subject = tokens[:size]
        if any("," in t for t in subject):
            return None
        at = size
        adverb = ""
        if tokens[at].endswith("ly") and len(tokens) > at + 3:
            adverb, at = tokens[at], at + 1
        verb = tokens[at]
        if not (len(verb) >= 3 and verb.isascii() and verb.isalpha() and verb.islower()):  # [a-z]{3,}
            continue
        found = _base(verb)
        rest = " ".join(tokens[at + 1 :])
        if found is not None and len(rest) >= 8:
            words = [w.lower() for w in subject]
            if all(w in language.STOPWORDS for w in words) or words[-1] in language.STOPWORDS:
                continue
            if any(re.search(r"[^\w’'-]", w) for w in words) or words[0] in _NOBODY:
                return None
            if any(w in language.STOPWORDS and w not in _SUBJECT_WORDS for w in words):
                return None  # a pronoun or a clause, not a named thing
            return " ".join(subject), adverb, verb, rest, found
    return None


def propose(sentence: Sentence, setting: Setting) -> Iterator[Candidate]:
    if setting.language != "en" or sentence.anaphoric:
        return
    text = unemphasised(sentence.text).rstrip(".!")
    found = _split(text)
    if found is None:
        return
    subject, adverb, _, rest, (base, singular) = found
    words = subject.lower().split()
    if words[0] in language.DANGLING or words[-1] in language.VERBS or words[-1].endswith("ly"):
        return
    content = [w for w in re.findall(r"[a-z][\w'-]*", rest.lower()) if w not in language.STOPWORDS]
    if all(w in quality.GENERIC or language.zipf(w) >= 5.6 for w in content):
        return  # "know many things": nothing specific to recall
    if len(rest.split()) > MAX_ANSWER_WORDS or re.search(r"[,;:]|\b(?:and so|so that|because)\b", rest):
        return
    following = rest.split()[0].lower()
    if (
        following in _NOT_AN_OBJECT
        or following in language.DANGLING
        or following in ("we", "i", "they")
        or following.endswith("ly")
        or re.search(r"->|→|=>", rest)
    ):
        return  # "learns better if ...", "allows us to ...": not the verb's object
    if words[-1] in _GENERIC_SUBJECTS or subject.lower() in _GENERIC_SUBJECTS_MORE or " but " in rest:
        return  # "What does the paper explore?": the subject says nothing out of the note
    if following in language.VERBS or following in AUX:
        return  # "Transformer models use ...": the "verb" was the end of the subject
    particle = ""
    if (base, following) in _PHRASAL and len(rest.split()) > 2:
        particle, rest = f" {following}", rest.split(" ", 1)[1]  # "depend on X": "What do ... depend on?"
        following = rest.split()[0].lower()
        if following in ("the", "a", "an") and len(rest.split()) < 3:
            return
    elif following in _PREPOSITIONS and not _MANNER.match(rest):
        return  # "boils at 100 degrees": a verb and its circumstance, not a verb and its object
    if len(words) == 1 and language.zipf(words[0]) < 3.0 and not words[0].endswith("s"):
        return  # "What does Cory use?": a person, whose name says nothing months later
    plural_subject = words[-1].endswith("s") and not words[-1].endswith(("ss", "us", "is"))
    if singular and plural_subject:
        return  # "Transformer models uses": not a subject and its verb
    if not singular and not plural_subject and not re.search(r"(?:ia|ae|ren|men|ple)$", words[-1]):
        return  # "The base model ...": a base-form verb wants a plural subject ("Experts learn")
    if not rest[:1].isalpha() or re.search(r"\b(?:I|I've|I'm|my|he|his|him|she|her)\b", rest):
        return  # "states \(m_t\) ...", "model (a 1B ...)": a plural noun; or the author's own story
    if re.search(r"\band (?:is|are|was|were|has|have|can|\w+s)\b", rest) and not re.search(r"\band \w+s\b", subject):
        return  # "the global batch ... and divides them": a second predicate the answer would cut
    if words[0].endswith("ing") or re.search(r"(?:ic|al|ous|ive|ful|able|ible)$", words[-1]):
        return  # "Adding the RRR loss", "Ratio of episodic [return]": not a named thing as subject
    if len(words) == 1 and subject[:1].isupper() and not subject.isupper() and not words[0].endswith("s") and (
        language.zipf(words[0]) < 4.0
    ):
        return  # "What does Simon consider?": a person, whose name says nothing months later
    if re.search(r"\bso\b", rest):
        return  # "problem complexity so this needs to be tuned": a second clause in the answer
    if not _specific(words) or base in _LIGHT or re.search(r"['’]s\b", subject):
        return  # "What does the process take?", "What do players expect?", "alex's plant": no term asked about
    if following in _OF or re.match(r"^(?:\d|(?:one|two|three|four|five|six|seven|eight|nine|ten)\b)", following):
        return  # "rules of evaluating", "serves two purposes": the object is not the point
    if _verb_like(following):
        return  # "Performance increases correlate ...": the "verb" was a noun and the verb follows
    do = "does" if singular else "do"
    adverb = f" {adverb}" if adverb else ""
    who = lower_first(subject)
    asked = "How" if _MANNER.match(rest) else "What"  # "learn through X" is a manner, "communicate X" an object
    question = f"{asked} {do} {who}{adverb} {base}{particle}?"
    yield Candidate("basic", "qa:predicate", question, rest, sentence.index, 6.8, setting.section)
