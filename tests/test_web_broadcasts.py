"""The dashboard's broadcast pages: who may use them, preview, confirm, cancel and progress."""

from __future__ import annotations

import re

from aiohttp.test_utils import TestClient
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from conversations.staff import broadcast_recipients
from conversations.storage.models import AuditEntry, Broadcast, BroadcastRecipient
from tests.web_helpers import FACILITATOR, OFFICER, sign_in, web_client, web_config
from tests.web_seed import QUIET_NORTH, seed_answers

PAGES = ["/staff/broadcasts", "/staff/c/example/broadcasts", "/staff/broadcasts/1"]
ACTIONS = [
    ("/staff/c/example/broadcasts", {"message": "Please take part", "group": ""}),
    ("/staff/broadcasts/1/send", {}),
    ("/staff/broadcasts/1/cancel", {}),
]
MESSAGE = "Round 2 is open <b>now</b> & we'd love to hear from you"


async def post(client: TestClient, path: str, data: dict[str, str]) -> int:
    return (await client.post(path, data=data, allow_redirects=False)).status


def stored(db: Engine) -> list[tuple[int, str, str | None, str | None]]:
    with Session(db) as session:
        return [
            (b.id or 0, b.status, b.group_dimension, b.group_value)
            for b in session.exec(select(Broadcast).order_by(col(Broadcast.id)))
        ]


def audited(db: Engine) -> list[tuple[str, str, str]]:
    with Session(db) as session:
        rows = session.exec(select(AuditEntry).where(col(AuditEntry.action).startswith("broad")))
        return [(e.action, e.actor, e.target) for e in rows]


async def draft(client: TestClient, csrf: str, **fields: str) -> int:
    """Submit the compose form; the new broadcast's id."""
    response = await client.post(
        "/staff/c/example/broadcasts", data={"csrf": csrf, **fields}, allow_redirects=False
    )
    assert response.status == 303, (response.status, await response.text())
    found = re.fullmatch(r"/staff/broadcasts/(\d+)", response.headers["Location"])
    assert found is not None
    return int(found[1])


async def test_broadcasts_refuse_strangers_officers_and_forged_forms(db: Engine) -> None:
    config = web_config()
    async with web_client(db, config) as client:
        seed_answers(db)
        for path in PAGES:
            assert (await client.get(path, allow_redirects=False)).status == 401, path
        for path, data in ACTIONS:
            assert await post(client, path, data) == 401, path
        csrf = await sign_in(client, db, config, OFFICER)
        for path in PAGES:
            assert (await client.get(path, allow_redirects=False)).status == 403, path
        for path, data in ACTIONS:
            assert await post(client, path, {**data, "csrf": csrf}) == 403, path
        client.session.cookie_jar.clear()
        await sign_in(client, db, config, FACILITATOR)
        for path, data in ACTIONS:
            assert await post(client, path, data) == 403, path
            assert await post(client, path, {**data, "csrf": csrf}) == 403, path  # not theirs
    assert stored(db) == [] and audited(db) == []


