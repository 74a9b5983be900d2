"""Telegram's HTML parse mode and the entities the server adds (UTF-16 offsets)."""

from __future__ import annotations

import re
from typing import Final

from tests.fakes.telegram_api.errors import JSON, ApiError, bad_request


def _u16(text: str) -> int:
    """Length in UTF-16 code units, the unit of Bot API entity offsets."""
    return len(text.encode("utf-16-le")) // 2


_COMMAND_RE: Final = re.compile(r"(?<![\w/@])/[A-Za-z0-9_]{1,32}(?:@[A-Za-z0-9_]{3,32})?(?![\w/])")


_TAG_RE: Final = re.compile(
    r"<(/?)([A-Za-z][A-Za-z0-9-]*)"
    r"((?:\s+[A-Za-z_:][-A-Za-z0-9_:.]*(?:\s*=\s*(?:\"[^\"]*\"|'[^']*'|[^\s\"'=<>`]+))?)*)\s*>"
)


_ATTR_RE: Final = re.compile(
    r"([A-Za-z_:][-A-Za-z0-9_:.]*)(?:\s*=\s*(?:\"([^\"]*)\"|'([^']*)'|([^\s\"'=<>`]+)))?"
)


_CHARREF_RE: Final = re.compile(r"&(?:#([0-9]{1,7})|#[xX]([0-9a-fA-F]{1,6})|(lt|gt|amp|quot));")


_PLAIN_RE: Final = re.compile(r"[^<&]+")


_NAMED_CHARREFS: Final = {"lt": "<", "gt": ">", "amp": "&", "quot": '"'}


_SIMPLE_TAGS: Final = {
    "b": "bold",
    "strong": "bold",
    "i": "italic",
    "em": "italic",
    "u": "underline",
    "ins": "underline",
    "s": "strikethrough",
    "strike": "strikethrough",
    "del": "strikethrough",
    "tg-spoiler": "spoiler",
    "code": "code",
    "pre": "pre",
}


def _entity_error(detail: str) -> ApiError:
    return bad_request(f"can't parse entities: {detail}")


def _html_entity(
    tag: str, attrs: dict[str, str], stack: list[tuple[str, int, JSON | None]], where: str
) -> JSON | None:
    if tag == "code" and stack and stack[-1][0] == "pre":
        # <pre><code class="language-x"> is one pre entity carrying the language.
        pre = stack[-1][2]
        language = attrs.get("class", "")
        if pre is not None and language.startswith("language-"):
            pre["language"] = language.removeprefix("language-")
        return None
    if tag in _SIMPLE_TAGS:
        return {"type": _SIMPLE_TAGS[tag]}
    if tag == "span":
        if attrs.get("class") == "tg-spoiler":
            return {"type": "spoiler"}
        raise _entity_error(f'Tag "span" must have class "tg-spoiler" {where}')
    if tag == "a":
        href = attrs.get("href", "")
        return {"type": "text_link", "url": href} if href else None
    if tag == "blockquote":
        return {"type": "expandable_blockquote" if "expandable" in attrs else "blockquote"}
    if tag == "tg-emoji":
        return {"type": "custom_emoji", "custom_emoji_id": attrs.get("emoji-id", "")}
    raise _entity_error(f'Unsupported start tag "{tag}" {where}')


def parse_html(source: str) -> tuple[str, list[JSON]]:
    """Parse Telegram's HTML parse mode into plain text and entities (UTF-16 offsets).

    Strict like Telegram: unknown tags, mismatched tags and a bare ``<`` are errors, which
    catches user input interpolated into HTML without escaping.
    """
    out: list[str] = []
    pos16 = 0
    stack: list[tuple[str, int, JSON | None]] = []
    entities: list[JSON] = []
    i, n = 0, len(source)
    while i < n:
        char = source[i]
        if char == "<":
            where = f"at byte offset {len(source[:i].encode())}"
            tag_match = _TAG_RE.match(source, i)
            if tag_match is None:
                raise _entity_error(f"Unexpected end of name token {where}")
            closing, tag = bool(tag_match.group(1)), tag_match.group(2).lower()
            if closing:
                if not stack:
                    raise _entity_error(f'Unexpected end tag "{tag}" {where}')
                if stack[-1][0] != tag:
                    raise _entity_error(
                        f'Unmatched end tag {where}, expected "</{stack[-1][0]}>", found "</{tag}>"'
                    )
                _, start, entity = stack.pop()
                if entity is not None and pos16 > start:
                    entity["offset"] = start
                    entity["length"] = pos16 - start
                    entities.append(entity)
            else:
                attrs = {
                    a.group(1).lower(): next((g for g in a.group(2, 3, 4) if g is not None), "")
                    for a in _ATTR_RE.finditer(tag_match.group(3))
                }
                stack.append((tag, pos16, _html_entity(tag, attrs, stack, where)))
            i = tag_match.end()
            continue
        if char == "&" and (ref := _CHARREF_RE.match(source, i)) is not None:
            if ref.group(3) is not None:
                piece = _NAMED_CHARREFS[ref.group(3)]
            else:
                code = int(ref.group(1)) if ref.group(1) is not None else int(ref.group(2), 16)
                valid = 0 < code <= 0x10FFFF and not 0xD800 <= code <= 0xDFFF
                piece = chr(code) if valid else ref.group(0)
            i = ref.end()
        elif char == "&":
            piece, i = "&", i + 1  # a lone ampersand is kept as text
        else:
            plain = _PLAIN_RE.match(source, i)
            assert plain is not None
            piece, i = plain.group(0), plain.end()
        out.append(piece)
        pos16 += _u16(piece)
    if stack:
        raise _entity_error(f'Can\'t find end tag corresponding to start tag "{stack[-1][0]}"')
    entities.sort(key=lambda e: (e["offset"], -e["length"]))
    return "".join(out), entities


def command_entities(text: str) -> list[JSON]:
    """bot_command entities, which Telegram's server adds to any text containing commands."""
    return [
        {"type": "bot_command", "offset": _u16(text[: m.start()]), "length": _u16(m.group(0))}
        for m in _COMMAND_RE.finditer(text)
    ]


def inline_buttons(message: JSON) -> list[JSON]:
    markup = message.get("reply_markup") or {}
    rows = markup.get("inline_keyboard") or []
    return [button for row in rows for button in row]
