"""Officers' digests by email through GOV.UK Notify: each address at most once.

The email's body is figures only (counts, themes, coverage gaps); residents' words
travel only in the attached files (the table, and the evidence pack's PDF when the
digest carries one), which Notify keeps behind a check of the officer's address
(confirm_email_before_download), and on the dashboard behind sign-in. Notify takes
PDF, CSV, TXT, DOCX, XLSX, ODT, RTF and JSON files up to 2 MB, never HTML, so the
report itself is a link to the dashboard, as is a file over 2 MB (the body says so).

Once only, as the broadcasts' Notify sender does: a row is claimed (committed as
"sending") before Notify is called and recorded after with Notify's id. A 429 means
Notify did not take the message: the row waits for the next pass. A 400 or 403 is a
refusal: failed, with the reason logged. Anything else (a timeout, a 5xx, the
process stopping) leaves the answer unknown, and the row is not sent again blindly:
the next pass asks Notify for a message with the row's reference and records it as
sent if Notify has one, and sends it again only if Notify has none.
"""

from __future__ import annotations

import asyncio
import io
import logging
import math
from dataclasses import dataclass
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

from notifications_python_client.errors import HTTPError
from notifications_python_client.notifications import NotificationsAPIClient
from notifications_python_client.utils import prepare_upload
from sqlalchemy import Engine
from sqlmodel import Session

from bot.actions.digests import Documents, documents_to_send
from conversations.staff import digest_emails, digest_records
from conversations.staff.digest_emails import EmailClaim
from conversations.storage.models import utcnow

log = logging.getLogger(__name__)

# The digest's files Notify will carry, each under a placeholder of its own:
# placeholder -> the part of the digest (bot/actions/digests.py PARTS). One more
# file is one more entry here, and one more placeholder in the template.
ATTACHMENTS = {"link_to_file": "table", "pack_file": "pack"}
NOTIFY_FILE_TYPES = frozenset({"pdf", "csv", "txt", "docx", "xlsx", "odt", "rtf", "json"})
RETENTION = "4 weeks"  # the file quotes residents: kept at Notify no longer than needed


class DigestEmails:
    """Sends stored digests to officers' email addresses through one Notify template."""

    def __init__(self, db: Engine, *, api_key: str, template_id: str, base_url: str,
                 public_url: str, zone: ZoneInfo | None = None, timeout: float = 20,
                 settle_after: timedelta = timedelta(minutes=2)) -> None:  # fmt: skip
        self.db, self.api_key, self.template_id = db, api_key, template_id
        self.base_url, self.public_url = base_url, public_url.rstrip("/")
        self.zone = zone or ZoneInfo("Europe/London")
        self.timeout = timeout
        # An unanswered call is looked up only once it can no longer be in flight.
        self.settle_after = max(settle_after, timedelta(seconds=timeout))

    def _client(self) -> NotificationsAPIClient:
        return NotificationsAPIClient(  # type: ignore[no-untyped-call]
            self.api_key, base_url=self.base_url, timeout=self.timeout
        )

    async def deliver(self, digest_id: int) -> dict[str, int]:
        """Send what is left of one digest by email; each delivery state's count."""
        await self._settle_unknown(digest_id)
        documents = await asyncio.to_thread(documents_to_send, self.db, digest_id, self.zone)
        if documents is not None:
            personalisation = self.personalisation(digest_id, documents)
            for email_id in await asyncio.to_thread(self._pending, digest_id):
                claimed = await asyncio.to_thread(self._claim, email_id)
                if claimed is None:
                    continue
                outcome, notify_id = await asyncio.to_thread(self._send, claimed, personalisation)
                if outcome != "unknown":
                    await asyncio.to_thread(self._record, claimed.email_id, outcome, notify_id)
                if outcome == "pending":
                    break  # Notify asked us to wait: the rest go on the next pass
        return await asyncio.to_thread(self._settle, digest_id)

    def personalisation(self, digest_id: int, documents: Documents) -> dict[str, Any]:
        """The template's placeholders: figures, a link, and the files Notify accepts."""
        end = documents.period_end.astimezone(self.zone)
        link = f"{self.public_url}/staff/digests/{digest_id}"
        values: dict[str, Any] = {
            "consultation": f"{documents.title} ({documents.slug})" if documents.title
            else documents.slug,
            "period": f"the seven days to {end:%A %d %B %Y, %H:%M}",
            "summary": documents.figures or "See the digest on the dashboard.",
            "link": link,
        }  # fmt: skip
        notes = []
        for placeholder, part in ATTACHMENTS.items():
            file = _file_of(documents, part, link, self.public_url)
            values[placeholder], note = _attachment(file)
            notes += [note] if note else []
        if notes:  # a file too large to attach: the body says where it is instead
            values["summary"] += "\n\n" + "\n".join(notes)
        return values

    # -- Notify (worker threads)

    def _send(self, claimed: EmailClaim, personalisation: dict[str, Any]) -> tuple[str, str | None]:
        client = self._client()
        try:
            response = client.send_email_notification(  # type: ignore[no-untyped-call]
                email_address=claimed.address, template_id=self.template_id,
                personalisation=personalisation, reference=claimed.reference,
            )  # fmt: skip
        except HTTPError as error:
            status = error.status_code
            if status == 429:
                log.warning("Notify asked to wait before the digest email (%s)", _kind(error))
                return "pending", None
            if status in (400, 403):
                log.warning("Notify refused digest %d's email: %s", claimed.digest_id,
                            _kind(error))  # fmt: skip
                return "failed", None
            log.warning("no answer from Notify for digest %d's email (%s): it is looked up "
                        "before anything is sent again", claimed.digest_id, status)  # fmt: skip
            return "unknown", None
        finally:
            client.request_session.close()
        return "sent", str(response["id"])

    async def _settle_unknown(self, digest_id: int) -> None:
        before = utcnow() - self.settle_after
        for claimed in await asyncio.to_thread(self._unsettled, digest_id, before):
            try:
                found = await asyncio.to_thread(self._look_up, claimed.reference)
            except HTTPError as error:
                log.warning("could not ask Notify about a digest email: %s", _kind(error))
                return
            outcome = "sent" if found else "pending"
            await asyncio.to_thread(self._record, claimed.email_id, outcome, found)

    def _look_up(self, reference: str) -> str | None:
        """Notify's id for the message with this reference, if Notify has one."""
        client = self._client()
        try:
            found = client.get_all_notifications(reference=reference)  # type: ignore[no-untyped-call]
        finally:
            client.request_session.close()
        notifications = found.get("notifications") or []
        return str(notifications[0]["id"]) if notifications else None

    # -- database (worker threads)

    def _pending(self, digest_id: int) -> list[int]:
        with Session(self.db) as session:
            return digest_emails.pending(session=session, digest_id=digest_id)

    def _claim(self, email_id: int) -> EmailClaim | None:
        with Session(self.db) as session, session.begin():
            return digest_emails.claim(session=session, email_id=email_id)

    def _record(self, email_id: int, state: str, notify_id: str | None) -> None:
        with Session(self.db) as session, session.begin():
            digest_emails.record(session=session, email_id=email_id, state=state,
                                 notify_id=notify_id)  # fmt: skip

    def _unsettled(self, digest_id: int, before: Any) -> list[EmailClaim]:
        with Session(self.db) as session:
            return digest_emails.unsettled(session=session, digest_id=digest_id, before=before)

    def _settle(self, digest_id: int) -> dict[str, int]:
        with Session(self.db) as session, session.begin():
            return digest_records.settle(session=session, digest_id=digest_id)


