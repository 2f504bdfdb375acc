"""Overview: one self-contained HTML page showing every card the notes make, as Anki shows it.

Each card is rendered with the package's own templates and CSS (cloze deletions hidden on the
front, shown on the back), next to the checker's advice on its takeaway and, when a collection is
given, how its study went. The page loads nothing from the network: images are embedded as data
URIs, math is shown as its TeX source (MathJax is not bundled; the page says so). The card fields
are the sanitised HTML the deck receives, and a Content-Security-Policy allows only the page's
own script (by nonce) and inline styles and data: images, so a hostile note cannot script it.
"""

from __future__ import annotations

import base64
import hashlib
import html
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from .cards import Card
from .config import Options
from .errors import SourceProblem
from .package import CLOZE_TEMPLATES, CSS, QA_TEMPLATES
from .statistics import Study, TakeawayStudy

if TYPE_CHECKING:
    from .ankiconnect import AnkiConnect

MAX_EMBEDDED_IMAGE = 2 * 2**20  # a bigger image is shown by its name, to keep the page light
_EMBEDDED_TYPES = {
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".gif": "image/gif",
    ".webp": "image/webp",
    ".bmp": "image/bmp",
    ".avif": "image/avif",
}  # never SVG: it can script


@dataclass(frozen=True)
class Face:
    """One card as the learner meets it: the front, then the back."""

    label: str  # "Forward", "Reverse", "Cloze 2", ...
    front: str
    back: str


# ---------------------------------------------------------------- Anki's templates, offline


_SECTION = re.compile(r"\{\{([#^])([^}]+)\}\}(.*?)\{\{/\2\}\}", re.DOTALL)
_FIELD = re.compile(r"\{\{(?:(cloze):)?([^#^/}][^}]*)\}\}")
_CLOZE = re.compile(r"\{\{c(\d+)::(.*?)(?:::([^}]*?))?\}\}", re.DOTALL)


def fill(template: str, fields: Mapping[str, str], *, cloze: int = 0, answer: bool = False, front: str = "") -> str:
    """What Anki's template engine makes of a template: conditional sections, fields, `FrontSide`
    and `cloze:` (the one deletion asked hidden as [...] or its hint on the front, shown on the back)."""

    def section(match: re.Match[str]) -> str:
        present = bool(fields.get(match.group(2).strip(), "").strip())
        return match.group(3) if present == (match.group(1) == "#") else ""

    def field(match: re.Match[str]) -> str:
        name = match.group(2).strip()
        if name == "FrontSide":
            return front
        value = fields.get(name, "")
        return _cloze(value, cloze, answer) if match.group(1) else value

    previous = None
    while previous != template:  # nested sections
        previous, template = template, _SECTION.sub(section, template)
    return _FIELD.sub(field, template)


def _cloze(text: str, number: int, answer: bool) -> str:
    def one(match: re.Match[str]) -> str:
        if int(match.group(1)) != number:
            return match.group(2)
        if answer:
            return f'<span class="cloze">{match.group(2)}</span>'
        return f'<span class="cloze">[{match.group(3) or "..."}]</span>'

    return _CLOZE.sub(one, text)


def faces(card: Card) -> list[Face]:
    """Every card Anki makes of this note, front and back."""
    if card.kind == "cloze":
        fields = {"Text": card.front, "Extra": card.extra, "Context": card.context, "Source": card.source}
        template = CLOZE_TEMPLATES[0]
        out = []
        for number in sorted({int(n) for n, _, _ in _CLOZE.findall(card.front)}):
            front = fill(template["qfmt"], fields, cloze=number)
            back = fill(template["afmt"], fields, cloze=number, answer=True)
            out.append(Face(f"Cloze {number}", front, back))
        return out
    fields = {
        "Question": card.front,
        "Answer": card.back,
        "Extra": card.extra,
        "Context": card.context,
        "Source": card.source,
        "Reverse": "y" if card.reverse else "",
    }
    out = []
    for template in QA_TEMPLATES:
        front = fill(template["qfmt"], fields)
        if not front.strip():
            continue  # Anki makes no card from an empty front (the Reverse template of a one-way card)
        out.append(Face(template["name"], front, fill(template["afmt"], fields, front=front)))
    return out


# ---------------------------------------------------------------- the page


