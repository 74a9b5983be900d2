"""Who has and has not been heard: a round's progress and coverage against population.

Coverage compares the residents who took part, by each profile dimension (area, age
band, ...) and by partner source, with the population shares the consultation's
script declares. It also counts them by channel (Telegram, web chat, ...), the first
reason someone is not heard; channels have no population share, so only respondents'
counts and shares are given.

A group is flagged under-heard only when the evidence supports it (`evidence_of`):
the round has at least MIN_RESPONDENTS who said their group, the group's share of
them is below half its share of the population (UNDER_HEARD_RATIO), and even the
top of the 95% interval of that share is below its population share. Otherwise a
group that looks low is "too few to say": facilitators are told so rather than
sent after a gap that may be chance. This is the one place for that rule;
EVIDENCE_WORDS is how every page, the digest and the command line say it.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from math import sqrt
from typing import Any, Literal

from sqlalchemy import func
from sqlalchemy.orm import aliased
from sqlmodel import Session, col, select

from conversations.flow.script import Script
from conversations.storage.models import (
    Answer,
    ChannelIdentity,
    ConsentRecord,
    Conversation,
    Resident,
    Round,
)

UNDER_HEARD_RATIO = 0.5
# Below this many respondents (who said their group) nobody is flagged: the 95%
# interval of a share is then about +-18 points wide, and who happened to answer
# first decides more than who is missing.
MIN_RESPONDENTS = 30
Z95 = 1.96
Evidence = Literal["under-heard", "too-few", "ok"]
EVIDENCE_WORDS: dict[str, str] = {
    "under-heard": "Under-heard",
    "too-few": "Too few to say",
    "ok": "Heard",
}
NOT_SAID = "not-said"
NOT_RECORDED = "not-recorded"  # a resident with no channel left on record
# Channels as staff read them; a channel not listed here is shown by its own name.
CHANNEL_LABELS = {
    "telegram": "Telegram",
    "web": "Web chat",
    "whatsapp": "WhatsApp",
    "sms": "Text message",
    "email": "Email",
    "import": "Imported",  # answers gathered elsewhere (conversations/staff/import_batches.py)
    NOT_RECORDED: "Not recorded",
}


@dataclass(frozen=True)
class GroupCoverage:
    group: str
    label: str
    respondents: int
    share: float  # of respondents who said which group they are in
    population_share: float | None
    under_heard: bool  # the evidence says so (see evidence_of)
    # "under-heard", "too-few" (it may be, the numbers cannot tell) or "ok" (heard,
    # or no population figure to compare with).
    evidence: Evidence = "ok"

    @property
    def evidence_words(self) -> str:
        return EVIDENCE_WORDS[self.evidence]


@dataclass(frozen=True)
class RoundStatus:
    consultation: str
    round: int
    status: str
    residents: int  # opened the conversation in this round
    started: int  # agreed to take part
    completed: int
    answers: int
    coverage: dict[str, list[GroupCoverage]] = field(default_factory=dict)

    @property
    def completion_rate(self) -> float:
        return self.completed / self.started if self.started else 0.0

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["completion_rate"] = round(self.completion_rate, 4)
        return data

    def under_heard(self) -> list[tuple[str, GroupCoverage]]:
        return [(d, g) for d, groups in self.coverage.items() for g in groups if g.under_heard]

    def too_few_to_say(self) -> list[tuple[str, GroupCoverage]]:
        """Groups that may be under-heard, where the numbers are too small to tell."""
        return [(d, g) for d, groups in self.coverage.items() for g in groups
                if g.evidence == "too-few"]  # fmt: skip


def round_status(*, session: Session, script: Script, round_: Round,
                 consultation_slug: str) -> RoundStatus:  # fmt: skip
    """Progress and coverage of one round, counted in the database."""
    assert round_.id is not None
    conversations = session.exec(
        select(Conversation.resident_id, Conversation.source, Conversation.completed_at).where(
            Conversation.round_id == round_.id
        )
    ).all()
    consented = set(
        session.exec(
            select(ConsentRecord.resident_id)
            .join(Conversation, col(Conversation.resident_id) == col(ConsentRecord.resident_id))
            .where(Conversation.round_id == round_.id, col(ConsentRecord.given).is_(True))
        ).all()
    )
    answers = session.exec(
        select(func.count()).select_from(Answer).where(Answer.round_id == round_.id)
    ).one()
    started = {resident for resident, _, _ in conversations if resident in consented}
    profiles: dict[int, dict[str, str]] = {}
    for resident_id, dimension, value in session.exec(
        select(Answer.resident_id, Answer.profile, Answer.value)
        .where(Answer.round_id == round_.id, col(Answer.profile).is_not(None))
        .order_by(col(Answer.answered_at))
    ).all():
        if dimension:
            profiles.setdefault(resident_id, {})[dimension] = value
    coverage: dict[str, list[GroupCoverage]] = {}
    for dimension, step in script.profile_dimensions().items():
        counts = Counter(profiles.get(r, {}).get(dimension) or NOT_SAID for r in started)
        labels = {
            o.id: o.label.get(script.default_language, script.default_language)
            for o in step.options
        }
        population = script.population.get(dimension, {})
        coverage[dimension] = _groups(counts, labels, population)
    sources = Counter(
        source or "direct" for resident, source, _ in conversations if resident in started
    )
    coverage["source"] = _groups(sources, {}, {})
    channels = _first_channels(session, round_.id)
    by_channel = Counter(channels.get(resident, NOT_RECORDED) for resident in started)
    coverage["channel"] = _groups(by_channel, CHANNEL_LABELS, {})
    return RoundStatus(
        consultation=consultation_slug,
        round=round_.number,
        status=round_.status,
        residents=len({r for r, _, _ in conversations}),
        started=len(started),
        completed=sum(1 for r, _, done in conversations if done is not None and r in started),
        answers=int(answers),
        coverage=coverage,
    )


def _first_channels(session: Session, round_id: int) -> dict[int, str]:
    """The channel each of a round's residents first reached us on.

    A resident may later be known on a second channel (an email address left in the
    web chat, say); they still came through the first one.
    """
    channels: dict[int, str] = {}
    for resident_id, channel in session.exec(
        select(ChannelIdentity.resident_id, ChannelIdentity.channel)
        .join(Conversation, col(Conversation.resident_id) == col(ChannelIdentity.resident_id))
        .where(Conversation.round_id == round_id)
        .order_by(col(ChannelIdentity.id))
    ).all():
        channels.setdefault(resident_id, channel)
    return channels


def _groups(counts: Counter[str], labels: dict[str, str],
            population: Mapping[str, float]) -> list[GroupCoverage]:  # fmt: skip
    # Shares are of respondents whose group is one the population counts, so that
    # "prefer not to say" and "outside the area" do not dilute the comparison.
    counted = sum(n for group, n in counts.items() if not population or group in population)
    groups = list(population) + sorted(g for g in counts if g not in population)
    result = []
    for group in groups:
        respondents = counts.get(group, 0)
        in_population = group in population
        share = respondents / counted if counted and (in_population or not population) else 0.0
        expected = population.get(group)
        evidence = evidence_of(respondents, counted, expected)
        result.append(
            GroupCoverage(
                group=group,
                label=labels.get(group, "Not said" if group == NOT_SAID else group),
                respondents=respondents,
                share=round(share, 4),
                population_share=expected,
                under_heard=evidence == "under-heard",
                evidence=evidence,
            )
        )
    return result


def wilson_upper(successes: int, n: int, z: float = Z95) -> float:
    """The upper end of the Wilson score interval of a share (successes of n).

    Wilson's interval, not the textbook one (share +- z * standard error), because it
    stays honest for small counts and shares near 0: with 0 of 10 the textbook interval
    is [0, 0], as though 10 answers proved a group absent; Wilson's reaches 0.28."""
    if n <= 0:
        return 1.0
    p = successes / n
    centre = p + z * z / (2 * n)
    margin = z * sqrt(p * (1 - p) / n + z * z / (4 * n * n))
    return min(1.0, (centre + margin) / (1 + z * z / n))


