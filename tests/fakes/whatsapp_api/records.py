"""What the fake records: templates, media, messages sent, errors and webhook deliveries."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, Final

JSON = dict[str, Any]

PLACEHOLDER: Final = re.compile(r"\{\{\s*(\d+)\s*\}\}")


@dataclass(frozen=True)
class Template:
    """An approved message template in one language; ``body`` has {{1}}, {{2}}..."""

    name: str
    language: str
    body: str
    category: str = "UTILITY"
    status: str = "APPROVED"
    #: Quick-reply button texts, in order (a resident's tap arrives as type "button").
    buttons: tuple[str, ...] = ()

    @property
    def param_count(self) -> int:
        return len({int(number) for number in PLACEHOLDER.findall(self.body)})

    def fill(self, parameters: tuple[str, ...]) -> str:
        return PLACEHOLDER.sub(lambda m: parameters[int(m.group(1)) - 1], self.body)


@dataclass(frozen=True)
class Media:
    """A file the bot uploaded with POST /{version}/{phone_number_id}/media."""

    id: str
    data: bytes
    mime_type: str
    filename: str | None
    time: float


@dataclass
class Sent:
    """A message the Graph API accepted (whatever became of it: see ``status``)."""

    wamid: str
    to: str
    type: str  # text | interactive | template | document
    time: float
    #: What the resident reads: the text body, the interactive body, the template body
    #: with its parameters filled in, or a document's caption ("" if none).
    text: str
    payload: JSON  # the request body as received
    interactive: str | None = None  # "button" | "list"
    #: Reply buttons (id, title); for a template, its quick replies (payload, text).
    buttons: tuple[tuple[str, str], ...] = ()
    rows: tuple[tuple[str, str], ...] = ()  # list rows (id, title)
    row_descriptions: dict[str, str] = field(default_factory=dict)
    header: str | None = None
    footer: str | None = None
    list_button: str | None = None
    template: str | None = None
    language: str | None = None
    parameters: tuple[str, ...] = ()
    filename: str | None = None
    media_id: str | None = None
    preview_url: bool = False
    context: str | None = None  # the wamid this message replies to
    #: accepted, then delivered and read; or failed (then ``error_code`` says why).
    status: str = "accepted"
    error_code: int | None = None

    @property
    def choices(self) -> tuple[tuple[str, str], ...]:
        """What the resident can press on this message: buttons, or list rows."""
        return self.buttons or self.rows


@dataclass(frozen=True)
class ErrorRecord:
    """An error the fake gave: ``http_status`` for an error answer, None for a send that
    was accepted and then failed by status webhook."""

    time: float
    code: int
    details: str
    http_status: int | None
    to: str | None = None
    wamid: str | None = None


@dataclass(frozen=True)
class LimitBreach:
    """A template past the messaging limit tier (failed with 131048)."""

    time: float
    to: str
    template: str
    wamid: str


@dataclass
class Event:
    """One webhook POST body, kept so that it can be delivered again as is."""

    id: int
    kind: str  # message | status | raw | forged
    body: bytes
    user: str | None
    wamids: tuple[str, ...]
    signature: str | None  # X-Hub-Signature-256 as sent; None: computed from the body
    delivered: bool = False  # the bot answered 200 once


@dataclass(frozen=True)
class Delivery:
    """One POST of an event to the bot's webhook and how the bot answered it."""

    event: int
    kind: str
    attempt: int
    status: int | None  # None: no answer (connection error, timeout)
    error: str | None
    time: float
    wamids: tuple[str, ...]

    @property
    def accepted(self) -> bool:
        return self.status == 200
