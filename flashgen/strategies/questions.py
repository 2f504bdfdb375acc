"""Questions the author asked: a takeaway that opens with a question and goes on with its answer
("Why is naive Bayes so good? Because ..."), in any language. Asked as written."""

from __future__ import annotations

import re
from collections.abc import Iterator

from .candidates import Candidate, Setting
from .sentences import plain, prose

_QUESTION = re.compile(r"^(?P<q>[^\n?？]{6,160}[?？])[ \t]*(?:\n+|\s+)(?P<a>\S[\s\S]*)$")
MAX_ANSWER_WORDS = 45


def propose(text: str, setting: Setting) -> Iterator[Candidate]:
    match = _QUESTION.match(text.strip())
    if not match:
        return
    question, answer = prose(match.group("q")), prose(" ".join(match.group("a").split()))
    if setting.language == "en" and len(plain(question).split()) < 4:
        return
    if not answer or len(plain(answer).split()) > MAX_ANSWER_WORDS or len(plain(answer)) > 300:
        return
    if setting.language == "en" and len(plain(answer).split()) < 3:
        return  # "Explain.": an exercise, not an answer
    if re.search(r"[?？]", answer) or re.match(r"^(?:for example|e\.g\.|i\.e\.|\.\.\.|…)", plain(answer), re.I):
        return  # more questions, or an example: the author's open question, not its answer
    if re.search(r"\b(?:this|these|that|those|it)\b", plain(question), re.I) and setting.language == "en":
        return
    if re.search(r"\\\(|\$|[这那该此]", question):
        return  # a symbol or a reference the question never defines
    yield Candidate("basic", "qa:asked", question, answer, claim=0, rank=10.0, lead=setting.section)
