"""What residents can do, for any channel: join, answer, see and erase their data.

Each call is one database transaction: the update is recorded in the inbox (so a
redelivered update is handled once), the engine runs on the stored state, and
the answers, the new state and the replies are written together. Channels call
these synchronous methods from a worker thread and deliver the returned messages.
"""

from __future__ import annotations

import json
import logging
import secrets
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import timedelta
from typing import Any, TypeVar

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from conversations.flow import callbacks, engine
from conversations.flow.callbacks import AnswerPress, ForgetPress, JoinPress, LanguagePress
from conversations.flow.deliberation import PairVoted, StatementVoted
from conversations.flow.messages import Attachment, ButtonSpec, Message, fit, to_message
from conversations.flow.script import Script, parse_script
from conversations.residents.answer_batch import AnswerPath, AnswerRequest, Limits
from conversations.residents.cleaning import clean_text
from conversations.residents.join_batch import JoinPath, JoinRequest
from conversations.residents.texts import service_text
from conversations.screening import moderation, safeguarding
from conversations.storage import erasure, priority_votes, store
from conversations.storage.db import after_erasure
from conversations.storage.models import (
    ChannelIdentity,
    ConsentRecord,
    Consultation,
    Conversation,
    InboxEntry,
    Resident,
    Round,
    SafeguardingFlag,
    utcnow,
)

log = logging.getLogger(__name__)
T = TypeVar("T")
# Replies are recorded as delivered in batches; within this time of handling an
# update, a copy of it reaching the same running service is a duplicate whose
# replies are still on their way. After a restart nothing is on its way.
REDELIVERY_GRACE = timedelta(seconds=15)
# Far beyond anyone typing answers: a script or a stuck key. Past it, one gentle
# "slow down", then silence until the minute has passed.
FLOOD_LIMIT = 30
FLOOD_WINDOW = timedelta(minutes=1)
# Abuse is stored (never quoted) and never argued with; after this many abusive
# texts within the window, a resident's free text waits until the window has moved
# on, with one calm word that their answers are safe.
ABUSE_LIMIT = 3
ABUSE_WINDOW = timedelta(minutes=10)


@dataclass(frozen=True)
class Incoming:
    """An answer waiting for `ConversationService.answer_many`."""

    who: Who
    update_key: str
    given: engine.Input


@dataclass(frozen=True)
class Joining:
    """A `/start` (with its deep link's argument) waiting for `answer_many`."""

    who: Who
    update_key: str
    argument: str | None


@dataclass(frozen=True)
class Who:
    """A person as a channel knows them. Never leaves this module and the channel."""

    channel: str
    external_id: str
    chat_id: str
    language: str | None = None


@dataclass
class _Context:
    session: Session
    who: Who
    resident: Resident | None
    messages: list[Message] = field(default_factory=list)
    flag: str | None = None  # recorded with the update: "abuse" or "paused"
    erased: bool = False  # words were erased: checkpoint once committed

    @property
    def language(self) -> str:
        if self.resident is not None:
            return self.resident.language
        return self.who.language or "en"

    def say(self, key: str, **values: str) -> None:
        text = service_text(key, self.language, channel=self.who.channel, **values)
        self.messages.append(Message(text))


class ScriptCache:
    """Parsed scripts by content hash: immutable, so safe to share between workers."""

    def __init__(self) -> None:
        self._scripts: dict[str, Script] = {}

    def get(self, consultation: Consultation) -> Script:
        script = self._scripts.get(consultation.script_hash)
        if script is None:
            script = parse_script(consultation.script_toml, f"consultation '{consultation.slug}'")
            self._scripts[consultation.script_hash] = script
        return script

    def parsed(self, script_hash: str) -> Script | None:
        """The script with this hash, if it has been parsed already."""
        return self._scripts.get(script_hash)


