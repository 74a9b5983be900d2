"""Broadcasts and decisions to WhatsApp residents, as templates, by the real sender
against the fake WhatsApp Cloud API (tests/fakes/whatsapp_api): each resident once, in
their language, never twice across a restart, within the number's throughput and its
daily limit tier, Meta's "not now" answers waited out, opted-out residents skipped.
On SQLite and PostgreSQL."""

from __future__ import annotations

import time
from collections import Counter
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from bot.actions.consultations import EXAMPLE_SCRIPT, load_consultation
from bot.actions.decisions import decide, preview
from bot.actions.theme_runs import analyse_consultation
from bot.config import WhatsAppConfig
from bot.whatsapp import templates
from conversations.residents.service import ConversationService
from conversations.staff import broadcasts, theme_edits, themes
from conversations.storage.models import ChannelIdentity, Resident, utcnow
from tests.example_consultation import seed, theme_of
from tests.fakes.whatsapp_api import FakeWhatsApp
from tests.test_web_broadcasts import draft
from tests.web_helpers import FACILITATOR, sign_in, web_client, web_config
from tests.whatsapp_broadcasting import (
    FLAT,
    PUBLIC,
    add_templates,
    drain,
    queue_broadcast,
    rows,
    sender_on,
    settings,
    settled_memory,
    wa_resident,
)


@pytest.fixture
def example(db: Engine) -> Engine:
    load_consultation(db, EXAMPLE_SCRIPT, actor="test", open_first_round=True)
    return db


def test_template_parameters_are_one_paragraph_within_metas_limits() -> None:
    first, link = templates.parameters("a\n\nb\tc     d " + "x" * 2000, f"{PUBLIC}/c/example")
    assert first.startswith("a b c d x") and first.endswith("…")
    assert len(first) + len(link) + templates.TEMPLATE_WORDS <= templates.BODY_MOST
    assert templates.language_code({"en": "en_GB", "cy": "cy"}, "cy") == "cy"
    assert templates.language_code({"en": "en_GB", "cy": "cy"}, "fr") == "en_GB"


async def test_a_broadcast_reaches_each_once_as_a_template_in_their_language(
    example: Engine,
) -> None:
    english = [wa_resident(example) for _ in range(12)]
    welsh = [wa_resident(example, language="cy") for _ in range(6)]
    said_stop = wa_resident(example, invitations=False)  # before: not a recipient at all
    stops_later = wa_resident(example)  # after it is queued: skipped at the claim
    broadcast_id = queue_broadcast(example)
    with Session(example, expire_on_commit=False) as session, session.begin():
        later = session.get(Resident, stops_later[0])
        assert later is not None
        later.invitations = False
        session.add(later)
    async with FakeWhatsApp() as fake:
        add_templates(fake)
        async with sender_on(example, fake, settings(fake)) as sender:
            await drain(sender, example)
    to = Counter(s.to for s in fake.sent)
    assert set(to) == {wa for _, wa in english + welsh} and max(to.values()) == 1
    assert said_stop[1] not in to and stops_later[1] not in to
    for sent in fake.sent:
        assert (sent.type, sent.template) == ("template", "needs_invitation")
        assert sent.parameters == (FLAT, f"{PUBLIC}/c/example")
        welsh_ones = {wa for _, wa in welsh}
        assert sent.language == ("cy" if sent.to in welsh_ones else "en_GB")
    recorded = rows(example)
    wamids = {s.to: s.wamid for s in fake.sent}
    for resident_id, wa_id in english + welsh:
        assert (recorded[resident_id].state, recorded[resident_id].provider_ref) == (
            "sent", wamids[wa_id])  # fmt: skip
    assert said_stop[0] not in recorded and recorded[stops_later[0]].state == "stopped"
    with Session(example) as session:
        report = broadcasts.progress(session=session, broadcast_id=broadcast_id)
    assert (report.status, report.sent, report.stopped) == ("done", 18, 1)


