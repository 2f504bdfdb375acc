"""Identities: the lasting Anki GUID, cloze numbers and modification time of every card.

The rules, in one place:

1. A takeaway is known by a *takeaway id*. A new takeaway's id is derived from
   its package's name, its note's key (front matter `id`, else the note's path)
   and its text, so a build without a lock file gives unchanged notes the same
   ids as before, equal text in two notes never collides, and neither do two
   packages (two folders that each hold an `index.md` with the same takeaway).
   Ids already in the lock file are kept, however they were derived: lock files
   of versions that derived them without the package's name keep their GUIDs.
2. With a lock file, each takeaway of this build is matched to one of the last
   build, in this order: same note and same text (wherever it moved in the
   note); same text in another note (a moved takeaway); similar text in the same
   note (a typo fixed or a rewording: `similarity` >= `SIMILAR_WORDS`). A note file
   that was renamed or moved is recognised by its front matter `id`, its title,
   or by sharing takeaways with a note that disappeared. A matched takeaway
   keeps its id. Only what the lock file holds is used (the text's `sum` and
   `words`, see `lock`), never the state of one machine: every clone of the
   notes and the lock file gives the same GUIDs.
3. A card's GUID is derived from its takeaway id and its role (the rule that made
   it); a matched takeaway's cards keep their GUIDs, matched by role, else by kind
   in order.
4. Cloze numbers stay with their deleted text: kept deletions keep their number,
   new ones get numbers never used before in that note.
5. A card whose fields and tags are unchanged keeps its modification time, so
   re-importing updates only what changed; a changed card gets a time newer
   than any it had, even within the same second.
6. Cards of takeaways that disappeared are kept as *removed*: exported with the
   tag `flashgen::removed` until pruned. So is the old card of a takeaway whose card
   changed form (basic to cloze, or back): Anki cannot change an imported note's type,
   so the new card is a new note, and the build reports it (`Plan.reshaped`); if the
   old form comes back, so does the old note with its reviews.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Literal

from rapidfuzz import fuzz

from . import cards as cards_stage
from .cards import Card, content_hash, digest, fields_hash
from .lock import (
    HASH,
    REMOVED_TAG,
    Lock,
    Record,
    fingerprinted,
    is_content,
    normalise,
    split_words,
    text_sum,
    word_codes,
)
from .takeaways import Takeaway

SIMILAR = 60  # rapidfuzz ratio (0-100) above which a changed cloze deletion is the same deletion
# `similarity` (0-100) from which a changed takeaway is the same takeaway: a ratio of word sequences
# is lower than one of characters for the same edit (a word with a typo does not count at all).
SIMILAR_WORDS = 52

# `removed`: its takeaway disappeared in this build; `retired`: removed in an earlier build.
Status = Literal["added", "updated", "unchanged", "moved", "removed", "retired"]


@dataclass(frozen=True, slots=True)
class Identity:
    """A card with its lasting identity, ready for the package."""

    card: Card
    guid: str
    mod: int
    front: str  # the card's front with its final cloze numbers
    status: Status
    record: Record


@dataclass(frozen=True)
class Plan:
    """Every card of the build with its identity, and what changed since the lock file."""

    identities: tuple[Identity, ...]
    kept: tuple[Record, ...] = ()  # cards of notes that failed to read: left as they were
    pruned: int = 0  # removed cards forgotten by `--prune`
    # Takeaways whose card changed form (path:line, old kind, new kind): Anki cannot change an
    # imported note's type, so the new card is a new note and the old one is removed.
    reshaped: tuple[tuple[str, str, str], ...] = ()

    @property
    def changed(self) -> bool:
        """Whether the package or lock file would differ from the last build's."""
        return self.pruned > 0 or any(i.status not in ("unchanged", "retired") for i in self.identities)

    def count(self, status: Status) -> int:
        return sum(1 for i in self.identities if i.status == status)

    def records(self) -> tuple[Record, ...]:
        return tuple(i.record for i in self.identities) + self.kept


_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"


