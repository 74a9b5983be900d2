"""What each channel counts for Prometheus: residents' updates handled, and how long
each took from its receipt to its last reply sent.

prometheus-client's counters and histograms are process-wide and cheap (a lock and
an add), so the hot path pays no database query and no I/O; /metrics
(bot/web/metrics.py) reads them with the database's figures at scrape time. Each
worker counts its own, and Prometheus scrapes each worker.
"""

from __future__ import annotations

import time

from prometheus_client import Counter, Gauge, Histogram

UPDATES = Counter(
    "needsfirst_updates_handled", "Residents' messages and presses handled, by channel",
    ["channel"],
)  # fmt: skip
REPLY_SECONDS = Histogram(
    "needsfirst_reply_seconds",
    "Seconds from a resident's update reaching this worker to its last reply sent, by channel",
    ["channel"],
    buckets=(0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0),
)
DATABASE_QUEUE = Gauge(
    "needsfirst_database_queue",
    "Database work waiting for SQLite's one thread in this worker (0 on PostgreSQL)",
)


class ChannelMeter:
    """One channel's counter and histogram, looked up once (not per update)."""

    def __init__(self, channel: str) -> None:
        self._updates = UPDATES.labels(channel)
        self._seconds = REPLY_SECONDS.labels(channel)

    def replied(self, received: float) -> None:
        """An update handled and answered; `received` is its time.monotonic() on arrival."""
        self._updates.inc()
        self._seconds.observe(time.monotonic() - received)
