"""Quality: the failure categories of a card, as a person grading it would name them.

The categories are those of `../shared/quality/RUBRIC.md` (trivial-target, fragment, label-cloze,
no-context, trivia-number, leak, not-knowledge, broken-text, ambiguous, mismatched-question,
too-long, wrong-language-handling). Each check looks at a *probe*, one thing a learner is asked
(a question/answer card, or one cloze deletion), as the learner sees it: the prompt with its
context lead, the answer, and the note's title. The rules are general (word classes, shapes,
anaphora, overlap between answer and prompt), not fitted to particular cards. The generator drops
every candidate a check flags; `flashgen check` explains the takeaways left without a good card.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from . import language
from .language import BLANK, content_words, words

MAX_PROMPT_WORDS = 40  # past this a prompt is not read at a glance
MAX_ANSWER_WORDS = 10  # a cloze deletion: a term or phrase, not a clause
MAX_DEFINITION_WORDS = 40  # the answer of a question (a definition, a cause, a mechanism)
NEAR_DUPLICATE = 90  # rapidfuzz ratio of two prompts above which they are the same question
GAP = "[...]"

CATEGORIES = (
    "trivial-target",
    "fragment",
    "label-cloze",
    "no-context",
    "trivia-number",
    "leak",
    "not-knowledge",
    "broken-text",
    "ambiguous",
    "mismatched-question",
    "too-long",
    "wrong-language-handling",
)
# Kept for callers that name the checks they require (the language-model generator).
CHECKS = CATEGORIES
DECK_CHECKS = ("same-front", "duplicate", "fixed-prompt")


@dataclass(frozen=True)
class Probe:
    """One thing a learner is asked: the prompt as shown (plain text, the hidden part written
    `[...]` or `_____`) and the answer expected."""

    kind: str  # "qa" or "cloze"
    prompt: str
    answer: str
    source: str  # plain text of the takeaway the card came from
    cue: str = ""  # the note's title, shown with every card
    role: str = ""
    location: str = ""
    lead: str = ""  # context shown before the prompt (heading, parent item, previous sentence)


@dataclass(frozen=True)
class Verdict:
    probe: Probe
    failed: tuple[str, ...] = ()

    @property
    def passed(self) -> bool:
        return not self.failed


# ---------------------------------------------------------------- word classes

_ANAPHORA = frozenset(
    [
        "it",
        "its",
        "it's",
        "this",
        "that",
        "these",
        "those",
        "they",
        "them",
        "their",
        "he",
        "she",
        "his",
        "her",
        "such",
        "here",
        "there",
        "former",
        "latter",
    ]
)
_ANAPHORIC_OPENING = re.compile(
    r"^(?:(?:and|but|so|also|then|thus|hence|however|therefore|because of this|as a (?:response|result) to this"
    r"|during this(?: \w+)?|in this(?: \w+)?|for this(?: \w+)?|with this(?: \w+)?|after this(?: \w+)?"
    r"|at this(?: \w+)?|like this|on the other hand|in (?:contrast|addition|particular)|similarly|likewise"
    r"|additionally|furthermore|moreover|instead|otherwise|again|still)\b[ ,]*)*"
    r"(?:it|its|this|that|these|those|they|them|their|he|she|his|her|such|here|there|the former|the latter"
    r"|we(?:'ve| have)? had this|the (?:above|following|same|previous|latter|former))\b",
    re.IGNORECASE,
)
# "It is/It's" followed by an adjective and a to/that clause is an expletive, not a reference.
_EXPLETIVE = re.compile(
    r"^(?:it(?:'s|’s| is| was| will be| can be| would be| may be| might be)"
    r" (?:\w+ ){0,3}?(?:to|that|whether|how|when|why)\b|it(?:'s|’s| is) going to be\b|there (?:is|are|was|were)\b)",
    re.IGNORECASE,
)
GENERIC = _GENERIC = frozenset(
    [
        "thing",
        "things",
        "way",
        "ways",
        "part",
        "parts",
        "kind",
        "type",
        "types",
        "lot",
        "lots",
        "example",
        "examples",
        "case",
        "cases",
        "number",
        "amount",
        "data",
        "dataset",
        "datasets",
        "task",
        "tasks",
        "model",
        "models",
        "method",
        "methods",
        "approach",
        "approaches",
        "technique",
        "techniques",
        "system",
        "systems",
        "process",
        "result",
        "results",
        "problem",
        "problems",
        "issue",
        "issues",
        "idea",
        "ideas",
        "time",
        "times",
        "people",
        "person",
        "user",
        "users",
        "work",
        "paper",
        "papers",
        "author",
        "authors",
        "step",
        "steps",
        "information",
        "value",
        "values",
        "set",
        "sets",
        "gpu",
        "gpus",
        "cpu",
        "memory",
        "performance",
        "training",
        "inference",
        "network",
        "networks",
        "layer",
        "layers",
        "input",
        "inputs",
        "output",
        "outputs",
        "function",
        "functions",
        "feature",
        "features",
        "code",
        "tool",
        "tools",
        "use",
        "usage",
        "level",
        "levels",
        "point",
        "points",
    ]
)
_FUNCTION = frozenset(language.STOPWORDS)
_VERBISH = re.compile(
    r"\b(?:is|are|was|were|be|been|being|am|has|have|had|do|does|did|can|could|will|would|shall|should|may"
    r"|might|must|need|needs|needed|get|gets|got|make|makes|made|use|uses|used|take|takes|took|give|gives"
    r"|gave|allow|allows|let|lets|help|helps|keep|keeps|become|becomes|became|seem|seems|means|mean"
    r"|\w{3,}(?:ed|es|s))\b",
    re.IGNORECASE,
)
_UNSPACED = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af]")
_TODO = re.compile(r"\b(?:todo|to-do|to do|tbd|fixme|wip|read later)\b|\[ \]|^\s*\?\s*$|todo\.{2,}", re.IGNORECASE)
_DEFINITION_Q = re.compile(
    r"^(?:.*?[,:—–-]\s+)?(?:what (?:is|are|was|were) (?:meant by )?|what does .* (?:mean|do|refer to|stand for)|"
    r"what do .* (?:mean|do)\b|define |was ist |was sind |什么是|とは)",
    re.IGNORECASE,
)
_ACRONYM = re.compile(r"^(?:[A-Z][A-Za-z0-9]*[A-Z0-9][A-Za-z0-9]*s?|[A-Z]{2,}s?)$")


def _shown(p: Probe) -> str:
    """What the learner reads: the context lead and the prompt."""
    return f"{p.lead} {p.prompt}".strip() if p.lead else p.prompt


def _hidden_marker(prompt: str) -> str:
    return GAP if GAP in prompt else BLANK if BLANK in prompt else ""


def _is_blank(p: Probe) -> bool:
    """A sentence with a part hidden (cloze, or a question made by blanking a word)."""
    return bool(_hidden_marker(p.prompt))


def _is_question(p: Probe) -> bool:
    return not _is_blank(p)


def _stem(word: str) -> str:
    word = word.lower().strip("-'’")
    for suffix in ("ization", "isation", "ations", "ation", "ings", "ing", "ers", "er", "ies", "es", "ed", "s"):
        if len(word) - len(suffix) >= 4 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


def _stems(text: str) -> set[str]:
    out = set()
    for w in content_words(text):
        for part in re.split(r"[-/]", w):
            if len(part) >= 3 and part not in _FUNCTION:
                out.add(_stem(part))
    return out


_MATH = re.compile(r"\\\(.*?\\\)|\\\[.*?\\\]|\$\$.*?\$\$|\$[^$]*\$|`[^`]*`", re.DOTALL)


def is_cjk(text: str) -> bool:
    return bool(_UNSPACED.search(text))


# ---------------------------------------------------------------- the checks


def _trivial_target(p: Probe) -> bool:
    """The hidden word is generic, an acronym or a bare name, not the claim of the sentence."""
    if not _is_blank(p) or is_cjk(p.answer):
        return False
    answer = p.answer.strip(" .,:;()\"'“”‘’*")
    tokens = answer.split()
    if not tokens:
        return True
    if len(tokens) == 1:
        token = tokens[0]
        before = p.prompt.split(_hidden_marker(p.prompt), 1)[0]
        if re.search(r"\b(?:to|can|could|will|would|should|must|may|might)\s*$", before) and token.islower():
            return True  # a hidden verb: the wording of the claim, not the claim
        if _ACRONYM.match(token) and not any(c.isdigit() for c in token):
            return True  # LLMs, GPU, SGD: the acronym of something the sentence names or could name
        if token.lower() in _GENERIC or token.lower() in _FUNCTION:
            return True
        marker = _hidden_marker(p.prompt)
        at_end = not re.sub(r"[\s.!?)\]\"”’]+", "", p.prompt.split(marker, 1)[1])
        if token[:1].isupper() and not p.prompt.startswith(marker) and not at_end:
            return True  # a name inside a sentence (who did it, with what tool), not the claim
        if token.lower().endswith(("ly",)) or (token.lower().endswith("ing") and language.zipf(token) >= 3.5):
            return True  # an adverb or a common verb form: the wording, not the idea
        if language.zipf(token) >= 4.6:
            return True  # an everyday word: the sentence's claim is elsewhere
    return all(t.lower() in _GENERIC or t.lower() in _FUNCTION for t in tokens)


def _fragment(p: Probe) -> bool:
    """No claim of its own: a spec item, a symbol, an arrow, an aside, a verbless phrase."""
    prompt = p.prompt.strip()
    if prompt.startswith(("Complete:", "Recall this")):
        return True
    if "→" in prompt or "->" in prompt or "=>" in prompt:
        return True
    if prompt.startswith("(") and prompt.rstrip(".").endswith(")"):
        return True
    if is_cjk(prompt):  # no spaces: characters, not words; a question names its term ("Raftとは？")
        return len(prompt) < (8 if _is_blank(p) else 4)
    text = prompt.replace(GAP, " x ").replace(BLANK, " x ")
    prose = [w for w in words(re.sub(r"\\\(.*?\\\)|\$[^$]*\$|`[^`]*`", " ", text))]
    if _is_blank(p):
        if len(prose) + len(words(p.answer)) - 1 < 6:
            return True
        if re.match(r"^[A-Z][a-z]+s\s+(?:a|an|the|you|us|them|it|to|for|one)\b", prompt):
            return True  # "Allows you to ...", "Represents a ...": a predicate without its subject
        return not _VERBISH.search(text)
    return len(prose) < 3


_LABEL_AT_START = re.compile(r"^\s*(?:\[\.\.\.\]|_____)\s*(?:\([^)]*\)\s*)?[:：—–]|^\s*(?:\[\.\.\.\]|_____)\s+-\s")
_GLOSSARY = re.compile(r"^(?:a|an|the|also known as|aka|i\.e\.|short for)\s", re.IGNORECASE)
_LABEL_PREFIX = re.compile(r"^[^.!?:]{1,60}?\s*(?<!\\)[:：]\s+\S")


def _label_cloze(p: Probe) -> bool:
    """The hidden part is the label of a "Label: description" line."""
    if not _is_blank(p):
        return False
    if re.search(r"[:：]\s+\S|^(?:phase|step|part|stage|chapter|section)\s+\d", p.answer.strip(), re.IGNORECASE):
        return True  # the answer is itself a heading ("Phase 2: ...")
    marker = _hidden_marker(p.prompt)
    head, colon, description = p.prompt.partition(":") if ":" in p.prompt else p.prompt.partition(" – ")
    if not (colon and head.lstrip().startswith(marker) and len(_MATH.sub("x", head).split()) <= 6):
        return bool(_LABEL_AT_START.search(p.prompt))
    # A glossary entry ("Critic: also known as value function, a network that ...") asks for the
    # term a definition defines, a fair card; a label over a claim is the author's own wording.
    return not _GLOSSARY.match(description.strip())


def _no_context(p: Probe) -> bool:
    """Unanswerable without the note: an anaphor, a bare symbol, a bare term with no setting."""
    prompt = p.prompt.strip().replace(GAP, "x").replace(BLANK, "x")
    lead = p.lead.strip()
    opening = lead or prompt
    if not _EXPLETIVE.match(opening) and _ANAPHORIC_OPENING.match(opening):
        return True
    if _is_blank(p) and not lead and not _EXPLETIVE.match(prompt) and _ANAPHORIC_OPENING.match(prompt):
        return True
    if (
        _is_blank(p)
        and not lead
        and re.match(r"^(?:hence|thus|so|therefore|also|however|instead|then)\b", prompt, re.I)
    ):
        return True  # a sentence that continues the one before it
    if re.match(r"^(?:if|when|where)\s+(?:\\\(|\$)", prompt, re.IGNORECASE):
        return True  # a condition on a symbol the card never defines
    if re.match(r"^(?:we|you|i|he|she|they)\b", opening, re.IGNORECASE) and _is_blank(p) and not lead:
        return bool(re.search(r"\b(?:this|that|these|those)\b", prompt, re.IGNORECASE))
    demonstrative = re.search(
        r"\b(?:this|these|those|such)\s+(?!is\b|are\b|was\b|means\b|as\b)\w+", prompt, re.IGNORECASE
    )
    if demonstrative and _is_blank(p) and demonstrative.start() < 40 and not lead:
        return True
    if _is_question(p):
        match = re.search(r"what (?:is|are) (?:meant by )?[“\"]?([^”\"?]+)[”\"]?\?", prompt, re.IGNORECASE)
        if match and not lead and not re.search(r"\b(?:in|of|for|according to)\b", prompt[: match.start()], re.I):
            term = re.sub(r"^(?:the|a|an)\s+", "", match.group(1).strip(), flags=re.IGNORECASE)
            common = language.zipf(term) >= 3.5  # an everyday word means something else in every field
            if len(term.split()) == 1 and common and term.lower() not in p.cue.lower():
                return True  # "What is Offset?": a common word means something different in every field
    if is_cjk(prompt):  # a Chinese or Japanese sentence is one "word" between spaces: count characters
        return bool(_is_blank(p) and len(prompt) + len(p.answer) < 14 and not lead)
    return bool(_is_blank(p) and len(words(prompt)) + len(words(p.answer)) - 1 < 8 and not lead)


def short_claim(p: Probe) -> bool:
    """A short sentence with a blank and nothing pointing back ("[...] is stable."): the length checks
    of `fragment` and `no-context` alone would drop it."""
    prompt = p.prompt.strip().replace(GAP, "x").replace(BLANK, "x")
    return (
        _is_blank(p)
        and len(words(prompt)) + len(words(p.answer)) - 1 < 8
        and not p.lead
        and not (_ANAPHORIC_OPENING.match(prompt) and not _EXPLETIVE.match(prompt))
        and not re.match(r"^(?:hence|thus|so|therefore|also|however|instead|then|if|when|where)\b", prompt, re.I)
        and not re.search(r"\b(?:this|these|those)\b", prompt, re.I)
    )


_NUMBERISH = re.compile(r"^[~≈<>±+-]?\s*\$?[\d.,]+\s*(?:%|[a-zA-Z]{0,6}|\w+s)?$|\d")


def _trivia_number(p: Probe) -> bool:
    """The hidden part is a number, year or setting."""
    if not _is_blank(p) and not re.match(r"^(?:how (?:many|much|long|big)|when|in which year)", p.prompt, re.I):
        return False
    answer = p.answer.strip()
    if _is_blank(p):
        # a quantity or a date ("0.2", "~32k", "1008 GB/s", "46.7%"), not a name with a number in it
        # ("System 1", "GPT-4", "Class 3a")
        return bool(re.match(r"^[~≈<>±+\-−$€£(]*\s*\d", answer)) and len(answer.split()) <= 4
    return False


def _leak(p: Probe) -> bool:
    """The prompt or the title gives the answer away: its words, its root, its initials or expansion."""
    shown = f"{_shown(p)} {p.cue}"
    answer = p.answer.strip()
    if not answer:
        return True
    if is_cjk(answer):
        return len(answer) >= 2 and answer in shown.replace(answer + "？", "")  # said again verbatim
    if _is_question(p) and _DEFINITION_Q.match(p.prompt):
        # A definition may repeat the term; it leaks when it is little more than the term, or
        # when the heading shown with it already says it ("Tracking outages: What is X?").
        term = set(_stems(p.prompt))
        said = _stems(answer)
        if said and len(said - term) < 2:
            return True
        context = _stems(f"{p.lead} {p.cue}") - term
        return len(said) >= 2 and len(said & context) * 2 >= len(said)
    answer_stems = _stems(answer)
    shown_stems = _stems(shown.replace(GAP, " ").replace(BLANK, " "))
    if answer_stems and answer_stems <= shown_stems:
        return True
    if len(answer_stems) == 1 and answer_stems & shown_stems:
        return True
    # An acronym next to its expansion, either way round.
    initials = "".join(w[0] for w in re.findall(r"[A-Za-z][\w]*", answer) if w.lower() not in _FUNCTION).upper()
    if len(initials) >= 2 and re.search(rf"\b{re.escape(initials)}s?\b", shown):
        return True
    token = answer.strip("()")
    if _ACRONYM.match(token):
        letters = [c for c in token if c.isupper()]
        shown_words = [w for w in re.findall(r"[A-Za-z]+", shown) if w.lower() not in _FUNCTION]
        lead = "".join(w[0].upper() for w in shown_words)
        if len(letters) >= 2 and "".join(letters) in lead:
            return True
    marker = _hidden_marker(p.prompt)
    if marker:
        after = p.prompt.split(marker, 1)[1].lstrip()
        if re.match(r"^\(([A-Za-z0-9-]{2,10})\)", after):
            return True  # "_____ (ATP)": the acronym spells the answer
    return False


def _not_knowledge(p: Probe) -> bool:
    """A to-do, a link list, an open question, a bare list of names."""
    text = f"{p.prompt} {p.answer}"
    if _TODO.search(text) or _TODO.search(p.source[:200]):
        return True
    if re.search(r"https?://|www\.", _MATH.sub(" ", text)):
        return True  # a link (an address inside math or code is not one)
    # A blank in a question the author asked is not an answer.
    return _is_blank(p) and p.prompt.rstrip().endswith(("?", "？"))


def balanced(text: str) -> bool:
    """Brackets and double quotes closed (math set aside): the one check the generator, the
    checker and the headings it shows all use."""
    depth = 0
    for ch in _MATH.sub("", text):
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth -= 1
            if depth < 0:
                return False
    if depth:
        return False
    straight = re.sub(r"(?<=\w)['’](?=\w)|(?<=s)['’](?=\s|$)", "", text)
    return straight.count('"') % 2 == 0 and text.count("“") == text.count("”")


def _broken_text(p: Probe) -> bool:
    """Damaged text: unbalanced brackets or quotes, leftover markup, a span cut mid-phrase."""
    shown = p.prompt.replace(GAP, "x").replace(BLANK, "x")
    for text in (shown, p.answer):
        if not balanced(text):
            return True
        if re.search(r"\*\*|==|__|\[\[|\]\]|\{\{|\}\}|<[a-z/][^>]*>", _MATH.sub(" ", text)):
            return True
    if _is_blank(p) and p.answer.rstrip().endswith((",", ";", ":", "(")):
        return True  # a deletion that swallowed the punctuation after it
    if re.search(r"\s[.,;:](?:\s|$)", shown) and not re.search(r"\$|\\\(", shown):
        return True  # "Formal Reasoning : To ...", "capacity ." — a label or a cut left behind
    answer = p.answer.strip().split()
    if (
        _is_blank(p)
        and answer
        and (
            answer[0].lower() in ("of", "and", "or", "to", "the", "a", "an")
            or answer[-1].lower() in _FUNCTION - {"it", "this"}
        )
    ):
        return True
    return bool(p.prompt.strip().endswith((",", ";", " and", " or", " the")))


def _ambiguous(p: Probe) -> bool:
    """More than one answer fits: a lone modifier hidden before the noun it modifies."""
    if not _is_blank(p) or is_cjk(p.prompt):
        return False
    marker = _hidden_marker(p.prompt)
    tokens = p.answer.split()
    if len(tokens) != 1:
        return False
    after = p.prompt.split(marker, 1)[1]
    nxt = re.match(r"\s+([a-z][a-z-]+)\b", after)
    # "supervised [...] process", "_____ capacity": a modifier hidden before a generic head noun,
    # which many modifiers would fit.
    return nxt is not None and nxt.group(1) in _GENERIC


def _mismatched_question(p: Probe) -> bool:
    """The question's form does not fit its answer ("What is X?" answered by a number or a claim)."""
    if not _is_question(p):
        return False
    prompt, answer = p.prompt.strip(), p.answer.strip()
    if re.match(r"^what is meant by", prompt, re.IGNORECASE) and re.search(r"\d|\\\(|\$", answer[:12]):
        return True
    short = len(words(answer)) < 2 and not is_cjk(answer)
    if _DEFINITION_Q.match(prompt) and (re.match(r"^[\d$\\(=~]", answer) or short):
        return True
    return bool(re.match(r"^why\b", prompt, re.IGNORECASE) and len(words(answer)) < 2 and not is_cjk(answer))