_PAIRS = tuple(_ALPHABET[i % 62] + _ALPHABET[i // 62] for i in range(62 * 62))  # two digits, low first


def _base62(data: bytes, length: int = 12) -> str:
    """The first 9 bytes of `data` as `length` base-62 digits, least significant first."""
    number = int.from_bytes(data[:9], "big")
    out = []
    for _ in range(length // 2):
        number, rest = divmod(number, 62 * 62)
        out.append(_PAIRS[rest])
    if length % 2:
        out.append(_ALPHABET[number % 62])
    return "".join(out)


def similarity(a: Sequence[str], b: Sequence[str]) -> float:
    """How alike two versions of a takeaway are (0-100), from their words as the lock file keeps
    them (`lock.word_codes`): the sequences of words must be alike (a typo, a rewording) and so
    must their content words, so that "Two :: Dos" is not taken for "Three :: Tres"."""
    ratio = fuzz.ratio(a, b)
    if ratio >= 90:
        return ratio
    words_a, words_b = {w for w in a if is_content(w)}, {w for w in b if is_content(w)}
    if words_a or words_b:
        shared = len(words_a & words_b) / len(words_a | words_b)
        if shared < 0.5:
            return min(ratio, SIMILAR_WORDS - 1)
    return ratio


def note_key(takeaway: Takeaway) -> str:
    note = takeaway.note
    return f"id:{note.note_id}" if note.note_id else note.rel


def takeaway_id(key: str, text: str, occurrence: int, namespace: str = "") -> str:
    """The id of a new takeaway: from its package's name (`namespace`), its note's key and its
    `normalise`d text. Without a namespace, the id as versions before issue 15 derived it."""
    if not namespace:
        return _base62(digest("takeaway", key, text, str(occurrence)))
    return _base62(digest("takeaway", "package", namespace, key, text, str(occurrence)))


def card_guid(tid: str, role: str) -> str:
    return "fg" + _base62(digest("card", tid, role), 11)


@dataclass
class _New:
    """A takeaway of this build during matching."""

    takeaway: Takeaway
    cards: list[Card]
    key: str
    text: str
    occurrence: int
    sum: str
    words: list[str]
    old: _Old | None = None


@dataclass
class _Old:
    """A takeaway of the lock file during matching."""

    tid: str
    key: str
    title: str
    sum: str
    words: list[str]
    records: list[Record]
    active: bool
    taken: bool = False


def assign(
    cards: Sequence[Card],
    lock: Lock,
    now: int,
    *,
    prune: bool = False,
    keep: Collection[str] = frozenset(),
    reserved: tuple[Collection[str], Collection[str]] = ((), ()),
    namespace: str = "",
    texts: Mapping[str, tuple[int, str]] | None = None,
) -> Plan:
    """Give every card its GUID, cloze numbers and modification time; find what was removed.

    Cards of the notes named in `keep` (notes that could not be read this time)
    are left as the lock file has them, neither matched nor removed. `reserved` GUIDs and
    takeaway ids belong to cards outside `lock` (an incremental build's unchanged notes).
    `namespace`, the package's name, keeps the ids of new takeaways apart from other packages'.
    `texts` holds, by takeaway id, the line and whole text of the last build's takeaways (from
    the state): a removed takeaway's card shows them, where the lock file has only its start.
    """
    new = _group(cards)
    kept = tuple(fingerprinted(r) for r in lock.records if r.path in keep)
    old = _old_takeaways(r for r in lock.records if r.path not in keep)
    _match(new, old)

    used_tids = {r.takeaway for r in lock.records} | set(reserved[1])
    used_guids = {r.guid for r in lock.records} | set(reserved[0])
    identities: list[Identity] = []
    # Old cards no card of this build takes: those of takeaways that disappeared, and those of a
    # kept takeaway whose card changed form (a basic card that became a cloze: a new Anki note).
    left: list[Record] = [r for o in old if not o.taken for r in o.records]
    reshaped: list[tuple[str, str, str]] = []
    for item in new:
        tid = (
            item.old.tid
            if item.old
            else _fresh(takeaway_id(item.key, item.text, item.occurrence, namespace), used_tids)
        )
        used_tids.add(tid)
        records = item.old.records if item.old else []
        pairs = _pair_cards(item.cards, records)
        for card, record in pairs:
            guid = record.guid if record else _fresh(card_guid(tid, card.role), used_guids)
            used_guids.add(guid)
            identities.append(_identify(card, tid, guid, record, now, item))
        paired = {id(r) for _, r in pairs if r is not None}
        unpaired = [r for r in records if id(r) not in paired]
        left.extend(unpaired)
        new_kinds = {c.kind for c, r in pairs if r is None}
        for r in unpaired:
            if r.status == "active" and new_kinds - {r.kind}:
                here = identities[-1].record
                reshaped.append((f"{here.path}:{here.line}", r.kind, "/".join(sorted(new_kinds - {r.kind}))))

    pruned = 0
    for record in left:
        if record.status == "active":
            # tagged as the package tags it: only `flashgen::removed` (see `cards.retired`)
            record = replace(record, status="removed", mod=max(now, record.mod + 1), tags=(REMOVED_TAG,))
            known = (texts or {}).get(record.takeaway)
            if known is not None and text_sum(known[1]) == record.sum:
                record = replace(record, line=known[0], text=known[1])
            status: Status = "removed"
        elif prune:
            pruned += 1
            continue
        else:
            status = "retired"
        card = cards_stage.retired(record)
        identities.append(Identity(card, record.guid, record.mod, card.front, status, record))
    return Plan(tuple(identities), kept, pruned, tuple(reshaped))


def _fresh(candidate: str, used: set[str]) -> str:
    """`candidate`, or a salted variant if an earlier card already holds it."""
    salt = 0
    result = candidate
    while result in used:
        salt += 1
        result = candidate[:2] + _base62(digest(candidate, str(salt)), len(candidate) - 2)
    return result


def _group(cards: Sequence[Card]) -> list[_New]:
    groups: dict[int, _New] = {}
    seen: dict[tuple[str, str], int] = defaultdict(int)
    for card in cards:
        item = groups.get(id(card.takeaway))
        if item is None:
            takeaway = card.takeaway
            key = note_key(takeaway)
            text = normalise(takeaway.full_text)
            occurrence = seen[key, text]
            seen[key, text] += 1
            item = groups[id(takeaway)] = _New(takeaway, [], key, text, occurrence, text_sum(text), word_codes(text))
        item.cards.append(card)
    return list(groups.values())


def _old_takeaways(records: Iterable[Record]) -> list[_Old]:
    by_tid: dict[str, _Old] = {}
    for record in records:
        record = fingerprinted(record)
        old = by_tid.get(record.takeaway)
        if old is None:
            old = by_tid[record.takeaway] = _Old(
                record.takeaway, record.note, record.title, record.sum, split_words(record.words), [],
                record.status == "active",
            )  # fmt: skip
        old.records.append(record)
    return list(by_tid.values())


def _match(new: list[_New], old: list[_Old]) -> None:
    aliases = _note_aliases(new, old)

    def key_of(item: _New) -> str:
        return aliases.get(item.key, item.key)

    def take(item: _New, candidate: _Old) -> None:
        item.old = candidate
        candidate.taken = True

    # 1. Same note, same text.
    exact: dict[tuple[str, str], list[_Old]] = defaultdict(list)
    for o in sorted(old, key=lambda o: not o.active):
        exact[o.key, o.sum].append(o)
    for item in new:
        pool = [o for o in exact.get((key_of(item), item.sum), ()) if not o.taken]
        if pool:
            take(item, pool[0])
    # 2. Same text in another note: the takeaway moved.
    by_text: dict[str, list[_Old]] = defaultdict(list)
    for o in sorted(old, key=lambda o: not o.active):
        by_text[o.sum].append(o)
    for item in new:
        if item.old is None:
            pool = [o for o in by_text.get(item.sum, ()) if not o.taken]
            if pool:
                take(item, pool[0])
    # 3. Similar text in the same note: edited in place.
    by_key: dict[str, list[_Old]] = defaultdict(list)
    for o in old:
        if o.active and not o.taken:
            by_key[o.key].append(o)
    pending: dict[str, list[_New]] = defaultdict(list)
    for item in new:
        if item.old is None and by_key.get(key_of(item)):
            pending[key_of(item)].append(item)
    for key, items in pending.items():
        scored = sorted(
            (
                (similarity(item.words, o.words), -abs(i - j), i, j)
                for i, item in enumerate(items)
                for j, o in enumerate(by_key[key])
            ),
            reverse=True,
        )
        for score, _, i, j in scored:
            if score < SIMILAR_WORDS:
                break
            item, o = items[i], by_key[key][j]
            if item.old is None and not o.taken:
                take(item, o)


def _note_aliases(new: Sequence[_New], old: Sequence[_Old]) -> dict[str, str]:
    """Map the key of each note that is new in this build to the vanished note it was renamed from."""
    new_keys = {item.key for item in new}
    old_keys = {o.key for o in old if o.active}
    vanished = old_keys - new_keys
    if not vanished:
        return {}
    titles: dict[str, str] = {}
    texts: dict[str, set[str]] = defaultdict(set)
    for o in old:
        if o.key in vanished:
            titles.setdefault(o.key, o.title)
            texts[o.key].add(o.sum)
    aliases: dict[str, str] = {}
    fresh: dict[str, list[_New]] = defaultdict(list)
    for item in new:
        if item.key not in old_keys:
            fresh[item.key].append(item)
    for key, items in sorted(fresh.items()):
        title = items[0].takeaway.note.title
        candidates = [k for k in sorted(vanished) if k not in aliases.values()]
        by_title = [k for k in candidates if titles.get(k) == title]
        if by_title:
            aliases[key] = by_title[0]
            continue
        shared = [(len(texts[k] & {i.sum for i in items}), k) for k in candidates]
        best = max(shared, default=(0, ""))
        if best[0] > 0:
            aliases[key] = best[1]
    return aliases


def _pair_cards(cards: Sequence[Card], records: Sequence[Record]) -> list[tuple[Card, Record | None]]:
    """Pair a takeaway's cards with its old records: same role first, then same kind in order."""
    free = list(range(len(records)))
    by_role = {r.role: i for i, r in enumerate(records)}
    pairs: list[tuple[Card, Record | None]] = []
    unpaired: list[int] = []
    for index, card in enumerate(cards):
        match = by_role.get(card.role)
        if match is not None and match in free:
            free.remove(match)
            pairs.append((card, records[match]))
        else:
            pairs.append((card, None))
            unpaired.append(index)
    for index in unpaired:
        match = next((i for i in free if records[i].kind == cards[index].kind), None)
        if match is not None:
            free.remove(match)
            pairs[index] = (cards[index], records[match])
    return pairs


def _cloze_numbers(deletions: Sequence[str], record: Record | None) -> tuple[list[int], int]:
    """Lasting numbers for a cloze card's deletions: kept text keeps its number."""
    if record is None:
        return list(range(1, len(deletions) + 1)), len(deletions)
    previous: dict[str, list[int]] = defaultdict(list)
    for number, text in record.clozes:
        previous[text].append(number)
    numbers: list[int | None] = []
    for text in deletions:
        numbers.append(previous[text].pop(0) if previous.get(text) else None)
    # A reworded deletion keeps the number of the most similar unused one.
    unused = {n: t for t, ns in previous.items() for n in ns}
    for i, text in enumerate(deletions):
        if numbers[i] is None and unused:
            score, number = max((fuzz.ratio(text, t), n) for n, t in unused.items())
            if score >= SIMILAR:
                numbers[i] = number
                del unused[number]
    highest = max([record.cloze_max, *(n for n in numbers if n is not None)])
    final: list[int] = []
    for maybe in numbers:
        if maybe is None:
            highest += 1
            maybe = highest
        final.append(maybe)
    return final, highest


def _identify(card: Card, tid: str, guid: str, record: Record | None, now: int, item: _New) -> Identity:
    front, cloze_max = card.front, 0
    clozes: tuple[tuple[int, str], ...] = ()
    if card.deletions:
        numbers, cloze_max = _cloze_numbers(card.deletions, record)
        if numbers != list(range(1, len(numbers) + 1)):  # as made: 1..n in order
            front = cards_stage.renumber(card.front, numbers)
        clozes = tuple(sorted(zip(numbers, card.deletions, strict=True)))
    takeaway = card.takeaway
    if front == card.front and card.hashes:  # made with the card, in the worker that made it
        fingerprint, fields = card.hashes
    else:
        fingerprint = content_hash(card.kind, front, card.back, card.extra, card.context, card.tags, card.reverse)
        fields = fields_hash(card.kind, front, card.back, card.extra, card.context)
    status: Status
    if record is None:
        status, mod = "added", now
    elif record.status == "active" and record.hash == fingerprint[:HASH]:
        status, mod = "unchanged", record.mod
    else:
        status, mod = "updated", max(now, record.mod + 1)
    if record is not None and status != "added" and (record.path != takeaway.note.rel or record.deck != card.deck):
        status = "moved"
    new_record = Record(
        guid=guid,
        note=note_key(takeaway),
        path=takeaway.note.rel,
        title=takeaway.note.title,
        takeaway=tid,
        line=takeaway.line,
        role=card.role,
        kind=card.kind,
        text=takeaway.full_text,
        deck=card.deck,
        hash=fingerprint[:HASH],
        fields=fields[:HASH],
        mod=mod,
        clozes=clozes,
        cloze_max=cloze_max,
        tags=card.tags,
        sum=item.sum,
        words="".join(item.words),
    )
    return Identity(card, guid, mod, front, status, new_record)
