"""Notes: find markdown files and read them into `SourceNote` records.

Front matter may be YAML between `---` fences, TOML between `+++` fences, or
absent. Everything the later stages need from it is normalised here, so they
never see raw front matter dictionaries.
"""

from __future__ import annotations

import datetime as _dt
import os
import re
import stat
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

from .errors import NothingToBuild, SourceError, SourceProblem

NOTE_SUFFIXES = (".md", ".markdown")
MAX_NOTE_BYTES = 32 * 2**20  # a bigger "note" is a dump or a log; reading it would take minutes

# Folders that hold tooling, not notes (Obsidian, git, our own output).
SKIPPED_DIRS = frozenset({".git", ".obsidian", ".trash", "node_modules", ".venv", "__pycache__"})


@dataclass(frozen=True)
class NoteFile:
    """A note on disk and the folder it is read relative to."""

    path: Path
    root: Path

    @cached_property
    def rel(self) -> str:
        """The path relative to its root, with `/` separators: the note's name in reports and locks."""
        try:
            return self.path.relative_to(self.root).as_posix()
        except ValueError:
            return self.path.name


@dataclass(frozen=True)
class SourceNote:
    """One note, read and normalised."""

    file: NoteFile
    title: str
    body: str
    body_line: int  # 1-based line of the file on which `body` starts
    categories: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    author: str = ""
    year: str = ""
    kind: str = ""  # front matter `type`: podcast, paper, talk, ...
    url: str = ""  # front matter `exturl` (or `link`, `source`)
    note_id: str = ""  # front matter `id`, when the author gave one
    problems: tuple[SourceProblem, ...] = field(default=(), compare=False)  # warnings: fields it could not use

    @property
    def path(self) -> Path:
        return self.file.path

    @property
    def rel(self) -> str:
        return self.file.rel


def discover(paths: Iterable[Path], exclude: Iterable[Path] = ()) -> list[NoteFile]:
    """Every note below `paths`, sorted, each once.

    Folders are walked recursively without following symbolic links to folders
    (a link loop cannot hang the walk); `exclude` folders (the output folder) are
    skipped.
    """
    excluded = {_resolved(p) for p in exclude}
    found: dict[str, NoteFile] = {}
    for given in paths:
        given = Path(given)
        if given.is_dir():
            prefix = len(str(given).rstrip(os.sep)) + 1
            real_root = str(_resolved(given))
            for path, linked in _walk(given, excluded):
                rel = path[prefix:]
                # Without links, a file's real path is its root's real path and its place below
                # it (folder links are not followed): only linked files need resolving.
                key = str(_resolved(Path(path))) if linked else f"{real_root}{os.sep}{rel}"
                if key not in found:
                    note = NoteFile(Path(path), given)
                    note.__dict__["rel"] = rel.replace(os.sep, "/")  # known already: spare `relative_to`
                    found[key] = note
        else:
            # A file named on the command line is read whatever its suffix,
            # and a missing one is reported by `read_note`.
            found.setdefault(str(_resolved(given)), NoteFile(given, given.parent))
    return sorted(found.values(), key=lambda f: (f.rel, str(f.path)))


def find_notes(paths: Iterable[Path], output: Path) -> list[NoteFile]:
    """The notes to build: `discover`, or an error when there are none."""
    paths = tuple(paths)
    files = discover(paths, exclude=[output])
    if not files:
        shown = ", ".join(str(p) for p in paths)
        raise NothingToBuild(f"no notes (.md, .markdown) found in {shown}")
    return files


def _resolved(path: Path) -> Path:
    try:
        return path.resolve()
    except (OSError, RuntimeError):
        return path.absolute()


def _walk(folder: Path, excluded: set[Path]) -> Iterator[tuple[str, bool]]:
    """Note files below `folder` and whether each is a symbolic link; links to folders are not
    followed, so a link loop cannot hang the walk."""
    stack: list[str | Path] = [folder]
    while stack:
        here = stack.pop()
        try:
            entries = sorted(os.scandir(here), key=lambda e: e.name)
        except OSError:
            continue  # an unreadable folder holds no notes we can read
        folders = []
        for entry in entries:
            name = entry.name
            linked = entry.is_symlink()
            if not linked and entry.is_dir(follow_symlinks=False):
                if (
                    name not in SKIPPED_DIRS
                    and not name.startswith(".")
                    and _resolved(Path(entry.path)) not in excluded
                ):
                    folders.append(entry.path)
                continue
            if linked and _links_to_folder(entry):
                continue
            if name.lower().endswith(NOTE_SUFFIXES) and not name.startswith("."):
                yield entry.path, linked
        stack.extend(reversed(folders))


