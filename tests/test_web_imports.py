"""The dashboard's import: upload, preview with every error, the mapping changed, the
import confirmed as one batch, and a batch removed after confirming; roles and limits."""

from __future__ import annotations

import re

from aiohttp import FormData
from aiohttp.test_utils import TestClient
from sqlalchemy import Engine
from sqlmodel import Session, select

from bot.actions.imports import check_file, import_file
from bot.web import import_pages
from conversations.storage.models import (
    AuditEntry,
    ImportBatch,
    ImportUpload,
    Resident,
    SafeguardingFlag,
)
from tests.test_imports import AFFECTS, GOOD, MAPPING, count, csv_bytes, xlsx_bytes
from tests.web_helpers import (
    FACILITATOR,
    OFFICER,
    SAFEGUARDING,
    parse,
    sign_in,
    web_client,
    web_config,
)


def upload_form(
    csrf: str, content: bytes, name: str = "forms.csv", source: str = "forms"
) -> FormData:
    form = FormData()
    form.add_field("csrf", csrf)
    form.add_field("file", content, filename=name, content_type="text/csv")
    form.add_field("source", source)
    return form


async def upload(client: TestClient, csrf: str, content: bytes, **kwargs: str) -> str:
    response = await client.post("/staff/c/example/import", data=upload_form(csrf, content, **kwargs),
                                 allow_redirects=False)  # fmt: skip
    assert response.status == 303, await response.text()
    return response.headers["Location"]


async def test_upload_preview_map_import_and_remove(db: Engine) -> None:
    config = web_config()
    async with web_client(db, config) as client:
        csrf = await sign_in(client, db, config, OFFICER)
        home = await (await client.get("/staff/c/example")).text()
        assert 'href="/staff/c/example/import"' in home  # the consultation's tab
        page = await (await client.get("/staff/c/example/import")).text()
        assert "Nothing has been imported into this consultation yet." in page

        bad = csv_bytes([*GOOD, ["", "Soth", "", "Buses", "", ""]])
        location = await upload(client, csrf, bad)
        assert re.fullmatch(r"/staff/c/example/import/\d+", location)
        shown = await (await client.get(location)).text()
        # Timestamp and Comments fit no question: named, with a select to choose.
        assert "column &#39;Timestamp&#39; matches no question" in shown
        assert "Import " not in shown and count(db, Resident) == 0
        form = next(f for f in parse(shown).forms if f.action.endswith("/mapping"))
        headings = {v: k.split("-")[1] for k, v in form.fields.items() if k.startswith("heading-")}
        chosen = {**form.fields, f"column-{headings['Timestamp']}": "-",
                  f"column-{headings['Comments']}": "difference"}  # fmt: skip
        assert (await client.post(form.action, data=chosen, allow_redirects=False)).status == 303
        shown = await (await client.get(location)).text()
        assert (
            "row 5, column &#39;Which part of the borough do you live in?&#39;: &#39;Soth&#39;"
            in shown
        )
        assert "1 row cannot be read, so nothing can be imported" in shown
        refused = await client.post(f"{location}/confirm", data={"csrf": csrf})
        assert (
            refused.status == 409
            and "Nothing was imported: 1 row(s) cannot be read" in await refused.text()
        )
        assert count(db, Resident) == 0

        location = await upload(client, csrf, csv_bytes(GOOD))
        form = next(f for f in parse(await (await client.get(location)).text()).forms
                    if f.action.endswith("/mapping"))  # fmt: skip
        await client.post(form.action, data={**form.fields, **chosen}, allow_redirects=False)
        shown = await (await client.get(location)).text()
        assert "Every row can be read" in shown and "Import 10 answers" in shown
        assert "07700 900123" not in shown  # scrubbed in the preview
        done = await client.post(f"{location}/confirm", data={"csrf": csrf}, allow_redirects=False)
        assert done.status == 303 and done.headers["Location"].startswith(
            "/staff/c/example/import?done="
        )
        again = await client.post(f"{location}/confirm", data={"csrf": csrf})  # a second click
        assert again.status == 404 and count(db, ImportBatch) == 1 and count(db, Resident) == 3
        assert count(db, ImportUpload) == 1  # the bad file, until dropped
        with Session(db) as session:
            batch = session.exec(select(ImportBatch)).one()
            kept = session.exec(select(ImportUpload)).one()
        assert batch.imported_by == f"staff:{OFFICER}" and batch.source == "forms"
        dropped = await client.post(f"/staff/c/example/import/{kept.id}/drop", data={"csrf": csrf},
                                    allow_redirects=False)  # fmt: skip
        assert dropped.status == 303 and count(db, ImportUpload) == 0

        listed = await (await client.get("/staff/c/example/import")).text()
        assert f"Remove batch {batch.id}" in listed and "forms.csv" in listed
        ask = await (await client.get(f"/staff/c/example/import/batches/{batch.id}/remove")).text()
        assert "deletes its 3 residents and their 10 answers" in ask
        assert count(db, Resident) == 3  # asking removes nothing
        removed = await client.post(f"/staff/c/example/import/batches/{batch.id}/remove",
                                    data={"csrf": csrf}, allow_redirects=False)  # fmt: skip
        assert removed.status == 303 and count(db, Resident) == 0
        with Session(db) as session:
            audit = session.exec(
                select(AuditEntry).where(AuditEntry.action == "import.remove")
            ).one()
        assert audit.actor == f"staff:{OFFICER}"


