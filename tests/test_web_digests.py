"""The dashboard's digest archive: who may read it, and past digests as they read today."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Engine

from bot.actions.digests import build, store_digest
from conversations.storage.models import utcnow
from tests.web_helpers import OFFICER, SAFEGUARDING, sign_in, web_client, web_config
from tests.web_seed import seed_themes

PAGES = ["/staff/digests", "/staff/digests/1", "/staff/digests/1.csv"]


def stored_digest(db: Engine) -> int:
    """This week's digest of the seeded themes, stored as the scheduler stores it."""
    end = utcnow() + timedelta(minutes=1)
    start = end - timedelta(days=7)
    zone = ZoneInfo("Europe/London")
    documents, run_id = build(db, "example", start=start, end=end, zone=zone)
    return store_digest(
        db, slug="example", kind="weekly", start=start, end=end, documents=documents,
        run_id=run_id, officers=(),
    )  # fmt: skip


async def test_the_archive_is_for_officers_and_facilitators(db: Engine) -> None:
    config = web_config()
    async with web_client(db, config) as client:
        for path in PAGES:
            assert (await client.get(path, allow_redirects=False)).status == 401, path
        await sign_in(client, db, config, SAFEGUARDING)
        for path in PAGES:
            assert (await client.get(path, allow_redirects=False)).status == 403, path


async def test_an_officer_reads_a_past_digest_again(db: Engine) -> None:
    config = web_config()
    async with web_client(db, config) as client:
        seed_themes(db)
        digest_id = stored_digest(db)
        await sign_in(client, db, config, OFFICER)
        listing = await (await client.get("/staff/digests")).text()
        assert f'href="/staff/digests/{digest_id}"' in listing and "weekly" in listing
        report = await client.get(f"/staff/digests/{digest_id}")
        assert report.status == 200 and report.content_type == "text/html"
        # The report's own styles are allowed, and nothing else: no scripts.
        policy = report.headers["Content-Security-Policy"]
        assert "default-src 'none'" in policy and "script-src" not in policy
        assert "Our flat is damp and mould" in await report.text()
        table = await client.get(f"/staff/digests/{digest_id}.csv")
        assert table.status == 200 and "attachment" in table.headers["Content-Disposition"]
        assert (await client.get("/staff/digests/999")).status == 404