class ConversationService:
    """Residents' side of Needs First, independent of any channel."""

    def __init__(self, db: Engine, scripts: ScriptCache | None = None) -> None:
        self.db = db
        self.scripts = scripts or ScriptCache()
        # Tells this running service's in-flight replies from a dead one's.
        self.boot_id = secrets.token_hex(8)
        # Load the safety models now, not while the first resident waits (~0.25 s).
        safeguarding.assess("", "en")
        moderation.assess_abuse("")
        limits = Limits(FLOOD_LIMIT, FLOOD_WINDOW, ABUSE_LIMIT, ABUSE_WINDOW)
        self.answers = AnswerPath(db, self.scripts.parsed, self.boot_id, limits)
        self.joins = JoinPath(db, self.scripts.parsed, self.boot_id)

    # --- entry points -------------------------------------------------------------

    def start(
        self, who: Who, argument: str | None, *, update_key: str | None = None
    ) -> list[Message]:
        """/start, with an optional `slug` or `slug--source` from a deep link."""
        argument = storable(argument) if argument is not None else None
        return self._run(who, update_key, lambda ctx: self._start(ctx, argument))

    def receive(
        self, who: Who, given: engine.Input, *, update_key: str | None = None
    ) -> list[Message]:
        """Text, an edit, or something we cannot read, sent by the resident."""
        given = _storable_input(given)
        if update_key is not None:
            fast = self.answers.handle(who.channel, who.external_id, update_key, given)
            if fast is not None:
                return fast
        return self._run(who, update_key, lambda ctx: self._receive(ctx, given), given=given)

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
    def answer_input(data: str) -> engine.Input | None:
        """A button's data as the answer it gives, if it answers a question."""
        press = callbacks.parse(data)
        if isinstance(press, AnswerPress):
            return engine.ChoiceInput(press.step_id, press.iteration, press.option_id)
        return None

    def press(self, who: Who, data: str, *, update_key: str | None = None) -> list[Message]:
        """A button press, with the button's (untrusted) data."""
        data = storable(data)
        given = self.answer_input(data)
        if given is not None and update_key is not None:
            fast = self.answers.handle(who.channel, who.external_id, update_key, given)
            if fast is not None:
                return fast
        return self._run(who, update_key, lambda ctx: self._press(ctx, data))

    def language_menu(self, who: Who, *, update_key: str | None = None) -> list[Message]:
        return self._run(who, update_key, self._language_menu)

    def help(self, who: Who) -> list[Message]:
        return [Message(service_text("help", who.language or "en"))]

    def stop(self, who: Who, *, update_key: str | None = None) -> list[Message]:
        def stop(ctx: _Context) -> None:
            if ctx.resident is not None:
                ctx.resident.invitations = False
                ctx.session.add(ctx.resident)
            ctx.say("stopped")

        return self._run(who, update_key, stop)

    def forget_request(self, who: Who, *, update_key: str | None = None) -> list[Message]:
        def ask(ctx: _Context) -> None:
            if ctx.resident is None:
                ctx.say("nothing_held")
                return
            yes = ButtonSpec(service_text("forget_yes", ctx.language), callbacks.forget_data(True))
            no = ButtonSpec(service_text("forget_no", ctx.language), callbacks.forget_data(False))
            ctx.messages.append(Message(service_text("forget_ask", ctx.language), ((yes, no),)))

        return self._run(who, update_key, ask)

    def my_data(self, who: Who, *, update_key: str | None = None) -> list[Message]:
        return self._run(who, update_key, self._my_data)

    def mark_delivered(self, channel: str, *update_keys: str) -> None:
        """Record that the replies to these updates reached the resident."""
        if not update_keys:
            return
        with Session(self.db) as session, session.begin():
            store.mark_delivered(session=session, channel=channel, update_keys=update_keys)

    # --- the transaction ----------------------------------------------------------

    def _run(self, who: Who, update_key: str | None, action: Callable[[_Context], None],
             *, given: engine.Input | None = None) -> list[Message]:  # fmt: skip
        messages, erased = self._transaction(who, update_key, action, given)
        if erased:
            after_erasure(self.db)  # committed: now out of the write-ahead log too
        return messages

    def _transaction(self, who: Who, update_key: str | None, action: Callable[[_Context], None],
                     given: engine.Input | None) -> tuple[list[Message], bool]:  # fmt: skip
        with Session(self.db, expire_on_commit=False) as session, session.begin():
            if update_key is not None:
                seen = store.inbox_entry(
                    session=session, channel=who.channel, update_key=update_key
                )
                if seen is not None:
                    # Handled before. Send its replies again only if they were never
                    # delivered and are no longer in flight (the process died first).
                    in_flight = (
                        seen.handled_by == self.boot_id
                        and utcnow() - seen.handled_at < REDELIVERY_GRACE
                    )
                    if seen.delivered_at is not None or in_flight:
                        return [], False
                    return [Message.from_dict(m) for m in json.loads(seen.replies_json)], False
            resident = store.resident_for(
                session=session, channel=who.channel, external_id=who.external_id, lock=True
            )
            ctx = _Context(session, who, resident)
            recent = self._recent_updates(session, resident) if update_key is not None else 0
            if recent > FLOOD_LIMIT:
                pass  # the rest of a flood is ignored quietly
            elif recent == FLOOD_LIMIT:
                ctx.say("slow_down")  # once
            elif self._paused(ctx, given):
                if not self._flagged(ctx, "paused"):
                    ctx.say("abuse_pause")  # once a window; then quietly
                    ctx.flag = "paused"
            else:
                action(ctx)
            if update_key is not None:
                entry = InboxEntry(
                    channel=who.channel,
                    update_key=update_key,
                    handled_by=self.boot_id,
                    resident_id=ctx.resident.id if ctx.resident is not None else None,
                    replies_json=json.dumps([m.to_dict() for m in ctx.messages]),
                    flag=ctx.flag,
                )
                session.add(entry)
            return ctx.messages, ctx.erased

    def _paused(self, ctx: _Context, given: engine.Input | None) -> bool:
        """Free text after repeated abuse waits; a disclosure of harm never does."""
        if not isinstance(given, engine.TextInput | engine.EditedText):
            return False
        if self._flagged(ctx, "abuse") < ABUSE_LIMIT:
            return False
        return not safeguarding.assess(given.text, ctx.language).risk

    def _flagged(self, ctx: _Context, flag: str) -> int:
        if ctx.resident is None or ctx.resident.id is None:
            return 0
        since = utcnow() - ABUSE_WINDOW
        return store.count_recent_flags(
            session=ctx.session, resident_id=ctx.resident.id, flag=flag, since=since
        )

    def _recent_updates(self, session: Session, resident: Resident | None) -> int:
        if resident is None or resident.id is None:
            return 0
        since = utcnow() - FLOOD_WINDOW
        return store.count_recent_updates(session=session, resident_id=resident.id, since=since)

    def _resident(self, ctx: _Context) -> Resident:
        if ctx.resident is None:
            ctx.resident = store.create_resident(
                session=ctx.session,
                channel=ctx.who.channel,
                external_id=ctx.who.external_id,
                chat_id=ctx.who.chat_id,
                language=ctx.who.language or "en",
            )
        return ctx.resident

    # --- joining ------------------------------------------------------------------

    def _start(self, ctx: _Context, argument: str | None) -> None:
        slug, source = _parse_start(argument)
        resident = self._resident(ctx)
        resident.invitations = True
        if slug is None:
            current = self._current(ctx)
            if current is not None and current[1].status == "open":
                self._step(ctx, *current, engine.Begin())
                return
            choices = store.open_consultations(session=ctx.session)
            if len(choices) == 1:
                self._join(ctx, choices[0][0], choices[0][1], source)
            else:
                self._offer(ctx, choices, intro="choose" if choices else "none_open")
            return
        consultation = store.consultation_by_slug(session=ctx.session, slug=slug)
        open_round = (
            store.open_round_of(session=ctx.session, consultation_id=consultation.id)
            if consultation is not None and consultation.id is not None
            else None
        )
        if consultation is None or open_round is None:
            choices = store.open_consultations(session=ctx.session)
            key = "unknown_consultation" if consultation is None else "closed_consultation"
            ctx.say(key, slug=slug)
            self._offer(ctx, choices, intro="choose" if choices else "none_open")
            return
        self._join(ctx, consultation, open_round, source)

    def _offer(self, ctx: _Context, choices: list[tuple[Consultation, Round]], intro: str) -> None:
        rows = []
        for consultation, _ in choices:
            script = self.scripts.get(consultation)
            title = script.title.get(ctx.language, script.default_language, ctx.who.channel)
            rows.append((ButtonSpec(title[:60], callbacks.join_data(consultation.slug)),))
        text = service_text(intro, ctx.language, channel=ctx.who.channel)
        ctx.messages.append(Message(text, tuple(rows)))

    def _join(
        self, ctx: _Context, consultation: Consultation, round_: Round, source: str | None
    ) -> None:
        resident = self._resident(ctx)
        assert resident.id is not None and round_.id is not None
        conversation = store.conversation_for(
            session=ctx.session, resident_id=resident.id, round_id=round_.id
        )
        script = self.scripts.get(consultation)
        if conversation is None:
            state = engine.new_state(script, resident.language)
            conversation = Conversation(
                resident_id=resident.id,
                round_id=round_.id,
                state_json=json.dumps(state.to_dict()),
                source=source,
            )
            ctx.session.add(conversation)
            ctx.session.flush()
        resident.current_conversation_id = conversation.id
        ctx.session.add(resident)
        self._step(ctx, conversation, round_, consultation, engine.Begin())

    def _current(self, ctx: _Context) -> tuple[Conversation, Round, Consultation] | None:
        resident = ctx.resident
        if resident is None or resident.current_conversation_id is None:
            return None
        # One query for all three: this runs for every message a resident sends.
        row = ctx.session.exec(
            select(Conversation, Round, Consultation)
            .join(Round, col(Round.id) == col(Conversation.round_id))
            .join(Consultation, col(Consultation.id) == col(Round.consultation_id))
            .where(Conversation.id == resident.current_conversation_id)
        ).first()
        return (row[0], row[1], row[2]) if row is not None else None

    # --- conversation -------------------------------------------------------------

    def _receive(self, ctx: _Context, given: engine.Input) -> None:
        current = self._current(ctx)
        if current is None:
            if isinstance(given, engine.EditedText):
                return  # an edit of a message from before they joined: nothing to change
            self._screen(ctx, None, None, given)
            self._start(ctx, None)
            return
        if current[1].status != "open":
            conversation, _, consultation = current
            assert consultation.id is not None
            later = store.open_round_of(session=ctx.session, consultation_id=consultation.id)
            if later is not None:
                # Their round closed and the consultation's next one (a prioritise round,
                # say) is open: take them there, rather than saying "closed".
                self._join(ctx, consultation, later, conversation.source)
                return
            ctx.say("round_closed")
            choices = store.open_consultations(session=ctx.session)
            if choices:
                self._offer(ctx, choices, intro="choose")
            return
        self._step(ctx, *current, given)

    def _press(self, ctx: _Context, data: str) -> None:
        press = callbacks.parse(data)
        if press is None:
            log.info("ignored unrecognised button data from channel %s", ctx.who.channel)
            ctx.say("unknown_button")
            return
        if isinstance(press, JoinPress):
            self._start(ctx, press.slug)
        elif isinstance(press, ForgetPress):
            self._forget(ctx, press.confirmed)
        elif isinstance(press, LanguagePress):
            self._set_language(ctx, press.language)
        elif isinstance(press, AnswerPress):
            self._receive(ctx, engine.ChoiceInput(press.step_id, press.iteration, press.option_id))

    def _step(self, ctx: _Context, conversation: Conversation, round_: Round,
              consultation: Consultation, given: engine.Input) -> None:  # fmt: skip
        script = self.scripts.get(consultation).for_round(round_.kind)
        withheld = self._screen(ctx, script, consultation, given)
        state = engine.ConversationState.from_dict(json.loads(conversation.state_json))
        if round_.kind == "prioritise" and not state.deck and round_.id is not None:
            # The round's themes, as plain data: the engine never reads the database.
            state.deck = priority_votes.deck_for(session=ctx.session, script=script,
                round_id=round_.id, seed=secrets.randbelow(2**31))  # fmt: skip
        if state.step is not None and not script.has_step(state.step):
            # The script changed under a resident: pick up at its first question.
            state.step = script.steps[0].id
        if state.phase == "steps" and state.consent_version != script.consent.version:
            # The consent text changed since they agreed: ask again before going on.
            state.phase = "consent"
        outcome = engine.step(script, state, given, channel=ctx.who.channel)
        resident = self._resident(ctx)
        assert resident.id is not None and consultation.id is not None
        for answer in outcome.answers:
            store.save_answer(
                session=ctx.session,
                conversation=conversation,
                step_id=answer.step_id,
                iteration=answer.iteration,
                kind=answer.kind,
                value=answer.value,
                display=answer.display,
                profile=answer.profile,
                skipped=answer.skipped,
                confirmed=answer.confirmed,
                message_ref=answer.ref,
                withheld=withheld if answer.kind == "text" and not answer.skipped else None,
            )
        flags_kept = 0
        for event in outcome.events:
            if isinstance(event, engine.ConsentGiven | engine.ConsentDeclined):
                ctx.session.add(
                    ConsentRecord(
                        resident_id=resident.id,
                        consultation_id=consultation.id,
                        version=event.version,
                        given=isinstance(event, engine.ConsentGiven),
                        channel=ctx.who.channel,
                    )
                )
            if isinstance(event, engine.ConsentDeclined):
                flags_kept = self._withdraw(ctx, outcome.state, resident.id, consultation.id)
            elif isinstance(event, engine.Completed):
                conversation.completed_at = utcnow()
            elif isinstance(event, PairVoted | StatementVoted):
                priority_votes.save_vote(session=ctx.session, conversation=conversation, vote=event)
        conversation.state_json = json.dumps(outcome.state.to_dict())
        conversation.updated_at = utcnow()
        ctx.session.add(conversation)
        if outcome.state.language != resident.language:
            resident.language = outcome.state.language
            ctx.session.add(resident)
        ctx.messages.extend(to_message(reply) for reply in outcome.replies)
        if flags_kept:
            ctx.say("forgotten_flag_kept")  # the decline message must not be the whole truth

    def _withdraw(self, ctx: _Context, state: engine.ConversationState, resident_id: int,
                  consultation_id: int) -> int:  # fmt: skip
        """Declined (a changed consent text, or at first): the decline message says
        nothing they sent is stored, so nothing is (but an open safeguarding flag, as
        on /forget); and they are invited no more. Returns how many flags are kept."""
        erased, kept = erasure.withdraw_words(
            session=ctx.session, resident_id=resident_id, consultation_id=consultation_id
        )
        state.step, state.loops, state.values, state.refs = None, {}, {}, {}
        state.selected, state.returning_to = [], None
        ctx.erased = ctx.erased or erased > 0
        return kept

    def _screen(self, ctx: _Context, script: Script | None, consultation: Consultation | None,
                given: engine.Input) -> str | None:  # fmt: skip
        """Check free text for a risk of harm or abuse; say where to get help at once.

        Returns why answers from this text must never be quoted, if they must not."""
        if not isinstance(given, engine.TextInput | engine.EditedText):
            return None
        risk = safeguarding.assess(given.text, ctx.language, _own_words(script))
        if risk.risk:
            resident = self._resident(ctx)
            assert resident.id is not None
            local = ""
            if script is not None and script.help_lines is not None:
                local = script.help_lines.get(
                    ctx.language, script.default_language, ctx.who.channel
                )
            # Danger now gets crisis help at once; worrying signs, gentle signposting.
            key = "get_help" if risk.severity == "crisis" else "get_support"
            help_shown = service_text(key, ctx.language, local=local).strip()
            ctx.session.add(
                SafeguardingFlag(
                    resident_id=resident.id,
                    consultation_id=consultation.id if consultation else None,
                    categories=",".join(risk.categories),
                    excerpt=given.text[:2000],
                    channel=ctx.who.channel,
                    help_shown=help_shown,
                )
            )
            ctx.messages.append(Message(help_shown))
            return "safeguarding"
        if moderation.assess_abuse(given.text).flagged:
            ctx.flag = "abuse"
            return "abuse"
        return None

    # --- the resident's rights ---------------------------------------------------

    def _language_menu(self, ctx: _Context) -> None:
        current = self._current(ctx)
        languages = self.scripts.get(current[2]).languages if current else ("en", "cy")
        rows = tuple(
            (ButtonSpec(service_text("language_name", code), callbacks.language_data(code)),)
            for code in languages
        )
        ctx.messages.append(Message(service_text("language_ask", ctx.language), rows))

    def _set_language(self, ctx: _Context, language: str) -> None:
        resident = self._resident(ctx)
        current = self._current(ctx)
        if current is not None:
            self._step(ctx, *current, engine.SetLanguage(language))
            return
        if language in ("en", "cy"):
            resident.language = language
            ctx.session.add(resident)
        ctx.say("language_saved")

    def _my_data(self, ctx: _Context) -> None:
        resident = ctx.resident
        if resident is None or resident.id is None:
            ctx.say("nothing_held")
            return
        record = self._record_of(ctx.session, resident)
        document = json.dumps(record, indent=2, ensure_ascii=False, default=str).encode("utf-8")
        lines = [service_text("mydata_intro", ctx.language, count=str(len(record["answers"])))]
        for answer in record["answers"]:
            lines.append(f"• {answer['consultation']} / {answer['question']}: {answer['answer']}")
        outro = service_text("mydata_outro", ctx.language, channel=ctx.who.channel)
        text = fit("\n".join(lines) + "\n\n" + outro)
        ctx.messages.append(
            Message(text, attachment=Attachment(f"needsfirst-{resident.pseudonym}.json", document))
        )

    def _record_of(self, session: Session, resident: Resident) -> dict[str, Any]:
        assert resident.id is not None
        consultations: dict[int, str] = {}
        rounds: dict[int, Round] = {}

        def round_of(round_id: int) -> Round:
            if round_id not in rounds:
                found = session.get(Round, round_id)
                assert found is not None
                rounds[round_id] = found
            return rounds[round_id]

        def slug_of(consultation_id: int) -> str:
            if consultation_id not in consultations:
                found = session.get(Consultation, consultation_id)
                consultations[consultation_id] = found.slug if found else "?"
            return consultations[consultation_id]

        answers = [
            {
                "consultation": slug_of(round_of(a.round_id).consultation_id),
                "round": round_of(a.round_id).number,
                "question": a.step_id,
                "iteration": a.iteration,
                "answer": a.display if not a.skipped else "(skipped)",
                "answered_at": a.answered_at.isoformat(),
            }
            for a in store.answers_for_resident(session=session, resident_id=resident.id)
        ]
        consents = session.exec(
            select(ConsentRecord).where(ConsentRecord.resident_id == resident.id)
        ).all()
        return {
            "pseudonymous_id": resident.pseudonym,
            "language": resident.language,
            "invitations": resident.invitations,
            "joined": resident.created_at.isoformat(),
            "channels": _channels(session, resident.id),
            "consents": [
                {
                    "consultation": slug_of(c.consultation_id),
                    "version": c.version,
                    "given": c.given,
                    "at": c.recorded_at.isoformat(),
                }
                for c in consents
            ],
            "answers": answers,
            "votes": priority_votes.votes_of_resident(session=session, resident_id=resident.id),
        }

    def _forget(self, ctx: _Context, confirmed: bool) -> None:
        if not confirmed:
            ctx.say("forget_cancelled")
            return
        if ctx.resident is None or ctx.resident.id is None:
            ctx.say("nothing_held")
            return
        kept = erasure.erase_resident(session=ctx.session, resident_id=ctx.resident.id)
        ctx.resident = None
        ctx.erased = True
        ctx.say("forgotten")
        if kept:
            ctx.say("forgotten_flag_kept")


