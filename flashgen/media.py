"""Media: the local images a note's cards show, packed under names that cannot collide.

Anki's media folder is flat, so every file gets a name made of its stem and a
hash of its content: equal images share one file, different images never
overwrite each other. Only files inside the notes folder are ever packed; a
path that leaves it (`../../etc/passwd`, an absolute path, a symbolic link
pointing out) is refused.

An SVG is a document, not a picture: it can hold scripts, links and styles that
load other files, and Anki serves its media folder to the webview that shows the
cards. An SVG is packed only if it is inert (`svg_problem` finds nothing: drawing
elements and attributes only, references inside the file only); otherwise it is
refused with a warning that says why. It is packed as it is, never rewritten.
"""

from __future__ import annotations

import hashlib
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urlsplit

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser

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
        if resolved.suffix.lower() == ".svg":
            unsafe = svg_problem(data)
            if unsafe:
                self._problem(f"image {src!r} refused: the SVG {unsafe}; only inert drawings are packed")
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


# ---------------------------------------------------------------- SVG images

_SVG = "http://www.w3.org/2000/svg"
_XLINK = "http://www.w3.org/1999/xlink"
# Namespaces whose elements a browser runs or renders inside an SVG document.
_ACTIVE_NAMESPACES = frozenset(
    {
        _SVG,
        "http://www.w3.org/1999/xhtml",
        "http://www.w3.org/1998/Math/MathML",
        "http://www.w3.org/1999/XSL/Transform",
        "http://www.w3.org/2001/XInclude",
        "http://www.w3.org/2001/xml-events",
    }
)
# Drawing elements: no script, foreignObject, animation (which can set a link), iframe or handler.
_SVG_ELEMENTS = frozenset(
    {
        "svg", "g", "defs", "symbol", "use", "title", "desc", "metadata", "switch", "view", "style", "path",
        "rect", "circle", "ellipse", "line", "polyline", "polygon", "text", "tspan", "textPath",
        "linearGradient", "radialGradient", "stop", "pattern", "clipPath", "mask", "marker", "image", "a",
        "filter", "feBlend", "feColorMatrix", "feComponentTransfer", "feComposite", "feConvolveMatrix",
        "feDiffuseLighting", "feDisplacementMap", "feDistantLight", "feDropShadow", "feFlood", "feFuncA",
        "feFuncB", "feFuncG", "feFuncR", "feGaussianBlur", "feImage", "feMerge", "feMergeNode",
        "feMorphology", "feOffset", "fePointLight", "feSpecularLighting", "feSpotLight", "feTile",
        "feTurbulence",
    }
)  # fmt: skip
_RASTER = re.compile(r"data:image/(?:png|jpe?g|gif|webp);base64,[A-Za-z0-9+/=\s]*\Z", re.IGNORECASE)
_WEB = re.compile(r"https?://", re.IGNORECASE)
# In CSS (a style attribute, a <style> element, a presentation attribute): only references inside the file.
_CSS_REFERENCE = re.compile(
    r"url\s*\(\s*(?![\"']?\s*#)|@import|expression\s*\(|javascript:|-moz-binding|behavior\s*:", re.I
)


class _Builder(ET.TreeBuilder):
    """A tree builder that counts processing instructions, before the root element too."""

    instructions = 0

    def pi(self, target: str, data: str | None = None) -> ET.Element:
        self.instructions += 1
        return super().pi(target, data)


def svg_problem(data: bytes) -> str:
    """What makes an SVG unsafe to show in Anki (a script, an event handler, a link or a style
    that reaches outside the file, a DTD), or "" when it is an inert drawing."""
    builder = _Builder()
    parser = DefusedXMLParser(target=builder, forbid_dtd=False, forbid_entities=True, forbid_external=True)
    try:
        parser.feed(data)
        root = parser.close()
    except DefusedXmlException:
        return "declares entities (an XML bomb or a file read)"
    except (ET.ParseError, ValueError, RecursionError):
        return "is not well-formed XML"
    if builder.instructions:
        return "holds a processing instruction (it could load a style sheet)"
    if root.tag != f"{{{_SVG}}}svg":
        return "is not an SVG document"
    for element in root.iter():
        namespace, _, name = element.tag[1:].partition("}") if element.tag.startswith("{") else ("", "", element.tag)
        if namespace in _ACTIVE_NAMESPACES and not (namespace == _SVG and name in _SVG_ELEMENTS):
            return f"holds a <{name}> element"
        if not namespace:
            return f"holds a <{name}> element outside the SVG namespace"
        if name == "style" and _CSS_REFERENCE.search("".join(element.itertext())):
            return "has a style that loads something"
        for attribute, value in element.attrib.items():
            problem = _attribute_problem(name, attribute, value)
            if problem:
                return problem
    return ""


def _attribute_problem(element: str, attribute: str, value: str) -> str:
    local = attribute.rpartition("}")[2]
    if local.lower().startswith("on"):
        return f"has an event handler ({local} on <{element}>)"
    if attribute == "{http://www.w3.org/XML/1998/namespace}base":
        return "changes where its links point (xml:base)"
    if local == "href" and attribute in ("href", f"{{{_XLINK}}}href"):
        reference = value.strip()
        if reference.startswith("#"):
            return ""
        if element == "a" and _WEB.match(reference):
            return ""
        if element in ("image", "feImage") and _RASTER.match(reference):
            return ""
        return f"links to {reference[:60]!r} (on <{element}>)"
    if _CSS_REFERENCE.search(value):
        return f"has a style that loads something ({local} on <{element}>)"
    return ""
