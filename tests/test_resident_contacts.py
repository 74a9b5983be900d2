"""Web-chat residents leaving a mobile number or email address to hear back (issue 19,
part 2): checked, kept, shown on "your data", removable, erased by "Delete my data",
and never exported. On SQLite and PostgreSQL."""

from __future__ import annotations

import html
import io
import json
from dataclasses import replace
from datetime import timedelta

import pytest
from sqlalchemy import Engine, inspect, text
from sqlmodel import Session, select

from bot.config import NotifyConfig
from conversations.residents.contact import read_contact
from conversations.staff.export import export_columns, export_records, write_export
from conversations.storage import retention, store
from conversations.storage.models import ResidentContact, Round, utcnow
from conversations.storage.scripts import ScriptCache
from tests.web_helpers import (
    OFFICER,
    WebResident,
    complete_example,
    parse,
    sign_in,
    web_client,
    web_config,
)

MOBILE, EMAIL = "07911 123456", "ann.resident@example.org"

# The page's English (the catalogues' message ids).
WORDS = {
    "contact_heading": "Hear back by text message or email",
    "contact_purpose": "If you want, leave a UK mobile number or an email address. We will use it only to tell you what was decided about the needs you told us, and when the next round starts. We send these through GOV.UK Notify. We never put it in any report. You can remove it here at any time. If you delete your data, it goes too.",
    "invitations_unreachable": "None. This web chat can't send you messages. So we can't ask you back, or tell you what was decided, here",
    "notice_contact_invalid": "That isn't a UK mobile number or an email address we can use. Please check it.",
    "notice_contact_nobody": "Please take part first: then you can leave a way to hear back.",
    "notice_contact_removed": "Removed. We no longer hold it.",
    "notice_contact_saved": "Thank you. We will use it only to tell you what happens next.",
}


@pytest.mark.parametrize(
    ("given", "kind", "kept"),
    [
        ("07911 123456", "sms", "+447911123456"),
        ("+44 7911 123456", "sms", "+447911123456"),
        ("(07911) 123-456", "sms", "+447911123456"),
        ("ann@example.org", "email", "ann@example.org"),
        (
            "  Ann.O'Neil+council@mail.example.co.uk ",
            "email",
            "Ann.O'Neil+council@mail.example.co.uk",
        ),
    ],
)
def test_a_uk_mobile_or_an_email_address_is_read(given: str, kind: str, kept: str) -> None:
    contact = read_contact(given)
    assert contact is not None and (contact.kind, contact.address) == (kind, kept)


@pytest.mark.parametrize(
    "given",
    [
        "",
        "020 7946 0000",  # a landline cannot receive text messages
        "+33 6 12 34 56 78",  # a French mobile: Notify's UK service here
        "0770090012",  # too short
        "call me",
        "ann@",
        "ann@example",
        "ann@@example.org",
        "ann smith@example.org",
        "ann@exa..mple.org",
        "a" * 330 + "@example.org",
    ],
)
def test_anything_else_is_refused(given: str) -> None:
    assert read_contact(given) is None


def held(db: Engine) -> list[tuple[str, str]]:
    with Session(db) as session:
        rows = session.exec(select(ResidentContact).order_by(ResidentContact.kind)).all()  # type: ignore[arg-type]
        return [(r.kind, r.address) for r in rows]


async def leave(ann: WebResident, given: str) -> str:
    """Leave `given` through the form on the page Ann has open; the page that follows."""
    form, (name, value, _) = ann.page.form_with("Keep it")
    response = await ann.client.post(
        form.action, data={**form.fields, name: value, "contact": given}
    )
    assert response.status == 200
    page = await response.text()
    ann.page = parse(page)
    return html.unescape(page)


