"""Staff who are not on Telegram sign in by email: a link through GOV.UK Notify (the fake on
loopback), the same answer for any address, limits per address and per client."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from dataclasses import replace

import pytest
from aiohttp.test_utils import TestClient, TestServer
from sqlalchemy import Engine
from sqlmodel import Session, select

from bot.actions.consultations import EXAMPLE_SCRIPT, load_consultation
from bot.actions.staff_access import LINKS_PER_ADDRESS
from bot.app import sign_in_mailer
from bot.config import Config, NotifyConfig, StaffConfig
from bot.web import email_sign_in
from bot.web.app import build_web_app
from conversations.storage.models import AuditEntry, StaffLogin, StaffSession
from tests.fakes.notify import FakeNotify, Sent
from tests.web_helpers import web_config

JO = "Jo.Bloggs@council.example.gov.uk"  # an officer, listed in another case
STRANGER = "someone@example.com"


@pytest.fixture
async def notify() -> AsyncIterator[tuple[FakeNotify, Config]]:
    async with FakeNotify() as server:
        key = server.new_api_key()
        template = server.add_template("Sign in: ((link)) (for ((minutes)) minutes)",
                                       subject="Your sign-in link")  # fmt: skip
        base = web_config()
        config = replace(
            base,
            staff=replace(base.staff, officer_emails=("jo.bloggs@council.example.gov.uk",)),
            notify=NotifyConfig(
                api_key=key.value, base_url=server.base_url, sign_in_template_id=template.id
            ),
        )
        yield server, config


@pytest.fixture
async def client(db: Engine, notify: tuple[FakeNotify, Config]) -> AsyncIterator[TestClient]:
    _, config = notify
    load_consultation(db, EXAMPLE_SCRIPT, actor="test", open_first_round=True)
    app = build_web_app(db, config, sign_in_mailer=sign_in_mailer(config))
    async with TestClient(TestServer(app)) as test_client:
        yield test_client


async def ask(client: TestClient, address: str) -> tuple[int, str]:
    response = await client.post("/staff/login", data={"email": address})
    return response.status, await response.text()


async def emails(server: FakeNotify, count: int) -> list[Sent]:
    for _ in range(100):  # the email goes after the answer
        if len(server.sent) >= count:
            break
        await asyncio.sleep(0.05)
    await asyncio.sleep(0.1)  # and no more than that
    return list(server.sent)


async def test_a_staff_address_gets_a_link_that_signs_in_once(
    client: TestClient, notify: tuple[FakeNotify, Config], db: Engine
) -> None:
    server, _ = notify
    form = await (await client.get("/staff/login")).text()
    assert 'name="email"' in form and 'autocomplete="email"' in form
    status, page = await ask(client, JO)
    assert status == 200 and "a sign-in link is on its way" in page
    (sent,) = await emails(server, 1)
    assert sent.to == JO and "for 15 minutes" in sent.body
    path = re.search(r"https?://[^/]+(/staff/login/\S+)", sent.body)
    assert path is not None
    assert (await client.get(path.group(1))).status == 200  # a button, not used up by a preview
    signed = await client.post(path.group(1))
    assert signed.status == 200 and signed.url.path == "/staff/"
    home = await signed.text()
    assert "jo.bloggs@council.example.gov.uk" in home and "officer" in home
    assert (await client.get("/staff/digests")).status == 200  # an officer's page
    client.session.cookie_jar.clear()
    again = await client.post(path.group(1))
    assert again.status == 403  # it worked once
    with Session(db) as session:
        (opened,) = session.exec(select(StaffSession)).all()
        assert opened.email == "jo.bloggs@council.example.gov.uk" and opened.staff_id is None
        audit = session.exec(select(AuditEntry).where(AuditEntry.action == "staff.sign_in_link"))
        assert [a.actor for a in audit] == ["staff:email:jo.bloggs@council.example.gov.uk"]


async def test_any_other_address_gets_the_same_answer_and_no_email(
    client: TestClient, notify: tuple[FakeNotify, Config], db: Engine
) -> None:
    server, _ = notify
    staff_status, staff_page = await ask(client, JO)
    other_status, other_page = await ask(client, STRANGER)
    assert (staff_status, other_status) == (200, 200)
    assert staff_page.replace(JO, "X") == other_page.replace(STRANGER, "X")
    sent = await emails(server, 2)
    assert [s.to for s in sent] == [JO]
    with Session(db) as session:
        assert [row.email for row in session.exec(select(StaffLogin))] == [JO.lower()]


async def test_links_are_limited_per_address_and_requests_per_client(
    client: TestClient, notify: tuple[FakeNotify, Config]
) -> None:
    server, _ = notify
    for _ in range(LINKS_PER_ADDRESS + 2):
        status, page = await ask(client, JO)
        assert status == 200 and "on its way" in page  # the same answer past the limit
        await emails(server, 0)
    assert len(await emails(server, LINKS_PER_ADDRESS + 1)) == LINKS_PER_ADDRESS
    for _ in range(email_sign_in.PER_CLIENT - LINKS_PER_ADDRESS - 2):
        assert (await ask(client, STRANGER))[0] == 200
    status, page = await ask(client, STRANGER)
    assert status == 429 and "wait 15 minutes" in page


async def test_a_bad_address_is_named_and_another_site_cannot_post(client: TestClient) -> None:
    status, page = await ask(client, "not an address")
    assert status == 400 and "Enter your work email address" in page
    foreign = await client.post("/staff/login", data={"email": JO},
                                headers={"Origin": "https://elsewhere.example"})  # fmt: skip
    assert foreign.status == 403


async def test_without_notify_the_page_says_so(db: Engine) -> None:
    config = web_config()
    load_consultation(db, EXAMPLE_SCRIPT, actor="test", open_first_round=True)
    async with TestClient(TestServer(build_web_app(db, config))) as client:
        page = await (await client.get("/staff/login")).text()
        assert "not set up on this service" in page
        assert (await ask(client, JO))[0] == 404


def test_roles_by_email_ignore_case_and_admins_have_every_role() -> None:
    staff = StaffConfig(
        officer_emails=("Jo@Council.gov.uk",), admin_emails=("boss@council.gov.uk",)
    )
    config = Config(staff=staff)
    from bot.config import staff_roles

    assert staff_roles(config, "jo@council.gov.uk") == {"officer"}
    assert staff_roles(config, "BOSS@council.gov.uk") == {"admin", "facilitator", "officer"}
    assert staff_roles(config, "jo@elsewhere.gov.uk") == set()
    assert staff_roles(config, 22) == set()  # Telegram ids and addresses are kept apart
