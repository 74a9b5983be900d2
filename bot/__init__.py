"""The service: its fronts (Telegram, web, command line), the actions they share, and the scheduler."""
