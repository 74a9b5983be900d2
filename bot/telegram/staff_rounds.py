"""Staff commands about consultations and their rounds: list, status, open, close,
schedule, priorities, and partners' deep links."""

from __future__ import annotations

import asyncio
from datetime import datetime
from functools import partial
from zoneinfo import ZoneInfo

from bot.actions.priorities import format_priorities, open_round, priorities_report
from bot.actions.staff_access import public_base_url
from bot.telegram.staff_desk import StaffDesk, UsageError, actor, moment, one
from conversations.staff.coverage import format_status
from conversations.staff.rounds import ROUND_KINDS, ConsultationSummary, partner_links


class RoundCommands(StaffDesk):
    """/consultations, /status, /open, /close, /schedule, /priorities and /links."""

    async def do_consultations(self, args: list[str], user_id: int) -> str:
        summaries = await asyncio.to_thread(self.rounds.consultations)
        if not summaries:
            return (
                "No consultations yet. Load a script with: needsfirst consultation load SCRIPT.toml"
            )
        zone = self.zone
        return "\n".join(_summary(s, zone) for s in summaries)

    async def do_status(self, args: list[str], user_id: int) -> str:
        slug = one(args)
        return format_status(await asyncio.to_thread(self.rounds.status, slug))

    async def do_open(self, args: list[str], user_id: int) -> str:
        if len(args) not in (1, 2) or (len(args) == 2 and args[1] not in ROUND_KINDS):
            raise UsageError("")
        slug, kind = args[0], args[1] if len(args) == 2 else "needs"
        round_ = await asyncio.to_thread(open_round, self.db, slug, kind=kind, actor=actor(user_id))
        return f"{slug}: {_round_name(kind)} {round_.number} is open."

    async def do_priorities(self, args: list[str], user_id: int) -> str:
        slug = one(args)
        report = await asyncio.get_running_loop().run_in_executor(
            self.analysis_pool, partial(priorities_report, self.db, slug)
        )
        return format_priorities(report)

    async def do_close(self, args: list[str], user_id: int) -> str:
        slug = one(args)
        round_ = await asyncio.to_thread(self.rounds.close, slug, actor=actor(user_id))
        return f"{slug}: round {round_.number} is closed."

    async def do_schedule(self, args: list[str], user_id: int) -> str:
        kind = None
        if len(args) > 2 and args[-1] in ROUND_KINDS:
            args, kind = args[:-1], args[-1]
        if len(args) not in (2, 3):
            raise UsageError("")
        zone = self.zone
        opens, closes = (moment(a, zone) for a in (args[1], args[2] if len(args) == 3 else "-"))
        round_ = await asyncio.to_thread(
            partial(
                self.rounds.schedule,
                args[0],
                actor=actor(user_id),
                opens_at=opens,
                closes_at=closes,
                kind=kind,
            )
        )

        text = (
            f"{args[0]}: {_round_name(round_.kind)} {round_.number} opens "
            f"{_local(round_.opens_at, zone)}, closes {_local(round_.closes_at, zone)}."
        )
        if round_.kind == "prioritise" and round_.status == "draft":
            text += " It will show the latest analysis's themes as they are when it opens."
        return text

    async def do_links(self, args: list[str], user_id: int) -> str:
        if len(args) != 2:
            raise UsageError("")
        links = partner_links(
            slug=args[0],
            source=args[1],
            bot_username=self.config.telegram.bot_username,
            public_url=public_base_url(self.config),
            whatsapp_number=self.config.whatsapp.display_number,
        )
        return "\n".join(f"{channel}: {link}" for channel, link in links.items())


def _local(moment: datetime | None, zone: ZoneInfo) -> str:
    return f"{moment.astimezone(zone):%a %d %b %Y %H:%M}" if moment else "by hand"


def _round_name(kind: str) -> str:
    return "prioritise round" if kind == "prioritise" else "round"


def _summary(summary: ConsultationSummary, zone: ZoneInfo) -> str:
    """A consultation in the /consultations list: its round, and the next one scheduled."""
    if summary.round is None:
        state = summary.status
    else:
        state = f"{_round_name(summary.kind)} {summary.round} {summary.status}"
        if summary.status == "open" and summary.closes_at:
            state += f", closes {_local(summary.closes_at, zone)}"
        elif summary.status == "draft" and summary.opens_at:
            state += f", opens {_local(summary.opens_at, zone)}"
    if summary.next_round is not None:
        state += (
            f"; then {_round_name(summary.next_kind)} {summary.next_round} opens "
            f"{_local(summary.next_opens_at, zone)}"
        )
    return f"{summary.slug}: {state}\n   {summary.title}"