def _too_long(p: Probe) -> bool:
    """A prompt of several sentences or many clauses: the answer is cued by the wording."""
    prompt = p.prompt
    if is_cjk(prompt):
        return len(prompt) > 90
    count = len(words(prompt))
    if count > MAX_PROMPT_WORDS or count + len(words(p.lead)) > MAX_PROMPT_WORDS + 5:
        return True  # the prompt, or the prompt with the sentence shown before it, is not read at a glance
    sentences = language.split_sentences(prompt.replace(GAP, "x").replace(BLANK, "x"))
    ends = re.findall(r"(?<!\b[a-z])(?<!\be\.g)(?<!\bi\.e)(?<!\betc)(?<!\bvs)[.!?]\s+[a-z]", prompt)
    if (len(sentences) > 1 or ends) and count > 25:
        return True  # two sentences ("... is to [...]. entropy collapse is ..."): the answer is buried
    limit = MAX_DEFINITION_WORDS if _is_question(p) else MAX_ANSWER_WORDS
    return len(words(p.answer)) > limit


def _wrong_language(p: Probe) -> bool:
    """English rules applied to a note in another script: English templates, cuts inside a word."""
    if not is_cjk(p.source):
        return False
    prompt = p.prompt
    if re.search(r"\b(?:What|Why|How|Which|Complete)\b", prompt):
        return True
    marker = _hidden_marker(prompt)
    if marker and not is_cjk(p.answer) and re.search(r"[A-Za-z]$", p.answer) and is_cjk(prompt):
        return False
    return False


