"""`needsfirst doctor`'s GOV.UK Notify checks: the API key works (an authenticated read
of each configured template) and each template is of its kind, with its placeholders.

The key's form (name-service id-secret) is checked when the configuration loads.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from notifications_python_client.errors import APIError
from notifications_python_client.notifications import NotificationsAPIClient

from bot.actions.doctor import Finding
from bot.config import Config

# What the service fills in each template (bot/notify/sender.py, safeguarding_alerts.py).
RESIDENTS: tuple[str, ...] = ("message", "link")
SAFEGUARDING: tuple[str, ...] = ("flag", "link", "raised", "reason")


async def notify(config: Config) -> list[Finding]:
    found: list[Finding] = []
    residents, leads = config.notify, config.safeguarding
    if residents.api_key:
        wanted = [("sms", residents.sms_template_id, RESIDENTS),
                  ("email", residents.email_template_id, RESIDENTS)]  # fmt: skip
        found.append(await asyncio.to_thread(
            _templates, "notify", residents.api_key, residents.base_url, wanted))  # fmt: skip
    if leads.notify_api_key and leads.notify_template_id:
        wanted = [("email", leads.notify_template_id, SAFEGUARDING)]
        found.append(await asyncio.to_thread(
            _templates, "notify (safeguarding)", leads.notify_api_key, leads.notify_base_url,
            wanted))  # fmt: skip
    return found or [Finding("ok", "notify", "off: no API key")]


def _templates(what: str, api_key: str, base_url: str,
               wanted: Sequence[tuple[str, str, Sequence[str]]]) -> Finding:  # fmt: skip
    client = NotificationsAPIClient(api_key, base_url=base_url, timeout=15)  # type: ignore[no-untyped-call]
    missing: list[str] = []
    try:
        for kind, template_id, placeholders in wanted:
            try:
                template = client.get_template(template_id)  # type: ignore[no-untyped-call]
            except APIError as error:
                return Finding("fail", what, _refusal(error, base_url, kind, template_id))
            if template.get("type") != kind:
                return Finding("fail", what, f"template {template_id} is a {template.get('type')} "
                               f"template, not {kind}")  # fmt: skip
            words = f"{template.get('subject') or ''}\n{template.get('body') or ''}"
            missing += [f"(({name})) in the {kind} template" for name in placeholders
                        if f"(({name}))" not in words]  # fmt: skip
    finally:
        client.request_session.close()
    if missing:
        return Finding("warn", what, "the key works, but without " + ", ".join(missing))
    kinds = " and ".join(kind for kind, _, _ in wanted)
    return Finding("ok", what, f"the API key works; the {kinds} template(s) are found")


def _refusal(error: APIError, base_url: str, kind: str, template_id: str) -> str:
    if error.response is None:
        return f"cannot reach {base_url}"
    message = error.message
    if isinstance(message, list) and message and isinstance(message[0], dict):
        message = message[0].get("message", "")
    if error.status_code in (401, 403):
        return f"Notify refused the API key: {message}"
    if error.status_code == 404:
        return f"there is no {kind} template {template_id} in this Notify service"
    return f"Notify {error.status_code}: {message}"
