"""The dashboard's themes pages: who may see and edit them, renames, merges, running the analysis."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from typing import Any

import pytest
from aiohttp.test_utils import TestClient
from sqlalchemy import Engine
from sqlmodel import Session, col, select

from bot.actions.analysis_runs import RunResult
from bot.actions.theme_runs import analyse_consultation
from bot.web import theme_run_pages
from conversations.staff import themes
from conversations.storage.models import AnalysisRun, Answer, AuditEntry, RunTheme, ThemeEdit
from tests.web_helpers import (
    FACILITATOR,
    OFFICER,
    SAFEGUARDING,
    sign_in,
    web_client,
    web_config,
)
from tests.web_seed import seed_answers, seed_themes

PAGES = ["/staff/themes", "/staff/c/example/themes"]
ACTIONS = [
    ("/staff/c/example/themes/analyse", {}),
    ("/staff/c/example/themes/1/rename", {"label": "Buses"}),
    ("/staff/c/example/themes/1/merge", {"into": "2"}),
    ("/staff/c/example/themes/1/split", {}),
]
HOSTILE = "<script>alert('label')</script> Late buses"


async def post(client: TestClient, path: str, data: dict[str, str]) -> int:
    return (await client.post(path, data=data, allow_redirects=False)).status


def stored_themes(db: Engine) -> dict[int, RunTheme]:
    with Session(db) as session:
        run = session.exec(select(AnalysisRun).order_by(col(AnalysisRun.id).desc())).first()
        assert run is not None and run.id is not None
        return {t.theme_id: t for t in themes.themes_of_run(session=session, run_id=run.id)}


def nothing_changed(db: Engine) -> None:
    with Session(db) as session:
        assert session.exec(select(ThemeEdit)).all() == []
        assert session.exec(select(AnalysisRun)).all() == []


async def test_themes_refuse_strangers_other_roles_and_forged_forms(db: Engine) -> None:
    config = web_config()
    async with web_client(db, config) as client:
        for path in PAGES:
            assert (await client.get(path, allow_redirects=False)).status == 401, path
        for path, data in ACTIONS:
            assert await post(client, path, data) == 401, path
        # Safeguarding leads read flags, not themes.
        csrf = await sign_in(client, db, config, SAFEGUARDING)
        for path in PAGES:
            assert (await client.get(path, allow_redirects=False)).status == 403, path
        for path, data in ACTIONS:
            assert await post(client, path, {**data, "csrf": csrf}) == 403, path
        client.session.cookie_jar.clear()
        # Officers read and edit, but the analysis is run by facilitators.
        csrf = await sign_in(client, db, config, OFFICER)
        for path in PAGES:
            assert (await client.get(path)).status == 200, path
        assert await post(client, ACTIONS[0][0], {"csrf": csrf}) == 403
        for path, data in ACTIONS[1:]:
            assert await post(client, path, data) == 403, path  # no token
            assert await post(client, path, {**data, "csrf": "forged"}) == 403, path
        client.session.cookie_jar.clear()
        await sign_in(client, db, config, FACILITATOR)
        assert await post(client, ACTIONS[0][0], {"csrf": csrf}) == 403  # the officer's token
    nothing_changed(db)


async def test_an_officer_sees_ranked_themes_renames_and_merges(db: Engine) -> None:
    config = web_config()
    async with web_client(db, config) as client:
        seed_themes(db)
        before = stored_themes(db)
        ranked = sorted(before.values(), key=lambda t: -t.size)
        csrf = await sign_in(client, db, config, OFFICER)
        html = await (await client.get("/staff/c/example/themes")).text()
        # Largest first, each with its status, figures, quotes and who raised it.
        positions = [html.index(f'id="theme-{t.theme_id}"') for t in ranked]
        assert positions == sorted(positions)
        assert html.count("<blockquote") >= 6 and "Who raised it" in html
        assert "North (Hillside, Oakfield): 5" in html and "18 to 34" in html  # damp, youth
        assert 'role="img"' in html and "<rect" in html and ">New</strong>" in html
        assert "Run the analysis" not in html  # officers do not run it

        first, second, third = (t.theme_id for t in ranked)
        rename = f"/staff/c/example/themes/{third}/rename"
        done = await client.post(rename, data={"csrf": csrf, "label": HOSTILE})
        assert done.status == 200 and "has its new name" in await done.text()
        merge = f"/staff/c/example/themes/{second}/merge"
        # A merge cannot be undone: the form asks first, saying to how many answers.
        asked = await client.post(merge, data={"csrf": csrf, "into": str(first)})
        question = await asked.text()
        assert asked.status == 200 and f"Yes, merge theme {second} into theme {first}" in question
        assert f"{before[second].size} answers join" in question and "Keep them apart" in question
        assert stored_themes(db)[second].status != "merged"
        sure = {"csrf": csrf, "into": str(first), "confirm": "yes"}
        assert await post(client, merge, sure) == 303

        after = stored_themes(db)
        assert after[third].label == HOSTILE
        assert after[second].status == "merged" and after[second].size == 0
        assert after[first].size == before[first].size + before[second].size
        with Session(db) as session:
            edits = session.exec(select(ThemeEdit).order_by(col(ThemeEdit.id))).all()
            assert [(e.action, e.theme_id, e.actor) for e in edits] == [
                ("rename", third, f"staff:{OFFICER}"),
                ("merge", second, f"staff:{OFFICER}"),
            ]
            audited = session.exec(select(AuditEntry.action, AuditEntry.actor)).all()
            assert ("theme.rename", f"staff:{OFFICER}") in audited
            assert ("theme.merge", f"staff:{OFFICER}") in audited

        html = await (await client.get("/staff/c/example/themes")).text()
        assert "<script>alert" not in html and "&lt;script&gt;alert(" in html
        assert "Merged, split and gone themes" in html and "Changes by staff" in html
        assert f"merged theme {second}" in html

        # Edits that cannot be made say why and change nothing.
        for path, data, reason in [
            (f"/staff/c/example/themes/{first}/merge", {"into": str(first)}, "into itself"),
            (f"/staff/c/example/themes/{second}/rename", {"label": "Gone"}, "no current theme"),
            (rename, {"label": "x"}, "2 to 200 characters"),
        ]:
            refused = await client.post(path, data={**data, "csrf": csrf})
            assert refused.status == 409 and reason in await refused.text(), path
        bad = await client.post(merge.replace(str(second), str(third)), data={"csrf": csrf})
        assert bad.status == 400
        assert stored_themes(db)[third].label == HOSTILE


async def test_an_officer_splits_a_theme_and_sees_its_two_parts(db: Engine) -> None:
    config = web_config()
    async with web_client(db, config) as client:
        seed_answers(db)
        analyse_consultation(db, "example", actor="staff:11", n_themes=2)
        before = stored_themes(db)
        largest = max(before.values(), key=lambda t: t.size)
        csrf = await sign_in(client, db, config, OFFICER)
        html = await (await client.get("/staff/c/example/themes")).text()
        split_path = f"/staff/c/example/themes/{largest.theme_id}/split"
        assert f'action="{split_path}"' in html and f"Split theme {largest.theme_id} in two" in html
        assert await post(client, split_path, {}) == 403  # no token
        assert await post(client, split_path, {"csrf": "forged"}) == 403
        assert stored_themes(db) == before

        done = await client.post(split_path, data={"csrf": csrf}, allow_redirects=False)
        assert done.status == 303
        new_ids = sorted(set(stored_themes(db)) - set(before))
        assert len(new_ids) == 2
        assert done.headers["Location"].endswith(f"?done=split#theme-{new_ids[0]}")
        after = stored_themes(db)
        assert after[largest.theme_id].status == "split"
        assert sum(after[i].size for i in new_ids) == largest.size
        html = await (await client.get(done.headers["Location"])).text()
        assert "The theme is split in two" in html
        for part in new_ids:  # each part is a theme of its own on the page, with its quotes
            assert f'id="theme-{part}"' in html and after[part].label in html
        assert f'id="theme-{largest.theme_id}"' not in html
        assert "Merged, split and gone themes" in html
        first, second = (f'“<span dir="auto">{after[i].label}</span>”' for i in new_ids)
        assert f"split into {first} and {second}" in html
        assert f"split theme {largest.theme_id} (“{largest.label}”) into theme {new_ids[0]}" in html
        with Session(db) as session:
            audited = session.exec(select(AuditEntry.action, AuditEntry.actor)).all()
            assert ("theme.split", f"staff:{OFFICER}") in audited

        # A theme that is already split cannot be split again; the page says why.
        refused = await client.post(split_path, data={"csrf": csrf})
        assert refused.status == 409 and "no current theme" in await refused.text()


async def test_quotes_and_keywords_are_shown_as_text(db: Engine) -> None:
    config = web_config()
    async with web_client(db, config) as client:
        seed_themes(db)
        hostile = "Damp flat <img src=x onerror=alert(1)> & mould"
        seed_answers(db, [("North", "35 to 64", hostile)], first_id=80000)
        largest = max(stored_themes(db).values(), key=lambda t: t.size)
        with Session(db) as session, session.begin():
            answer = session.exec(select(Answer).where(col(Answer.value).contains("<img"))).one()
            theme = session.get(RunTheme, largest.id)
            assert theme is not None
            theme.quote_answers_json = json.dumps([answer.id])
            theme.keywords_json = json.dumps(["<b>damp</b>"])
            session.add(theme)
        await sign_in(client, db, config, FACILITATOR)
        html = await (await client.get("/staff/c/example/themes")).text()
        assert "<img src=x" not in html and "<b>damp" not in html
        assert "Damp flat &lt;img src=x onerror=alert(1)&gt; &amp; mould" in html
        assert "&lt;b&gt;damp&lt;/b&gt;" in html


async def test_a_facilitator_runs_the_analysis_in_its_own_thread(
    db: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    threads: list[str] = []

    def analyse(*args: Any, **kwargs: Any) -> RunResult:
        threads.append(threading.current_thread().name)
        return analyse_consultation(*args, **kwargs)

    monkeypatch.setattr(theme_run_pages, "analyse_consultation", analyse)
    config = web_config()
    async with web_client(db, config) as client:
        csrf = await sign_in(client, db, config, FACILITATOR)
        path = "/staff/c/example/themes/analyse"
        too_few = await client.post(path, data={"csrf": csrf})
        assert too_few.status == 409
        assert "has 0 answers to analyse; themes need at least 2" in await too_few.text()
        assert (await client.post(path, data={"csrf": csrf, "themes": "many"})).status == 400
        seed_answers(db)
        ran = await client.post(path, data={"csrf": csrf, "themes": "3"})
        assert ran.status == 200 and ran.url.query.get("done") == "analysed"
        assert "The analysis has run" in await ran.text()
        assert len([t for t in stored_themes(db).values() if t.status == "new"]) == 3
        # A second run: each theme now has a trend.
        again = await client.post(path, data={"csrf": csrf, "themes": "3"})
        html = await again.text()
        assert "Answers over the last 2 runs" in html and "<polyline" in html
        with Session(db) as session:
            runs = session.exec(select(AnalysisRun)).all()
            assert [r.created_by for r in runs] == [f"staff:{FACILITATOR}"] * 2
            actors = session.exec(
                select(AuditEntry.actor).where(AuditEntry.action == "analysis.run")
            ).all()
            assert actors == [f"staff:{FACILITATOR}"] * 2
    assert threads and all(name.startswith("analysis") for name in threads)


async def test_a_long_analysis_goes_on_after_the_page_stops_waiting(
    db: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    finished = threading.Event()

    def slow(*args: Any, **kwargs: Any) -> RunResult:
        time.sleep(0.5)
        result = analyse_consultation(*args, **kwargs)
        finished.set()
        return result

    monkeypatch.setattr(theme_run_pages, "analyse_consultation", slow)
    monkeypatch.setattr(theme_run_pages, "WAIT_FOR_RUN", 0.05)
    config = web_config()
    async with web_client(db, config) as client:
        seed_answers(db)
        csrf = await sign_in(client, db, config, FACILITATOR)
        waiting = await client.post("/staff/c/example/themes/analyse", data={"csrf": csrf})
        assert "still running" in await waiting.text()
        assert await asyncio.to_thread(finished.wait, 30)
    with Session(db) as session:
        assert len(session.exec(select(AnalysisRun)).all()) == 1


async def test_a_split_behind_a_long_analysis_goes_on_after_the_page_stops_waiting(
    db: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    finished = threading.Event()
    real = theme_run_pages.split_stored_theme

    def slow(*args: Any, **kwargs: Any) -> Any:
        time.sleep(0.5)
        result = real(*args, **kwargs)
        finished.set()
        return result

    monkeypatch.setattr(theme_run_pages, "split_stored_theme", slow)
    monkeypatch.setattr(theme_run_pages, "WAIT_FOR_RUN", 0.05)
    config = web_config()
    async with web_client(db, config) as client:
        seed_themes(db)
        largest = max(stored_themes(db).values(), key=lambda t: t.size)
        csrf = await sign_in(client, db, config, OFFICER)
        path = f"/staff/c/example/themes/{largest.theme_id}/split"
        waiting = await client.post(path, data={"csrf": csrf})
        assert waiting.status == 200 and "still being worked out" in await waiting.text()
        assert await asyncio.to_thread(finished.wait, 30)
    assert stored_themes(db)[largest.theme_id].status == "split"
