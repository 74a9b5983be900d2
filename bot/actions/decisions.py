"""Decisions back to residents: "you said, we did".

An officer records what was decided on a theme. The decision is audited, kept
for the weekly digest, and sent to the residents whose answers are in that theme
(in the latest analysis run) and who still accept messages. Sending goes through
the broadcast senders: a queued Broadcast whose recipients are written down at
once, so it is paced within each channel's limits and, after a restart, carries on
without telling anyone twice. A broadcast is a decision's when a Decision names it:
WhatsApp sends it as the decision template rather than the invitation one.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field

from sqlalchemy import Engine
from sqlmodel import Session, select

from bot.actions.theme_runs import code_new_answers
from bot.config import WhatsAppConfig
from conversations.flow.script import Script
from conversations.staff import broadcasts, codebook, themes
from conversations.storage import store
from conversations.storage.models import (
    AnalysisRun,
    Broadcast,
    BroadcastRecipient,
    Consultation,
    Decision,
    RunTheme,
)
from conversations.storage.scripts import ScriptCache

MIN_TEXT, MAX_TEXT = 10, 1500


class DecisionError(ValueError):
    """A decision that cannot be recorded; the message says why."""


@dataclass(frozen=True)
class RecordedDecision:
    decision_id: int
    theme_id: int
    theme_label: str
    residents: int  # residents it is being sent to
    broadcast_id: int | None


# What a resident who raised the theme receives, in each language the service speaks.
# The theme's name and the officer's words stay as written (names per language: issue 21).
DECISION_FRAMES = {
    "en": (
        "You said, we did: {title}\n\nYou told us about: {theme}.\n\nWhat was decided: {text}"
        "\n\nThank you for taking part. Send /stop if you would rather not hear from us again."
    ),
    "cy": (
        "Dywedoch chi, fe wnaethon ni: {title}\n\nFe ddywedoch chi wrthym am: {theme}.\n\n"
        "Beth a benderfynwyd: {text}\n\nDiolch am gymryd rhan. Anfonwch /stop os byddai'n "
        "well gennych chi beidio â chlywed gennym eto."
    ),
    # Polish and Urdu (issue 21) await a native speaker's review (docs/translating.md).
    "pl": (
        "Powiedzieliście, zrobiliśmy: {title}\n\nNapisano nam o: {theme}.\n\n"
        "Co postanowiono: {text}\n\nDziękujemy za udział. Wyślij /stop, jeśli nie chcesz "
        "więcej wiadomości od nas."
    ),
    "ur": (
        "آپ نے بتایا، ہم نے کیا: {title}\n\nآپ نے ہمیں اس بارے میں بتایا: {theme}۔\n\n"
        "کیا فیصلہ ہوا: {text}\n\nحصہ لینے کا شکریہ۔ اگر آپ ہم سے مزید کچھ نہیں سننا "
        "چاہتے تو /stop بھیجیں۔"
    ),
}


def decision_message(title: str, theme_label: str, text: str, language: str = "en") -> str:
    """What a resident who raised the theme receives, in `language` (English if none)."""
    frame = DECISION_FRAMES.get(language, DECISION_FRAMES["en"])
    return frame.format(title=title, theme=theme_label, text=text)


def translatable(script: Script) -> tuple[str, ...]:
    """The script's languages besides English that a decision is framed in."""
    return tuple(x for x in script.languages if x != "en" and x in DECISION_FRAMES)


def checked_text(text: str, language: str = "") -> str:
    """What was decided, trimmed, or a DecisionError if it is too short or too long."""
    text = text.strip()
    if not MIN_TEXT <= len(text) <= MAX_TEXT:
        where = f" ({language})" if language else ""
        raise DecisionError(f"say what was decided{where} in {MIN_TEXT} to {MAX_TEXT} characters")
    return text


def _translations(script: Script, theme_label: str, text: str,
                  translated: Mapping[str, str]) -> str | None:  # fmt: skip
    """The decision in the script's other languages, as a broadcast's translations: the
    officer's words as translated where a translation is given, else as written."""
    others = {}
    for language in translatable(script):
        title = script.title.get(language, script.default_language)
        words = translated.get(language, text)
        others[language] = decision_message(title, theme_label, words, language)
    return json.dumps(others, ensure_ascii=False) if others else None