def evidence_of(respondents: int, counted: int, population_share: float | None) -> Evidence:
    """Whether a group is under-heard, too few to say, or heard.

    Under-heard needs both a gap worth acting on (its share below UNDER_HEARD_RATIO of
    its population share) and evidence the gap is not chance (even the top of its
    share's 95% Wilson interval is below its population share), in a round of at
    least MIN_RESPONDENTS. A gap without that evidence is "too few to say"; with
    fewer than MIN_RESPONDENTS in the round, every group with a population figure is."""
    if population_share is None:
        return "ok"
    if counted < MIN_RESPONDENTS:
        return "too-few"
    if respondents / counted >= UNDER_HEARD_RATIO * population_share:
        return "ok"
    if wilson_upper(respondents, counted) < population_share:
        return "under-heard"
    return "too-few"


def opted_in_residents(*, session: Session, consultation_id: int) -> list[int]:
    """Residents whose latest answer to a consultation's consent was yes, and who have
    not said /stop (declining a changed consent text withdraws the earlier yes)."""
    later = aliased(ConsentRecord)
    declined_since = (
        select(later.id)
        .where(
            later.resident_id == ConsentRecord.resident_id,
            later.consultation_id == ConsentRecord.consultation_id,
            col(later.id) > col(ConsentRecord.id),
            col(later.given).is_(False),
        )
        .exists()
    )
    ids = session.exec(
        select(Resident.id)
        .join(ConsentRecord, col(ConsentRecord.resident_id) == col(Resident.id))
        .where(
            ConsentRecord.consultation_id == consultation_id,
            col(ConsentRecord.given).is_(True),
            ~declined_since,
            col(Resident.invitations).is_(True),
            col(Resident.unreachable).is_(False),
        )
        .distinct()
    ).all()
    return [i for i in ids if i is not None]


def format_status(report: RoundStatus) -> str:
    """A plain-text status report, for the command line and Telegram."""
    lines = [
        f"{report.consultation}, round {report.round} ({report.status})",
        f"Residents: {report.residents}  started: {report.started}  "
        f"completed: {report.completed} ({report.completion_rate:.0%})  answers: {report.answers}",
    ]
    for dimension, groups in report.coverage.items():
        lines.append("")
        lines.append(f"By {dimension.replace('_', ' ')}:")
        if not any(group.respondents for group in groups):
            lines.append("  nobody has said yet")
            continue
        counted = sum(g.respondents for g in groups if g.population_share is not None)
        if any(g.population_share is not None for g in groups) and counted < MIN_RESPONDENTS:
            lines.append(f"  too few to say who is under-heard: {counted} said, "
                         f"{MIN_RESPONDENTS} are needed")  # fmt: skip
        for group in groups:
            expected = (
                f"  population {group.population_share:.0%}"
                if group.population_share is not None
                else ""
            )
            flag = {"under-heard": "  UNDER-HEARD", "too-few": "  too few to say"}.get(
                group.evidence, ""
            )
            lines.append(
                f"  {group.label:<32} {group.respondents:>6}  {group.share:>5.0%}{expected}{flag}"
            )
    return "\n".join(lines)
