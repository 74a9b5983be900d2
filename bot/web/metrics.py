"""GET /metrics: this worker's figures for Prometheus, when `[metrics] enabled = true`.

Off by default (404). With `[metrics] token` set, a scraper sends "Authorization:
Bearer <token>", compared in constant time; without one, anyone who reaches the
route may read it, so keep it off the public internet at the proxy. The figures
carry counts and seconds only: never a resident's words, id or pseudonym.

A scrape reads the channels' counters (bot/channels/metrics.py, in this process's
memory) and a few bounded counts from the database (bot/actions/service_figures.py),
in a worker thread. Each worker is a separate process with its own counters and
serves its own /metrics: Prometheus scrapes every worker (docs/deployment.md).
"""

from __future__ import annotations

import asyncio
import hmac
import logging
from collections.abc import Iterable

from aiohttp import web
from prometheus_client import REGISTRY
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.exposition import choose_encoder
from prometheus_client.metrics_core import Metric
from prometheus_client.registry import Collector
from sqlalchemy import Engine

from bot.actions.service_figures import service_figures
from bot.web.keys import CONFIG_KEY, ENGINE_KEY

log = logging.getLogger(__name__)


class DatabaseFigures(Collector):
    """The database's figures as gauges, read when Prometheus scrapes."""

    def __init__(self, db: Engine) -> None:
        self.db = db

    def collect(self) -> Iterable[Metric]:
        up = GaugeMetricFamily(
            "needsfirst_database_figures_up", "1 if the database's figures could be read"
        )
        try:
            figures = service_figures(self.db)
        except Exception as error:  # a scrape must still say what this worker knows
            log.warning("metrics: the database's figures could not be read: %s",
                        type(error).__name__)  # fmt: skip
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        recipients = GaugeMetricFamily(
            "needsfirst_broadcast_recipients",
            "Recipients of each broadcast under way (queued or sending), by state",
            labels=["broadcast", "state"],
        )
        for broadcast_id, states in sorted(figures.broadcasts.items()):
            for state in ("pending", "sending", "sent", "failed", "blocked", "stopped", "skipped"):
                recipients.add_metric([str(broadcast_id), state], states.get(state, 0))
        yield recipients
        yield GaugeMetricFamily(
            "needsfirst_broadcasts_under_way", "Broadcasts queued or sending",
            value=len(figures.broadcasts),
        )  # fmt: skip
        unhandled = GaugeMetricFamily(
            "needsfirst_inbox_unhandled",
            "Residents' updates kept in the durable inbox and not yet handled, by channel",
            labels=["channel"],
        )
        for channel in sorted({"telegram", "whatsapp", *figures.unhandled}):
            unhandled.add_metric([channel], figures.unhandled.get(channel, 0))
        yield unhandled
        yield GaugeMetricFamily(
            "needsfirst_safeguarding_flags_open",
            "Safeguarding flags no lead has acknowledged yet", value=figures.flags_open,
        )  # fmt: skip
        yield GaugeMetricFamily(
            "needsfirst_safeguarding_oldest_open_seconds",
            "Seconds since the oldest unacknowledged safeguarding flag was raised (0: none)",
            value=figures.oldest_open_seconds,
        )


class _Scrape(Collector):
    """This process's counters, then the database's figures."""

    def __init__(self, figures: DatabaseFigures) -> None:
        self.figures = figures

    def collect(self) -> Iterable[Metric]:
        yield from REGISTRY.collect()
        yield from self.figures.collect()


SCRAPE_KEY = web.AppKey("metrics_scrape", _Scrape)


def add_routes(app: web.Application) -> None:
    """GET /metrics, when the configuration turns it on."""
    if not app[CONFIG_KEY].metrics.enabled:
        return
    app[SCRAPE_KEY] = _Scrape(DatabaseFigures(app[ENGINE_KEY]))
    app.router.add_get("/metrics", metrics)


async def metrics(request: web.Request) -> web.Response:
    token = request.app[CONFIG_KEY].metrics.token
    if token and not _bearer_matches(request.headers.get("Authorization", ""), token):
        return web.Response(
            status=401, text="a metrics token is needed (Authorization: Bearer ...)\n",
            headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
        )  # fmt: skip
    encoder, content_type = choose_encoder(request.headers.get("Accept", ""))
    body = await asyncio.to_thread(encoder, request.app[SCRAPE_KEY])
    return web.Response(body=body, headers={"Content-Type": content_type,
                                            "Cache-Control": "no-store"})  # fmt: skip


def _bearer_matches(header: str, token: str) -> bool:
    scheme, _, given = header.partition(" ")
    # Compared whole and in constant time, whatever was sent.
    return scheme.lower() == "bearer" and hmac.compare_digest(
        given.strip().encode(), token.encode()
    )
