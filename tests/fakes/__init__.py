"""Fakes of the services the bot talks to: the Telegram Bot API, GOV.UK Notify
and Meta's WhatsApp Cloud API."""
