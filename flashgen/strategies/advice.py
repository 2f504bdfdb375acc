"""Advice: an instruction with the situation it is for, or with the reason the author gives for it.

- "When ordering raw materials, use at least two suppliers for each item." and "Run a limited trial
  before transitioning a critical operation to a new vendor.": the situation is the cue, the
  instruction the answer ("What should you do when ordering raw materials?").
- "Instead of looking for heroes and villains, understand systems and causes.": "Instead of looking
  for heroes and villains, what should you do?".
- An instruction whose first nested item states, in general terms, why ("Use the hiring process as
  a preview of your working relationship." / "Talented people want to work with people who treat
  them well."): "Why use the hiring process as a preview of your working relationship?".

English only. The instruction must start with a verb in its base form and stand on its own (no "it",
"them", "this"); a reason must be a claim of its own, not the author's story or an example.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from .. import language
from .candidates import Candidate, Setting
from .sentences import AUX, Sentence, has_verb, plain, unemphasised, wordset

_SITUATION_FIRST = re.compile(
    r"^(?P<when>(?:when|whenever|before|after|if|once|while)\s+[^,;:]{6,80}),\s+(?P<do>[A-Za-z].{8,})$", re.IGNORECASE
)
_SITUATION_LAST = re.compile(r"^(?P<do>[A-Z][a-z]+\s.{6,}?)\s+(?P<when>(?:before|when|whenever|until)\s+[^,;:]{8,80})$")
_INSTEAD = re.compile(r"^(?P<when>instead of\s+[^,;:]{6,80}),\s+(?P<do>[A-Za-z].{8,})$", re.IGNORECASE)
_POINTING = re.compile(r"\b(?:it|its|this|that|these|those|them|they|their|such|here|there|above|below)\b", re.I)
_PERSONAL = re.compile(r"\b(?:I|I'm|I’m|I've|I’ve|I'd|my|me|we|our|us|we're|we’re)\b")
_NOT_AN_INSTRUCTION = wordset("be let see note say thank get go have do make suppose imagine assume recall consider")
_NOT_A_REASON = re.compile(
    r"\b(?:should|must|need to|needs to|ought to)\b|\d"
    r"|^(?:each|every|then|next|first|second|third|finally|step|here)\b",
    re.IGNORECASE,
)
MAX_WORDS = 22


def _instruction(text: str) -> str:
    """The instruction as an answer ("use at least two suppliers for each item"), or ""."""
    text = text.strip().rstrip(".!")
    words = text.split()
    if not 3 <= len(words) <= MAX_WORDS:
        return ""
    verb = words[0].lower()
    negative = verb in ("don't", "don’t", "never")
    if negative:
        words, text = words[1:], " ".join(words[1:])
        verb = words[0].lower()
    if verb not in language.VERBS or verb in _NOT_AN_INSTRUCTION or words[0].endswith(("ing", "ed")):
        return ""
    if words[1].lower() in AUX or words[1].lower() in ("been", "being", "of", "and"):
        return ""  # "Land is only affordable ...": a noun that is also a verb, followed by its verb
    if sum(w[:1].isupper() for w in words[1:]) >= 2:
        return ""  # "Split CIFAR-100 Distribution Shift": the name of a task, not an instruction
    if _POINTING.search(text) or _PERSONAL.search(text) or re.search(r"[:;?]|\be\.g\b", text):
        return ""  # "Split your orders between them": needs the sentence before
    if words[-1].lower() in language.STOPWORDS:
        return ""
    return ("not " if negative else "") + verb + text[len(words[0]) :]


def _situation(text: str) -> str:
    text = text.strip()
    if _POINTING.search(text) or _PERSONAL.search(text):
        return ""
    return text[:1].lower() + text[1:]


def propose(sentence: Sentence, setting: Setting) -> Iterator[Candidate]:
    if setting.language != "en" or sentence.anaphoric:
        return
    text = plain(unemphasised(sentence.text)).rstrip(".!")
    for pattern in (_SITUATION_FIRST, _INSTEAD, _SITUATION_LAST):
        match = pattern.match(text)
        if not match:
            continue
        do, when = _instruction(match.group("do")), _situation(match.group("when"))
        if not do or not when or len(when.split()) < 3:
            return
        if pattern is _INSTEAD:
            question = f"{when[:1].upper()}{when[1:]}, what should you do?"
        else:
            question = f"What should you do {when}?"
        yield Candidate("basic", "qa:advice", question, do, sentence.index, 4.9, setting.section)
        return


def reasoned(text: str, setting: Setting) -> Iterator[Candidate]:
    """An instruction (the takeaway's one sentence) and the reason its first nested item gives."""
    if setting.language != "en" or not setting.children:
        return
    instruction = _instruction(plain(unemphasised(text)))
    reason = plain(unemphasised(setting.children[0])).rstrip(".")
    if not instruction or "\n" in text.strip() or re.search(r"[.!?]\s+\S", plain(text).rstrip(".!")):
        return  # one instruction, said in one sentence
    words = reason.split()
    if not 6 <= len(words) <= 30 or re.search(r"[.!?;:]\s|\be\.g\b|\bfor example\b|\?", reason):
        return
    if _PERSONAL.search(reason) or re.match(r"^(?:if|when|even if|e\.g|for example|so|this|that|it)\b", reason, re.I):
        return  # the author's story, an example, or a sentence that leans on the one before
    if _POINTING.search(" ".join(words[:3])) or not has_verb(reason):
        return
    if _NOT_A_REASON.search(reason):
        return  # a prescription, a step or a figure: what follows the instruction, not why
    if reason.split()[0].lower() in language.VERBS:
        return  # a second instruction, not a reason
    yield Candidate("basic", "qa:advice-why", f"Why {instruction}?", reason, 0, 7.7, setting.section)