def page(
    cards: Sequence[Card],
    problems: Iterable[SourceProblem],
    *,
    title: str,
    silent_notes: Sequence[str] = (),
    failures: Sequence[SourceProblem] = (),
    study: Study | None = None,
) -> str:
    """The whole page as one string."""
    advice: dict[tuple[str, int], list[str]] = {}
    for problem in problems:
        advice.setdefault((Path(problem.path).as_posix(), problem.line), []).append(problem.message)
    studied: dict[tuple[str, int], TakeawayStudy] = {}
    if study is not None:
        studied = {(s.path, s.line): s for s in study.takeaways}
    flagged_locations = {f.location for f in study.findings} if study else set()

    notes: dict[str, list[list[Card]]] = {}  # note path -> its takeaways' cards, in order
    seen: dict[int, list[Card]] = {}
    for card in cards:
        group = seen.get(id(card.takeaway))
        if group is None:
            group = seen[id(card.takeaway)] = []
            notes.setdefault(card.takeaway.note.rel, []).append(group)
        group.append(card)

    images = _images(cards)
    used: set[tuple[str, int]] = set()
    body: list[str] = []
    takeaway_count = flagged_count = face_count = 0
    for rel in sorted(notes):
        groups = notes[rel]
        note = groups[0][0].takeaway.note
        sections = []
        note_flagged = 0
        for group in sorted(groups, key=lambda g: g[0].takeaway.line):
            takeaway = group[0].takeaway
            location = takeaway.location
            said = advice.get((takeaway.note.path.as_posix(), takeaway.line), [])
            history = studied.get((rel, takeaway.line))
            flagged = bool(said) or location in flagged_locations
            card_html = []
            for card in group:
                verdicts = _verdicts(card)
                for index, face in enumerate(faces(card)):
                    face_count += 1
                    failed, despite = _overruled(card, verdicts[min(index, len(verdicts) - 1)] if verdicts else ())
                    flagged = flagged or bool(failed)
                    card_html.append(_face_html(card, face, images, failed, despite))
            used.add((takeaway.note.path.as_posix(), takeaway.line))
            verdict = "".join(f"<li>{html.escape(m)}</li>" for m in said) or "<li>no problem found</li>"
            takeaway_count += 1
            flagged_count += flagged
            note_flagged += flagged
            sections.append(
                f'<section class="takeaway{" flagged" if flagged else ""}">'
                f'<div class="where">{html.escape(location)}</div>'
                f'<blockquote class="source">{html.escape(takeaway.full_text)}</blockquote>'
                f'<div class="verdict{" bad" if said else ""}"><b>Checker:</b><ul>{verdict}</ul></div>'
                f"{_history_html(history, location, study)}"
                f'<div class="faces">{"".join(card_html)}</div></section>'
            )
        body.append(
            f'<details class="note{" flagged" if note_flagged else ""}" open>'
            f'<summary><b>{html.escape(note.title)}</b> <span class="path">{html.escape(rel)}</span>'
            f' <span class="count">{len(groups)} takeaways, {sum(len(g) for g in groups)} Anki notes'
            f"{f', {note_flagged} flagged' if note_flagged else ''}</span></summary>"
            f"{''.join(sections)}</details>"
        )

    unmatched = [
        f"{path}:{line}: {message}"
        for (path, line), said in sorted(advice.items())
        if (path, line) not in used
        for message in said
    ]
    silent = "".join(f"<li>{html.escape(item)}</li>" for item in silent_notes)
    cardless = "".join(f"<li>{html.escape(item)}</li>" for item in unmatched)
    unread = "".join(f"<li>{html.escape(str(p))}</li>" for p in failures)
    note_total = len(notes) + len(silent_notes) + len(failures)
    per_note = face_count / len(notes) if notes else 0.0
    share = flagged_count / takeaway_count if takeaway_count else 0.0
    summary = (
        f"<p>{note_total} notes: {len(notes)} made cards, {len(silent_notes)} made none,"
        f" {len(failures)} could not be read. {takeaway_count} takeaways made {len(cards)} Anki notes and"
        f" {face_count} cards ({per_note:.1f} cards a note); {flagged_count} takeaways"
        f" ({share:.0%}) flagged by the checker{' or by your study' if study else ''}.</p>"
    )
    if study is not None:
        summary += _study_summary(study)
    nonce = hashlib.sha256("".join(body).encode("utf-8")).hexdigest()[:24]
    return _PAGE.format(
        title=html.escape(title),
        nonce=nonce,
        css=CSS + _PAGE_CSS,
        summary=summary,
        silent=f"<details><summary>Notes that made no card ({len(silent_notes)})</summary><ul>{silent}</ul></details>"
        if silent_notes
        else "",
        failed=f"<details open><summary>Notes that could not be read ({len(failures)})</summary><ul>{unread}</ul>"
        "</details>"
        if failures
        else "",
        body=(
            f"<details><summary>Advice on takeaways that made no card ({len(unmatched)})</summary><ul>{cardless}</ul>"
            "</details>"
            if unmatched
            else ""
        )
        + "".join(body),
        script=_SCRIPT,
    )


