"""Consequences: a claim and its reason given in the next sentence ("We are more exposed to bad news
than good news. This is because a gradual improvement is not 'new'."), or a claim and what it
explains ("... This is why hybrid architectures matter."), asked across the two sentences:
"Why are we more exposed to bad news than good news?" -> the reason.

English only. The claim asked about must stand on its own (no "it", "this" at its start); the
question is made as `causes` makes its own ("Why is X Y?").
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator

from .. import language
from .candidates import Candidate, Setting
from .causes import why
from .sentences import anaphoric, claims, plain, unemphasised

_BECAUSE = re.compile(
    r"^(?:this|that) is (?:(?:\w+ )?(?:probably|mainly|partly|largely|simply|likely) )?(?:\w+ )?"
    r"(?:because|due to the fact that)\s+(?P<reason>.{8,})$",
    re.IGNORECASE,
)
_EXPLAINS = re.compile(r"^(?:this|that) is (?:also |partly |one reason )?why\s+(?P<effect>.{8,})$", re.IGNORECASE)
# One sentence: "Training deeper networks is complicated by the fact that the input distribution
# of each layer keeps changing."
_BY_THE_FACT = re.compile(
    r"^(?P<effect>[A-Z][^,;:]{8,90}?\s(?:is|are)\s(?:\w+ly\s)?(?:complicated|hampered|limited|caused|driven|explained"
    r"|justified|slowed|made (?:harder|easier|possible))) by the fact that (?P<reason>[^;:]{8,})$"
)
_PERSONAL = re.compile(r"\b(?:I|I'm|I’m|I've|my|me)\b")
MAX_WORDS = 30


def _clean(text: str) -> str:
    return plain(unemphasised(text)).strip().rstrip(".!").strip("()")


def propose(text: str, setting: Setting) -> Iterator[Candidate]:
    if setting.language != "en":
        return
    found = claims(text)
    for sentence in found:
        match = _BY_THE_FACT.match(_clean(sentence.text))
        if match and not anaphoric(match.group("effect")) and len(match.group("reason").split()) <= MAX_WORDS:
            question = why(match.group("effect"))
            if question and not question.endswith("— why?"):
                reason = match.group("reason")
                yield Candidate("basic", "qa:consequence", question, reason, sentence.index, 8.1, setting.section)
    for before, after in itertools.pairwise(found):
        claim, second = _clean(before.text), _clean(after.text)
        if anaphoric(claim) or _PERSONAL.search(claim) or claim.endswith("?"):
            continue
        because = _BECAUSE.match(second)
        explains = _EXPLAINS.match(second)
        if because:
            effect, reason = claim, because.group("reason")
        elif explains:
            effect, reason = explains.group("effect"), claim
            effect = re.split(r",\s+(?:you|we|so|and)\b", effect)[0]
            if anaphoric(effect):
                continue
        else:
            continue
        if not 4 <= len(effect.split()) <= MAX_WORDS or not 3 <= len(reason.split()) <= MAX_WORDS:
            continue
        if _PERSONAL.search(reason) or _PERSONAL.search(effect) or ":" in reason:
            continue
        question = why(effect[:1].upper() + effect[1:])
        if not question or question.endswith("— why?"):
            continue  # "X does Y — why?": only a question in the language's own order
        question = re.sub(
            r"^(Why \w+ )([A-Z][a-z]+)(?= [a-z])",
            lambda m: m.group(1) + (m.group(2).lower() if language.zipf(m.group(2)) >= 2.5 else m.group(2)),
            question,
        )
        yield Candidate("basic", "qa:consequence", question, reason, after.index, 8.1, setting.section)
