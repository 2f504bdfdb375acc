"""Configuration: every build option in one frozen object, from `flashgen.yaml` and the command line."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from . import __version__
from .authored import SEPARATOR_FIELDS, Syntax, problems
from .errors import ConfigError

CONFIG_NAME = "flashgen.yaml"
DEFAULT_DECK = "{root}::{category}"
DECK_PLACEHOLDERS = ("root", "category", "categories", "type", "year", "author", "title", "folder")


@dataclass(frozen=True)
class Options:
    """All options of a build. Those marked `output=True` change the cards, and so the cache key."""

    paths: tuple[Path, ...] = (Path("."),)
    output: Path = Path("decks")
    name: str = "notes"
    deck: str = field(default=DEFAULT_DECK, metadata={"output": True})
    root: str = field(default="", metadata={"output": True})  # the top deck; defaults to `name`
    prose: bool = field(default=False, metadata={"output": True})  # paragraphs of headed sections are takeaways
    folder_tags: bool = field(default=False, metadata={"output": True})  # a note in a/b/ gets the tag a::b
    syntax: Syntax = field(default=Syntax(), metadata={"output": True})  # how the author writes cards
    dry_run: bool = False
    generator: str = field(default="rules", metadata={"output": True})  # "rules" or "llm"
    llm_model: str = field(default="", metadata={"output": True})  # default: FLASHGEN_LLM_MODEL, else llama3.1
    llm_base_url: str = ""  # default: FLASHGEN_LLM_BASE_URL, else Ollama's local address
    llm_concurrency: int = 4
    llm_timeout: float = 60.0
    llm_max_requests: int | None = None
    ankiconnect: str = "http://127.0.0.1:8765"  # where sync finds a running Anki
    sync_delete: bool = False  # whether sync deletes the notes of removed takeaways
    sync_max_delete: float = 0.2  # the share of managed notes sync may delete without --force

    @property
    def deck_root(self) -> str:
        return self.root or self.name

    @property
    def package_path(self) -> Path:
        return self.output / f"{self.name}.apkg"

    @property
    def lock_path(self) -> Path:
        return self.output / f"{self.name}.lock.json"

    def cache_key(self) -> str:
        """Names what the cards depend on besides the notes: flashgen's version and output options."""
        parts = [__version__, f"root={self.deck_root}"]
        parts += [f"{f.name}={getattr(self, f.name)!r}" for f in fields(self) if f.metadata.get("output")]
        return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]


# Keys accepted in flashgen.yaml, with the type each must have.
_FILE_KEYS: Mapping[str, type | tuple[type, ...]] = {
    "name": str,
    "output": str,
    "deck": str,
    "root": str,
    "prose": bool,
    "folder_tags": bool,
    "ankiconnect": str,
    "sync_delete": bool,
    "sync_max_delete": (int, float),
    "generator": str,
    "llm_model": str,
    "llm_base_url": str,
    "llm_concurrency": int,
    "llm_timeout": (int, float),
    "llm_max_requests": int,
    "syntax": dict,
}
# Keys of the `syntax` mapping: the separators and the front tag are strings, these lists of strings.
_SYNTAX_LISTS = ("clozes", "card_tags")
GENERATORS = ("rules", "llm")


