"""Everything that speaks the Telegram Bot API."""
