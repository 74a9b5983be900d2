"""The fake GOV.UK Notify server enforces Notify's rules against its real Python client."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import jwt
import pytest
from notifications_python_client.errors import HTTPError
from notifications_python_client.notifications import NotificationsAPIClient

from tests.fakes.notify import FakeNotify

ADDRESS = "lead@council.example.gov.uk"


@pytest.fixture
async def notify() -> AsyncIterator[FakeNotify]:
    async with FakeNotify() as server:
        yield server


async def send(notify: FakeNotify, api_key: str, template_id: str, **extra: Any) -> Any:
    client = NotificationsAPIClient(api_key, base_url=notify.base_url)
    arguments = {"email_address": ADDRESS, "template_id": template_id} | extra
    return await asyncio.to_thread(client.send_email_notification, **arguments)


async def refused(notify: FakeNotify, api_key: str, template_id: str, **extra: Any) -> HTTPError:
    with pytest.raises(HTTPError) as raised:
        await send(notify, api_key, template_id, **extra)
    return raised.value


async def test_a_good_email_is_sent_and_answered_as_notify_does(notify: FakeNotify) -> None:
    key = notify.new_api_key()
    template = notify.add_template("Flag ((flag)): ((link))", subject="Flag ((flag))")
    receipt = await send(notify, key.value, template.id,
                         personalisation={"flag": "7", "link": "https://x/7"}, reference="r-7")  # fmt: skip
    assert set(receipt) == {"id", "reference", "content", "uri", "template"}
    assert receipt["reference"] == "r-7"
    assert receipt["content"]["subject"] == "Flag 7"
    assert receipt["template"]["id"] == template.id
    (sent,) = notify.emails_to(ADDRESS)
    assert sent.body == "Flag 7: https://x/7"


async def test_bad_requests_get_notify_s_errors(notify: FakeNotify) -> None:
    key = notify.new_api_key()
    template = notify.add_template("Flag ((flag)) at ((link))")
    missing = await refused(notify, key.value, template.id, personalisation={"flag": "1"})
    assert missing.status_code == 400
    assert missing.message == [
        {"error": "BadRequestError", "message": "Missing personalisation: link"}
    ]
    not_uuid = await refused(notify, key.value, "not-a-template")
    assert not_uuid.message[0]["message"] == "template_id is not a valid UUID"  # type: ignore[index]
    unknown = await refused(notify, key.value, "f33517ff-2a88-4f6e-b855-c550268ce08a")
    assert unknown.message[0]["message"] == "Template not found"  # type: ignore[index]
    client = NotificationsAPIClient(key.value, base_url=notify.base_url)
    with pytest.raises(HTTPError) as bad_address:
        await asyncio.to_thread(client.send_email_notification, "not an address", template.id)
    assert bad_address.value.status_code == 400
    assert notify.sent == []


async def test_authentication_is_checked(notify: FakeNotify) -> None:
    key = notify.new_api_key()
    template = notify.add_template("Hello")
    stranger = FakeNotify().new_api_key()  # a key this server never issued
    assert (await refused(notify, stranger.value, template.id)).status_code == 403
    forged = f"{key.name}-{key.service_id}-{stranger.secret}"
    assert (await refused(notify, forged, template.id)).status_code == 403
    key.revoked = True
    revoked = await refused(notify, key.value, template.id)
    assert revoked.message[0]["message"] == "Invalid token: API key revoked"  # type: ignore[index]

    fresh = notify.new_api_key()
    notify.clock = lambda: time.time() + 120  # our clock two minutes behind Notify's
    stale = await refused(notify, fresh.value, template.id)
    assert "clock must be accurate to within 30 seconds" in stale.message[0]["message"]  # type: ignore[index]


async def test_a_token_without_a_signature_or_header_is_refused(notify: FakeNotify) -> None:
    import aiohttp

    key = notify.new_api_key()
    unsigned = jwt.encode(
        {"iss": key.service_id, "iat": int(time.time())}, key="", algorithm="none"
    )
    async with aiohttp.ClientSession() as http:
        for headers, status in (({}, 401), ({"Authorization": f"Bearer {unsigned}"}, 403)):
            async with http.post(f"{notify.base_url}/v2/notifications/email", json={},
                                 headers=headers) as response:  # fmt: skip
                body = await response.json()
                assert response.status == status
                assert body["status_code"] == status
                assert body["errors"][0]["error"] == "AuthError"


async def test_the_rate_limit_is_per_rolling_minute(notify: FakeNotify) -> None:
    now = [1_000_000.0]
    notify.clock = lambda: now[0]
    notify.rate_limit = 3  # Notify's is 3,000; the rule is the same
    key = notify.new_api_key()
    template = notify.add_template("Hello")
    import notifications_python_client.authentication as authentication

    real_epoch = authentication.epoch_seconds
    authentication.epoch_seconds = lambda: int(now[0])  # the client's clock is ours
    try:
        for _ in range(3):
            await send(notify, key.value, template.id)
        limited = await refused(notify, key.value, template.id)
        assert limited.status_code == 429
        assert limited.message == [{
            "error": "RateLimitError",
            "message": "Exceeded rate limit for key type LIVE of 3 requests per 60 seconds",
        }]  # fmt: skip
        now[0] += 61
        await send(notify, key.value, template.id)
    finally:
        authentication.epoch_seconds = real_epoch
    assert len(notify.sent) == 4


async def test_team_keys_reach_only_the_team(notify: FakeNotify) -> None:
    key = notify.new_api_key(key_type="team")
    template = notify.add_template("Hello")
    outsider = await refused(notify, key.value, template.id)
    assert "team-only API key" in outsider.message[0]["message"]  # type: ignore[index]
    notify.team_members.add(ADDRESS)
    await send(notify, key.value, template.id)