def load_options(
    paths: Sequence[Path] = (),
    *,
    config_file: Path | None = None,
    **overrides: Any,
) -> Options:
    """Options from `flashgen.yaml` (in the first notes folder, or `config_file`), then `overrides`.

    Overrides that are None were not given on the command line and leave the file's value.
    """
    paths = tuple(Path(p) for p in paths) or (Path("."),)
    values: dict[str, Any] = {}
    if config_file is None:
        folder = paths[0] if paths[0].is_dir() else paths[0].parent
        candidate = folder / CONFIG_NAME
        config_file = candidate if candidate.is_file() else None
    if config_file is not None:
        values.update(_read_config(config_file))
        if "output" in values:
            values["output"] = (config_file.parent / values["output"]).resolve()
    values.update({k: v for k, v in overrides.items() if v is not None})
    values["paths"] = paths
    values["output"] = Path(values.get("output") or "decks")
    values["name"] = package_name(values.get("name") or _default_name(paths))
    _check_deck_template(values.get("deck", DEFAULT_DECK), config_file)
    if "syntax" in values:
        values["syntax"] = _syntax(values["syntax"], config_file)
    if values.get("generator", "rules") not in GENERATORS:
        where = f"{config_file}: " if config_file else ""
        raise ConfigError(f"{where}generator must be one of {', '.join(GENERATORS)}, not {values['generator']!r}")
    return Options(**values)


def _read_config(path: Path) -> dict[str, Any]:
    import yaml  # here: most folders have no flashgen.yaml, and a build that finds nothing changed needs none

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read: {exc.strerror or exc}") from None
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: invalid YAML: {exc}") from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: must be a mapping of option names to values")
    problems = []
    for key, value in data.items():
        if key not in _FILE_KEYS:
            problems.append(f"unknown option '{key}' (known: {', '.join(sorted(_FILE_KEYS))})")
        elif not isinstance(value, _FILE_KEYS[key]) or (isinstance(value, bool) and _FILE_KEYS[key] is not bool):
            expected = _FILE_KEYS[key]
            names = " or ".join(t.__name__ for t in (expected if isinstance(expected, tuple) else (expected,)))
            problems.append(f"option '{key}' must be {names}, not {type(value).__name__}")
    if problems:
        raise ConfigError(f"{path}: " + "; ".join(problems))
    return dict(data)


def _syntax(value: Syntax | Mapping[str, Any], source: Path | None) -> Syntax:
    """The card syntax from flashgen.yaml's `syntax` mapping (or as given), checked whole:
    every problem is named before failing once."""
    where = f"{source}: " if source else ""
    found: list[str] = []
    if isinstance(value, Syntax):
        syntax = value
    else:
        known = (*SEPARATOR_FIELDS, "front_tag", *_SYNTAX_LISTS)
        given: dict[str, Any] = {}
        for key, item in value.items():
            if key not in known:
                found.append(f"unknown syntax option '{key}' (known: {', '.join(known)})")
            elif key in _SYNTAX_LISTS:
                if isinstance(item, str):
                    item = [item]
                if not isinstance(item, list) or not all(isinstance(i, str) for i in item):
                    found.append(f"syntax option '{key}' must be a list of strings")
                else:
                    given[key] = tuple(item)
            elif not isinstance(item, str):
                found.append(f"syntax option '{key}' must be a string, not {type(item).__name__}")
            else:
                given[key] = item
        syntax = Syntax(**given)
    found.extend(problems(syntax))
    if found:
        raise ConfigError(f"{where}syntax: " + "; ".join(found))
    return syntax


def _check_deck_template(template: str, source: Path | None) -> None:
    where = f"{source}: " if source else ""
    for name in re.findall(r"\{([^{}]*)\}", template):
        if name not in DECK_PLACEHOLDERS:
            raise ConfigError(
                f"{where}deck template {template!r} uses unknown placeholder {{{name}}} "
                f"(known: {', '.join('{' + p + '}' for p in DECK_PLACEHOLDERS)})"
            )


def _default_name(paths: Sequence[Path]) -> str:
    first = paths[0].resolve()
    return (first if first.is_dir() else first.parent).name or "notes"


def package_name(name: str) -> str:
    """A safe file name for the package; never `collection` or `backup-*`,
    which Anki would take for a whole-collection backup."""
    cleaned = re.sub(r"[^\w.\- ]+", "-", name, flags=re.UNICODE).strip(" .-") or "notes"
    if cleaned.lower() == "collection" or cleaned.lower().startswith("backup"):
        cleaned = f"flashgen-{cleaned}"
    return cleaned
