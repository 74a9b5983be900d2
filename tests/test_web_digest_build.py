"""Building a digest now from the dashboard: the last 7 days, kept to read (sent to no
one, its documents not stored), or a clear word that there is nothing new."""

from __future__ import annotations

from sqlalchemy import Engine
from sqlmodel import Session, select

from bot.web.digest_pages import REPORT_POLICY
from conversations.storage.models import AuditEntry, Digest, DigestDelivery
from tests.web_helpers import FACILITATOR, OFFICER, SAFEGUARDING, sign_in, web_client, web_config
from tests.web_seed import seed_answers


async def test_a_digest_is_built_now_and_shown(db: Engine) -> None:
    config = web_config()
    async with web_client(db, config) as client:
        csrf = await sign_in(client, db, config, SAFEGUARDING)
        forbidden = await client.post("/staff/digests", data={"csrf": csrf, "slug": "example"})
        assert forbidden.status == 403
        client.session.cookie_jar.clear()
        csrf = await sign_in(client, db, config, FACILITATOR)
        index = await (await client.get("/staff/digests")).text()
        assert "Build a digest now" in index and 'value="example"' in index
        quiet = await client.post("/staff/digests", data={"csrf": csrf, "slug": "example"})
        text = await quiet.text()
        assert quiet.status == 200 and "Nothing new in the last 7 days" in text
        assert "no digest was kept" in text
        bad = await client.post("/staff/digests", data={"csrf": csrf, "slug": "nowhere"})
        assert bad.status == 400 and "Choose a consultation" in await bad.text()
        with Session(db) as session:
            assert session.exec(select(Digest)).all() == []

        seed_answers(db)
        client.session.cookie_jar.clear()
        csrf = await sign_in(client, db, config, OFFICER)
        built = await client.post("/staff/digests", data={"csrf": csrf, "slug": "example"})
        report = await built.text()
        assert built.status == 200 and built.url.path.startswith("/staff/digests/")
        assert built.headers["Content-Security-Policy"] == REPORT_POLICY
        assert "What would make life better in Riverside?" in report
        listed = await (await client.get("/staff/digests")).text()
        assert "on-demand" in listed and built.url.path in listed
    with Session(db) as session:
        digest = session.exec(select(Digest)).one()
        assert (digest.kind, digest.html, digest.csv, digest.summary) == ("on-demand", "", "", "")
        assert session.exec(select(DigestDelivery)).all() == []  # sent to no one
        audit = session.exec(select(AuditEntry).where(AuditEntry.action == "digest.build")).one()
        assert audit.actor == f"staff:{OFFICER}" and "0 officers" in audit.detail
