"""Cache: what each note made last time, so unchanged notes are not parsed or generated again.

An entry is reused when the note's size and modification time are unchanged, or, when they
changed, its content hash is; and when the images its cards show are unchanged too. The cache
belongs to one deck and one set of output options (`Options.cache_key`, which includes
flashgen's version). It is written atomically; a missing, corrupt or foreign cache is empty.

A second, small file (the *stamp*) records the sizes and times of the notes and the images their
cards show, with a hash of the content the cards were made from (for a note that failed, none),
and the lock file's and the package's, after a build that wrote them: when nothing at all
changed, a build reads only it, and a file that was only touched (by a sync tool, a git checkout)
is told from a changed one by its content.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import pickle
import shutil
import tempfile
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from .lock import atomic_path

FORMAT = 2
Signature = tuple[int, int]  # size, modification time in nanoseconds


def signature(path: Path) -> Signature | None:
    try:
        st = path.stat()
    except OSError:
        return None
    return st.st_size, st.st_mtime_ns


def digest(data: bytes) -> str:
    return hashlib.blake2b(data, digest_size=16).hexdigest()


@dataclass
class Entry:
    signature: Signature
    digest: str
    media: tuple[tuple[str, Signature | None], ...]  # images the cards show, and their signatures
    result: Any  # harvest.NoteResult, or its pickle (read when it is used)


@dataclass
class Cache:
    """The cache file holds a header and then one pickled entry after another. Results a worker
    process pickled are written to a spool file as they arrive and not held in memory."""

    path: Path
    key: str
    entries: dict[str, Entry] = field(default_factory=dict)
    used: set[str] = field(default_factory=set)
    dirty: bool = False
    spooled: set[str] = field(default_factory=set)  # entries already written to the spool
    _spool: IO[bytes] | None = None

    @classmethod
    def load(cls, path: Path, key: str) -> Cache:
        try:
            with open(path, "rb") as stream:
                header = pickle.load(stream)
                if header.get("format") != FORMAT or header.get("key") != key:
                    return cls(path, key)
                entries = {}
                while True:  # entries to the end of the file (a later one for a note wins)
                    try:
                        name, sig, made_from, media, result = pickle.load(stream)
                    except EOFError:
                        break
                    entries[name] = Entry(sig, made_from, media, result)
                return cls(path, key, entries)
        except Exception:
            return cls(path, key)

    def get(self, note: Path, data: bytes | None = None) -> Any | None:
        """The cached result for `note`, if still valid. `data` is the note's content when already read."""
        name = str(note)
        entry = self.entries.get(name)
        if entry is None:
            return None
        current = signature(note)
        if current is None:
            return None
        if current != entry.signature:
            if data is None:
                try:
                    data = note.read_bytes()
                except OSError:
                    return None
            if digest(data) != entry.digest:
                return None
            entry.signature = current  # touched but not changed
            self.dirty = True
        if any(signature(Path(p)) != sig for p, sig in entry.media):
            return None
        self.used.add(name)
        if isinstance(entry.result, bytes):
            entry.result = pickle.loads(entry.result)
        return entry.result

    def digest_of(self, note: Path) -> str:
        """The `digest` of the content the cached result for `note` was made from."""
        return self.entries[str(note)].digest

    def put(self, note: Path, made_from: str, media: Iterable[Path], result: Any, pickled: bytes | None = None) -> None:
        """Keep `result`, made from content whose digest is `made_from`; `pickled` is its pickle,
        when a worker process made one: it goes to the spool file rather than staying in memory."""
        sig = signature(note)
        if sig is None:
            return
        name = str(note)
        entry = Entry(sig, made_from, tuple((str(p), signature(p)) for p in media), result)
        self.entries[name] = entry
        self.used.add(name)
        self.dirty = True
        if pickled is not None:
            if self._spool is None:
                self._spool = tempfile.TemporaryFile()  # noqa: SIM115 (kept open until save or close)
            _dump_entry(self._spool, name, entry, pickled)
            self.spooled.add(name)

    def save(self) -> None:
        """Write the cache, dropping entries of notes that are gone."""
        try:
            if not self.dirty and self.used == set(self.entries):
                return
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with atomic_path(self.path) as tmp, open(tmp, "wb") as stream:
                pickle.dump({"format": FORMAT, "key": self.key}, stream, _PROTOCOL)
                if self._spool is not None:
                    self._spool.seek(0)
                    shutil.copyfileobj(self._spool, stream, 1 << 20)
                for name in self.used - self.spooled:
                    entry = self.entries[name]
                    result = entry.result
                    _dump_entry(stream, name, entry, result if isinstance(result, bytes) else _pickled(result))
        except OSError:
            pass  # a cache that cannot be written only costs time next run
        finally:
            self.close()

    def close(self) -> None:
        """Forget the spool file (a build that writes no cache)."""
        if self._spool is not None:
            self._spool.close()
            self._spool = None


_PROTOCOL = 5


def _pickled(result: Any) -> bytes:
    return pickle.dumps(result, _PROTOCOL)


def _dump_entry(stream: IO[bytes], name: str, entry: Entry, pickled: bytes) -> None:
    pickle.dump((name, entry.signature, entry.digest, entry.media, pickled), stream, _PROTOCOL)


@dataclass(frozen=True)
class StatePaths:
    """What a build keeps beside a deck, in OUTPUT/.flashgen, to make the next build cheaper."""

    stamp: Path  # see `Stamp`
    cache: Path  # see `Cache`
    database: Path  # the package's collection database, as written (see `incremental`)
    manifest: Path  # what each note made (see `incremental.manifest`)


def state_paths(output: Path, name: str) -> StatePaths:
    folder = output / ".flashgen"
    return StatePaths(
        folder / f"{name}.stamp", folder / f"{name}.cache", folder / f"{name}.anki2", folder / f"{name}.notes.json"
    )


@dataclass(frozen=True)
class Stamp:
    """The state of a deck's inputs and outputs after a build that wrote it."""

    key: str
    notes: Mapping[str, Signature]
    outputs: Mapping[str, Signature | None]
    summary: Mapping[str, Any]
    digests: Mapping[str, str] = field(default_factory=dict)  # note path -> `digest`; image path -> media name

    @classmethod
    def load(cls, path: Path) -> Stamp | None:
        try:
            with open(path, "rb") as stream:
                data = pickle.load(stream)
            return cls(data["key"], data["notes"], data["outputs"], data["summary"], data.get("digests", {}))
        except Exception:
            return None

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            with atomic_path(path) as tmp, open(tmp, "wb") as stream:
                pickle.dump(
                    {
                        "key": self.key,
                        "notes": dict(self.notes),
                        "outputs": dict(self.outputs),
                        "summary": dict(self.summary),
                        "digests": dict(self.digests),
                    },
                    stream,
                    protocol=5,
                )
        except OSError:
            pass

    @staticmethod
    def remove(path: Path) -> None:
        with contextlib.suppress(OSError):
            os.unlink(path)
