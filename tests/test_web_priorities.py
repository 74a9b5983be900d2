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
        assert (await client.get("/staff/c/nowhere/priorities")).status == 404
