"""Definitions: a sentence that says what a term is ("X is a ...", "X refers to ...", "The idea
behind X is to ..."). Asked as "What is X?" only when the rest of the sentence defines X (Japanese
and Chinese definitions: `cjk.definitions`)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from .. import language, quality
from .candidates import Candidate, Setting
from .sentences import Sentence, anaphoric, lower_first, unemphasised

_EN = re.compile(
    r"^(?P<term>[^,;:()]{2,60}?)\s+(?P<verb>is|are|refers to|refer to|means|mean|is defined as|are defined as"
    r"|stands for|denotes|describes)\s+(?P<rest>.+?)[.!]?$"
)
_DEFINING = re.compile(r"^(?:a|an|the|one|any|when|how|where|what|to|that)\b", re.IGNORECASE)
_ABSTRACT_HEAD = re.compile(
    r"^(?:the\s+)?(?:(?:main|key|basic|core|general|central|big|whole|real)\s+)?"
    r"(?:idea|goal|purpose|aim|point|trick|intuition|insight|difference|reason|advantage|benefit|problem|challenge"
    r"|lesson|key|secret|role|job|function|definition|essence|cause|result)\b",
    re.IGNORECASE,
)
_GENERIC_TERMS = re.compile(
    r"\b(?:paper|book|chapter|section|author|article|post|talk|video|study|note|notes|part)\b", re.IGNORECASE
)
_VAGUE = frozenset(
    ["intuition", "idea", "goal", "problem", "solution", "answer", "key", "point", "trick", "difference"]
)
MAX_ANSWER_WORDS = 30
# Words that make "X is a ..." a judgement of X rather than what X is.
_JUDGEMENT = re.compile(
    r"^(?:(?:a|an|the|one)\s+)?(?:\w+\s+)?(?:impressive|famous|great|good|bad|best|worst|important|interesting"
    r"|little|key|main|last|first|nice|powerful|popular|simple|big|huge|classic|perfect|notable|noteworthy"
    r"|excellent|remarkable|crucial|critical|essential|particularly|very|really|much|quite|pretty|first-class"
    r"|\w+est)\b",
    re.IGNORECASE,
)
_SECOND_CLAUSE = re.compile(
    r",\s*(?:so|but|it|which is|and)\b|\band\s+\S+\s+(?:is|are|was|were)\b|,\s*not\b|\bnot (?:just|only)\b"
    r"|\b(?:I|I'm|I've|my|we|our|this|whereas)\b|[:;]|,\s*$",
)


def judgement(rest: str) -> bool:
    """Whether a description opens with a verdict on its subject ("an impressive model", "A Popular
    but Flawed Method") rather than saying what it is."""
    return bool(_JUDGEMENT.match(rest))


def defines(rest: str) -> bool:
    """Whether the rest of "X is ..." says what X is: no judgement of X ("an impressive model", "the
    best activation function"), no second claim joined on ("..., so if you want ..."), nothing
    personal, and not cut before what it introduces ("comprised of,", "given as:")."""
    return not judgement(rest) and not _SECOND_CLAUSE.search(rest)


def propose(sentence: Sentence, setting: Setting) -> Iterator[Candidate]:
    if setting.language != "en" or sentence.anaphoric:
        return
    text = unemphasised(sentence.text)
    match = _EN.match(text)
    if not match:
        return
    term, verb, rest = match.group("term").strip(), match.group("verb"), match.group("rest").strip()
    words = term.split()
    if not re.search(r"[A-Za-z]{2}", term):
        return  # a symbol: "* means ..." needs its language named
    if words and words[0].lower() in language.STOPWORDS and words[0].lower() not in ("a", "an", "the"):
        return  # "since memory transfers are ...": a clause, not a term
    if not words or len(words) > 7 or anaphoric(term) or words[0].lower() in ("i", "we", "you", "there", "what"):
        return
    if words[-1].lower() in language.STOPWORDS or any(
        w.lower().endswith("s") and (w.lower()[:-1] in language.VERBS or w.lower()[:-2] in language.VERBS)
        for w in words[1:]
    ):
        return  # "CCV implementation obtains a [mean reward]": a clause cut at a verb, not a term
    if any(
        w.lower() in language.STOPWORDS
        and w.lower() not in ("of", "the", "a", "an", "in", "for", "behind", "between", "and", "to")
        for w in words
    ):
        return  # a clause, not a term ("the model we trained")
    if verb in ("is", "are"):
        if not _DEFINING.match(rest):
            return  # "X is gradually replacing Y" says something of X but does not define it
        if rest.lower().startswith(("to ", "that ")) and not _ABSTRACT_HEAD.match(term):
            return
        if re.match(r"^(?:(?:a|an|the)\s+(?:lot|bit|few|great|good|big|very|really|huge|number)|one of)\b", rest, re.I):
            return  # "X is a great example for ...": a judgement, not a definition
    if len(rest.split()) > MAX_ANSWER_WORDS or len(rest.split()) < 3:
        return
    content = [w for w in re.findall(r"[\w'-]+", term.lower()) if w not in language.STOPWORDS]
    named = re.match(r"^(?:the|a|an)\s|^\w+ing\b", term, re.IGNORECASE)  # not a compound term ("Deep work")
    common = not any(language.zipf(w) < 4.5 or not w.isalpha() for w in content)
    if named and common and not re.search(r"[A-Z]{2}|\\|\$", term):
        return  # "the published approach", "the final output", "helping others": everyday words name nothing
    if not defines(rest):
        return  # "XLNet is an impressive model", "deep work is a skill, not just a habit": a claim
    if re.search(r"\b(?:for example|e\.g|such as)\b", term, re.I) or re.match(r"^(?:the same|this|it)\b", rest, re.I):
        return
    if _GENERIC_TERMS.search(term):
        return  # "What does the last chapter describe?": about the source, not its knowledge
    bare = re.sub(r"^(?:the|a|an)\s+", "", term, flags=re.IGNORECASE).lower()
    if bare in quality.GENERIC or bare in _VAGUE or language.zipf(bare) >= 5.0:
        return  # "What is the task?": a generic word means whatever the note is about
    term = lower_first(term)
    question = {
        "is": f"What is {term}?",
        "are": f"What are {term}?",
        "means": f"What does {term} mean?",
        "mean": f"What do {term} mean?",
        "stands for": f"What does {term} stand for?",
        "denotes": f"What does {term} denote?",
        "describes": f"What does {term} describe?",
    }.get(verb, f"What {'do' if verb.endswith('fer to') or verb == 'are defined as' else 'does'} {term} refer to?")
    if verb in ("is defined as",):
        question = f"How is {term} defined?"
    yield Candidate("basic", "qa:definition", question, rest, sentence.index, 8.5, setting.section)
