"""What residents can do, for any channel: join, answer, see and erase their data.

Each call is one database transaction: the update is recorded in the inbox (so a
redelivered update is handled once), the engine runs on the stored state, and
the answers, the new state and the replies are written together. Channels call
these synchronous methods from a worker thread and deliver the returned messages.

Plain answers and newcomers' joins go in batches (answer_batch.py, join_batch.py);
the rest takes the full path, one turn each (turn.py): joining (joining.py),
answering (answering.py) and the resident's rights (rights.py). Both paths store an
outcome through outcome_rows.py and decline by policy.py.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from sqlalchemy import Engine
from sqlmodel import Session

from conversations.flow import callbacks
from conversations.flow.callbacks import ForgetPress, JoinPress, LanguagePress
from conversations.flow.inputs import ChoiceInput, EditedText, Input, TextInput
from conversations.flow.messages import Message
from conversations.residents import inbox, rights
from conversations.residents.answer_batch import AnswerPath, AnswerRequest
from conversations.residents.answering import screen, step
from conversations.residents.join_batch import JoinPath, JoinRequest
from conversations.residents.joining import join, offer, parse_start, point_to_results, start
from conversations.residents.outcome_rows import OutcomeStatements
from conversations.residents.texts import service_text
from conversations.residents.turn import Setting, Turn, take_turn
from conversations.screening import moderation, safeguarding
from conversations.screening.cleaning import clean_text
from conversations.storage import store
from conversations.storage.db import after_erasure
from conversations.storage.scripts import ScriptCache

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Incoming:
    """An answer waiting for `ConversationService.answer_many`."""

    who: Who
    update_key: str
    given: Input


@dataclass(frozen=True)
class Joining:
    """A `/start` (with its deep link's argument) waiting for `answer_many`."""

    who: Who
    update_key: str
    argument: str | None


@dataclass(frozen=True)
class Who:
    """A person as a channel knows them. Never leaves this package and the channel."""

    channel: str
    external_id: str
    chat_id: str
    language: str | None = None


class ConversationService:
    """Residents' side of Needs First, independent of any channel."""

    def __init__(self, db: Engine, scripts: ScriptCache | None = None, *,
                 results_url: str = "") -> None:  # fmt: skip
        """`results_url`: where a consultation's public results are read, with "{slug}" (and
        optionally "{lang}") in it: the host knows its public address; this package does not."""
        self.db = db
        self.scripts = scripts or ScriptCache()
        # Tells this running service's in-flight replies from a dead one's.
        self.boot_id = secrets.token_hex(8)
        # Load the safety models now, not while the first resident waits (~0.25 s).
        safeguarding.assess("", "en")
        moderation.assess_abuse("")
        statements = OutcomeStatements(db.dialect)
        self.setting = Setting(db, self.scripts, statements, self.boot_id, results_url)
        self.answers = AnswerPath(db, self.scripts.parsed, self.boot_id, statements)
        self.joins = JoinPath(db, self.scripts.parsed, self.boot_id, statements)

    # --- entry points -------------------------------------------------------------

    def start(
        self, who: Who, argument: str | None, *, update_key: str | None = None
    ) -> list[Message]:
        """/start, with an optional `slug` or `slug--source` from a deep link."""
        argument = storable(argument) if argument is not None else None
        return self._run(who, update_key, lambda turn: start(turn, argument))

    def receive(self, who: Who, given: Input, *, update_key: str | None = None) -> list[Message]:
        """Text, an edit, or something we cannot read, sent by the resident."""
        given = _storable_input(given)
        if update_key is not None:
            fast = self.answers.handle(who.channel, who.external_id, update_key, given)
            if fast is not None:
                return fast
        return self._run(who, update_key, lambda turn: _receive(turn, given), given=given)

    def answer_many(self, incoming: Sequence[Incoming | Joining]) -> list[list[Message] | None]:
        """Plain answers, and new residents joining, from many residents at once.

        The replies for each, or None where `receive`, `press` or `start` must handle
        it (and be called after this returns): anything but a plain answer in an open
        round or a newcomer's `/start` with a link to one. Joins and answers each go in
        one transaction."""
        results: list[list[Message] | None] = [None] * len(incoming)
        joins = [(i, item) for i, item in enumerate(incoming) if isinstance(item, Joining)]
        answers = [(i, item) for i, item in enumerate(incoming) if isinstance(item, Incoming)]
        if joins:
            try:
                joined = self.joins.handle_many([_join_request(item) for _, item in joins])
            except Exception:  # e.g. someone joined meanwhile elsewhere: one by one, in full
                log.info("a batch of %d joins goes the full path", len(joins), exc_info=True)
                joined = [None] * len(joins)
            for (i, _), result in zip(joins, joined, strict=True):
                results[i] = result
        if answers:
            handled = self.answers.handle_many(
                [
                    AnswerRequest(
                        item.who.channel,
                        item.who.external_id,
                        item.update_key,
                        _storable_input(item.given),
                    )
                    for _, item in answers
                ]
            )
            for (i, _), result in zip(answers, handled, strict=True):
                results[i] = result
        return results

    @staticmethod
    def answer_input(data: str) -> Input | None:
        """A button's data as the answer it gives, if it answers a question."""
        press = callbacks.parse(data)
        return press if isinstance(press, ChoiceInput) else None

    def press(self, who: Who, data: str, *, update_key: str | None = None) -> list[Message]:
        """A button press, with the button's (untrusted) data."""
        data = storable(data)
        given = self.answer_input(data)
        if given is not None and update_key is not None:
            fast = self.answers.handle(who.channel, who.external_id, update_key, given)
            if fast is not None:
                return fast
        return self._run(who, update_key, lambda turn: _press(turn, data))

    def language_menu(self, who: Who, *, update_key: str | None = None) -> list[Message]:
        return self._run(who, update_key, rights.language_menu)

    def help(self, who: Who) -> list[Message]:
        """The help text in the language the resident chose (with /language), else the one
        their app asks for (WhatsApp's webhook says none), else English."""
        with Session(self.db) as session:
            known = store.resident_for(
                session=session, channel=who.channel, external_id=who.external_id
            )
            language = known.language if known is not None else (who.language or "en")
        return [Message(service_text("help", language, channel=who.channel))]

    def stop(self, who: Who, *, update_key: str | None = None) -> list[Message]:
        return self._run(who, update_key, rights.stop)

    def forget_request(self, who: Who, *, update_key: str | None = None) -> list[Message]:
        return self._run(who, update_key, rights.ask_to_forget)

    def my_data(self, who: Who, *, update_key: str | None = None) -> list[Message]:
        return self._run(who, update_key, rights.my_data)

    def mark_delivered(self, channel: str, *update_keys: str) -> None:
        """Record that the replies to these updates reached the resident."""
        if not update_keys:
            return
        with Session(self.db) as session, session.begin():
            store.mark_delivered(session=session, channel=channel, update_keys=update_keys)

    def finish(self, channel: str, *, handled: Sequence[str], delivered: Sequence[str]) -> None:
        """Updates handled (off the durable inbox) and those whose replies reached the
        resident, in one transaction: a channel that keeps its own pending updates (a
        webhook's) writes both marks together."""
        with Session(self.db) as session, session.begin():
            if delivered:
                store.mark_delivered(session=session, channel=channel, update_keys=delivered)
            if handled:
                inbox.handled(connection=session.connection(), channel=channel, keys=handled)

    def _run(self, who: Who, update_key: str | None, action: Callable[[Turn], None],
             *, given: Input | None = None) -> list[Message]:  # fmt: skip
        messages, erased = take_turn(self.setting, who, update_key, action, given)
        if erased:
            after_erasure(self.db)  # committed: now out of the write-ahead log too
        return messages


def _receive(turn: Turn, given: Input) -> None:
    current = turn.current()
    if current is None:
        if isinstance(given, EditedText):
            return  # an edit of a message from before they joined: nothing to change
        screen(turn, None, None, given)
        start(turn, None)
        return
    if current[1].status != "open":
        conversation, _, consultation = current
        assert consultation.id is not None
        later = store.open_round_of(session=turn.session, consultation_id=consultation.id)
        if later is not None:
            # Their round closed and the consultation's next one (a prioritise round,
            # say) is open: take them there, rather than saying "closed".
            join(turn, consultation, later, conversation.source)
            return
        turn.say("round_closed")
        point_to_results(turn, consultation)
        choices = store.open_consultations(session=turn.session)
        if choices:
            offer(turn, choices, intro="choose")
        return
    step(turn, *current, given)


def _press(turn: Turn, data: str) -> None:
    press = callbacks.parse(data)
    if press is None:
        log.info("ignored unrecognised button data from channel %s", turn.who.channel)
        turn.say("unknown_button")
        return
    if isinstance(press, JoinPress):
        start(turn, press.slug)
    elif isinstance(press, ForgetPress):
        rights.forget(turn, press.confirmed)
    elif isinstance(press, LanguagePress):
        rights.set_language(turn, press.language)
    elif isinstance(press, ChoiceInput):
        _receive(turn, press)


def storable(text: str) -> str:
    """Text as a resident gave it, cleaned once here, where every channel's text enters.

    A NUL would fail the resident's whole transaction on PostgreSQL, a lone
    surrogate fails any UTF-8 store, and control and bidi characters would reach
    officers' screens and spreadsheets (see conversations/screening/cleaning.py)."""
    return clean_text(text)


def _storable_input(given: Input) -> Input:
    if isinstance(given, TextInput | EditedText):
        cleaned = clean_text(given.text)
        return replace(given, text=cleaned) if cleaned != given.text else given
    return given


def _join_request(item: Joining) -> JoinRequest:
    argument = storable(item.argument) if item.argument is not None else None
    slug, source = parse_start(argument)
    who = item.who
    return JoinRequest(
        who.channel, who.external_id, who.chat_id, who.language, item.update_key, slug, source
    )
