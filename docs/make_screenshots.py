#!/usr/bin/env python3
"""Screenshots of flashgen cards for the docs (docs/screenshots/*.png).

    python docs/make_screenshots.py [--out docs/screenshots] [--mathjax DIR] [--no-mathjax] [--keep]
                                    [--anki-gui-tool PATH/anki_gui_shot.sh]

1. Builds the showcase deck (docs/showcase/notes) with `flashgen build` into a temporary folder.
2. Reads the note types (templates, CSS) and notes back out of the .apkg, so the pages use exactly
   what Anki imports, and renders chosen cards to HTML roughly the way Anki's reviewer does:
   {{Field}}, {{#Field}}...{{/Field}}, {{^Field}}...{{/Field}}, {{FrontSide}} and {{cloze:Text}}
   ([...] on the question side, the deletion in <span class="cloze"> on the answer side).
3. Screenshots each card's question and answer side, light and night mode
   (<html class="night_mode"><body class="card nightMode">), with headless Chromium
   (Debian's `chromium`), plus the answer side of one card at phone width (400 px).

Math: MathJax 3 cannot be fetched at run time, so the script installs the `mathjax@3` npm package
(npm registry, needs `npm`) into a cache folder under the system temp folder and loads it from
file://. Pass --mathjax DIR to use an existing node_modules/mathjax folder. When neither works the
math stays as TeX (\\(...\\)) and the script says so.

4. With --anki-gui-tool (a script outside this project that drives the real Anki desktop app
   headless and writes card<i>-<question|answer>-<light|night>.png and manifest.json), also runs
   it on the package and copies the most useful real-Anki shots to OUT/anki/ (ANKI_PICKS).

Approximations: the reviewer's own stylesheet is reduced to the few rules below (ANKI_BASE_CSS);
fonts are whatever Chromium finds on this machine. For the real thing see docs/screenshots/anki/,
made with the Anki desktop app itself.
"""

from __future__ import annotations

import argparse
import html
import json
import re
import shutil
import sqlite3
import struct
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path

DOCS = Path(__file__).resolve().parent
REPO = DOCS.parent
NOTES = DOCS / "showcase" / "notes"
CHROMIUM_CANDIDATES = ("chromium", "chromium-browser", "google-chrome")
WIDTH, PHONE_WIDTH = 720, 400

# The few rules of Anki's reviewer stylesheet that matter for layout (approximation).
ANKI_BASE_CSS = """
html { overflow-x: hidden; }
body { margin: 20px; overflow-wrap: break-word; }
html.night_mode body { background-color: #2c2c2c; color: #fcfcfc; }
hr#answer { border: none; border-top: 1px solid #c4c4c4; margin: 0.8em 0; }
html.night_mode hr#answer { border-top-color: #555; }
.cloze { font-weight: bold; color: blue; }
.nightMode .cloze { color: lightblue; }
"""

MATHJAX_CONFIG = """
window.MathJax = {
  tex: { inlineMath: [["\\\\(", "\\\\)"]], displayMath: [["\\\\[", "\\\\]"]],
         processEscapes: false, processEnvironments: false },
  startup: { pageReady() { return MathJax.startup.defaultPageReady().then(
      () => { document.documentElement.dataset.mathjax = "done"; }); } }
};
"""


@dataclass(frozen=True)
class Shot:
    """One card to photograph: a note type, a field dict, the template and cloze number."""

    slug: str
    model: dict
    fields: dict[str, str]
    template: dict
    ordinal: int  # cloze number (1-based) or template index


# ---------------------------------------------------------------- build and read the package


def build_deck(workdir: Path) -> Path:
    out = workdir / "deck"
    cmd = [sys.executable, "-m", "flashgen", "build", str(NOTES), "-o", str(out), "--name", "showcase"]
    subprocess.run(cmd, check=True, cwd=REPO)
    return out / "showcase.apkg"


def read_package(apkg: Path, media_dir: Path) -> tuple[dict[int, dict], list[tuple[int, list[str]]]]:
    """The note types by id and the notes (model id, field values) of a package; media go to media_dir."""
    media_dir.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(apkg) as z:
        z.extract("collection.anki2", media_dir.parent)
        names = json.loads(z.read("media"))
        for number, name in names.items():
            (media_dir / name).write_bytes(z.read(number))
    db = sqlite3.connect(media_dir.parent / "collection.anki2")
    models = {int(k): v for k, v in json.loads(db.execute("select models from col").fetchone()[0]).items()}
    notes = [(mid, flds.split("\x1f")) for mid, flds in db.execute("select mid, flds from notes order by id")]
    db.close()
    return models, notes


