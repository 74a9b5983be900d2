"""/forget leaves no words behind (issue 17, item 2): not in a prioritise round's
theme quotes (and the decks and pages that show them), not in a stored digest
waiting for delivery."""

from __future__ import annotations

import json
from datetime import timedelta
from zoneinfo import ZoneInfo

from markupsafe import escape
from sqlalchemy import Engine
from sqlmodel import Session, select
from telegram import Bot

from bot.actions.consultations import EXAMPLE_SCRIPT, load_consultation
from bot.actions.digests import build, store_digest
from bot.actions.theme_runs import analyse_consultation
from bot.telegram.digest_delivery import DigestSender
from conversations.flow import callbacks
from conversations.residents.service import ConversationService, Who
from conversations.storage.models import (
    Answer,
    ChannelIdentity,
    Conversation,
    Digest,
    InboxEntry,
    RoundTheme,
    utcnow,
)
from tests.example_consultation import Resident_, complete_example, seed
from tests.fakes.telegram_api import FakeBotAPI
from tests.prioritise_helpers import Voter, open_prioritise, seed_run

QUOTE = "The footbridge by Quillfeather Mill has been shut for a year"


def forget(service: ConversationService, db: Engine, answer_id: int) -> None:
    with Session(db) as session:
        answer = session.get(Answer, answer_id)
        assert answer is not None
        external = session.exec(
            select(ChannelIdentity.external_id).where(
                ChannelIdentity.resident_id == answer.resident_id
            )
        ).one()
    who = Who("telegram", external, external, "en")
    service.forget_request(who, update_key="forget-ask")
    service.press(who, callbacks.forget_data(True), update_key="forget-yes")


def test_forget_takes_a_quote_back_from_a_prioritise_round(db: Engine) -> None:
    load_consultation(db, EXAMPLE_SCRIPT, actor="test", open_first_round=True)
    service = ConversationService(db)
    complete_example(Resident_(service, "7001"), need=QUOTE)
    with Session(db) as session:
        quoted = session.exec(select(Answer.id).where(Answer.value == QUOTE)).one()
    assert quoted is not None
    seed_run(db, ["Bridges and paths", "Buses"], quote_answer_ids={1: [quoted]})
    open_prioritise(db)
    voter = Voter(service, "7002")
    voter.start()
    voter.press("_agree")
    shown = " ".join(m.text for m in voter.inbox)
    with Session(db) as session:
        assert session.exec(select(RoundTheme.quote).where(RoundTheme.theme_id == 1)).one()
    forget(service, db, quoted)
    with Session(db) as session:
        assert session.exec(select(RoundTheme.quote).where(RoundTheme.theme_id == 1)).one() == ""
        states = [c.state_json for c in session.exec(select(Conversation)).all()]
        replies = [e.replies_json for e in session.exec(select(InboxEntry)).all()]
    assert "Quillfeather" not in json.dumps(states) and "Quillfeather" not in json.dumps(replies)
    assert "Quillfeather" in shown  # the voter was shown it before
    # The voter's next question no longer shows it.
    voter.press(next(
        callbacks.parse(b.data).option_id  # type: ignore[union-attr]
        for row in voter.inbox[-1].buttons for b in row
    ))  # fmt: skip
    assert all("Quillfeather" not in m.text for m in voter.inbox[-1:])


async def test_forget_before_delivery_keeps_the_quote_out_of_the_digest(
    db: Engine, fake: FakeBotAPI, telegram_bot: Bot
) -> None:
    load_consultation(db, EXAMPLE_SCRIPT, actor="test", open_first_round=True)
    service = ConversationService(db)
    seed(service, "a", copies=1)
    analyse_consultation(db, "example", actor="staff:1")  # the digest never discovers themes
    end = utcnow() + timedelta(days=1)
    zone = ZoneInfo("Europe/London")
    documents, run_id = build(db, "example", start=end - timedelta(days=8), end=end, zone=zone)
    digest_id = store_digest(
        db, slug="example", kind="weekly", start=end - timedelta(days=8), end=end,
        documents=documents, run_id=run_id, officers=(201,),
    )  # fmt: skip
    with Session(db) as session:
        html = session.exec(select(Digest.html)).one()
        needs = session.exec(select(Answer.id, Answer.value).where(Answer.step_id == "need")).all()
    quoted = [(i, v) for i, v in needs if str(escape(v)) in html]
    assert quoted, "the digest quotes someone"
    answer_id, words = quoted[0]
    assert answer_id is not None
    forget(service, db, answer_id)
    with Session(db) as session:
        digest = session.get(Digest, digest_id)
        assert digest is not None and digest.stale
    fake.user(201, started=True)
    await DigestSender(db, telegram_bot, zone=zone).deliver(digest_id)
    sent = [d.data.decode("utf-8") for d in fake.user(201).documents]
    assert len(sent) == 2 and all(
        str(escape(words)) not in doc and words not in doc for doc in sent
    )
