"""`needsfirst doctor`'s Telegram checks: the token through getMe, at the configured
base_url, and in webhook mode whether Telegram sends updates to us without errors."""

from __future__ import annotations

from datetime import UTC, datetime

from telegram import Bot
from telegram.error import InvalidToken, NetworkError, TelegramError

from bot.actions.doctor import Finding
from bot.config import Config

RECENT_SECONDS = 3600  # a delivery error older than this is history, not a failure


async def telegram(config: Config) -> list[Finding]:
    settings = config.telegram
    if not settings.token:
        return [Finding("ok", "telegram", "off: no [telegram] token")]
    bot = Bot(settings.token, base_url=settings.base_url, base_file_url=settings.base_file_url)
    try:
        async with bot:
            me = await bot.get_me()
            found = [_identity(config, me.username, me.id)]
            if settings.mode == "webhook":
                found.append(_webhook(config, await bot.get_webhook_info()))
            return found
    except InvalidToken:
        return [Finding("fail", "telegram", f"{settings.base_url} refused the token (revoked "
                        "or mistyped?): get the bot's token from @BotFather")]  # fmt: skip
    except NetworkError as error:
        return [Finding("fail", "telegram",
                        f"cannot reach {settings.base_url}: {_hidden(str(error), settings.token)}")]  # fmt: skip
    except TelegramError as error:
        return [Finding("fail", "telegram", _hidden(str(error), settings.token))]


def _identity(config: Config, username: str | None, bot_id: int) -> Finding:
    expected = config.telegram.bot_username.lstrip("@")
    if expected and expected.lower() != (username or "").lower():
        return Finding("warn", "telegram", f"the token is @{username}'s, but [telegram] "
                       f"bot_username is {expected}: links would open another bot")  # fmt: skip
    return Finding("ok", "telegram", f"the token works: @{username} (id {bot_id})")


def _webhook(config: Config, info: object) -> Finding:
    url = getattr(info, "url", "") or ""
    wanted = config.telegram.webhook_url
    if url != wanted:
        where = (
            f"to {url}" if url else "nowhere (no webhook is set; the service sets it as it starts)"
        )
        return Finding(
            "fail", "telegram webhook", f"Telegram sends updates {where}, not to {wanted}"
        )
    pending = getattr(info, "pending_update_count", 0)
    when, message = (
        getattr(info, "last_error_date", None),
        getattr(info, "last_error_message", None),
    )
    if when is not None:
        moment = when if isinstance(when, datetime) else datetime.fromtimestamp(when, UTC)
        age = (datetime.now(UTC) - moment).total_seconds()
        level = "fail" if age < RECENT_SECONDS else "warn"
        return Finding(level, "telegram webhook", f"Telegram's last delivery to {url} failed "
                       f"{age / 60:.0f} min ago: {message}; {pending} update(s) waiting")  # fmt: skip
    return Finding("ok", "telegram webhook", f"{url}, no delivery errors, {pending} waiting")


def _hidden(text: str, token: str) -> str:
    """An error's words without the token (PTB's URLs carry it)."""
    return text.replace(token, "<token>")
