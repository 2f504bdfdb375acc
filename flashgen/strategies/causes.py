"""Causes: a sentence that gives a reason ("A because B", "B, hence A", "A due to B") is asked
"Why A?" and answered with B."""

from __future__ import annotations

import re
from collections.abc import Iterator

from .. import language
from .candidates import Candidate, Setting
from .sentences import AUX, Sentence, anaphoric, has_verb, lower_first, unemphasised

# (pattern, which side is the effect)
_EFFECT_FIRST = re.compile(
    r"^(?P<effect>.{12,}?)(?:,)?\s+(?:because(?: of)?|since|due to(?! be\b)|as a result of|thanks to)\s+"
    r"(?P<cause>.{8,})$"
)
_PERSONAL = re.compile(
    r"\b(?:I|I'm|I’m|I've|my|me|him|her|it|its|they|them|their|this|that|these|those|We|we|you|You|your)\b"
    r"|[:;]|,\s*so\b|\b(?:because|since|hence)\b"
)
_CAUSE_FIRST = re.compile(
    r"^(?P<cause>.{12,}?)(?:,|;|\s[—–]|\.)?\s+(?:hence|therefore|thus|so|which is why|that is why|this is why)\s*,?\s+"
    r"(?P<effect>.{8,})$"
)
# The words each pattern needs (looked for first: the patterns try every length of the first part).
_EFFECT_WORDS = ("because", "since", "due to", "as a result of", "thanks to")
_CAUSE_WORDS = ("hence", "therefore", "thus", "so", "which is why", "that is why", "this is why")
_BECAUSE_FIRST = re.compile(r"^(?:because|since)\s+(?P<cause>.{8,}?),\s+(?P<effect>.{8,})$", re.IGNORECASE)
_PURPOSE = re.compile(r"^(?P<action>[A-Z][a-z]+\s.{5,}?),?\s+(?:in order\s+)?(?P<goal>to\s+(?P<verb>[a-z]+)\b.{3,})$")
MAX_WORDS = 30


def why(effect: str) -> str:
    """A statement as a why-question: "X is Y" -> "Why is X Y?"; else "X does Y — why?"."""
    words = effect.rstrip(".!").split()
    for i, word in enumerate(words[1:9], start=1):
        if "," in " ".join(words[:i]):
            break
        lower = word.lower()
        if lower in AUX:
            subject, rest = " ".join(words[:i]), " ".join(words[i + 1 :])
            if not rest or subject.lower().startswith(("that ", "which ", "when ", "if ", "until ", "while ")):
                break
            if re.search(r"n't|\bnot\b|\w+ly$", subject):
                break  # "you usually don't": the auxiliary found is not the clause's
            if lower in ("has", "have", "had") and not (
                words[i + 1 : i + 2] and re.search(r"(?:ed|en|wn)$", words[i + 1])
            ):
                aux = {"has": "does", "have": "do", "had": "did"}[lower]
                return f"Why {aux} {lower_first(subject)} have {rest}?"
            return f"Why {lower} {lower_first(subject)} {rest}?".replace("  ", " ")
    for i, word in enumerate(words[1:7], start=1):  # do-support: "X understand Y" -> "Why do X understand Y?"
        if "," in " ".join(words[:i]) or words[i - 1].lower() in language.STOPWORDS:
            continue
        lower = word.lower()
        base = lower if lower in language.VERBS else lower[:-1] if lower[:-1] in language.VERBS else ""
        if base and word.islower() and not re.search(r"n't|\bnot\b", " ".join(words[:i])):
            do = "do" if base == lower else "does"
            rest = " ".join(words[i + 1 :])
            return f"Why {do} {lower_first(' '.join(words[:i]))} {base} {rest}?".replace("  ", " ")
    if not has_verb(" ".join(words[1:7])):
        return ""  # no verb near the start: an imperative or a phrase, not a statement to explain
    return f"{effect.rstrip('.!')} — why?"


def _last_clause(text: str) -> str:
    """The clause of `text` after the last comma that starts a clause of its own (subject and verb)."""
    parts = text.split(", ")
    for i in range(len(parts) - 1, 0, -1):
        tail = ", ".join(parts[i:])
        if re.match(
            r"^(?:a |the |an |our |most |many |some |all |\w+ )?\w+(?: \w+){0,4} (?:is|are|was|were|has|have)\b", tail
        ):
            return tail
    return text