def _verdicts(card: Card) -> list[tuple[str, ...]]:
    """The checker's failed categories for each card Anki makes of this note (one probe each)."""
    from . import quality
    from .cards import probes_of

    return [quality.judge(probe).failed for probe in probes_of(card)]


def _overruled(card: Card, failed: tuple[str, ...]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The categories that count against a card, and those the generator keeps it despite (the
    author's own emphasis), as the generator itself decides (`strategies.overruled`)."""
    from .strategies import overruled

    kept = set(overruled(card.role))
    return tuple(f for f in failed if f not in kept), tuple(f for f in failed if f in kept)


def _face_html(
    card: Card, face: Face, images: Mapping[str, str], failed: tuple[str, ...] = (), despite: tuple[str, ...] = ()
) -> str:
    front, back = _embed(face.front, images), _embed(face.back, images)
    verdict = f'<span class="bad">checker: {html.escape(", ".join(failed))}</span>' if failed else "checker: no problem"
    if despite:
        verdict += f" (kept despite {html.escape(', '.join(despite))}: the author emphasised it)"
    return (
        f'<div class="face"><div class="kind">{html.escape(card.kind)} · {html.escape(card.role)}'
        f" · {html.escape(face.label)} · {verdict}</div>"
        f'<div class="sides"><div class="side"><div class="label">Front</div><div class="card">{front}</div></div>'
        f'<div class="side"><div class="label">Back</div><div class="card">{back}</div></div></div></div>'
    )


def _history_html(history: TakeawayStudy | None, location: str, study: Study | None) -> str:
    if study is None or history is None:
        return ""
    finding = next((f for f in study.findings if f.location == location), None)
    reasons = f' <b class="bad">{html.escape(", ".join(finding.reasons))}</b>' if finding else ""
    rows = "".join(
        f"<tr><td>{c.ordinal}</td><td>{c.reviews}</td><td>{c.lapses}</td><td>{c.ease / 100:.2f}</td>"
        f"<td>{c.interval} d</td><td>{'leech ' if c.leech else ''}{'suspended' if c.suspended else ''}</td></tr>"
        for c in history.cards
    )
    missing = f"<p>{len(history.missing)} of its notes were deleted in Anki.</p>" if history.missing else ""
    return (
        f'<div class="study"><b>Study:</b>{reasons}<table><tr><th>card</th><th>reviews</th><th>lapses</th>'
        f"<th>ease</th><th>interval</th><th></th></tr>{rows}</table>{missing}</div>"
    )


def _study_summary(study: Study) -> str:
    """A table of the findings and a small bar chart of lapses per note (inline SVG, no script)."""
    findings = "".join(
        f"<tr><td>{html.escape(f.location)}</td><td>{html.escape(', '.join(f.reasons))}</td>"
        f"<td>{html.escape(f.detail)}</td></tr>"
        for f in study.findings
    )
    worst = sorted(study.per_note.items(), key=lambda item: -item[1][2])[:12]
    top = max((lapses for _, (_, _, lapses) in worst), default=0) or 1
    bars = "".join(
        f'<text x="0" y="{18 * i + 13}" font-size="12">{html.escape(path[-38:])}</text>'
        f'<rect x="260" y="{18 * i + 3}" width="{240 * lapses / top:.0f}" height="12" fill="#b3261e"></rect>'
        f'<text x="{265 + 240 * lapses / top:.0f}" y="{18 * i + 13}" font-size="12">{lapses}</text>'
        for i, (path, (_, _, lapses)) in enumerate(worst)
    )
    chart = (
        f'<svg class="chart" width="560" height="{18 * len(worst) + 6}" role="img" aria-label="lapses per note">'
        f"{bars}</svg>"
        if worst
        else ""
    )
    return (
        f"<p>Study: {study.cards_found} cards found in the collection, {study.notes_missing} notes deleted in Anki;"
        f" the deck's norm is {study.lapse_rate:.0%} lapses a review. Takeaways to look at:"
        f" {len(study.findings)}.</p>"
        f'<table class="findings"><tr><th>takeaway</th><th>why</th><th>figures</th></tr>{findings}</table>'
        f"<p>Lapses per note (the most first):</p>{chart}"
    )


def _images(cards: Sequence[Card]) -> dict[str, str]:
    """Media name -> data URI, for the images the cards show (SVG never: it can carry script)."""
    found: dict[str, str] = {}
    for card in cards:
        for media in card.media:
            kind = _EMBEDDED_TYPES.get(media.path.suffix.lower())
            if kind is None or media.name in found:
                continue
            try:
                if media.path.stat().st_size > MAX_EMBEDDED_IMAGE:
                    continue
                data = media.path.read_bytes()
            except OSError:
                continue
            found[media.name] = f"data:{kind};base64,{base64.b64encode(data).decode('ascii')}"
    return found


_SRC = re.compile(r'(<img\b[^>]*?\bsrc=")([^"]*)(")')


def _embed(fragment: str, images: Mapping[str, str]) -> str:
    def swap(match: re.Match[str]) -> str:
        name = html.unescape(match.group(2))
        return match.group(1) + html.escape(images.get(name, ""), quote=True) + match.group(3)

    return _SRC.sub(swap, fragment)


_PAGE_CSS = """
body { margin: 0; font-family: system-ui, sans-serif; background: #f4f4f6; color: #1d1d1f; }
header { position: sticky; top: 0; background: #fff; border-bottom: 1px solid #ddd; padding: 0.6em 1em; z-index: 1; }
main { padding: 0.5em 1em 3em; }
details.note { background: #fff; border: 1px solid #ddd; border-radius: 6px; margin: 0.6em 0; padding: 0.3em 0.8em; }
details.note > summary { cursor: pointer; padding: 0.3em 0; }
.path, .count, .where, .kind, .label { color: #6b6b70; font-size: 0.85em; }
.takeaway { border-top: 1px solid #eee; padding: 0.5em 0; }
blockquote.source { white-space: pre-wrap; margin: 0.3em 0; padding: 0.3em 0.8em; border-left: 3px solid #ccc;
  color: #3a3a3c; font-size: 0.9em; }
.verdict ul { display: inline; padding: 0; }
.verdict li { display: inline; list-style: none; margin-left: 0.5em; }
.verdict.bad, b.bad, span.bad { color: #b3261e; }
.sides { display: flex; gap: 0.8em; flex-wrap: wrap; }
.side { flex: 1 1 20em; min-width: 0; }
.side .card { border: 1px solid #e3e3e6; border-radius: 6px; padding: 0.5em 0.8em; font-size: 16px; max-width: none; }
.face { margin: 0.4em 0 0.8em; }
.study table, table.findings { font-size: 0.85em; }
body.only-flagged .takeaway:not(.flagged), body.only-flagged details.note:not(.flagged) { display: none; }
.math-note { font-size: 0.8em; color: #6b6b70; }
"""

_SCRIPT = """
const box = document.getElementById('only-flagged');
box.addEventListener('change', () => document.body.classList.toggle('only-flagged', box.checked));
document.getElementById('fold').addEventListener('click', () => {
  const notes = document.querySelectorAll('details.note');
  const open = [...notes].some(d => d.open);
  notes.forEach(d => { d.open = !open; });
});
"""

_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'; \
script-src 'nonce-{nonce}'; base-uri 'none'; form-action 'none'">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title><style>{css}</style></head>
<body><header><b>{title}</b> · <label><input type="checkbox" id="only-flagged"> only flagged</label>
 · <button type="button" id="fold">fold / unfold all</button></header>
<main>{summary}
<p class="math-note">Math is shown as its TeX source: Anki typesets it with MathJax, which this page,
loading nothing from the network, does not include.</p>
{failed}{silent}{body}</main>
<script nonce="{nonce}">{script}</script></body></html>
"""


def write_page(
    options: Options, target: Path, collection: Path | None = None, client: AnkiConnect | None = None
) -> str:
    """Build the cards in memory (no deck is written), write the page atomically, and say what it holds."""
    from .build import check
    from .lock import write_atomic
    from .statistics import study as read_study

    crop, problems = check(options)
    found = read_study(options, collection, client) if collection is not None or client is not None else None
    text = page(
        crop.cards,
        problems,
        title=f"flashgen: {options.name}",
        silent_notes=tuple(f"{rel}: {why}" for rel, why in crop.silent),
        failures=crop.failures,
        study=found,
    )
    write_atomic(target, text)
    return f"{target}: {crop.notes} notes, {crop.takeaways} takeaways, {len(crop.cards)} Anki notes"
