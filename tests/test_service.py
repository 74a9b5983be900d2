"""The conversation service on SQLite and on the real PostgreSQL server."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine, inspect, text
from sqlmodel import Session, select

from bot.actions.consultations import EXAMPLE_SCRIPT, load_consultation
from conversations.flow.inputs import EditedText, TextInput
from conversations.flow.messages import Message
from conversations.residents.service import ConversationService, Incoming, Who
from conversations.storage import store
from conversations.storage.models import (
    Answer,
    ConsentRecord,
    Conversation,
    InboxEntry,
    Resident,
    SafeguardingFlag,
)
from tests.example_consultation import Resident_, change_consent, complete_example


def answers(db: Engine) -> list[tuple[str, int, str, bool]]:
    with Session(db) as session:
        rows = session.exec(select(Answer).order_by(Answer.id)).all()  # type: ignore[arg-type]
        return [(a.step_id, a.iteration, a.value, a.confirmed) for a in rows]


def test_a_resident_completes_the_example(service: ConversationService, db: Engine) -> None:
    ann = Resident_(service, "1001")
    complete_example(ann)
    assert "Thank you for taking part" in ann.last
    assert answers(db) == [
        ("area", 1, "north", True),
        ("age", 1, "35-64", True),
        ("need", 1, "The buses stop at 7pm.", True),
        ("affects", 1, "family", True),
        ("difference", 1, "I could get to work.", True),
        ("ideas-ask", 1, "no", True),
    ]
    with Session(db) as session:
        conversation = session.exec(select(Conversation)).one()
        assert conversation.completed_at is not None
        assert conversation.source == "tenants"
        consent = session.exec(select(ConsentRecord)).one()
        assert consent.given and consent.version == "2026-11-01"


def test_restart_mid_conversation_carries_on_at_the_same_step(db: Engine) -> None:
    load_consultation(db, EXAMPLE_SCRIPT, actor="test", open_first_round=True)
    ann = Resident_(ConversationService(db), "1002")
    ann.start()
    ann.press("happy to take part")
    ann.press("South")
    # A new service (as after a restart) picks up from the database alone.
    ann.service = ConversationService(db)
    messages = ann.start()
    assert messages[0].text.startswith("Welcome back")
    assert messages[1].text == "How old are you?"
    ann.press("18 to 34")
    assert answers(db)[:2] == [("area", 1, "south", True), ("age", 1, "18-34", True)]


def test_a_redelivered_update_is_handled_once(service: ConversationService, db: Engine) -> None:
    ann = Resident_(service, "1003")
    ann.start()
    ann.press("happy to take part")
    ann.press("North")
    ann.press("65 or over")
    who = ann.who
    text = TextInput("No dropped kerbs on my street")
    first = service.receive(who, text, update_key="u-1")
    # While its replies may still be on their way, a copy of the update does nothing...
    assert service.receive(who, text, update_key="u-1") == []
    # ...but if they were never delivered (the process died first), they come again...
    with Session(db) as session, session.begin():
        entry = store.inbox_entry(session=session, channel="telegram", update_key="u-1")
        assert entry is not None
        entry.handled_at -= timedelta(minutes=1)
        session.add(entry)
    again = service.receive(who, text, update_key="u-1")
    assert again == first
    # After a restart nothing is on its way any more: the replies come again at once.
    second = service.receive(who, TextInput("A second need"), update_key="u-2")
    assert (
        ConversationService(db).receive(who, TextInput("A second need"), update_key="u-2") == second
    )
    service.mark_delivered("telegram", "u-1")
    # ...and once delivered, a redelivery does nothing at all.
    assert service.receive(who, TextInput("No dropped kerbs on my street"), update_key="u-1") == []
    assert [a for a in answers(db) if a[0] == "need"] == [
        ("need", 1, "No dropped kerbs on my street", False)
    ]


def test_an_edited_message_updates_its_answer_without_duplicating(
    service: ConversationService, db: Engine
) -> None:
    ann = Resident_(service, "1004")
    ann.start()
    ann.press("happy to take part")
    ann.press("Prefer not to say")
    ann.press("Prefer not to say")
    ann.say("Bins collected too rarely", ref="77")
    service.receive(ann.who, EditedText("Bins are collected too rarely in summer", "77"))
    needs = [a for a in answers(db) if a[0] == "need"]
    assert needs == [("need", 1, "Bins are collected too rarely in summer", False)]


def test_over_long_text_is_stored_whole(service: ConversationService, db: Engine) -> None:
    ann = Resident_(service, "1005")
    ann.start()
    ann.press("happy to take part")
    ann.press("North")
    ann.press("18 to 34")
    essay = "The damp in our flat makes my son's asthma worse. " * 200  # ~10,000 characters
    ann.say(essay)
    assert [a[2] for a in answers(db) if a[0] == "need"] == [essay]
    ann.press("Mainly me")
    ann.press("Done")
    ann.press("Skip")
    # The read-back is shortened to fit a message, the stored answer is not.
    assert len(ann.inbox[-1].text) <= 4096
    assert "…" in ann.inbox[-1].text


def test_nul_characters_are_dropped_not_fatal(service: ConversationService, db: Engine) -> None:
    """PostgreSQL cannot store NUL: the rest of the text is kept and the resident goes on."""
    ann = Resident_(service, "1011")
    ann.start("exam\x00ple")
    assert "happy to take part" in ann.last
    ann.press("happy to take part")
    ann.service.press(ann.who, "a:area\x00:1:north", update_key="nul-press")
    ann.press("North")
    ann.press("18 to 34")
    ann.say("The lift\x00 is broken")
    assert [a[2] for a in answers(db) if a[0] == "need"] == ["The lift is broken"]
    assert "Who else" in ann.last


def test_forged_and_stale_button_data(service: ConversationService, db: Engine) -> None:
    ann = Resident_(service, "1006")
    ann.start()
    for data in [
        "",
        "x" * 300,
        "a:area:1:north'; DROP TABLE answer;--",
        "j:../../etc",
        "a:area:1:nowhere",
        "f:maybe",
    ]:
        service.press(ann.who, data)
    ann.press("happy to take part")
    reply = service.press(ann.who, "a:area:1:nowhere")
    assert "earlier question" in reply[0].text
    assert answers(db) == []


def test_start_with_unknown_or_closed_consultation_offers_the_open_ones(
    service: ConversationService, db: Engine
) -> None:
    ann = Resident_(service, "1007")
    messages = ann.start("no-such-thing")
    assert "couldn't find" in messages[0].text
    assert [b.data for row in messages[1].buttons for b in row] == ["j:example"]
    with Session(db) as session, session.begin():
        consultation = store.require_consultation(session=session, slug="example")
        store.close_round(session=session, consultation=consultation)
    messages = ann.start("example")
    assert "isn't open" in messages[0].text
    assert "no consultations open" in messages[1].text


def test_answers_after_the_round_closes_are_refused(
    service: ConversationService, db: Engine
) -> None:
    ann = Resident_(service, "1008")
    ann.start()
    ann.press("happy to take part")
    with Session(db) as session, session.begin():
        store.close_round(
            session=session,
            consultation=store.require_consultation(session=session, slug="example"),
        )
    ann.press("North")
    assert "closed" in ann.inbox[-1].text
    assert answers(db) == []


def test_mydata_shows_everything_held(service: ConversationService) -> None:
    ann = Resident_(service, "1009")
    complete_example(ann, need="Nowhere safe for kids to play")
    (message,) = service.my_data(ann.who)
    assert "Nowhere safe for kids to play" in message.text
    assert message.attachment is not None
    assert b'"given": true' in message.attachment.content
    assert b"1009" not in message.attachment.content  # the Telegram id is not "data about them"


def test_forget_erases_every_trace(service: ConversationService, db: Engine) -> None:
    ann = Resident_(service, "424242")
    bob = Resident_(service, "515151")
    complete_example(ann, need="Damp flat with black mould everywhere")
    complete_example(bob, need="Library opening hours too short")
    with Session(db) as session:
        pseudonym = session.exec(select(Resident.pseudonym).order_by(Resident.id)).first()  # type: ignore[arg-type]
    asked = service.forget_request(ann.who)
    assert "can't get it back" in asked[0].text
    ann.inbox.extend(asked)
    ann.press("No, keep it")
    assert len(answers(db)) == 12
    ann.press("Yes, delete everything")
    assert "deleted" in ann.last
    # Scan every column of every table for Ann's ids and words.
    needles = ["424242", str(pseudonym), "Damp flat with black mould"]
    with db.connect() as connection:
        for table in inspect(db).get_table_names():
            for row in connection.execute(text(f'SELECT * FROM "{table}"')):
                for needle in needles:
                    assert needle not in " ".join(map(str, row)), f"{needle} found in {table}"
    assert len(answers(db)) == 6  # Bob's answers are untouched
    assert service.my_data(ann.who)[0].text == "We don't hold any information about you."


def test_stop_turns_invitations_off(service: ConversationService, db: Engine) -> None:
    ann = Resident_(service, "1010")
    ann.start()
    service.stop(ann.who)
    with Session(db) as session:
        assert session.exec(select(Resident.invitations)).one() is False


def test_language_switch_mid_conversation(service: ConversationService) -> None:
    ann = Resident_(service, "1011")
    ann.start()
    ann.press("happy to take part")
    menu = service.language_menu(ann.who)
    ann.inbox.extend(menu)
    ann.press("Cymraeg")
    assert ann.last.startswith("Ym mha ran o'r fwrdeistref")


def test_a_declined_consent_stores_no_answers(service: ConversationService, db: Engine) -> None:
    ann = Resident_(service, "1012")
    ann.start()
    ann.press("No thanks")
    ann.say("the buses are awful")
    assert answers(db) == []
    with Session(db) as session:
        assert session.exec(select(ConsentRecord.given)).one() is False


def test_export_rows_carry_profiles_and_sources(
    service: ConversationService, db: Engine, tmp_path: Path
) -> None:
    complete_example(Resident_(service, "2001"))
    with Session(db) as session:
        consultation = store.require_consultation(session=session, slug="example")
        assert consultation.id is not None
        rows = list(store.export_rows(session=session, consultation_id=consultation.id))
        profiles = store.profiles(session=session, consultation_id=consultation.id)
    assert [r.question for r in rows] == [
        "area",
        "age",
        "need",
        "affects",
        "difference",
        "ideas-ask",
    ]
    assert {r.source for r in rows} == {"tenants"}
    assert list(profiles.values()) == [{"area": "north", "age_band": "35-64"}]


def test_a_disclosure_gets_help_at_once_and_is_never_quotable(
    service: ConversationService, db: Engine
) -> None:
    from conversations.storage.models import SafeguardingFlag

    ann = Resident_(service, "3001")
    ann.start()
    ann.press("happy to take part")
    ann.press("North")
    ann.press("18 to 34")
    replies = ann.say("My partner hits me and I'm scared to go home")
    assert "999" in replies[0].text and "116 123" in replies[0].text
    assert "Riverside Council's team that keeps people safe" in replies[0].text
    assert replies[1].text.startswith("Who else does this affect?")  # the conversation carries on
    with Session(db) as session:
        flag = session.exec(select(SafeguardingFlag)).one()
        assert "domestic_violence" in flag.categories
        need = session.exec(select(Answer).where(Answer.step_id == "need")).one()
        assert need.withheld == "safeguarding"


def test_danger_now_gets_crisis_help_and_worrying_signs_gentle_signposting(
    service: ConversationService, db: Engine
) -> None:
    from conversations.storage.models import SafeguardingFlag

    ann = Resident_(service, "3011")
    ann.start()
    ann.press("happy to take part")
    ann.press("North")
    ann.press("18 to 34")
    crisis = ann.say("he's kicking the door in right now and I've locked myself in the loo")
    assert "please call 999 now" in crisis[0].text
    assert "Riverside Council's team that keeps people safe" in crisis[0].text
    bea = Resident_(service, "3012")
    bea.start()
    bea.press("happy to take part")
    bea.press("North")
    bea.press("18 to 34")
    concern = bea.say("my husband checks my phone and won't let me see my sister")
    assert "If you would like to talk to someone" in concern[0].text
    assert "please call 999 now" not in concern[0].text and "116 123" in concern[0].text
    with Session(db) as session:
        assert len(session.exec(select(SafeguardingFlag)).all()) == 2  # both reach a lead


@pytest.mark.parametrize(
    "words",
    ["I live in Marsh End", "We live in a damp flat and my kids keep getting ill"],
)
def test_a_need_or_the_scripts_own_place_gets_no_crisis_message(
    service: ConversationService, db: Engine, words: str
) -> None:
    from conversations.storage.models import SafeguardingFlag

    ann = Resident_(service, "3013")
    ann.start()
    ann.press("happy to take part")
    ann.press("South")
    ann.press("18 to 34")
    replies = ann.say(words)
    assert not any("116 123" in m.text or "999" in m.text for m in replies)
    assert replies[0].text.startswith("Who else does this affect?")
    with Session(db) as session:
        assert session.exec(select(SafeguardingFlag)).all() == []
        need = session.exec(select(Answer).where(Answer.step_id == "need")).one()
        assert need.withheld is None


def test_a_disclosure_before_joining_still_gets_help(service: ConversationService) -> None:
    replies = service.receive(
        Who("telegram", "3002", "3002", "en"), TextInput("I want to kill myself")
    )
    assert "116 123" in replies[0].text


def test_a_flood_gets_one_gentle_slow_down(service: ConversationService, db: Engine) -> None:
    from conversations.residents.policy import FLOOD_LIMIT

    ann = Resident_(service, "4001")
    ann.start()
    replies = [
        service.receive(ann.who, TextInput(f"spam {n}"), update_key=f"f{n}")
        for n in range(FLOOD_LIMIT + 5)
    ]
    slow = [r for r in replies if r and "stop for a minute" in r[0].text]
    assert len(slow) == 1
    assert all(r == [] for r in replies[FLOOD_LIMIT:] if r is not slow[0])


def test_consent_is_asked_again_when_its_text_changes(
    service: ConversationService, db: Engine, tmp_path: Path
) -> None:
    ann = Resident_(service, "4101")
    ann.start()
    ann.press("happy to take part")
    ann.press("North")
    change_consent(db, tmp_path)
    ann.press("35 to 64")  # pressed on the old question: consent comes first now
    assert "Are you happy to take part?" in ann.last
    ann.press("happy to take part")
    assert ann.last == "How old are you?"  # and then carry on where they were
    ann.press("35 to 64")
    with Session(db) as session:
        versions = [
            c.version for c in session.exec(select(ConsentRecord).order_by(ConsentRecord.id))
        ]  # type: ignore[arg-type]
    assert versions == ["2026-11-01", "2027-01-15"]
    assert [a[0] for a in answers(db)] == ["area", "age"]


def _rows(db: Engine, resident_external_id: str) -> dict[str, object]:
    """What the service stored for one resident, without ids and times."""
    with Session(db) as session:
        resident = store.resident_for(
            session=session, channel="telegram", external_id=resident_external_id
        )
        assert resident is not None and resident.id is not None
        conversation = session.exec(
            select(Conversation).where(Conversation.resident_id == resident.id)
        ).one()
        return {
            "answers": [
                (
                    a.step_id,
                    a.iteration,
                    a.kind,
                    a.value,
                    a.display,
                    a.profile,
                    a.skipped,
                    a.confirmed,
                    a.withheld,
                )
                for a in store.answers_for_resident(session=session, resident_id=resident.id)
            ],
            "consents": [
                (c.version, c.given, c.channel)
                for c in session.exec(
                    select(ConsentRecord).where(ConsentRecord.resident_id == resident.id)
                )
            ],
            "state": conversation.state_json,
            "completed": conversation.completed_at is not None,
            "updates": len(
                session.exec(select(InboxEntry).where(InboxEntry.resident_id == resident.id)).all()
            ),
        }


def test_the_fast_path_stores_what_the_full_path_stores(
    service: ConversationService, db: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Most answers skip the ORM (conversations/residents/answer_batch.py); the rows must not differ."""
    handled: list[bool] = []
    fast_handle = service.answers.handle

    def counting(*args: object) -> list[Message] | None:
        result = fast_handle(*args)  # type: ignore[arg-type]
        handled.append(result is not None)
        return result

    def scripted(resident: Resident_) -> None:
        resident.start("example--tenants")
        resident.press("happy to take part")
        resident.press("North")
        resident.press("Prefer not")
        resident.say("The buses stop at 7pm, you idiots.")  # abusive: withheld
        resident.press("My family")
        resident.press("Done")
        resident.say("I could get to work.")
        resident.press("Change: The difference")  # correct the reflect-back
        resident.say("I could keep my job.")
        resident.press("that's right")
        resident.press("No")
        resident.press("No, that's all")
        resident.say("Something else")  # after the end

    monkeypatch.setattr(service.answers, "handle", counting)
    scripted(Resident_(service, "fast"))
    full = ConversationService(db)
    monkeypatch.setattr(full.answers, "handle", lambda *args: None)
    scripted(Resident_(full, "full"))

    fast_rows, full_rows = _rows(db, "fast"), _rows(db, "full")
    assert fast_rows == full_rows
    assert fast_rows["completed"] and fast_rows["consents"] == [("2026-11-01", True, "telegram")]
    need = fast_rows["answers"][2]  # type: ignore[index]
    assert need[:4] == ("need", 1, "text", "The buses stop at 7pm, you idiots.")
    assert need[-1] == "abuse"
    # Everything after /start took the fast path.
    assert len(handled) == 13 and all(handled)