def record_decision(
    *, session: Session, slug: str, theme_id: int, text: str, actor: str,
    translated: Mapping[str, str] | None = None,
) -> RecordedDecision:  # fmt: skip
    """Record a decision on a live theme and queue it for the residents who raised it;
    `translated` has the officer's words in other languages ({"cy": ...}), if given."""
    text = checked_text(text)
    translated = {k: checked_text(v, k) for k, v in (translated or {}).items() if v.strip()}
    consultation, run, theme = _reviewed_theme(session, slug, theme_id)
    assert consultation.id is not None and run.id is not None
    _not_twice(session, consultation, theme_id, text)
    raised, reachable = _audience(session, consultation, run.id, theme_id)
    script = ScriptCache().get(consultation)
    title = script.title.get("en", script.default_language)
    broadcast_id = None
    if reachable:
        broadcast = Broadcast(
            consultation_id=consultation.id,
            created_by=actor,
            message=decision_message(title, theme.label, text),
            translations=_translations(script, theme.label, text, translated),
            status="queued",
        )
        session.add(broadcast)
        session.flush()
        broadcast_id = broadcast.id
        assert broadcast_id is not None
        # Each on their channel: Telegram, WhatsApp (as the decision template), or a
        # text message or email through Notify.
        channels = broadcasts.reach(session=session, consultation=consultation, group=None)
        session.add_all(
            BroadcastRecipient(broadcast_id=broadcast_id, resident_id=r, channel=channels[r])
            for r in reachable
        )
    decision = Decision(
        consultation_id=consultation.id,
        theme_id=theme_id,
        theme_label=theme.label,
        run_id=run.id,
        text=text,
        actor=actor,
        broadcast_id=broadcast_id,
        residents_told=len(reachable),
    )
    session.add(decision)
    session.flush()
    assert decision.id is not None
    store.audit(
        session=session,
        actor=actor,
        action="decision.record",
        target=f"{slug} theme {theme_id}",
        detail=f"decision {decision.id}, {len(reachable)} of {len(raised)} residents who raised it "
        f"to be told"
        + (f" (broadcast {broadcast_id})" if broadcast_id else "")
        + (f", translated: {', '.join(sorted(translated))}" if translated else "")
        + f": {text[:300]}",
    )
    return RecordedDecision(decision.id, theme_id, theme.label, len(reachable), broadcast_id)


def _not_twice(session: Session, consultation: Consultation, theme_id: int, text: str) -> None:
    """Refuse the same decision on the same theme again (a double click, a command sent
    twice): its residents were told once. One decision at a time per consultation (the
    row lock on PostgreSQL; SQLite writes one transaction at a time)."""
    session.exec(
        select(Consultation.id).where(Consultation.id == consultation.id).with_for_update()
    ).one()
    earlier = session.exec(
        select(Decision.id).where(Decision.consultation_id == consultation.id,
                                  Decision.theme_id == theme_id, Decision.text == text)
    ).first()  # fmt: skip
    if earlier is not None:
        raise DecisionError(
            f"this decision on theme {theme_id} is already recorded (decision {earlier}), "
            "and its residents were told once"
        )


def decidable_themes(*, session: Session, consultation_id: int) -> list[RunTheme]:
    """The themes a decision can be on now: the latest run's current, reviewed themes."""
    run = themes.latest_run(session=session, consultation_id=consultation_id)
    if run is None or run.id is None:
        return []
    book = codebook.reviewed(session=session, consultation_id=consultation_id)
    found = themes.themes_of_run(session=session, run_id=run.id)
    return [t for t in found if themes.is_current(t) and t.theme_id in book]


def _reviewed_theme(
    session: Session, slug: str, theme_id: int
) -> tuple[Consultation, AnalysisRun, RunTheme]:
    """A reviewed theme of the latest run, or a DecisionError saying why not."""
    consultation = store.require_consultation(session=session, slug=slug)
    assert consultation.id is not None
    run = themes.latest_run(session=session, consultation_id=consultation.id)
    if run is None or run.id is None:
        raise DecisionError(f"'{slug}' has not been analysed yet, so it has no themes")
    theme = next(
        (t for t in themes.themes_of_run(session=session, run_id=run.id) if t.theme_id == theme_id),
        None,
    )
    if theme is None or not themes.is_current(theme):
        raise DecisionError(f"there is no current theme {theme_id} in '{slug}'")
    if theme_id not in codebook.reviewed(session=session, consultation_id=consultation.id):
        raise DecisionError(
            f"theme {theme_id} is proposed, not reviewed: accept or rename it first, so that "
            "residents hear about a theme officers agreed (and whose answers will not move)"
        )
    return consultation, run, theme


