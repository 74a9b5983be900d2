"""The dashboard's codebook: reviewed and proposed themes, accepting one, reading a theme's
answers page by page, and coding an answer by hand (audited, kept on later runs)."""

from __future__ import annotations

from sqlalchemy import Engine
from sqlmodel import Session, select

from bot.actions.theme_runs import analyse_consultation
from conversations.staff import codebook, themes
from conversations.staff.coded_answers import coded_answers
from conversations.storage.models import AnswerCode, AuditEntry
from tests.web_helpers import OFFICER, SAFEGUARDING, sign_in, web_client, web_config
from tests.web_seed import seed_themes


def theme_ids(db: Engine) -> list[int]:
    with Session(db) as session:
        run = themes.latest_run(session=session, consultation_id=1)
        assert run is not None and run.id is not None
        return [t.theme_id for t in themes.themes_of_run(session=session, run_id=run.id)
                if themes.is_current(t)]  # fmt: skip


async def test_an_officer_accepts_a_theme_reads_its_answers_and_moves_one(db: Engine) -> None:
    config = web_config()
    async with web_client(db, config) as client:
        seed_themes(db)
        first, second, *_ = theme_ids(db)
        csrf = await sign_in(client, db, config, OFFICER)
        page = await (await client.get("/staff/c/example/themes")).text()
        assert "Proposed: may change" in page and "Reviewed</strong>" not in page
        response = await client.post(f"/staff/c/example/themes/{first}/accept",
                                     data={"csrf": csrf}, allow_redirects=False)  # fmt: skip
        assert response.status == 303
        with Session(db) as session:
            assert first in codebook.reviewed(session=session, consultation_id=1)
        page = await (await client.get("/staff/c/example/themes")).text()
        assert "Reviewed</strong>" in page

        answers = await client.get(f"/staff/c/example/themes/{second}/answers?q=&page=1")
        assert answers.status == 200
        html = await answers.text()
        assert "proposed</strong>" in html
        with Session(db) as session:
            coded, _ = coded_answers(session=session, consultation_id=1)
        moved = min(a for a, given in coded.items() if given[0] == second)
        assert f'id="answer-{moved}"' in html
        back = f"/staff/c/example/themes/{second}/answers?page=1"
        response = await client.post(
            f"/staff/c/example/answers/{moved}/code",
            data={"csrf": csrf, "action": "move", "theme": str(first), "back": back},
            allow_redirects=False,
        )
        assert response.status == 303
        assert response.headers["Location"].startswith(back + "&done=coded")
        # Forged forms, strange ids and other sites' return addresses change nothing.
        for data in (
            {"action": "move", "theme": str(second)},
            {"csrf": "forged", "action": "move", "theme": str(second)},
        ):
            forged = await client.post(f"/staff/c/example/answers/{moved}/code", data=data)
            assert forged.status == 403
        for path in ("/staff/c/example/themes/²/answers", "/staff/c/example/themes/99999999999/answers",
                     "/staff/c/example/themes/4242/answers"):  # fmt: skip
            assert (await client.get(path)).status == 404, path
        odd = await client.post(
            f"/staff/c/example/answers/{moved}/code",
            data={"csrf": csrf, "action": "move", "theme": "٣", "back": "https://evil.example/"},
            allow_redirects=False,
        )
        assert odd.status == 400
        elsewhere = await client.post(
            f"/staff/c/example/answers/{moved}/code",
            data={"csrf": csrf, "action": "add", "theme": str(second), "back": "//evil.example/"},
            allow_redirects=False,
        )
        assert elsewhere.headers["Location"].startswith("/staff/c/example/themes?done=coded")

    with Session(db) as session:
        codes = session.exec(select(AnswerCode).where(AnswerCode.answer_id == moved)).all()
        assert [(c.rank, c.theme_id) for c in sorted(codes, key=lambda c: c.rank)] == [
            (0, first), (1, second)
        ]  # fmt: skip
        audit = session.exec(select(AuditEntry).where(AuditEntry.action == "theme.code")).all()
        assert [a.actor for a in audit] == [f"staff:{OFFICER}"] * 2
    # The code holds on the next run, whatever it finds.
    analyse_consultation(db, "example", actor="staff:11", n_themes=2)
    with Session(db) as session:
        coded, _ = coded_answers(session=session, consultation_id=1)
    assert coded[moved] == [first, second]


async def test_answers_pages_are_for_officers_and_facilitators(db: Engine) -> None:
    config = web_config()
    async with web_client(db, config) as client:
        seed_themes(db)
        first = theme_ids(db)[0]
        path = f"/staff/c/example/themes/{first}/answers"
        assert (await client.get(path, allow_redirects=False)).status == 401
        csrf = await sign_in(client, db, config, SAFEGUARDING)
        assert (await client.get(path)).status == 403
        response = await client.post("/staff/c/example/answers/1/code",
                                     data={"csrf": csrf, "action": "not-a-need"})  # fmt: skip
        assert response.status == 403
