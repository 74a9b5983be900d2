"""Web chat devices (issue 17, items 4 and 5): only devices the server issued are
known, a new resident gets a fresh one, forms need a token keyed by the server's
secret, and one address cannot bring residents without limit."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from pathlib import Path

import pytest
from aiohttp import ClientResponse
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import Engine
from sqlmodel import Session, select

from bot.config import ConfigError
from bot.config_loading import load_config
from bot.web.app import build_web_app
from bot.web.devices import COOKIE
from conversations.storage.models import ChannelIdentity, Resident, ServerSecret
from tests.web_helpers import WebResident, complete_example, parse, web_client, web_config


def issued(response: ClientResponse) -> str | None:
    """The device cookie a response sets, if it sets one."""
    morsel = response.cookies.get(COOKIE)
    return morsel.value if morsel is not None else None


async def test_a_planted_cookie_the_server_never_issued_is_not_a_device(db: Engine) -> None:
    planted = secrets.token_urlsafe(32)  # well-formed, as the old chat accepted
    async with web_client(db) as client:
        client.session.cookie_jar.clear()
        page = await client.get("/c/example", headers={"Cookie": f"{COOKIE}={planted}"})
        replaced = issued(page)
        assert replaced is not None and replaced != planted  # one the server issued instead
        # A form posted with the planted cookie and its old-style token is refused.
        form, (name, value, _) = parse(await page.text()).form_with("Take part")
        old_csrf = hmac.new(planted.encode(), b"needsfirst-csrf", "sha256").hexdigest()
        client.session.cookie_jar.clear()
        response = await client.post(
            form.action, data={**form.fields, "csrf": old_csrf, name: value},
            headers={"Cookie": f"{COOKIE}={planted}"}, allow_redirects=False,
        )  # fmt: skip
        assert response.status == 403
        # Nor is the issued cookie with a forged signature.
        forged = replaced.rsplit(".", 1)[0] + "." + "A" * 43
        client.session.cookie_jar.clear()
        response = await client.post(
            form.action, data={**form.fields, name: value},
            headers={"Cookie": f"{COOKIE}={forged}"}, allow_redirects=False,
        )  # fmt: skip
        assert response.status == 403
    with Session(db) as session:
        assert session.exec(select(Resident)).all() == []


async def test_a_cookie_planted_before_joining_leads_nowhere_afterwards(db: Engine) -> None:
    async with web_client(db) as client:
        attacker = WebResident(client)
        await attacker.open()
        planted = attacker.cookie  # a real, server-issued cookie, left on a shared computer
        victim = WebResident(client)
        await complete_example(victim, need="My neighbour's name and my address are private")
        assert victim.cookie != planted  # joining gave the browser a new device
        with Session(db) as session:
            identity = session.exec(select(ChannelIdentity)).one()
        assert identity.external_id == hashlib.sha256(victim.cookie.encode()).hexdigest()
        # Later, the attacker's copy of the planted cookie shows nothing of the victim.
        client.session.cookie_jar.clear()
        client.session.cookie_jar.update_cookies({COOKIE: planted})
        page = await (await client.get("/c/example/my-data")).text()
        assert "neighbour" not in page
        assert (await client.get("/c/example/my-data.json")).status == 404
        chat = await (await client.get("/c/example")).text()
        assert "neighbour" not in chat


async def test_the_server_secret_is_generated_once_and_shared(db: Engine) -> None:
    async with web_client(db) as client:
        await WebResident(client).open()
        cookie = next(m.value for m in client.session.cookie_jar if m.key == COOKIE)
    with Session(db) as session:
        stored = session.exec(select(ServerSecret)).all()
    assert len(stored) == 1 and len(stored[0].value) >= 32
    # A second worker on the same database knows the first one's devices.
    async with TestClient(TestServer(build_web_app(db, web_config()))) as other:
        response = await other.get("/c/example", headers={"Cookie": f"{COOKIE}={cookie}"})
        assert response.status == 200 and issued(response) is None
    # A configured secret is used instead, and knows none of those devices.
    configured = web_config(secret="x" * 40)
    async with TestClient(TestServer(build_web_app(db, configured))) as third:
        response = await third.get("/c/example", headers={"Cookie": f"{COOKIE}={cookie}"})
        assert issued(response) not in (None, cookie)


async def test_new_residents_from_one_address_are_limited(db: Engine) -> None:
    config = web_config(
        new_residents_per_address=2,  # type: ignore[arg-type]
        client_address_header="X-Forwarded-For",
    )
    async with web_client(db, config) as client:
        for _ in range(2):
            client.session.cookie_jar.clear()
            resident = WebResident(client)
            await resident.open()
            await resident.press("Take part")
            assert "Are you happy to take part?" in resident.last
        client.session.cookie_jar.clear()
        third = WebResident(client)
        await third.open()
        await third.press("Take part")
        assert "Lots of people have joined from this internet link" in third.page.html
        assert not third.page.bot_texts
        # A resident already known from that address carries on; another address joins.
        client.session.cookie_jar.clear()
        elsewhere = WebResident(client)
        await elsewhere.open()
        form, (name, value, _) = elsewhere.page.form_with("Take part")
        response = await client.post(
            form.action, data={**form.fields, name: value},
            headers={"X-Forwarded-For": "203.0.113.9"},
        )  # fmt: skip
        assert response.status == 200
    with Session(db) as session:
        assert len(session.exec(select(Resident)).all()) == 3


@pytest.mark.parametrize(
    ("setting", "key"),
    [
        ('secret = "short"', "web.secret"),
        ("new_residents_per_address = -1", "web.new_residents_per_address"),
        ("new_residents_window_minutes = 0", "web.new_residents_window_minutes"),
        ("new_residents_window_minutes = 5000", "web.new_residents_window_minutes"),
    ],
)
def test_web_limits_and_secret_are_checked_at_load(tmp_path: Path, setting: str, key: str) -> None:
    path = tmp_path / "config.toml"
    path.write_text(f"[web]\n{setting}\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=key.replace(".", r"\.")):
        load_config(path, environ={})


async def test_a_resident_with_an_older_unsigned_cookie_keeps_their_conversation(
    db: Engine,
) -> None:
    legacy = secrets.token_urlsafe(32)
    async with web_client(db) as client:
        ann = WebResident(client)
        await complete_example(ann, need="Streetlights out on Tanner Row")
        with Session(db) as session, session.begin():  # as the older version stored it
            identity = session.exec(select(ChannelIdentity)).one()
            identity.external_id = hashlib.sha256(legacy.encode()).hexdigest()
            session.add(identity)
        client.session.cookie_jar.clear()
        response = await client.get("/c/example/my-data", headers={"Cookie": f"{COOKIE}={legacy}"})
        assert "Tanner Row" in await response.text()
        renewed = issued(response)
        assert renewed is not None and "." in renewed  # moved to a signed device
        with Session(db) as session:
            identity = session.exec(select(ChannelIdentity)).one()
        assert identity.external_id == hashlib.sha256(renewed.encode()).hexdigest()


def test_two_arrivals_at_once_cannot_both_take_an_address_last_place(db: Engine) -> None:
    """Counting and holding a newcomer's place is one step, for workers on one database."""
    import threading
    from datetime import timedelta

    from conversations.storage import web_devices
    from conversations.storage.models import utcnow

    now = utcnow()
    reserve = dict(address="a" * 64, at=now, since=now - timedelta(hours=1), limit=1,
                   forget_before=now - timedelta(days=1))  # fmt: skip
    first_holds = threading.Event()
    found: dict[str, int | None] = {}

    def first() -> None:
        with Session(db) as session, session.begin():
            found["first"] = web_devices.reserve_newcomer(session=session, **reserve)
            first_holds.set()
            threading.Event().wait(0.5)  # the other worker arrives while this one holds

    def second() -> None:
        first_holds.wait(10)
        with Session(db) as session, session.begin():
            found["second"] = web_devices.reserve_newcomer(session=session, **reserve)

    workers = [threading.Thread(target=first), threading.Thread(target=second)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(30)
    assert found["first"] is not None and found["second"] is None
    with Session(db) as session, session.begin():
        web_devices.release_newcomer(session=session, place_id=found["first"])
    with Session(db) as session, session.begin():
        assert web_devices.reserve_newcomer(session=session, **reserve) is not None
