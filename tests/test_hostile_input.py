"""Issue 15, crashes, hangs and wrong output: no note can crash a build, hang it or make a package
Anki refuses; a bad card or value is left out with a warning naming its file and line, and the
rest builds. Anki itself (the `anki` package) judges every package.
"""

from __future__ import annotations

import html as htmllib
import queue
import re
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from click.testing import CliRunner

from flashgen import watch as watch_module
from flashgen.cli import main
from flashgen.config import load_options
from flashgen.errors import FlashgenError
from flashgen.report import Report

from .conftest import Anki, Builder, write_notes

GOOD = "# Good\n\n## Key takeaways\n\n- Photosynthesis converts light into chemical energy in plants.\n"
GOOD_TEXT = "Photosynthesis"


def _plain(html: str) -> str:
    html = re.sub(r"<style>.*?</style>", "", html, flags=re.DOTALL)
    return re.sub(r"\s+", " ", htmllib.unescape(re.sub(r"<[^>]+>", " ", html))).replace("\u2060", "").strip()


def _imported(anki: Anki, report: Report) -> list[str]:
    """Import the build's package (Anki raises if it refuses it); every note's fields, as one text each."""
    assert report.package is not None and report.package.exists()
    anki.import_package(report.package)
    return ["\x1f".join(n.fields) for n in anki.notes()]


def _takeaway(text: str, front: str = "") -> str:
    return f"{front}# A note\n\n## Key takeaways\n\n- {text}\n"


# --- 1. what reaches a field is what Anki accepts -------------------------------------------------


@pytest.mark.parametrize("number", [0, 65537, 10**12])
def test_a_cloze_number_outside_ankis_range_leaves_out_only_that_card(
    tmp_path: Path, run_build: Builder, anki: Anki, number: int
) -> None:
    vault = write_notes(
        tmp_path / "notes",
        {"bad.md": _takeaway(f"The {{{{c{number}::mitochondria}}}} is the powerhouse of the cell."), "good.md": GOOD},
    )
    report = run_build(vault)
    assert not report.failures
    assert any(
        w.path.name == "bad.md" and w.line == 5 and f"c{number}" in w.message and "range" in w.message
        for w in report.warnings
    ), report.warnings
    fields = _imported(anki, report)  # the whole package imports
    assert any(GOOD_TEXT in f for f in fields)
    assert not any(f"c{number}::" in f for f in fields)

    # Removing the takeaway leaves a package Anki takes, without --prune.
    (vault / "bad.md").write_text(_takeaway("The nucleus holds the genetic material of the cell."))
    report = run_build(vault)
    assert report.package is not None
    anki.import_package(report.package)


def test_the_field_separator_anywhere_reaches_no_field(tmp_path: Path, run_build: Builder, anki: Anki) -> None:
    """U+001F (and any other control character, and a lone surrogate) in text, file names and
    front matter values: Anki would read U+001F as one field more and refuse the package."""
    front = (
        '---\ntitle: "Cells\\x1fand more"\nauthor: "A\\x1fB\\x00C"\ntags: ["t\\x1fag"]\n'
        'categories: ["bio\\x1flogy"]\ntype: "pod\\udc80cast"\nexturl: "https://x.org/\\x1f"\n---\n'
    )
    vault = write_notes(
        tmp_path / "notes",
        {
            "text.md": _takeaway("The mito\x1fchondria is the **power\x1fhouse** of the cell."),
            "front.md": _takeaway("The ribosome builds proteins from amino acids.", front),
            "na\x1fme.md": _takeaway("The nucleus holds the genetic material of the cell."),
            "good.md": GOOD,
        },
    )
    report = run_build(vault)
    assert not report.failures
    fields = _imported(anki, report)
    texts = {_plain(f) for f in fields}
    for expected in ("mitochondria", "ribosome", "nucleus", GOOD_TEXT):
        assert any(expected in t for t in texts), expected
    for note in anki.notes():
        assert len(note.fields) == len(note.note_type()["flds"])
        for value in [*note.fields, *note.tags, anki.deck_of(note)]:
            assert not re.search(r"[\x00-\x08\x0b\x0c\x0e-\x1f]", value), value


# --- 2. front matter that Python cannot convert ---------------------------------------------------


