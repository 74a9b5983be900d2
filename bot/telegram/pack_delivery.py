"""An evidence pack's PDF to officers on Telegram, beside a digest sent on request
(`needsfirst digest SLUG --send --with-pack`).

Unlike the digest's own parts, the pack is not recorded per officer: it goes once,
after the digest, to each officer the digest reached; an officer it does not reach is
named in the counts, and the command can be run again (the digest is not sent twice
within the week: see bot/actions/digests.py)."""

from __future__ import annotations

import logging

from telegram import Bot
from telegram.error import RetryAfter, TelegramError

from bot.actions.packs import PackFile
from bot.telegram.pacing import SendBudget, seconds_of

log = logging.getLogger(__name__)
CAPTION = "The evidence pack: every reviewed theme, its figures and the limits of the evidence."


async def send_pack(bot: Bot, officers: tuple[int, ...], pack: PackFile,
                    budget: SendBudget | None = None) -> dict[str, int]:  # fmt: skip
    """The pack's PDF to each officer; returns how many were sent and how many failed."""
    budget = budget or SendBudget()
    counts = {"pack sent": 0, "pack failed": 0}
    for officer in officers:
        while True:
            try:
                async with budget.sending(officer):
                    await bot.send_document(
                        officer, pack.content, filename=pack.name, caption=CAPTION
                    )
                counts["pack sent"] += 1
                break
            except RetryAfter as error:
                budget.flooded(seconds_of(error))
            except TelegramError:
                log.warning("the evidence pack could not be sent to officer %s", officer,
                            exc_info=True)  # fmt: skip
                counts["pack failed"] += 1
                break
    return counts