def choose(models: dict[int, dict], notes: list[tuple[int, list[str]]]) -> list[Shot]:
    """The cards the docs show: code, cloze, math, image and table."""
    shots: list[Shot] = []
    wanted = [
        ("code", False, lambda f: "fg-code" in f.get("Answer", "")),
        ("cloze", True, lambda f: "{{c1::" in f.get("Text", "")),
        ("math", False, lambda f: "\\[" in f.get("Answer", "")),
        ("image", False, lambda f: "<img" in f.get("Answer", "")),
        ("table", False, lambda f: "<table" in f.get("Answer", "")),
    ]
    for slug, cloze, test in wanted:
        for mid, values in notes:
            model = models[mid]
            fields = dict(zip((f["name"] for f in model["flds"]), values, strict=False))
            if (model.get("type") == 1) == cloze and test(fields):
                shots.append(Shot(slug, model, fields, model["tmpls"][0], 1 if cloze else 0))
                break
        else:
            print(f"warning: no {slug} card in the showcase deck", file=sys.stderr)
    return shots


# ---------------------------------------------------------------- Anki-like template rendering

_CLOZE = re.compile(r"\{\{c(\d+)::(.*?)(?:::(.*?))?\}\}", re.DOTALL)


def cloze(text: str, ordinal: int, answer: bool) -> str:
    def one(m: re.Match[str]) -> str:
        number, content, hint = int(m.group(1)), m.group(2), m.group(3)
        if number != ordinal:
            return content
        if answer:
            return f'<span class="cloze">{content}</span>'
        shown = html.escape(hint) if hint else "..."
        return f'<span class="cloze" data-cloze="{html.escape(content)}">[{shown}]</span>'

    previous = None
    while previous != text:  # nested deletions
        previous, text = text, _CLOZE.sub(one, text)
    return text


def fill(template: str, fields: dict[str, str], ordinal: int, answer: bool, front: str = "") -> str:
    def section(m: re.Match[str]) -> str:
        kind, name, body = m.group(1), m.group(2).strip(), m.group(3)
        present = bool(re.sub(r"<[^>]*>|\s|&nbsp;", "", fields.get(name, "")))
        return body if present == (kind == "#") else ""

    for _ in range(5):  # sections may nest
        template = re.sub(r"\{\{([#^])([^}]+)\}\}(.*?)\{\{/\2\}\}", section, template, flags=re.DOTALL)

    def field(m: re.Match[str]) -> str:
        spec = m.group(1).strip()
        if spec == "FrontSide":
            return front
        *filters, name = spec.split(":")
        value = fields.get(name.strip(), "")
        for f in reversed(filters):
            if f == "cloze":
                value = cloze(value, ordinal, answer)
            elif f == "text":
                value = re.sub(r"<[^>]*>", "", value)
        return value

    return re.sub(r"\{\{([^#^/][^}]*)\}\}", field, template)


def page(body: str, css: str, night: bool, mathjax: Path | None) -> str:
    script = ""
    if mathjax is not None:
        script = (
            f"<script>{MATHJAX_CONFIG}</script>\n"
            f'<script src="{(mathjax / "es5" / "tex-chtml-full.js").as_uri()}"></script>'
        )
    else:  # still say when the page is ready, for the height measurement
        script = '<script>document.documentElement.dataset.mathjax = "none";</script>'
    html_class = ' class="night_mode"' if night else ""
    body_class = "card card1 nightMode" if night else "card card1"
    return (
        f"<!doctype html>\n<html{html_class}><head><meta charset='utf-8'>\n"
        f"<style>{ANKI_BASE_CSS}</style>\n<style>{css}</style>\n{script}\n</head>\n"
        f'<body class="{body_class}"><div id="qa">\n{body}\n</div></body></html>\n'
    )


# ---------------------------------------------------------------- MathJax and Chromium


def find_mathjax(explicit: str | None, disabled: bool) -> Path | None:
    if disabled:
        return None
    if explicit:
        path = Path(explicit)
        return path if (path / "es5" / "tex-chtml-full.js").is_file() else None
    cache = Path(tempfile.gettempdir()) / "flashgen-docs-mathjax"
    found = cache / "node_modules" / "mathjax"
    if (found / "es5" / "tex-chtml-full.js").is_file():
        return found
    npm = shutil.which("npm")
    if npm is None:
        return None
    try:
        subprocess.run(
            [npm, "install", "--prefix", str(cache), "--no-audit", "--no-fund", "--ignore-scripts", "mathjax@3"],
            check=True,
            timeout=300,
            stdout=subprocess.DEVNULL,
        )
    except (subprocess.SubprocessError, OSError) as exc:
        print(f"warning: npm install mathjax@3 failed ({exc})", file=sys.stderr)
        return None
    return found if (found / "es5" / "tex-chtml-full.js").is_file() else None


def chromium() -> str:
    for name in CHROMIUM_CANDIDATES:
        path = shutil.which(name)
        if path:
            return path
    sys.exit("no chromium: apt-get update && apt-get install -y chromium")


def _browser(exe: str, profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    cmd = [
        exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--hide-scrollbars", "--force-device-scale-factor=1", "--allow-file-access-from-files",
        f"--user-data-dir={profile}", "--virtual-time-budget=8000", *args,
    ]  # fmt: skip
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120)


_MEASURE = """
<script>
(function () {
  function measure() {
    if (!document.documentElement.dataset.mathjax) { return setTimeout(measure, 50); }
    var r = document.getElementById("qa").getBoundingClientRect();
    var m = document.createElement("meta");
    m.name = "fg-height";
    m.content = Math.ceil(r.bottom + window.scrollY + 20);
    document.head.appendChild(m);
  }
  window.addEventListener("load", measure);
})();
</script>
"""


