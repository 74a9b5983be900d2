"""Staff commands in a private chat with the bot, for configured staff only.

Everyone else gets a polite refusal and nothing changes. Each command checks the
sender's role from the config, runs the same audited actions as the command
line, and answers malformed input with its usage.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Awaitable, Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlmodel import Session
from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import TelegramError
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes, filters

from bot.actions.analysis_runs import AnalysisError, split_stored_theme
from bot.actions.decisions import DecisionError, decide, format_recorded, preview
from bot.actions.digests import build_now, send_documents
from bot.actions.priorities import format_priorities, open_round, priorities_report
from bot.actions.staff_roster import StaffRoster
from bot.actions.theme_runs import analyse_consultation
from bot.config import Config
from bot.telegram.pacing import SendBudget
from bot.telegram.updates import STAFF_PREFIX
from bot.web.auth import create_login_link
from conversations.flow.numbers import record_id, whole_number
from conversations.residents.texts import service_text
from conversations.staff import broadcasts, codebook, theme_edits, themes
from conversations.staff.broadcasts import MAX_WINDOW_MINUTES
from conversations.staff.coverage import format_status
from conversations.staff.rounds import ROUND_KINDS, ConsultationSummary, Rounds, partner_links
from conversations.storage import store

log = logging.getLogger(__name__)
STAFF_DATA = re.compile(r"^s:bc:([0-9]{1,10}):(go|no)$")


@dataclass(frozen=True)
class StaffCommand:
    name: str
    roles: frozenset[str]
    usage: str
    summary: str


FACILITATORS = frozenset({"facilitator", "admin"})
OFFICERS = frozenset({"officer", "admin"})
READERS = frozenset({"facilitator", "officer", "admin"})
EDITORS = READERS
ALL_STAFF = READERS | {"safeguarding"}  # officers and facilitators both review themes
COMMANDS = {
    c.name: c
    for c in (
        StaffCommand("staff", READERS, "/staff", "the staff commands"),
        StaffCommand(
            "login", ALL_STAFF, "/login", "a one-time link to sign in to the web dashboard"
        ),
        StaffCommand("consultations", READERS, "/consultations", "consultations and their rounds"),
        StaffCommand("status", READERS, "/status SLUG", "progress and who has not been heard"),
        StaffCommand(
            "open",
            FACILITATORS,
            "/open SLUG [prioritise]",
            "open the next round (prioritise: residents weigh the themes)",
        ),
        StaffCommand(
            "priorities", READERS, "/priorities SLUG", "how residents prioritised the themes"
        ),
        StaffCommand("close", FACILITATORS, "/close SLUG", "close the open round"),
        StaffCommand(
            "schedule",
            FACILITATORS,
            "/schedule SLUG OPENS [CLOSES] [prioritise]  (times like 2026-12-01T09:00, or - to "
            "leave as is)",
            "set when a round opens and closes (and what kind of round it is)",
        ),
        StaffCommand("links", FACILITATORS, "/links SLUG SOURCE", "deep links for a partner"),
        StaffCommand(
            "analyse", FACILITATORS, "/analyse SLUG [THEMES]", "group the answers into themes now"
        ),
        StaffCommand("themes", READERS, "/themes SLUG", "the latest themes with their ids"),
        StaffCommand(
            "accept", EDITORS, "/accept SLUG THEME_ID", "accept a proposed theme into the codebook"
        ),
        StaffCommand(
            "rename",
            EDITORS,
            "/rename SLUG THEME_ID NEW NAME",
            "rename a theme (into the codebook)",
        ),
        StaffCommand(
            "merge", EDITORS, "/merge SLUG THEME_ID INTO_ID", "fold one theme into another"
        ),
        StaffCommand(
            "split", EDITORS, "/split SLUG THEME_ID", "divide a theme in two (kept on re-runs)"
        ),
        StaffCommand("digest", READERS, "/digest SLUG", "the digest of the last 7 days, now"),
        StaffCommand(
            "decide",
            OFFICERS,
            "/decide SLUG THEME_ID WHAT WAS DECIDED",
            "record a decision on a theme and tell the residents who raised it",
        ),
        StaffCommand(
            "broadcast",
            FACILITATORS,
            "/broadcast SLUG [area=VALUE] [window=MINUTES] MESSAGE",
            "invite opted-in residents (or one group)",
        ),
    )
}


class UsageError(ValueError):
    pass


class StaffCommands:
    """Handlers for staff commands; thin adapters over the audited actions."""

    def __init__(self, config: Config, db: Engine, roster: StaffRoster | None = None) -> None:
        self.config = config
        self.roster = roster or StaffRoster(config)  # [staff] re-read when the file changes
        self.db = db
        self.rounds = Rounds(db)
        self.analysis_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="analysis")

    def register(self, application: Application) -> None:  # type: ignore[type-arg]
        self.application = application  # /digest sends files with its bot
        fresh = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE
        guarded = {name: self._guard(name) for name in COMMANDS}

        async def route(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
            message = update.effective_message
            word = (message.text or "").split(maxsplit=1)[0] if message else ""
            handler = guarded.get(word[1:].split("@")[0].lower())
            if handler is not None:
                await handler(update, context)

        # One handler for all: every resident's update is checked against it.
        application.add_handler(CommandHandler(list(COMMANDS), route, filters=fresh))
        application.add_handler(CallbackQueryHandler(self.press, pattern=f"^{STAFF_PREFIX}"))

    def _guard(
        self, name: str
    ) -> Callable[[Update, ContextTypes.DEFAULT_TYPE], Coroutine[Any, Any, None]]:
        command = COMMANDS[name]
        action: Callable[[list[str], int], Awaitable[str | tuple[str, InlineKeyboardMarkup]]] = (
            getattr(self, f"do_{name}")
        )

        async def handle(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
            user, chat = update.effective_user, update.effective_chat
            if user is None or chat is None:
                return
            if not self.roster.roles(user.id) & command.roles:
                language = "cy" if (user.language_code or "").startswith("cy") else "en"
                await chat.send_message(service_text("staff_only", language))
                return
            try:
                answer = await action(list(context.args or []), user.id)
            except UsageError as error:
                answer = (
                    f"{error}\nUsage: {command.usage}" if str(error) else f"Usage: {command.usage}"
                )
            except (
                store.StoreError,
                broadcasts.BroadcastError,
                theme_edits.ThemeEditError,
                DecisionError,
            ) as error:
                answer = f"Not done: {error}"
            if isinstance(answer, tuple):
                await chat.send_message(answer[0], reply_markup=answer[1])
            else:
                await chat.send_message(answer[:4096])

        return handle

    # --- commands -------------------------------------------------------------------

    async def do_staff(self, args: list[str], user_id: int) -> str:
        roles = self.roster.roles(user_id)
        lines = [f"Your roles: {', '.join(sorted(roles))}", ""]
        lines += [f"{c.usage}\n   {c.summary}" for c in COMMANDS.values() if roles & c.roles]
        return "\n".join(lines)

    async def do_login(self, args: list[str], user_id: int) -> str:
        link = await asyncio.to_thread(
            partial(create_login_link, self.db, self.config, user_id, roster=self.roster)
        )
        return f"Your sign-in link (works once, for 15 minutes; don't share it):\n{link}"

    async def do_consultations(self, args: list[str], user_id: int) -> str:
        summaries = await asyncio.to_thread(self.rounds.consultations)
        if not summaries:
            return (
                "No consultations yet. Load a script with: needsfirst consultation load SCRIPT.toml"
            )
        zone = ZoneInfo(self.config.digest.timezone)
        return "\n".join(_summary(s, zone) for s in summaries)

    async def do_status(self, args: list[str], user_id: int) -> str:
        slug = _one(args)
        return format_status(await asyncio.to_thread(self.rounds.status, slug))

    async def do_open(self, args: list[str], user_id: int) -> str:
        if len(args) not in (1, 2) or (len(args) == 2 and args[1] not in ROUND_KINDS):
            raise UsageError("")
        slug, kind = args[0], args[1] if len(args) == 2 else "needs"
        round_ = await asyncio.to_thread(
            open_round, self.db, slug, kind=kind, actor=_actor(user_id)
        )
        return f"{slug}: {_round_name(kind)} {round_.number} is open."

    async def do_priorities(self, args: list[str], user_id: int) -> str:
        slug = _one(args)
        report = await asyncio.get_running_loop().run_in_executor(
            self.analysis_pool, partial(priorities_report, self.db, slug)
        )
        return format_priorities(report)

    async def do_close(self, args: list[str], user_id: int) -> str:
        slug = _one(args)
        round_ = await asyncio.to_thread(self.rounds.close, slug, actor=_actor(user_id))
        return f"{slug}: round {round_.number} is closed."

    async def do_schedule(self, args: list[str], user_id: int) -> str:
        kind = None
        if len(args) > 2 and args[-1] in ROUND_KINDS:
            args, kind = args[:-1], args[-1]
        if len(args) not in (2, 3):
            raise UsageError("")
        zone = ZoneInfo(self.config.digest.timezone)
        opens, closes = (_moment(a, zone) for a in (args[1], args[2] if len(args) == 3 else "-"))
        round_ = await asyncio.to_thread(
            partial(
                self.rounds.schedule,
                args[0],
                actor=_actor(user_id),
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
        public = (
            self.config.web.public_url or f"http://{self.config.web.host}:{self.config.web.port}"
        )
        username = self.config.telegram.bot_username
        links = partner_links(
            slug=args[0], source=args[1], bot_username=username, public_url=public
        )
        return "\n".join(f"{channel}: {link}" for channel, link in links.items())

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

        def draft() -> tuple[int, int]:
            with Session(self.db) as session, session.begin():
                broadcast, count = broadcasts.draft(
                    session=session, slug=slug, message=message, created_by=_actor(user_id),
                    group=group, window_minutes=window,
                )  # fmt: skip
                assert broadcast.id is not None
                return broadcast.id, count

        broadcast_id, count = await asyncio.to_thread(draft)
        if count == 0:
            raise broadcasts.BroadcastError(
                "no opted-in residents match, so there is nothing to send"
            )
        who = f"{count} residents of {slug}" + (f" in {group[0]}={group[1]}" if group else "")
        spread = f", spread over {window} minutes" if window else ""
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
        return f"Preview of broadcast {broadcast_id} to {who}{spread}:\n\n{message}", keyboard

    async def do_analyse(self, args: list[str], user_id: int) -> str:
        n_themes = whole_number(args[1], minimum=1, maximum=500) if len(args) == 2 else None
        if len(args) not in (1, 2) or (len(args) == 2 and n_themes is None):
            raise UsageError("")
        try:
            # Not asyncio.to_thread: with SQLite that is the one database thread,
            # and residents must not wait behind a minutes-long analysis.
            result = await asyncio.get_running_loop().run_in_executor(
                self.analysis_pool,
                partial(
                    analyse_consultation, self.db, args[0], actor=_actor(user_id), n_themes=n_themes
                ),
            )
        except AnalysisError as error:
            raise store.StoreError(str(error)) from error
        return (
            f"Analysis run {result.run.id}: {result.run.answers} answers.\n\n"
            + await self.do_themes(args[:1], user_id)
        )

    async def do_themes(self, args: list[str], user_id: int) -> str:
        slug = _one(args)

        def listing() -> str:
            with Session(self.db) as session:
                consultation = store.require_consultation(session=session, slug=slug)
                assert consultation.id is not None
                run = themes.latest_run(session=session, consultation_id=consultation.id)
                if run is None or run.id is None:
                    return f"'{slug}' has not been analysed yet: /analyse {slug}"
                rows = [t for t in themes.themes_of_run(session=session, run_id=run.id)
                        if themes.is_current(t)]  # fmt: skip
                book = codebook.reviewed(session=session, consultation_id=consultation.id)
                lines = [
                    f"Themes of {slug} (run {run.id}, {run.created_at:%d %b %Y}): id, size, change, "
                    "name. ✓ reviewed (in the codebook); the others are proposed and may change: "
                    "/accept, /rename or /merge them."
                ]
                lines += [
                    f"{t.theme_id}. {'✓ ' if t.theme_id in book else ''}{t.size} ({t.status}) {t.label}"
                    for t in rows
                ]
                if run.unthemed:
                    lines.append(f"Not yet themed: {run.unthemed} answers.")
                return "\n".join(lines)

        return await asyncio.to_thread(listing)

    async def do_accept(self, args: list[str], user_id: int) -> str:
        theme_id = record_id(args[1]) if len(args) == 2 else None
        if theme_id is None:
            raise UsageError("")
        slug = args[0]
        await asyncio.to_thread(self._edit, lambda session: theme_edits.confirm(
            session=session, slug=slug, theme_id=theme_id, actor=_actor(user_id)))  # fmt: skip
        return f"Theme {theme_id} is in the codebook: every re-run codes answers to it, under its name."

    async def do_rename(self, args: list[str], user_id: int) -> str:
        theme_id = record_id(args[1]) if len(args) >= 3 else None
        if theme_id is None:
            raise UsageError("")
        slug, label = args[0], " ".join(args[2:])
        await asyncio.to_thread(self._edit, lambda session: theme_edits.rename(
            session=session, slug=slug, theme_id=theme_id, label=label, actor=_actor(user_id)))  # fmt: skip
        return f"Theme {theme_id} is now called “{label}”, and keeps the name on every re-run."

    async def do_merge(self, args: list[str], user_id: int) -> str:
        theme_id, into_id = (record_id(a) for a in args[1:3]) if len(args) == 3 else (None, None)
        if theme_id is None or into_id is None:
            raise UsageError("")
        slug = args[0]
        await asyncio.to_thread(self._edit, lambda session: theme_edits.merge(
            session=session, slug=slug, theme_id=theme_id, into_id=into_id, actor=_actor(user_id)))  # fmt: skip
        return (
            f"Theme {theme_id} is merged into theme {into_id}: re-runs code both themes' "
            f"answers to theme {into_id}."
        )

    async def do_split(self, args: list[str], user_id: int) -> str:
        theme_id = record_id(args[1]) if len(args) == 2 else None
        if theme_id is None:
            raise UsageError("")
        slug = args[0]
        # Vectorising and clustering the theme's answers: the analysis thread, as /analyse.
        split = await asyncio.get_running_loop().run_in_executor(
            self.analysis_pool,
            partial(split_stored_theme, self.db, slug, theme_id, actor=_actor(user_id)),
        )
        first, second = split.parts
        return (
            f"{split.summary()}\nBoth parts are in the codebook. Rename them if the names do not "
            f"fit: /rename {slug} {first[0]} NEW NAME, /rename {slug} {second[0]} NEW NAME"
        )

    async def do_digest(self, args: list[str], user_id: int) -> str:
        slug = _one(args)
        zone = ZoneInfo(self.config.digest.timezone)
        documents = await asyncio.get_running_loop().run_in_executor(
            self.analysis_pool, partial(build_now, self.db, slug, zone)
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
            shown = await asyncio.to_thread(preview, self.db, slug, theme_id)
            return (
                f"{shown.summary()}\n\nTo record it and tell them, send:\n"
                f"/decide confirm {slug} {theme_id} {text}"
            )
        result = await asyncio.to_thread(
            decide, self.db, slug, theme_id, text, actor=_actor(user_id)
        )
        return format_recorded(result)

    def _edit(self, change: Callable[[Session], None]) -> None:
        with Session(self.db) as session, session.begin():
            change(session)

    async def press(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A staff button: the presser must be a facilitator now, not just when it was sent."""
        query = update.callback_query
        if query is None or query.from_user is None:
            return
        match = STAFF_DATA.match(query.data or "")
        allowed = self.roster.roles(query.from_user.id) & FACILITATORS
        try:
            await query.answer(None if match and allowed else "Not available")
        except TelegramError:
            log.debug("could not answer a staff callback", exc_info=True)
        if not match or not allowed or query.message is None:
            return
        broadcast_id, choice = record_id(match[1]), match[2]
        if broadcast_id is None:
            return
        actor = _actor(query.from_user.id)
        chat_id, message_id = query.message.chat.id, query.message.message_id

        def act() -> str:
            with Session(self.db) as session, session.begin():
                if choice == "no":
                    broadcasts.cancel(session=session, broadcast_id=broadcast_id, actor=actor)
                    return f"Broadcast {broadcast_id} cancelled; nothing was sent."
                count = broadcasts.queue(
                    session=session, broadcast_id=broadcast_id, actor=actor,
                    progress_chat_id=str(chat_id), progress_message_id=message_id,
                )  # fmt: skip
                return f"Broadcast {broadcast_id} queued for {count} residents. Progress will show here."

        try:
            text = await asyncio.to_thread(act)
        except broadcasts.BroadcastError as error:
            text = f"Not done: {error}"
        try:
            await query.edit_message_text(text)
        except TelegramError:
            log.debug("could not edit a broadcast preview", exc_info=True)


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


def _actor(user_id: int) -> str:
    return f"staff:{user_id}"


def _one(args: list[str]) -> str:
    if len(args) != 1:
        raise UsageError("")
    return args[0]


def _moment(text: str, zone: ZoneInfo) -> datetime | None:
    if text == "-":
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError as error:
        raise UsageError(f"'{text}' is not a time like 2026-12-01T09:00") from error
    return (moment if moment.tzinfo else moment.replace(tzinfo=zone)).astimezone(UTC)
