"""Notify's rules for sending a file by email, for the fake server (tests/fakes/notify.py).

As docs.notifications.service.gov.uk ("Send a file by email") says: a personalisation
value ``{"file": base64, "filename", "confirm_email_before_download",
"retention_period"}`` becomes a link to download the file; the file is at most 2 MB;
its type is found from its content (and the filename's extension) and must be one
Notify accepts (never HTML); the filename has an extension and at most 100
characters; the retention period is 1 to 78 weeks; the service must have set up
"Send files by email"; only email templates carry files.

One check is stricter than Notify: a file whose placeholder is not in the template
is refused here. Notify would send the email without the file's link; a test should
catch a template that lost its ((link_to_file)).
"""

from __future__ import annotations

import base64
import binascii
import re
import uuid
from dataclasses import dataclass
from typing import Any

MAX_BYTES = 2 * 1024 * 1024
SUPPORTED = {
    "pdf": "application/pdf", "csv": "text/csv", "txt": "text/plain", "json": "application/json",
    "rtf": "text/rtf", "doc": "application/msword",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "odt": "application/vnd.oasis.opendocument.text", "jpeg": "image/jpeg", "jpg": "image/jpeg",
    "png": "image/png",
}  # fmt: skip
ALLOWED = ", ".join(f"'.{extension}'" for extension in sorted(SUPPORTED))
RETENTION = re.compile(r"^(\d+) weeks?$")


class FileRefused(Exception):
    """A 400 BadRequestError with Notify's message."""


@dataclass(frozen=True)
class SentFile:
    placeholder: str
    filename: str | None
    content: bytes
    mimetype: str
    confirm_email_before_download: bool
    retention_period: str
    url: str


def is_file(value: Any) -> bool:
    return isinstance(value, dict) and "file" in value


def check_file(placeholder: str, value: dict[str, Any], *, kind: str, placeholders: list[str],
               files_enabled: bool, service_id: str) -> SentFile:  # fmt: skip
    """The file Notify would keep for this placeholder, or FileRefused with its message."""
    if kind != "email":
        raise FileRefused("Can only send a file by email")
    if not files_enabled:
        raise FileRefused(
            "Send files by email has not been set up - add contact details for your service at "
            f"https://www.notifications.service.gov.uk/services/{service_id}/service-settings/"
            "send-files-by-email"
        )
    if placeholder not in placeholders:
        raise FileRefused(f"The template has no placeholder (({placeholder})) for the file")
    encoded = value["file"]
    try:
        content = base64.b64decode(encoded, validate=True) if isinstance(encoded, str) else None
    except (binascii.Error, ValueError):
        content = None
    if content is None:
        raise FileRefused("File is not base64 encoded")
    if len(content) > MAX_BYTES:
        raise FileRefused("File is larger than 2MB")
    filename = value.get("filename")
    extension = None
    if filename is not None:
        if not isinstance(filename, str) or len(filename) > 100:
            raise FileRefused("`filename` cannot be longer than 100 characters")
        stem, dot, extension = filename.rpartition(".")
        if not dot or not stem or not extension:
            raise FileRefused(
                "`filename` must end with a file extension. For example, filename.csv"
            )
        extension = extension.lower()
    mimetype = _mimetype(content, extension)
    if mimetype not in SUPPORTED.values() or (extension and SUPPORTED.get(extension) != mimetype):
        raise FileRefused(f"Unsupported file type '{mimetype}'. Supported types are: {ALLOWED}")
    confirm = value.get("confirm_email_before_download")
    if confirm is not None and not isinstance(confirm, bool):
        raise FileRefused(f"Unsupported value for confirm_email_before_download: '{confirm}'. "
                          "Use a boolean true or false value.")  # fmt: skip
    retention = value.get("retention_period") or "26 weeks"
    weeks = RETENTION.match(retention) if isinstance(retention, str) else None
    if weeks is None or not 1 <= int(weeks.group(1)) <= 78:
        raise FileRefused(f"Unsupported value for retention_period '{retention}'. "
                          "Supported periods are from 1 to 78 weeks.")  # fmt: skip
    url = f"https://documents.service.gov.uk/d/{service_id}/{uuid.uuid4()}?key=fake"
    return SentFile(placeholder, filename, content, mimetype,
                    True if confirm is None else confirm, retention, url)  # fmt: skip


def _mimetype(content: bytes, extension: str | None) -> str:
    """The type from the content, as Notify's virus scan and type check see it."""
    if content.startswith(b"%PDF"):
        return SUPPORTED["pdf"]
    if content.startswith(b"\x89PNG"):
        return SUPPORTED["png"]
    if content.startswith(b"\xff\xd8"):
        return SUPPORTED["jpg"]
    if content.startswith(b"PK\x03\x04"):  # a zip: Office and OpenDocument files are zips
        return SUPPORTED.get(extension or "", "application/zip")
    if content.startswith(b"{\\rtf"):
        return SUPPORTED["rtf"]
    try:
        text = content.decode("utf-8").lstrip().lower()
    except UnicodeDecodeError:
        return "application/octet-stream"
    if text.startswith(("<!doctype html", "<html")):
        return "text/html"
    if extension in ("csv", "json", "txt"):
        return SUPPORTED[extension]
    return "text/plain"
