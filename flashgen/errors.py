"""Errors meant for the user.

Core code raises these and never prints or exits; the CLI renders them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

# Characters that would break a report line or hide part of it: C0 and C1 controls, DEL, and
# Unicode's line and paragraph separators (a file name may hold any of them).
_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def printable(text: str) -> str:
    """`text` on one line: every control character written as an escape (`\\n`, `\\x1f`), so that
    each report is exactly one `path:line: message` line, whatever a file name holds."""
    if not _UNPRINTABLE.search(text):
        return text
    return _UNPRINTABLE.sub(lambda m: repr(m.group())[1:-1], text)


class FlashgenError(Exception):
    """Base of every error flashgen reports to the user."""

    def __str__(self) -> str:
        return printable(super().__str__())  # a path with a newline in it must not split the report


class ConfigError(FlashgenError):
    """The configuration (flashgen.yaml or command-line options) is invalid."""


class OutputError(FlashgenError):
    """The package or lock file could not be written."""

    @classmethod
    def writing(cls, path: object, exc: OSError) -> OutputError:
        """The error for an `OSError` met writing `path`, in the user's words (a full disk, a
        file-size limit), naming the file."""
        import errno

        reason = {
            errno.ENOSPC: "disk full",
            errno.EDQUOT: "disk quota exceeded",
            errno.EFBIG: "file too large (a file-size limit)",
        }.get(exc.errno or 0, exc.strerror or str(exc))
        return cls(f"cannot write {printable(str(path))}: {reason}")


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
        return printable(f"{self.path}:{self.line}: {self.message}")


class SourceError(FlashgenError):
    """A note could not be read; the rest of the notes still build."""

    def __init__(self, path: Path, line: int, message: str) -> None:
        super().__init__(printable(f"{path}:{line}: {message}"))
        self.problem = SourceProblem(path, line, message)

    @property
    def path(self) -> Path:
        return self.problem.path

    @property
    def line(self) -> int:
        return self.problem.line