async def test_leaving_seeing_and_removing_contact_details(db: Engine) -> None:
    async with web_client(db) as client:
        ann = WebResident(client)
        await ann.open()
        assert WORDS["contact_heading"] not in html.unescape(ann.page.html)  # not before the end
        await complete_example(ann)
        # The end of the conversation offers it, with its purpose stated.
        shown = html.unescape(ann.page.html)
        assert WORDS["contact_heading"] in shown and WORDS["contact_purpose"] in shown
        page = await leave(ann, "not a number")
        assert WORDS["notice_contact_invalid"] in page and held(db) == []
        page = await leave(ann, MOBILE)
        assert WORDS["notice_contact_saved"] in page and "+447911123456" in page
        # From the "your data" page, an email address beside it.
        page = await leave(ann, EMAIL)
        assert held(db) == [("email", EMAIL), ("sms", "+447911123456")]
        assert EMAIL in page and "+447911123456" in page
        # It counts as a way to reach them: invitations are "On", not "None".
        assert WORDS["invitations_unreachable"] not in page
        record = json.loads(await (await client.get("/c/example/my-data.json")).read())
        assert {(c["kind"], c["address"]) for c in record["contact"]} == set(held(db))
        # A new number replaces the old one.
        await leave(ann, "07912 345678")
        assert held(db) == [("email", EMAIL), ("sms", "+447912345678")]
        # Removing one leaves the other.
        form = next(f for f in ann.page.forms if f.fields.get("kind") == "sms")
        response = await client.post(form.action, data={**form.fields, "action": "remove"})
        assert WORDS["notice_contact_removed"] in html.unescape(await response.text())
        assert held(db) == [("email", EMAIL)]


async def test_no_details_are_asked_for_where_nothing_could_send_a_message(db: Engine) -> None:
    async with web_client(db, replace(web_config(), notify=NotifyConfig())) as client:
        ann = WebResident(client)
        await ann.open()
        await complete_example(ann)
        assert WORDS["contact_heading"] not in html.unescape(ann.page.html)


async def test_someone_who_has_not_taken_part_cannot_leave_details(db: Engine) -> None:
    async with web_client(db) as client:
        ann = WebResident(client)
        await ann.open()  # a device with its cookie and CSRF token, but no resident
        form = next(f for f in ann.page.forms if "csrf" in f.fields)
        data = {"csrf": form.fields["csrf"], "action": "leave", "contact": MOBILE}
        response = await client.post("/c/example/contact", data=data)
        assert WORDS["notice_contact_nobody"] in html.unescape(await response.text())
        forged = await client.post("/c/example/contact", data={**data, "csrf": "x" * 43})
        assert forged.status == 403
    assert held(db) == []


async def test_delete_my_data_erases_the_details(db: Engine) -> None:
    async with web_client(db) as client:
        ann = WebResident(client)
        await complete_example(ann)
        await leave(ann, MOBILE)
        await leave(ann, EMAIL)
        await ann.open()
        await ann.press("Delete my data")
        await ann.press("Yes, delete everything")
    assert held(db) == []
    with db.connect() as connection:
        for table in inspect(db).get_table_names():
            for row in connection.execute(text(f'SELECT * FROM "{table}"')):
                line = " ".join(map(str, row))
                assert "447911123456" not in line and EMAIL not in line, table


async def test_contact_details_are_never_exported(db: Engine) -> None:
    config = web_config()
    async with web_client(db, config) as client:
        ann = WebResident(client)
        await complete_example(ann)
        await leave(ann, MOBILE)
        await leave(ann, EMAIL)
        client.session.cookie_jar.clear()
        await sign_in(client, db, config, OFFICER)
        for path in ("/staff/c/example/export.csv", "/staff/c/example/export.json"):
            exported = await (await client.get(path)).text()
            assert "7911" not in exported and "example.org" not in exported, path
    assert len(held(db)) == 2
    with Session(db) as session:
        consultation = store.require_consultation(session=session, slug="example")
        script = ScriptCache().get(consultation)
        for fmt in ("csv", "json"):
            handle = io.StringIO()
            records = export_records(session=session, consultation=consultation, script=script)
            write_export(handle, fmt, export_columns(script), records)
            exported = handle.getvalue()
            assert "need" in exported  # the answers are there...
            assert "7911" not in exported and "example.org" not in exported  # ...the details not


async def test_retention_drops_contact_details_with_the_identity(db: Engine) -> None:
    async with web_client(db) as client:
        ann = WebResident(client)
        await complete_example(ann)
        await leave(ann, MOBILE)
    with Session(db) as session, session.begin():
        store.close_round(
            session=session,
            consultation=store.require_consultation(session=session, slug="example"),
        )
        for round_ in session.exec(select(Round)):
            round_.closed_at = utcnow() - timedelta(days=200)
            session.add(round_)
    with Session(db) as session, session.begin():
        assert retention.drop_identities(session=session, closed_before=utcnow()) == 1
    assert held(db) == []
