"""When a round opens or closes, as staff type it on any front (command line, Telegram).

One reading for every front: an ISO date and time, such as 2026-12-01T09:00 or
2026-12-01; without a zone it is the service's local time ([digest] timezone);
"-" leaves the time as it is. Each front words its own error.
"""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

UNCHANGED = "-"
EXAMPLE = "2026-12-01T09:00"


def typed_time(text: str) -> datetime | None:
    """The date and time typed, as written (None for "-"); ValueError if it is not one."""
    if text.strip() == UNCHANGED:
        return None
    return datetime.fromisoformat(text)


def in_utc(moment: datetime | None, zone: ZoneInfo) -> datetime | None:
    """A typed time in UTC, read in `zone` when it names no zone of its own."""
    if moment is None:
        return None
    return (moment if moment.tzinfo else moment.replace(tzinfo=zone)).astimezone(UTC)
