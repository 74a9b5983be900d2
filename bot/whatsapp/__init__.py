"""WhatsApp, through Meta's Cloud API: residents' messages in by webhook, replies,
invitations, reminders and decisions out. See client.py for why a thin client of our
own rather than a library."""
