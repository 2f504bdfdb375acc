"""Quality: automatic checks of what makes a card worth keeping.

From SuperMemo's 20 rules, Andy Matuschak's "How to write good prompts" and
Michael Nielsen's "Augmenting long-term memory". Each check looks at a *probe*,
one thing a learner is asked (a question/answer card, or one cloze deletion),
and passes or fails. The generator ranks its candidates with them, `flashgen
check` reports takeaways whose cards fail, and `benchmarks/card_quality.py`
scores a whole deck.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from rapidfuzz import fuzz

from . import language
from .language import BLANK, DANGLING, YES_NO_OPENERS, content_words, words

MAX_PROMPT_WORDS = 40
MAX_ANSWER_WORDS = 5  # cloze deletions and fact answers
MAX_DEFINITION_WORDS = 14  # the answer of a question asking what a term is
NEAR_DUPLICATE = 90  # rapidfuzz ratio of two prompts above which they are the same question

CHECKS = (
    "atomic",
    "short",
    "no_leak",
    "precise",
    "self_contained",
    "effortful",
    "faithful",
    "no_set",
)
DECK_CHECKS = ("varied", "distinct")


@dataclass(frozen=True)
class Probe:
    """One thing a learner is asked: the prompt as shown (plain text) and the answer expected."""

    kind: str  # "qa" or "cloze"
    prompt: str
    answer: str
    source: str  # plain text of the takeaway the card came from
    cue: str = ""  # the context shown with the prompt: title, author
    role: str = ""
    location: str = ""
    lead: str = ""  # a sentence shown before the prompt, which it refers back to


@dataclass(frozen=True)
class Verdict:
    probe: Probe
    failed: tuple[str, ...] = ()

    @property
    def passed(self) -> bool:
        return not self.failed


def judge(probe: Probe) -> Verdict:
    """Run every per-card check on a probe."""
    return Verdict(probe, tuple(name for name in CHECKS if not _CHECK_FUNCTIONS[name](probe)))


def _atomic(p: Probe) -> bool:
    """One fact: the prompt is a single sentence of reasonable length, the answer one item."""
    prompt = p.prompt
    sentences = language.split_sentences(prompt)
    return (
        len(sentences) <= 1 and len(words(prompt)) <= MAX_PROMPT_WORDS and len(language.split_sentences(p.answer)) <= 1
    )


# Roles whose answer may be a phrase rather than a few words: definitions, the author's own cards.
_LONG_ANSWERS = re.compile(r"(^|:)qa:(definition|explicit|term|items)\b")


def _short(p: Probe) -> bool:
    limit = MAX_DEFINITION_WORDS if _LONG_ANSWERS.search(p.role) else MAX_ANSWER_WORDS
    return 0 < len(words(p.answer)) <= limit and len(words(p.prompt)) <= MAX_PROMPT_WORDS


def _no_leak(p: Probe) -> bool:
    """The prompt does not reveal the answer."""
    answer = language.normalise(p.answer)
    # What the learner sees. The gap (`_____`, `[...]`) holds no word, so the words are those of
    # the text as shown; without a lead they are the prompt's, often read already by `_short`.
    shown = f"{p.lead} {p.prompt}" if p.lead else p.prompt
    prompt = language.normalise(shown)
    if not answer or answer in prompt or p.answer.strip().lower() in shown.lower():
        return False  # also a part of a word: "evolve" in "evolved" gives it away
    key = set(content_words(p.answer))
    return not key or not key <= set(content_words(shown))


def _precise(p: Probe) -> bool:
    """One precise answer: no yes/no questions."""
    first = (words(p.prompt) or [""])[0]
    if p.kind == "qa" and first in YES_NO_OPENERS and p.prompt.rstrip().endswith("?"):
        return False
    return language.normalise(p.answer) not in {"yes", "no", "true", "false"}


def _self_contained(p: Probe) -> bool:
    """Makes sense weeks later, out of its note: a context cue, no dangling 'It ...' or 'This approach ...'."""
    opening = language.first_words((p.lead + " " + p.prompt).replace(BLANK, "x").replace("[...]", "x"), 2)
    if opening and (opening[0] in DANGLING or " ".join(opening) in DANGLING):
        return False
    return bool(p.cue.strip())


_VAGUE = frozenset({"this", "that", "it", "them", "these", "those", "thing", "things", "stuff", "etc"})


def _effortful(p: Probe) -> bool:
    """The recalled part is a content word, term, name or number, never only stopwords or a vague 'this'."""
    answer = words(p.answer)
    if answer and answer[-1] in _VAGUE:
        return False
    return bool(content_words(p.answer)) or any(any(c.isdigit() for c in w) for w in answer)


def _faithful(p: Probe) -> bool:
    """The answer comes from the takeaway's own words."""
    answer = words(p.answer)
    if not answer:
        return False
    if " ".join(p.answer.replace("…", " ").split()).lower() in _flat(p.source):
        return True  # verbatim (the only test that works for scripts written without spaces)
    source = set(words(p.source))
    return sum(w in source for w in answer) >= 0.8 * len(answer)


