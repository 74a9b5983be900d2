"""A fake GOV.UK Notify API on loopback that enforces Notify's rules, for any channel's tests.

What it checks, as Notify does (docs.notifications.service.gov.uk/rest-api.html):

* API keys are ``{key name}-{service id}-{secret}`` (two UUIDs); the client signs a
  JWT with the secret: HS256, header ``{"typ": "JWT", "alg": "HS256"}``, claims
  ``iss`` (the service id) and ``iat`` (seconds, within 30 of the server's clock).
  Missing, malformed, unsigned, stale, wrong-service or revoked tokens get 401/403
  ``AuthError``.
* ``POST /v2/notifications/email`` and ``/v2/notifications/sms``: template ids must be
  UUIDs of a template of that type, every ``((placeholder))`` of the template needs
  personalisation, addresses and numbers must be valid, team keys only reach the
  team's allow-list; ``reference`` is optional and at most 1,000 characters.
* Rate limit: 3,000 requests per 60 seconds per service and key type (rolling), then
  429 ``RateLimitError``; a daily message limit, then 429 ``TooManyRequestsError``.
* Errors are ``{"status_code": N, "errors": [{"error": KIND, "message": TEXT}]}``.
* A sent message answers 201 with ``id``, ``reference``, ``content``, ``uri``, ``template``.
* ``GET /v2/template/{id}``: a template's type, body and subject (the doctor's check).

Knobs: :meth:`new_api_key`, :meth:`add_template`, :meth:`inject_fault` (errors for
the next N sends), ``rate_limit`` and ``clock`` (to test the limit without 3,000
real requests), ``daily_limit``. Sent messages are in :attr:`sent`.
"""

from __future__ import annotations

import re
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import jwt
from aiohttp import web

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
EMAIL = re.compile(r"^[^@\s]+@([^@\s.]+\.)+[^@\s.]{2,}$")
UK_MOBILE = re.compile(r"^(\+44|0044|0)7\d{9}$")
PLACEHOLDER = re.compile(r"\(\(([^()]+?)(\?\?[^()]*)?\)\)")
CLOCK_SKEW = 30  # seconds either way Notify accepts a token's iat
KEY_TYPES = {"normal": "LIVE", "team": "TEAM", "test": "TEST"}


class NotifyError(Exception):
    def __init__(self, status: int, kind: str, message: str) -> None:
        super().__init__(message)
        self.status, self.kind, self.message = status, kind, message

    def response(self) -> web.Response:
        return web.json_response(
            {"status_code": self.status, "errors": [{"error": self.kind, "message": self.message}]},
            status=self.status,
        )


@dataclass
class ApiKey:
    name: str
    service_id: str
    secret: str
    key_type: str  # normal | team | test
    revoked: bool = False

    @property
    def value(self) -> str:
        """The key as Notify shows it once: name, service id and secret joined by dashes."""
        return f"{self.name}-{self.service_id}-{self.secret}"


@dataclass
class Template:
    id: str
    type: str  # email | sms
    subject: str
    body: str
    version: int = 1

    def placeholders(self) -> list[str]:
        found = PLACEHOLDER.findall(self.subject + "\n" + self.body)
        return list(dict.fromkeys(name.strip() for name, _ in found))

    def fill(self, text: str, values: dict[str, Any]) -> str:
        def value(match: re.Match[str]) -> str:
            name, optional = match.group(1).strip(), match.group(2)
            if optional:  # ((name??text)): the text when name is "yes"/true
                return optional[2:] if values.get(name) in (True, "yes", "Yes") else ""
            return str(values[name])

        return PLACEHOLDER.sub(value, text)


@dataclass
class Sent:
    id: str
    type: str
    to: str
    template_id: str
    personalisation: dict[str, Any]
    reference: str | None
    subject: str
    body: str
    key_type: str


@dataclass
class _Fault:
    status: int
    kind: str
    message: str


