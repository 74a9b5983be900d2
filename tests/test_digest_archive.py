"""The digest archive re-renders a past week from what is stored now, so a resident
who asked to be forgotten is not quoted in it."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Engine

from bot.actions.consultations import EXAMPLE_SCRIPT, load_consultation
from bot.actions.digests import archived, build, store_digest
from bot.actions.theme_runs import analyse_consultation
from conversations.residents.service import ConversationService
from conversations.storage.models import utcnow
from tests.example_consultation import Resident_, complete_example, seed

ZONE = ZoneInfo("Europe/London")


def test_an_archived_digest_forgets_the_forgotten(db: Engine) -> None:
    load_consultation(db, EXAMPLE_SCRIPT, actor="test", open_first_round=True)
    service = ConversationService(db)
    seed(service, "a", copies=1)
    ann = Resident_(service, "ann")
    complete_example(
        ann, need="Damp flat, mould on the wall, damp and mould making my asthma worse"
    )
    analyse_consultation(db, "example", actor="test", n_themes=3)
    end = utcnow() + timedelta(minutes=1)
    documents, run_id = build(db, "example", start=end - timedelta(days=7), end=end, zone=ZONE)
    digest_id = store_digest(
        db, slug="example", kind="weekly", start=end - timedelta(days=7), end=end,
        documents=documents, run_id=run_id, officers=(),
    )  # fmt: skip
    before = archived(db, digest_id, ZONE)
    assert "making my asthma worse" in before.html  # Ann is quoted: hers is the dampest answer

    ann.inbox.extend(service.forget_request(ann.who))
    ann.press("Yes, delete everything")
    after = archived(db, digest_id, ZONE)
    assert "making my asthma worse" not in after.html
    assert after.html != before.html