def _purpose(text: str, sentence: Sentence, setting: Setting) -> Iterator[Candidate]:
    """Advice with its purpose ("Delay caffeine after waking to avoid the crash"): why do it?"""
    match = _PURPOSE.match(text.rstrip(".!"))
    if not match or match.group("verb") not in language.VERBS:
        return
    action = match.group("action")
    words = action.split()
    if words[0].lower() not in language.VERBS or not 3 <= len(words) <= 16 or _PERSONAL.search(action):
        return  # not an instruction ("Researchers want to ..."), or too short to say what to do
    if re.search(r"\b(?:you|your)\b", action, re.I) or words[-1].lower() in language.STOPWORDS:
        return
    question = f"Why {action[:1].lower()}{action[1:]}?"
    yield Candidate("basic", "qa:purpose", question, match.group("goal"), sentence.index, 7.8, setting.section)


def propose(sentence: Sentence, setting: Setting) -> Iterator[Candidate]:
    if setting.language != "en":
        return
    text = unemphasised(sentence.text)
    yield from _purpose(text, sentence, setting)
    match = (
        _BECAUSE_FIRST.match(text)
        or (_EFFECT_FIRST.match(text) if any(w in text for w in _EFFECT_WORDS) else None)
        or (_CAUSE_FIRST.match(text) if any(w in text for w in _CAUSE_WORDS) else None)
    )
    if not match:
        return
    effect, cause = match.group("effect").strip(" ,;"), match.group("cause").strip(" ,;")
    if match.re is _CAUSE_FIRST:
        cause = _last_clause(cause)  # "A is likely, most of our data is B, hence C": B is the reason
    if anaphoric(effect) and not sentence.anaphoric:
        return  # "..., so it works": the effect needs its subject from the cause
    if sentence.anaphoric and match.re is not _CAUSE_FIRST:
        return
    if len(effect.split()) < 4 or len(cause.split()) < 3 or len(effect.split()) > MAX_WORDS:
        return
    if effect.split()[0].lower() in ("as", "to", "for", "in", "on", "with", "by", "from", "at"):
        return  # "As to find a better layout — why?": a phrase, not a statement to explain
    if len(cause.split()) > MAX_WORDS or effect.rstrip().endswith("?") or ":" in cause:
        return
    if _PERSONAL.search(effect) or re.match(r"^(?:however|but|and|so|also|yet)\b", effect, re.I):
        return  # "I'm curious how that works", "him": a reference the card cannot resolve
    if (
        anaphoric(effect)
        or not re.match(r"^[A-Z\d`$]", effect[:1].upper())
        or effect.split()[0].lower() in ("that", "which", "when", "if", "until", "while", "and", "or", "but")
    ):
        return
    if effect.split()[-1].lower().strip(".,") in ("not", "but", "and", "or", "the", "a", "of", "to"):
        return
    question = why(effect[:1].upper() + effect[1:])
    if not question or not well_formed(question) or not _explains(cause):
        return
    if re.search(r"\b(?:and|or|but|the|a|an|of|to|with)$", cause.rstrip(" .")):
        return  # "Increasing the training time increases the EMC and": the reason is cut
    yield Candidate("basic", "qa:cause", question, cause.rstrip("."), sentence.index, 8.0, setting.section)


_OPENER = re.compile(r"^Why (?:do|does|did|is|are|was|were|has|have|had|can|could|will|would|should) (\S+)")


def well_formed(question: str) -> bool:
    """Whether a why-question the template built reads as English: a subject after the auxiliary
    ("Why do feel ...", "Why has let's see ..." have none), no second negated auxiliary ("Why do
    anecdotes generally don't ..."), and not ending on a word that wants more ("... work is?")."""
    opener = _OPENER.match(question)
    if opener:
        first = opener.group(1).lower().strip(",")
        if first in AUX or first in language.VERBS or "'" in first or first in ("let's", "not"):
            return False
    if re.search(r"^Why (?:do|does|did)\b.*\b(?:don't|doesn't|didn't|do not|does not)\b", question):
        return False
    return not re.search(r"\b(?:is|are|was|were|do|does|the|a|an|of|to|and|or)\?$", question)


def _explains(cause: str) -> bool:
    """Whether the "because" side reads as a reason on its own: not an instruction ("Convert the
    number ..."), not the author's aside ("This is the first paper I've covered")."""
    first = cause.split()[0] if cause.split() else ""
    if re.match(r"^(?:This|These|That|Those|It's|It’s|I|I'm|I’m|I've|We|My|Our)\b", cause):
        return False
    return not (first[:1].isupper() and first.lower() in language.VERBS)
