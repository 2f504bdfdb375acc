"""Front matter: the YAML (`---`) or TOML (`+++`) block at the top of a note, parsed into a
mapping, and typed access to its values; every error names the file line it comes from.

Loaded only when a note is read: a build that finds nothing changed never imports a YAML parser.
"""

from __future__ import annotations

import datetime as _dt
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml
from frontmatter.default_handlers import BaseHandler, YAMLHandler
from yaml.constructor import ConstructorError
from yaml.reader import ReaderError

from .errors import SourceError


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


@dataclass(frozen=True)
class FrontMatter:
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


def split(text: str, path: Path) -> FrontMatter:
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
        except ValueError as exc:  # tomllib: an integer of more digits than Python converts
            if isinstance(exc, tomllib.TOMLDecodeError):
                raise _toml_error(exc, path, raw, first_line) from None
            digits = re.search(r"[0-9_]{1000,}", raw)
            line = first_line + raw.count("\n", 0, digits.start()) if digits else first_line
            message = "a number too long to read" if digits else _short(str(exc))
            raise SourceError(path, line, f"invalid front matter: {message}") from None
        if loaded is None:
            loaded = {}
        if not isinstance(loaded, dict):
            line = first_line + len(raw) - len(raw.lstrip("\n"))  # the first line with something on it
            raise SourceError(path, line, f"front matter must be a mapping of keys to values, not a {_kind_of(loaded)}")
        rest = text[closing.end() :]
        if rest.startswith("\n"):
            rest = rest[1:]
        body_line = text.count("\n", 0, closing.end()) + 2
        meta = {_key(k): v for k, v in loaded.items()}
        return FrontMatter(path, meta, rest, body_line, raw, first_line)
    return FrontMatter(path, {}, text, 1)


def _toml_error(exc: tomllib.TOMLDecodeError, path: Path, raw: str, first_line: int) -> SourceError:
    # Without "at line N" the error is "at end of document": the last line with text is the likelier culprit.
    match = re.search(r"at line (\d+)", str(exc))
    line = first_line + (int(match.group(1)) - 1 if match else raw.rstrip().count("\n"))
    message = re.sub(r"\s*\(at (?:line \d+, column \d+|end of document)\)", "", str(exc))
    return SourceError(path, line, f"invalid TOML front matter: {message}")


def _short(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[:limit] + "…"


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


def _key(key: object) -> str:
    """A front matter key as text (YAML keys may be numbers, dates, even a 5,000-digit integer)."""
    text = as_text(key)
    return text if text is not None else "<a number too large to read>"


MAX_DIGITS = 100  # a number with more digits is no year, title or tag


def as_text(value: object) -> str | None:
    """A scalar front matter value as text; None for what is not one (a list, a mapping, a number
    too long to be meant, which Python would refuse to convert beyond 4,300 digits)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value) if value.bit_length() <= MAX_DIGITS * 10 // 3 else None
    if isinstance(value, (str, float, _dt.date, _dt.datetime, _dt.time)):
        # YAML's `"\\udc80"` is a lone surrogate, which no file or database can store.
        return _SURROGATE.sub("\ufffd", str(value)).strip()
    return None


_SURROGATE = re.compile(r"[\ud800-\udfff]")


def _kind_of(value: object) -> str:
    kinds = {list: "list", dict: "mapping", str: "string", int: "number", float: "number", bool: "boolean"}
    return kinds.get(type(value), type(value).__name__)


class Fields:
    """Typed access to front matter values, with errors that name the key (`notes` leaves such a
    value out with a warning, and the note builds)."""

    def __init__(self, front: FrontMatter, meta: Mapping[str, Any], prefix: str = "") -> None:
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
        text = as_text(value)
        if text is not None:
            return text
        name = f"front matter '{self.prefix}{key}'"
        if isinstance(value, int):
            message = f"{name} holds a number too long to use ({value.bit_length()} bits)"
        else:
            message = f"{name} must be text or a list of text, not a {_kind_of(value)}"
        raise SourceError(self.front.path, self.front.line_of(key), message)