@lru_cache(maxsize=4096)
def _flat(text: str) -> str:
    """Text lower-cased on one line (the source of a takeaway's every probe: made once)."""
    return " ".join(text.split()).lower()


_SET_PROMPT = re.compile(
    r"\b(name|list|enumerate)\b.*\b(the\s+)?(two|three|four|five|six|seven|eight|nine|ten|\d+)\b", re.I
)


_SET_ITEMS = re.compile(r",|;|\band\b|\bor\b")


def _no_set(p: Probe) -> bool:
    """No enumerations to recall as a whole: those become one cloze per item."""
    if _SET_PROMPT.search(p.prompt):
        return False
    items = [s for s in _SET_ITEMS.split(p.answer) if s.strip()]
    return len(items) < 3


_CHECK_FUNCTIONS = {
    "atomic": _atomic,
    "short": _short,
    "no_leak": _no_leak,
    "precise": _precise,
    "self_contained": _self_contained,
    "effortful": _effortful,
    "faithful": _faithful,
    "no_set": _no_set,
}
# The same checks, those that fail most often and cost least first, for `passes` (a check missing
# from this order fails at import rather than being skipped).
_CHEAP_FIRST = ("short", "self_contained", "effortful", "precise", "no_set", "faithful", "atomic", "no_leak")
_QUICK_ORDER = tuple(_CHECK_FUNCTIONS[name] for name in sorted(CHECKS, key=_CHEAP_FIRST.index))


def passes(probe: Probe) -> bool:
    """Whether a probe passes every per-card check (stops at the first that fails)."""
    return all(check(probe) for check in _QUICK_ORDER)


@dataclass(frozen=True)
class DeckScore:
    """Shares of probes passing each check, and of takeaways with at least one probe passing all."""

    probes: int
    takeaways: int
    passing: Mapping[str, float] = field(default_factory=dict)
    takeaways_with_a_good_card: float = 0.0
    near_duplicate_rate: float = 0.0
    opening_share: float = 0.0  # the share of prompts that start with the most common two words


def opening(prompt: str) -> str:
    return " ".join(words(prompt.replace(BLANK, "x"))[:2])