async def test_a_restart_after_a_crash_sends_nobody_twice(example: Engine) -> None:
    people = [wa_resident(example) for _ in range(6)]
    queue_broadcast(example)
    async with FakeWhatsApp() as fake:
        add_templates(fake)
        config = settings(fake, throughput=4)  # a claim of one at a time
        async with sender_on(example, fake, config) as first:
            # Claimed ("sending", committed), handed to Meta, and the process dies before
            # recording it: the row says "sending" and the message went.
            (claimed,) = first._claim_rows(1, set())
            await first._send(claimed)
        async with sender_on(example, fake, config) as second:
            assert second._recover() == 1
            await drain(second, example)
    to = Counter(s.to for s in fake.sent)
    assert set(to) == {wa for _, wa in people} and max(to.values()) == 1
    states = Counter(r.state for r in rows(example).values())
    assert states == {"sent": 5, "failed": 1}  # the one in flight is counted failed


async def test_not_now_answers_are_waited_out_and_refusals_failed_by_code(
    example: Engine, caplog: pytest.LogCaptureFixture
) -> None:
    people = [wa_resident(example) for _ in range(5)]
    queue_broadcast(example)
    async with FakeWhatsApp() as fake:
        add_templates(fake)
        fake.inject_fault(code=130429)  # the number's throughput
        fake.inject_fault(code=131056)  # this resident, too often
        fake.inject_fault(status=503, code=131000)  # Meta's trouble: try again later
        fake.inject_fault(code=132000)  # a template that does not match: never
        fake.block(people[4][1])  # accepted, then failed by status webhook (no webhook here)
        async with sender_on(example, fake, settings(fake), pair_wait=0.2, backoff=0.1) as sender:
            started = time.monotonic()
            await drain(sender, example)
            assert time.monotonic() - started >= 0.2  # the put-back ones waited
    recorded = rows(example)
    outcomes = Counter((r.state, r.receipt) for r in recorded.values())
    assert outcomes == {("sent", None): 4, ("failed", "error 132000"): 1}
    assert Counter(s.to for s in fake.sent).most_common(1)[0][1] == 1
    assert "132000" in caplog.text and "does not match" not in caplog.text  # codes, not words
    retried = max(recorded.values(), key=lambda r: r.attempts)
    assert retried.attempts == 2  # only the 503 used up an attempt


async def test_throughput_is_kept_near_its_limit(example: Engine) -> None:
    people = [wa_resident(example) for _ in range(70)]
    queue_broadcast(example)
    async with FakeWhatsApp(throughput=20, latency=0.05) as fake:
        add_templates(fake)
        async with sender_on(example, fake, settings(fake, throughput=20)) as sender:
            with settled_memory():
                await drain(sender, example)
    times = sorted(s.time for s in fake.sent)
    assert len(times) == len(people)  # each once, whatever was put back
    # The sender and the fake share this process: on a machine busy with other tests, a
    # stall of its event loop can deliver a second's paced sends bunched with the next
    # (one 130429, put back and sent later). `python -m bench.whatsapp --broadcast`
    # measures the rule on its own: none after the first second.
    assert fake.errors_by_code[130429] <= 1
    # Each twenty sends after the first twenty took at most a second and a little: at
    # least 95% of the throughput, with nothing else sending.
    spans = [times[i] - times[i - 20] for i in range(20, len(times))]
    assert sum(spans) / len(spans) <= 1 / 0.95, spans