async def test_a_facilitator_previews_confirms_and_watches_a_broadcast(db: Engine) -> None:
    config = web_config()
    async with web_client(db, config) as client:
        seed_answers(db, quiet_north=QUIET_NORTH)
        csrf = await sign_in(client, db, config, FACILITATOR)
        # The consultation page links under-heard groups to a broadcast for them.
        overview = await (await client.get("/staff/c/example")).text()
        assert "/staff/c/example/broadcasts?group=area%3Dsouth" in overview
        compose = await (await client.get("/staff/c/example/broadcasts?group=area%3Dsouth")).text()
        assert re.search(r'value="area=south"[^>]*checked', compose)
        assert "South (Marsh End, Brookvale) (area), under-heard" in compose
        assert "Central (Town centre, Quayside) (area), under-heard" in compose
        assert "North (Hillside, Oakfield) (area), under-heard" not in compose

        broadcast_id = await draft(client, csrf, message=MESSAGE, group="area=south", window="30")
        assert stored(db) == [(broadcast_id, "draft", "area", "south")]
        preview = await (await client.get(f"/staff/broadcasts/{broadcast_id}")).text()
        assert "Send to 2 residents" in preview and "spread over 30 minutes" in preview
        assert "<li>Telegram: 2</li>" in preview  # counted per channel
        assert "&lt;b&gt;now&lt;/b&gt; &amp; we&#39;d love" in preview and "<b>now" not in preview

        # Without the preview's confirm=yes, a send shows the preview again and sends nothing.
        asked = await client.post(f"/staff/broadcasts/{broadcast_id}/send", data={"csrf": csrf})
        assert asked.status == 200 and "Send to 2 residents" in await asked.text()
        assert stored(db) == [(broadcast_id, "draft", "area", "south")]
        sure = {"csrf": csrf, "confirm": "yes"}
        sent = await client.post(f"/staff/broadcasts/{broadcast_id}/send", data=sure)
        assert sent.status == 200 and "is queued" in await sent.text()
        assert stored(db) == [(broadcast_id, "queued", "area", "south")]
        with Session(db) as session:
            assert len(session.exec(select(BroadcastRecipient)).all()) == 2
        page = await (await client.get(f"/staff/broadcasts/{broadcast_id}")).text()
        assert 'data-active="true"' in page and "0 of 2 handled" in page
        assert "Stop sending" in page and 'href="/staff/broadcasts/' in page  # works without JS

        # The sender's work, as bot/telegram/broadcaster.py records it, shows on the next look.
        with Session(db) as session, session.begin():
            claimed = broadcast_recipients.claim(
                session=session, broadcast_id=broadcast_id, limit=10
            )
        with Session(db) as session, session.begin():
            outcomes = {claimed[0].recipient_id: "sent", claimed[1].recipient_id: "blocked"}
            broadcast_recipients.record_many(session=session, outcomes=outcomes)
            broadcast_recipients.finish_if_done(session=session, broadcast_id=broadcast_id)
        page = await (await client.get(f"/staff/broadcasts/{broadcast_id}")).text()
        assert 'data-active="false"' in page and "2 of 2 handled" in page
        assert "<dt>Sent</dt><dd>1</dd>" in page and "<dt>Blocked the bot</dt><dd>1</dd>" in page
        assert "Stop sending" not in page

        listing = await (await client.get("/staff/broadcasts")).text()
        assert f'href="/staff/broadcasts/{broadcast_id}"' in listing and "1 of 2" in listing
    assert audited(db) == [
        ("broadcast.draft", f"staff:{FACILITATOR}", f"example broadcast {broadcast_id}"),
        ("broadcast.queue", f"staff:{FACILITATOR}", f"example broadcast {broadcast_id}"),
    ]


async def test_cancel_a_draft_or_a_broadcast_being_sent(db: Engine) -> None:
    config = web_config()
    async with web_client(db, config) as client:
        seed_answers(db)
        csrf = await sign_in(client, db, config, FACILITATOR)
        first = await draft(client, csrf, message="Come and talk to us")
        assert (
            "Send to 15 residents" in await (await client.get(f"/staff/broadcasts/{first}")).text()
        )
        cancelled = await client.post(f"/staff/broadcasts/{first}/cancel", data={"csrf": csrf})
        assert cancelled.status == 200 and "is cancelled" in await cancelled.text()
        sure = {"csrf": csrf, "confirm": "yes"}
        again = await client.post(f"/staff/broadcasts/{first}/send", data=sure)
        assert again.status == 409 and "already cancelled" in await again.text()

        second = await draft(client, csrf, message="Tell us more", group="other",
                             other_group="age_band=18-34")  # fmt: skip
        assert await post(client, f"/staff/broadcasts/{second}/send", sure) == 303
        assert await post(client, f"/staff/broadcasts/{second}/cancel", {"csrf": csrf}) == 303
        assert stored(db) == [
            (first, "cancelled", None, None),
            (second, "cancelled", "age_band", "18-34"),
        ]
        assert await post(client, "/staff/broadcasts/999/cancel", {"csrf": csrf}) == 404
        assert (await client.get("/staff/broadcasts/999")).status == 404
    assert [action for action, _, _ in audited(db)] == [
        "broadcast.draft",
        "broadcast.cancel",
        "broadcast.draft",
        "broadcast.queue",
        "broadcast.cancel",
    ]


async def test_a_broadcast_that_cannot_go_says_why_and_keeps_the_message(db: Engine) -> None:
    config = web_config()
    async with web_client(db, config) as client:
        seed_answers(db)
        csrf = await sign_in(client, db, config, FACILITATOR)
        for fields, status, reason in [
            ({"message": "  "}, 409, "the message is empty"),
            ({"message": "Hello <i>there</i>", "window": "soon"}, 400, "whole number of minutes"),
            ({"message": "Hello <i>there</i>", "group": "area=mars"}, 409, "choose a group"),
            ({"message": "Hello <i>there</i>", "group": "nonsense"}, 400, "DIMENSION=VALUE"),
            (
                {"message": "Hello <i>there</i>", "group": "other", "other_group": "area=outside"},
                409,
                "no opted-in residents match",
            ),
        ]:
            refused = await client.post(
                "/staff/c/example/broadcasts", data={"csrf": csrf, **fields}
            )
            html = await refused.text()
            assert refused.status == status and reason in html, (fields, refused.status)
            if "<i>" in fields["message"]:
                assert "Hello &lt;i&gt;there&lt;/i&gt;</textarea>" in html
    assert stored(db) == [] and audited(db) == []