@dataclass(frozen=True)
class DigestFile:
    label: str  # what it is, to open a sentence: "The table"
    filename: str
    content: bytes  # empty: none with this digest
    link: str  # where it is on the dashboard, behind sign-in
    missing: str  # the placeholder's words when there is none


def _file_of(documents: Documents, part: str, digest_link: str, public_url: str) -> DigestFile:
    if part == "table":
        return DigestFile("The table", documents.filename("csv"),
                          b"" if documents.nothing_new else documents.csv.encode("utf-8"),
                          f"{digest_link}.csv",
                          "No file this week: there is nothing new to tabulate.")  # fmt: skip
    if part == "pack":
        return DigestFile("The evidence pack", documents.pack_filename(), documents.pack or b"",
                          f"{public_url}/staff/c/{documents.slug}/pack",
                          "No evidence pack with this digest.")  # fmt: skip
    raise ValueError(f"the digest has no file {part!r} to email")


def _attachment(file: DigestFile) -> tuple[dict[str, Any] | str, str]:
    """One file as Notify's personalisation takes it, or a sentence saying where it is;
    and, for the body, why a file is not attached (empty when it is, or there is none)."""
    assert file.filename.rpartition(".")[2] in NOTIFY_FILE_TYPES, file.filename
    if not file.content:
        return file.missing, ""
    try:
        upload: dict[str, Any] = prepare_upload(  # type: ignore[no-untyped-call]
            io.BytesIO(file.content), filename=file.filename,
            confirm_email_before_download=True, retention_period=RETENTION,
        )  # fmt: skip
        return upload, ""
    except ValueError:  # over Notify's 2 MB
        size = f"{math.ceil(len(file.content) * 10 / 1024 / 1024) / 10:.1f} MB"  # never "2.0"
        note = (f"{file.label} ({size}) is larger than the 2 MB GOV.UK Notify sends by email:"
                f" download it from the dashboard, {file.link}")  # fmt: skip
        return f"Not attached: {note[0].lower()}{note[1:]}", note


def _kind(error: HTTPError) -> str:
    message = error.message
    if isinstance(message, list) and message and isinstance(message[0], dict):
        return f"{error.status_code} {message[0].get('error')}: {message[0].get('message')}"[:200]
    return f"{error.status_code} {str(message)[:150]}"
