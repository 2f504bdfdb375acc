"""Phrases: what the Japanese and Chinese strategies need to know about a piece of a sentence
before they ask about it: is it a term (a noun phrase that names something, not a clause, not
"this" or "the book"), is it the author's own remark, where may a hidden part start and end, and
what is an answer without its sentence ending ("のことである", "です", "。")."""

from __future__ import annotations

import re
from functools import lru_cache

from ... import language
from ..sentences import wordset

# Words that point at text the card does not show, or at the note itself ("本書", "本章", "上記").
_DEICTIC = re.compile(
    r"これ|それ|あれ|この|その|あの|こう|そう|ここ|そこ|こちら|本書|本章|本稿|本記事|同書|前述|上記|下記|以下|後述|前者|後者"
    r"|^本(?=[A-Za-z\u30a0-\u30ff])"
    r"|今回|次回|前回|最後|最初|自分|私|僕|筆者|著者|彼|彼女"
    r"|这|那|该|此|其|它|他|她|本书|本章|本文|上述|以下|下面|前者|后者|我|你|咱"
)
# A sentence ending that adds nothing to an answer: "のことである", "です", "をいう".
_ENDING = re.compile(
    r"(?:のこと|という意味|の意味)?(?:である|です|だ|でした|だった|をいう|をいいます|を言う|を指す|を指します"
    r"|を意味する|を意味します)?[。.．!！]?$"
)
# Reported speech at a sentence's end ("…とのことです": so the source says): not part of the claim.
HEARSAY = re.compile(
    r"(?:(?:と|ことが|ことを|のが)?(?:され|述べられ|説明され|書かれ|言われ|紹介され|注意され|提案され|指摘され|強調され"
    r"|推奨され|勧められ|定義され)て(?:いる|います|いました|いた|おり)|としています|としている|とあります|とあった"
    r"|とのこと(?:です|でした|だ)?|ということ(?:です|でした|だ)?|だそうです|そうです)(?=[。.]?$)"
)
_CLOSING = re.compile(r"[。.．!！;；]+$")
# Generic heads of a Japanese or Chinese noun phrase: "Xの目的" is asked as "Xの目的は？", never "目的とは？".
GENERIC_HEADS = wordset(
    "目的 理由 原因 結果 結論 特徴 特長 違い 役割 ポイント 問題 課題"
    " メリット デメリット 利点 欠点 本質 意味 定義 方法 手法 仕組み 考え方"
    " 前提 目标 目的 原因 结果 结论 特点 特征 区别 作用 问题 难点 优点"
    " 缺点 优势 劣势 本质 意义 定义 方法 核心 关键 任务 重点 基础 思想"
    " 概念 内容 部分 方面 东西 事情 こと もの 話 点 方 人 問題点 注意点"
    " ポイント"
)
# Particles that mark a clause inside a Japanese phrase (a term has none, outside brackets and code).
_CLAUSE_PARTICLES = re.compile(r"[がをにでへはも]|から|まで|より|ので|けど|ため")
# A label before a point ("Summary 维特比算法是…", "+ Note: …"): not part of the term.
_LABEL = re.compile(
    r"^(?:summary|note|notes|tip|tips|example|tl;?dr|memo|总结|小结|注|备注|メモ|まとめ)\s*[:：]?\s+", re.IGNORECASE
)
# What opens a clause, not a term: "当…时", "如果", "由…", "对于…".
_ZH_CLAUSE_START = re.compile(
    r"^(?:当|如果|若|假如|在|对|对于|关于|因为|由于|虽然|尽管|将|把|被|从|由|为|为了|通过|根据|按照|随着|除了)"
)
_CONNECTIVE = re.compile(
    r"^(?:また|なお|さらに|そして|つまり|ただし|まず|次に|特に|一方|そのため|なので"
    r"|而|但|并且|另外|此外|同时|首先|其次|最后)[、，,]?"
)
_PART_OF_SOURCE = re.compile(
    r"^(?:第?[0-9０-９一二三四五六七八九十百]+\s*(?:章|節|部|回|篇|节|课|講)|(?:chapter|part|section|lecture)\s*\d+"
    r"|[图圖表図]\s*\d+|[A-Za-z]"  # "6章", "图1", a bare type parameter ("S")
    # "第二引数", "２つ目": the second what?
    r"|第[0-9０-９一二三四五六七八九十]+\S{0,4}|[0-9０-９一二三四五六七八九十]+つ目\S{0,4}|次|前者|後者|后者)$",
    re.IGNORECASE,
)
_AS_USED_HERE = re.compile(
    r"^(?:ここでいう|ここでの|本書でいう|本書での|本章でいう|本章での|本文中的|这里的|这里所说的|本文所说的)"
)
_RUN_TOGETHER = re.compile(r"[\u3040-\u30ff\u4e00-\u9fff]\s+[\u3040-\u30ff\u4e00-\u9fff]")
_BRACKETED = re.compile(r"`[^`]*`|\$[^$]*\$|\([^()]*\)|（[^（）]*）|「[^「」]*」|『[^『』]*』|\"[^\"]*\"|“[^”]*”")
MAX_TERM = 24  # characters: a longer subject is a clause, not a term
MAX_ANSWER = 80  # characters: a longer answer is a paragraph to reread, not to recall


