"""Reading an evidence pack back as its readers would: the HTML's outline, the PDF page by
page with its tags (pypdf), for the evidence pack's tests."""

from __future__ import annotations

import io
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any

from pypdf import PdfReader
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject


class Outline(HTMLParser):
    """Headings, tables (caption, header scopes), images' alt texts and scripts of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.headings: list[tuple[int, str]] = []
        self.captions: list[str] = []
        self.tables = 0
        self.headers_without_scope = 0
        self.alts: list[str] = []
        self.scripts = 0
        self._text: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag in ("h1", "h2", "h3", "h4", "h5", "h6", "caption"):
            self._text = []
        elif tag == "table":
            self.tables += 1
        elif tag == "th" and found.get("scope") not in ("row", "col"):
            self.headers_without_scope += 1
        elif tag == "img":
            self.alts.append(found.get("alt") or "")
        elif tag == "script":
            self.scripts += 1

    def handle_data(self, data: str) -> None:
        if self._text is not None:
            self._text.append(data)

    def handle_endtag(self, tag: str) -> None:
        if self._text is None:
            return
        text = " ".join("".join(self._text).split())
        if tag == "caption":
            self.captions.append(text)
            self._text = None
        elif tag in ("h1", "h2", "h3", "h4", "h5", "h6"):
            self.headings.append((int(tag[1]), text))
            self._text = None


def outline(html: str) -> Outline:
    found = Outline()
    found.feed(html)
    return found


@dataclass(frozen=True)
class Tagged:
    kind: str  # the structure type: /H1, /Table, /Figure, ...
    page: int | None  # the page it is on (0-based)
    alt: str | None


@dataclass(frozen=True)
class PdfRead:
    pages: list[str]  # each page's text
    tags: list[Tagged]

    def of(self, kind: str) -> list[Tagged]:
        return [t for t in self.tags if t.kind == kind]

    def page_with(self, text: str) -> int:
        return next(i for i, page in enumerate(self.pages) if text in " ".join(page.split()))


def read_pdf(data: bytes) -> PdfRead:
    reader = PdfReader(io.BytesIO(data))
    pages = [page.extract_text() or "" for page in reader.pages]
    numbers = {
        page.indirect_reference.idnum: i
        for i, page in enumerate(reader.pages)
        if page.indirect_reference is not None
    }
    tags: list[Tagged] = []

    def walk(node: Any) -> None:
        if isinstance(node, IndirectObject):
            node = node.get_object()
        if isinstance(node, ArrayObject):
            for child in node:
                walk(child)
            return
        if not isinstance(node, DictionaryObject):
            return
        kind = node.get("/S")
        if kind is not None:
            page = node.get("/Pg")
            number = numbers.get(page.idnum) if isinstance(page, IndirectObject) else None
            alt = node.get("/Alt")
            tags.append(Tagged(str(kind), number, None if alt is None else str(alt)))
        if "/K" in node:
            walk(node["/K"])

    walk(reader.trailer["/Root"]["/StructTreeRoot"])
    return PdfRead(pages, tags)
