"""Replies to residents on WhatsApp, under the number's rate and each resident's.

A reply goes ahead of any broadcast in the shared rate window. Meta's "not now"
answers are waited out and tried again: 130429 (the number's messages a second)
pauses everyone for a second; 131056 (too many to one resident in a short time) waits
for that resident. Anything else is logged by its code, never with the words.
"""

from __future__ import annotations

import asyncio
import logging

from bot.channels.rate_window import RateWindow
from bot.whatsapp.client import PAIR_RATE, THROUGHPUT, CloudApi, CloudError
from bot.whatsapp.outbound import Document, Outgoing, render
from conversations.flow.messages import Message

log = logging.getLogger(__name__)


class Outbox:
    def __init__(self, api: CloudApi, window: RateWindow, *, tries: int = 4,
                 pair_wait: float = 6.0) -> None:  # fmt: skip
        self.api, self.window, self.tries, self.pair_wait = api, window, tries, pair_wait

    async def deliver(self, wa_id: str, messages: list[Message], language: str | None) -> bool:
        """Send each message in order; False if one could not be sent."""
        for message in messages:
            for outgoing in render(message, language):
                if not await self.send(wa_id, outgoing, urgent=True):
                    return False
        return True

    async def send(self, wa_id: str, outgoing: Outgoing, *, urgent: bool) -> bool:
        for attempt in range(1, self.tries + 1):
            try:
                await self.window.acquire(urgent=urgent)
                await self.api.send({"to": wa_id, **await self._payload(outgoing)})
                return True
            except CloudError as error:
                if not error.temporary or attempt == self.tries:
                    log.warning("a WhatsApp message was not sent: %s", error.code)
                    return False
                if error.code == THROUGHPUT:
                    self.window.pause(1.0)
                await asyncio.sleep(self.pair_wait if error.code == PAIR_RATE else 0.5 * attempt)
        return False

    async def _payload(self, outgoing: Outgoing) -> dict[str, object]:
        if not isinstance(outgoing, Document):
            return outgoing
        attachment = outgoing.attachment
        media = await self.api.upload(attachment.content, attachment.filename, outgoing.mime_type)
        document = {"id": media, "filename": attachment.filename}
        if outgoing.caption:
            document["caption"] = outgoing.caption
        return {"type": "document", "document": document}