def outside_brackets(text: str) -> str:
    """`text` with code, math and bracketed asides blanked out (their words are not the sentence's)."""
    return _BRACKETED.sub(lambda m: "・" * len(m.group()), text)


def remark(text: str) -> bool:
    """Whether a sentence is the author's own remark or hedge rather than what the source says."""
    return language.remark(outside_brackets(text))


def deictic(text: str) -> bool:
    """Whether a phrase points at something the card cannot show ("この方式", "本書", "它")."""
    return bool(_DEICTIC.search(outside_brackets(text)))


def trimmed(answer: str) -> str:
    """An answer without its sentence ending ("…のことである。" -> "…") and outer spaces."""
    answer = answer.strip().strip("、，,:：").strip()
    answer = _CLOSING.sub("", answer)
    return _ENDING.sub("", answer).strip().strip("、，,").strip()


def term(text: str, lang: str, *, strict: bool = True) -> str:
    """`text` as a term, or "" when it is not one: a short noun phrase without a clause, a pointer
    to the note, a sentence mark or an opening connective."""
    text = re.sub(r"^[\s\u200b\ufeff+*・]+", "", text).strip()
    text = _CONNECTIVE.sub("", text)
    text = _LABEL.sub("", text.strip()).strip()
    text = _AS_USED_HERE.sub("", text).strip()  # "ここでいうガイドライン": the term as the source uses it
    glossed = re.sub(r"\s*[(（][^()（）]*[)）]$", "", text)  # "有限状态语法(finite state grammar)"
    size = len(re.sub(r"[A-Za-z][\w.+#'-]*", "xx", glossed))  # an English word weighs two characters
    if not 1 <= size <= MAX_TERM or deictic(text) or remark(text) or text.startswith("本"):
        return ""
    bare = outside_brackets(text)
    if re.search(r"[、，,。；;：:！？!?]", bare) or _RUN_TOGETHER.search(bare):
        return ""  # a clause, or two lines run together ("维特比算法 维特比算法")
    if lang == "ja" and _CLAUSE_PARTICLES.search(re.sub(r"[A-Za-z0-9`_ ]+", "", bare)):
        return ""  # "スキーマを分割すること": a clause, not a term
    if lang == "ja" and (re.search(r"[\u3040-\u309f]$", text) or re.match(r"^[\u3040-\u309f]", text)):
        return ""  # "Toolとして", "ことは", "というような境界": a phrase ends or starts in a particle, a term does not
    if lang == "zh" and (re.search(r"[的了着过地得也都就还只又时]$", text) or _ZH_CLAUSE_START.match(text)):
        return ""
    if strict and lang == "zh" and not noun_end(text):
        return ""  # "语言研究的基本单位一般认为": a clause ending in a verb (a label may be a verbal noun: "错误纠正")
    if (
        not re.search(r"[\w\u3040-\u30ff\u4e00-\u9fff]", text)
        or text.isdigit()
        or _PART_OF_SOURCE.match(glossed.strip("`"))
    ):
        return ""  # "6章とは？": a part of the book, not a term
    return text


def head(term_text: str, lang: str) -> tuple[str, str]:
    """A term split into its modifier and a generic head ("Eisner算法的本质" -> ("Eisner算法", "本质"),
    "batch size 本质" -> ("batch size", "本质")), or ("", term) when its head is not generic."""
    joiner = "的" if lang == "zh" else "の"
    if term_text in GENERIC_HEADS:
        return "?", term_text  # "目的とは？": the purpose of what?
    for generic in sorted(GENERIC_HEADS, key=len, reverse=True):
        if term_text.endswith(generic) and len(term_text) > len(generic):
            modifier = term_text[: -len(generic)]
            if modifier.endswith(joiner):
                return modifier[: -len(joiner)].strip(), generic
            if len(generic) == 1:
                continue  # "原点", "管理人": a compound word, not a generic head
            if modifier.endswith(" ") or (lang == "zh" and re.search(r"[A-Za-z0-9]$", modifier)):
                return modifier.strip(), generic
            return "?", generic  # "もっとも弱い理由": a generic head with a modifier that names nothing
    return "", term_text


_ZH_NOUN = ("n", "l", "eng", "j", "vn", "i", "x", "nz", "nr", "ns", "nt", "nrt", "an", "k", "g")