_CHECK_FUNCTIONS: Mapping[str, Callable[[Probe], bool]] = {
    "trivial-target": _trivial_target,
    "fragment": _fragment,
    "label-cloze": _label_cloze,
    "no-context": _no_context,
    "trivia-number": _trivia_number,
    "leak": _leak,
    "not-knowledge": _not_knowledge,
    "broken-text": _broken_text,
    "ambiguous": _ambiguous,
    "mismatched-question": _mismatched_question,
    "too-long": _too_long,
    "wrong-language-handling": _wrong_language,
}


def judge(probe: Probe) -> Verdict:
    """Every category a probe falls into (none: the card may be kept)."""
    return Verdict(probe, tuple(name for name in CATEGORIES if _CHECK_FUNCTIONS[name](probe)))


def passes(probe: Probe) -> bool:
    """Whether a probe falls into no failure category (stops at the first)."""
    return not any(_CHECK_FUNCTIONS[name](probe) for name in CATEGORIES)


def unfaithful(p: Probe) -> bool:
    """The answer is not in the takeaway's own words (for cards another generator wrote)."""
    answer = words(p.answer)
    if not answer:
        return True
    flat = " ".join(p.source.split()).lower()
    if " ".join(p.answer.replace("…", " ").split()).lower() in flat:
        return False
    source = set(words(p.source))
    return sum(w in source for w in answer) < 0.8 * len(answer)