@dataclass
class FakeNotify:
    """The fake server; use as ``async with FakeNotify() as notify:``."""

    rate_limit: int = 3000  # requests per rolling window, per service and key type
    window_seconds: float = 60.0  # Notify's window; shorter only to test it quickly
    daily_limit: int = 250_000
    clock: Callable[[], float] = time.time
    team_members: set[str] = field(default_factory=set)  # team keys may send only to these
    sent: list[Sent] = field(default_factory=list)
    requests: int = 0
    rejected: list[tuple[int, str]] = field(default_factory=list)  # (status, message)
    statuses: dict[str, str] = field(default_factory=dict)  # notification id -> status

    def __post_init__(self) -> None:
        self._keys: dict[str, list[ApiKey]] = {}  # service id -> keys
        self._templates: dict[str, Template] = {}
        self._windows: dict[tuple[str, str], deque[float]] = {}
        self._faults: deque[_Fault] = deque()
        self._sent_by: dict[str, str] = {}  # notification id -> service id
        self._runner: web.AppRunner | None = None
        self.base_url = ""

    async def __aenter__(self) -> FakeNotify:
        app = web.Application()
        app.router.add_post("/v2/notifications/{kind}", self._send)
        app.router.add_get("/v2/notifications/{id}", self._status)
        app.router.add_get("/v2/template/{id}", self._template)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        server = site._server
        assert server is not None and server.sockets  # type: ignore[attr-defined]
        port = server.sockets[0].getsockname()[1]  # type: ignore[attr-defined]
        self.base_url = f"http://127.0.0.1:{port}"
        return self

    async def __aexit__(self, *_: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    # -- set-up -----------------------------------------------------------------------

    def new_api_key(self, name: str = "needsfirst", key_type: str = "normal",
                    service_id: str | None = None) -> ApiKey:  # fmt: skip
        if key_type not in KEY_TYPES:
            raise ValueError(f"key_type must be one of {', '.join(KEY_TYPES)}")
        key = ApiKey(name, service_id or str(uuid.uuid4()), str(uuid.uuid4()), key_type)
        self._keys.setdefault(key.service_id, []).append(key)
        return key

    def add_template(self, body: str, *, subject: str = "", type: str = "email") -> Template:
        template = Template(str(uuid.uuid4()), type, subject, body)
        self._templates[template.id] = template
        return template

    def inject_fault(self, status: int = 500, *, times: int = 1, kind: str = "Exception",
                     message: str = "Internal server error") -> None:  # fmt: skip
        for _ in range(times):
            self._faults.append(_Fault(status, kind, message))

    def set_status(self, notification_id: str, status: str) -> None:
        """What Notify will say of a sent message (it starts "sending")."""
        self.statuses[notification_id] = status

    def emails_to(self, address: str) -> list[Sent]:
        return [s for s in self.sent if s.type == "email" and s.to == address]

    # -- the API ----------------------------------------------------------------------

    async def _send(self, request: web.Request) -> web.Response:
        self.requests += 1
        try:
            key = self._authenticate(request)
            self._count(key)
            if self._faults:
                fault = self._faults.popleft()
                raise NotifyError(fault.status, fault.kind, fault.message)
            kind = request.match_info["kind"]
            if kind not in ("email", "sms"):
                raise NotifyError(404, "BadRequestError", "Resource not found")
            try:
                body = await request.json()
            except ValueError as error:
                raise NotifyError(
                    400, "BadRequestError", "Invalid JSON supplied in POST data"
                ) from error
            if not isinstance(body, dict):
                raise NotifyError(400, "ValidationError", "POST data must be a JSON object")
            sent = self._message(kind, key, body)
        except NotifyError as error:
            self.rejected.append((error.status, error.message))
            return error.response()
        self.sent.append(sent)
        self._sent_by[sent.id] = key.service_id
        return web.json_response(self._receipt(request, sent), status=201)

    async def _status(self, request: web.Request) -> web.Response:
        """GET /v2/notifications/{id}: a message sent with this service's keys."""
        self.requests += 1
        try:
            key = self._authenticate(request)
            self._count(key)
            found = next((s for s in self.sent if s.id == request.match_info["id"]), None)
            if found is None or self._service_of(found) != key.service_id:
                raise NotifyError(404, "NoResultFound", "No result found")
        except NotifyError as error:
            self.rejected.append((error.status, error.message))
            return error.response()
        status = self.statuses.get(found.id, "sending")
        settled = status not in ("created", "sending", "pending")
        return web.json_response({
            "id": found.id, "reference": found.reference, "type": found.type,
            "email_address": found.to if found.type == "email" else None,
            "phone_number": found.to if found.type == "sms" else None,
            "status": status, "body": found.body, "subject": found.subject or None,
            "template": {"id": found.template_id, "version": 1, "uri": ""},
            "created_at": "2026-12-06T05:00:00.000000Z",
            "sent_at": "2026-12-06T05:00:01.000000Z",
            "completed_at": "2026-12-06T05:00:05.000000Z" if settled else None,
        })  # fmt: skip

    async def _template(self, request: web.Request) -> web.Response:
        """GET /v2/template/{id}: a template, as an operator's check reads it."""
        self.requests += 1
        try:
            self._authenticate(request)
            template_id = request.match_info["id"]
            if not UUID.match(template_id):
                raise NotifyError(400, "ValidationError", "id is not a valid UUID")
            found = self._templates.get(template_id)
            if found is None:
                raise NotifyError(404, "NoResultFound", "No result found")
        except NotifyError as error:
            self.rejected.append((error.status, error.message))
            return error.response()
        return web.json_response({
            "id": found.id, "name": f"{found.type} template", "type": found.type,
            "created_at": "2026-12-01T09:00:00.000000Z", "updated_at": None,
            "created_by": "someone@council.example", "version": found.version,
            "body": found.body, "subject": found.subject or None,
            "letter_contact_block": None, "postage": None,
        })  # fmt: skip

    def _service_of(self, sent: Sent) -> str:
        return self._sent_by.get(sent.id, "")

    def _authenticate(self, request: web.Request) -> ApiKey:
        header = request.headers.get("Authorization", "")
        if not header:
            raise NotifyError(
                401, "AuthError", "Unauthorized: authentication token must be provided"
            )
        scheme, _, token = header.partition(" ")
        if scheme != "Bearer" or not token:
            raise NotifyError(
                401, "AuthError", "Unauthorized: authentication bearer scheme must be used"
            )
        try:
            headers = jwt.get_unverified_header(token)
            claims = jwt.decode(token, options={"verify_signature": False})
        except jwt.PyJWTError as error:
            raise NotifyError(
                403, "AuthError", "Invalid token: signature, api token not found"
            ) from error
        if headers.get("alg") != "HS256" or headers.get("typ") != "JWT":
            raise NotifyError(403, "AuthError", "Invalid token: algorithm used is not HS256")
        issuer = claims.get("iss")
        if not issuer:
            raise NotifyError(403, "AuthError", "Invalid token: iss field not provided")
        if "iat" not in claims:
            raise NotifyError(403, "AuthError", "Invalid token: iat field not provided")
        if not isinstance(issuer, str) or not UUID.match(issuer) or issuer not in self._keys:
            raise NotifyError(
                403, "AuthError", "Invalid token: service id is not the right data type"
            )
        for key in self._keys[issuer]:
            try:
                jwt.decode(token, key=key.secret, algorithms=["HS256"],
                           options={"verify_iat": False})  # fmt: skip
            except jwt.PyJWTError:
                continue
            if key.revoked:
                raise NotifyError(403, "AuthError", "Invalid token: API key revoked")
            if abs(self.clock() - float(claims["iat"])) > CLOCK_SKEW:
                raise NotifyError(403, "AuthError",
                                  "Error: Your system clock must be accurate to within 30 seconds")  # fmt: skip
            return key
        raise NotifyError(403, "AuthError", "Invalid token: API key not found")

    def _count(self, key: ApiKey) -> None:
        now = self.clock()
        window = self._windows.setdefault((key.service_id, key.key_type), deque())
        while window and window[0] <= now - self.window_seconds:
            window.popleft()
        if len(window) >= self.rate_limit:
            raise NotifyError(429, "RateLimitError",
                              f"Exceeded rate limit for key type {KEY_TYPES[key.key_type]} of "
                              f"{self.rate_limit} requests per "
                              f"{self.window_seconds:g} seconds")  # fmt: skip
        window.append(now)

    def _message(self, kind: str, key: ApiKey, body: dict[str, Any]) -> Sent:
        to_field = "email_address" if kind == "email" else "phone_number"
        errors = [f"{name} is a required property" for name in (to_field, "template_id")
                  if name not in body]  # fmt: skip
        if errors:
            raise NotifyError(400, "ValidationError", errors[0])
        template_id = body["template_id"]
        if not isinstance(template_id, str) or not UUID.match(template_id):
            raise NotifyError(400, "ValidationError", "template_id is not a valid UUID")
        to = body[to_field]
        if kind == "email" and not (isinstance(to, str) and EMAIL.match(to)):
            raise NotifyError(400, "ValidationError", "email_address Not a valid email address")
        if kind == "sms" and not (isinstance(to, str) and UK_MOBILE.match(to.replace(" ", ""))):
            raise NotifyError(400, "ValidationError", "phone_number Not a UK mobile number")
        personalisation = body.get("personalisation") or {}
        if not isinstance(personalisation, dict):
            raise NotifyError(400, "ValidationError", "personalisation is not of type object")
        reference = body.get("reference")
        if reference is not None and (not isinstance(reference, str) or len(reference) > 1000):
            raise NotifyError(
                400, "ValidationError", "reference must be a string of at most 1000 characters"
            )
        template = self._templates.get(template_id)
        if template is None:
            raise NotifyError(400, "BadRequestError", "Template not found")
        if template.type != kind:
            raise NotifyError(400, "BadRequestError",
                              f"{kind} template is not suitable for {template.type} notification")  # fmt: skip
        missing = [name for name in template.placeholders() if name not in personalisation]
        if missing:
            raise NotifyError(
                400, "BadRequestError", f"Missing personalisation: {', '.join(missing)}"
            )
        if key.key_type == "team" and to not in self.team_members:
            raise NotifyError(400, "BadRequestError",
                              "Can't send to this recipient using a team-only API key")  # fmt: skip
        if sum(1 for s in self.sent if s.key_type != "test") >= self.daily_limit:
            raise NotifyError(429, "TooManyRequestsError",
                              f"Exceeded send limits ({self.daily_limit}) for today")  # fmt: skip
        return Sent(
            id=str(uuid.uuid4()),
            type=kind,
            to=to,
            template_id=template_id,
            personalisation=personalisation,
            reference=reference,
            subject=template.fill(template.subject, personalisation),
            body=template.fill(template.body, personalisation),
            key_type=key.key_type,
        )

    def _receipt(self, request: web.Request, sent: Sent) -> dict[str, Any]:
        template = self._templates[sent.template_id]
        base = f"{request.scheme}://{request.host}"
        content: dict[str, Any] = {"body": sent.body}
        if sent.type == "email":
            content |= {"subject": sent.subject, "from_email": "needs.first@notifications.service.gov.uk",
                        "one_click_unsubscribe_url": None}  # fmt: skip
        else:
            content |= {"from_number": "GOVUK"}
        return {
            "id": sent.id,
            "reference": sent.reference,
            "content": content,
            "uri": f"{base}/v2/notifications/{sent.id}",
            "template": {
                "id": template.id,
                "version": template.version,
                "uri": f"{base}/v2/template/{template.id}/version/{template.version}",
            },
        }
