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
import tomllib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import yaml
from frontmatter.default_handlers import BaseHandler, YAMLHandler
from yaml.constructor import ConstructorError
from yaml.reader import ReaderError

from .errors import NothingToBuild, SourceError

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

    @property
    def path(self) -> Path:
        return self.file.path

    @property
    def rel(self) -> str:
        return self.file.rel


class _Constructing:
    """A value PyYAML cannot build (`date: 2023-02-30`, `!!int abc`, `!!int` alone) is a YAML
    error at that value instead of a bare `ValueError`."""

    def construct_object(self, node: yaml.Node, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep)  # type: ignore[misc]
        except (yaml.YAMLError, RecursionError):
            raise
        except Exception as exc:  # PyYAML's constructors raise ValueError, IndexError, AttributeError, ...
            raise ConstructorError(None, None, f"invalid value {node.value!r} ({exc})", node.start_mark) from None


class _YAMLLoader(_Constructing, yaml.SafeLoader):
    """PyYAML's pure-Python safe loader: slower, but its errors point at the right line."""


# libyaml's parser, when PyYAML was built with it (it is, in the wheels), is several times faster.
_FastLoader: Any = type("_FastLoader", (_Constructing, yaml.CSafeLoader), {}) if hasattr(yaml, "CSafeLoader") else None


class _YAMLFrontMatter(YAMLHandler):
    def load(self, fm: str, **kwargs: object) -> Any:
        if _FastLoader is not None:
            try:
                return yaml.load(fm, Loader=_FastLoader)
            except yaml.YAMLError:
                pass  # read it again to report the error as precisely as the pure-Python loader does
        return yaml.load(fm, Loader=_YAMLLoader)


class _TOMLHandler(BaseHandler):
    """TOML front matter between `+++` fences, parsed with the standard library."""

    FM_BOUNDARY = re.compile(r"^\+{3,}\s*$", re.MULTILINE)
    START_DELIMITER = END_DELIMITER = "+++"

    def load(self, fm: str, **kwargs: object) -> Any:
        return tomllib.loads(fm)


