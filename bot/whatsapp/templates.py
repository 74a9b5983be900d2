"""Business-initiated messages on WhatsApp: approved templates with two body parameters.

WhatsApp lets a business write first (an invitation, a decision, a reminder) only with
a template Meta approved, in the resident's language. Each of ours has two body
parameters: {{1}} the message, {{2}} a link. Meta refuses a parameter with a newline, a
tab or more than four spaces in a row (error 132018), and a body over 1,024 characters
once filled in (132005): the message is flattened to one paragraph and cut to leave
room for the link and the template's own words. Pure: no I/O.
"""

from __future__ import annotations

from typing import Any

BODY_MOST = 1024  # the template's body with its parameters filled in
TEMPLATE_WORDS = 160  # room left for the template's own words (see docs/deployment.md)
PARAMETER_MOST = 1023  # "under 1,024 characters", each


def flatten(text: str) -> str:
    """One line with single spaces: no newline, tab or run of spaces, as Meta requires."""
    return " ".join(text.split())


def cut(text: str, most: int) -> str:
    return text if len(text) <= most else text[: max(0, most - 1)].rstrip() + "…"


def parameters(message: str, link: str) -> tuple[str, str]:
    """{{1}} and {{2}}: the message flattened and cut so that, with the link and the
    template's words, the body stays within Meta's 1,024 characters."""
    link = cut(flatten(link), PARAMETER_MOST)
    room = min(PARAMETER_MOST, BODY_MOST - TEMPLATE_WORDS - len(link))
    return cut(flatten(message), max(room, 1)) or "…", link or "…"


def language_code(languages: dict[str, str], language: str) -> str:
    """The template's language for a resident's: theirs as template_languages maps it,
    else English's, else "en"."""
    return languages.get(language) or languages.get("en") or "en"


def payload(to: str, name: str, language: str, message: str, link: str) -> dict[str, Any]:
    """A Cloud API template message (without messaging_product)."""
    first, second = parameters(message, link)
    return {
        "to": to,
        "type": "template",
        "template": {
            "name": name,
            "language": {"code": language, "policy": "deterministic"},
            "components": [
                {
                    "type": "body",
                    "parameters": [{"type": "text", "text": first},
                                   {"type": "text", "text": second}],
                }
            ],
        },
    }  # fmt: skip
