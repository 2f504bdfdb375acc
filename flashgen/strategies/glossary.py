"""Glossary: a "Term: description" item whose description is not a definition's noun phrase, which
`labels` leaves alone, but still says what the term is or does:

- a gerund phrase ("*Empathy*: Understanding the other person's feelings ...") names an activity:
  "What is empathy?";
- a verb phrase without its subject ("cross join: produces a Cartesian product from tables") says
  what the term does: "What does a cross join do?";
- a description opening with "This is ..." / "These are ..." points back at the term itself
  ("The null hypothesis ($H_0$): This is the default assumption ..."): "What is the null hypothesis?";
- a theorem, law or principle followed by what it says ("Arrow's theorem: There is no decision rule
  ..."): "What does Arrow's theorem state?";
- a process term followed by a sentence of its own ("Stratified sampling: The population is split
  into groups ..."): "How does stratified sampling work?";
- an item that is only a definition's noun phrase ("The act of recognizing ... feelings") under a
  parent item that is only a term ("Labeling"): "What is labeling?".

The term is always shown and its description asked for (never the reverse: a label is the author's
own wording). English only; anything that is not clearly a term and a description makes no card.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from .. import language
from .candidates import Candidate, Setting
from .labels import split_label
from .sentences import claims, lower_first, plain, prose

# Labels that name a part of the note (an example, a verdict, a step), not a term with a meaning.
_NOT_A_TERM = re.compile(
    r"^(?:notes?|examples?|e\.g|eg|pros?|cons?|good|bad|update|edit|sources?|see|tips?|warning|caveats?|todo|q|a"
    r"|why|how|what|when|who|where|results?|summary|conclusions?|ideas?|problems?|solutions?|answers?|questions?"
    r"|fix|focus|takeaways?|lessons?|properties|features?|output|input|inputs|outputs|datasets?|data|unit|units"
    r"|goal|goals|benefits?|advantages?|disadvantages?|drawbacks?|limitations?|issues?|observations?|findings?"
    r"|motivation|method|approach|setup|result|task|tasks|model|models|experiment|experiments|note|remark|aside"
    r"|definition|intuition|idea|key idea|main idea|insight|key insight|thesis|claim|quote|status|current challenge"
    r"|reason|reasons|cause|effect|impact|usage|use|uses|use case|use cases|application|applications|other"
    r"|i|we|you|he|she|they|it|this|that|english|translation)$",
    re.IGNORECASE,
)
_SUBJECTLESS = re.compile(r"^(?P<verb>[a-z]+)s\b", re.IGNORECASE)
_POINTING = re.compile(r"^(?:this|these|it)\s+(?:is|are)\s+(?=(?:a|an|the|one|any)\b)", re.IGNORECASE)
_DEFINING_NP = re.compile(r"^(?:the (?:act|process|practice|art|idea|study|ability|habit|tendency) of)\b", re.I)
_FIRST_PERSON = re.compile(r"\b(?:I|I'm|I’m|I've|my|me|we|our|us|you|your)\b")
_POINTS_ELSEWHERE = re.compile(r"\b(?:above|below|here|the following|this|these|those|such)\b", re.I)
_PRONOUN_START = re.compile(r"^(?:\S+\s+){0,2}(?:it|its|they|them|their|he|she|his|her)\b", re.I)
_REPORTING = re.compile(
    r"^(?:finding|showing|suggesting|noting|meaning|saying|arguing|claiming|using|being|having)\b", re.I
)
# Terms whose description is a statement of what they claim: "Arrow's theorem: There is no ...".
_STATEMENT_HEAD = re.compile(
    r"\b(?:theorem|law|principle|paradox|fallacy|lemma|conjecture|hypothesis|razor|maxim)$", re.I
)
_PAST_WITH_OBJECT = re.compile(r"\b\w{3,}ed\s+(?:the|a|an|his|her|their|its|that|this)\b", re.I)
_FINITE = re.compile(r"\b(?:is|are|was|were|has|have|had|do|does|did|can|will|would|should|must|vs)\b", re.I)
_CLAIMED = re.compile(r"\b(?:is|are|was|were|has|have|can|will|makes?|helps?|leads?|causes?|gives?)\b", re.I)
MAX_ANSWER_WORDS = 25


def _term(label: str) -> str:
    """The label as a term worth asking about, or "" ("Fix", "Rule 4", "`cmd`", "Kant said")."""
    text = plain(label).strip(" *_\"'“”")
    words = text.split()
    if not words or len(words) > 5 or _NOT_A_TERM.match(text):
        return ""
    if re.search(r"[\d`$\\#@=<>{}|~/?]", label) or not re.search(r"[A-Za-z]{2}", text):
        return ""
    first = words[0].lower()
    if first in language.STOPWORDS and first not in ("a", "an", "the"):
        return ""
    if first in language.VERBS or first[:-1] in language.VERBS or first[:-2] in language.VERBS:
        return ""  # "Sense our own needs": an instruction
    if _FINITE.search(" ".join(words[1:])) or _PAST_WITH_OBJECT.search(text):
        return ""  # "Kant defined the human dignity": a sentence before a colon
    if len(words) == 1 and not text.isupper() and language.zipf(text) >= 4.0:
        return ""  # "Memory:", "Response:": an everyday word, whose meaning here the card cannot give
    if len(words) > 1 and all(language.zipf(w) >= 5.0 for w in words):
        return ""  # "The other side": no term
    return text


def _gerund(word: str) -> bool:
    """An -ing form of a known verb ("understanding", "scaling", "agreeing")."""
    lower = word.lower()
    if not lower.endswith("ing") or len(lower) < 6:
        return False
    stem = lower[:-3]
    return any(base in language.VERBS for base in (stem, stem + "e", stem[:-1] if stem[-1:] == stem[-2:-1] else stem))


# Terms that name a process or method, whose description says how it goes.
_PROCESS = re.compile(
    r"(?:[a-z]{3}ing|play|search|sort|dropout|descent|algorithm|protocol|pipeline|procedure)$", re.I
)
_SUBJECT_FIRST = re.compile(r"^(?:the|a|an|each|every|all|one|two|both)\s+\w+", re.IGNORECASE)


def _question(term: str, verb: str, setting: Setting) -> str:
    last = term.split()[-1]
    plural = last.lower().endswith("s") and not last.lower().endswith(("ss", "us", "is", "ics")) and last.isalpha()
    term = lower_first(term)
    if verb == "do":
        return f"What {'do' if plural else 'does'} {term} do?"
    if verb == "how":
        return f"How does {term} work?"
    if verb == "state":
        return f"What does {term} state?"
    return f"What {'are' if plural else 'is'} {term}?"


def _described(description: str, term: str) -> tuple[str, str] | None:
    """The question's verb ("is", "do" or "state") and the answer, when the description says what a
    term is, does or states in one clean sentence."""
    found = claims(re.sub(r"^(?:\*\*|__)\s*", "", description))
    if not found:
        return None
    first = prose(found[0].text)
    text = plain(first).rstrip(".")
    pointing = _POINTING.match(text)
    if _STATEMENT_HEAD.search(term) and not pointing and not _PRONOUN_START.match(text):
        kind = "state"
    elif pointing:
        text = text[pointing.end() :]
        kind = "is"
    else:
        words = text.split()
        if not words:
            return None
        head = words[0]
        subjectless = _SUBJECTLESS.match(head)
        following = words[1].lower() if len(words) > 1 else ""
        if _REPORTING.match(head):
            return None  # "finding that ...": a result reported, not what the term is
        if _gerund(head) and following not in ("by", "with", "from", "on", "to", "in", "that", "of"):
            kind = "is"
        elif (
            subjectless
            and (subjectless.group("verb").lower() in language.VERBS or head[:-2].lower() in language.VERBS)
            and following not in ("of", "and", "or", "are", "is")
            and head.lower() not in ("refers", "means", "denotes", "stands", "describes", "represents")
            and not (len(term.split()) == 1 and re.search(r"(?:ive|ous|ful|able|ible|al|ic|ant|ent)$", term.lower()))
        ):
            kind = "do"
        elif _PROCESS.search(term) and _SUBJECT_FIRST.match(text) and _FINITE.search(text):
            kind = "how"  # "Stratified sampling: The population is partitioned into ...": how it works
            if len(found) == 2 and len(text.split()) + len(found[1].plain.split()) <= MAX_ANSWER_WORDS:
                text = f"{text}. {plain(prose(found[1].text)).rstrip('.')}"
                found = found[:1]
        else:
            return None
    words = text.split()
    if not 4 <= len(words) <= MAX_ANSWER_WORDS or _FIRST_PERSON.search(text):
        return None
    if _POINTS_ELSEWHERE.search(text) or _PRONOUN_START.match(text) or re.search(r"[:;]|\?|\be\.g\b|\bsee\b", text):
        return None  # "... these middlebox services ...": the answer needs the note around it
    if len(found) > 1 and not pointing:
        return None  # a second sentence would be left out of the answer, or hang off the first
    return kind, text[:1].lower() + text[1:] if kind == "do" else text


def _child_of_term(text: str, setting: Setting) -> Iterator[Candidate]:
    """A nested item that is only a definition ("The act of ...") of its parent term ("Labeling")."""
    parent = setting.parent.strip().rstrip(":")
    body = plain(prose(text)).rstrip(".")
    if not parent or not _DEFINING_NP.match(body) or _CLAIMED.search(body):
        return  # "The act of labeling makes people feel heard": a claim about it, not what it is
    term = _term(parent)
    words = body.split()
    if not term or not 5 <= len(words) <= MAX_ANSWER_WORDS or _POINTS_ELSEWHERE.search(body):
        return
    yield Candidate("basic", "qa:glossary", _question(term, "is", setting), body, 0, 8.8, setting.section)


def propose(text: str, setting: Setting) -> Iterator[Candidate]:
    if setting.language != "en":
        return
    found = split_label(text)
    if found is None:
        yield from _child_of_term(text, setting)
        return
    label, description = found
    if "\n" in label:
        return  # a label on a line of its own: a heading-like line, read by `labels`
    term = _term(label)
    described = _described(description, term) if term else None
    if not described:
        return
    verb, answer = described
    yield Candidate("basic", "qa:glossary", _question(term, verb, setting), answer, 0, 8.8, setting.section)
