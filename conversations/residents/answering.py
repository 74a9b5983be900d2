"""A resident's input answered on the full path: screened, stepped by the engine, stored.

Free text is screened first: a disclosure of harm gets help at once and a flag for
the safeguarding leads; abuse is stored but never quoted. The engine then steps the
stored state, and its outcome is stored by the one writer
(conversations/residents/outcome_rows.py), with what only this path does: a
declined consent takes back what the resident sent, votes go in, and a change of
language is kept.
"""

from __future__ import annotations

import json
import secrets

from conversations.flow import engine
from conversations.flow.deliberation import PairVoted, StatementVoted
from conversations.flow.inputs import EditedText, Input, TextInput
from conversations.flow.messages import Message
from conversations.flow.outcome import ConsentDeclined
from conversations.flow.script import Script
from conversations.flow.state import ConversationState
from conversations.residents import policy
from conversations.residents.outcome_rows import Place, Rows, keep_state
from conversations.residents.texts import service_text
from conversations.residents.turn import Turn
from conversations.screening import moderation, safeguarding
from conversations.storage import erasure, priority_votes
from conversations.storage.models import (
    Consultation,
    Conversation,
    Round,
    SafeguardingFlag,
    utcnow,
)


def step(turn: Turn, conversation: Conversation, round_: Round, consultation: Consultation,
         given: Input) -> None:  # fmt: skip
    """Step the resident's conversation by `given` and store the outcome."""
    script = turn.scripts.get(consultation).for_round(round_.kind)
    withheld = screen(turn, script, consultation, given)
    state = ConversationState.from_dict(json.loads(conversation.state_json))
    if round_.kind == "prioritise" and not state.deck and round_.id is not None:
        # The round's themes, as plain data: the engine never reads the database.
        state.deck = priority_votes.deck_for(session=turn.session, script=script,
            round_id=round_.id, seed=secrets.randbelow(2**31))  # fmt: skip
    policy.catch_up(script, state)
    outcome = engine.step(script, state, given, channel=turn.who.channel)
    resident = turn.known_resident()
    assert resident.id is not None and consultation.id is not None and conversation.id is not None
    declined = any(isinstance(event, ConsentDeclined) for event in outcome.events)
    if declined:
        _forget_words(outcome.state)
    rows = Rows()
    place = Place(resident.id, consultation.id, conversation.id, conversation.round_id)
    replies = rows.outcome(
        outcome, place, channel=turn.who.channel, withheld=withheld, now=utcnow()
    )
    turn.statements.write_answers(turn.session, rows)
    flags_kept = 0
    for event in outcome.events:
        if isinstance(event, ConsentDeclined):
            flags_kept = _withdraw(turn, resident.id, consultation.id)
        elif isinstance(event, PairVoted | StatementVoted):
            priority_votes.save_vote(session=turn.session, conversation=conversation, vote=event)
    keep_state(conversation, rows.states[0])
    turn.session.add(conversation)
    if outcome.state.language != resident.language:
        resident.language = outcome.state.language
        turn.session.add(resident)
    turn.messages.extend(replies)
    if flags_kept:
        turn.say("forgotten_flag_kept")  # the decline message must not be the whole truth


def _forget_words(state: ConversationState) -> None:
    """A declined consent: the state keeps none of what the resident sent."""
    state.step, state.loops, state.values, state.refs = None, {}, {}, {}
    state.selected, state.returning_to = [], None


def _withdraw(turn: Turn, resident_id: int, consultation_id: int) -> int:
    """Declined (a changed consent text, or at first): the decline message says
    nothing they sent is stored, so nothing is (but an open safeguarding flag, as
    on /forget); and they are invited no more. Returns how many flags are kept."""
    erased, kept = erasure.withdraw_words(
        session=turn.session, resident_id=resident_id, consultation_id=consultation_id
    )
    turn.erased = turn.erased or erased > 0
    return kept


def screen(turn: Turn, script: Script | None, consultation: Consultation | None,
           given: Input) -> str | None:  # fmt: skip
    """Check free text for a risk of harm or abuse; say where to get help at once.

    Returns why answers from this text must never be quoted, if they must not."""
    if not isinstance(given, TextInput | EditedText):
        return None
    risk = safeguarding.assess(given.text, turn.language, _own_words(script))
    if risk.risk:
        resident = turn.known_resident()
        assert resident.id is not None
        local = ""
        if script is not None and script.help_lines is not None:
            local = script.help_lines.get(turn.language, script.default_language, turn.who.channel)
        # Danger now gets crisis help at once; worrying signs, gentle signposting.
        key = "get_help" if risk.severity == "crisis" else "get_support"
        help_shown = service_text(key, turn.language, local=local).strip()
        turn.session.add(
            SafeguardingFlag(
                resident_id=resident.id,
                consultation_id=consultation.id if consultation else None,
                categories=",".join(risk.categories),
                excerpt=given.text[:2000],
                channel=turn.who.channel,
                help_shown=help_shown,
            )
        )
        turn.messages.append(Message(help_shown))
        return "safeguarding"
    if moderation.assess_abuse(given.text).flagged:
        turn.flag = "abuse"
        return "abuse"
    return None


def _own_words(script: Script | None) -> tuple[str, ...]:
    """The script's own words (its area and every option's label, in every language): a
    resident naming them ("I live in Marsh End") is answering, not disclosing."""
    return () if script is None else safeguarding.own_words(script.own_labels())
