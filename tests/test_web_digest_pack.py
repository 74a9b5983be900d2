"""The evidence pack in the dashboard's digest archive: built with a digest on request,
listed beside a digest that carries one, made as it reads today when downloaded
(audited with who downloaded it), and for officers and facilitators only."""

from __future__ import annotations

import io

from pypdf import PdfReader
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from conversations.storage.models import AuditEntry, Digest
from tests.web_helpers import OFFICER, SAFEGUARDING, sign_in, web_client, web_config
from tests.web_seed import seed_themes


async def test_a_digest_built_with_its_pack_lists_it_and_the_download_is_audited(
    db: Engine,
) -> None:
    config = web_config()
    async with web_client(db, config) as client:
        seed_themes(db)
        csrf = await sign_in(client, db, config, OFFICER)
        index = await (await client.get("/staff/digests")).text()
        assert 'name="with_pack" value="yes"' in index and "With the evidence pack" in index
        plain = await client.post("/staff/digests", data={"csrf": csrf, "slug": "example"},
                                  allow_redirects=False)  # fmt: skip
        assert plain.status == 303 and plain.headers["Location"].startswith("/staff/digests/")
        packed = await client.post(
            "/staff/digests",
            data={"csrf": csrf, "slug": "example", "with_pack": "yes"},
            allow_redirects=False,
        )
        assert packed.status == 303
        with Session(db) as session:
            without, with_ = session.exec(select(Digest).order_by(col(Digest.id))).all()
        assert (without.with_pack, with_.with_pack) == (False, True)
        assert with_.pack is None  # kept to read, sent to no one: the PDF is made on download
        assert packed.headers["Location"] == f"/staff/digests?built={with_.id}"

        shown = await (await client.get(packed.headers["Location"])).text()
        assert "The digest is built</strong>, with the evidence pack" in shown
        pack_link = f'href="/staff/digests/{with_.id}/pack.pdf"'
        assert shown.count(pack_link) == 2  # in the notice, and in the archive
        assert f'href="/staff/digests/{without.id}/pack.pdf"' not in shown
        assert "Evidence pack (PDF)" in shown

        pdf = await client.get(f"/staff/digests/{with_.id}/pack.pdf")
        assert pdf.status == 200 and pdf.content_type == "application/pdf"
        assert "attachment" in pdf.headers["Content-Disposition"]
        first = PdfReader(io.BytesIO(await pdf.read())).pages[0].extract_text()
        assert "Evidence pack" in first
        assert (await client.get(f"/staff/digests/{without.id}/pack.pdf")).status == 404
        assert (await client.get("/staff/digests/999/pack.pdf")).status == 404

        client.session.cookie_jar.clear()
        path = f"/staff/digests/{with_.id}/pack.pdf"
        assert (await client.get(path, allow_redirects=False)).status == 401
        await sign_in(client, db, config, SAFEGUARDING)
        assert (await client.get(path, allow_redirects=False)).status == 403
    with Session(db) as session:
        made = session.exec(select(AuditEntry).where(AuditEntry.action == "pack.make")).one()
        assert made.actor == f"staff:{OFFICER}" and made.detail.startswith("pdf")
        built = session.exec(
            select(AuditEntry.detail).where(AuditEntry.action == "digest.build")
        ).all()
        assert ["with the evidence pack" in d for d in built] == [False, True]
