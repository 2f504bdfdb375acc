"""Relations: a claim that relates a named thing to another by a verb whose object is the point.

- what it leads to, results in, depends on, relies on, focuses on, prevents, allows or enables
  ("Zoning laws prevent the city from adapting to new conditions": "What do zoning laws prevent?");
- how it changes with something else ("Effectiveness of feature transfer decreases as the two tasks
  become less similar": "How does the effectiveness of feature transfer change as the two tasks
  become less similar?" -> "it decreases"; "Total computation scales linearly with the beam
  width": "How does total computation scale with the beam width?" -> "linearly");
- what it can be seen as ("Swish-β can be thought of as a smooth function that interpolates between a
  linear function and ReLU": "What can Swish-β be thought of as?"), and how it differs from what it
  is like ("A reference is similar to a pointer except that ...": "How does a reference differ
  from a pointer?").

English only; the subject must name a thing (not a pronoun, a clause or "the paper").
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from .. import language
from .candidates import Candidate, Setting
from .sentences import Sentence, lower_first, plain, unemphasised

_SUBJECT = r"(?P<subject>[A-Z$`][^,;:()]{2,60}?)"
_LINK = re.compile(
    _SUBJECT + r"\s+(?P<verb>leads? to|results? in|depends? on|relies on|rely on|focus(?:es)? on|contributes? to"
    r"|prevents?|allows?|enables?)\s+(?P<rest>.{6,})$"
)
_CHANGE = re.compile(
    _SUBJECT + r"\s+(?P<verb>increases?|decreases?|grows?|shrinks?|improves?|degrades?|drops?|rises?|falls?"
    r"|scales?)(?:\s+(?P<how>\w+ly))?\s+(?P<prep>as|with)\s+(?P<rest>[^,;]{6,})$"
)
_SEEN_AS = re.compile(
    _SUBJECT + r"\s+can be (?P<verb>thought of|seen|viewed|interpreted|understood|regarded) as\s+(?P<rest>[^;]{8,})$"
)
_DIFFERS = re.compile(
    _SUBJECT + r"\s+(?:is|are) similar to\s+(?P<other>[^,;]{3,40}?),?\s+(?:except(?: that)?|but)\s+(?P<rest>.{8,})$"
)
_NOT_A_SUBJECT = re.compile(
    r"^(?:the |a |an )?(?:paper|authors?|study|book|post|model|approach|method|result|results|work|idea|it|this|that"
    r"|these|those|they|we|i|you|he|she|there|whether|if|when|while|what|how|why|which|who|all of|some|most|many"
    r"|each|every|one|another|other)\b",
    re.IGNORECASE,
)
_POINTING = re.compile(r"\b(?:this|these|those|it|its|they|them|their|such|above|below|here)\b", re.IGNORECASE)
_CUT = re.compile(r",?\s+(?:so|which|thereby|thus|hence|because|since|while|whereas|but|although)\b|;|\s[—–]\s")
MAX_ANSWER_WORDS = 16
RANK = 4.8  # below every older strategy: a relation is asked only when nothing else was
_BASE = {
    "leads to": "lead to",
    "results in": "result in",
    "depends on": "depend on",
    "relies on": "rely on",
    "focuses on": "focus on",
    "contributes to": "contribute to",
}


def _subject(text: str, everyday: bool = False) -> str:
    words = text.split()
    if not 1 <= len(words) <= 7 or _NOT_A_SUBJECT.match(text) or _POINTING.search(text):
        return ""
    if any(w.lower() in ("is", "are", "was", "were", "has", "have", "can", "will") for w in words):
        return ""  # a clause, not a noun phrase
    if words[-1].lower() in language.STOPWORDS or words[0].lower().endswith("ly") or re.search(r"\s[-–—]\s", text):
        return ""  # "Completely forgot ...", "Character classes - Square brackets": no noun phrase
    bare = [w for w in words if w.lower() not in ("the", "a", "an")]
    if not everyday and len(bare) == 1 and bare[0].isalpha() and language.zipf(bare[0]) >= 4.5:
        return ""  # "Language", "The lead", "The strategy": an everyday word means anything
    first = words[0]
    if first[1:].islower() and language.zipf(first) >= 2.5 and not (len(words) > 1 and words[1][:1].isupper()):
        return " ".join([first.lower(), *words[1:]])
    return lower_first(text)


def _gerund(subject: str) -> bool:
    """ "Removing dependency graph scores ...": an activity, grammatically singular."""
    words = subject.split()
    if len(words) == 2 and words[1].endswith("s"):
        return False  # "zoning laws", "training runs": a noun before its plural head, not an activity
    return bool(re.match(r"^[a-z]+ing\b", subject)) and words[0] not in ("thing", "king", "string")


def _answer(text: str) -> str:
    cut = _CUT.search(text)
    text = (text[: cut.start()] if cut else text).strip().rstrip(".")
    words = text.split()
    if not 2 <= len(words) <= MAX_ANSWER_WORDS or _POINTING.search(text) or re.search(r"[?:]|\be\.g\b", text):
        return ""
    return text


def _plural(verb: str) -> bool:
    return not verb.split()[0].endswith("s") or verb.startswith("focus ")


def propose(sentence: Sentence, setting: Setting) -> Iterator[Candidate]:
    if setting.language != "en" or sentence.anaphoric:
        return
    text = plain(unemphasised(sentence.text)).rstrip(".!")
    if text.endswith("?"):
        return
    link = _LINK.match(text)
    if link:
        yield from _link(link, sentence, setting)
        return
    change = _CHANGE.match(text)
    if change:
        yield from _change(change, sentence, setting)
        return
    seen = _SEEN_AS.match(text)
    if seen:
        subject, answer = _subject(seen.group("subject")), _answer(seen.group("rest"))
        if subject and answer:
            question = f"What can {subject} be {seen.group('verb')} as?"
            yield Candidate("basic", "qa:relation", question, answer, sentence.index, RANK, setting.section)
        return
    differs = _DIFFERS.match(text)
    if differs:
        subject, other = _subject(differs.group("subject")), _subject(differs.group("other"), everyday=True)
        answer = re.sub(r"^(?:it|they)\s+", "", differs.group("rest").strip().rstrip("."))
        if subject and other and 3 <= len(answer.split()) <= 25:
            verb = "do" if re.search(r"s$", subject.split()[-1]) and not subject.endswith("ss") else "does"
            question = f"How {verb} {subject} differ from {other}?"
            yield Candidate("basic", "qa:relation", question, answer, sentence.index, RANK, setting.section)


def _link(match: re.Match[str], sentence: Sentence, setting: Setting) -> Iterator[Candidate]:
    subject, verb, rest = _subject(match.group("subject")), match.group("verb"), match.group("rest")
    if not subject:
        return
    plural = _plural(verb)
    base = _BASE.get(verb, verb if plural else verb[:-1])
    plural = plural and not _gerund(subject)
    object_first = re.match(r"^(?P<who>you|us|them|people|users) to\s+(?P<rest>.+)$", rest)
    if base in ("allow", "enable") and object_first:
        base, rest = f"{base} {object_first.group('who')} to do", object_first.group("rest")
    elif base in ("allow", "enable", "prevent") and re.match(r"^(?:you|us|them|me|him|her)\b", rest):
        return  # "prevents you from ...": asked as "What does X prevent you from?", which reads badly
    answer = _answer(rest)
    if not answer or re.search(r"\d", answer):
        return  # "drop the batch size to 400": a figure, the trivia of the claim
    do = "do" if plural else "does"
    question = f"What {do} {subject} {base}?"
    yield Candidate("basic", "qa:relation", question, answer, sentence.index, RANK, setting.section)


def _change(match: re.Match[str], sentence: Sentence, setting: Setting) -> Iterator[Candidate]:
    subject, verb, how = _subject(match.group("subject")), match.group("verb"), match.group("how")
    situation = _answer(match.group("rest"))
    if not subject or not situation:
        return
    plural = not verb.endswith("s") and not _gerund(subject)
    do = "do" if plural else "does"
    prep = match.group("prep")
    if verb.startswith("scale"):
        if not how:
            return  # "scales with model size": how it scales is the point, and it is not said
        question = f"How {do} {subject} scale {prep} {situation}?"
        yield Candidate("basic", "qa:relation", question, how, sentence.index, RANK, setting.section)
        return
    if prep != "as":
        return  # "improves with X": what "improves" means is the claim; "as" names a change of X
    answer = f"{'they' if plural else 'it'} {verb}" + (f" {how}" if how else "")
    question = f"How {do} {subject} change as {situation}?"
    yield Candidate("basic", "qa:relation", question, answer, sentence.index, RANK, setting.section)
