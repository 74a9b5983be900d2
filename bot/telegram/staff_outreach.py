"""Staff commands that reach people: invite residents (/broadcast), tell them what was
decided (/decide) and where it stands (/decisions, /progress), and the officers' digest
now (/digest)."""

from __future__ import annotations

import asyncio
from functools import partial

from sqlmodel import Session
from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.actions.decision_status import decisions_of, format_listed, set_status
from bot.actions.decisions import decide, format_recorded, preview
from bot.actions.digests import build_now
from bot.telegram.digest_delivery import send_documents
from bot.telegram.pacing import SendBudget
from bot.telegram.staff_desk import StaffDesk, UsageError, actor, one
from bot.telegram.updates import STAFF_PREFIX
from conversations.flow.numbers import record_id, whole_number
from conversations.staff import broadcasts
from conversations.staff.broadcasts import MAX_WINDOW_MINUTES
from conversations.storage import store


class OutreachCommands(StaffDesk):
    """/broadcast (a preview with buttons), /decide and /digest."""

    async def do_broadcast(self, args: list[str], user_id: int) -> tuple[str, InlineKeyboardMarkup]:
        if len(args) < 2:
            raise UsageError("")
        slug, rest = args[0], args[1:]
        group: tuple[str, str] | None = None
        window = 0
        while rest and "=" in rest[0]:
            key, _, value = rest.pop(0).partition("=")
            if key == "window":
                minutes = whole_number(value, maximum=MAX_WINDOW_MINUTES)
                if minutes is None:
                    raise UsageError("window is a number of minutes, at most a week")
                window = minutes
            else:
                group = broadcasts.parse_group(f"{key}={value}")
        message = " ".join(rest)
        if not message:
            raise UsageError("the message is missing")

        def draft() -> tuple[int, int, dict[str, int]]:
            with Session(self.db) as session, session.begin():
                broadcast, count = broadcasts.draft(
                    session=session, slug=slug, message=message, created_by=actor(user_id),
                    group=group, window_minutes=window,
                )  # fmt: skip
                assert broadcast.id is not None
                consultation = store.require_consultation(session=session, slug=slug)
                reach = broadcasts.reach(session=session, consultation=consultation, group=group)
                return broadcast.id, count, broadcasts.per_channel(reach)

        broadcast_id, count, channels = await asyncio.to_thread(draft)
        if count == 0:
            raise broadcasts.BroadcastError(
                "no opted-in residents match, so there is nothing to send"
            )
        who = f"{count} residents of {slug}" + (f" in {group[0]}={group[1]}" if group else "")
        spread = f", spread over {window} minutes" if window else ""
        spread += f" ({broadcasts.format_channels(channels)})"
        note = broadcasts.whatsapp_note(channels, "invitation",
                                        template=self.config.whatsapp.template("invitation"))  # fmt: skip
        keyboard = InlineKeyboardMarkup(
            [
                [
                    InlineKeyboardButton(
                        f"Send to {count}", callback_data=f"{STAFF_PREFIX}bc:{broadcast_id}:go"
                    )
                ],
                [
                    InlineKeyboardButton(
                        "Cancel", callback_data=f"{STAFF_PREFIX}bc:{broadcast_id}:no"
                    )
                ],
            ]
        )
        preview = f"Preview of broadcast {broadcast_id} to {who}{spread}:\n\n{message}"
        return preview + (f"\n\n{note}" if note else ""), keyboard

    async def do_digest(self, args: list[str], user_id: int) -> str:
        slug = one(args)
        documents = await asyncio.get_running_loop().run_in_executor(
            self.analysis_pool, partial(build_now, self.db, slug, self.zone)
        )
        budget = self.application.bot_data.get("send_budget") or SendBudget()
        await send_documents(self.application.bot, budget, user_id, documents)
        return "That was the digest of the last 7 days, built now."

    async def do_decide(self, args: list[str], user_id: int) -> str:
        """A preview of who will hear it; `/decide confirm ...` records and sends."""
        confirmed = bool(args) and args[0].lower() == "confirm"
        args = args[1:] if confirmed else args
        theme_id = record_id(args[1]) if len(args) >= 3 else None
        if theme_id is None:
            raise UsageError("")
        slug, text = args[0], " ".join(args[2:])
        if not confirmed:
            shown = await asyncio.to_thread(preview, self.db, slug, theme_id, self.config.whatsapp)
            return (
                f"{shown.summary()}\n\nTo record it and tell them, send:\n"
                f"/decide confirm {slug} {theme_id} {text}"
            )
        result = await asyncio.to_thread(
            decide, self.db, slug, theme_id, text, actor=actor(user_id)
        )
        return format_recorded(result)

    async def do_decisions(self, args: list[str], user_id: int) -> str:
        """The consultation's decisions with where each stands."""
        listed = await asyncio.to_thread(decisions_of, self.db, one(args))
        return format_listed(listed, self.zone)

    async def do_progress(self, args: list[str], user_id: int) -> str:
        """Where a decision stands, with an optional public note (residents are not told)."""
        decision_id = record_id(args[1]) if len(args) >= 3 else None
        if decision_id is None:
            raise UsageError("")
        slug, status, note = args[0], args[2], " ".join(args[3:]) or None
        change = await asyncio.to_thread(
            partial(set_status, self.db, slug, decision_id, status, note=note,
                    actor=actor(user_id))
        )  # fmt: skip
        return change.summary()