_HANDLERS: tuple[BaseHandler, ...] = (_YAMLFrontMatter(), _TOMLHandler())


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
    to `/dev/zero` would fill the memory.
    """
    try:
        info = file.path.stat()
        if stat.S_ISDIR(info.st_mode):
            raise IsADirectoryError
        if not stat.S_ISREG(info.st_mode):
            raise SourceError(file.path, 0, "is not a regular file (a pipe, socket or device); notes must be files")
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
    front = _split_front_matter(text, file.path)
    meta, body = front.meta, front.body
    fields = _Fields(front, meta)
    title = " ".join((fields.text("title") or _first_heading(body) or _title_from_path(file.path)).split())
    categories = _dedupe([*fields.words("categories"), *fields.words("category")])
    taxonomies = meta.get("taxonomies")
    tags = fields.words("tags")
    if isinstance(taxonomies, Mapping):
        sub = _Fields(front, taxonomies, prefix="taxonomies.")
        categories = _dedupe([*categories, *sub.words("categories")])
        tags = [*tags, *sub.words("tags")]
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
    )


@dataclass(frozen=True)
class _FrontMatter:
    """A note split at its front matter; `raw` starts on file line `first_line`."""

    path: Path
    meta: dict[str, Any]
    body: str
    body_line: int
    raw: str = ""
    first_line: int = 1

    def line_of(self, key: str) -> int:
        """The file line that sets `key` (the first one that looks like it), else the first front matter line.

        `key: ...` and `key = ...`, and in TOML also a table `[key]` and a dotted key `key.sub = ...`.
        """
        pattern = re.compile(rf"""^[ \t]*(?:\[+[ \t]*)?["']?{re.escape(key)}["']?[ \t]*[:=.\]]""", re.MULTILINE)
        match = pattern.search(self.raw)
        return self.first_line + self.raw.count("\n", 0, match.start()) if match else self.first_line


def _split_front_matter(text: str, path: Path) -> _FrontMatter:
    for handler in _HANDLERS:
        if not handler.detect(text):
            continue
        assert handler.FM_BOUNDARY is not None
        fences = handler.FM_BOUNDARY.finditer(text)
        opening = next(fences)
        closing = next(fences, None)
        if closing is None:
            raise SourceError(path, 1, f"front matter opened with '{handler.START_DELIMITER}' is never closed")
        raw = text[opening.end() : closing.start()]
        first_line = text.count("\n", 0, opening.end()) + 1  # file line on which `raw` starts
        try:
            loaded = handler.load(raw)
        except yaml.YAMLError as exc:
            raise SourceError(path, _yaml_error_line(exc, raw, first_line), _yaml_error_message(exc)) from None
        except RecursionError:  # `[[[[...]]]]` a thousand deep: the parsers recurse
            line = first_line + len(raw) - len(raw.lstrip("\n"))
            raise SourceError(path, line, "front matter is nested too deeply to read") from None
        except tomllib.TOMLDecodeError as exc:
            # Without "at line N" the error is "at end of document": the last line with text is the likelier culprit.
            match = re.search(r"at line (\d+)", str(exc))
            line = first_line + (int(match.group(1)) - 1 if match else raw.rstrip().count("\n"))
            message = re.sub(r"\s*\(at (?:line \d+, column \d+|end of document)\)", "", str(exc))
            raise SourceError(path, line, f"invalid TOML front matter: {message}") from None
        if loaded is None:
            loaded = {}
        if not isinstance(loaded, dict):
            line = first_line + len(raw) - len(raw.lstrip("\n"))  # the first line with something on it
            raise SourceError(path, line, f"front matter must be a mapping of keys to values, not a {_kind_of(loaded)}")
        rest = text[closing.end() :]
        if rest.startswith("\n"):
            rest = rest[1:]
        body_line = text.count("\n", 0, closing.end()) + 2
        meta = {str(k): v for k, v in loaded.items()}
        return _FrontMatter(path, meta, rest, body_line, raw, first_line)
    return _FrontMatter(path, {}, text, 1)


def _yaml_error_line(exc: yaml.YAMLError, raw: str, first_line: int) -> int:
    if isinstance(exc, ReaderError):  # a forbidden character: no mark, only a position
        return first_line + raw.count("\n", 0, exc.position)
    # Point at where the broken construct starts (an unclosed quote or bracket), else at the problem.
    mark = getattr(exc, "context_mark", None) or getattr(exc, "problem_mark", None)
    if mark is None:
        return first_line
    if mark.index >= len(raw.rstrip()):
        # Reported at the end of the front matter: the last line with text is the likelier culprit.
        return first_line + raw.rstrip().count("\n")
    return first_line + int(mark.line)


def _yaml_error_message(exc: yaml.YAMLError) -> str:
    if isinstance(exc, ReaderError):
        return f"invalid YAML front matter: character #x{exc.character:04x} is not allowed"
    problem = getattr(exc, "problem", None) or str(exc)
    context = getattr(exc, "context", None)
    return f"invalid YAML front matter: {context}, {problem}" if context else f"invalid YAML front matter: {problem}"


def _kind_of(value: object) -> str:
    kinds = {list: "list", dict: "mapping", str: "string", int: "number", float: "number", bool: "boolean"}
    return kinds.get(type(value), type(value).__name__)


class _Fields:
    """Typed access to front matter values, with errors that name the key."""

    def __init__(self, front: _FrontMatter, meta: Mapping[str, Any], prefix: str = "") -> None:
        self.front = front
        self.meta = meta
        self.prefix = prefix

    def text(self, key: str) -> str:
        value = self.meta.get(key)
        if value is None:
            return ""
        if isinstance(value, list):
            return ", ".join(self._scalar(key, v) for v in value if v is not None)
        return self._scalar(key, value)

    def words(self, key: str) -> list[str]:
        """A list value, or a space-separated string (Jekyll allows both)."""
        value = self.meta.get(key)
        if value is None or value == "":
            return []
        if isinstance(value, str):
            return [w for w in (s.strip(",") for s in value.split()) if w]
        if isinstance(value, list):
            return [s for s in (self._scalar(key, v).strip() for v in value if v is not None) if s]
        return [self._scalar(key, value)]

    def _scalar(self, key: str, value: object) -> str:
        if isinstance(value, bool):
            return "true" if value else "false"
        if isinstance(value, (str, int, float, _dt.date, _dt.datetime, _dt.time)):
            return str(value).strip()
        raise SourceError(
            self.front.path,
            self.front.line_of(key),
            f"front matter '{self.prefix}{key}' must be text or a list of text, not a {_kind_of(value)}",
        )


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
