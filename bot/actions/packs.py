"""Evidence packs, made on request: gathered, rendered in the format asked for, audited.

A pack quotes residents (scrubbed), so making one is a staff action: every pack
made, from the command line or the dashboard, is in the audit log with who made
it, for which theme and in which format. Nothing is stored: a pack is made from
what the database holds now, so a forgotten resident is in none made since.
"""

from __future__ import annotations

from dataclasses import dataclass
from zoneinfo import ZoneInfo

from sqlalchemy import Engine
from sqlmodel import Session

from analysis.evidence import EvidencePack, render_csv, render_html, render_pdf, render_xlsx
from bot.actions.pack_figures import gather
from conversations.screening.cleaning import spreadsheet_cell
from conversations.storage import store
from conversations.storage.scripts import ScriptCache

MEDIA_TYPES = {
    "html": "text/html",
    "pdf": "application/pdf",
    "csv": "text/csv",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
FORMATS = tuple(MEDIA_TYPES)


class PackError(ValueError):
    """A pack that cannot be made as asked; the message says why."""


@dataclass(frozen=True)
class PackFile:
    name: str
    media_type: str
    content: bytes


def evidence(db: Engine, slug: str, *, theme_id: int | None, zone: ZoneInfo) -> EvidencePack:
    """The figures of one reviewed theme's pack, or of the whole consultation's."""
    with Session(db) as session:
        consultation = store.require_consultation(session=session, slug=slug)
        return gather(
            session,
            consultation=consultation,
            script=ScriptCache().get(consultation),
            zone=zone,
            theme_id=theme_id,
        )


def rendered(pack: EvidencePack, fmt: str) -> bytes:
    if fmt == "html":
        return render_html(pack).encode("utf-8")
    if fmt == "pdf":
        return render_pdf(pack)
    if fmt == "csv":
        return render_csv(pack, cell=spreadsheet_cell).encode("utf-8")
    if fmt == "xlsx":
        return render_xlsx(pack, cell=spreadsheet_cell)
    raise PackError(f"an evidence pack is {', '.join(FORMATS)}, not {fmt!r}")


def make_pack(
    db: Engine, slug: str, *, theme_id: int | None, fmt: str, actor: str, zone: ZoneInfo
) -> PackFile:
    """A pack in `fmt` (html, pdf, csv or xlsx), its making audited with `actor`."""
    if fmt not in MEDIA_TYPES:
        raise PackError(f"an evidence pack is {', '.join(FORMATS)}, not {fmt!r}")
    pack = evidence(db, slug, theme_id=theme_id, zone=zone)
    content = rendered(pack, fmt)
    with Session(db) as session, session.begin():
        store.audit(
            session=session,
            actor=actor,
            action="pack.make",
            target=f"{slug} {'whole consultation' if theme_id is None else f'theme {theme_id}'}",
            detail=f"{fmt}, {sum(len(t.quotes) for t in pack.themes)} quotes",
        )
    return PackFile(f"{pack.file_stem()}.{fmt}", MEDIA_TYPES[fmt], content)