def screenshot(exe: str, html_file: Path, png: Path, width: int, workdir: Path) -> None:
    """Two passes: measure the content height (after MathJax), then shoot exactly that tall."""
    profile = Path(tempfile.mkdtemp(prefix="chromium-", dir=workdir))
    probe = html_file.with_suffix(".probe.html")
    probe.write_text(html_file.read_text().replace("</body>", _MEASURE + "</body>"))
    dom = _browser(exe, profile, f"--window-size={width},2000", "--dump-dom", probe.as_uri()).stdout
    found = re.search(r'name="fg-height" content="(\d+)"', dom)
    # below ~150 px, headless Chromium shows less of the page than the picture is tall
    height = min(max(int(found.group(1)), 160), 1800) if found else 900
    _browser(exe, profile, f"--window-size={width},{height}", f"--screenshot={png}", html_file.as_uri())
    if not png.is_file():
        sys.exit(f"chromium wrote no {png}")
    w, h = struct.unpack(">II", png.read_bytes()[16:24])
    print(f"  {png.relative_to(REPO) if png.is_relative_to(REPO) else png}  {w}x{h}  {png.stat().st_size // 1024} KB")


# ---------------------------------------------------------------- the real Anki desktop

# (card, side, Anki mode) -> OUT/anki/<card>-<side>-<light|dark>.png
ANKI_PICKS = (
    ("code", "answer", "light"), ("code", "answer", "night"),
    ("cloze", "question", "light"), ("cloze", "answer", "night"),
    ("math", "answer", "light"),
    ("image", "answer", "light"), ("image", "answer", "night"),
    ("table", "answer", "night"),
)  # fmt: skip


def anki_gui(tool: Path, apkg: Path, shots: list[Shot], out: Path, workdir: Path) -> None:
    raw = workdir / "anki-gui"
    result = subprocess.run(["bash", str(tool), str(apkg), str(raw), "8"], cwd=tool.parent.parent)
    manifest = raw / "manifest.json"
    if not manifest.is_file():
        print(f"warning: {tool} failed (exit {result.returncode}); no real-Anki screenshots", file=sys.stderr)
        return
    index = {c["fields"].get("ID"): c["index"] for c in json.loads(manifest.read_text())["cards"]}
    by_slug = {s.slug: s for s in shots}
    out.mkdir(parents=True, exist_ok=True)
    for slug, side, mode in ANKI_PICKS:
        shot = by_slug.get(slug)
        number = index.get(shot.fields.get("ID")) if shot else None
        source = raw / f"card{number}-{side}-{mode}.png"
        if number is None or not source.is_file():
            print(f"warning: real Anki did not show the {slug} card's {side} ({mode})", file=sys.stderr)
            continue
        target = out / f"{slug}-{side}-{'dark' if mode == 'night' else mode}.png"
        shutil.copyfile(source, target)
        print(f"  {target.relative_to(REPO) if target.is_relative_to(REPO) else target}  (real Anki)")


# ---------------------------------------------------------------- main


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=DOCS / "screenshots")
    parser.add_argument("--mathjax", help="an installed node_modules/mathjax (version 3) folder")
    parser.add_argument("--no-mathjax", action="store_true", help="leave math as TeX")
    parser.add_argument("--anki-gui-tool", type=Path, help="anki_gui_shot.sh, to add real-Anki shots in OUT/anki/")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder (HTML pages) and print it")
    args = parser.parse_args()

    exe = chromium()
    mathjax = find_mathjax(args.mathjax, args.no_mathjax)
    if mathjax is None:
        print("note: no MathJax; math is shown as TeX source", file=sys.stderr)
    workdir = Path(tempfile.mkdtemp(prefix="flashgen-shots-"))
    try:
        apkg = build_deck(workdir)
        pages = workdir / "pages"
        models, notes = read_package(apkg, pages)
        args.out.mkdir(parents=True, exist_ok=True)
        shots = choose(models, notes)
        for shot in shots:
            css = shot.model["css"]
            question = fill(shot.template["qfmt"], shot.fields, shot.ordinal, answer=False)
            answer = fill(shot.template["afmt"], shot.fields, shot.ordinal, answer=True, front=question)
            for side, body in (("question", question), ("answer", answer)):
                for mode in ("light", "dark"):
                    page_file = pages / f"{shot.slug}-{side}-{mode}.html"
                    page_file.write_text(page(body, css, mode == "dark", mathjax))
                    screenshot(exe, page_file, args.out / f"{shot.slug}-{side}-{mode}.png", WIDTH, workdir)
                    if shot.slug == "code" and side == "answer":
                        phone = args.out / f"phone-{shot.slug}-{side}-{mode}.png"
                        screenshot(exe, page_file, phone, PHONE_WIDTH, workdir)
        if args.anki_gui_tool:
            anki_gui(args.anki_gui_tool.resolve(), apkg, shots, args.out / "anki", workdir)
    finally:
        if args.keep:
            print(f"kept {workdir}")
        else:
            shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
