"""A fake of Meta's WhatsApp Cloud API (Graph API) that enforces its rules.

It plays both sides: the Graph API the bot calls, and Meta's webhook delivering
residents' messages (and the statuses of the bot's messages) to the bot::

    async with FakeWhatsApp(webhook_url=f"{bot_url}/whatsapp/webhook") as fake:
        fake.add_template("needs_first_hello", "en_GB", "Hello {{1}}, ...")
        ...  # configure the bot with fake.base_url, fake.access_token, fake.app_secret
        assert await fake.verify("the bot's verify token")
        await fake.send_text("447700900001", "Hi")
        reply = await fake.wait_for_text("447700900001", "Welcome")
        await fake.press("447700900001", reply.buttons[0][0])

The bot posts to ``f"{fake.base_url}/{fake.api_version}/{fake.phone_number_id}/messages"``
with ``Authorization: Bearer {fake.access_token}``, and uploads documents to ``.../media``.
Supported message types: text, interactive (button, list), template, document; and
``{"status": "read", "message_id": ...}`` to mark a resident's message read.

Rules (the point of the fake):

* Errors are in Graph's shape, ``{"error": {"message", "type", "code", "error_data":
  {"messaging_product", "details"}, "fbtrace_id"}}``, ``details`` naming the field.
  HTTP 401 for a wrong token (190), 400 for everything else a request does wrong.
* Throughput: more than ``throughput`` messages in a rolling second, 130429.
* Pair rate: a token bucket per user of ``pair_burst`` messages, refilled one per
  ``pair_rate_seconds``; empty, 131056.
* A free-form message to a user who has not written in 24 hours (by ``clock``), or
  never, is accepted (200) and then fails by status webhook with 131047; it is not in
  the user's chat.  Templates may be sent at any time.
* Limit tier: a template to a user whose window is closed starts a business-initiated
  conversation; past ``daily_limit`` of those (unique users, rolling 24 hours) it is
  accepted and fails with 131048, and is recorded in ``limit_breaches``.
* ``block(user)``: messages to them are accepted and fail with 131026.

Choices where Meta's documentation is vague or silent:

* 130429 and 131056 are answered with HTTP 400, as Meta does (not 429).
* The limit tier has no dedicated code in Meta's documentation: 131048 "Spam rate
  limit hit" is used.  Templates sent inside an open 24-hour window do not count
  toward it, nor does a second template to a user already counted in the last 24 h.
* When an accepted message would fail for several reasons, the first applies: the
  24-hour window (131047), then a block (131026), then the limit tier (131048).
* An unknown (or older than 30 days) media id in a document message is refused at
  once, HTTP 400 with 131053 "Media upload error"; an unsupported upload type is 100.
* Envelope mistakes (messaging_product, to, type) are code 100; inside a message, a
  missing field is 131008 and a bad value 131009; templates: unknown name or language
  132001, wrong parameter count 132000, a parameter with a newline, a tab or five
  spaces in a row 132018, a filled body over 1,024 characters 132005.
* Stricter than Meta: ``to`` must be 8-15 digits (Meta strips "+", spaces and dashes);
  only the configured ``api_version`` is served (others 400, code 2500); only text
  headers and text template parameters are supported.
* A failed message gets only a "failed" status; a delivered one "sent" then
  "delivered" (optional: ``send_statuses``), each in its own webhook POST, with
  ``pricing`` (category "service", or the template's category).  ``read(user)`` sends
  "read" statuses.
* Webhook bodies are encoded as Meta encodes them (ASCII only, "/" escaped as "\\/"),
  signed with ``X-Hub-Signature-256``.  Only HTTP 200 counts as delivered; anything
  else, or no answer, is retried after each of ``retry_delays`` and then given up
  (``undelivered``).  One queue per user keeps a user's events in order.
* A resident's message opens the window when it is sent, whether or not the bot took
  the webhook; ``forge`` and ``deliver_raw`` do not open it.

The package, by job: ``server`` (the dataclass, life, reading and waiting), ``graph``
(the HTTP handlers, faults, templates, blocks), ``validate`` (what a message may
contain), ``limits`` (the rules above), ``webhooks`` (delivery to the bot, signing,
verify, forge, redelivery), ``residents`` (users sending, pressing, reading),
``records`` (what is recorded), ``errors`` (codes and Graph's error shape).
"""

from tests.fakes.whatsapp_api.errors import GraphError
from tests.fakes.whatsapp_api.records import (
    Delivery,
    ErrorRecord,
    Event,
    LimitBreach,
    Media,
    Sent,
    Template,
)
from tests.fakes.whatsapp_api.residents import OTHER_KINDS, NoSuchButton
from tests.fakes.whatsapp_api.server import FakeWhatsApp
from tests.fakes.whatsapp_api.webhooks import encode, signature

__all__ = [
    "OTHER_KINDS",
    "Delivery",
    "ErrorRecord",
    "Event",
    "FakeWhatsApp",
    "GraphError",
    "LimitBreach",
    "Media",
    "NoSuchButton",
    "Sent",
    "Template",
    "encode",
    "signature",
]
