"""Contrasts in Japanese and Chinese: "XではなくYだ" and "不是X，而是Y" say that Y, not the expected X,
holds; the card hides Y (the new side), a whole phrase: it starts and ends where the segmenter
(BudouX for Japanese, jieba for Chinese) puts a boundary, never inside a word."""

from __future__ import annotations

import re
from collections.abc import Iterator

from ..candidates import Candidate, Setting
from ..sentences import Sentence, cloze_safe
from .phrases import answer_ok, deictic, outside_brackets, remark, whole

RANK = 7.5

_JA = re.compile(
    r"^(?P<subject>[^。]{2,40}?は)[、,]?\s*(?P<old>[^。、]{2,30}?)ではなく(?:て)?[、,]?\s*(?P<new>[^。、]{2,30}?)(?:である|です|だ)[。.]?$"
)
_ZH = re.compile(
    r"^(?P<subject>[^。]{2,40}?)(?:并)?不是(?P<old>[^。，,]{1,30}?)[，,]?\s*而是(?P<new>[^。，,；]{2,30}?)(?=[。，,；]|$)"
)


def propose(sentence: Sentence, setting: Setting) -> Iterator[Candidate]:
    text = re.sub(r"^[\s\u200b\ufeff+*]+", "", sentence.plain.strip())
    if remark(text) or setting.language not in ("ja", "zh"):
        return
    match = (_JA if setting.language == "ja" else _ZH).match(text)
    if not match:
        return
    subject, new = match.group("subject"), match.group("new")
    if deictic(subject) or not answer_ok(new) or not outside_brackets(new).strip("・"):
        return
    start, end = match.span("new")
    if not whole(text, start, end, setting.language):
        return  # the segmenter would cut a word here: no deletion inside a word
    front = f"{text[:start]}{{{{c1::{cloze_safe(text[start:end])}}}}}{text[end:]}"
    yield Candidate("cloze", "cloze:contrast", front, new, sentence.index, RANK, setting.section)
