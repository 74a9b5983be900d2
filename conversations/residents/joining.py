"""A resident joining a consultation on the full path: by a deep link, a button, or
by writing to the bot before they have joined one.

A link names a consultation (`slug`, or `slug--source` for where they found it); without
one, the only open consultation is joined, or the open ones are offered as buttons.
Newcomers with a link to an open consultation are mostly joined in batches
(conversations/residents/join_batch.py); this path takes everyone else.
"""

from __future__ import annotations

from conversations.flow import callbacks
from conversations.flow.inputs import Begin
from conversations.flow.messages import ButtonSpec, Message
from conversations.flow.state import new_state
from conversations.residents.answering import step
from conversations.residents.outcome_rows import stored_state
from conversations.residents.texts import a_date, service_text
from conversations.residents.turn import Turn
from conversations.storage import store
from conversations.storage.models import Consultation, Conversation, Round


def start(turn: Turn, argument: str | None) -> None:
    """/start, with an optional `slug` or `slug--source`."""
    slug, source = parse_start(argument)
    resident = turn.known_resident()
    resident.invitations = True
    if slug is None:
        current = turn.current()
        if current is not None and current[1].status == "open":
            step(turn, *current, Begin())
            return
        choices = store.open_consultations(session=turn.session)
        if len(choices) == 1:
            join(turn, choices[0][0], choices[0][1], source)
        else:
            offer(turn, choices, intro="choose" if choices else "none_open")
        return
    consultation = store.consultation_by_slug(session=turn.session, slug=slug)
    open_round = (
        store.open_round_of(session=turn.session, consultation_id=consultation.id)
        if consultation is not None and consultation.id is not None
        else None
    )
    if consultation is None or open_round is None:
        choices = store.open_consultations(session=turn.session)
        key = "unknown_consultation" if consultation is None else "closed_consultation"
        turn.say(key, slug=slug)
        if consultation is not None:
            point_to_results(turn, consultation)
        offer(turn, choices, intro="choose" if choices else "none_open")
        return
    join(turn, consultation, open_round, source)


def point_to_results(turn: Turn, consultation: Consultation) -> None:
    """After "closed": where to read what came of it, and when the next round opens,
    so a resident arriving at a closed round is not left at a dead end."""
    assert consultation.id is not None
    if turn.results_url:
        url = turn.results_url.replace("{slug}", consultation.slug)
        turn.say("results_link", url=url.replace("{lang}", turn.language))
    upcoming = store.next_scheduled_round(session=turn.session, consultation_id=consultation.id)
    if upcoming is None or upcoming.opens_at is None:
        return
    opens = a_date(upcoming.opens_at, turn.language)
    if upcoming.closes_at is None:
        turn.say("next_round", opens=opens)
    else:
        turn.say("next_round_until", opens=opens, closes=a_date(upcoming.closes_at, turn.language))


def offer(turn: Turn, choices: list[tuple[Consultation, Round]], intro: str) -> None:
    """The open consultations, one button each."""
    rows = []
    for consultation, _ in choices:
        script = turn.scripts.get(consultation)
        title = script.title.get(turn.language, script.default_language, turn.who.channel)
        rows.append((ButtonSpec(title[:60], callbacks.join_data(consultation.slug)),))
    text = service_text(intro, turn.language, channel=turn.who.channel)
    turn.messages.append(Message(text, tuple(rows)))


def join(turn: Turn, consultation: Consultation, round_: Round, source: str | None) -> None:
    """Into `round_`: their conversation there (begun now if new) becomes their current one."""
    resident = turn.known_resident()
    assert resident.id is not None and round_.id is not None
    conversation = store.conversation_for(
        session=turn.session, resident_id=resident.id, round_id=round_.id
    )
    script = turn.scripts.get(consultation)
    if conversation is None:
        state = new_state(script, resident.language)
        conversation = Conversation(
            resident_id=resident.id,
            round_id=round_.id,
            state_json=stored_state(state),
            source=source,
        )
        turn.session.add(conversation)
        turn.session.flush()
    resident.current_conversation_id = conversation.id
    turn.session.add(resident)
    step(turn, conversation, round_, consultation, Begin())


def parse_start(argument: str | None) -> tuple[str | None, str | None]:
    """`slug` or `slug--source` (Telegram deep links allow [A-Za-z0-9_-], 64 chars)."""
    if not argument:
        return None, None
    text = argument.strip().lower()[:64]
    slug, _, raw_source = text.partition("--")
    source = "".join(ch for ch in raw_source if ch.isalnum() or ch in "-_")[:40] or None
    return (slug or None), source
