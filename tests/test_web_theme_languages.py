"""Answers in a language the run does not read: kept out of every theme (no theme of their
own), and said plainly on the themes page, the digest and the evidence pack's limits,
with a page to read them and code them by hand."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import Engine
from sqlmodel import Session, col, select

from bot.actions.digests import analysis_for
from bot.actions.pack_limits import pack_limits
from bot.actions.theme_languages import unread_answers
from bot.actions.theme_runs import analyse_consultation
from conversations.storage.models import Answer, AnswerTheme, utcnow
from tests.web_helpers import OFFICER, sign_in, web_client, web_config
from tests.web_seed import NORTH, people, seed_answers

POLISH = [
    "Autobus rano zawsze się spóźnia i nie mam jak dojechać do pracy",
    "W mieszkaniu jest wilgoć i pleśń na ścianach, właściciel nic nie robi",
    "Nie ma autobusu w niedzielę, muszę iść pieszo",
]
URDU = ["صبح کی بس ہمیشہ دیر سے آتی ہے", "فلیٹ میں نمی ہے اور دیواروں پر پھپھوندی ہے"]
WELSH = ["Mae'r bws olaf yn gadael yn rhy gynnar, dw i'n methu dod adre o'r gwaith"]


def seed(db: Engine) -> dict[str, list[int]]:
    """The example residents, plus some in Polish, Urdu and Welsh; analysed words-only."""
    others = [(NORTH, "35 to 64", text) for text in POLISH + URDU + WELSH]
    seed_answers(db, people() + others)
    analyse_consultation(db, "example", actor="staff:11", n_themes=3)
    with Session(db) as session:
        ids = {text: i for i, text in session.exec(select(Answer.id, Answer.value)) if text}
    return {"pl": [ids[t] for t in POLISH], "ur": [ids[t] for t in URDU],
            "cy": [ids[t] for t in WELSH]}  # fmt: skip


async def test_answers_in_other_languages_are_left_out_and_said_plainly(db: Engine) -> None:
    config = web_config()
    async with web_client(db, config) as client:
        ids = seed(db)
        with Session(db) as session:
            themed = set(session.exec(select(AnswerTheme.answer_id)).all())
            english = session.exec(
                select(Answer.id).where(col(Answer.value) == people()[0][2])
            ).first()
        assert english in themed
        # No answer in another language is in a theme, proposed or reviewed.
        assert not themed & {i for found in ids.values() for i in found}
        unread = unread_answers(db, "example")
        assert unread.answers == {language: tuple(found) for language, found in ids.items()}
        assert unread.reads == "English"

        await sign_in(client, db, config, OFFICER)
        page = await (await client.get("/staff/c/example/themes")).text()
        assert "3 answers in Polish were not themed: themes are found in English only." in page
        assert "2 answers in Urdu were not themed: themes are found in English only." in page
        assert "1 answer in Welsh was not themed: themes are found in English only." in page
        link = "/staff/c/example/themes/unthemed/answers?language=pl"
        assert f'href="{link}">Read the answers in Polish</a>' in page

        polish = await client.get(link)
        assert polish.status == 200
        html = await polish.text()
        assert "Not themed: answers in Polish" in html
        assert "They are kept out of the analysis" in html
        assert all(f'id="answer-{i}"' in html for i in ids["pl"])
        assert not any(f'id="answer-{i}"' in html for i in ids["ur"] + ids["cy"])
        assert "3 answers" in html and 'name="language" value="pl"' in html
        searched = await (await client.get(link + "&q=pleśń")).text()
        assert f'id="answer-{ids["pl"][1]}"' in searched
        assert f'id="answer-{ids["pl"][0]}"' not in searched
        for wrong in ("?language=xx", "?language=", "/../1/answers?language=pl"):
            response = await client.get("/staff/c/example/themes/unthemed/answers" + wrong)
            assert response.status in (200, 400, 404), wrong
        assert (await client.get(link.replace("=pl", "=xx"))).status == 400
        assert (await client.get("/staff/c/example/themes/1/answers?language=pl")).status == 400


async def test_the_digest_and_the_pack_say_which_answers_were_not_themed(db: Engine) -> None:
    async with web_client(db, web_config()):  # loads the example consultation
        seed(db)
    _, note = analysis_for(db, "example", utcnow() + timedelta(minutes=1))
    assert "3 answers in Polish were not themed: themes are found in English only." in note
    assert note.index("not yet themed") < note.index("in Polish")
    sentences = [s for _, s in unread_answers(db, "example").sentences()]
    assert sentences[0].startswith("3 answers in Polish")  # most first
    limits = pack_limits(30, 9, 0, 0, [], [], sentences)
    assert limits[1:4] == tuple(sentences)  # right after the answers not yet themed