def score(probes: Sequence[Probe]) -> DeckScore:
    """Judge a whole deck: every per-card check, variety of openings and near-duplicate prompts."""
    if not probes:
        return DeckScore(0, 0)
    verdicts = [judge(p) for p in probes]
    openings = Counter(opening(p.prompt) for p in probes)
    most_common = openings.most_common(1)[0][1] / len(probes)
    duplicates = near_duplicates(probes)
    varied = [openings[opening(p.prompt)] / len(probes) <= 0.2 or len(probes) < 10 for p in probes]
    passing = {name: sum(name not in v.failed for v in verdicts) / len(probes) for name in CHECKS}
    passing["varied"] = sum(varied) / len(probes)
    passing["distinct"] = 1 - len(duplicates) / len(probes)
    good: dict[str, bool] = {}
    for index, (verdict, probe) in enumerate(zip(verdicts, probes, strict=True)):
        ok = verdict.passed and varied[index] and index not in duplicates
        good[probe.location] = good.get(probe.location, False) or ok
    return DeckScore(
        probes=len(probes),
        takeaways=len(good),
        passing=passing,
        takeaways_with_a_good_card=sum(good.values()) / len(good),
        near_duplicate_rate=len(duplicates) / len(probes),
        opening_share=most_common,
    )


def _around_blank(prompt: str) -> tuple[str, str]:
    """The prompt's text before and after what it hides (all of it is "before" for a question)."""
    for marker in (BLANK, "[...]"):
        if marker in prompt:
            before, _, after = prompt.partition(marker)
            return language.normalise(before), language.normalise(after)
    return language.normalise(prompt), ""


def near_duplicates(probes: Sequence[Probe]) -> set[int]:
    """Indexes of probes that ask the same thing as another (same cue, same text around the same
    gap) but expect a different answer: the learner cannot tell which answer is wanted."""
    found: set[int] = set()
    groups: dict[str, list[int]] = {}
    parts = [_around_blank(p.prompt) for p in probes]
    for index, (before, after) in enumerate(parts):
        # The cue (the note's title) is shown with every prompt: equal questions about two
        # different sources are told apart by it.
        groups.setdefault(probes[index].cue + "|" + (before + "|" + after)[:16], []).append(index)
    for group in groups.values():
        for i, a in enumerate(group):
            for b in group[i + 1 :]:
                if language.normalise(probes[a].answer) == language.normalise(probes[b].answer):
                    continue
                if all(fuzz.ratio(x, y) >= NEAR_DUPLICATE for x, y in zip(parts[a], parts[b], strict=True)):
                    found.update((a, b))
    return found


def problems_of(verdicts: Iterable[Verdict]) -> tuple[str, ...]:
    """The checks that every one of a takeaway's probes fails: what its author could fix."""
    failed: set[str] | None = None
    for verdict in verdicts:
        failed = set(verdict.failed) if failed is None else failed & set(verdict.failed)
    return tuple(sorted(failed or ()))


_ADVICE = {
    "atomic": "holds several facts; write one fact per bullet (or split it into nested items)",
    "short": "is too long to recall as one answer; shorten it or mark the key term in **bold**",
    "no_leak": "gives its answer away in its own words; mark the term to recall in **bold**",
    "precise": "reads as a yes/no question; ask for the fact itself",
    "self_contained": "starts with a word like 'It' or 'This' that needs the bullet before it; name the subject",
    "effortful": "has nothing specific to recall; add the term, name or number it is about",
    "faithful": "could not be turned into a card from its own words",
    "no_set": "asks for a whole list; make each item its own bullet or cloze",
}
MAX_TAKEAWAY_WORDS = 80


def advice(text: str, verdicts: Sequence[Verdict]) -> tuple[str, ...]:
    """What an author could change so that a takeaway makes a good card; empty when one already does."""
    out = []
    if len(words(text)) > MAX_TAKEAWAY_WORDS:
        out.append(f"is {len(words(text))} words long; a takeaway of one or two sentences makes better cards")
    if any(v.passed for v in verdicts):
        return tuple(out)
    if all(v.probe.role.endswith("qa:complete") for v in verdicts):
        out.append(
            "has no term, name or number to ask about; mark what to remember in **bold** or write `question :: answer`"
        )
    else:
        out.extend(_ADVICE[name] for name in problems_of(verdicts))
    return tuple(dict.fromkeys(out)) or ("makes no card that passes every quality check",)