def noun_end(text: str) -> bool:
    """Whether a Chinese phrase ends in a noun (or a bracket or a Latin word), by jieba's word classes."""
    import rjieba  # here: only Chinese text needs it

    text = text.rstrip()
    if re.search(r"[)）」』`A-Za-z0-9]$", text):
        return True
    tagged = [(w, t) for w, t in rjieba.tag(text) if w.strip()]
    return bool(tagged) and tagged[-1][1].startswith(_ZH_NOUN)


# In an answer, only what points outside the card: "this", "the former", "I" ("其", "その" name the subject).
_POINTING = re.compile(
    # (a Chinese "这些状态", "用它" after the answer's first words points back inside the answer itself)
    r"これ|それ|あれ|上記|前述|以下|前者|後者|自分|私|僕|^[这那它他她]|[他她](?:们|是|说|在|的|认为|发明|提出)|上述|以下|下面"
    r"|前者|后者|我(?!们)|你"
)


def answer_ok(answer: str) -> bool:
    """An answer to recall: long enough to say something, short enough to recall, no pointer or remark."""
    bare = outside_brackets(answer)
    if re.search(r"(?:^|\s)\*\s", answer) or answer.startswith(("*", "-", "+")):
        return False  # list items run into a line: not one answer
    if _RUN_TOGETHER.search(re.sub(r"[)）](?=\s)", "字", bare)):
        return False  # "…（Ambiguation） 这是…": two lines of a note run together
    return 2 <= len(answer) <= MAX_ANSWER and not _POINTING.search(bare) and not remark(bare) and "？" not in answer


@lru_cache(maxsize=4096)
def boundaries(text: str, lang: str) -> frozenset[int]:
    """Offsets where a hidden part may start or end: the segmenter's word or phrase boundaries,
    and, in Japanese, between a phrase's content and the particle or copula that ends it
    ("情報|を", "優勢|だ")."""
    found = set(language.word_boundaries(text, lang))
    if lang == "ja":
        position = 0
        for segment in language.segments(text, lang):
            match = re.search(r"(?<=[^\u3040-\u309f])[\u3040-\u309f]+[。、！？!?]*$", segment)
            if match:
                found.add(position + match.start())
            position += len(segment)
    return frozenset(found)


def whole(text: str, start: int, end: int, lang: str) -> bool:
    """Whether `text[start:end]` starts and ends at boundaries (never inside a word)."""
    cuts = boundaries(text, lang)
    return start in cuts and end in cuts


# Labels that say who or where, not what: a talk's speaker, its slides, a date.
_NOT_A_LABEL = re.compile(
    r"^(?:スピーカー|発表者|登壇者|講演者|資料|スライド|動画|日時|日程|場所|会場|URL|リンク|参考|著者|作者|訳者|出版社|主讲|讲者|演讲者"
    r"|補足|備考|注|注意|余談|感想|所感|メモ|补充|说明"
    r"|时间|地点|链接|参考|作者|译者|出版社|备注|注意|例|例えば|例子|比如)$",
    re.IGNORECASE,
)


def label(before: str, text: str, rest: str, lang: str) -> bool:
    """Whether `text` (`before` as written, with its separator) is a term labelling the description
    `rest` ("揮発性依存："), not the first line of a paragraph broken after a sentence, nor a cut inside
    code (`std::sync`)."""
    if before.count("`") % 2 or rest.lstrip().startswith((":", "：", "`")):
        return False
    if len(_CJK_CHARS.findall(text)) <= 2 and not re.search(r"[A-Za-z]", text):
        return False  # "洗：动词（wash）", "澡盆：合成词": a word given as an example of its kind, not a term defined
    return bool(term(text, lang, strict=False)) and not _NOT_A_LABEL.match(text.strip())


_LISTED = re.compile(
    r"\s[-–]\s|->|→|=>|\.\.\.|…|(?<=[\u4e00-\u9fff])-(?=[\u4e00-\u9fff\d])|^(?:示例|例如|比如|例えば|例)[:：]?"
)
_CJK_CHARS = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff]")


def description(label_text: str, text: str) -> bool:
    """Whether `text` says what the label `label_text` is, in Japanese or Chinese: one answer (not a
    list flattened with dashes or arrows, an example, a formula), in words, not a claim that names
    the label's head inside it ("…，那么一定能保证得到全局最优解" under "…的全局最优解")."""
    if not answer_ok(text.rstrip("。.")) or _LISTED.search(text) or len(_CJK_CHARS.findall(text)) < 2:
        return False
    if re.fullmatch(r"[A-Za-z][a-z]+", label_text) and language.zipf(label_text) >= 4.0:
        return False  # "more:", "note:": an everyday word, not a term
    if text.startswith(label_text):
        return True  # the label restated: "拼音转汉字的算法和…相同，都是动态规划"
    named = label_text.rpartition("的")[2] if "的" in label_text else label_text
    return named not in text  # "…，那么一定能保证得到全局最优解": a claim that names the label's head