async def test_an_excel_file_a_wrong_one_and_one_too_large_are_told_apart(db: Engine) -> None:
    config = web_config()
    async with web_client(db, config) as client:
        csrf = await sign_in(client, db, config, FACILITATOR)
        rows: list[list[object]] = [[None, "South", "65 or over", "Buses", "Older people", None]]
        headings = ["Time", "area", "age", "need", AFFECTS, "Notes"]
        name = "C:\\fakepath\\s\u202e.xlsx"  # as some browsers name it; a bidi trick
        location = await upload(client, csrf, xlsx_bytes(rows, headings), name=name)
        shown = await (await client.get(location)).text()
        assert "<h1>Check s.xlsx</h1>" in shown  # its last part, cleaned
        assert "column &#39;Time&#39; matches no question" in shown  # read, then mapped
        assert "column &#39;Notes&#39; matches no question" in shown

        location = await upload(client, csrf, b"\xd0\xcf\x11\xe0old", name="old.xls")
        assert "old Excel file (.xls)" in await (await client.get(location)).text()

        response = await client.post("/staff/c/example/import",
                                     data=upload_form(csrf, b"need\nx\n", source="Not A Source"))  # fmt: skip
        assert (
            response.status == 400
            and "is not a name like tenants-association" in await response.text()
        )
        response = await client.post("/staff/c/example/import", data={"csrf": csrf, "source": "x"})
        assert response.status == 400 and "Choose a file to import" in await response.text()
        big = b"need\n" + b"x" * (import_pages.MAX_UPLOAD + 10)
        response = await client.post("/staff/c/example/import", data=upload_form(csrf, big))
        assert response.status == 413 and "larger than 20 MB" in await response.text()
        assert count(db, ImportBatch) == 0


async def test_only_facilitators_officers_and_admins_import(db: Engine) -> None:
    config = web_config()
    async with web_client(db, config) as client:
        csrf = await sign_in(client, db, config, SAFEGUARDING)
        assert (await client.get("/staff/c/example/import")).status == 403
        response = await client.post(
            "/staff/c/example/import", data=upload_form(csrf, b"need\nx\n")
        )
        assert response.status == 403 and count(db, ImportUpload) == 0


async def test_the_leads_see_an_imported_disclosure_marked_with_its_source(db: Engine) -> None:
    config = web_config()
    async with web_client(db, config) as client:
        disclosure = "My partner hits me and I am scared to go home"
        rows = [["", "", "", disclosure, "", ""], ["", "", "", "Buses stop at 7pm", "", ""]]
        checked = check_file(db, "example", csv_bytes(rows), "forms.csv", source="refuge",
                             mapping=MAPPING)  # fmt: skip
        batch = import_file(db, checked, actor="cli:test")
        await sign_in(client, db, config, SAFEGUARDING)
        listed = await (await client.get("/staff/safeguarding")).text()
        assert f"Imported from <code>refuge</code> (batch {batch.id})" in listed
        with Session(db) as session:
            flag = session.exec(select(SafeguardingFlag)).one()
        shown = await (await client.get(f"/staff/safeguarding/{flag.id}")).text()
        assert "gathered elsewhere by <code>refuge</code> (forms.csv)" in shown
        assert disclosure in shown and "nobody was in a chat to be shown help" in shown

        # Withheld from quotes like any disclosure: the officers' pages never show it.
        client.session.cookie_jar.clear()
        await sign_in(client, db, config, OFFICER)
        overview = await (await client.get("/staff/c/example")).text()
        assert "Buses stop at 7pm" in overview and "scared to go home" not in overview
