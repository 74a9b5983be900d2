"""Newcomers joining by a deep link in a batch (conversations/residents/join_batch.py), on SQLite
and PostgreSQL: the same rows as the full path, and everything else left to it."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from bot.actions.consultations import EXAMPLE_SCRIPT, load_consultation
from conversations.residents.service import ConversationService, Joining, Who
from conversations.storage import store
from conversations.storage.models import ChannelIdentity, Conversation, InboxEntry, Resident
from tests.example_consultation import Resident_
from tests.test_service import _rows


@pytest.fixture
def service(db: Engine) -> ConversationService:
    load_consultation(db, EXAMPLE_SCRIPT, actor="test", open_first_round=True)
    service = ConversationService(db)
    with Session(db) as session:  # as the first resident's full-path /start does
        service.scripts.get(store.require_consultation(session=session, slug="example"))
    return service


def who(name: str, language: str | None = "en") -> Who:
    return Who("telegram", name, f"chat-{name}", language)


def joined(db: Engine, name: str) -> dict[str, object]:
    """What joining stored for one person, without ids, times and the pseudonym."""
    with Session(db) as session:
        identity = session.exec(
            select(ChannelIdentity).where(ChannelIdentity.external_id == name)
        ).one()
        resident = session.get(Resident, identity.resident_id)
        assert resident is not None
        conversation = session.exec(
            select(Conversation).where(Conversation.resident_id == resident.id)
        ).one()
        entry = session.exec(select(InboxEntry).where(InboxEntry.resident_id == resident.id)).one()
        return {
            "chat": identity.chat_id == f"chat-{name}",
            "resident": (resident.language, resident.invitations, resident.unreachable),
            "current": resident.current_conversation_id == conversation.id,
            "pseudonym": len(resident.pseudonym),
            "conversation": (conversation.round_id, conversation.source, conversation.state_json),
            "inbox": (entry.update_key[:2], entry.replies_json, entry.flag),
        }


@pytest.mark.parametrize("language", ["en", "cy", None, "fr"])
def test_a_batch_of_newcomers_stores_what_the_full_path_stores(
    service: ConversationService, db: Engine, language: str | None
) -> None:
    replies = service.answer_many(
        [
            Joining(who("a", language), "j-a", "example--tenants"),
            Joining(who("b"), "j-b", "example"),
        ]
    )
    full = service.start(who("c", language), "example--tenants", update_key="j-c")
    assert replies[0] == full and replies[1] is not None
    assert ("Ydych chi'n hapus" if language == "cy" else "happy to take part?") in full[0].text
    assert joined(db, "a") == joined(db, "c")
    assert joined(db, "b")["conversation"][1] is None  # type: ignore[index]


def test_a_newcomer_joined_in_a_batch_carries_on_as_anyone_else(
    service: ConversationService, db: Engine
) -> None:
    batched = Resident_(service, "batched")
    batched.inbox.extend(service.answer_many([Joining(batched.who, "j-1", "example")])[0] or [])
    single = Resident_(service, "single")
    single.start("example")
    for resident in (batched, single):
        resident.press("happy to take part")
        resident.press("North")
        resident.press("35 to 64")
        resident.say("The buses stop at 7pm.")
    assert _rows(db, "batched") == _rows(db, "single")


def test_anything_but_a_newcomer_with_a_link_to_an_open_round_is_left_to_the_full_path(
    service: ConversationService, db: Engine
) -> None:
    known = Resident_(service, "known")
    known.start("example")
    with Session(db) as session, session.begin():  # an update handled before
        session.add(InboxEntry(channel="telegram", update_key="j-seen", replies_json="[]"))
    requests = [
        Joining(known.who, "j-known", "example"),  # we know them already
        Joining(who("no-link"), "j-none", None),  # no consultation named
        Joining(who("unknown"), "j-unknown", "no-such-consultation"),
        Joining(who("twice"), "j-twice-1", "example"),
        Joining(who("twice"), "j-twice-2", "example"),  # their second: after the first
        Joining(who("seen"), "j-seen", "example"),
    ]
    results = service.answer_many(requests)
    assert [r is not None for r in results] == [False, False, False, True, False, False]
    first_start = known_key(db)
    with Session(db) as session:
        keys = set(session.exec(select(InboxEntry.update_key)).all())
        assert keys == {"j-seen", first_start, "j-twice-1"}
        names = set(session.exec(select(ChannelIdentity.external_id)).all())
        assert names == {"known", "twice"}  # nothing written for the others
    # The full path then handles each as it always has.
    unknown = service.start(who("unknown"), "no-such-consultation", update_key="j-unknown")
    assert "couldn't find" in unknown[0].text
    assert "happy to take part?" in service.start(who("no-link"), None, update_key="j-none")[0].text
    assert service.start(who("seen"), "example", update_key="j-seen") == []  # handled before


def known_key(db: Engine) -> str:
    with Session(db) as session:
        identity = session.exec(
            select(ChannelIdentity).where(ChannelIdentity.external_id == "known")
        ).one()
        entry = session.exec(
            select(InboxEntry).where(InboxEntry.resident_id == identity.resident_id)
        ).one()
        return entry.update_key


def test_a_closed_round_is_left_to_the_full_path(service: ConversationService, db: Engine) -> None:
    with Session(db) as session, session.begin():
        consultation = store.require_consultation(session=session, slug="example")
        store.close_round(session=session, consultation=consultation)
    assert service.answer_many([Joining(who("late"), "j-late", "example")]) == [None]
    messages = service.start(who("late"), "example", update_key="j-late")
    assert "isn't open" in messages[0].text


def test_a_batch_that_meets_someone_joined_meanwhile_writes_nothing(
    service: ConversationService, db: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Another worker may make a resident between this batch's read and its write: the
    unique identity refuses the insert, the whole batch rolls back, and each request
    then goes the full path, which finds the resident."""
    assert service.answer_many([Joining(who("racer"), "j-r1", "example")])[0] is not None
    # This worker's read missed them, as it would have a moment earlier.
    monkeypatch.setattr(service.joins, "_new", lambda cursor, channel, batch, requests: batch)
    results = service.answer_many(
        [Joining(who("other"), "j-o", "example"), Joining(who("racer"), "j-r2", "example")]
    )
    assert results == [None, None]
    with Session(db) as session:
        names = sorted(session.exec(select(ChannelIdentity.external_id)).all())
        assert names == ["racer"]  # "other" rolled back with the batch
        keys = sorted(session.exec(select(InboxEntry.update_key)).all())
        assert keys == ["j-r1"]
    monkeypatch.undo()
    assert "happy to take part?" in service.start(who("other"), "example", update_key="j-o")[0].text