def _links_to_folder(entry: os.DirEntry[str]) -> bool:
    try:
        return entry.is_dir()
    except OSError:
        return False  # a broken link or a loop: read as a note, so that it is reported


def read_note(file: NoteFile) -> SourceNote:
    """Read and parse one note; raise `SourceError` naming the file and line."""
    return parse_note(decode(read_bytes(file), file.path), file)


def read_bytes(file: NoteFile) -> bytes:
    """A note's bytes; raise `SourceError` when it cannot be read.

    Only regular files are read: a pipe named `x.md` would block the build forever and a link
    to `/dev/zero` would fill the memory. Only files inside the notes folder are read: a link
    to `~/.ssh/id_rsa` named `x.md`, in a folder someone else wrote, would put the key on cards.
    """
    try:
        info = file.path.stat()
        if stat.S_ISDIR(info.st_mode):
            raise IsADirectoryError
        if not stat.S_ISREG(info.st_mode):
            raise SourceError(file.path, 0, "is not a regular file (a pipe, socket or device); notes must be files")
        if file.path.is_symlink():
            target = _resolved(file.path)
            if not target.is_relative_to(_resolved(file.root)):
                raise SourceError(
                    file.path, 0, f"is a symbolic link to {target}, outside the notes folder {file.root}; not read"
                )
        if info.st_size > MAX_NOTE_BYTES:
            raise SourceError(
                file.path, 0, f"is larger than {MAX_NOTE_BYTES // 2**20} MB; flashgen reads notes up to that size"
            )
        return file.path.read_bytes()
    except IsADirectoryError:
        raise SourceError(file.path, 0, "is a folder, not a note file") from None
    except FileNotFoundError:
        raise SourceError(file.path, 0, "no such file") from None
    except OSError as exc:
        raise SourceError(file.path, 0, f"cannot be read: {exc.strerror or exc}") from None


