"""The dashboard's evidence packs: who may make them, each format served as it should be,
and every pack made in the audit log with the member of staff who made it."""

from __future__ import annotations

import io

from openpyxl import load_workbook
from pypdf import PdfReader
from sqlalchemy import Engine
from sqlmodel import Session, select

from conversations.storage.models import AuditEntry
from tests.pack_seed import seed_pack
from tests.web_helpers import FACILITATOR, OFFICER, SAFEGUARDING, sign_in, web_client, web_config

PAGES = ["/staff/c/example/pack", "/staff/c/example/pack/all.html", "/staff/c/example/pack/1.pdf"]


async def test_packs_are_for_officers_and_facilitators(db: Engine) -> None:
    config = web_config()
    async with web_client(db, config) as client:
        for path in PAGES:
            assert (await client.get(path, allow_redirects=False)).status == 401, path
        await sign_in(client, db, config, SAFEGUARDING)
        for path in PAGES:
            assert (await client.get(path, allow_redirects=False)).status == 403, path


async def test_an_officer_makes_each_pack_in_each_format(db: Engine) -> None:
    config = web_config()
    async with web_client(db, config) as client:
        await sign_in(client, db, config, OFFICER)
        listing = await (await client.get("/staff/c/example/pack")).text()
        assert "No theme has been reviewed yet" in listing
        seeded = seed_pack(db, load=False)
        listing = await (await client.get("/staff/c/example/pack")).text()
        for theme_id in (seeded.buses, seeded.damp, seeded.youth):
            for fmt in ("html", "pdf", "csv", "xlsx"):
                assert f'href="/staff/c/example/pack/{theme_id}.{fmt}"' in listing
        assert 'href="/staff/c/example/pack/all.pdf"' in listing
        themes_page = await (await client.get("/staff/c/example/themes")).text()
        assert f'href="/staff/c/example/pack/{seeded.buses}.html"' in themes_page
        assert 'href="/staff/c/example/pack"' in themes_page  # the consultation's tab

        page = await client.get(f"/staff/c/example/pack/{seeded.buses}.html")
        assert page.status == 200 and page.content_type == "text/html"
        policy = page.headers["Content-Security-Policy"]
        assert "default-src 'none'" in policy and "script-src" not in policy
        assert "The need in residents' own words" in await page.text()
        pdf = await client.get("/staff/c/example/pack/all.pdf")
        assert pdf.content_type == "application/pdf"
        assert 'filename="evidence-example-all-' in pdf.headers["Content-Disposition"]
        assert "Evidence pack" in PdfReader(io.BytesIO(await pdf.read())).pages[0].extract_text()
        sheet = await client.get(f"/staff/c/example/pack/{seeded.damp}.xlsx")
        assert "Who" in load_workbook(io.BytesIO(await sheet.read())).sheetnames
        table = await client.get(f"/staff/c/example/pack/{seeded.youth}.csv")
        assert (await table.text()).startswith("section,about,measure,value")
        missing = await client.get("/staff/c/example/pack/99.html")
        assert missing.status == 404 and "not a reviewed theme" in await missing.text()
        assert (await client.get("/staff/c/nowhere/pack")).status == 404
    with Session(db) as session:
        made = session.exec(select(AuditEntry).where(AuditEntry.action == "pack.make")).all()
    assert [(m.actor, m.target) for m in made] == [
        (f"staff:{OFFICER}", f"example theme {seeded.buses}"),
        (f"staff:{OFFICER}", "example whole consultation"),
        (f"staff:{OFFICER}", f"example theme {seeded.damp}"),
        (f"staff:{OFFICER}", f"example theme {seeded.youth}"),
    ]


async def test_a_facilitator_may_make_one_too(sqlite_db: Engine) -> None:
    config = web_config()
    async with web_client(sqlite_db, config) as client:
        seeded = seed_pack(sqlite_db, load=False)
        await sign_in(client, sqlite_db, config, FACILITATOR)
        made = await client.get(f"/staff/c/example/pack/{seeded.buses}.csv")
        assert made.status == 200 and "attachment" in made.headers["Content-Disposition"]
