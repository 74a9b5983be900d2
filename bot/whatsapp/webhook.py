"""Meta's webhook: the subscription check, and signed calls written down before 200.

Meta retries a call that is not answered 200 (for days), and may deliver one twice.
So a call is answered 200 only once its messages are in the durable inbox; a call
that cannot be written is answered 503 and comes again. Unsigned or wrongly signed
calls are refused with 403 before anything in them is read.
"""

from __future__ import annotations

import hmac
import json
import logging

from aiohttp import web

from bot.whatsapp.channel import WhatsAppChannel
from bot.whatsapp.inbound import SIGNATURE_HEADER, read, signed

log = logging.getLogger(__name__)


class WhatsAppWebhook:
    def __init__(self, channel: WhatsAppChannel) -> None:
        self.channel = channel
        self.config = channel.config

    async def verify(self, request: web.Request) -> web.Response:
        """GET: Meta checks the subscription with our verify token; echo its challenge."""
        query = request.query
        given = query.get("hub.verify_token", "")
        if query.get("hub.mode") != "subscribe" or not hmac.compare_digest(
            given.encode("utf-8"), self.config.verify_token.encode("utf-8")
        ):
            log.warning("refused a WhatsApp subscription check with the wrong verify token")
            raise web.HTTPForbidden(text="forbidden")
        return web.Response(text=query.get("hub.challenge", ""))

    async def receive(self, request: web.Request) -> web.Response:
        """POST: residents' messages and our messages' statuses."""
        body = await request.read()
        if not signed(body, request.headers.get(SIGNATURE_HEADER, ""), self.config.app_secret):
            log.warning("refused a WhatsApp webhook call without a valid signature")
            raise web.HTTPForbidden(text="forbidden")
        try:
            messages, statuses = read(json.loads(body), self.config.phone_number_id)
        # RecursionError: a body nested thousands of levels deep, which json cannot read.
        except (ValueError, RecursionError) as error:
            log.warning("refused a malformed WhatsApp webhook call: %s", type(error).__name__)
            raise web.HTTPBadRequest(text="malformed") from error
        if not await self.channel.accept(messages, statuses):
            raise web.HTTPServiceUnavailable(text="not stored; send it again")
        return web.Response(text="ok")
