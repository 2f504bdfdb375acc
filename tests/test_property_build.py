"""Issue 15, property: whatever a notes folder holds (any Unicode, control characters, front matter
values of any type and size, markup fragments, odd file names), a build either writes a package
that a real Anki collection imports, or names each bad note with its file and line; it never
ends in a traceback. The whole build runs, and Anki judges the package.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import yaml
from anki.collection import Collection, ImportAnkiPackageOptions, ImportAnkiPackageRequest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flashgen.build import build
from flashgen.config import load_options
from flashgen.errors import NothingToBuild

BUILDS = settings(
    derandomize=True,
    database=None,
    deadline=None,
    max_examples=80,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

# Text as notes hold it: any character a UTF-8 file can (no lone surrogates), control characters
# (U+001F, Anki's field separator, among them) made likely.
_CHARS = st.characters(exclude_categories=("Cs",)) | st.sampled_from("\x00\x01\x1b\x1f\x7f\u2028\u200b\ufeff\t")
TEXT = st.text(_CHARS, max_size=30)
MARKUP = st.sampled_from(
    [
        "**", "*", "__", "==", "`", "$", "$$", "\\(", "\\)", "\\[", "\\]", "[", "]", "](", ")", "[[", "]]",
        "{{c1::", "{{c0::", "{{c65537::", "}}", "::", ":::", ": ", " - ", "<div>", "</div>", "<b>", "<img src=x>",
        "![alt](missing.png)", "![[gone.png]]", "[sound:x.mp3]", "<script>alert(1)</script>", "\\href{javascript:x}{y}",
        "std::vector", "{x | x > 0}}", "&amp;", "&#31;", "\x1f", "\n", "\n\n", "- ", "1. ", "# ", "> ", "    ",
    ]
)  # fmt: skip
FRAGMENT = st.lists(MARKUP | TEXT, max_size=12).map("".join)

# Front matter values of every type YAML can carry, a number of thousands of digits among them
# (written by the serialisers below: such a number has no repr for Hypothesis to report).
HUGE = "HUGE-NUMBER"
SCALAR = (
    TEXT
    | st.integers()
    | st.just(HUGE)
    | st.sampled_from([2**64, -(2**63), 0])
    | st.floats(allow_nan=True)
    | st.booleans()
    | st.none()
    | st.dates()
)
VALUE = st.recursive(
    SCALAR, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(TEXT, inner, max_size=3), max_leaves=6
)
KEYS = st.sampled_from(["title", "categories", "category", "tags", "author", "year", "date", "type", "id", "exturl"])
FRONT = st.dictionaries(KEYS | TEXT, VALUE, max_size=5)


def _yaml(front: dict[object, object]) -> str:
    try:
        dumped = yaml.safe_dump(front, allow_unicode=True, width=10**9)
    except yaml.YAMLError:
        dumped = "title: x\n"
    return "---\n" + dumped.replace(HUGE, "0x" + "F" * 4000) + "---\n"


def _toml(front: dict[object, object]) -> str:
    lines = []
    for key, value in front.items():
        if value == HUGE:
            rendered = "9" * 5000
        elif isinstance(value, bool):
            rendered = "true" if value else "false"
        elif isinstance(value, (int, str)):
            rendered = json.dumps(value, ensure_ascii=False)  # TOML takes any character but controls raw
        else:
            rendered = json.dumps(repr(value)[:40], ensure_ascii=False)
        lines.append(f"{json.dumps(str(key), ensure_ascii=False)} = {rendered}")
    return "+++\n" + "\n".join(lines) + "\n+++\n"


NOTE = st.builds(
    lambda kind, front, heading, items: (
        (_yaml(front) if kind == "yaml" else _toml(front) if kind == "toml" else "")
        + heading
        + "\n## Key takeaways\n\n"
        + "".join(f"- {item}\n" for item in items)
    ),
    st.sampled_from(["yaml", "toml", "none"]),
    FRONT,
    FRAGMENT,
    st.lists(FRAGMENT, min_size=1, max_size=4),
)
# File names: anything a POSIX file system takes (no `/`, no NUL), newlines and U+001F included.
NAME = st.text(st.characters(exclude_categories=("Cs",), exclude_characters="/\x00"), min_size=1, max_size=12).filter(
    lambda n: not n.startswith(".") and len((n + ".md").encode("utf-8")) < 200
)
GOOD = "# Good\n\n## Key takeaways\n\n- Photosynthesis converts light into chemical energy in plants.\n"


@BUILDS
@given(notes=st.dictionaries(NAME, NOTE, min_size=1, max_size=3))
def test_any_notes_build_a_package_anki_accepts_or_name_the_bad_note(notes: dict[str, str]) -> None:
    with tempfile.TemporaryDirectory() as folder:
        base = Path(folder)
        vault = base / "notes"
        vault.mkdir()
        written = {}
        for name, text in notes.items():
            path = vault / f"{name}.md"
            path.write_text(text, encoding="utf-8")
            written[str(path)] = text
        (vault / "zz-good.md").write_text(GOOD, encoding="utf-8")  # a good note always builds
        try:
            report = build(load_options([vault], output=base / "decks"), now=1_700_000_000)
        except NothingToBuild:  # pragma: no cover - the good note makes a card
            raise AssertionError("the good note made no card") from None
        for problem in (*report.failures, *report.warnings):
            assert str(problem.path) in written or problem.path.name == "zz-good.md", problem
            assert problem.line >= 0
            assert "flashgen failed on it" not in problem.message, problem  # a bug caught, not a bad note
            assert "\n" not in str(problem)
        assert report.package is not None and report.package.exists()
        col = Collection(str(base / "anki.anki2"))
        try:
            request = ImportAnkiPackageRequest(package_path=str(report.package), options=ImportAnkiPackageOptions())
            col.import_anki_package(request)  # raises if Anki refuses the package
            assert len(col.find_notes("")) == report.anki_notes
            for nid in col.find_notes(""):
                note = col.get_note(nid)
                assert len(note.fields) == len(note.note_type()["flds"])
            good = col.find_notes("Photosynthesis")
            assert good, "the good note's card is missing"
        finally:
            col.close()
