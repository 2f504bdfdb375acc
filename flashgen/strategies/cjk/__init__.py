"""Strategies for Japanese and Chinese takeaways, one module per shape (the English ones read
English grammar and stay silent here):

- `definitions`: "XとはYである", "XはYのこと", "YをXと呼ぶ", "X是Y", "Y称为X" — "Xとは？", "什么是X？", "…を何と呼ぶ？".
- `causes`: "AのはBからだ", "A是因为B", "因为B，所以A" — "なぜAのか？", "为什么A？".
- `contrasts`: "XではなくYだ", "不是X，而是Y" — a cloze on Y, cut at the segmenter's boundaries.

The author's own remarks ("…と思いました", "我觉得…") and sentences that point at text the card
does not show ("この", "本書", "这") make no card (see `phrases`).
"""

from __future__ import annotations

from collections.abc import Iterator

from ..candidates import Candidate, Setting
from ..sentences import Sentence
from . import causes, contrasts, definitions, phrases

LANGUAGES = ("ja", "zh")
__all__ = ["LANGUAGES", "phrases", "propose"]


def propose(sentence: Sentence, setting: Setting) -> Iterator[Candidate]:
    if setting.language not in LANGUAGES:
        return
    for strategy in (definitions, causes, contrasts):
        yield from strategy.propose(sentence, setting)
