"""Loading consultation scripts into the store, shared by the CLI and start-up."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine
from sqlmodel import Session

import conversations.flow
from conversations.flow.script import Script
from conversations.flow.script_toml import load_script
from conversations.storage import store
from conversations.storage.models import Consultation

EXAMPLE_SCRIPT = Path(conversations.flow.__file__).resolve().parent / "scripts" / "example.toml"


def script_path(name: str) -> Path:
    """A script's path; the name "example" means the built-in example script."""
    return EXAMPLE_SCRIPT if name == "example" else Path(name)


def load_consultation(db: Engine, path: Path, *, actor: str, open_first_round: bool = False
                      ) -> tuple[Script, Consultation]:  # fmt: skip
    """Validate a script and create or update its consultation (audited)."""
    script = load_script(path)
    script_toml = path.read_text(encoding="utf-8")
    with Session(db, expire_on_commit=False) as session, session.begin():
        before = store.consultation_by_slug(session=session, slug=script.slug)
        changed = before is None or before.script_hash != store.script_hash(script_toml)
        consultation = store.save_consultation(
            session=session, script=script, script_toml=script_toml
        )
        if changed:
            store.audit(
                session=session,
                actor=actor,
                action="consultation.load",
                target=script.slug,
                detail=f"from {path.name}",
            )
        assert consultation.id is not None
        if (
            open_first_round
            and store.current_round(session=session, consultation_id=consultation.id) is None
        ):
            store.open_round(session=session, consultation=consultation)
            store.audit(
                session=session, actor=actor, action="round.open", target=f"{script.slug}#1"
            )
    return script, consultation