def test_a_huge_integer_in_front_matter_is_a_located_problem_and_the_rest_builds(
    tmp_path: Path, run_build: Builder, anki: Anki
) -> None:
    yaml_hex = "---\nyear: 0x" + "F" * 4000 + "\nauthor: Ann\n---\n"
    yaml_key = "---\n" + "9" * 5000 + ": x\n0x" + "F" * 4000 + ": y\nauthor: Ann\n---\n"
    toml = "+++\nauthor = 'Ann'\nyear = " + "9" * 5000 + "\n+++\n"
    vault = write_notes(
        tmp_path / "notes",
        {
            "hex.md": _takeaway("The ribosome builds proteins from amino acids.", yaml_hex),
            "key.md": _takeaway("The nucleus holds the genetic material of the cell.", yaml_key),
            "toml.md": _takeaway("The vacuole stores water in plant cells.", toml),
            "good.md": GOOD,
        },
    )
    report = run_build(vault)
    failures = {p.path.name: p for p in report.failures}
    # TOML cannot be read at all: the note fails at the number's line; YAML builds without the value.
    assert set(failures) <= {"toml.md", "key.md"}
    assert failures["toml.md"].line == 3 and "too long" in failures["toml.md"].message
    assert any(w.path.name == "hex.md" and w.line == 2 and "'year'" in w.message for w in report.warnings)
    texts = " ".join(_plain(f) for f in _imported(anki, report))
    assert "ribosome" in texts and GOOD_TEXT in texts


def test_watch_survives_a_note_that_crashed_the_build(tmp_path: Path) -> None:
    vault = write_notes(tmp_path / "vault", {"a.md": "- Owls hunt at **night**.\n"})
    outcomes: queue.Queue[Report | FlashgenError] = queue.Queue()
    stop, ready = threading.Event(), threading.Event()
    thread = threading.Thread(
        target=watch_module.watch,
        args=(lambda: load_options([vault], output=tmp_path / "out"), outcomes.put),
        kwargs={"stop": stop, "ready": ready.set},
    )
    thread.start()
    try:
        assert isinstance(outcomes.get(timeout=20), Report)
        assert ready.wait(20)
        (vault / "b.md").write_text("+++\nyear = " + "9" * 5000 + "\n+++\n- Sloths sleep **15 hours**.\n")
        second = outcomes.get(timeout=20)
        assert isinstance(second, Report) and [p.path.name for p in second.failures] == ["b.md"]
        (vault / "c.md").write_text("- Bees see **ultraviolet** light.\n")
        third = outcomes.get(timeout=20)
        assert isinstance(third, Report) and third.plan["added"] >= 1
    finally:
        stop.set()
        thread.join(timeout=20)
    assert not thread.is_alive()


