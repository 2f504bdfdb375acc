"""Media: the local images a note's cards show, packed under names that cannot collide.

Anki's media folder is flat, so every file gets a name made of its stem and a
hash of its content: equal images share one file, different images never
overwrite each other. Only files inside the notes folder are ever packed; a
path that leaves it (`../../etc/passwd`, an absolute path, a symbolic link
pointing out) is refused.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

from .records import by_value

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".gif", ".webp", ".svg", ".bmp", ".avif"})
MAX_BYTES = 50 * 1024 * 1024


@by_value
@dataclass(frozen=True, slots=True)
class MediaFile:
    name: str  # the file's name in Anki's media folder
    path: Path  # where it is on disk


def media_name(path: Path, data: bytes) -> str:
    """The name an image gets in Anki's media folder: its file name and a hash of its content, so
    that two images of the same name never collide and a changed image is a new file."""
    stem = re.sub(r"[^\w.-]+", "-", path.stem).strip("-.")[:60] or "image"
    return f"{stem}-{hashlib.sha256(data).hexdigest()[:10]}{path.suffix.lower()}"


@dataclass
class MediaResolver:
    """Resolves image references of one note; collects the files to pack and the problems met."""

    note_path: Path
    root: Path
    line: int = 0  # the line of the takeaway being rendered, for problems
    files: dict[str, MediaFile] = field(default_factory=dict)
    problems: list[tuple[int, str]] = field(default_factory=list)

    def resolve(self, src: str) -> str | None:
        """The media name for an image `src`, the URL itself if remote, or None (refused or missing)."""
        src = src.strip()
        parts = urlsplit(src)
        if parts.scheme in ("http", "https"):
            return src
        if parts.scheme == "data":
            return src if re.match(r"data:image/(png|jpe?g|gif|webp);", src, re.IGNORECASE) else None
        if parts.scheme or parts.netloc:
            self._problem(f"image {src!r} refused: only local files and http(s) URLs are shown")
            return None
        relative = unquote(parts.path)
        if not relative:
            return None
        root = self.root.resolve()
        # "/assets/x.png" is relative to the site's root, as Jekyll and Hugo write it.
        candidate = root / relative.lstrip("/") if relative.startswith("/") else self.note_path.parent / relative
        try:
            resolved = candidate.resolve()
        except (OSError, RuntimeError):
            self._problem(f"image {src!r} refused: its path cannot be resolved")
            return None
        if not resolved.is_relative_to(root):
            self._problem(f"image {src!r} refused: it is outside the notes folder")
            return None
        if not resolved.is_file():
            self._problem(f"image {src!r} not found")
            return None
        if resolved.suffix.lower() not in IMAGE_SUFFIXES:
            self._problem(f"image {src!r} refused: not an image file type")
            return None
        try:
            data = resolved.read_bytes() if resolved.stat().st_size <= MAX_BYTES else None
        except OSError as exc:
            self._problem(f"image {src!r} cannot be read: {exc.strerror or exc}")
            return None
        if data is None:
            self._problem(f"image {src!r} refused: larger than {MAX_BYTES // 2**20} MB")
            return None
        name = media_name(resolved, data)
        self.files[name] = MediaFile(name, resolved)
        return name

    def warn(self, message: str) -> None:
        """A problem of the takeaway being rendered, reported once however often it is rendered."""
        if (self.line, message) not in self.problems:
            self.problems.append((self.line, message))

    def _problem(self, message: str) -> None:
        self.problems.append((self.line, message))
