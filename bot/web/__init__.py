"""The web server: resident chat, staff dashboard, health check and Telegram webhook."""

from bot.web.app import build_web_app

__all__ = ["build_web_app"]
