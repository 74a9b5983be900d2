"""Staff commands about themes: analyse the answers, list the themes, and review them
into the codebook (accept, rename, merge, split)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from functools import partial

from sqlmodel import Session

from bot.actions.analysis_runs import AnalysisError, split_stored_theme
from bot.actions.theme_runs import analyse_consultation
from bot.telegram.staff_desk import StaffDesk, UsageError, actor, one
from conversations.flow.numbers import record_id, whole_number
from conversations.staff import codebook, theme_edits, themes
from conversations.storage import store


class ThemeCommands(StaffDesk):
    """/analyse, /themes, /accept, /rename, /merge and /split."""

    async def do_analyse(self, args: list[str], user_id: int) -> str:
        n_themes = whole_number(args[1], minimum=1, maximum=500) if len(args) == 2 else None
        if len(args) not in (1, 2) or (len(args) == 2 and n_themes is None):
            raise UsageError("")
        try:
            # Not asyncio.to_thread: with SQLite that is the one database thread,
            # and residents must not wait behind a minutes-long analysis.
            result = await asyncio.get_running_loop().run_in_executor(
                self.analysis_pool,
                partial(
                    analyse_consultation, self.db, args[0], actor=actor(user_id), n_themes=n_themes
                ),
            )
        except AnalysisError as error:
            raise store.StoreError(str(error)) from error
        return (
            f"Analysis run {result.run.id}: {result.run.answers} answers.\n\n"
            + await self.do_themes(args[:1], user_id)
        )

    async def do_themes(self, args: list[str], user_id: int) -> str:
        slug = one(args)

        def listing() -> str:
            with Session(self.db) as session:
                consultation = store.require_consultation(session=session, slug=slug)
                assert consultation.id is not None
                run = themes.latest_run(session=session, consultation_id=consultation.id)
                if run is None or run.id is None:
                    return f"'{slug}' has not been analysed yet: /analyse {slug}"
                rows = [t for t in themes.themes_of_run(session=session, run_id=run.id)
                        if themes.is_current(t)]  # fmt: skip
                book = codebook.reviewed(session=session, consultation_id=consultation.id)
                lines = [
                    f"Themes of {slug} (run {run.id}, {run.created_at:%d %b %Y}): id, size, change, "
                    "name. ✓ reviewed (in the codebook); the others are proposed and may change: "
                    "/accept, /rename or /merge them."
                ]
                lines += [
                    f"{t.theme_id}. {'✓ ' if t.theme_id in book else ''}{t.size} ({t.status}) {t.label}"
                    for t in rows
                ]
                if run.unthemed:
                    lines.append(f"Not yet themed: {run.unthemed} answers.")
                return "\n".join(lines)

        return await asyncio.to_thread(listing)

    async def do_accept(self, args: list[str], user_id: int) -> str:
        theme_id = record_id(args[1]) if len(args) == 2 else None
        if theme_id is None:
            raise UsageError("")
        slug = args[0]
        await asyncio.to_thread(self._edit, lambda session: theme_edits.confirm(
            session=session, slug=slug, theme_id=theme_id, actor=actor(user_id)))  # fmt: skip
        return f"Theme {theme_id} is in the codebook: every re-run codes answers to it, under its name."

    async def do_rename(self, args: list[str], user_id: int) -> str:
        theme_id = record_id(args[1]) if len(args) >= 3 else None
        if theme_id is None:
            raise UsageError("")
        slug, label = args[0], " ".join(args[2:])
        await asyncio.to_thread(self._edit, lambda session: theme_edits.rename(
            session=session, slug=slug, theme_id=theme_id, label=label, actor=actor(user_id)))  # fmt: skip
        return f"Theme {theme_id} is now called “{label}”, and keeps the name on every re-run."

    async def do_merge(self, args: list[str], user_id: int) -> str:
        theme_id, into_id = (record_id(a) for a in args[1:3]) if len(args) == 3 else (None, None)
        if theme_id is None or into_id is None:
            raise UsageError("")
        slug = args[0]
        await asyncio.to_thread(self._edit, lambda session: theme_edits.merge(
            session=session, slug=slug, theme_id=theme_id, into_id=into_id, actor=actor(user_id)))  # fmt: skip
        return (
            f"Theme {theme_id} is merged into theme {into_id}: re-runs code both themes' "
            f"answers to theme {into_id}."
        )

    async def do_split(self, args: list[str], user_id: int) -> str:
        theme_id = record_id(args[1]) if len(args) == 2 else None
        if theme_id is None:
            raise UsageError("")
        slug = args[0]
        # Vectorising and clustering the theme's answers: the analysis thread, as /analyse.
        split = await asyncio.get_running_loop().run_in_executor(
            self.analysis_pool,
            partial(split_stored_theme, self.db, slug, theme_id, actor=actor(user_id)),
        )
        first, second = split.parts
        return (
            f"{split.summary()}\nBoth parts are in the codebook. Rename them if the names do not "
            f"fit: /rename {slug} {first[0]} NEW NAME, /rename {slug} {second[0]} NEW NAME"
        )

    def _edit(self, change: Callable[[Session], None]) -> None:
        with Session(self.db) as session, session.begin():
            change(session)