def test_many_residents_answered_at_once_store_what_one_at_a_time_stores(
    service: ConversationService, db: Engine
) -> None:
    """A batch takes the plain answers and leaves the rest to the full path, unchanged."""

    def at_the_need(name: str) -> Resident_:
        resident = Resident_(service, name)
        resident.start("example")
        resident.press("happy to take part")
        resident.press("North")
        resident.press("18 to 34")
        return resident

    words = {"1": "The lift is broken", "2": "No buses after 7", "3": "I want to die"}
    batched = {n: at_the_need(f"batch-{n}") for n in words}
    single = {n: at_the_need(f"single-{n}") for n in words}
    seen = Resident_(service, "batch-seen")  # an update this service handled already
    seen.start("example")
    incoming = [Incoming(r.who, f"b-{n}", TextInput(words[n])) for n, r in batched.items()] + [
        Incoming(batched["1"].who, "b-twice", TextInput("A second answer")),
        Incoming(Who("telegram", "nobody", "nobody"), "b-unknown", TextInput("Hi")),
        Incoming(seen.who, "b-seen", TextInput("Again")),
    ]
    service.receive(seen.who, TextInput("Again"), update_key="b-seen")

    results = service.answer_many(incoming)

    assert [r is not None for r in results] == [True, True, False, False, False, False]
    assert results[0] is not None and "Who else" in results[0][0].text
    for n, resident in single.items():  # the same answers, one by one through `receive`
        resident.say(words[n])
    with Session(db) as session:
        before = len(session.exec(select(InboxEntry)).all())
    for item, result in zip(incoming, results, strict=True):  # the rest, in full
        if result is None:
            service.receive(item.who, item.given, update_key=item.update_key)
    for n in ("1", "2"):
        assert _rows(db, f"batch-{n}")["answers"] == _rows(db, f"single-{n}")["answers"]
    assert _rows(db, "batch-3") == _rows(db, "single-3")  # the disclosure: full path, help
    with Session(db) as session:
        assert len(session.exec(select(SafeguardingFlag)).all()) == 2
        # The disclosure, the second answer of resident 1 and the stranger's were
        # handled in full; the update seen before was not handled twice.
        assert len(session.exec(select(InboxEntry)).all()) == before + 3