def test_watch_goes_on_after_any_failing_rebuild(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Whatever a rebuild raises (a bug not yet found), the watcher reports it and keeps watching."""
    real_build = watch_module.build
    calls = {"n": 0}

    def flaky(options: object) -> Report:
        calls["n"] += 1
        if calls["n"] == 2:
            raise ValueError("an unforeseen failure")
        return real_build(options)  # type: ignore[arg-type]

    monkeypatch.setattr(watch_module, "build", flaky)
    vault = write_notes(tmp_path / "vault", {"a.md": "- Owls hunt at **night**.\n"})
    outcomes: queue.Queue[Report | FlashgenError] = queue.Queue()
    stop = threading.Event()
    thread = threading.Thread(
        target=watch_module.watch,
        args=(lambda: load_options([vault], output=tmp_path / "out"), outcomes.put),
        kwargs={"stop": stop},
    )
    thread.start()
    try:
        assert isinstance(outcomes.get(timeout=20), Report)
        failed = outcomes.get(timeout=20)  # the watcher's first look is the failing build
        assert isinstance(failed, FlashgenError) and "unforeseen" in str(failed)
        (vault / "b.md").write_text("- Bees see **ultraviolet** light.\n")
        assert isinstance(outcomes.get(timeout=20), Report)
    finally:
        stop.set()
        thread.join(timeout=20)
    assert not thread.is_alive()


# --- 4. a full disk or a file-size limit ----------------------------------------------------------

_LIMITED_BUILD = """
import resource, signal, sys
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # the write fails with EFBIG instead of killing us
limit = int(sys.argv[1])
resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
from flashgen.cli import main
main(["build", sys.argv[2], "-o", sys.argv[3]])
"""


@pytest.mark.skipif(sys.platform == "win32", reason="RLIMIT_FSIZE is POSIX")
@pytest.mark.parametrize("limit", [4_000, 60_000, 200_000])
def test_a_file_size_limit_is_a_clear_error_and_the_previous_deck_stays(
    tmp_path: Path, run_build: Builder, anki: Anki, limit: int
) -> None:
    notes = {f"n{i}.md": _takeaway(f"Fact {i} says that **enzymes** speed up reaction number {i}.") for i in range(40)}
    vault = write_notes(tmp_path / "notes", notes)
    out = tmp_path / "decks"
    first = run_build(vault)
    assert first.package is not None
    before = first.package.read_bytes()
    for i in range(40):  # every note changes, and grows: the next package is bigger
        (vault / f"n{i}.md").write_text(
            # varied text, so that the package grows past every limit even compressed
            _takeaway(
                " ".join(
                    f"Catalyst {i * 7919 + j * 104729:x} lowers the **activation energy** by {j}." for j in range(120)
                )
            )
        )
    done = subprocess.run(
        [sys.executable, "-c", _LIMITED_BUILD, str(limit), str(vault), str(out)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert "Traceback" not in done.stderr, done.stderr
    assert done.returncode == 2, (done.stdout, done.stderr)  # a user error, not a crash (1)
    errors = [line for line in done.stderr.splitlines() if line.startswith("error:")]
    assert errors, done.stderr
    assert re.search(r"cannot write \S+: (disk full|file too large)", errors[0]), errors
    assert first.package.read_bytes() == before  # the previous deck is intact
    anki.import_package(first.package)
    assert any("enzymes" in " ".join(n.fields) for n in anki.notes())


# --- 5, 6, 7. cloze targets, separators inside math, the author's clozes --------------------------


def test_a_cloze_of_text_holding_double_colons_or_braces_shows_the_whole_text(
    tmp_path: Path, run_build: Builder, anki: Anki
) -> None:
    vault = write_notes(
        tmp_path / "notes",
        {
            "a.md": """\
            # C++ and sets

            ## Key takeaways

            - The **std::vector** is a dynamic array in C++.
            - A set written **{x | {x > 0}} in maths** is positive.
            - The three items are:
              - std::one
              - beta}}
              - gamma
            """
        },
    )
    report = run_build(vault)
    assert not report.failures
    _imported(anki, report)
    clozes = [n for n in anki.notes() if n.note_type()["name"] == "flashgen Cloze"]
    assert clozes
    shown = []
    for note in clozes:
        for card in note.cards():
            answer = _plain(card.answer())
            question = _plain(card.question())
            assert "[...]" in question, question
            shown.append(answer)
    text = " ".join(shown)
    for whole in ("std::vector", "{x | {x > 0}}", "std::one", "beta}}"):
        assert whole in text, (whole, shown)


def test_a_colon_inside_math_or_code_is_no_separator(tmp_path: Path, run_build: Builder, anki: Anki) -> None:
    vault = write_notes(
        tmp_path / "notes",
        {
            "a.md": r"""
            # Sets

            ## Key takeaways

            - The set \(\{x : x > 0\}\) is the positive reals.
            - The type `map :: (a -> b) -> [a] -> [b]` applies a function to every element.
            - See [a: b - c](https://example.org/a:b) for the details of the proof.
            - What are the positive reals? :: the set of x greater than 0
            """
        },
    )
    report = run_build(vault)
    _imported(anki, report)
    questions = [_plain(n["Question"]) for n in anki.notes() if n.note_type()["name"] == "flashgen Q/A"]
    assert questions
    for question in questions:
        assert "({x" not in question and "What is meant by “The set" not in question, question
        assert question not in ("The type map", "The type `map"), question
        assert "“See [a”" not in question and "“See a”" not in question, question


def test_the_authors_own_cloze_shows_no_markup_on_a_question_card(
    tmp_path: Path, run_build: Builder, anki: Anki
) -> None:
    vault = write_notes(
        tmp_path / "notes",
        {
            "a.md": _takeaway("The {{c1::mitochondria}} is the powerhouse of the {{c2::cell::organism part}}."),
            "b.md": _takeaway("Write `{{c1::text}}` to make a cloze deletion in Anki."),
        },
    )
    report = run_build(vault)
    _imported(anki, report)
    qa = [n for n in anki.notes() if n.note_type()["name"] == "flashgen Q/A"]
    cloze = [n for n in anki.notes() if n.note_type()["name"] == "flashgen Cloze"]
    assert cloze  # the author's cloze is the takeaway's card; any question card must show no markup
    for note in qa:
        for field in ("Question", "Answer", "Extra"):
            if "Write" in note["Extra"]:
                continue  # the markup is the subject there, in code
            assert "{{c" not in note[field], (field, note[field])
    # the author's cloze is that cloze note alone (issue 16): no question card is generated from it
    assert not any("mitochondria" in n["Question"] + n["Answer"] + n["Extra"] for n in qa)
    assert any("{{c1::mitochondria}}" in n["Text"] for n in cloze)


# --- 8. reports and images -----------------------------------------------------------------------


def test_every_report_is_one_line_whatever_the_file_name(tmp_path: Path) -> None:
    vault = write_notes(
        tmp_path / "notes",
        {
            "bad\nname.md": "---\ntitle: [\n---\n- broken\n",
            "img\u2028x.md": _takeaway("The cell ![a diagram](gone.png) shows the **nucleus** in the middle."),
            "good.md": GOOD,
        },
    )
    result = CliRunner().invoke(main, ["build", str(vault), "-o", str(tmp_path / "decks")])
    assert result.exit_code == 1, result.output
    lines = [line for line in result.output.splitlines() if line.startswith(("error:", "warning:"))]
    assert len(lines) == 2, result.output
    for line in lines:
        assert re.match(r"(error|warning): \S.*:\d+: \S", line), line
    assert any("bad\\nname.md:2:" in line for line in lines), lines
    assert any("img\\u2028x.md:5:" in line for line in lines), lines


def test_an_output_error_is_one_line_whatever_the_path(tmp_path: Path) -> None:
    vault = write_notes(tmp_path / "notes", {"good.md": GOOD})
    blocker = tmp_path / "a file\nnamed oddly"
    blocker.write_text("not a folder")
    result = CliRunner().invoke(main, ["build", str(vault), "-o", str(blocker / "decks")])
    assert result.exit_code != 0
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: ") and "a file\\nnamed oddly" in lines[0], lines


def test_a_missing_image_is_warned_once_and_shown_as_its_alt_text(
    tmp_path: Path, run_build: Builder, anki: Anki
) -> None:
    vault = write_notes(
        tmp_path / "notes",
        {
            "a.md": """\
            # Cells

            ## Key takeaways

            - The **nucleus** ![a diagram of the cell](missing.png) holds the genetic material of the cell.
            - The **ribosome** ![a diagram of the cell](missing.png) builds proteins from amino acids.
            - The **vacuole** ![](../../outside.png) stores water in plant cells.
            """
        },
    )
    report = run_build(vault)
    missing = [w for w in report.warnings if "missing.png" in w.message]
    outside = [w for w in report.warnings if "outside.png" in w.message]
    assert len(missing) == 1 and missing[0].line == 5, report.warnings
    assert len(outside) == 1, report.warnings
    _imported(anki, report)
    fields = [f for n in anki.notes() for f in n.fields]
    assert not any(re.search(r"<img(?![^>]*\ssrc=)", f) for f in fields), fields
    assert any("a diagram of the cell" in _plain(f) for f in fields)


# --- 9. a front matter field of the wrong type ----------------------------------------------------


@pytest.mark.parametrize(
    ("front", "key", "line"),
    [
        ("---\ncategories:\n  science: physics\n---\n", "categories", 2),
        ("---\ntitle: Cells\ntags:\n  - [a, b]\n---\n", "tags", 3),
        ("---\ntitle:\n  en: Cells\n---\n", "title", 2),
        ("---\nauthor: {name: Ann}\n---\n", "author", 2),
        ("+++\ntitle = 'Cells'\n[categories]\nmain = 'a'\n+++\n", "categories", 3),
        ("+++\nid = {x = 1}\n+++\n", "id", 2),
    ],
)
def test_a_front_matter_field_of_the_wrong_type_is_a_warning_and_the_note_builds(
    tmp_path: Path, run_build: Builder, anki: Anki, front: str, key: str, line: int
) -> None:
    vault = write_notes(
        tmp_path / "notes", {"a.md": _takeaway("The ribosome builds proteins from amino acids.", front)}
    )
    report = run_build(vault)
    assert not report.failures, report.failures
    assert [(w.path.name, w.line) for w in report.warnings if f"'{key}'" in w.message] == [("a.md", line)]
    assert any("ribosome" in _plain(f) for f in _imported(anki, report))