# ---------------------------------------------------------------- a whole deck


@dataclass(frozen=True)
class DeckScore:
    """Share of probes in no failure category, and counts of each category and deck problem."""

    probes: int
    takeaways: int
    passing: float = 0.0
    categories: Mapping[str, int] = field(default_factory=dict)
    deck_problems: Mapping[str, int] = field(default_factory=dict)


def _key(text: str) -> str:
    return " ".join(text.lower().split())


def deck_problems(probes: Sequence[Probe]) -> dict[str, list[int]]:
    """Confusions between cards: one front with two answers, a card made twice, one fixed prompt
    used for many takeaways. Indexes of the probes involved, by problem."""
    out: dict[str, list[int]] = {name: [] for name in DECK_CHECKS}
    by_front: dict[tuple[str, str], list[int]] = {}
    for index, p in enumerate(probes):
        by_front.setdefault((_key(p.cue), _key(_shown(p))), []).append(index)
    for group in by_front.values():
        if len(group) < 2:
            continue
        answers = Counter(_key(probes[i].answer) for i in group)
        if len(answers) > 1:
            out["same-front"].extend(group)
        elif len({probes[i].location for i in group}) < len(group) or len(group) > 1:
            out["duplicate"].extend(group[1:])
    prompts = Counter(_key(p.prompt) for p in probes)
    for index, p in enumerate(probes):
        if prompts[_key(p.prompt)] > 1 and not _hidden_marker(p.prompt) and len(words(p.prompt)) <= 4:
            out["fixed-prompt"].append(index)
    return out


