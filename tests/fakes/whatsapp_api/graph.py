"""The Graph API the bot calls: POST /{version}/{phone_number_id}/messages and /media,
and GET /{version}/{phone_number_id} (the number itself, for `needsfirst doctor`).

A request is checked in Graph's order: version and path, access token (401, 190), the
phone number id (400, 100), an injected fault, then the body (see ``validate``), then
throughput and pair rate.  An accepted message is logged before the answer is written
and its status webhooks are queued after, so the bot always has the wamid first.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
from collections import deque
from typing import Any, Final

from aiohttp import web

from tests.fakes.whatsapp_api import validate
from tests.fakes.whatsapp_api.errors import (
    INVALID_PARAMETER,
    INVALID_TOKEN,
    SOMETHING_WENT_WRONG,
    UNKNOWN_PATH,
    GraphError,
    bad_envelope,
    status_error,
    unknown_object,
)
from tests.fakes.whatsapp_api.limits import Limits
from tests.fakes.whatsapp_api.records import JSON, ErrorRecord, Media, Sent, Template
from tests.fakes.whatsapp_api.residents import Residents

MEDIA_TTL: Final = 30 * 24 * 60 * 60.0  # uploaded media lives 30 days
MB: Final = 1024 * 1024
#: MIME types Meta accepts for upload, and their size limits.
MEDIA_TYPES: Final[dict[str, int]] = {
    "audio/aac": 16 * MB, "audio/amr": 16 * MB, "audio/mpeg": 16 * MB, "audio/mp4": 16 * MB,
    "audio/ogg": 16 * MB, "text/plain": 100 * MB, "application/pdf": 100 * MB,
    "application/msword": 100 * MB, "application/vnd.ms-excel": 100 * MB,
    "application/vnd.ms-powerpoint": 100 * MB,
    "application/vnd.openxmlformats-officedocument.wordprocessingml.document": 100 * MB,
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": 100 * MB,
    "application/vnd.openxmlformats-officedocument.presentationml.presentation": 100 * MB,
    "image/jpeg": 5 * MB, "image/png": 5 * MB, "image/webp": 500 * 1024,
    "video/mp4": 16 * MB, "video/3gp": 16 * MB,
}  # fmt: skip


class GraphApi(Residents, Limits):
    """The HTTP handlers; mixed into FakeWhatsApp."""

    def add_template(
        self, name: str, language: str, body: str, *, category: str = "UTILITY",
        status: str = "APPROVED", buttons: tuple[str, ...] = (),
    ) -> Template:  # fmt: skip
        """An approved template (``status`` PAUSED or DISABLED to refuse it); ``body``
        has {{1}}, {{2}}...; ``buttons``: quick-reply texts."""
        template = Template(name, language, body, category.upper(), status.upper(), buttons)
        self.templates[(name, language)] = template
        return template

    def inject_fault(
        self, status: int | None = None, times: int = 1, code: int | None = None, *,
        details: str | None = None, endpoint: str = "messages",
    ) -> None:  # fmt: skip
        """Answer the next ``times`` requests to ``endpoint`` ("messages" or "media")
        with an error: HTTP ``status`` (500 by default, 400 when only ``code`` is
        given) and Graph ``code`` (131000 by default).  Faulted sends are not sent."""
        if status is None:
            status = 500 if code is None else 401 if code == INVALID_TOKEN else 400
        error_code = code if code is not None else SOMETHING_WENT_WRONG
        queue = self._faults.setdefault(endpoint, deque())
        queue.extend(GraphError(error_code, details, status=status) for _ in range(times))

    def block(self, wa_id: str) -> None:
        """The user blocked the business: sends to them fail with 131026."""
        self.blocked.add(wa_id)

    def unblock(self, wa_id: str) -> None:
        self.blocked.discard(wa_id)

    # -- handlers ----------------------------------------------------------------------

    async def _messages(self, request: web.Request) -> web.StreamResponse:
        raw = await request.read()  # first: a bot that gives up does not unsend it
        to: str | None = None
        try:
            body = self._open(request, raw, "messages")
            if isinstance(body, dict) and body.get("status") == "read":
                return self._mark_read(body)
            to, kind = validate.envelope(body)
            sent = validate.message(body, to, kind, wamid=self._new_wamid(), now=self.clock(),
                                    templates=self._template, media=self._media_by_id)  # fmt: skip
            # Counted as it arrives, as Meta counts: the latency is the answer's way back.
            self._check_rates(to)
        except GraphError as error:
            if self.latency > 0:
                await asyncio.sleep(self.latency)
            self._record_error(error, to)
            return error.response()
        self._count_send(to)
        if self.latency > 0:
            await asyncio.sleep(self.latency)
        failure = self._accept(sent)
        receipt: JSON = {
            "messaging_product": "whatsapp",
            "contacts": [{"input": to, "wa_id": to}],
            "messages": [{"id": sent.wamid}],
        }
        if sent.type == "template":
            receipt["messages"][0]["message_status"] = "accepted"
        response = web.json_response(receipt)
        with contextlib.suppress(ConnectionError):  # the bot gave up: the message stands
            await response.prepare(request)
            await response.write_eof()
        await self._announce(sent, failure)
        return response

    async def _upload(self, request: web.Request) -> web.StreamResponse:
        multipart = request.content_type == "multipart/form-data"
        form = await request.post() if multipart else None
        if self.latency > 0:
            await asyncio.sleep(self.latency)
        try:
            self._check_path(request)
            if form is None:
                raise bad_envelope("The parameter messaging_product is required.")
            self._take_fault("media")
            if form.get("messaging_product") != "whatsapp":
                raise bad_envelope("The parameter messaging_product is required.")
            upload = form.get("file")
            if not isinstance(upload, web.FileField):
                raise bad_envelope("The parameter file is required.")
            mime = form.get("type")
            if not isinstance(mime, str) or not mime:
                raise bad_envelope("The parameter type is required.")
            mime = mime.split(";")[0].strip().lower()
            data = upload.file.read()
            if mime not in MEDIA_TYPES:
                raise bad_envelope(f"Param file must be a file with one of the following "
                                   f"types: {', '.join(MEDIA_TYPES)}. Received file of type "
                                   f"'{mime}'.")  # fmt: skip
            if len(data) > MEDIA_TYPES[mime]:
                raise bad_envelope(f"Param file is too large for type '{mime}' "
                                   f"({len(data)} bytes; at most {MEDIA_TYPES[mime]}).")  # fmt: skip
        except GraphError as error:
            self._record_error(error, None)
            return error.response()
        media_id = str(10**15 + secrets.randbelow(9 * 10**15))
        self.media[media_id] = Media(media_id, data, mime, upload.filename, self.clock())
        return web.json_response({"id": media_id})

    async def _phone_number(self, request: web.Request) -> web.Response:
        """GET /{version}/{phone_number_id}: the number, as WhatsApp Manager shows it."""
        try:
            self._check_path(request)
        except GraphError as error:
            self._record_error(error, None)
            return error.response()
        digits = self.display_phone_number
        return web.json_response({
            "verified_name": "Needs First (test)", "code_verification_status": "VERIFIED",
            # Meta shows the number formatted: +44 7700 900100.
            "display_phone_number": f"+{digits[:2]} {digits[2:6]} {digits[6:]}",
            "quality_rating": "GREEN", "id": self.phone_number_id,
        })  # fmt: skip

    async def _unknown(self, request: web.Request) -> web.Response:
        error = GraphError(UNKNOWN_PATH, status=400, message=f"Unknown path components: "
                           f"{request.path}", details=f"{request.method} {request.path}")  # fmt: skip
        self._record_error(error, None)
        return error.response()

    # -- inside ------------------------------------------------------------------------

    def _check_path(self, request: web.Request) -> None:
        version = request.match_info["version"]
        if version != self.api_version:
            raise GraphError(UNKNOWN_PATH, message=f"Unknown path components: /{version}",
                             details=f"this fake serves {self.api_version} only")  # fmt: skip
        if request.headers.get("Authorization") != f"Bearer {self.access_token}":
            raise GraphError(INVALID_TOKEN, status=401, details="Invalid OAuth access token")
        node = request.match_info["node"]
        if node != self.phone_number_id:
            raise unknown_object(node)

    def _open(self, request: web.Request, raw: bytes, endpoint: str) -> Any:
        """Path, token and phone number checked; a fault taken; the JSON body."""
        self._check_path(request)
        try:
            body = json.loads(raw)
        except ValueError:
            raise bad_envelope("The parameter messaging_product is required.") from None
        self._take_fault(endpoint)
        return body

    def _take_fault(self, endpoint: str) -> None:
        queue = self._faults.get(endpoint)
        if queue:
            raise queue.popleft()

    def _template(self, name: str, language: str) -> Template | None:
        return self.templates.get((name, language))

    def _media_by_id(self, media_id: str) -> Media | None:
        found = self.media.get(media_id)
        if found is None or self.clock() - found.time > MEDIA_TTL:
            return None
        return found

    def _mark_read(self, body: JSON) -> web.Response:
        """{"status": "read", "message_id": wamid}: the bot marks an inbound message read."""
        if body.get("messaging_product") != "whatsapp":
            raise bad_envelope("The parameter messaging_product is required.")
        wamid = body.get("message_id")
        if not isinstance(wamid, str) or wamid not in self._inbound_events:
            raise GraphError(INVALID_PARAMETER, f"Invalid message_id: {wamid!r}")
        self.read_marks.append(wamid)
        self._changed()
        return web.json_response({"success": True})

    def _record_error(self, error: GraphError, to: str | None, wamid: str | None = None,
                      *, sync: bool = True) -> None:  # fmt: skip
        self.errors.append(ErrorRecord(self.clock(), error.code, error.details,
                                       error.status if sync else None, to, wamid))  # fmt: skip
        self.errors_by_code[error.code] += 1
        self._changed()

    def _accept(self, sent: Sent) -> int | None:
        """Log an accepted message; in the user's chat unless it is going to fail."""
        failure = self._failure(sent)
        self.sent.append(sent)
        if failure is None:
            sent.status = "delivered"
            self.chats.setdefault(sent.to, []).append(sent)
            if (signal := self._user_signals.get(sent.to)) is not None:
                signal.notify()
        else:
            sent.status, sent.error_code = "failed", failure
            self._record_error(GraphError(failure), sent.to, sent.wamid, sync=False)
        self._changed()
        return failure

    async def _announce(self, sent: Sent, failure: int | None) -> None:
        """Queue the status webhooks of an accepted message: sent and delivered, or failed."""
        stamp = str(int(self.clock()))
        base: JSON = {"id": sent.wamid, "timestamp": stamp, "recipient_id": sent.to}
        if failure is not None:
            statuses = [base | {"status": "failed", "errors": [status_error(failure)]}]
        elif self.send_statuses:
            category = (self._template(sent.template or "", sent.language or "")
                        if sent.type == "template" else None)  # fmt: skip
            pricing = {"billable": category is not None, "pricing_model": "PMP",
                       "category": category.category.lower() if category else "service"}  # fmt: skip
            statuses = [base | {"status": name, "pricing": pricing}
                        for name in ("sent", "delivered")]  # fmt: skip
        else:
            return
        for status in statuses:
            event = self._emit("status", {"statuses": [status]}, sent.to, (sent.wamid,))
            await self._deliver(event, wait=False)
