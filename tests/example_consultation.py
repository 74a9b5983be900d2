"""The example consultation as a resident does it, talking to the service directly.

`Resident_` presses buttons by their labels and reads the replies, with a fresh update
key for each step (the trailing underscore keeps it apart from the Resident table).
"""

from __future__ import annotations

import itertools
from pathlib import Path

from sqlalchemy import Engine
from sqlmodel import Session

from bot.actions.consultations import EXAMPLE_SCRIPT, load_consultation
from conversations.flow.inputs import TextInput
from conversations.flow.messages import Message
from conversations.residents.service import ConversationService, Who
from conversations.staff import themes

_keys = itertools.count(1)


class Resident_:
    """A simulated resident talking to the service directly."""

    def __init__(self, service: ConversationService, user_id: str, language: str = "en",
                 *, channel: str = "telegram") -> None:  # fmt: skip
        self.service = service
        self.who = Who(channel, user_id, user_id, language)
        self.inbox: list[Message] = []

    def _got(self, messages: list[Message], key: str) -> list[Message]:
        self.inbox.extend(messages)
        self.service.mark_delivered(self.who.channel, key)
        return messages

    def start(self, argument: str | None = None) -> list[Message]:
        key = str(next(_keys))
        return self._got(self.service.start(self.who, argument, update_key=key), key)

    def say(self, words: str, ref: str | None = None) -> list[Message]:
        key = str(next(_keys))
        return self._got(self.service.receive(self.who, TextInput(words, ref), update_key=key), key)

    def press(self, label: str) -> list[Message]:
        for message in reversed(self.inbox):
            for row in message.buttons:
                for button in row:
                    if label in button.label:
                        key = str(next(_keys))
                        return self._got(
                            self.service.press(self.who, button.data, update_key=key), key
                        )
        raise AssertionError(f"no button {label!r} in {[m.text[:40] for m in self.inbox[-3:]]}")

    @property
    def last(self) -> str:
        return self.inbox[-1].text


def complete_example(resident: Resident_, need: str = "The buses stop at 7pm.") -> None:
    resident.start("example--tenants")
    resident.press("happy to take part")
    resident.press("North")
    resident.press("35 to 64")
    resident.say(need)
    resident.press("My family")
    resident.press("Done")
    resident.say("I could get to work.")
    resident.press("that's right")
    resident.press("No")
    resident.press("No, that's all")


def change_consent(db: Engine, tmp_path: Path) -> None:
    """Load the example again with a new consent text (its version changed)."""
    changed = tmp_path / "example.toml"
    changed.write_text(
        EXAMPLE_SCRIPT.read_text(encoding="utf-8").replace(
            'version = "2026-11-01"', 'version = "2027-01-15"'
        ),
        encoding="utf-8",
    )
    load_consultation(db, changed, actor="test")


# Needs about three topics, for tests that theme answers.
TOPICS = {
    "buses": [
        "The bus timetable is unreliable and the bus is always late",
        "Bus route 12 was cut so the bus no longer stops near us",
        "No bus on Sundays, the bus service is too thin",
        "The last bus leaves at 7pm so I miss the bus home",
        "Buses are cancelled and the bus stop has no shelter",
    ],
    "damp": [
        "Our flat is damp and mould grows on every wall",
        "Black mould and damp in the bedroom, the landlord ignores the damp",
        "Damp walls and mould from condensation in the flat",
        "Mould keeps coming back because the flat is damp",
        "The flat is cold, damp and full of mould",
    ],
    "youth": [
        "Teenagers have nowhere to go since the youth club closed",
        "The youth club shut and teenagers hang around the shops",
        "Young people need a youth club, teenagers are bored",
        "No youth club any more so teenagers have nothing to do",
        "Teenagers need a youth club to meet friends safely",
    ],
}

ALL_NEEDS = {need for needs in TOPICS.values() for need in needs}


def seed(service: ConversationService, prefix: str, copies: int = 2) -> None:
    """Residents `prefix`1, 2, ... each complete the example with one need of TOPICS."""
    n = 0
    for needs in TOPICS.values():
        for copy in range(copies):
            for need in needs:
                n += 1
                complete_example(Resident_(service, f"{prefix}{n}"), need=f"{need}{'!' * copy}")


def theme_of(db: Engine, topic: str) -> tuple[int, int]:
    """(run id, theme id) of the theme holding most of a topic's answers."""
    with Session(db) as session:
        run = themes.latest_run(session=session, consultation_id=1)
        assert run is not None and run.id is not None
        counts: dict[int, int] = {}
        for theme in themes.themes_of_run(session=session, run_id=run.id):
            texts = set(themes.quote_texts(session=session, theme=theme))
            counts[theme.theme_id] = sum(any(t.startswith(n) for n in TOPICS[topic]) for t in texts)
        return run.id, max(counts, key=lambda k: counts[k])
