"""Causes in Japanese and Chinese: a sentence that gives the reason for a claim is asked why.

- "AのはBからだ" / "AのはBためだ": "なぜAのか？" → B.
- "なぜAかというと、Bから": "なぜAのか？" → B.
- "A是因为B", "A，因为B", "之所以A，是因为B": "为什么A？" → B.
- "因为B，所以A", "由于B，因此A": "为什么A？" → B.

The effect must stand on its own (a subject, no "this", not the author's own feeling), and the
reason must be a clause to recall, not a pointer ("理由は上記の通り").
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from ..candidates import Candidate, Setting
from ..sentences import Sentence
from .phrases import HEARSAY, answer_ok, deictic, outside_brackets, remark, trimmed

RANK = 8.0
MAX_EFFECT = 50

_NOHA = re.compile(
    r"^(?P<effect>[^。]{6,}?)のは[、,]?\s*(?P<cause>[^。]{4,}?)(?:から|ため)"
    r"(?:です|だ|である|であって|でした|だった)?[。.]?$"
)
_NAZE = re.compile(
    r"^なぜ(?P<effect>[^。]{6,}?)(?:のか|か)(?:という|っていう|と言う|といいます)と[、,]?\s*(?P<cause>[^。]{4,}?)(?:から|ため)"
    r"(?:です|だ|である)?[。.]?$"
)
# "Aである。(Bから)": the reason in brackets after the claim.
_BRACKETED = re.compile(
    r"^(?P<effect>[^。（()）]{8,}?)(?:である|です|だ)?[。.]?\s*[（(](?P<cause>[^()（）]{6,}?)(?:から|ため)[)）][。.]?$"
)
# "重要なのは…", "大事なのは…": a cleft that says what matters, not why.
_CLEFT = re.compile(r"な$")
_ZH_BECAUSE = re.compile(
    r"^(?:之所以)?(?P<effect>[^。]{6,}?)[，,]?\s*(?:就|正|主要|主要是)?(?:是)?(?:因为|由于)(?P<cause>[^。]{4,}?)[。.]?$"
)
_OPENING = re.compile(r"^(?:而且|而|但是|但|并且|所以|因此|这是|这就是)[，,]?")
_ZH_SO = re.compile(r"^(?:因为|由于)(?P<cause>[^。]{4,}?)[，,]\s*(?:所以|因此|因而|才)(?P<effect>[^。]{6,}?)[。.]?$")


def propose(sentence: Sentence, setting: Setting) -> Iterator[Candidate]:
    text = HEARSAY.sub("", re.sub(r"^[\s\u200b\ufeff+*]+", "", sentence.plain.strip()))
    if remark(text):
        return
    if setting.language == "ja":
        match = _NAZE.match(text) or _NOHA.match(text) or _BRACKETED.match(text)
        if not match:
            return
        effect, cause = match.group("effect").strip(), trimmed(match.group("cause"))
        if match.re is _NOHA and _CLEFT.search(effect):
            return
        effect = re.sub(r"^(?:また|なお|さらに|そして|つまり|ただし|まず|特に)[、,]?", "", effect).strip()
        if not re.search(r"[がは]|だと", outside_brackets(effect)):
            return  # "なぜiterativeな性質をもつのか": whose? The subject is in another sentence
        if _ok(effect, cause):
            copula = "な" if re.search(r"[\u4e00-\u9fff\u30a0-\u30ffA-Za-z0-9)）]$", effect) else ""
            yield _card(f"なぜ{effect}{copula}のか？", cause, sentence, setting)
    elif setting.language == "zh":
        match = _ZH_SO.match(text) or _ZH_BECAUSE.match(text)
        if not match:
            return
        effect = _OPENING.sub("", match.group("effect")).strip(" ，,")
        effect = re.sub(r"(?:[，,]\s*)?(?:这|那)?(?:就|正|主要)?(?:是)?$", "", effect).strip(" ，,")
        cause = trimmed(match.group("cause"))
        if _ok(effect, cause):
            yield _card(f"为什么{effect}？", cause, sentence, setting)


def _ok(effect: str, cause: str) -> bool:
    if not 6 <= len(effect) <= MAX_EFFECT or deictic(effect) or not answer_ok(cause) or len(cause) < 4:
        return False
    if re.search(r"[？?]", effect) or re.search(r"^(?:[、，,]|と|が|を|に|で|の)", effect):
        return False  # a question, or a fragment of the sentence before
    return not outside_brackets(effect).startswith(("理由", "原因", "それ", "これ"))


def _card(question: str, answer: str, sentence: Sentence, setting: Setting) -> Candidate:
    return Candidate("basic", "qa:cause", question, answer, sentence.index, RANK, setting.section)
