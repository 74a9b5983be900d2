"""What staff, the command line and the scheduler can do. No transport here: no Telegram, no aiohttp."""