def test_the_fast_path_leaves_disclosures_to_the_full_path(
    service: ConversationService, db: Engine
) -> None:
    ann = Resident_(service, "1099")
    ann.start()
    ann.press("happy to take part")
    ann.press("North")
    ann.press("18 to 34")
    assert service.answers.handle("telegram", "1099", "k-1", TextInput("I want to die")) is None
    messages = ann.say("I want to die")
    assert any("Samaritans" in m.text for m in messages)
    with Session(db) as session:
        assert session.exec(select(SafeguardingFlag)).one().categories


def test_repeated_abuse_pauses_free_text_calmly_but_never_a_disclosure(
    service: ConversationService, db: Engine
) -> None:
    from conversations.residents.policy import ABUSE_LIMIT

    ann = Resident_(service, "4101")
    ann.start()
    ann.press("happy to take part")
    ann.press("North")
    ann.press("18 to 34")
    for n in range(ABUSE_LIMIT):
        ann.say(f"you useless idiots {n}")  # stored, withheld, answered as usual
    paused = ann.say("and another thing, morons")
    assert len(paused) == 1 and "short pause" in paused[0].text
    assert "idiot" not in paused[0].text.lower() and "abus" not in paused[0].text.lower()
    assert ann.say("still here") == []  # quietly, once told
    assert any("Samaritans" in m.text for m in ann.say("I want to end my life"))
    assert ann.press("My family") != []  # buttons still work: they carry no words
    with Session(db) as session:
        withheld = session.exec(select(Answer).where(Answer.withheld == "abuse")).all()
        assert 1 <= len(withheld) <= ABUSE_LIMIT
        assert all("morons" not in a.value for a in session.exec(select(Answer)).all())


def test_the_pause_lifts_when_the_window_moves_on(
    service: ConversationService, db: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    from conversations.residents import policy

    ann = Resident_(service, "4102")
    ann.start()
    ann.press("happy to take part")
    ann.press("North")
    ann.press("18 to 34")
    for n in range(policy.ABUSE_LIMIT):
        ann.say(f"you useless idiots {n}")
    assert "short pause" in ann.say("morons")[0].text
    with Session(db) as session, session.begin():
        for entry in session.exec(select(InboxEntry).where(InboxEntry.flag != None)):  # noqa: E711
            entry.handled_at -= policy.ABUSE_WINDOW
            session.add(entry)
    assert ann.say("The buses stop at 7pm") != []
