"""Fakes of the services the bot talks to: the Telegram Bot API and GOV.UK Notify."""
