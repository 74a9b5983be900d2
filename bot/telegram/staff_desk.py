"""What every Telegram staff command shares: the list of commands, their roles and usage,
the service they act on, and how their arguments are read.

The commands themselves are grouped by subject (staff_rounds.py, staff_themes.py,
staff_outreach.py); bot/telegram/staff.py puts them together behind the role check.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from telegram.ext import Application

from bot.actions.round_times import EXAMPLE, in_utc, typed_time
from bot.actions.staff_roster import StaffRoster
from bot.config import Config
from conversations.staff.rounds import Rounds


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
            "decisions", READERS, "/decisions SLUG", "the decisions and where each stands"
        ),
        StaffCommand(
            "progress",
            OFFICERS,
            "/progress SLUG DECISION_ID agreed|under_way|done|not_going_ahead [NOTE]",
            "where a decision stands, on the public results page (nobody is messaged)",
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


class StaffDesk:
    """The service the staff commands act on, shared by every group of commands."""

    application: Application  # type: ignore[type-arg]  # set on register: /digest sends files

    def __init__(self, config: Config, db: Engine, roster: StaffRoster | None = None) -> None:
        self.config = config
        self.roster = roster or StaffRoster(config)  # [staff] re-read when the file changes
        self.db = db
        self.rounds = Rounds(db)
        self.analysis_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="analysis")

    @property
    def zone(self) -> ZoneInfo:
        """The service's local time, for times staff type and read."""
        return ZoneInfo(self.config.digest.timezone)


def actor(user_id: int) -> str:
    return f"staff:{user_id}"


def one(args: list[str]) -> str:
    """The one argument a command takes (a consultation's slug)."""
    if len(args) != 1:
        raise UsageError("")
    return args[0]


def moment(text: str, zone: ZoneInfo) -> datetime | None:
    """A round's time as typed (bot/actions/round_times.py), in UTC; "-" for as it is."""
    try:
        return in_utc(typed_time(text), zone)
    except ValueError as error:
        raise UsageError(f"'{text}' is not a time like {EXAMPLE}") from error
