"""Report: what a build did, counted; it alone decides the exit status."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import SourceProblem, printable

PLAN_ORDER = ("added", "updated", "moved", "unchanged", "removed")


@dataclass(frozen=True)
class Change:
    """One card that a build adds, updates, moves or removes."""

    status: str
    location: str  # path:line of its takeaway
    role: str
    text: str  # the takeaway's first words

    def __str__(self) -> str:
        return printable(f"{self.status:>8}  {self.location}  [{self.role}]  {self.text}")


@dataclass(frozen=True)
class Report:
    notes: int = 0
    takeaways: int = 0
    anki_notes: int = 0
    anki_cards: int = 0
    failures: tuple[SourceProblem, ...] = ()
    warnings: tuple[SourceProblem, ...] = ()
    without_takeaways: tuple[str, ...] = ()
    silent: tuple[tuple[str, str], ...] = ()  # (note path, why it made no card)
    plan: Mapping[str, int] = field(default_factory=dict)
    changes: tuple[Change, ...] = ()
    # Takeaways whose card changed form (path:line, old kind, new kind): see `reshaped_lines`.
    reshaped: tuple[tuple[str, str, str], ...] = ()
    package: Path | None = None
    lock: Path | None = None
    written: bool = False
    dry_run: bool = False
    parsed: int = 0  # notes parsed in this run; the others came from the cache
    llm: Any = None  # llm.Stats, with generator: llm
    incremental: bool = False  # only the changed notes were redone
    notices: tuple[str, ...] = ()  # about the build rather than a note: state files ignored, ...

    @property
    def exit_code(self) -> int:
        return 1 if self.failures else 0

    def silent_lines(self) -> list[str]:
        """Each note that made no card, with the reason: `path: made no card: reason`."""
        return [f"{rel}: made no card: {reason}" for rel, reason in self.silent]

    def reshaped_lines(self) -> list[str]:
        """Each takeaway whose card changed form, and what that costs the learner."""
        return [
            f"{where}: its {old} card became a {new} card: a new card in Anki (a note cannot change "
            "its type on import); the old one keeps its reviews, tagged flashgen::removed"
            for where, old, new in self.reshaped
        ]

    def plan_line(self) -> str:
        return ", ".join(f"{self.plan.get(k, 0)} {k}" for k in PLAN_ORDER)

    def summary(self) -> str:
        """The lines printed after every build."""
        lines = [
            f"{self.notes} notes read, {self.takeaways} takeaways, "
            f"{self.anki_notes} Anki notes ({self.anki_cards} cards), {len(self.failures)} failed",
            f"plan: {self.plan_line()}",
        ]
        if self.llm is not None:
            s = self.llm
            lines.append(
                f"language model: {s.generated} takeaways generated, {s.cached} from its cache, "
                f"{s.fallbacks} kept rule-made cards; {s.requests} requests"
            )
        if self.reshaped:
            count = len(self.reshaped)
            lines.append(
                f"{count} takeaway{'s' if count != 1 else ''} changed card form (new cards; the old ones "
                "are tagged flashgen::removed): see build -v"
            )
        if self.silent:
            count = len(self.silent)
            lines.append(f"{count} note{'s' if count != 1 else ''} made no card: see flashgen check")
        if self.dry_run:
            lines.append("dry run: nothing written")
        elif self.written and self.package:
            lines.append(f"wrote {self.package}")
        elif not self.anki_notes:
            lines.append("nothing written: no note made a card")
        elif self.package:
            lines.append(f"{self.package} is up to date")
        return "\n".join(lines)
