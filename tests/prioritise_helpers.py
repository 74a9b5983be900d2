"""Shared set-up for prioritise-round tests: themes to weigh, and residents who weigh them."""

from __future__ import annotations

import itertools
import math
import random
from collections.abc import Callable, Mapping, Sequence

from sqlalchemy import Engine
from sqlmodel import Session, select

from bot.actions.consultations import EXAMPLE_SCRIPT, load_consultation
from bot.actions.priorities import open_round
from conversations.flow import callbacks
from conversations.flow.inputs import ChoiceInput, TextInput
from conversations.flow.messages import Message
from conversations.residents.service import ConversationService, Who
from conversations.staff import codebook, themes
from conversations.storage import store
from conversations.storage.models import Answer, Conversation, Round, utcnow

_keys = itertools.count(1_000_000)


def seed_run(db: Engine, labels: Sequence[str], *, slug: str = "example",
             quote_answer_ids: Mapping[int, Sequence[int]] | None = None,
             reviewed: bool = True) -> list[int]:  # fmt: skip
    """Store an analysis run whose themes are `labels`, with ids 1, 2, ..., reviewed by
    officers (in the codebook) unless `reviewed` is False; returns the ids."""
    quotes = quote_answer_ids or {}
    with Session(db) as session, session.begin():
        consultation = store.require_consultation(session=session, slug=slug)
        assert consultation.id is not None
        found = [
            themes.FoundTheme(
                theme_id=number,
                label=label,
                keywords=[],
                domains=[],
                quote_answer_ids=list(quotes.get(number, [])),
                centroid=[0.0],
                size=10 + len(labels) - number,
                previous_size=None,
                status="new",
            )
            for number, label in enumerate(labels, start=1)
        ]
        themes.save_run(
            session=session, consultation_id=consultation.id, created_by="test",
            questions=["need"], answers=len(labels), unthemed=0, seconds=0.0,
            themes=found, assignments=[],
        )  # fmt: skip
        if reviewed:
            for theme in found:
                codebook.review(session=session, consultation_id=consultation.id,
                                theme_id=theme.theme_id, name=theme.label, actor="test",
                                run_id=None)  # fmt: skip
    return list(range(1, len(labels) + 1))


def open_prioritise(db: Engine, *, slug: str = "example") -> Round:
    """Close the needs round if it is open, and open a prioritise round."""
    with Session(db) as session, session.begin():
        consultation = store.require_consultation(session=session, slug=slug)
        assert consultation.id is not None
        if store.open_round_of(session=session, consultation_id=consultation.id):
            store.close_round(session=session, consultation=consultation)
    return open_round(db, slug, kind="prioritise", actor="test")


def example_with_themes(db: Engine, labels: Sequence[str]) -> ConversationService:
    load_consultation(db, EXAMPLE_SCRIPT, actor="test", open_first_round=True)
    seed_run(db, labels)
    open_prioritise(db)
    return ConversationService(db)


def pair_on_screen(message: Message) -> tuple[int, int] | None:
    """The two theme ids a "which matters more?" message offers, top one first."""
    ids = []
    for row in message.buttons:
        for button in row:
            press = callbacks.parse(button.data)
            if isinstance(press, ChoiceInput) and press.option_id.startswith("t"):
                ids.append(int(press.option_id[1:]))
    return (ids[0], ids[1]) if len(ids) == 2 else None


def button_data(message: Message, option_id: str) -> str:
    for row in message.buttons:
        for button in row:
            press = callbacks.parse(button.data)
            if isinstance(press, ChoiceInput) and press.option_id == option_id:
                return button.data
    raise AssertionError(f"no button {option_id!r} on {message.text[:60]!r}")


Preference = Callable[[int, int], str]  # (top, bottom) -> option id to press
Stance = Callable[[int], str]  # theme id -> "_agree" | "_disagree" | "_pass"


class Voter:
    """A simulated resident in a prioritise round, talking to the service directly."""

    def __init__(self, service: ConversationService, user_id: str) -> None:
        self.service = service
        self.who = Who("telegram", user_id, user_id, "en")
        self.inbox: list[Message] = []

    def _got(self, messages: list[Message], key: str) -> list[Message]:
        self.inbox.extend(messages)
        self.service.mark_delivered("telegram", key)
        return messages

    def start(self) -> list[Message]:
        key = str(next(_keys))
        return self._got(self.service.start(self.who, "example", update_key=key), key)

    def press_data(self, data: str) -> list[Message]:
        key = str(next(_keys))
        return self._got(self.service.press(self.who, data, update_key=key), key)

    def press(self, option_id: str) -> list[Message]:
        return self.press_data(button_data(self.inbox[-1], option_id))

    def weigh(self, prefer: Preference, stance: Stance, missed: str | None = None) -> None:
        """Join, agree to take part, and answer every question of the example's round."""
        self.start()
        self.press("_agree")
        while (pair := pair_on_screen(self.inbox[-1])) is not None:
            self.press(prefer(*pair))
        while "top priorities" in self.inbox[-1].text:
            self.press(stance(self.statement_theme()))
        if missed is None:
            self.press("_skip")
        else:
            key = str(next(_keys))
            said = self.service.receive(self.who, TextInput(missed), update_key=key)
            self._got(said, key)

    def statement_theme(self) -> int:
        """The theme of the statement on screen, from its label (tests name themes 'Theme N')."""
        text = self.inbox[-1].text
        return int(text.split("“Theme ", 1)[1].split("”", 1)[0])


def bradley_terry_voter(strengths: Mapping[int, float], rng: random.Random,
                        same: float = 0.05, unsure: float = 0.05) -> Preference:  # fmt: skip
    """Prefers theme a to b with probability 1 / (1 + exp(s_b - s_a)), sometimes undecided."""

    def prefer(top: int, bottom: int) -> str:
        draw = rng.random()
        if draw < unsure:
            return "_unsure"
        if draw < unsure + same:
            return "_same"
        p_top = 1 / (1 + math.exp(strengths[bottom] - strengths[top]))
        return f"t{top}" if rng.random() < p_top else f"t{bottom}"

    return prefer


def add_profile(db: Engine, user_id: str, **profile: str) -> None:
    """Give a resident a profile as if they had answered round 1's profile questions."""
    with Session(db) as session, session.begin():
        resident = store.resident_for(session=session, channel="telegram", external_id=user_id)
        consultation = store.require_consultation(session=session, slug="example")
        assert resident is not None and resident.id is not None and consultation.id is not None
        first = session.get(Round, _first_round_id(session, consultation.id))
        assert first is not None and first.id is not None
        conversation = store.conversation_for(
            session=session, resident_id=resident.id, round_id=first.id
        )
        if conversation is None:
            conversation = Conversation(resident_id=resident.id, round_id=first.id, state_json="{}")
            session.add(conversation)
            session.flush()
        steps = {"area": "area", "age_band": "age"}
        assert conversation.id is not None
        for dimension, value in profile.items():
            session.add(
                Answer(
                    conversation_id=conversation.id, resident_id=resident.id,
                    round_id=first.id, step_id=steps[dimension], iteration=1, kind="choice",
                    value=value, display=value, profile=dimension, confirmed=True,
                    answered_at=utcnow(),
                )
            )  # fmt: skip


def _first_round_id(session: Session, consultation_id: int) -> int:
    found = session.exec(
        select(Round.id).where(Round.consultation_id == consultation_id, Round.number == 1)
    ).one()
    assert found is not None
    return found
