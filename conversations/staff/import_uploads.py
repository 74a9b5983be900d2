"""A file uploaded on the dashboard to import, kept between its preview and the import.

Any worker may serve the next step, so the file is kept in the database, with the
mapping chosen on its preview; it goes when imported or dropped, and a day after it
was uploaded whatever happened (every upload clears the stale ones first).
"""

from __future__ import annotations

import json
from datetime import timedelta

from sqlmodel import Session, col, delete

from conversations.storage.models import ImportUpload, utcnow
from conversations.storage.store import StoreError

KEPT_FOR = timedelta(days=1)


def save_upload(*, session: Session, consultation_id: int, file_name: str, content: bytes,
                source: str, actor: str) -> ImportUpload:  # fmt: skip
    session.exec(delete(ImportUpload).where(col(ImportUpload.created_at) < utcnow() - KEPT_FOR))
    upload = ImportUpload(consultation_id=consultation_id, file_name=file_name[:200],
                          content=content, source=source[:40], uploaded_by=actor)  # fmt: skip
    session.add(upload)
    session.flush()
    return upload


def require_upload(*, session: Session, consultation_id: int, upload_id: int) -> ImportUpload:
    """The consultation's upload, if it is still kept."""
    upload = session.get(ImportUpload, upload_id)
    if (
        upload is None
        or upload.consultation_id != consultation_id
        or upload.created_at < utcnow() - KEPT_FOR
    ):
        raise StoreError("that file is no longer kept: upload it again")
    return upload


def mapping_of(upload: ImportUpload) -> dict[str, str]:
    found = json.loads(upload.mapping_json or "{}")
    return {str(k): str(v) for k, v in found.items()} if isinstance(found, dict) else {}


def choose(*, session: Session, upload: ImportUpload, source: str,
           mapping: dict[str, str]) -> None:  # fmt: skip
    """Keep the source and mapping chosen on the preview, for the next check and the import."""
    upload.source = source[:40]
    upload.mapping_json = json.dumps(mapping)
    session.add(upload)


def drop_upload(*, session: Session, upload_id: int) -> bool:
    """Drop a kept file; False if it was gone already (imported or dropped meanwhile)."""
    gone = session.exec(delete(ImportUpload).where(col(ImportUpload.id) == upload_id))
    return bool(gone.rowcount)
