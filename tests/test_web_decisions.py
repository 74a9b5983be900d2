"""Decisions from the dashboard: an officer writes one (with its Welsh), sees exactly the
preview the command line shows, and only "Send to N residents" records and sends it."""

from __future__ import annotations

import json

from sqlalchemy import Engine
from sqlmodel import Session, select

from bot.actions.decisions import preview
from conversations.staff import theme_edits, themes
from conversations.storage.models import AuditEntry, Broadcast, BroadcastRecipient, Decision
from tests.web_helpers import FACILITATOR, OFFICER, parse, sign_in, web_client, web_config
from tests.web_seed import seed_themes

TEXT = "The 7pm bus will run until 11pm from January."
WELSH = "Bydd y bws 7pm yn rhedeg tan 11pm o fis Ionawr."


async def test_an_officer_previews_confirms_and_tracks_a_decision(db: Engine) -> None:
    config = web_config()
    async with web_client(db, config) as client:
        csrf = await sign_in(client, db, config, FACILITATOR)
        assert (await client.get("/staff/c/example/decisions")).status == 403
        attempt = {"csrf": csrf, "theme": "1", "text": TEXT, "confirm": "yes"}
        assert (await client.post("/staff/c/example/decisions", data=attempt)).status == 403
        client.session.cookie_jar.clear()
        csrf = await sign_in(client, db, config, OFFICER)
        empty = await (await client.get("/staff/c/example/decisions")).text()
        assert "No theme can have a decision yet" in empty

        run = seed_themes(db)
        with Session(db) as session, session.begin():
            theme_id = themes.themes_of_run(session=session, run_id=run.run.id or 0)[0].theme_id
            theme_edits.confirm(session=session, slug="example", theme_id=theme_id,
                                actor="test")  # fmt: skip
        theme = str(theme_id)
        form = {"csrf": csrf, "theme": theme, "text": TEXT, "text_cy": WELSH}
        for bad, status, why in [
            ({"theme": ""}, 400, "Choose the theme"),
            ({"text": "ok"}, 409, "in 10 to 1500 characters"),
            ({"text_cy": "byr"}, 409, "(Welsh) in 10 to 1500 characters"),
        ]:
            refused = await client.post("/staff/c/example/decisions", data={**form, **bad})
            assert refused.status == status and why in await refused.text(), bad

        shown = await client.post("/staff/c/example/decisions", data=form)
        page = await shown.text()
        expected = preview(db, "example", theme_id, config.whatsapp)  # the CLI's
        assert expected.reachable > 0
        assert f"{expected.raised} residents raised this theme" in page
        assert f"Send to {expected.reachable} residents" in page
        assert f"Telegram: {expected.channels['telegram']}" in page
        assert "You said, we did" in page and "Dywedoch chi, fe wnaethon ni" in page
        assert WELSH in page
        with Session(db) as session:
            assert session.exec(select(Decision)).all() == []  # the preview records nothing
            assert session.exec(select(Broadcast)).all() == []

        # "Change it" goes back to the form with the words kept; nothing is recorded.
        confirm_form, (name, value, _) = parse(page).form_with("Change it")
        editing = await client.post("/staff/c/example/decisions",
                                    data={**confirm_form.fields, name: value})  # fmt: skip
        assert "Preview who will hear it" in await editing.text()
        send_form, (name, value, _) = parse(page).form_with("Send to")
        assert send_form.fields["confirm"] == "yes" and send_form.fields["text_cy"] == WELSH
        sent = await client.post("/staff/c/example/decisions",
                                 data={**send_form.fields, name: value})  # fmt: skip
        listing = await sent.text()
        assert sent.status == 200 and "The decision is recorded" in listing
        # A second press (a double click, the page sent again) tells no one twice.
        twice = await client.post("/staff/c/example/decisions",
                                  data={**send_form.fields, name: value})  # fmt: skip
        assert twice.status == 409 and "is already recorded" in await twice.text()
        assert f"It is being sent to {expected.reachable} residents" in listing
        assert f'by <span dir="auto">staff member {OFFICER}</span>' in listing

        with Session(db) as session:
            decision = session.exec(select(Decision)).one()
            assert (decision.actor, decision.text) == (f"staff:{OFFICER}", TEXT)
            broadcast = session.get(Broadcast, decision.broadcast_id)
            assert broadcast is not None and broadcast.status == "queued"
            assert WELSH in json.loads(broadcast.translations or "{}")["cy"]
            recipients = session.exec(
                select(BroadcastRecipient).where(BroadcastRecipient.broadcast_id == broadcast.id)
            ).all()
            assert len(recipients) == expected.reachable == decision.residents_told
        status_path = f"/staff/c/example/decisions/{decision.id}/status"
        bad = await client.post(status_path, data={"csrf": csrf, "status": "finished"})
        assert bad.status == 409 and "is not a decision status" in await bad.text()
        moved = {"csrf": csrf, "status": "under_way", "note": "Funding agreed for 2027"}
        done = await client.post(status_path, data=moved)
        assert done.status == 200 and "The status is saved" in await done.text()
    with Session(db) as session:
        decision = session.exec(select(Decision)).one()
        assert (decision.status, decision.status_note) == ("under_way", "Funding agreed for 2027")
        audit = session.exec(select(AuditEntry).where(AuditEntry.actor == f"staff:{OFFICER}")).all()
        actions = [(a.action, a.detail) for a in audit]
        assert [a for a, _ in actions] == ["decision.record", "decision.status"]
        assert "translated: cy" in actions[0][1]
