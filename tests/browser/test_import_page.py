"""Real Chromium on the import pages: a facilitator uploads a file, maps a column, sees
a bad row, imports a good file and removes the batch. Every page passes axe (WCAG 2.2 AA)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, select

from conversations.storage.models import ImportBatch, Resident
from tests.browser.live import LiveServer
from tests.browser.test_browser import DESKTOP, PHONE, check, press
from tests.browser.test_dashboard_pages import signed_in
from tests.test_imports import GOOD, csv_bytes
from tests.web_helpers import FACILITATOR


def residents(server: LiveServer) -> int:
    with Session(server.db) as session:
        return int(session.exec(select(func.count()).select_from(Resident)).one())


async def test_a_facilitator_imports_a_file_and_removes_it(
    server: LiveServer, browser: Any, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_bytes(csv_bytes([*GOOD, ["", "Soth", "", "Buses", "", ""]]))
    good = tmp_path / "forms.csv"
    good.write_bytes(csv_bytes(GOOD))
    page = await signed_in(server, browser, FACILITATOR, DESKTOP)
    await page.goto(f"{server.url}/staff/c/example")
    await page.get_by_role("link", name="Import", exact=True).click()
    await page.get_by_role("heading", name="Answers gathered elsewhere").wait_for()
    await check(page, "staff-import")

    await page.get_by_label("File", exact=True).set_input_files(str(bad))
    await page.get_by_label("Source", exact=True).fill("tenants")
    await press(page, "Check the file")
    await page.get_by_text("matches no question").first.wait_for()
    await check(page, "staff-import-unmapped")
    await page.get_by_label("Column “Timestamp”").select_option("-")
    await page.get_by_label("Column “Comments”").select_option("difference")
    await press(page, "Check again")
    await page.get_by_role("heading", name="Rows that cannot be read").wait_for()
    await check(page, "staff-import-errors")
    assert await page.get_by_role("button", name="Import").count() == 0
    await press(page, "Drop this file")

    await page.get_by_label("File", exact=True).set_input_files(str(good))
    await page.get_by_label("Source", exact=True).fill("tenants")
    await press(page, "Check the file")
    await page.get_by_label("Column “Timestamp”").select_option("-")
    await page.get_by_label("Column “Comments”").select_option("difference")
    await press(page, "Check again")
    await page.get_by_role("heading", name="Every row can be read").wait_for()
    await check(page, "staff-import-preview")
    await page.set_viewport_size(PHONE)
    await check(page, "staff-import-preview-phone")
    await page.set_viewport_size(DESKTOP)
    await press(page, "Import 10 answers")
    await page.get_by_text("was imported").wait_for()
    assert residents(server) == 3

    with Session(server.db) as session:
        batch_id = session.exec(select(ImportBatch.id)).one()
    await page.get_by_role("link", name=f"Remove batch {batch_id}").click()
    await page.get_by_role("heading", name=f"Remove batch {batch_id}?").wait_for()
    await check(page, "staff-import-remove")
    await press(page, f"Remove batch {batch_id}")
    await page.get_by_text("was removed").wait_for()
    await check(page, "staff-import-removed")
    assert residents(server) == 0
    await page.context.close()