def score(probes: Sequence[Probe]) -> DeckScore:
    """Judge a whole deck: categories of every probe and the deck's confusions."""
    if not probes:
        return DeckScore(0, 0)
    verdicts = [judge(p) for p in probes]
    categories = Counter(name for v in verdicts for name in v.failed)
    problems = deck_problems(probes)
    return DeckScore(
        probes=len(probes),
        takeaways=len({p.location for p in probes}),
        passing=sum(v.passed for v in verdicts) / len(probes),
        categories=dict(categories),
        deck_problems={k: len(v) for k, v in problems.items()},
    )


# ---------------------------------------------------------------- advice for the author

_ADVICE = {
    "trivial-target": "its cards would hide a generic word, a name or an acronym; mark the point in **bold**",
    "fragment": "is a fragment (a label, a spec item, a phrase without a verb); write the claim as a sentence",
    "label-cloze": "is a 'Label: description' whose description states no fact; write what the label means",
    "no-context": "needs the text around it ('it', 'this', a bare symbol); name the subject in the bullet",
    "trivia-number": "its only target is a number; say what the number means, or write `question :: answer`",
    "leak": "would give its answer away in its own words; write `question :: answer`",
    "not-knowledge": "reads as a to-do, a link or an open question, not knowledge; nothing to study",
    "broken-text": "has unbalanced brackets or quotes or leftover markup; fix the text",
    "ambiguous": "its cards would have several right answers; add the setting, or write `question :: answer`",
    "mismatched-question": "no question form fits it; write `question :: answer`",
    "too-long": "is too long for one card; split it into one claim per bullet",
    "no-claim": "states no definition, cause, contrast, mechanism or key term to ask about",
    "wrong-language-handling": "is in a language the generator does not ask questions in; write `question :: answer`",
}
MAX_TAKEAWAY_WORDS = 80


def advice_for(reasons: Iterable[str]) -> tuple[str, ...]:
    """Advice for the author of a takeaway that made no card, from the categories its candidates
    fell into (or the reasons the generator gave)."""
    out = [_ADVICE.get(r, r) for r in reasons]
    return tuple(dict.fromkeys(out))