def decode(data: bytes, path: Path) -> str:
    """Decode UTF-8 (a byte-order mark is allowed) and normalise line endings."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        # `exc.start` counts from after a byte-order mark, so index `exc.object`, not `data`.
        bad = exc.object
        line = len(re.findall(rb"\r\n|\r|\n", bad[: exc.start])) + 1
        raise SourceError(
            path,
            line,
            f"is not valid UTF-8 (byte 0x{bad[exc.start]:02x}); flashgen reads notes as UTF-8, "
            "re-save the file in that encoding",
        ) from None
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return text


def parse_note(text: str, file: NoteFile) -> SourceNote:
    """Parse decoded note text: front matter, title and body."""
    try:
        file.rel.encode("utf-8")
    except UnicodeEncodeError:  # a name in another encoding: it could not be shown in Anki or the lock file
        raise SourceError(file.path, 0, "has a file name that is not valid UTF-8; rename the file") from None
    from . import front_matter  # here: see its docstring

    front = front_matter.split(text, file.path)
    meta, body = front.meta, front.body
    fields = _Lenient(front_matter.Fields(front, meta))
    title = " ".join((fields.text("title") or _first_heading(body) or _title_from_path(file.path)).split())
    categories = _dedupe([*fields.words("categories"), *fields.words("category")])
    taxonomies = meta.get("taxonomies")
    # Jekyll and Hugo: tags, series; Zenn: topics; Obsidian: tags (or tag) in YAML, `#tags` in the
    # text and a `Tags: [[Topic]]` line at the top of it.
    tags = [*fields.words("tags"), *fields.words("tag"), *fields.words("topics"), *fields.words("series")]
    if isinstance(taxonomies, Mapping):
        sub = _Lenient(front_matter.Fields(front, taxonomies, prefix="taxonomies."), fields.problems)
        categories = _dedupe([*categories, *sub.words("categories")])
        tags = [*tags, *sub.words("tags"), *sub.words("series")]
    tags += body_tags(body)
    return SourceNote(
        file=file,
        title=title,
        body=body,
        body_line=front.body_line,
        categories=tuple(categories),
        tags=tuple(_dedupe(tags)),
        author=fields.text("author"),
        year=fields.text("year") or _year_of(meta.get("date")),
        kind=fields.text("type"),
        url=fields.text("exturl") or fields.text("link") or fields.text("source"),
        note_id=fields.text("id"),
        problems=tuple(fields.problems),
    )


class _Lenient:
    """Front matter fields read so that a value flashgen cannot use (a mapping where text belongs)
    is a warning naming the file, line and field, and the field is left out: the note still builds."""

    def __init__(self, fields: Any, problems: list[SourceProblem] | None = None) -> None:
        self.fields = fields
        self.problems: list[SourceProblem] = [] if problems is None else problems

    def text(self, key: str) -> str:
        return str(self._read(self.fields.text, key, ""))

    def words(self, key: str) -> list[str]:
        return list(self._read(self.fields.words, key, []))

    def _read(self, read: Any, key: str, default: Any) -> Any:
        try:
            return read(key)
        except SourceError as exc:
            problem = exc.problem
            self.problems.append(SourceProblem(problem.path, problem.line, f"{problem.message}; it is left out"))
            return default


# Code, HTML tags (`style="color: #CCC"`) and link targets (`(url#part)`) hold no tags.
_CODE = re.compile(
    r"^ {0,3}(`{3,}|~{3,}).*?^ {0,3}\1[`~]*[ \t]*$|(`+).+?\2|<[^>\n]*>|\]\([^)\n]*\)", re.MULTILINE | re.DOTALL
)
# An Obsidian tag: `#` after a space or the start of a line, then letters, digits, `_`, `-`, `/`, with
# at least one that is not a digit (`#1` is a number). Not a heading (`# Title`), not `[x](#anchor)`.
# (The `#` comes first and what stands before it is checked after it: the regex engine then jumps from
# one `#` to the next instead of trying the lookbehinds at every position, 50x faster on a note.)
_INLINE_TAG = re.compile(r"#(?<![^\s,|]#)([\w/-]*[^\W\d][\w/-]*)")
# A `Tags: [[Topic]], #other` line (or `tags:: ...`, Dataview's inline field) at the top of the text.
_TAGS_LINE = re.compile(r"^\W{0,2}tags?\W{0,2}\s*::?\s*(.+)$", re.IGNORECASE)


def body_tags(body: str) -> list[str]:
    """Tags written in a note's text: Obsidian `#tags` outside code, and the topics of a `Tags:`
    line among its first lines (`Tags: [[Machine learning]], [[Statistics]]`)."""
    if "#" not in body and "tag" not in body[:2000].lower():
        return []
    # (Code, tags and link targets need a backtick, a tilde fence, a `<` or a `](`.)
    plain = _CODE.sub(" ", body) if "`" in body or "~~~" in body or "<" in body or "](" in body else body
    found = [m.group(1).strip("/") for m in _INLINE_TAG.finditer(plain)]
    for line in body.split("\n")[:10]:
        match = _TAGS_LINE.match(line.strip())
        if match:
            value = match.group(1)
            topics = re.findall(r"\[\[([^\]|#]+)(?:[^\]]*)\]\]", value)
            if not topics and "#" not in value:
                topics = [t.strip() for t in re.split(r"[,;]", value)]
            found += [t.strip() for t in topics if t.strip()]
    return [tag for tag in found if tag]


def _year_of(date: object) -> str:
    if isinstance(date, (_dt.date, _dt.datetime)):
        return str(date.year)
    if isinstance(date, str):
        match = re.match(r"\s*(\d{4})\b", date)
        if match:
            return match.group(1)
    return ""


def _dedupe(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_ATX_ONE = re.compile(r"^ {0,3}#(?:[ \t]+(.*?))?(?:[ \t]+#+)?[ \t]*$")  # `# Title`, `# Title #`, but not `#tag`


def _first_heading(body: str) -> str:
    """The first level-one heading (`# Title` or `Title` over `===`), outside code fences."""
    fence = ""
    previous = ""
    for line in body.split("\n"):
        match = _FENCE.match(line)
        if fence:
            if match and match.group(1)[0] == fence[0] and len(match.group(1)) >= len(fence):
                fence = ""
            continue
        if match:
            fence = match.group(1)
            continue
        heading = _ATX_ONE.match(line)
        if heading:
            return (heading.group(1) or "").strip()
        if previous.strip() and re.fullmatch(r" {0,3}=+\s*", line):
            return previous.strip()
        previous = line
    return ""


def _title_from_path(path: Path) -> str:
    stem = path.stem
    if stem.lower() in {"index", "_index", "readme"} and path.parent.name:
        stem = path.parent.name
    stem = re.sub(r"^\d{4}-\d{1,2}-\d{1,2}-", "", stem)
    return stem.replace("-", " ").replace("_", " ").strip() or path.name
