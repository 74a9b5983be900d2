"""Answers not themed for their language: how many in each language, and which.

A theme run codes and discovers only answers in the languages its way of theming
reads (bot.actions.theme_runs, analysis.themes.languages); the others stay "not
yet themed". The themes page, the digest and the evidence pack's limits say so
plainly, in the words of `Unread.sentences`, and the themes page links to them
(/staff/c/<slug>/themes/unthemed/answers?language=pl).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from sqlalchemy import Engine
from sqlmodel import Session

from analysis.themes.languages import NAMES, detect, reads, reads_phrase
from bot.actions import answer_vectors
from conversations.staff.coded_answers import not_yet_themed
from conversations.storage import store


@dataclass(frozen=True)
class Unread:
    """Answers not yet themed because of their language, by language (ids by id)."""

    reads: str  # the languages themes are found in: "English", "English, Polish and Urdu"
    answers: dict[str, tuple[int, ...]] = field(default_factory=dict)

    def count(self, language: str) -> int:
        return len(self.answers.get(language, ()))

    @staticmethod
    def name(language: str) -> str:
        """ "Polish" for "pl"."""
        return NAMES.get(language, language)

    def sentences(self) -> list[tuple[str, str]]:
        """(language, sentence) for each language with answers not themed, most first."""
        found = sorted(self.answers.items(), key=lambda item: (-len(item[1]), item[0]))
        return [(language, unread_sentence(len(ids), language, self.reads))
                for language, ids in found]  # fmt: skip


def unread_sentence(count: int, language: str, reads_what: str) -> str:
    """ "3 answers in Polish were not themed: themes are found in English only." """
    answers = "1 answer" if count == 1 else f"{count} answers"
    was = "was" if count == 1 else "were"
    return (
        f"{answers} in {NAMES.get(language, language)} {was} not themed: "
        f"themes are found in {reads_what} only."
    )


def reading_model() -> str | None:
    """The embedding model runs read answers with here (None: words only)."""
    encoder = answer_vectors.installed_encoder()
    return None if encoder is None else encoder.name


def unread_answers(db: Engine, slug: str, model: str | Literal["auto"] | None = "auto") -> Unread:
    """The latest run's answers not yet themed whose language `model` does not read
    ("auto": the model runs use here; None: words only)."""
    with Session(db) as session:
        consultation = store.require_consultation(session=session, slug=slug)
        assert consultation.id is not None
        return unread_in(session, consultation.id, model)


def unread_in(session: Session, consultation_id: int,
              model: str | Literal["auto"] | None = "auto") -> Unread:  # fmt: skip
    """`unread_answers` in an open session."""
    model = reading_model() if model == "auto" else model
    known = reads(model)
    waiting = not_yet_themed(session=session, consultation_id=consultation_id)
    found: dict[str, list[int]] = {}
    for answer_id, text in waiting:
        language = detect(text)
        if language not in known:
            found.setdefault(language, []).append(answer_id)
    return Unread(reads_phrase(model), {k: tuple(v) for k, v in found.items()})
