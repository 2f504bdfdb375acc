"""Shared fixtures: temporary note folders, builds, and real Anki collections."""

from __future__ import annotations

import json
import os
import textwrap
from collections.abc import Callable, Iterator
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import pytest
import yaml
from anki.collection import Collection, ImportAnkiPackageOptions, ImportAnkiPackageRequest
from anki.scheduler.v3 import CardAnswer

from flashgen.build import build
from flashgen.config import load_options
from flashgen.report import Report

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples" / "notes"
SHARED = ROOT.parent / "shared"


@dataclass
class Anki:
    """A fresh Anki collection (the real backend), with helpers to import and inspect."""

    col: Collection

    def import_package(self, path: Path) -> object:
        """Import with the options of Anki's import dialog (update notes and note types if newer)."""
        request = ImportAnkiPackageRequest(package_path=str(path), options=ImportAnkiPackageOptions())
        return self.col.import_anki_package(request).log

    def notes(self, query: str = "") -> list:  # type: ignore[type-arg]
        return [self.col.get_note(nid) for nid in self.col.find_notes(query)]

    def by_guid(self) -> dict[str, object]:
        return {n.guid: n for n in self.notes()}

    def deck_of(self, note: object) -> str:
        return self.col.decks.name(note.cards()[0].did)  # type: ignore[attr-defined]


def study(col: Collection, deck: str | None = None, answers: int = 50) -> list[int]:
    """Answer up to `answers` cards of `deck` (every deck when None) with Anki's own scheduler,
    "Easy", so they graduate to review cards with an interval and a review log; their card ids."""
    decks = [col.decks.id_for_name(deck)] if deck else [d.id for d in col.decks.all_names_and_ids()]
    studied = []
    for deck_id in decks:
        col.decks.select(deck_id)
        for _ in range(answers):
            queued = col.sched.get_queued_cards(fetch_limit=1)
            if not queued.cards:
                break
            top = queued.cards[0]
            card = col.get_card(top.card.id)
            card.start_timer()
            col.sched.answer_card(col.sched.build_answer(card=card, states=top.states, rating=CardAnswer.EASY))
            studied.append(card.id)
    return studied


@pytest.fixture
def anki(tmp_path: Path) -> Iterator[Anki]:
    folder = tmp_path / "anki"
    folder.mkdir()
    col = Collection(str(folder / "collection.anki2"))
    try:
        yield Anki(col)
    finally:
        col.close()


def lock_cards(path: Path) -> list[dict[str, Any]]:
    """The lock file's records, one dict a card. Where the lock file keeps only the start of a
    takeaway's text, its whole text and line come from the state, as a build takes them."""
    from flashgen import lock, state

    found = state.Stamp.load(state.state_paths(path.parent, path.name.removesuffix(".lock.json")))[0]
    known = state.known_texts(found.manifest) if found is not None else {}
    out = []
    for record in lock.load(path).records:
        if record.status == "active" and record.takeaway in known:
            line, text = known[record.takeaway]
            record = replace(record, line=line, text=text)
        out.append({name: getattr(record, name) for name in record.__slots__})
    return out


_V1_KEYS = (
    "guid", "note", "path", "title", "takeaway", "line", "role", "kind", "text", "deck", "hash", "mod", "fields",
    "status", "clozes", "cloze_max", "tags",
)  # fmt: skip


def write_v1_lock(path: Path, cards: list[dict[str, Any]]) -> None:
    """A lock file as flashgen wrote it before format 2: a line a card, every field spelled out
    (`clozes` and `tags` only when there are some), sorted keys, hashes of 20 hex digits."""
    rows = []
    for card in cards:
        row = {key: card[key] for key in _V1_KEYS if key in card}
        row["hash"], row["fields"] = (row["hash"] + "0" * 20)[:20], (row["fields"] + "0" * 20)[:20]
        row["clozes"] = [list(c) for c in row.get("clozes", ())]
        row["tags"] = list(row.get("tags", ()))
        for key in ("clozes", "tags"):
            if not row[key]:
                del row[key]
        if "clozes" not in row:
            row.pop("cloze_max", None)
        rows.append(json.dumps(row, ensure_ascii=False, sort_keys=True))
    path.write_text('{"format": 1, "cards": [\n' + ",\n".join(rows) + "\n]}\n", encoding="utf-8")


def write_notes(folder: Path, notes: dict[str, str]) -> Path:
    """Write notes (name -> text, dedented) into `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, text in notes.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return folder


class _GoldenDumper(yaml.SafeDumper):
    """Multi-line text as `|` blocks, so the expectations read like the notes."""


def _block_strings(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    style = "|" if "\n" in value and not any(line != line.rstrip() for line in value.split("\n")) else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style=style)


_GoldenDumper.add_representer(str, _block_strings)


# Read once at import: the autouse fixture below removes FLASHGEN_* variables from each test's view.
UPDATE_GOLDEN = os.environ.get("FLASHGEN_UPDATE_GOLDEN") == "1"


def assert_golden(found: object, expected_file: Path) -> None:
    """Compare with a golden file; FLASHGEN_UPDATE_GOLDEN=1 rewrites it instead (review the diff)."""
    if UPDATE_GOLDEN:
        dumped = yaml.dump(found, Dumper=_GoldenDumper, sort_keys=False, allow_unicode=True, width=100)
        old = expected_file.read_text(encoding="utf-8") if expected_file.exists() else None
        if old != dumped:
            expected_file.write_text(dumped, encoding="utf-8")
            # Rewriting is not passing: the run says which files changed, for the diff to be reviewed.
            pytest.fail(f"golden file rewritten: {expected_file.name} (review the diff, then run again)")
    expected = yaml.safe_load(expected_file.read_text(encoding="utf-8"))
    assert found == expected


Builder = Callable[..., Report]


@pytest.fixture
def run_build(tmp_path: Path) -> Builder:
    """Build notes into tmp_path/decks through the core API, as `flashgen build` would."""

    def run(*paths: Path, now: int | None = None, prune: bool = False, **overrides: object) -> Report:
        overrides.setdefault("output", tmp_path / "decks")
        options = load_options(paths, **overrides)
        return build(options, now=now, prune=prune)

    return run


USER_VARIABLE_PREFIXES = ("FLASHGEN_", "OPENAI_")


@pytest.fixture(autouse=True)
def _no_user_config(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No test sees the developer's configuration, keys or endpoints: a real OPENAI_API_KEY or
    FLASHGEN_LLM_BASE_URL in the environment must never reach a test server or a real service."""
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    for name in list(os.environ):
        if name.startswith(USER_VARIABLE_PREFIXES):
            monkeypatch.delenv(name)
    os.environ.setdefault("TZ", "UTC")
