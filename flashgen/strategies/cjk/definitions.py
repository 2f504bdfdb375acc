"""Definitions and names in Japanese and Chinese: a sentence that says what a term is, or what a
thing is called.

- "XとはYである", "XとはYのこと", "XはYのことだ": "Xとは？" → Y.
- "XはY" whose Y is a noun phrase ("instrumentationはtelemetry dataをemitするcode"): "Xとは？" → Y.
- "Xの目的はY" (a generic head): "Xの目的は？" → Y.
- "YをXと呼ぶ", "YはXと呼ばれる": "Yを何と呼ぶ？" / "Yは何と呼ばれる？" → X.
- "X是Y", "X是指Y", "X指的是Y", "X即Y": "什么是X？" → Y; "X的本质是Y": "X的本质是什么？" → Y.
- "Y叫做X", "Y称为X", "把Y称为X": "Y叫做什么？" → X; "X又叫Y": "X又叫什么？" → Y.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from ... import language
from ..candidates import Candidate, Setting
from ..sentences import Sentence
from .phrases import HEARSAY, answer_ok, deictic, head, noun_end, outside_brackets, remark, term, trimmed

RANK = 8.5
_CJK_CHAR = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff]")

# ---------------------------------------------------------------- Japanese

_TOWA = re.compile(r"^(?P<term>[^。]{1,40}?)(?:とは|というのは|っていうのは)[、,]?\s*(?P<rest>[^。]{4,}?)[。.]?$")
# What follows "とは" when it is no definition: "Xとは限らない", "XとはYが違う", "Xとは何か".
_NOT_DEFINING = re.compile(
    r"^(?:限ら|言え|いえ|違|異な|別|関係|無関係|反対|逆|対照|何|なに|なん|どう|どの|いったい|思)"
)
_NOKOTO = re.compile(
    r"^(?P<term>[^。]{1,40}?)は[、,]?\s*(?P<rest>[^。]{4,}?)(?:のこと|という意味)(?:である|です|だ)?[。.]?$"
)
_TOPIC = re.compile(r"^(?P<term>[^。]{1,40}?)は[、,]?\s*(?P<rest>[^。]{4,}?)(?:である|です|だ)?[。.]?$")
# A noun phrase's last character: a kanji, katakana, a Latin letter or digit, a closing bracket or code, "もの".
_NOUN_END = re.compile(  # ... or okurigana after a kanji ("仕組み")
    r"(?:[\u4e00-\u9fff\u30a0-\u30ffA-Za-z0-9`)）」』]|もの|こと|[\u4e00-\u9fff][みりきえち])$"
)
# ... unless the kanji is a verbal noun ending a clause written in note style ("dataを送信"): an object
# or a place before it, and no relative clause ("…する code") to make it a head noun.
_CLAUSE_END = re.compile(r"[をにがで][^をにがで]{0,12}[\u4e00-\u9fff]{2}$")
_RELATIVE = re.compile(r"(?:する|した|される|された|れる|られる|できる|な|の|る|た|い)\s*[^\s\u3040-\u309f]+$")
# A noun phrase that names an idea: "…に基づいて判定するという考え".
_IDEA = re.compile(r"という(?:考え|考え方|仕組み|手法|方式|概念|アイデア|方法|原則|モデル|パターン)$")
# An answer that ends in a case, a manner or a judgement, not in what the term is.
_NOT_WHAT = re.compile(
    r"(?:場合|とき|時|ため|よう|感じ|等|など|問題|方|もの|重要|必要|不要|可能|不可能|簡単|便利|大切|有効|危険|困難|容易|十分"
    r"|有用|的|同様|同じ|同等|参照|通り|文脈|話|理解|印象|意味)$"
)
_NAMED_JA = re.compile(
    r"^(?P<desc>[^。]{4,60}?)を[、,]?\s*(?P<name>[^。を]{1,30}?)と(?:呼ぶ|呼びます|呼んでいる|呼んでいます|いう|言う|いいます|言います"
    r"|称する|称します)[。.]?$"
)
_CALLED_JA = re.compile(
    r"^(?P<desc>[^。]{2,60}?)は[、,]?\s*(?P<name>[^。は]{1,30}?)と呼ばれ(?:る|ます|ている|ています)[。.]?$"
)

# "XはYという特徴をもつ": "Xの特徴は？"; "XにはAとBという2つのZがある": "Xの2つのZは？".
_TRAIT_JA = re.compile(
    r"^(?P<term>[^。]{1,40}?)は[、,]?\s*(?P<rest>[^。]{4,}?)という(?P<what>特徴|性質|利点|欠点|問題|制約|役割|目的)"
    r"(?:を|が)(?:もつ|持つ|ある|あります|もちます|持ちます|もっている|持っている)[。.]?$"
)
_KINDS_JA = re.compile(
    r"^(?P<term>[^。]{1,40}?)には[、,]?\s*(?P<items>[^。]{4,60}?)という(?P<count>[0-9０-９一二三四五六七八九十]+)つの"
    r"(?P<kind>[^。、]{1,20}?)が(?:ある|あります|存在する|存在します)[。.]?$"
)

# ---------------------------------------------------------------- Chinese

_COPULAS = ("是指", "指的是", "就是指", "即是", "是")
_NAMED_ZH = re.compile(
    r"^(?:把|将)?(?P<desc>[^。]{2,60}?)[，,]?\s*(?:被)?(?P<verb>叫做|叫作|称为|称作|被称为|被称作)"
    r"(?P<name>[^，。；]{1,30}?)[。.]?$"
)
_ALSO_ZH = re.compile(
    r"^(?P<term>[^。，]{2,40}?)[，,]?\s*(?P<verb>又叫做|又叫|又称为|又称|也叫做|也叫|也称为|也称)"
    r"(?P<name>[^，。；]{1,30}?)[。.]?$"
)


def propose(sentence: Sentence, setting: Setting) -> Iterator[Candidate]:
    text = HEARSAY.sub("", sentence.plain.strip())
    if remark(text) or text.endswith((":", "：")):
        return  # "…がおもしろいと思いました": the author's view; "…は次の通り：": a lead-in
    if setting.language == "ja":
        yield from _japanese(text, sentence, setting)
    elif setting.language == "zh":
        yield from _chinese(text, sentence, setting)


def _card(question: str, answer: str, sentence: Sentence, setting: Setting, role: str) -> Candidate:
    heading = re.sub(r"(?:とは|について|って|是什么|是什麼)?[?？:：\s]*$", "", setting.section)
    said = {w.lower() for w in re.findall(r"[A-Za-z]{3,}", answer)}
    named = {w.lower() for w in re.findall(r"[A-Za-z]{3,}", heading)} - {"the", "and"}
    asked = {w.lower() for w in re.findall(r"[A-Za-z]{3,}", question)}
    # "AWS Outpostsとは: AWS Outpostsとは？"; "The Extensional Model:" over "extensional modelと…"
    repeated = heading and (heading in question or said & named or (named and named <= asked))
    lead = "" if repeated else setting.section
    return Candidate("basic", role, question, answer, sentence.index, RANK, lead)


def _japanese(text: str, sentence: Sentence, setting: Setting) -> Iterator[Candidate]:
    named = _NAMED_JA.match(text) or _CALLED_JA.match(text)
    if named:
        desc, name = named.group("desc").strip(), trimmed(named.group("name"))
        desc = re.sub(r"^(?:また|なお|さらに|そして|つまり|ただし|まず|特に)[、,]?", "", desc).strip()
        if not deictic(desc) and 1 <= len(name) <= 30 and answer_ok(name) and not re.search(r"[、。]", name):
            asked = f"{desc}を何と呼ぶ？" if named.re is _NAMED_JA else f"{desc}は何と呼ばれる？"
            yield _card(asked, name, sentence, setting, "qa:name")
        return
    trait = _TRAIT_JA.match(text) or _KINDS_JA.match(text)
    if trait:
        found = term(trait.group("term"), "ja")
        if trait.re is _TRAIT_JA:
            asked, answer = f"{found}の{trait.group('what')}は？", trimmed(trait.group("rest"))
        else:
            asked, answer = (
                f"{found}の{trait.group('count')}つの{trait.group('kind')}は？",
                trimmed(trait.group("items")),
            )
        if found and answer_ok(answer) and not deictic(asked):
            yield _card(asked, answer, sentence, setting, "qa:definition")
        return
    match = _TOWA.match(text)
    if match and not _NOT_DEFINING.match(match.group("rest")):
        yield from _defined(match.group("term"), match.group("rest"), sentence, setting, noun_phrase=False)
        return
    match = _NOKOTO.match(text)
    if match:
        yield from _defined(match.group("term"), match.group("rest"), sentence, setting, noun_phrase=False)
        return
    match = _TOPIC.match(text)
    rest = outside_brackets(match.group("rest")) if match else ""
    if _IDEA.search(trimmed(rest)):
        rest = re.sub(r"では(?:なく|ない)", "", rest)  # "…ではなく、…に基づいて判定するという考え": one idea
    if match and "は" not in rest:
        yield from _defined(match.group("term"), match.group("rest"), sentence, setting, noun_phrase=True)


def _defined(
    subject: str, rest: str, sentence: Sentence, setting: Setting, *, noun_phrase: bool
) -> Iterator[Candidate]:
    found = term(subject, "ja")
    answer = trimmed(rest)
    if not found or not answer_ok(answer) or len(answer) < 4 or not _NOUN_END.search(answer):
        return  # "XとはYすることができます": a claim about X, not what X is
    if re.search(r"\s[-–]\s", answer):
        return  # "時差はJST - 16時間": a note's shorthand, not a definition
    if _NOT_WHAT.search(answer) and not re.search(r"[なる]もの$", answer):
        return  # "エラー判定を行わない場合", "大き過ぎても小さ過ぎても問題": a case or a judgement, not what X is
    if noun_phrase:
        if not _CJK_CHAR.search(answer) and len(answer.split()) < 3:
            return  # "PartialEqは`assert_eq!`", "rebootは`systemctl reboot`": a mapping, not a definition
        if answer.endswith("こと") and not head(found, "ja")[0]:
            return  # "Xは…を定義すること": advice about X, not what X is ("Xの目的は…すること" is)
        if re.search(r"(?:でした|だった)[。.]?$", rest):
            return  # "サンプルコードはRubyでした": what happened, not what X is
        bare = outside_brackets(answer)
        if not _NOUN_END.search(answer) or (_CLAUSE_END.search(bare) and not _RELATIVE.search(bare)):
            return  # "XはYに送る": a claim about X, not what X is
        if (re.search(r"[、,]", bare) and not _IDEA.search(answer)) or len(answer) > 60:
            return  # several clauses: not one noun phrase (but "…という考え" is one, however long)
    modifier, _ = head(re.sub(r"[(（][^()（）]*[)）]$", "", found), "ja")  # "主な問題点(main issue)"
    if not modifier:
        yield _card(f"{found}とは？", answer, sentence, setting, "qa:definition")
    elif term(modifier, "ja"):
        yield _card(f"{found}は？", answer, sentence, setting, "qa:definition")


def _chinese(text: str, sentence: Sentence, setting: Setting) -> Iterator[Candidate]:
    text = re.sub(r"^[\s\u200b\ufeff+*]+", "", text)
    also = _ALSO_ZH.match(text)
    if also:
        found, name = term(also.group("term"), "zh"), trimmed(also.group("name"))
        if found and answer_ok(name):
            verb = also.group("verb")
            yield _card(f"{found}{verb}什么？", name, sentence, setting, "qa:name")
        return
    named = _NAMED_ZH.match(text)
    if named:
        desc, name = named.group("desc").strip(), trimmed(named.group("name"))
        if 2 <= len(desc) <= 60 and not deictic(desc) and answer_ok(name) and not re.search(r"[，。；]", desc[-1:]):
            verb = named.group("verb").removeprefix("被")
            yield _card(f"{desc}{verb}什么？", name, sentence, setting, "qa:name")
        return
    split = _copula(text)
    if split is None:
        return
    subject, _, rest = split
    found = term(subject, "zh")
    answer = _first_claim(trimmed(rest))
    if not found or not answer_ok(answer) or len(answer) < 4 or re.search(r"[？?]", rest) or not noun_end(answer):
        return  # "deep parser 是很繁难": a judgement, not what the term is
    modifier, generic = head(found, "zh")
    if not modifier:
        asked = f"{found}是什么？" if "的" in found else f"什么是{found}？"
        yield _card(asked, answer, sentence, setting, "qa:definition")
    elif term(modifier, "zh"):
        yield _card(f"{modifier}的{generic}是什么？", answer, sentence, setting, "qa:definition")


def _first_claim(answer: str) -> str:
    """The definition alone, when a second claim follows it after a comma ("…的主要内容，是…中最重要的模型");
    "" when the clauses after the comma belong to it."""
    bare = outside_brackets(answer)
    comma = re.search(r"[，,；;]", bare)
    if not comma:
        return answer
    first, rest = answer[: comma.start()].strip(), answer[comma.end() :].strip()
    if len(first) >= 4 and re.match(r"^(?:也是|还是|是|并且|并|而且|同时)", rest):
        return first
    return ""


def _copula(text: str) -> tuple[str, str, str] | None:
    """The subject, the copula and the rest of "X是Y", with 是 a word of its own (not 但是, 就是, 还是)."""
    first_clause = re.split(r"[，。；：？！,;]", text, maxsplit=1)[0]
    said = re.search(r"指的是|是指", first_clause)  # jieba cuts "是指用" as "是|指用": found as written
    if said and said.start() > 0:
        return text[: said.start()], said.group(), text[said.end() :]
    position = 0
    segments = language.segments(text, "zh")
    for index, segment in enumerate(segments):
        if segment in _COPULAS or segment == "即":
            subject, rest = text[:position], text[position + len(segment) :]
            before = segments[index - 1] if index else ""
            if before.strip() in ("不", "也", "都", "就", "还", "只", "正", "总", "而", "并", "才", "便", "乃", "又"):
                return None  # "X也是Y", "X不是Y": a claim about X among others, or a denial
            return subject, segment, rest
        if segment in ("，", "。", "；", "：", "？", "！"):
            return None  # the copula must come in the first clause
        position += len(segment)
    return None