async def test_the_daily_limit_stops_it_and_it_carries_on_a_day_later(example: Engine) -> None:
    people = [wa_resident(example) for _ in range(7)]
    broadcast_id = queue_broadcast(example)
    offset = [0.0]
    async with FakeWhatsApp(daily_limit=5, clock=lambda: time.time() + offset[0]) as fake:
        add_templates(fake)
        config = settings(fake, daily_limit=5)
        now = lambda: utcnow() + timedelta(seconds=offset[0])  # noqa: E731
        async with sender_on(example, fake, config, now=now) as sender:
            while await sender.send_some():
                pass
            assert len(fake.sent) == 5 and not fake.limit_breaches
            with Session(example) as session:
                report = broadcasts.progress(session=session, broadcast_id=broadcast_id,
                                             whatsapp_daily_limit=5, now=now())  # fmt: skip
            assert (report.status, report.pending, report.whatsapp_held) == ("sending", 2, 2)
            assert "daily limit is reached: 2 WhatsApp residents wait" in (
                broadcasts.format_progress(report)
            )
            assert not await sender.send_some()  # still at the limit: nothing claimed
            offset[0] = 24 * 3600 + 1
            await drain(sender, example)
    assert sorted(s.to for s in fake.sent) == sorted(wa for _, wa in people)
    assert not fake.limit_breaches and not fake.errors_by_code[131048]


async def test_no_template_set_up_means_skipped_and_a_preview_that_says_so(
    example: Engine,
) -> None:
    wa_resident(example)
    wa_resident(example)
    broadcast_id = queue_broadcast(example)
    async with FakeWhatsApp() as fake:
        add_templates(fake)
        async with sender_on(example, fake, settings(fake, invitation_template="")) as sender:
            await drain(sender, example)
    assert fake.sent == []
    assert {(r.state, r.receipt) for r in rows(example).values()} == {("skipped", "no template")}
    with Session(example) as session:
        report = broadcasts.progress(session=session, broadcast_id=broadcast_id)
    assert (report.status, report.skipped) == ("done", 2)


async def test_a_decision_goes_out_as_the_decision_template(db: Engine) -> None:
    load_consultation(db, EXAMPLE_SCRIPT, actor="test", open_first_round=True)
    seed(ConversationService(db), "a", copies=1)
    analyse_consultation(db, "example", actor="test", n_themes=3)
    run_id, theme_id = theme_of(db, "buses")
    with Session(db) as session, session.begin():
        raised = themes.residents_in_theme(session=session, run_id=run_id, theme_id=theme_id)
        on_whatsapp = raised[:2]  # two of them took part on WhatsApp
        for n, resident_id in enumerate(on_whatsapp):
            identity = session.exec(
                select(ChannelIdentity).where(ChannelIdentity.resident_id == resident_id)
            ).one()
            identity.channel, identity.chat_id = "whatsapp", f"44770090{n:04d}"
            identity.external_id = identity.chat_id
            session.add(identity)
        theme_edits.confirm(session=session, slug="example", theme_id=theme_id, actor="staff:222")
    async with FakeWhatsApp() as fake:
        add_templates(fake)
        config = settings(fake)
        shown = preview(db, "example", theme_id, config)
        assert "WhatsApp 2" in shown.summary() and shown.note == ""
        unset = preview(db, "example", theme_id, settings(fake, decision_template=""))
        assert "The 2 WhatsApp residents will not get it" in unset.summary()
        decide(db, "example", theme_id, "The 7pm bus will run until 11pm.", actor="staff:222")
        async with sender_on(db, fake, config) as sender:
            await drain(sender, db)
    assert sorted(s.to for s in fake.sent) == ["447700900000", "447700900001"]
    for sent in fake.sent:
        assert sent.template == "needs_decision" and "11pm" in sent.parameters[0]
        assert sent.parameters[1] == f"{PUBLIC}/c/example/results?lang=en"
        assert "\n" not in sent.parameters[0]


async def test_the_dashboards_preview_counts_whatsapp_and_says_who_will_not_get_it(
    db: Engine,
) -> None:
    on_but_no_template = WhatsAppConfig(phone_number_id="100000000000001")
    config = replace(web_config(), whatsapp=on_but_no_template)
    async with web_client(db, config) as client:
        for _ in range(2):
            wa_resident(db)
        csrf = await sign_in(client, db, config, FACILITATOR)
        broadcast_id = await draft(client, csrf, message="Round 2 is open", group="")
        page = await (await client.get(f"/staff/broadcasts/{broadcast_id}")).text()
    assert "WhatsApp: 2" in page
    assert "The 2 WhatsApp residents will not get it" in page
    assert "invitation_template" in page