def _channels(session: Session, resident_id: int) -> list[str]:
    rows = session.exec(
        select(ChannelIdentity.channel).where(ChannelIdentity.resident_id == resident_id)
    ).all()
    return sorted(set(rows))


def storable(text: str) -> str:
    """Text as a resident gave it, cleaned once here, where every channel's text enters.

    A NUL would fail the resident's whole transaction on PostgreSQL, a lone
    surrogate fails any UTF-8 store, and control and bidi characters would reach
    officers' screens and spreadsheets (see conversations/residents/cleaning.py)."""
    return clean_text(text)


def _storable_input(given: engine.Input) -> engine.Input:
    if isinstance(given, engine.TextInput | engine.EditedText):
        cleaned = clean_text(given.text)
        return replace(given, text=cleaned) if cleaned != given.text else given
    return given


def _join_request(item: Joining) -> JoinRequest:
    argument = storable(item.argument) if item.argument is not None else None
    slug, source = _parse_start(argument)
    who = item.who
    return JoinRequest(
        who.channel, who.external_id, who.chat_id, who.language, item.update_key, slug, source
    )


def _parse_start(argument: str | None) -> tuple[str | None, str | None]:
    """`slug` or `slug--source` (Telegram deep links allow [A-Za-z0-9_-], 64 chars)."""
    if not argument:
        return None, None
    text = argument.strip().lower()[:64]
    slug, _, raw_source = text.partition("--")
    source = "".join(ch for ch in raw_source if ch.isalnum() or ch in "-_")[:40] or None
    return (slug or None), source


def _own_words(script: Script | None) -> tuple[str, ...]:
    """The script's own words (its area and every option's label, in every language): a
    resident naming them ("I live in Marsh End") is answering, not disclosing."""
    if script is None:
        return ()
    steps = (*script.steps, *script.prioritise)
    labels = [script.area]
    for step in steps:
        for option in step.options:
            labels += option.label.by_language.values()
    return safeguarding.own_words(labels)
