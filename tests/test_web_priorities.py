"""The dashboard's priorities page: officers and facilitators only; figures as scored."""

from __future__ import annotations

from sqlalchemy import Engine

from tests.prioritise_helpers import Voter, example_with_themes
from tests.web_helpers import OFFICER, SAFEGUARDING, sign_in, web_client, web_config


async def test_priorities_page(db: Engine) -> None:
    config = web_config()
    async with web_client(db, config) as client:
        assert (
            await client.get("/staff/c/example/priorities", allow_redirects=False)
        ).status == 401
        service = example_with_themes(db, ["Theme 1", "Theme 2", "Theme 3"])
        for n in range(6):
            Voter(service, f"v{n}").weigh(
                lambda top, bottom: f"t{min(top, bottom)}", lambda theme: "_agree"
            )
        await sign_in(client, db, config, SAFEGUARDING)
        assert (
            await client.get("/staff/c/example/priorities", allow_redirects=False)
        ).status == 403
        await sign_in(client, db, config, OFFICER)
        response = await client.get("/staff/c/example/priorities")
        html = await response.text()
        assert response.status == 200
        assert "6 residents voted" in html
        assert html.index("Theme 1") < html.index("Theme 2")  # ranked as voted
        assert "Too close to call" not in html and "<td>1st</td>" in html
        assert (await client.get("/staff/c/nowhere/priorities")).status == 404


async def test_a_split_vote_is_too_close_to_call_on_both_pages(db: Engine) -> None:
    """Half the residents put the themes one way, half the other: no order to report."""
    config = web_config()
    async with web_client(db, config) as client:
        service = example_with_themes(db, ["Theme 1", "Theme 2", "Theme 3"])
        for n in range(8):
            prefer = min if n % 2 else max
            Voter(service, f"v{n}").weigh(
                lambda top, bottom, p=prefer: f"t{p(top, bottom)}", lambda theme: "_pass"
            )
        await sign_in(client, db, config, OFFICER)
        staff_page = await (await client.get("/staff/c/example/priorities")).text()
        public = await (await client.get("/c/example/results")).text()
    assert "Too close to call:</strong> the 8 residents" in staff_page
    assert staff_page.count("<td>joint 1st</td>") == 3
    assert "Too close to call. No point is clearly ahead" in public.replace("&#39;", "'")
