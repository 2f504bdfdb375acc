"""Mechanisms: a sentence that says how a named thing works ("X works by ...", "X is an example of
..., they start with ..., then ...") is asked "How does X work?"."""

from __future__ import annotations

import re
from collections.abc import Iterator

from .candidates import Candidate, Setting
from .sentences import Sentence, lower_first, unemphasised

_WORKS_BY = re.compile(r"^(?P<term>[^,;]{3,50}?)\s+(?:works|operates|proceeds)\s+by\s+(?P<how>.{10,})$")
_STEPS = re.compile(
    r"^(?P<term>(?:[A-Z][\w’'-]*\s+){0,3}[A-Z][\w’'-]*)\s+(?:is|are)\b[^,]{0,80},\s*"
    r"(?P<how>(?:they|it|we|you|one)\s+\w+.{20,}\bthen\b.{8,})$"
)
MAX_WORDS = 45


def propose(sentence: Sentence, setting: Setting) -> Iterator[Candidate]:
    if setting.language != "en" or sentence.anaphoric:
        return
    text = unemphasised(sentence.text).rstrip(".")
    match = _WORKS_BY.match(text) or _STEPS.match(text)
    if not match:
        return
    term, how = match.group("term").strip(), match.group("how").strip()
    if len(how.split()) > MAX_WORDS:
        return
    verb = "do" if term.lower().endswith("s") and not term.endswith(("’s", "'s")) and term.islower() else "does"
    yield Candidate(
        "basic", "qa:mechanism", f"How {verb} {lower_first(term)} work?", how, sentence.index, 8.0, setting.section
    )
