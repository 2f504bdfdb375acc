"""Real notes: every note of the shared corpus reads, and yields the takeaways a reader would pick.

The corpus (../shared/corpus, described in its SOURCES.md) is third-party text: it is read in
place and never copied into this project. The tests are skipped where it is absent.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from flashgen.errors import SourceError
from flashgen.notes import NoteFile, SourceNote, discover, read_note
from flashgen.takeaways import Takeaway, extract

CORPUS = Path(__file__).resolve().parents[2] / "shared" / "corpus"

pytestmark = pytest.mark.skipif(not CORPUS.is_dir(), reason="../shared/corpus is not here")

Harvest = dict[str, tuple[SourceNote, tuple[Takeaway, ...]]]


@pytest.fixture(scope="module")
def harvest() -> Harvest:
    """Every corpus note and its takeaways; anything but a SourceError fails the test run."""
    found: Harvest = {}
    for file in discover([CORPUS]):
        if file.rel == "SOURCES.md":
            continue
        try:
            note = read_note(file)
            found[file.rel] = (note, extract(note))
        except SourceError as exc:  # pragma: no cover - the corpus is valid; shown if it stops being
            pytest.fail(f"{exc}")
    return found


def _walk(takeaways: tuple[Takeaway, ...]) -> list[Takeaway]:
    return [t for top in takeaways for t in (top, *_walk(top.children))]


def _file_lines(path: Path) -> list[str]:
    return re.split(r"\r\n|\r|\n", path.read_bytes().decode("utf-8-sig"))


def _takeaways(harvest: Harvest, rel: str) -> tuple[Takeaway, ...]:
    return harvest[rel][1]


def test_every_note_reads(harvest: Harvest) -> None:
    folders = {rel.split("/")[0] for rel in harvest}
    expected = {entry.name for entry in CORPUS.iterdir() if entry.is_dir()}
    assert folders == expected  # every folder of the corpus has notes that read
    assert len(harvest) >= 290


def test_a_reasonable_number_of_takeaways(harvest: Harvest) -> None:
    per_folder: dict[str, list[int]] = {}
    for rel, (_, takeaways) in harvest.items():
        per_folder.setdefault(rel.split("/")[0], []).append(len(takeaways))
    total = sum(sum(counts) for counts in per_folder.values())
    # (the Japanese blog's posts are long: each paragraph of a chapter's section is a takeaway, about 2,700)
    assert 1500 < total < 9000, per_folder
    # Paper summaries are lists from top to bottom; book reports all have "## Key takeaways".
    assert all(per_folder["papers-I-read"]), "every paper summary yields takeaways"
    reports = [len(harvest[rel][1]) for rel in harvest if rel.startswith(("mtlynch/book", "mtlynch/retro"))]
    assert len(reports) == 31 and all(reports)
    # Most blog posts are prose; a good share still have a takeaway list.
    assert sum(1 for n in per_folder["leonericsson"] if n) > 50


def test_every_line_is_where_the_takeaway_starts_in_the_file(harvest: Harvest) -> None:
    for rel, (note, takeaways) in harvest.items():
        lines = _file_lines(note.path)
        for takeaway in _walk(takeaways):
            line = " ".join(lines[takeaway.line - 1].split())
            # a list item, a point on a line of its own, or the line a paragraph's sentence starts on
            first = " ".join(takeaway.text.split())[:12]
            # (a point joined from a line ending in a colon and the next starts with the first)
            assert first in line or first.split()[0] in line or first[:5] in line, f"{takeaway.location}: {first!r}"
            assert rel in takeaway.location


def test_no_shortcodes_or_comments_in_takeaways(harvest: Harvest) -> None:
    for _, takeaways in harvest.values():
        for takeaway in _walk(takeaways):
            outside_code = re.sub(r"(`+).+?\1", "", takeaway.text, flags=re.S)
            assert not re.search(r"<!--|\{\{<|\{\{%|\{\{\s*\w+\(", outside_code), takeaway.location


def test_the_reference_post_yields_its_six_bullets(harvest: Harvest) -> None:
    found = _takeaways(harvest, "leonericsson/2022-11-20-andrej.md")
    assert [t.line for t in found] == [12, 13, 14, 15, 16, 17]
    assert found[0].text.startswith("AI areas such as Computer Vision")
    assert found[-1].text.startswith("Datasets need to be expansive, clean and diverse.")
    assert all(not t.children for t in found)


def test_other_lead_ins(harvest: Harvest) -> None:
    assert len(_takeaways(harvest, "leonericsson/2022-11-06-oriol.md")) == 3
    var = _takeaways(harvest, "leonericsson/2024-12-29-var.md")
    assert [t.line for t in var] == [54, 55, 56, 57]  # after "a couple of takeaways ...:"


def test_book_reports_take_the_key_takeaways_section(harvest: Harvest) -> None:
    reports = sorted(rel for rel in harvest if rel.startswith("mtlynch/book-reports/"))
    assert len(reports) == 21
    for rel in reports:
        note, takeaways = harvest[rel]
        lines = _file_lines(note.path)
        start = next(i for i, line in enumerate(lines) if line.lower() == "## key takeaways") + 1
        # nonviolent-communication puts its topics at "##" right after "## Key takeaways": they are its scope
        divider = next(line for line in lines[start:] if line.strip()).startswith("## ")
        level_end = r"^# " if divider else r"^##? "
        end = next((i + 1 for i in range(start, len(lines)) if re.match(level_end, lines[i])), len(lines) + 1)
        assert takeaways, rel
        assert all(start < t.line < end for t in takeaways), rel


def test_book_report_nesting_and_quotes(harvest: Harvest) -> None:
    found = _takeaways(harvest, "mtlynch/book-reports/the-mom-test/index.md")
    mom = next(t for t in found if t.text == "**The Mom Test**")
    assert mom.section == "The Mom Test elicits honest feedback"
    assert [c.line for c in mom.children] == [50, 51, 52]
    assert mom.children[2].text.startswith("Rules for passing The Mom Test:\n\n> 1. Talk about their life")
    assert not any("What I liked" in t.section or "disliked" in t.section for t in found)


def test_retrospectives_take_highlights_and_lessons(harvest: Harvest) -> None:
    for rel in (r for r in harvest if r.startswith("mtlynch/retrospectives/")):
        sections = {t.section for t in _takeaways(harvest, rel)}
        assert "Highlights" in sections, rel


@pytest.mark.parametrize("rel", ["calculus.md", "logical fallacies.md", "depression.md", "digital gardens.md"])
def test_maps_of_links_yield_few_takeaways(harvest: Harvest, rel: str) -> None:
    found = _takeaways(harvest, f"lesleylai-digital-garden/Concepts/{rel}")
    # what such a page says in its own words may be takeaways; its lists of links are not
    assert not any(t.text.lstrip().startswith(("[", "!")) for t in _walk(found))
    assert not any(re.fullmatch(r"\W*\[\[[^\]]*\]\]\W*", t.text) for t in _walk(found))


def test_link_only_items_are_dropped_in_fallback(harvest: Harvest) -> None:
    for rel, (_, takeaways) in harvest.items():
        if rel.startswith("papers-I-read/"):
            assert not any(t.text.startswith("[Link to the paper]") for t in takeaways), rel


def test_obsidian_notes_with_mixed_line_endings(harvest: Harvest) -> None:
    found = _takeaways(harvest, "lesleylai-digital-garden/Concepts/halfedge data structure.md")
    assert found and all("\r" not in t.text for t in _walk(found))
    spaced = _takeaways(harvest, "lesleylai-digital-garden/Reference/'Overview of Spaced Repetition' note.md")
    assert {t.section for t in spaced} == {"Main point", "Highlights"}


def test_japanese_summaries(harvest: Harvest) -> None:
    found = _takeaways(harvest, "ymgyt-blog/graphql-specification-2021/index.md")
    assert {"まとめ", "Design principles まとめ"} <= {t.section for t in found}
    learned = _takeaways(harvest, "ymgyt-blog/fundamentals-of-software-architecture/index.md")
    assert next(t for t in learned if t.section == "学んだこと").text == "Everything is a trade-off"
    # "## 参考" (references) is not knowledge; the paragraphs under "## まとめ" are takeaways
    compiler = _takeaways(harvest, "ymgyt-blog/compilerbook_with_rust_1/index.md")
    assert "まとめ" in {t.section for t in compiler} and "参考" not in {t.section for t in compiler}


def test_japanese_notes_keep_their_knowledge_in_each_chapter(harvest: Harvest) -> None:
    """A Japanese or Chinese note's まとめ holds mostly the author's impressions; its knowledge is in the
    paragraphs of each chapter's section, which are takeaways too (not the author's remarks)."""
    found = _takeaways(harvest, "ymgyt-blog/the_art_of_webassembly_jp/index.md")
    assert any(t.section == "そもそもWASMとは" and "スタックマシン用の仮想命令セット" in t.text for t in found)
    again = _takeaways(harvest, "ymgyt-blog/again/index.md")
    assert not any("参考になりました" in t.text or "読みやすかった" in t.text for t in again)
    english = _takeaways(harvest, "leonericsson/2022-11-20-andrej.md")
    assert len(english) == 6  # an English note with a marked list: only that list


def test_ml_topics_named_learning_are_not_markers(harvest: Harvest) -> None:
    # "Reinforcement Learning" or "Lifelong Learning" as a heading is a topic, not "learnings".
    found = _takeaways(
        harvest, "papers-I-read/2019-03-12-Model Primitive Hierarchical Lifelong Reinforcement Learning.md"
    )
    assert len({t.section for t in found}) > 2


@pytest.mark.parametrize(
    ("rel", "title", "body_line"),
    [
        # a double-quoted title wrapped onto a second line
        (
            "leonericsson/2023-06-09-xlnet.md",
            "XLNet: Generalized Autoregressive Pretraining for Language Understanding",
            11,
        ),
        # the body opens with another `---`, a horizontal rule
        ("leonericsson/2024-04-09-kcscalinglaws.md", "Knowledge Capacity Scaling Laws", 11),
        # escaped quotes in a TOML string
        (
            "ymgyt-blog/helloworld-book/index.md",
            '📕 ハロー"Hello, World" OSと標準ライブラリのシゴトとしくみを読んだ感想',
            14,
        ),
        # an emoji and two spaces
        ("ymgyt-blog/rustconf-2019/index.md", "🛩 RustConf 2019にいってきました", 10),
        # a single-quoted title with a doubled '' escape
        (
            "mtlynch/notes/marohn-housing-trap/index.md",
            'Takeaways from Charles Marohn\'s "Escaping the Housing Trap"',
            6,
        ),
        # non-ASCII in an unquoted scalar
        (
            "papers-I-read/2018-10-11-Poincare Embeddings for Learning Hierarchical Representations.md",
            "Poincaré Embeddings for Learning Hierarchical Representations",
            9,
        ),
    ],
)
def test_front_matter_quirks(rel: str, title: str, body_line: int) -> None:
    note = read_note(NoteFile(CORPUS / rel, CORPUS))
    assert (note.title, note.body_line) == (title, body_line)
    assert _file_lines(note.path)[body_line - 1] == note.body.split("\n")[0]


def test_front_matter_values(harvest: Harvest) -> None:
    jagged = harvest["leonericsson/2023-09-10-jaggedfrontier.md"][0]
    assert jagged.categories == () and jagged.author == "Dell'Acqua"
    vqa = harvest["papers-I-read/2017-04-27-VQA Visual Question Answering.md"][0]
    assert {"2015", "ICCV 2015", "AI"} <= set(vqa.tags)
    spaced = harvest["lesleylai-digital-garden/Reference/'Overview of Spaced Repetition' note.md"][0]
    assert "#memory/spaced_repetition" in spaced.tags and spaced.author == "Fernando Borretti"
    zola = harvest["ymgyt-blog/kubernetes-meetup-tokyo-23/index.md"][0]
    assert zola.tags == ("cncf", "event") and zola.year == "2019"


def test_every_note_with_knowledge_makes_cards(capsys: pytest.CaptureFixture[str]) -> None:
    """Per folder, the share of notes that make at least one card, and each note that makes none
    with its reason (printed: run with -s to see it). Only drafts, index pages and pages of links
    or tasks may make none, and each such note says why."""
    from flashgen.config import Options
    from flashgen.harvest import harvest_note

    options = Options(paths=(CORPUS,))
    per_folder: dict[str, list[tuple[str, int, str]]] = {}
    for file in discover([CORPUS]):
        if file.rel == "SOURCES.md":
            continue
        result = harvest_note(file, options)
        assert result.failure is None, result.failure
        per_folder.setdefault(file.rel.split("/")[0], []).append((file.rel, len(result.cards), result.silence))
    report = []
    for folder, rows in sorted(per_folder.items()):
        made = sum(1 for _, cards, _ in rows if cards)
        report.append(f"{folder}: {made}/{len(rows)} notes make cards ({made / len(rows):.0%})")
        report += [f"    {rel}: {reason}" for rel, cards, reason in rows if not cards]
    with capsys.disabled():
        print("\n" + "\n".join(report))
    silent = [(rel, reason) for rows in per_folder.values() for rel, cards, reason in rows if not cards]
    assert all(reason for _, reason in silent), "a note that makes no card always says why"
    total = sum(len(rows) for rows in per_folder.values())
    # 138 of 431 notes (32%) made no card before notes of every shape were read (issue 16), 12 after
    # with the generator of that time, which made a card of every takeaway. Issue 17 makes no card
    # rather than a poor one (precision over recall): many more notes now make none, each with why.
    # 160 made none when the author's bold skipped the checker; 176 once it did not (the 20 notes lost
    # had only cards such as "What does Cory use?", "[...]harles Goes Dancing", "What is Tanh? -> the
    # best performing activation function"; 4 notes gained label cards).
    # Strategies for more shapes (a term and its description, advice, a claim and the reason after
    # it, relations; the bold-term definitions of list notes) took it from 166 to 151 when they
    # landed; the stricter checker that followed leaves 160.
    assert len(silent) <= total * 0.38, silent
    reasons = dict(silent)
    assert reasons["alexwendland-public-note/notes/bloom_filters.md"].startswith("is empty")  # a draft
    assert "index of other notes" in reasons["florian-reading-notes/books/06_Secrets_of_Sand_Hill_Road/README.md"]