def _audience(
    session: Session, consultation: Consultation, run_id: int, theme_id: int
) -> tuple[set[int], list[int]]:
    """The residents coded to the theme, and those of them a decision can reach (opted
    in, not stopped, not blocked, on a channel that can be sent to)."""
    raised = set(themes.residents_in_theme(session=session, run_id=run_id, theme_id=theme_id))
    audience = broadcasts.audience(session=session, consultation=consultation, group=None)
    return raised, [r for r in audience if r in raised]


@dataclass(frozen=True)
class DecisionPreview:
    """Who a decision on a theme would reach now, for staff to confirm."""

    theme_id: int
    theme_label: str
    raised: int  # residents with an answer coded to the theme
    reachable: int  # of them, those who can be sent it
    samples: tuple[str, ...]  # up to three of the theme's answers, scrubbed
    channels: dict[str, int] = field(default_factory=dict)  # the reachable, by channel
    note: str = ""  # who will not get it after all (WhatsApp without its template)

    def summary(self) -> str:
        shown = "".join(f"\n  “{s}”" for s in self.samples)
        by_channel = f" ({broadcasts.format_channels(self.channels)})" if self.channels else ""
        return (
            f"Theme {self.theme_id} ({self.theme_label}): {self.raised} resident"
            f"{'s' if self.raised != 1 else ''} raised it; {self.reachable} can be sent the "
            f"decision{by_channel}."
            + (f" {self.note}" if self.note else "")
            + f" Some of their answers:{shown or ' (none to show)'}"
        )


def preview(db: Engine, slug: str, theme_id: int,
            whatsapp: WhatsAppConfig | None = None) -> DecisionPreview:  # fmt: skip
    """Who would hear a decision on the theme now (new answers are coded first), on
    which channels, and whether WhatsApp's residents will not (no decision template)."""
    from analysis.personal_details.scrub import scrub

    code_new_answers(db, slug)
    with Session(db) as session:
        consultation, run, theme = _reviewed_theme(session, slug, theme_id)
        assert run.id is not None
        raised, reachable = _audience(session, consultation, run.id, theme_id)
        members = themes.theme_members(session=session, run_id=run.id, theme_id=theme_id)
        samples = tuple(scrub(" ".join(m.text.split()))[:200] for m in members if m.rank == 0)[:3]
        channels = broadcasts.reach(session=session, consultation=consultation, group=None)
    counts = broadcasts.per_channel({r: channels[r] for r in reachable})
    template = (whatsapp or WhatsAppConfig()).template("decision")
    note = broadcasts.whatsapp_note(counts, "decision", template=template)
    return DecisionPreview(theme_id, theme.label, len(raised), len(reachable), samples,
                           counts, note)  # fmt: skip


def decide(db: Engine, slug: str, theme_id: int, text: str, *, actor: str,
           translated: Mapping[str, str] | None = None) -> RecordedDecision:  # fmt: skip
    """Record a decision in its own transaction (the command line, /decide and the
    dashboard), to the residents coded to the theme now (new answers are coded first)."""
    code_new_answers(db, slug)
    with Session(db) as session, session.begin():
        return record_decision(
            session=session, slug=slug, theme_id=theme_id, text=text, actor=actor,
            translated=translated,
        )  # fmt: skip


def format_recorded(result: RecordedDecision) -> str:
    told = (
        f"It is being sent to the {result.residents} resident{'s' if result.residents != 1 else ''} "
        "who raised it and still accept messages."
        if result.residents
        else "None of the residents who raised it can be messaged (they stopped messages, "
        "blocked the bot, or took part on the web), so nobody is sent it."
    )
    return f"Decision {result.decision_id} on theme {result.theme_id} ({result.theme_label}) is recorded. {told}"
