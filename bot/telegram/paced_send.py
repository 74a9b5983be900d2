"""Sending one message nobody is waiting for, within Telegram's limits."""

from __future__ import annotations

from telegram import Bot, InlineKeyboardMarkup
from telegram.error import RetryAfter

from bot.telegram.pacing import SendBudget, seconds_of

FLOOD_RETRIES = 5  # 429s in a row before a message is given up


async def send_paced(bot: Bot, budget: SendBudget, chat_id: int, text: str,
                     markup: InlineKeyboardMarkup | None = None) -> None:  # fmt: skip
    """A message nobody is waiting for (reminder, alert, notice) at the broadcasts' pace.

    After a 429 (not sent, so safe to repeat) it waits as told and tries again."""
    for attempt in range(FLOOD_RETRIES):
        try:
            async with budget.sending(chat_id):
                await bot.send_message(chat_id, text, reply_markup=markup)
            return
        except RetryAfter as error:
            budget.flooded(seconds_of(error))
            if attempt == FLOOD_RETRIES - 1:
                raise
