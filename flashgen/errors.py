"""Errors meant for the user.

Core code raises these and never prints or exits; the CLI renders them.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


class FlashgenError(Exception):
    """Base of every error flashgen reports to the user."""


class ConfigError(FlashgenError):
    """The configuration (flashgen.yaml or command-line options) is invalid."""


class OutputError(FlashgenError):
    """The package or lock file could not be written."""


class NothingToBuild(FlashgenError):
    """No notes, or no takeaways in any note."""


class BusyError(OutputError):
    """Another flashgen process holds the output folder."""


@dataclass(frozen=True)
class SourceProblem:
    """A problem located in a note: `path:line: message`."""

    path: Path
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


class SourceError(FlashgenError):
    """A note could not be read; the rest of the notes still build."""

    def __init__(self, path: Path, line: int, message: str) -> None:
        super().__init__(f"{path}:{line}: {message}")
        self.problem = SourceProblem(path, line, message)

    @property
    def path(self) -> Path:
        return self.problem.path

    @property
    def line(self) -> int:
        return self.problem.line
