"""Files: uploads the bot sends, files users send, and getFile and downloads."""

from __future__ import annotations

import mimetypes
from dataclasses import dataclass

from aiohttp import web

from tests.fakes.telegram_api.errors import JSON, bad_request
from tests.fakes.telegram_api.rules import TOKEN_RE
from tests.fakes.telegram_api.state import ServerState


@dataclass(frozen=True)
class Upload:
    """A file part of a multipart request, as received."""

    filename: str | None
    data: bytes
    mime_type: str | None


@dataclass(frozen=True)
class StoredFile:
    """A file known to the server (uploaded by the bot or sent by a simulated user)."""

    file_id: str
    file_unique_id: str
    file_path: str
    data: bytes
    filename: str | None
    mime_type: str | None

    @property
    def size(self) -> int:
        return len(self.data)


class FileStore(ServerState):
    """Files known to the server; mixed into FakeBotAPI, which holds them."""

    def _store_file(
        self, kind: str, data: bytes, filename: str | None, mime_type: str | None
    ) -> StoredFile:
        number = next(self._file_ids)
        suffix = ""
        if filename and "." in filename:
            suffix = "." + filename.rsplit(".", 1)[1]
        elif mime_type:
            suffix = mimetypes.guess_extension(mime_type) or ""
        stored = StoredFile(
            file_id=f"FAKE-{kind}-{number:06d}",
            file_unique_id=f"U{number:06d}",
            file_path=f"{kind}/file_{number}{suffix}",
            data=data,
            filename=filename,
            mime_type=mime_type,
        )
        self.files[stored.file_id] = stored
        self._files_by_path[stored.file_path] = stored
        return stored

    def _document_input(self, params: JSON, files: dict[str, Upload]) -> StoredFile:
        value = params.get("document")
        upload: Upload | None = None
        if isinstance(value, str) and value.startswith("attach://"):
            upload = files.get(value.removeprefix("attach://"))
        elif "document" in files:
            upload = files["document"]
        elif isinstance(value, str) and value:
            if value in self.files:
                return self.files[value]  # resending by file_id
            raise bad_request("wrong file identifier/HTTP URL specified")
        if upload is None:
            raise bad_request("there is no document in the request")
        if not upload.data:
            raise bad_request("file must be non-empty")
        mime = upload.mime_type
        if mime in (None, "application/octet-stream") and upload.filename:
            mime = mimetypes.guess_type(upload.filename)[0] or mime
        return self._store_file("documents", upload.data, upload.filename, mime)

    def _get_file(self, params: JSON, files: dict[str, Upload]) -> JSON:
        stored = self.files.get(str(params.get("file_id") or ""))
        if stored is None:
            raise bad_request("invalid file_id")
        return {
            "file_id": stored.file_id,
            "file_unique_id": stored.file_unique_id,
            "file_size": stored.size,
            "file_path": stored.file_path,
        }

    async def _handle_file(self, request: web.Request) -> web.Response:
        stored = self._files_by_path.get(request.match_info["path"])
        if not TOKEN_RE.match(request.match_info["token"]) or stored is None:
            return web.json_response(
                {"ok": False, "error_code": 404, "description": "Not Found"}, status=404
            )
        return web.Response(
            body=stored.data, content_type=stored.mime_type or "application/octet-stream"
        )
